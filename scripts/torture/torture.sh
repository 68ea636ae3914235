#!/usr/bin/env bash
# Lifecycle torture: seeded concurrent SR-IOV/VFIO lifecycle ops under
# `hisimig-trace run --locks full`, every unique finding and kernel warning
# collected with its seed and op log, then shrunk to a minimal sequential
# reproducer. See docs/torture.md. It changes PCI devices, loads and unloads
# modules and can hang or crash the machine: run it only on a test host.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=scripts/torture/lib.bash
. "$HERE/lib.bash"

usage() {
	cat <<EOF
usage: torture.sh gen SEED SEGMENT WORKER COUNT
       torture.sh run --out DIR [--seed N] [--minutes M] [--workers N]
                      [--segment-seconds S] [--op-timeout S] [--trace-mb MB] [--yes]
       torture.sh check --expect fp:FINGERPRINT|kmsg:SIGNATURE_ID OPS_FILE [--log DIR] [--findings FILE]
       torture.sh shrink --deadline EPOCH_SECONDS FINDING_DIR...
       torture.sh ddmin --test CMD --seconds S IN OUT
       torture.sh summary DIR
  gen     print one worker's op lines (the same for the same arguments)
  run     torture until --minutes pass (or a hang wedges the machine), results in DIR;
          outside the hisimig guest only with --yes (it can hang or crash the host)
  check   run OPS_FILE sequentially under the tracer: exit 0 if the finding appears
          (--findings FILE keeps every finding of the run, one JSON per line)
  shrink  shrink each FINDING_DIR's op list to repro.sh (delta debugging by check)
  ddmin   delta debugging of IN's lines with a predicate CMD FILE (0 = still fails)
  summary rewrite DIR/summary.txt (findings, kernel events and misses, hangs, crashes)
Environment: TORTURE_PF, TORTURE_OPS, TORTURE_PF_REMOVE, HISIMIG (the tool),
VFIO_OPEN, MIGCTL, HMTEST_KODIR, HISI_KODIR (docs/torture.md).
EOF
}

die() {
	echo "torture: error: $2" >&2
	exit "$1"
}
note() { echo "torture: $*" >&2; }

HM=${HISIMIG:-$REPO/hisimig-trace}
export VFIO_OPEN=${VFIO_OPEN:-${HISIMIG_BUILD:-$REPO/build}/guest/vfio-open}
export MIGCTL=${MIGCTL:-${HISIMIG_BUILD:-$REPO/build}/migctl/migctl}
KVER=$(uname -r)
export HMTEST_KODIR=${HMTEST_KODIR:-$REPO/build/kmod/$KVER}
export HISI_KODIR=${HISI_KODIR:-$REPO/build/hisi/$KVER/drivers}

is_num() { [[ $1 =~ ^[0-9]+$ ]]; }
uptime_s() {
	local up _
	read -r up _ </proc/uptime
	echo "$up"
}

# ---- one op, bounded ----------------------------------------------------------

# run_op TIMEOUT HANGDIR TAG OP...: run the op in a subshell (ops.bash is
# sourced once: no exec per op); past TIMEOUT seconds record its tasks'
# kernel stacks, kill them, and tell a slow op (gone after the kill: status
# 124) from a hang (still there, stuck in the kernel: status 125).
run_op() {
	local timeout=$1 hangdir=$2 tag=$3 pid waited=0 rc
	shift 3
	("$@") </dev/null >/dev/null 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$waited" -ge $((timeout * 10)) ]; then
			local tree
			tree=$(tree_pids "$pid")
			mkdir -p "$hangdir"
			stacks_of $tree >"$hangdir/$tag.stacks"
			# shellcheck disable=SC2086 # a list of pids
			kill -KILL $tree 2>/dev/null
			sleep 3
			if any_alive $tree; then
				{
					echo "op: $*"
					echo "stuck for more than $timeout s; still there 3 s after SIGKILL"
				} >"$hangdir/$tag.txt"
				return 125
			fi
			rm -f "$hangdir/$tag.stacks"
			return 124
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
	rc=0
	wait "$pid" || rc=$?
	return $rc
}

tree_pids() { # PID: it and its descendants
	local p kids
	echo "$1"
	kids=$(awk -v pp="$1" '$4 == pp { print $1 }' /proc/[0-9]*/stat 2>/dev/null)
	for p in $kids; do tree_pids "$p"; done
}

any_alive() {
	local p
	for p; do [ -d "/proc/$p" ] && return 0; done
	return 1
}

stacks_of() { # PID...: each task's state, wchan and kernel stack
	local p t
	for p; do
		for t in /proc/"$p"/task/*; do
			[ -d "$t" ] || continue
			echo "== pid $p tid ${t##*/} $(cat "$t/comm" 2>/dev/null)" \
				"state=$(awk '{print $3}' "$t/stat" 2>/dev/null) wchan=$(cat "$t/wchan" 2>/dev/null)"
			cat "$t/stack" 2>/dev/null
		done
	done
}

# ---- gen -----------------------------------------------------------------------

cmd_gen() {
	[ $# -eq 4 ] || { usage >&2; die 2 "gen takes SEED SEGMENT WORKER COUNT"; }
	local a
	for a in "$@"; do is_num "$a" || die 2 "gen: not a number: $a"; done
	t_gen "$@"
}

# ---- tracer ----------------------------------------------------------------------

# tracer_start TRACE OUTBASE SECONDS: `run --locks full` in the background
# (pid in $TRACER), up once every hook is attached.
tracer_start() {
	"$HM" run --locks full --json --fail-on error -o "$1" --duration "$3" \
		>"$2.live.json" 2>"$2.err" &
	TRACER=$!
	local i
	for ((i = 0; i < 1800; i++)); do
		grep -q "tracing:" "$2.err" && return 0
		kill -0 "$TRACER" 2>/dev/null || break
		sleep 0.1
	done
	note "tracer did not start: $(tail -n 3 "$2.err" | tr '\n' ' ')"
	return 1
}

tracer_stop() {
	local i
	kill -INT "$TRACER" 2>/dev/null
	for ((i = 0; i < 600; i++)); do
		kill -0 "$TRACER" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$TRACER" 2>/dev/null; then
		note "tracer did not stop within 60 s; killed"
		kill -KILL "$TRACER" 2>/dev/null
	fi
	wait "$TRACER" 2>/dev/null
	TRACER=
}

# findings TRACE LIVE_JSON: one compact JSON finding per line, from the
# replay of the trace, plus live-only ones (a live deadlock).
findings_of_trace() {
	{
		"$HM" replay --json "$1" 2>/dev/null
		cat "$2" 2>/dev/null
	} | jq -c 'select(.type == "finding") | .data' 2>/dev/null |
		jq -s -c 'unique_by(.fingerprint) | .[]'
}

# ---- run -----------------------------------------------------------------------

# worker SEED SEG W DEADLINE_UPTIME: run this worker's ops until the
# deadline, the stop file or a hang; one log line per op.
worker() {
	local seed=$1 seg=$2 w=$3 end=$4 i=0 op t0 t1 rc
	t_rand_init "$seed" $((seg * 16 + w))
	while :; do
		[ -e "$WORK/stop" ] && break
		t0=$(uptime_s)
		awk -v a="$t0" -v b="$end" 'BEGIN { exit !(a < b) }' || break
		t_gen_op
		op=$T_OP
		rc=0
		# shellcheck disable=SC2086 # an op line is words
		run_op "$OP_TIMEOUT" "$OUT/hangs" "seed$seed-seg$seg-w$w-op$i" $op || rc=$?
		t1=$(uptime_s)
		echo "seed=$seed seg=$seg w=$w i=$i start=$t0 end=$t1 rc=$rc op=$op" >>"$OUT/ops.log"
		if [ "$rc" = 125 ]; then
			echo "seed=$seed seg=$seg w=$w i=$i op=$op" >>"$OUT/hangs.log"
			touch "$WORK/stop" "$WORK/wedged"
			break
		fi
		i=$((i + 1))
	done
}

# save_finding SEED SEG JSON TRACE: the finding's directory, once per fingerprint.
save_finding() {
	local seed=$1 seg=$2 json=$3 trace=$4 fp kind dir ts
	fp=$(jq -r .fingerprint <<<"$json")
	kind=$(jq -r .kind <<<"$json")
	dir=$OUT/findings/$kind-$fp
	echo "$seed $seg $kind $fp" >>"$WORK/seg-findings"
	[ -d "$dir" ] && { echo "$seed $seg" >>"$dir/seen"; return 0; }
	mkdir -p "$dir"
	echo "$seed $seg" >"$dir/seen"
	printf '%s\n' "$json" >"$dir/finding.json"
	t_classify_finding <<<"$json" >"$dir/class"
	jq -r '"\(.title)\n[\(.severity)] \(.kind) fingerprint \(.fingerprint)\n\(.summary)\n\n\(.detail // "")\n" +
		((.evidence // []) | map("\(.label)\n  task \(.comm) pid \(.pid) tid \(.tid)\n" +
			((.stack // []) | map("       " + .) | join("\n"))) | join("\n\n")) +
		"\n\nwhy: \(.explanation // "")\nfix: \(.fix // "")"' <<<"$json" >"$dir/report.txt"
	cat >"$dir/seed.txt" <<EOF
kernel=$KVER
seed=$seed
segment=$seg
workers=$WORKERS
generator=$(sha1sum <"$HERE/lib.bash" | cut -c1-12)
replay: scripts/torture/torture.sh gen $seed $seg W COUNT (W = 0..$((WORKERS - 1))), with this generator (lib.bash)
EOF
	grep " seg=$seg " "$OUT/ops.log" >"$dir/ops.log"
	# ops started after the finding cannot have caused it
	ts=$(jq -r '.ts_ns / 1e9' <<<"$json")
	t_log_before "$OUT/ops.log" "$seg" "$ts" >"$dir/ops.seq"
	[ -s "$dir/ops.seq" ] || t_log_ops "$OUT/ops.log" "$seg" >"$dir/ops.seq"
	local mb
	mb=$(($(stat -c %s "$trace") >> 20))
	if [[ $(cat "$dir/class") == tool-limitation* ]]; then
		echo "trace not kept: $(cat "$dir/class")" >"$dir/trace.txt"
	elif [ "$mb" -le "$KEEP_TRACE_MB" ]; then
		cp "$trace" "$dir/trace.hmt"
	else
		echo "trace of $mb MB not kept (over $KEEP_TRACE_MB MB)" >"$dir/trace.txt"
	fi
	note "new finding: $kind $fp (seed $seed segment $seg)"
}

# kernel_events SEED SEG SINCE_UPTIME: the kernel's own warnings since the
# segment began, once per signature, each with the segment's op log.
kernel_events() {
	local seed=$1 seg=$2 since=$3 sig line id dir
	dmesg 2>/dev/null | awk -v t="$since" '
		match($0, /^\[ *[0-9]+\.[0-9]+\]/) { ts = substr($0, 2, RLENGTH - 2) + 0 }
		ts >= t' >"$WORK/dmesg-seg"
	t_kmsg_events <"$WORK/dmesg-seg" | while IFS=$'\t' read -r sig line; do
		id=$(t_sig_id "$sig")
		dir=$OUT/kernel/$id
		echo "$seed $seg kmsg $id" >>"$WORK/seg-findings"
		[ -d "$dir" ] && { echo "$seed $seg" >>"$dir/seen"; continue; }
		mkdir -p "$dir"
		echo "$seed $seg" >"$dir/seen"
		echo "$sig" >"$dir/signature"
		# the line and what the kernel printed with it
		grep -F -A 40 -- "$line" "$WORK/dmesg-seg" | head -n 60 >"$dir/dmesg.txt"
		printf 'kernel=%s\nseed=%s\nsegment=%s\n' "$KVER" "$seed" "$seg" >"$dir/seed.txt"
		grep " seg=$seg " "$OUT/ops.log" >"$dir/ops.log"
		t_log_ops "$OUT/ops.log" "$seg" >"$dir/ops.seq"
		note "kernel event: $sig"
	done
}

# A kernel event the tool did not predict: no tool finding of severity
# warning or error in the segment where the kernel complained.
write_summary() {
	{
		echo "# torture summary: kernel $KVER, seeds $(cat "$OUT"/findings/*/seen "$OUT"/kernel/*/seen "$OUT"/crash/*/seen 2>/dev/null | awk '{ print $1 }' | sort -u | tr '\n' ' ')"
		echo "segments=$(awk '{ print $1, $2 }' "$OUT/ops.log" 2>/dev/null | sort -u | wc -l) ops=$(wc -l <"$OUT/ops.log" 2>/dev/null || echo 0)"
		echo
		echo "## tool findings (unique fingerprints)"
		local d
		for d in "$OUT"/findings/*/; do
			[ -d "$d" ] || continue
			printf '%s [%s] %s %s seen=%s repro=%s\n' "$(jq -r .severity "$d/finding.json")" "$(cut -d: -f1 "$d/class" 2>/dev/null)" \
				"$(jq -r .kind "$d/finding.json")" "$(jq -r .fingerprint "$d/finding.json")" \
				"$(wc -l <"$d/seen")" "$([ -f "$d/repro.sh" ] && echo "${d#"$OUT"/}repro.sh" || cat "$d/shrink-status" 2>/dev/null || echo none)"
		done
		echo
		echo "tool limitations seen (the class files have the reason):"
		cat "$OUT"/findings/*/class 2>/dev/null | grep '^tool-limitation' | sort | uniq -c
		echo
		echo "## kernel events (dmesg)"
		for d in "$OUT"/kernel/*/; do
			[ -d "$d" ] || continue
			local id seg pred
			id=$(basename "$d")
			pred=
			while read -r sd seg; do
				pred+=$(awk -v d="$sd" -v s="$seg" '$1 == d && $2 == s && $3 != "kmsg" { print $3 " " $4 }' "$OUT/segment-findings.log" 2>/dev/null |
					while read -r k f; do
						[ "$(jq -r .severity "$OUT/findings/$k-$f/finding.json" 2>/dev/null)" = info ] ||
							[[ $(cat "$OUT/findings/$k-$f/class" 2>/dev/null) == tool-limitation* ]] || echo "$k:$f"
					done | tr '\n' ' ')
			done <"$d/seen"
			printf '%s %s: %s\n' "$id" "$([ -n "$pred" ] && echo "tool findings in the same segment: $pred" || echo MISS)" "$(cat "$d/signature")"
		done
		echo
		echo "## hangs (an op stuck in the kernel past its timeout; stacks in hangs/)"
		cat "$OUT/hangs.log" 2>/dev/null
		echo
		echo "## boots without a result (panic, oops, lockup: never predicted by a finding)"
		for d in "$OUT"/crash/*/; do
			[ -d "$d" ] || continue
			printf '%s seen=%s: %s\n' "$(basename "$d")" "$(wc -l <"$d/seen")" "$(cat "$d/signature")"
		done
	} >"$OUT/summary.txt"
}

cmd_run() {
	local seed=1 minutes=5 seg_s=120 trace_mb=256 yes=0
	OUT='' WORKERS=3 OP_TIMEOUT=60 KEEP_TRACE_MB=${TORTURE_KEEP_TRACE_MB:-256}
	while [ $# -gt 0 ]; do
		case $1 in
		--out) OUT=${2:?}; shift 2 ;;
		--seed) seed=${2:?}; shift 2 ;;
		--minutes) minutes=${2:?}; shift 2 ;;
		--workers) WORKERS=${2:?}; shift 2 ;;
		--segment-seconds) seg_s=${2:?}; shift 2 ;;
		--op-timeout) OP_TIMEOUT=${2:?}; shift 2 ;;
		--trace-mb) trace_mb=${2:?}; shift 2 ;;
		--yes) yes=1; shift ;;
		*) usage >&2; die 2 "run: unknown argument $1" ;;
		esac
	done
	[ -n "$OUT" ] || die 2 "run needs --out DIR"
	for a in "$seed" "$minutes" "$WORKERS" "$seg_s" "$OP_TIMEOUT" "$trace_mb"; do
		is_num "$a" || die 2 "run: not a number: $a"
	done
	[ "$WORKERS" -ge 1 ] && [ "$WORKERS" -le 8 ] || die 2 "run: --workers takes 1..8"
	# shellcheck source=scripts/torture/ops.bash
	. "$HERE/ops.bash"
	[ "${HISIMIG_GUEST:-}" = 1 ] || [ "$yes" = 1 ] ||
		die 2 "run changes PCI devices, loads modules and can hang or crash this machine: pass --yes on a test host only"
	[ "$(id -u)" = 0 ] || die 2 "must run as root (it drives sysfs and the tracer)"
	[ -x "$HM" ] || die 2 "$HM not found (make, or set HISIMIG)"
	[ -e "$T_SYS/$TORTURE_PF/sriov_totalvfs" ] ||
		die 2 "$TORTURE_PF is not an SR-IOV PF (set TORTURE_PF)"
	command -v jq >/dev/null || die 2 "jq not found (scripts/install-deps.sh test)"
	mkdir -p "$OUT" || die 2 "cannot create $OUT"
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/torture.XXXXXX")
	local deadline=$((SECONDS + minutes * 60)) seg=0 pids w start left
	while [ $((deadline - SECONDS)) -ge 30 ] && [ ! -e "$WORK/wedged" ]; do
		# never fill the disk the traces are on (a tmpfs in the guest)
		left=$(df -Pm "$WORK" | awk 'NR == 2 { print $4 }')
		[ "$left" -gt $((trace_mb + 64)) ] || { note "only $left MB free for traces: stopping"; break; }
		( t_normalize ) >/dev/null 2>&1
		seg_len=$(((deadline - SECONDS) < seg_s ? deadline - SECONDS : seg_s))
		local base=$WORK/seg$seg
		if ! tracer_start "$base.hmt" "$base" $((seg_len + OP_TIMEOUT + 120)); then
			cp "$base.err" "$OUT/tracer-failure-seg$seg.txt"
			break
		fi
		start=$(uptime_s)
		rm -f "$WORK/stop"
		note "segment $seg: seed $seed, $WORKERS workers, $seg_len s"
		pids=()
		for ((w = 0; w < WORKERS; w++)); do
			worker "$seed" "$seg" "$w" "$(awk -v a="$start" -v b="$seg_len" 'BEGIN { print a + b }')" &
			pids+=($!)
		done
		# the trace's size is bounded: a segment ends early at --trace-mb
		while kill -0 "${pids[@]}" 2>/dev/null; do
			if [ "$(($(stat -c %s "$base.hmt" 2>/dev/null || echo 0) >> 20))" -ge "$trace_mb" ]; then
				note "segment $seg: trace reached $trace_mb MB, ending the segment"
				touch "$WORK/stop"
			fi
			sleep 2
		done
		wait "${pids[@]}" 2>/dev/null
		if [ -e "$WORK/wedged" ]; then
			# the blocked tasks' stacks from the kernel itself
			[ ! -w /proc/sysrq-trigger ] || [ "${TORTURE_SYSRQ:-1}" != 1 ] || echo w >/proc/sysrq-trigger
			sleep 1
		fi
		tracer_stop
		findings_of_trace "$base.hmt" "$base.live.json" >"$base.findings"
		while IFS= read -r json; do
			save_finding "$seed" "$seg" "$json" "$base.hmt"
		done <"$base.findings"
		kernel_events "$seed" "$seg" "$start"
		cat "$WORK/seg-findings" >>"$OUT/segment-findings.log" 2>/dev/null
		rm -f "$WORK/seg-findings" "$base.hmt"
		seg=$((seg + 1))
		echo "$seg" >"$OUT/segments"
	done
	write_summary
	rm -rf "$WORK"
	[ ! -s "$OUT/hangs.log" ] || { note "a hang wedged the machine: see $OUT/hangs"; return 3; }
	return 0
}

# ---- check and shrink -------------------------------------------------------------

# check: 0 when running the ops of FILE one after another, from the normal
# state, under the tracer, gives the expected finding or kernel event.
cmd_check() {
	local expect='' file='' log='' keep=''
	while [ $# -gt 0 ]; do
		case $1 in
		--expect) expect=${2:?}; shift 2 ;;
		--log) log=${2:?}; shift 2 ;;
		--findings) keep=${2:?}; shift 2 ;;
		-*) usage >&2; die 2 "check: unknown option $1" ;;
		*) file=$1; shift ;;
		esac
	done
	[[ $expect == fp:* || $expect == kmsg:* ]] || die 2 "check: --expect fp:FINGERPRINT or kmsg:ID"
	[ -r "$file" ] || die 2 "check: cannot read ops file '$file'"
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/torture-check.XXXXXX")
	# shellcheck source=scripts/torture/ops.bash
	. "$HERE/ops.bash"
	OP_TIMEOUT=${OP_TIMEOUT:-60}
	( t_normalize ) >/dev/null 2>&1
	tracer_start "$WORK/t.hmt" "$WORK/t" 3600 || { rm -rf "$WORK"; return 2; }
	local start op rc=0 hit=1
	start=$(uptime_s)
	while IFS= read -r op; do
		[ -n "$op" ] || continue
		# shellcheck disable=SC2086
		run_op "$OP_TIMEOUT" "$WORK/hangs" check $op
		[ $? != 125 ] || { rc=3; break; }
	done <"$file"
	tracer_stop
	findings_of_trace "$WORK/t.hmt" "$WORK/t.live.json" >"$WORK/findings"
	[ -z "$keep" ] || cp "$WORK/findings" "$keep"
	case $expect in
	fp:*) t_has_fingerprint "$WORK/findings" "${expect#fp:}" && hit=0 ;;
	kmsg:*)
		dmesg | awk -v t="$start" 'match($0, /^\[ *[0-9]+\.[0-9]+\]/) && substr($0, 2, RLENGTH - 2) + 0 >= t' |
			t_kmsg_events | while IFS=$'\t' read -r sig _; do t_sig_id "$sig"; echo; done |
			grep -qx "${expect#kmsg:}" && hit=0 ;;
	esac
	[ -z "$log" ] || { mkdir -p "$log"; cp "$WORK/t.err" "$log/" 2>/dev/null; }
	rm -rf "$WORK"
	[ "$rc" = 0 ] || return "$rc"
	return $hit
}

# repro_script DIR EXPECT: DIR/repro.sh, this file's ops plus the minimal
# list, standalone: it runs the ops under the tool and says whether the
# finding came back.
repro_script() {
	local dir=$1 expect=$2
	{
		echo '#!/usr/bin/env bash'
		echo "# Minimal sequential reproducer, found by scripts/torture/torture.sh on $KVER."
		echo "# $(head -n 1 "$dir/report.txt" 2>/dev/null || cat "$dir/signature")"
		echo "# expect: $expect"
		echo '# It changes PCI devices and loads modules: run it only on a test machine,'
		echo '# as root, with the PF in TORTURE_PF (default 0000:01:00.0, the guest'"'"'s).'
		echo '# Without HISIMIG_TRACE=0 it runs the ops under `hisimig-trace run --locks'
		echo '# full` and prints the findings; exit 0 if the expected one came back.'
		echo 'set -u'
		printf 'REPO=${REPO:-%q}\n' "$REPO"
		echo 'export VFIO_OPEN=${VFIO_OPEN:-$REPO/build/guest/vfio-open}'
		echo 'export MIGCTL=${MIGCTL:-$REPO/build/migctl/migctl}'
		echo 'export HMTEST_KODIR=${HMTEST_KODIR:-$REPO/build/kmod/$(uname -r)}'
		echo 'export HISI_KODIR=${HISI_KODIR:-$REPO/build/hisi/$(uname -r)/drivers}'
		echo '# ---- the ops (scripts/torture/ops.bash) ----'
		grep -v '^TORTURE_PF=\|^# shellcheck' "$HERE/ops.bash" | sed '1,/^$/d'
		echo 'TORTURE_PF=${TORTURE_PF:-0000:01:00.0}'
		echo 'ops() {'
		sed 's/^/\t/' "$dir/repro.ops"
		echo '}'
		echo 't_normalize >/dev/null 2>&1'
		echo 'if [ "${HISIMIG_TRACE:-1}" = 0 ]; then ops; exit 0; fi'
		echo 'HM=${HISIMIG:-$REPO/hisimig-trace} out=$(mktemp -d)'
		echo '"$HM" run --locks full --json -o "$out/repro.hmt" >"$out/live.json" 2>"$out/err" &'
		echo 'tr=$!'
		echo 'until grep -q tracing: "$out/err"; do kill -0 $tr || { cat "$out/err"; exit 2; }; sleep 0.2; done'
		echo 'ops'
		echo 'kill -INT $tr; wait $tr'
		echo '"$HM" replay "$out/repro.hmt"'
		echo 'echo "trace: $out/repro.hmt"'
		case $expect in
		fp:*) printf '"$HM" replay --json "$out/repro.hmt" | grep -q %q\n' "\"fingerprint\":\"${expect#fp:}\"" ;;
		kmsg:*) printf 'dmesg | grep -qF -- %q\n' "$(sed -E 's/^\[ *[0-9.]+\] //' "$dir/dmesg.txt" | head -n 1 | cut -c1-40)" ;;
		esac
	} >"$dir/repro.sh"
	chmod +x "$dir/repro.sh"
}

cmd_shrink() {
	local deadline='' dirs=() d expect n=0 left slice
	while [ $# -gt 0 ]; do
		case $1 in
		--deadline) deadline=${2:?}; shift 2 ;;
		-*) usage >&2; die 2 "shrink: unknown option $1" ;;
		*) dirs+=("$1"); shift ;;
		esac
	done
	is_num "${deadline:-x}" || die 2 "shrink needs --deadline EPOCH_SECONDS"
	for d in "${dirs[@]}"; do [ -s "$d/ops.seq" ] || die 2 "shrink: $d has no ops.seq"; done
	for d in "${dirs[@]}"; do
		n=$((n + 1))
		[ ! -f "$d/repro.sh" ] || continue
		if [[ $(cat "$d/class" 2>/dev/null) == tool-limitation* ]]; then
			echo "not shrunk: $(cat "$d/class")" >"$d/shrink-status"
			continue
		fi
		left=$((deadline - $(date +%s)))
		[ "$left" -gt 60 ] || { echo "not shrunk: out of time" >"$d/shrink-status"; continue; }
		slice=$((left / (${#dirs[@]} - n + 1)))
		if [ -f "$d/finding.json" ]; then
			expect=fp:$(jq -r .fingerprint "$d/finding.json")
		else
			expect=kmsg:$(basename "$d")
		fi
		note "shrinking $(basename "$d") ($(wc -l <"$d/ops.seq") ops, $slice s)"
		# TORTURE_CHECK replaces the guest run (host tests of the shrinker)
		check_one() { ${TORTURE_CHECK:-"$HERE/torture.sh" check} --expect "$CHECK_EXPECT" "$1"; }
		CHECK_EXPECT=$expect
		local t0=$SECONDS end=$(($(date +%s) + slice)) from=ops.seq tests=0
		# first the guess from the evidence times: one run where it is
		# right saves a ddmin over the whole segment
		: >"$d/guided.ops"
		T_DD_TESTS=0
		# shellcheck disable=SC2046 # one argument per evidence time
		[ ! -f "$d/finding.json" ] ||
			t_log_guided "$d/ops.log" "$(awk '{ print $2; exit }' "$d/seen")" \
				$(jq -r '[(.evidence // [])[].ts_ns / 1e9 | tostring] | join(" ")' "$d/finding.json") >"$d/guided.ops"
		if [ -s "$d/guided.ops" ] && t_ddmin "$d/guided.ops" "$d/repro.ops" check_one "$end"; then
			from=guided.ops
		elif tests=$T_DD_TESTS && t_ddmin "$d/ops.seq" "$d/repro.ops" check_one "$end"; then
			from=ops.seq
		else
			from=
		fi
		if [ -n "$from" ]; then
			repro_script "$d" "$expect"
			echo "shrunk: $(wc -l <"$d/$from") ops ($from) -> $(wc -l <"$d/repro.ops"), $((T_DD_TESTS + tests)) runs, $((SECONDS - t0)) s$([ "$T_DD_TIMEOUT" = 1 ] && echo ', stopped at the time bound (not 1-minimal)')" >"$d/shrink-status"
		else
			echo "not reproduced sequentially: the full op list run one op at a time did not give it (timing-dependent)" >"$d/shrink-status"
		fi
		note "$(basename "$d"): $(cat "$d/shrink-status")"
	done
}

cmd_ddmin() {
	local test='' seconds='' in out
	while [ $# -gt 0 ]; do
		case $1 in
		--test) test=${2:?}; shift 2 ;;
		--seconds) seconds=${2:?}; shift 2 ;;
		-*) usage >&2; die 2 "ddmin: unknown option $1" ;;
		*) break ;;
		esac
	done
	[ $# -eq 2 ] && [ -n "$test" ] && is_num "${seconds:-x}" || { usage >&2; die 2 "ddmin needs --test CMD --seconds S IN OUT"; }
	[ -r "$1" ] || die 2 "ddmin: cannot read '$1'"
	ddmin_test() { bash -c "$DDMIN_CMD \"\$1\"" test "$1"; }
	DDMIN_CMD=$test
	t_ddmin "$1" "$2" ddmin_test $(($(date +%s) + seconds)) || die 1 "ddmin: the full input does not fail the test"
	echo "ddmin: $(wc -l <"$1") -> $(wc -l <"$2") lines, $T_DD_TESTS tests$([ "$T_DD_TIMEOUT" = 1 ] && echo ', time bound hit')"
}

cmd_summary() {
	[ $# -eq 1 ] && [ -d "$1" ] || die 2 "summary takes a results directory"
	OUT=$1 KVER=${TORTURE_KVER:-$KVER}
	write_summary
}

case ${1:-} in
summary) shift; cmd_summary "$@" ;;
gen) shift; cmd_gen "$@" ;;
run) shift; cmd_run "$@" ;;
check) shift; cmd_check "$@" ;;
shrink) shift; cmd_shrink "$@" ;;
ddmin) shift; cmd_ddmin "$@" ;;
-h | --help) usage ;;
*) usage >&2; die 2 "unknown command '${1:-}'" ;;
esac
