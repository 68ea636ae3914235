#!/usr/bin/env bats
# make install into a staging directory: every file a packager expects, the
# unit pointing at the installed binary, a man page that renders cleanly.

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

@test "make install DESTDIR=... PREFIX=/usr installs binary, man page, completion, unit, dashboards, license" {
	dest=$BATS_TEST_TMPDIR/stage
	run make -s -C "$REPO" install DESTDIR="$dest" PREFIX=/usr
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	(cd "$dest" && find . -type f | sort) >"$BATS_TEST_TMPDIR/files"
	cat "$BATS_TEST_TMPDIR/files"
	diff - "$BATS_TEST_TMPDIR/files" <<'LIST'
./usr/lib/systemd/system/hisimig-trace-exporter.service
./usr/sbin/hisimig-trace
./usr/share/bash-completion/completions/hisimig-trace
./usr/share/doc/hisimig-trace/LICENSE
./usr/share/hisimig-trace/dashboards/grafana/hisimig-trace.json
./usr/share/hisimig-trace/dashboards/grafana/provisioning/dashboards/hisimig.yml
./usr/share/hisimig-trace/dashboards/grafana/provisioning/datasources/hisimig-prometheus.yml
./usr/share/hisimig-trace/dashboards/prometheus/hisimig-alerts.yml
./usr/share/hisimig-trace/dashboards/prometheus/prometheus-scrape.example.yml
./usr/share/man/man8/hisimig-trace.8
LIST
	[ -x "$dest/usr/sbin/hisimig-trace" ]
	run "$dest/usr/sbin/hisimig-trace" --version
	[[ "$output" == "hisimig-trace "*", libbpf v"* ]]
	grep -qx 'ExecStart=/usr/sbin/hisimig-trace run --quiet --metrics 127.0.0.1:9478' \
		"$dest/usr/lib/systemd/system/hisimig-trace-exporter.service"
	! grep -q '@[A-Z]*@' "$dest/usr/lib/systemd/system/hisimig-trace-exporter.service"
	cmp "$REPO/LICENSE" "$dest/usr/share/doc/hisimig-trace/LICENSE"
	grep -q 'GNU GENERAL PUBLIC LICENSE' "$REPO/LICENSE"
	grep -q 'Version 2, June 1991' "$REPO/LICENSE"
}

@test "the man page renders without warnings and covers every command and exit status" {
	command -v groff >/dev/null || skip "no groff"
	page=$REPO/dist/hisimig-trace.8
	run groff -man -Tutf8 -ww -z "$page"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	text=$(groff -man -Tascii "$page" 2>/dev/null | col -bx)
	for cmd in run record replay ci probe; do
		grep -q "^       $cmd" <<<"$text" || { echo "no $cmd"; false; }
	done
	for st in 0 1 2 3 4; do
		sed -n "/^EXIT STATUS/,/^REQUIREMENTS/p" <<<"$text" | grep -q "^       $st  " || { echo "no exit status $st"; false; }
	done
}

@test "bash completion: commands, ci options, and the wrapped command after --" {
	source "$REPO/dist/hisimig-trace.bash-completion"
	COMP_WORDS=(hisimig-trace c); COMP_CWORD=1; _hisimig_trace
	[ "${COMPREPLY[*]}" = "ci" ]
	COMP_WORDS=(hisimig-trace ci --jun); COMP_CWORD=2; _hisimig_trace
	[ "${COMPREPLY[*]}" = "--junit" ]
	COMP_WORDS=(hisimig-trace ci --fail-on w); COMP_CWORD=3; _hisimig_trace
	[ "${COMPREPLY[*]}" = "warning" ]
	COMP_WORDS=(hisimig-trace ci -- bat); COMP_CWORD=3; _hisimig_trace
	[[ " ${COMPREPLY[*]} " == *" bats "* ]]
}
