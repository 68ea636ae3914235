#!/usr/bin/env bats
# The Prometheus exporter: exposition linted by promtool, alert rules checked
# and unit-tested, hostile HTTP clients, and a real Prometheus server scraping
# replays, queried for the series every dashboard panel and alert rule uses.

load helpers

REPO=$BATS_TEST_DIRNAME/../..
DASHBOARD=$REPO/dashboards/grafana/hisimig-trace.json
RULES_DIR=$REPO/dashboards/prometheus
RULES=$RULES_DIR/hisimig-alerts.yml
SCENARIOS="seed-bug abba migration-broken migration-clean"
MAX_PER_IP=$(sed -nE 's/^#define HM_EXPORTER_MAX_PER_IP ([0-9]+).*/\1/p' "$REPO/src/exporter.h")

# ---- helpers (state lives in files: each test runs in its own process) ----

# append_meta FILE KEY=VALUE: a META record as the trace writer stores it
append_meta() { # format 2 framing: kind 4, length varint (one byte: < 128), text, NUL
	local text=$2 len
	len=$((${#text} + 1))
	printf "\\x04\\x$(printf %02x "$len")%s\\x00" "$text" >>"$1"
}

# start_exporter NAME TRACE [replay options...]: replay TRACE serving metrics on
# a free port; NAME.url, NAME.pid, NAME.err land in $BATS_FILE_TMPDIR
start_exporter() {
	local name=$1 trace=$2 dir=$BATS_FILE_TMPDIR url=
	shift 2
	"$HISIMIG" replay --quiet --metrics 127.0.0.1:0 "$@" "$trace" \
		>"$dir/$name.out" 2>"$dir/$name.err" 3>&- &
	echo $! >"$dir/$name.pid"
	for _ in $(seq 100); do
		# (the background shell may not have opened NAME.err yet)
		url=$(sed -n 's/^hisimig-trace: serving metrics at //p' "$dir/$name.err" 2>/dev/null || true)
		[ -n "$url" ] && break
		sleep 0.1
	done
	[ -n "$url" ] || { cat "$dir/$name.err" >&2; return 1; }
	echo "$url" >"$dir/$name.url"
}

url_of() { cat "$BATS_FILE_TMPDIR/$1.url"; }
hostport_of() { url_of "$1" | sed -E 's#^http://([^/]+)/metrics$#\1#'; }

# stop_pidfile FILE: SIGTERM the process and wait until it is gone
stop_pidfile() {
	local pidfile=$1 pid
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$pidfile"
}

prom() { cat "$BATS_FILE_TMPDIR/prom.url"; }

# prom_query EXPR -> the API's JSON answer of an instant query
prom_query() {
	curl -sf --get --data-urlencode "query=$1" "$(prom)/api/v1/query"
}

# prom_value EXPR -> the value of its only series ("" when there is none)
prom_value() {
	prom_query "$1" | jq -r 'if (.data.result | length) == 1 then .data.result[0].value[1] else "" end'
}

prom_series_count() {
	prom_query "$1" | jq -r '.data.result | length'
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.5
	done
}

targets_up() { [ "$(prom_value 'sum(up{job="hisimig"})')" = 4 ]; }
replay_done() { grep -q "replay done" "$BATS_FILE_TMPDIR/$1.err"; }
prom_ready() { curl -sf "$(prom)/-/ready" >/dev/null; }

start_prometheus() {
	local dir=$BATS_FILE_TMPDIR port
	cat >"$dir/prometheus.yml" <<-EOF
		global:
		  scrape_interval: 1s
		  scrape_timeout: 1s
		  evaluation_interval: 1s
		rule_files: ["$RULES"]
		scrape_configs:
		  - job_name: hisimig
		    file_sd_configs:
		      - files: ["$dir/targets.json"]
	EOF
	echo '[]' >"$dir/targets.json"
	for _ in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 40000))
		echo "http://127.0.0.1:$port" >"$dir/prom.url"
		prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/tsdb" \
			--web.listen-address="127.0.0.1:$port" --log.level=warn \
			>"$dir/prometheus.log" 2>&1 3>&- &
		echo $! >"$dir/prometheus.pid"
		wait_for 20 prom_ready && return 0
		stop_pidfile "$dir/prometheus.pid"
	done
	cat "$dir/prometheus.log" >&2
	return 1
}

# Four hosts' worth of exporters, each replaying a scenario once Prometheus
# took a first scrape (so counters rise from 0), the clean migrations paced.
setup_file() {
	local dir=$BATS_FILE_TMPDIR
	"$HISIMIG" gen seed-bug -o "$dir/seed-bug.hmt"
	append_meta "$dir/seed-bug.hmt" "attach.mutex_lock=fentry"
	append_meta "$dir/seed-bug.hmt" "attach.hisi_acc_vfio_pci_set_device_state=missing: module not loaded"
	for s in abba migration-broken migration-clean; do
		"$HISIMIG" gen "$s" -o "$dir/$s.hmt"
	done

	start_prometheus
	for s in seed-bug abba migration-broken; do
		start_exporter "$s" "$dir/$s.hmt" --metrics-await-scrape --metrics-linger 300
	done
	start_exporter migration-clean "$dir/migration-clean.hmt" --metrics-await-scrape \
		--metrics-linger 300 --replay-speed 0.25
	for s in $SCENARIOS; do
		printf '{"targets":["%s"],"labels":{"scenario":"%s"}}\n' "$(hostport_of $s)" "$s"
	done | jq -s . >"$dir/targets.json.new"
	mv "$dir/targets.json.new" "$dir/targets.json"

	wait_for 30 targets_up
	wait_for 30 replay_done migration-clean
	for s in $SCENARIOS; do
		wait_for 10 replay_done "$s"
	done
	sleep 3 # a few scrapes and rule evaluations of the final values
}

teardown_file() {
	for s in $SCENARIOS; do
		stop_pidfile "$BATS_FILE_TMPDIR/$s.pid"
	done
	stop_pidfile "$BATS_FILE_TMPDIR/prometheus.pid"
}

# ---- the CLI ----

@test "--metrics: bad address, port in use, options without --metrics: one line, exit 2" {
	trace=$(gen_trace seed-bug)
	for bad in nonsense 127.0.0.1: 127.0.0.1:65536 127.0.0.1:http; do
		run "$HISIMIG" replay --metrics "$bad" "$trace"
		[ "$status" -eq 2 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == "hisimig-trace: --metrics: "* ]]
	done
	run "$HISIMIG" replay --metrics "$(hostport_of seed-bug)" "$trace"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"cannot listen: Address already in use" ]]
	run "$HISIMIG" replay --metrics-linger 5 "$trace"
	[ "$status" -eq 2 ]
	[ "$output" = "hisimig-trace: --metrics-linger needs --metrics ADDR:PORT" ]
	run "$HISIMIG" replay --metrics 127.0.0.1:0 --replay-speed 0 "$trace"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "exposition: content type, promtool check metrics clean, 404 and 405 elsewhere" {
	url=$(url_of seed-bug)
	run curl -sf -D - -o "$BATS_TEST_TMPDIR/metrics.txt" "$url"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Content-Type: text/plain; version=0.0.4; charset=utf-8"* ]]
	run promtool check metrics <"$BATS_TEST_TMPDIR/metrics.txt"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	grep -qx 'hisimig_lock_order_violations_total{kind="vf-pf-lock-order"} 1' \
		"$BATS_TEST_TMPDIR/metrics.txt"
	[ "$(curl -s -o /dev/null -w '%{http_code}' "${url}x")" = 404 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x=1 "$url")" = 405 ]
	[ "$(curl -s -o /dev/null -w '%{http_code}' -I "$url")" = 200 ]
}

# clients HOST PORT SCRIPT: a Python client program with `host`, `port`,
# `connect()` and `scrape(sock)` (-> the status code of a GET /metrics)
clients() {
	python3 - "$1" "$2" <<-PY
		import socket, sys, time
		host, port = sys.argv[1], int(sys.argv[2])
		def connect(src="127.0.0.1"):
		    s = socket.socket()
		    s.bind((src, 0))
		    s.connect((host, port))
		    return s
		def scrape(s):
		    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
		    s.settimeout(3)
		    return int(s.recv(64).split()[1])
		$3
	PY
}

@test "slow and malformed clients: bounded, timed out, and a scrape works after them" {
	local sl=$BATS_FILE_TMPDIR/slowloris
	trap '' PIPE # the server may close on us mid-write
	start_exporter slowloris "$BATS_FILE_TMPDIR/seed-bug.hmt" --metrics-linger 60
	hp=$(hostport_of slowloris)
	url=$(url_of slowloris)
	host=${hp%:*} port=${hp##*:}
	# more half-sent requests from one address than it may hold open
	fds=()
	for _ in $(seq $((MAX_PER_IP + 4))); do
		exec {fd}<>"/dev/tcp/$host/$port"
		printf 'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ' >&"$fd" || true
		fds+=("$fd")
	done
	# garbage: a nonsense request line, binary noise, a 100 KB header
	exec {g1}<>"/dev/tcp/$host/$port"
	printf 'GARBAGE\r\n\r\n' >&"$g1" || true
	exec {g2}<>"/dev/tcp/$host/$port"
	head -c 65536 /dev/urandom >&"$g2" 2>/dev/null || true
	exec {g3}<>"/dev/tcp/$host/$port"
	{ printf 'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: '; head -c 100000 /dev/zero | tr '\0' a
	  printf '\r\n\r\n'; } >&"$g3" 2>/dev/null || true
	# a normal scrape is served all the same
	scrape() { curl -sf -m 2 -o "$sl.txt" "$url"; }
	wait_for 15 scrape
	grep -q '^hisimig_build_info' "$sl.txt"
	kill -0 "$(cat "$BATS_FILE_TMPDIR/slowloris.pid")"
	for fd in "${fds[@]}" "$g1" "$g2" "$g3"; do exec {fd}>&-; done
	stop_pidfile "$BATS_FILE_TMPDIR/slowloris.pid"
}

@test "slowloris: sockets trickling a byte a second neither block a scrape nor stay open" {
	start_exporter trickle "$BATS_FILE_TMPDIR/seed-bug.hmt" --metrics-linger 60
	hp=$(hostport_of trickle)
	run clients "${hp%:*}" "${hp##*:}" "
slow = [connect() for _ in range($MAX_PER_IP)]
start = time.time()
closed = 0
for second in range(8):
    for s in slow:
        try:
            s.send(b'G' if second == 0 else b'x')
        except OSError:
            pass
    if second == 2:
        # from the same address as the slow ones, and from another one
        print('scrape', scrape(connect()), scrape(connect('127.0.0.2')), flush=True)
    time.sleep(1)
for s in slow:
    s.settimeout(2)
    try:
        closed += s.recv(1) == b''
    except (ConnectionResetError, socket.timeout):
        closed += 1
print('closed', closed)"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"scrape 200 200"* ]]
	# the whole-request deadline closed every one of them, bytes or not
	[[ $output == *"closed $MAX_PER_IP"* ]]
	stop_pidfile "$BATS_FILE_TMPDIR/trickle.pid"
}

@test "500 idle sockets do not stop a normal scrape" {
	start_exporter idle "$BATS_FILE_TMPDIR/seed-bug.hmt" --metrics-linger 60
	hp=$(hostport_of idle)
	run clients "${hp%:*}" "${hp##*:}" "
idle = []
for i in range(500):
    try:
        idle.append(connect('127.0.0.%d' % (1 + i % 50)))
    except OSError:
        pass
time.sleep(0.5)
print('opened', len(idle), 'scrape', scrape(connect()), flush=True)"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"scrape 200"* ]]
	stop_pidfile "$BATS_FILE_TMPDIR/idle.pid"
}

@test "pipelined requests are answered in order on one connection" {
	url=$(url_of seed-bug)
	hp=$(hostport_of seed-bug)
	run clients "${hp%:*}" "${hp##*:}" "
s = connect()
s.sendall(b'GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nHEAD / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'
          b'GET /nothing HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n')
s.settimeout(5)
data = b''
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
import re
print(' '.join(c.decode() for c in re.findall(rb'HTTP/1\\.1 ([0-9]{3}) ', data)))"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "200 200 404" ]
}

@test "process_* metrics and a landing page at /" {
	url=$(url_of seed-bug)
	curl -sf "$url" >"$BATS_TEST_TMPDIR/m.txt"
	for m in process_cpu_seconds_total process_resident_memory_bytes \
		process_virtual_memory_bytes process_open_fds process_max_fds process_start_time_seconds; do
		grep -Eq "^# TYPE $m (counter|gauge)$" "$BATS_TEST_TMPDIR/m.txt"
		grep -Eq "^$m [0-9.e+]+$" "$BATS_TEST_TMPDIR/m.txt"
	done
	rss=$(sed -n 's/^process_resident_memory_bytes //p' "$BATS_TEST_TMPDIR/m.txt")
	[ "$rss" -gt 1000000 ]
	start=$(sed -n 's/^process_start_time_seconds //p' "$BATS_TEST_TMPDIR/m.txt")
	now=$(date +%s)
	awk -v s="$start" -v n="$now" 'BEGIN { exit !(s > n - 3600 && s <= n + 1) }'
	promtool check metrics <"$BATS_TEST_TMPDIR/m.txt"
	run curl -sf -D - "${url%/metrics}/"
	[ "$status" -eq 0 ]
	[[ $output == *"Content-Type: text/html"* ]]
	[[ $output == *'<a href="/metrics">'* ]]
}

@test "alert rules: promtool check rules and promtool test rules" {
	run promtool check rules "$RULES"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"SUCCESS: 8 rules found"* ]]
	cd "$RULES_DIR"
	run promtool test rules hisimig-alerts.test.yml
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"SUCCESS"* ]]
}

@test "dashboard: valid JSON, stable uid, datasource variable, no export-for-sharing inputs" {
	[ "$(jq -r .uid "$DASHBOARD")" = hisimig-trace ]
	[ "$(jq -r '.templating.list[] | select(.name == "datasource") | .type + " " + .query' \
		"$DASHBOARD")" = "datasource prometheus" ]
	! grep -q 'DS_PROMETHEUS\|__inputs' "$DASHBOARD"
	# every panel and query reads its data source from the variable
	[ "$(jq '[.. | objects | select(has("datasource")) | .datasource.uid] | unique' -c \
		"$DASHBOARD")" = '["${datasource}"]' ]
}

# ---- a real Prometheus ----

@test "prometheus: the scraped series and values of each scenario arrived" {
	[ "$(prom_series_count 'hisimig_build_info{job="hisimig"}')" = 4 ]
	sb='scenario="seed-bug"' mb='scenario="migration-broken"' mc='scenario="migration-clean"'
	[ "$(prom_value "hisimig_lock_order_violations_total{$sb,kind=\"vf-pf-lock-order\"}")" = 1 ]
	[ "$(prom_value "hisimig_lock_cycles_total{$sb}")" = 1 ]
	[ "$(prom_value "hisimig_findings_total{$sb,kind=\"vf-pf-lock-order\",severity=\"error\"}")" = 1 ]
	[ "$(prom_value "hisimig_deadlocks_total{$sb}")" = 0 ]
	[ "$(prom_value 'hisimig_deadlocks_total{scenario="abba"}')" = 1 ]
	[ "$(prom_value "hisimig_attach_status{$sb,target=\"mutex_lock\",mode=\"fentry\"}")" = 1 ]
	[ "$(prom_value "hisimig_attach_status{$sb,mode=\"missing\"}")" = 0 ]
	[ "$(prom_value "sum(hisimig_device_lock_acquisitions_total{$sb,role=\"vf\"}) > 0")" != "" ]
	[ "$(prom_value "hisimig_migration_state{$mb,device=\"0000:01:00.1\",state=\"ERROR\"}")" = 1 ]
	[ "$(prom_value "sum(hisimig_migration_state{$mb,device=\"0000:01:00.1\"})")" = 1 ]
	[ "$(prom_value "sum(hisimig_migration_transitions_total{$mb,result=\"illegal\"})")" = 1 ]
	[ "$(prom_value "hisimig_sriov_vfs{$mb,pf=\"0000:01:00.0\"}")" = 2 ]
	[ "$(prom_value "hisimig_migration_downtime_seconds_count{$mc}")" = 5 ]
	[ "$(prom_value "hisimig_migration_transitions_total{$mc,from=\"STOP\",to=\"STOP_COPY\",result=\"ok\"}")" = 5 ]
	[ "$(prom_value "hisimig_events_total{$mc,type=\"mig-set-state-end\"}")" = 35 ]
	[ "$(prom_value "hisimig_sriov_vfs{$mc,pf=\"0000:01:00.0\"}")" = 0 ]
}

@test "prometheus: the paced replay was seen changing, not only its final values" {
	changes=$(prom_value 'changes(hisimig_events_total{scenario="migration-clean",type="mig-set-state-end"}[5m])')
	echo "changes seen: $changes"
	[ "$changes" -ge 2 ]
	# and counters rose from 0 as scraped, so increase() sees every finding
	[ "$(prom_value 'increase(hisimig_lock_order_violations_total{scenario="seed-bug",kind="vf-pf-lock-order"}[5m]) > 0.5')" != "" ]
}

@test "prometheus: every dashboard expression returns the series it shows" {
	failed=0
	while IFS= read -r expr; do
		q=${expr//\$__rate_interval/1m}
		q=${q//\$instance/.*}
		n=$(prom_query "$q" | jq -r '.data.result | length')
		if [ "${n:-0}" -eq 0 ]; then
			echo "no series: $q"
			failed=1
		fi
	done < <(jq -r '.. | objects | select(has("expr")) | .expr' "$DASHBOARD")
	# template variable queries: label_values(METRIC, LABEL)
	while IFS= read -r metric; do
		[ "$(prom_series_count "$metric")" -gt 0 ] || { echo "no series: $metric"; failed=1; }
	done < <(jq -r '.templating.list[] | .definition // empty' "$DASHBOARD" |
		sed -nE 's/^label_values\(([a-z_]+),.*/\1/p')
	[ "$(jq '[.. | objects | select(has("expr"))] | length' "$DASHBOARD")" -ge 25 ]
	[ "$failed" -eq 0 ]
}

@test "prometheus: every alert rule evaluates, its signal exists, and the scenarios fire theirs" {
	failed=0
	while IFS= read -r expr; do
		[ "$(prom_query "$expr" | jq -r .status)" = success ] || { echo "error: $expr"; failed=1; }
		# absent() watches for no series at all: nothing to find
		[[ "$expr" != absent\(* ]] || continue
		# without its threshold the expression must find the series it watches
		signal=$(sed -E 's/[[:space:]]*(>|<|==|!=|>=|<=)[[:space:]]*[0-9.]+$//' <<<"$expr")
		[ "$signal" != "$expr" ] || { echo "no threshold to strip: $expr"; failed=1; }
		[ "$(prom_series_count "$signal")" -gt 0 ] || { echo "no series: $signal"; failed=1; }
	done < <(sed -nE 's/^[[:space:]]+expr:[[:space:]]*(.*)$/\1/p' "$RULES")
	[ "$failed" -eq 0 ]
	# Prometheus loaded the file and every rule evaluates without error
	rules=$(curl -sf "$(prom)/api/v1/rules")
	[ "$(jq '[.data.groups[].rules[]] | length' <<<"$rules")" = 8 ]
	[ "$(jq -r '[.data.groups[].rules[].health] | unique | join(",")' <<<"$rules")" = ok ]
	firing() {
		curl -sf "$(prom)/api/v1/alerts" |
			jq -r '.data.alerts[] | select(.state == "firing") | .labels.alertname' | sort -u
	}
	all_firing() { [ "$(firing | wc -l)" -ge 4 ]; }
	wait_for 10 all_firing
	run firing
	echo "$output"
	[[ "$output" == *HisimigLockOrderViolation* ]]
	[[ "$output" == *HisimigLockCycle* ]]
	[[ "$output" == *HisimigMigrationError* ]]
	[[ "$output" == *HisimigDeadlock* ]]
	[[ "$output" != *HisimigLostEvents* && "$output" != *HisimigMigrationDowntimeOverBudget* ]]
	[[ "$output" != *HisimigExporterDown* && "$output" != *HisimigExporterAbsent* ]]
}

@test "exporters end cleanly on SIGTERM while lingering: summary printed, no sanitizer report" {
	for s in $SCENARIOS; do
		stop_pidfile "$BATS_FILE_TMPDIR/$s.pid"
		! grep -q 'Sanitizer\|runtime error' "$BATS_FILE_TMPDIR/$s.err"
		grep -q 'findings' "$BATS_FILE_TMPDIR/$s.out"
	done
}
