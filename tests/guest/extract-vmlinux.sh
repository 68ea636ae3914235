#!/usr/bin/env bash
# Usage: extract-vmlinux.sh BZIMAGE OUTPUT
# Writes the ELF vmlinux compressed inside an x86 bzImage, trimmed to its last
# byte, so `bpftool btf dump file OUTPUT` reads the kernel's BTF without a boot.
# Unlike the kernel's scripts/extract-vmlinux (which scans for every known
# compression magic and tries each), this reads the boot protocol header:
# payload_offset/payload_length (protocol >= 2.08) locate the compressed
# payload exactly; its last 4 bytes are the uncompressed size (size_append).
set -euo pipefail

die() { printf 'extract-vmlinux: %s\n' "$*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: extract-vmlinux.sh BZIMAGE OUTPUT"
img=$1 out=$2
[ -r "$img" ] || die "cannot read $img"

# u LEN OFFSET FILE: unsigned little-endian integer (LEN = 1, 2, 4 or 8 bytes).
u() { od -An -t "u$1" -j "$2" -N "$1" "$3" | tr -d ' '; }
hex() { od -An -tx1 -j "$1" -N "$2" "$3" | tr -d ' \n'; }

[ "$(hex $((0x202)) 4 "$img")" = 48647253 ] || die "$img: no bzImage header (HdrS)"
proto=$(u 2 $((0x206)) "$img")
[ "$proto" -ge $((0x208)) ] || die "$img: boot protocol $(printf %x "$proto") < 2.08 has no payload fields"
setup_sects=$(u 1 $((0x1f1)) "$img")
[ "$setup_sects" -ne 0 ] || setup_sects=4
start=$(( (setup_sects + 1) * 512 + $(u 4 $((0x248)) "$img") ))
len=$(u 4 $((0x24c)) "$img")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dd if="$img" of="$tmp/payload" bs=64K iflag=skip_bytes,count_bytes skip="$start" count="$len" status=none
want=$(u 4 $((len - 4)) "$tmp/payload")
head -c $((len - 4)) "$tmp/payload" >"$tmp/stream"

# The kernel's compressors (arch/x86/boot/compressed/Makefile), by magic.
magic=$(hex 0 6 "$tmp/stream")
case "$magic" in
1f8b*)         tool=(gzip -dc) ;;
fd377a585a00)  tool=(xz -dc) ;;
28b52ffd*)     tool=(zstd -dcq) ;;
425a68*)       tool=(bzip2 -dc) ;;
5d0000*)       tool=(xz -dc --format=lzma) ;;
02214c18*)     tool=(lz4 -dc) ;;
894c5a4f*)     tool=(lzop -dc) ;;
*) die "$img: unknown payload compression (magic $magic)" ;;
esac
command -v "${tool[0]}" >/dev/null || die "$img: payload needs ${tool[0]}, which is not installed"
"${tool[@]}" <"$tmp/stream" >"$tmp/vmlinux" || die "$img: ${tool[0]} failed on the payload"

got=$(stat -c %s "$tmp/vmlinux")
[ "$got" -eq "$want" ] || die "$img: payload inflated to $got bytes, header says $want"
[ "$(hex 0 4 "$tmp/vmlinux")" = 7f454c46 ] || die "$img: payload is not an ELF file"
[ "$(u 1 4 "$tmp/vmlinux")" -eq 2 ] || die "$img: payload is not a 64-bit ELF"

# A relocatable kernel's payload is vmlinux followed by its relocation table:
# cut at the end of the section header table (the last thing ld writes).
shoff=$(u 8 $((0x28)) "$tmp/vmlinux")
shentsize=$(u 2 $((0x3a)) "$tmp/vmlinux")
shnum=$(u 2 $((0x3c)) "$tmp/vmlinux")
end=$((shoff + shentsize * shnum))
[ "$end" -le "$got" ] || die "$img: ELF section headers beyond the payload"
head -c "$end" "$tmp/vmlinux" >"$tmp/trimmed"

LC_ALL=C readelf -S -W "$tmp/trimmed" | grep -q ' \.BTF ' || die "$img: vmlinux has no .BTF section (kernel built without CONFIG_DEBUG_INFO_BTF?)"
mv "$tmp/trimmed" "$out"
