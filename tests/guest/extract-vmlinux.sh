#!/usr/bin/env bash
# Usage: extract-vmlinux.sh BZIMAGE|IMAGE OUTPUT
# Writes the ELF vmlinux compressed inside an x86 bzImage, trimmed to its last
# byte, so `bpftool btf dump file OUTPUT` reads the kernel's BTF without a boot.
# An arm64 Image is not an ELF at all: its .BTF section is found by its header
# and wrapped in an ELF of its own (the BTF is all that is needed of it).
# Unlike the kernel's scripts/extract-vmlinux (which scans for every known
# compression magic and tries each), this reads the boot protocol header:
# payload_offset/payload_length (protocol >= 2.08) locate the compressed
# payload exactly; its last 4 bytes are the uncompressed size (size_append).
set -euo pipefail

die() { printf 'extract-vmlinux: %s\n' "$*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: extract-vmlinux.sh BZIMAGE|IMAGE OUTPUT"
img=$1 out=$2
[ -r "$img" ] || die "cannot read $img"

# u LEN OFFSET FILE: unsigned little-endian integer (LEN = 1, 2, 4 or 8 bytes).
u() { od -An -t "u$1" -j "$2" -N "$1" "$3" | tr -d ' '; }
hex() { od -An -tx1 -j "$1" -N "$2" "$3" | tr -d ' \n'; }

# arm64_btf IMAGE OUTPUT: the uncompressed Image (what Debian ships as
# vmlinuz) holds .BTF as is. Its header: magic 0xeB9F, version 1, flags 0,
# hdr_len 24, then type_off/type_len/str_off/str_len (types, then strings).
arm64_btf() {
	local off type_off type_len str_off str_len tmp
	while IFS=: read -r off _; do
		type_off=$(u 4 $((off + 8)) "$1") type_len=$(u 4 $((off + 12)) "$1")
		str_off=$(u 4 $((off + 16)) "$1") str_len=$(u 4 $((off + 20)) "$1")
		# A match by chance inside code or data fails these checks.
		if [ "$type_off" -ne 0 ] || [ "$str_off" -ne "$type_len" ] || [ "$str_len" -eq 0 ] ||
			[ "$(hex $((off + 24 + str_off)) 1 "$1")" != 00 ]; then
			continue
		fi
		command -v aarch64-linux-gnu-objcopy >/dev/null ||
			die "$1: wrapping its BTF needs aarch64-linux-gnu-objcopy (binutils-aarch64-linux-gnu)"
		tmp=$(mktemp -d)
		# shellcheck disable=SC2064 # expand now: tmp is local
		trap "rm -rf '$tmp'" EXIT
		dd if="$1" of="$tmp/btf" bs=64K iflag=skip_bytes,count_bytes skip="$off" \
			count=$((24 + str_off + str_len)) status=none
		(cd "$tmp" && aarch64-linux-gnu-objcopy -I binary -O elf64-littleaarch64 \
			--rename-section .data=.BTF,contents,readonly btf vmlinux)
		mv "$tmp/vmlinux" "$2"
		return 0
	done < <(LC_ALL=C grep -obUaP '\x9f\xeb\x01\x00\x18\x00\x00\x00' "$1")
	die "$1: no BTF in this arm64 Image (kernel built without CONFIG_DEBUG_INFO_BTF?)"
}

# "ARMd" at 0x38: an arm64 Image (Documentation/arm64/booting.rst).
if [ "$(hex $((0x38)) 4 "$img")" = 41524d64 ]; then
	arm64_btf "$img" "$out"
	exit 0
fi

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

# Not `readelf | grep -q`: grep quitting at the first match kills readelf
# with SIGPIPE, and pipefail turns the found section into a failure.
sections=$(LC_ALL=C readelf -S -W "$tmp/trimmed")
grep -q ' \.BTF ' <<<"$sections" || die "$img: vmlinux has no .BTF section (kernel built without CONFIG_DEBUG_INFO_BTF?)"
mv "$tmp/trimmed" "$out"
