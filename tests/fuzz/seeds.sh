#!/usr/bin/env bash
# seeds.sh HISIMIG DIR: seed inputs for every fuzz target, generated fresh:
# each `gen` scenario as a trace (trace, session), HTTP requests (http).
set -euo pipefail
hm=$1 dir=$2
case "$hm" in */*) ;; *) hm=./$hm ;; esac
names=$("$hm" gen --list | awk '$1 != "bench" { print $1 }')
rm -rf "$dir"
mkdir -p "$dir/trace" "$dir/session" "$dir/http"
for name in $names; do
	"$hm" gen "$name" -o "$dir/trace/$name.hmt"
	cp "$dir/trace/$name.hmt" "$dir/session/$name.hmt"
done
cp "$(dirname "$0")/../data/seed-bug.hmt" "$dir/trace/bundled-seed-bug.hmt"
printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' >"$dir/http/get"
printf 'HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' >"$dir/http/head"
printf 'POST /metrics?x=1 HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello' >"$dir/http/post"
printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nConnection: close\r\n\r\n' >"$dir/http/pipelined"
printf 'GET / HTTP/1.1\n\n' >"$dir/http/bare-lf"
