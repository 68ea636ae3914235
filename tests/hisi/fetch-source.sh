#!/usr/bin/env bash
# Usage: fetch-source.sh KVER DESTDIR
# Extracts the HiSilicon accelerator and hisi-acc-vfio-pci sources of the
# Debian kernel KVER (e.g. 6.1.0-56-amd64) from Debian's linux-source-X.Y
# package into DESTDIR and prints DESTDIR. Debian does not build these
# drivers, but ships their source: the package at the exact version of
# linux-headers-KVER is the source the guest kernel was built from.
#
# linux-source is a ~140 MB .deb holding one tar.xz of the whole tree; only
# the two driver directories are extracted (the headers package provides the
# rest), and the .deb is kept in build/ (DEB_CACHE) so the download happens
# once per kernel version. Nothing is written to DESTDIR until it succeeded.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: fetch-source.sh KVER DESTDIR" >&2; exit 2; }
kver=$1 dest=$2
DEB_CACHE=${DEB_CACHE:-$(dirname "$dest")/debs}
# The driver directories, relative to the top of the kernel tree.
DIRS=(drivers/crypto/hisilicon drivers/vfio/pci/hisilicon)

if [ -e "$dest/.ready" ]; then
	echo "$dest"
	exit 0
fi

# linux-headers-KVER comes from the same source upload as the image, so its
# version is the linux-source version to take (6.1.0-56-amd64 -> 6.1.192-2).
version=$(apt-cache show "linux-headers-$kver" 2>/dev/null | awk '/^Version:/ { print $2; exit }')
[ -n "$version" ] ||
	{ echo "fetch-source: apt does not know linux-headers-$kver (apt-get update?)" >&2; exit 1; }
series=$(echo "$kver" | grep -oE '^[0-9]+\.[0-9]+')
pkg=linux-source-$series

mkdir -p "$DEB_CACHE"
deb=$(ls "$DEB_CACHE/${pkg}_${version//:/%3a}_"*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
	echo "fetch-source: downloading $pkg=$version (~140 MB, cached in $DEB_CACHE)" >&2
	# apt's sandbox user cannot write into root-owned dirs: harmless warning.
	(cd "$DEB_CACHE" && apt-get download -qq "$pkg=$version" 2>&1 |
		grep -v '^W: Download is performed unsandboxed' >&2 || true)
	deb=$(ls "$DEB_CACHE/${pkg}_${version//:/%3a}_"*.deb 2>/dev/null | head -n 1 || true)
	[ -n "$deb" ] || { echo "fetch-source: apt-get download $pkg=$version failed" >&2; exit 1; }
fi

mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d "$dest.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# The .deb's data member is usr/src/linux-source-X.Y.tar.xz; stream it out
# of the .deb and through tar without writing the 1.3 GB tree to disk.
top=linux-source-$series
dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$top.tar.xz" |
	tar -xJ -C "$tmp" "${DIRS[@]/#/$top/}"
for d in "${DIRS[@]}"; do
	[ -d "$tmp/$top/$d" ] || { echo "fetch-source: $d missing from $pkg" >&2; exit 1; }
done

rm -rf "$dest"
mv "$tmp/$top" "$dest"
echo "$version" >"$dest/.version"
touch "$dest/.ready"
echo "$dest"
