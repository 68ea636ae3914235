# shellcheck shell=bash
# Host-testable pieces of the torture mode: the seeded op generator, the op
# log's sequentialization, kernel-log classification and delta debugging.
# Nothing here touches a device; ops.bash runs the ops.

# ---- seeded generator ----------------------------------------------------

# A 31-bit LCG in bash arithmetic: the same seed gives the same sequence on
# any bash (bash's own $RANDOM changed its algorithm in 5.1).
t_rand_init() { # SEED STREAM
	T_RAND=$((($1 * 2654435761 + $2 * 40503 + 12345) & 0x7fffffff))
	t_rand 2 # mix once: nearby seeds give unrelated first ops
}

t_rand() { # N: sets T_R to a value in [0, N)
	T_RAND=$(((T_RAND * 1103515245 + 12345) & 0x7fffffff))
	T_R=$(((T_RAND >> 8) % $1))
}

t_pick() { # WORD...: sets T_P to one of the words
	t_rand $#
	local -a words=("$@")
	T_P=${words[T_R]}
}

# Ops and their weights; TORTURE_OPS (comma list) keeps only the named ones.
T_OP_WEIGHTS=(numvfs:5 bind:4 unbind:2 override:1 reset:2 remove:3 rescan:3
	vfio:3 migrate:1 migstate:1 modload:1 modunload:1 read:3 sleep:1)

t_op_enabled() { # NAME
	[ -z "${TORTURE_OPS:-}" ] && return 0
	[[ ",$TORTURE_OPS," == *",$1,"* ]]
}

# t_gen_op: one op line (the op function and its arguments) into T_OP.
t_gen_op() {
	local total=0 e name weight
	for e in "${T_OP_WEIGHTS[@]}"; do
		t_op_enabled "${e%%:*}" && total=$((total + ${e#*:}))
	done
	t_rand "$total"
	for e in "${T_OP_WEIGHTS[@]}"; do
		name=${e%%:*} weight=${e#*:}
		t_op_enabled "$name" || continue
		[ "$T_R" -lt "$weight" ] && break
		T_R=$((T_R - weight))
	done
	case $name in
	numvfs) t_pick 2 1 2 0; T_OP="t_numvfs $T_P" ;;
	bind)
		t_pick pf vf0 vf1 vf0 vf1
		if [ "$T_P" = pf ]; then
			t_pick nvme hmtest_pf; T_OP="t_bind pf $T_P"
		else
			local dev=$T_P
			t_pick vfio-pci hmtest_vf hisi_acc_vfio_pci; T_OP="t_bind $dev $T_P"
		fi ;;
	unbind) t_pick pf vf0 vf1 vf0 vf1; T_OP="t_unbind $T_P" ;;
	override)
		local dev
		t_pick vf0 vf1; dev=$T_P
		t_pick vfio-pci hmtest_vf none; T_OP="t_override $dev $T_P" ;;
	reset) t_pick pf vf0 vf1 vf0 vf1; T_OP="t_reset $T_P" ;;
	remove)
		# the PF only where asked: removing it takes its VFs with it
		if [ "${TORTURE_PF_REMOVE:-1}" = 1 ]; then t_pick vf0 vf1 vf0 vf1 pf; else t_pick vf0 vf1; fi
		T_OP="t_remove $T_P" ;;
	rescan) T_OP="t_rescan" ;;
	vfio)
		local dev secs
		t_pick vf0 vf1; dev=$T_P
		t_rand 3; secs=$((T_R + 1))
		t_pick plain bar reset readpf; T_OP="t_vfio $dev $secs $T_P" ;;
	migrate) T_OP="t_migrate" ;;
	migstate) t_pick vf0 vf1; T_OP="t_migstate $T_P" ;;
	modload) t_pick hmtest hisi vfio-pci nvme; T_OP="t_modload $T_P" ;;
	modunload) t_pick hmtest hisi vfio-pci nvme; T_OP="t_modunload $T_P" ;;
	read)
		t_pick pf vf0 vf1
		if [ "$T_P" = pf ]; then
			t_pick sriov_numvfs sriov_totalvfs config; T_OP="t_read pf $T_P"
		else
			local dev=$T_P
			t_pick config driver_override; T_OP="t_read $dev $T_P"
		fi ;;
	sleep) t_rand 10; T_OP="t_sleep $(((T_R + 1) * 100))" ;;
	esac
}

# t_gen SEED SEGMENT WORKER COUNT: COUNT op lines of one worker of a segment.
t_gen() {
	local i
	t_rand_init "$1" $(($2 * 16 + $3))
	for ((i = 0; i < $4; i++)); do
		t_gen_op
		echo "$T_OP"
	done
}

# ---- op log ---------------------------------------------------------------
# One line per finished op:
#   seed=S seg=K w=W i=I start=UPTIME end=UPTIME rc=RC op=OP ARGS...

# t_log_ops LOG [SEG]: the op column of LOG (of segment SEG), in start order:
# the concurrent workers' ops as one sequential list.
t_log_ops() {
	awk -v seg="${2:-}" '
		{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
		seg != "" && f["seg"] != seg { next }
		{ o = index($0, " op="); if (o) printf "%s\t%s\n", f["start"], substr($0, o + 4) }
	' "$1" | sort -s -g -k1,1 | cut -f2-
}

# t_log_before LOG SEG UPTIME: the same, only ops started before UPTIME
# (a finding at UPTIME cannot depend on later ops).
t_log_before() {
	awk -v seg="$2" -v t="$3" '
		{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
		f["seg"] != seg || f["start"] + 0 > t + 0 { next }
		{ o = index($0, " op="); if (o) printf "%s\t%s\n", f["start"], substr($0, o + 4) }
	' "$1" | sort -s -g -k1,1 | cut -f2-
}

# t_log_guided LOG SEG UPTIME...: a first guess at the reproducer from a
# finding's evidence times: the ops running at those times, after the last
# successful bind or override of each device before them (a device lock's
# class carries its driver). Start order.
t_log_guided() {
	local log=$1 seg=$2
	shift 2
	awk -v seg="$seg" -v times="$*" '
		BEGIN { nt = split(times, ts, " ") }
		{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } }
		f["seg"] != seg { next }
		{
			n++; st[n] = f["start"] + 0; en[n] = f["end"] + 0; rc[n] = f["rc"]
			o = index($0, " op="); op[n] = substr($0, o + 4)
		}
		END {
			first = -1
			for (i = 1; i <= n; i++)
				for (j = 1; j <= nt; j++)
					if (st[i] <= ts[j] + 0 && ts[j] + 0 <= en[i]) {
						keep[i] = 1
						if (first < 0 || st[i] < first) first = st[i]
					}
			for (i = 1; i <= n; i++) {
				split(op[i], w, " ")
				if (st[i] < first && rc[i] == 0 && (w[1] == "t_bind" || w[1] == "t_override"))
					last[w[2]] = i
			}
			for (d in last) keep[last[d]] = 1
			for (i = 1; i <= n; i++) if (keep[i]) printf "%s\t%s\n", st[i], op[i]
		}' "$log" | sort -s -g -k1,1 | cut -f2-
}

# ---- kernel log -------------------------------------------------------------

# What the kernel says when it finds a problem itself.
T_KMSG_RE='WARNING:|BUG:|Oops|general protection fault|blocked for more than|hung_task|INFO: task .* blocked|left SR-IOV enabled|kernel BUG|Unable to handle|refcount_t:|list_add corruption|list_del corruption|use-after-free'

# t_kmsg_events: dmesg text on stdin -> one line per kernel event,
# "SIGNATURE<TAB>LINE": SIGNATURE is the line without times, PIDs, CPUs,
# addresses and offsets, so a repeat of the same problem has the same one.
t_kmsg_events() {
	grep -E "$T_KMSG_RE" | while IFS= read -r line; do
		local sig
		sig=$(sed -E 's/^\[ *[0-9.]+\] //; s/^<[0-9]+>//; s/CPU: ?[0-9]+/CPU/g; s/PID: ?[0-9]+/PID/g;
			s/(task|process) [^ ]+:[0-9]+/\1 X/g; s/\+0x[0-9a-f]+\/0x[0-9a-f]+//g;
			s/0x[0-9a-f]+/ADDR/g; s/[0-9a-f]{12,}/ADDR/g; s/ [0-9]+ seconds/ N seconds/g;
			s/ +$//' <<<"$line")
		printf '%s\t%s\n' "$sig" "$line"
	done
}

# t_sig_id TEXT: a short stable id for a signature or fingerprint.
t_sig_id() { printf '%s' "$1" | sha1sum | cut -c1-12; }

# ---- delta debugging ------------------------------------------------------

# t_ddmin IN OUT TEST DEADLINE: shrink the lines of file IN to a minimal
# list for which `TEST FILE` still exits 0 (the failure still happens), by
# Zeller's ddmin (try each chunk, then each complement, refining the
# granularity) until 1-minimal or the epoch second DEADLINE passes. OUT gets
# the smallest failing list found. Returns 0 if IN itself failed, 1 if not.
# Each candidate's verdict is cached: ddmin retries some lists. T_DD_TESTS
# and T_DD_TIMEOUT tell the caller how many runs it took and whether the time
# bound stopped it.
# shellcheck disable=SC2034
t_ddmin() {
	local in=$1 out=$2 test=$3 deadline=$4 work n i j len chunk
	local -a cur cand
	local -A seen=()
	work=$(mktemp -d)
	mapfile -t cur <"$in"
	_t_dd_try() { # lines... -> 0 if the failure reproduces
		local key rc
		printf '%s\n' "$@" >"$work/cand"
		key=$(sha1sum <"$work/cand" | cut -c1-40)
		if [ -z "${seen[$key]:-}" ]; then
			rc=0
			"$test" "$work/cand" >>"$work/test.log" 2>&1 || rc=1
			seen[$key]=$rc
			T_DD_TESTS=$((T_DD_TESTS + 1))
		fi
		return "${seen[$key]}"
	}
	T_DD_TESTS=0 T_DD_TIMEOUT=0
	if ! _t_dd_try "${cur[@]}"; then
		rm -rf "$work"
		return 1
	fi
	n=2
	while [ ${#cur[@]} -ge 2 ]; do
		len=${#cur[@]}
		[ "$n" -gt "$len" ] && n=$len
		chunk=$(((len + n - 1) / n))
		local reduced=0
		# each chunk alone, then each complement
		for ((i = 0; i < len && !reduced; i += chunk)); do
			[ "$(date +%s)" -lt "$deadline" ] || { T_DD_TIMEOUT=1; break 2; }
			cand=("${cur[@]:i:chunk}")
			if _t_dd_try "${cand[@]}"; then cur=("${cand[@]}") n=2 reduced=1; fi
		done
		for ((i = 0; i < len && !reduced && n > 2; i += chunk)); do
			[ "$(date +%s)" -lt "$deadline" ] || { T_DD_TIMEOUT=1; break 2; }
			cand=()
			for ((j = 0; j < len; j++)); do
				[ "$j" -ge "$i" ] && [ "$j" -lt $((i + chunk)) ] || cand+=("${cur[j]}")
			done
			if _t_dd_try "${cand[@]}"; then cur=("${cand[@]}") n=$((n - 1)) reduced=1; fi
		done
		[ "$reduced" = 1 ] && continue
		[ "$n" -ge "$len" ] && break # 1-minimal
		n=$((n * 2))
	done
	printf '%s\n' "${cur[@]}" >"$out"
	rm -rf "$work"
	return 0
}

# ---- classification ---------------------------------------------------------

# t_classify_finding: a finding's JSON on stdin -> "candidate" (worth a
# kernel engineer's look) or "tool-limitation: WHY" for the patterns the tool
# is known to misread; a kernel bug is never claimed without a reproducer.
# Fork: dup_mmap (inlined into copy_process on 6.12) write-locks the parent's
# mmap_lock, then the child's with down_write_nested.
t_classify_finding() {
	jq -r '
		def stacks: [(.evidence // [])[] | (.stack // []) | join(" ")];
		if .kind == "lost-events" then
			"tool-limitation: events were lost, later findings of this run may be incomplete or wrong"
		elif (.kind == "lock-order-cycle" or .kind == "self-deadlock")
		     and ((.summary // "") | test("mmap_lock"))
		     and (stacks | length > 0)
		     and (stacks | all(test("^down_write[^ ]* (dup_mmap|copy_process)\\+"))) then
			"tool-limitation: fork nests the child mm'"'"'s mmap_lock under the parent'"'"'s (dup_mmap, down_write_nested); the tool names an mm'"'"'s lock by the first task that takes it"
		else "candidate" end'
}

# t_has_fingerprint FILE FP: FILE (one finding's JSON per line) has FP.
# (jq -e with select judges only the last input: a match followed by any
# other finding would read as absent.)
t_has_fingerprint() { jq -s -e --arg f "$2" 'any(.[]; .fingerprint == $f)' "$1" >/dev/null; }
