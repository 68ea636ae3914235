#!/bin/busybox sh
# shellcheck shell=dash
# /init of the guest initramfs (stage 1), run by static busybox.
# Loads the virtio/9p/overlay modules, mounts the host's / read-only over
# virtio-9p with a tmpfs overlay on top, mounts the writable result share at
# /run/hisimig, and switch_roots into stage 2 (guest-stage2.sh from the repo).
# Any failure powers off without a status file: the host reports "no result".
/bin/busybox --install -s /bin
export PATH=/bin

fatal() {
	echo "hisimig-init: FATAL: $*"
	poweroff -f
	sleep 60
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

# Named NN-module.ko in dependency order by the host (lib.sh).
for ko in /modules/*.ko; do
	insmod "$ko" || fatal "insmod $ko failed"
done

p9='trans=virtio,version=9p2000.L,msize=512000'
mount -t 9p -o "$p9" hisimig_out /out || fatal "cannot mount the result share"
[ -r /out/run.env ] || fatal "no run.env in the result share"
# shellcheck source=/dev/null # written by run-in-guest.sh
. /out/run.env

# cache=loose: the host's files do not change during a run (build first).
mount -t 9p -o "$p9,cache=loose,ro" hostroot /lower || fatal "cannot mount the host root"
mount -t tmpfs -o mode=0755 tmpfs /rw
# overlay DIR UPPER TARGET: DIR of the host, writable in tmpfs, on TARGET.
overlay() {
	mkdir -p "/rw/$2" "/rw/$2.work"
	mount -t overlay overlay -o "lowerdir=/lower$1,upperdir=/rw/$2,workdir=/rw/$2.work" "$3"
}
# The guest's root: the host's / (HISIMIG_ROOT unset or /), or a directory of
# the host holding another architecture's userland.
root=${HISIMIG_ROOT:-/}
overlay "${root%/}" upper /newroot || fatal "cannot mount the overlay root"

# The host's /run and /tmp belong to the host: start the guest with empty ones,
# but keep the repository visible when it lives there (a CI clone in /tmp).
case "$root:$HISIMIG_REPO" in
/:/tmp/*|/:/run/*)
	mkdir -p /repo
	mount --bind "/newroot$HISIMIG_REPO" /repo || fatal "cannot hold $HISIMIG_REPO"
	;;
esac
mount -t tmpfs -o mode=0755 tmpfs /newroot/run
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
if [ -d /repo ]; then
	mkdir -p "/newroot$HISIMIG_REPO"
	mount --move /repo "/newroot$HISIMIG_REPO" || fatal "cannot restore $HISIMIG_REPO"
fi
# A foreign root lacks the repository (tests, builds, kernels): at the same path.
if [ "$root" != / ]; then
	mkdir -p "/newroot$HISIMIG_REPO"
	overlay "$HISIMIG_REPO" repo "/newroot$HISIMIG_REPO" || fatal "cannot mount $HISIMIG_REPO"
fi
mkdir -p /newroot/run/hisimig
mount --move /out /newroot/run/hisimig
for d in proc sys dev; do
	mount --move /$d /newroot/$d
done
[ -r "/newroot$HISIMIG_STAGE2" ] || fatal "stage 2 $HISIMIG_STAGE2 not visible in the guest"
exec switch_root /newroot /bin/busybox sh "$HISIMIG_STAGE2"
