#!/bin/busybox sh
# shellcheck shell=dash
# Stage 2 of the guest (PID 1 after switch_root), run by the host's static
# busybox seen through the 9p root. Finishes the mounts tests rely on, runs
# the job (or an interactive shell), records its exit status in the result
# share and powers off. It never waits for input on failure: a run must end.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
bb=/bin/busybox
out=/run/hisimig
# shellcheck source=/dev/null # written by run-in-guest.sh
. $out/run.env

off() {
	sync
	$bb poweroff -f
	sleep 60
}
# mnt TYPE DIR [OPTS]: mount a pseudo filesystem, loud but not fatal.
mnt() {
	$bb mkdir -p "$2"
	$bb mount -t "$1" ${3:+-o "$3"} "$1" "$2" || echo "hisimig-guest: warning: cannot mount $1 on $2"
}

mnt debugfs /sys/kernel/debug
mnt tracefs /sys/kernel/tracing
mnt bpf /sys/fs/bpf
mnt devpts /dev/pts gid=5,mode=620,ptmxmode=666
mnt tmpfs /dev/shm mode=1777
# bats uses process substitution, which needs /dev/fd.
$bb ln -sfn /proc/self/fd /dev/fd
$bb ln -sfn /proc/self/fd/0 /dev/stdin
$bb ln -sfn /proc/self/fd/1 /dev/stdout
$bb ln -sfn /proc/self/fd/2 /dev/stderr
# Plain modprobe needs the unpacked Debian modules at the usual place.
$bb mkdir -p "/lib/modules/$HISIMIG_KVER"
$bb mount --bind "$HISIMIG_MODDIR" "/lib/modules/$HISIMIG_KVER" ||
	echo "hisimig-guest: warning: cannot bind-mount the modules of $HISIMIG_KVER"
$bb hostname hisimig-guest

if [ "$HISIMIG_MODE" = shell ]; then
	echo "hisimig-guest: interactive shell on $HISIMIG_KVER; 'exit' powers off"
	# setsid -c makes the console the shell's controlling tty (job control, ^C).
	$bb setsid -c /bin/bash --rcfile $out/job.sh -i </dev/console >/dev/console 2>&1
	rc=$?
else
	# Host terminals add the \r themselves; keep the log free of \r\n.
	$bb stty -onlcr </dev/console 2>/dev/null
	/bin/bash $out/job.sh </dev/null
	rc=$?
fi
echo "hisimig-guest: exit status $rc"
echo "$rc" >$out/status.tmp && $bb mv $out/status.tmp $out/status
off
