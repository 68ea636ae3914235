#!/usr/bin/env bash
# Usage: fetch-headers.sh KVER DESTDIR
# Unpacks Debian's linux-headers-KVER with the packages it depends on
# (-common and linux-kbuild-*, which carries scripts/ and objtool) into
# DESTDIR without installing anything, and prints the directory to pass to
# `make -C`. Nothing is written to DESTDIR until the unpack succeeded.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: fetch-headers.sh KVER DESTDIR" >&2; exit 2; }
kver=$1 dest=$2
kdir=$dest/usr/src/linux-headers-$kver

if [ -e "$dest/.ready" ]; then
	echo "$kdir"
	exit 0
fi

# The arch package names its -common and kbuild packages; the compiler
# dependency is a metapackage we satisfy with the host's gcc.
pkgs=("linux-headers-$kver")
while read -r dep; do
	pkgs+=("$dep")
done < <(apt-cache depends "linux-headers-$kver" 2>/dev/null |
	# A foreign architecture's deps read <name:arch> or name:arch: the bare
	# name gets -common (all) and the host's own linux-kbuild, whose tools
	# must run here (a cross build, e.g. arm64 headers on amd64).
	awk '$1 == "Depends:" { gsub(/^<|>$|:.*/, "", $2); if ($2 ~ /^linux-(headers|kbuild)-/) print $2 }')
[ ${#pkgs[@]} -ge 3 ] ||
	{ echo "fetch-headers: apt does not know linux-headers-$kver and its deps (apt-get update?)" >&2; exit 1; }

mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d "$dest.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "fetch-headers: downloading ${pkgs[*]}" >&2
# apt's sandbox user cannot write into root-owned dirs: harmless warning.
(cd "$tmp" && apt-get download -qq "${pkgs[@]}" 2>&1 |
	grep -v '^W: Download is performed unsandboxed' >&2 || true)
for deb in "$tmp"/*.deb; do
	dpkg-deb -x "$deb" "$tmp/root"
done
rm -f "$tmp"/*.deb
[ -f "$tmp/root/usr/src/linux-headers-$kver/Makefile" ] ||
	{ echo "fetch-headers: no Makefile in linux-headers-$kver" >&2; exit 1; }

# The arch Makefile includes the -common one by absolute path and the
# scripts/tools symlinks are relative to /usr: point the include at our copy.
sed -i "s|^include /usr/src/|include $dest/usr/src/|" \
	"$tmp/root/usr/src/linux-headers-$kver/Makefile"

rm -rf "$dest"
mv "$tmp/root" "$dest"
touch "$dest/.ready"
echo "$kdir"
