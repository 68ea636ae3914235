// SPDX-License-Identifier: GPL-2.0
/*
 * hmtest_vf: a vfio-pci variant driver with VFIO live migration (uAPI v2)
 * for the VFs of QEMU's emulated NVMe controller, built like 6.1's
 * hisi_acc_vfio_pci: a state_mutex whose unlock runs a deferred reset
 * (reset_lock + deferred_reset, reset_done only trylocks the mutex), a
 * set_state loop stepping through vfio_mig_get_next_state(), STOP_COPY and
 * RESUMING data files, and the PF's drvdata (hmtest_pf) reached through
 * pci_iov_get_pf_drvdata().
 *
 * The device state is synthetic: a buffer of random bytes plus a generation
 * counter that changes each time the device is stopped (as if it had worked
 * while running). STOP_COPY snapshots it into the data file, RESUMING ->
 * STOP replaces it with what was written. The VF's sysfs attribute
 * hmtest_status shows its checksum so that a test can compare both ends.
 *
 * Faults (module parameters, runtime writable, all off by default) are
 * described at their declarations below. Every function a tracer may want to
 * hook is global and noinline; see hmtest_vf.h.
 */
#include <linux/anon_inodes.h>
#include <linux/crc32.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mmap_lock.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/workqueue.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>

#include "hmtest.h"
#include "hmtest_vf.h"

/* --- fault injection ---------------------------------------------------- */

/*
 * 1-4: take device_lock(PF) while device_lock(VF) is held, the order that
 * deadlocks against pci_disable_sriov() (PF lock held, then each VF's).
 *   1: in reset_done(), where the PCI core holds the VF lock (sysfs reset,
 *      VFIO_DEVICE_RESET): device_lock(PF)
 *   2: same place, device_trylock(PF) (gives up instead of waiting)
 *   3: in STOP -> STOP_COPY: device_lock(VF) then device_lock(PF)
 *   4: same place, device_lock(VF) then device_trylock(PF)
 */
static int fault_pf_lock;
module_param(fault_pf_lock, int, 0644);
MODULE_PARM_DESC(fault_pf_lock,
		 "take PF device lock under VF lock: 0 off, 1 reset_done lock, 2 reset_done trylock, 3 stop-copy lock, 4 stop-copy trylock");

/* Widens the window of fault_pf_lock: sleep with the VF lock held first. */
static unsigned int fault_pf_lock_delay_ms;
module_param(fault_pf_lock_delay_ms, uint, 0644);
MODULE_PARM_DESC(fault_pf_lock_delay_ms,
		 "sleep this long holding the VF lock before taking the PF lock (ABBA race)");

/* An arc into this state fails with -EIO and leaves the device in ERROR. */
static int fault_fail_state;
module_param(fault_fail_state, int, 0644);
MODULE_PARM_DESC(fault_fail_state,
		 "arcs into this vfio_device_mig_state fail, device -> ERROR (0 off, 1 STOP, 2 RUNNING, 3 STOP_COPY, 4 RESUMING)");

/* Trust the requested state as the next arc instead of asking the core. */
static bool fault_skip_core_fsm;
module_param(fault_skip_core_fsm, bool, 0644);
MODULE_PARM_DESC(fault_skip_core_fsm,
		 "do not use vfio_mig_get_next_state(): combination arcs reach the driver as illegal arcs");

/* Long downtime: STOP -> STOP_COPY sleeps this long under state_mutex. */
static unsigned int fault_stop_copy_delay_ms;
module_param(fault_stop_copy_delay_ms, uint, 0644);
MODULE_PARM_DESC(fault_stop_copy_delay_ms, "slow stop-copy: sleep this long (ms)");

/*
 * Cache the PF's drvdata at probe and use the cached pointer ever after,
 * instead of looking it up with pci_iov_get_pf_drvdata() each time. Read at
 * probe. Harmful only together with hmtest_pf's fault_keep_vfs_on_remove.
 */
static bool fault_cache_pf_data;
module_param(fault_cache_pf_data, bool, 0644);
MODULE_PARM_DESC(fault_cache_pf_data,
		 "cache the PF drvdata at probe and use it after the PF driver is gone");

/*
 * reset_done() waits for state_mutex (mutex_lock) instead of deferring the
 * reset, as hisi_acc_vfio_pci does since 6.9 (commit fd94213e1417): the order
 * VF device lock -> state_mutex. Correct on its own.
 */
static bool reset_waits_state_mutex;
module_param(reset_waits_state_mutex, bool, 0644);
MODULE_PARM_DESC(reset_waits_state_mutex,
		 "reset_done() blocks on state_mutex (hisi_acc_vfio_pci >= 6.9) instead of deferring");

/*
 * 10: set_device_state() takes device_lock(VF) under state_mutex, the reverse
 * of reset_done()'s order with reset_waits_state_mutex: an FLR racing a
 * migration deadlocks. A cycle through a non-device lock.
 */
static bool fault_state_vf_lock;
module_param(fault_state_vf_lock, bool, 0644);
MODULE_PARM_DESC(fault_state_vf_lock, "set_device_state() takes the VF device lock under state_mutex");

/*
 * 11: set_device_state() takes the caller's mmap_lock under state_mutex, as a
 * copy_to_user() that faults (or get_user_pages()) there would. With
 * reset_waits_state_mutex, the ABBA the comment of hmtest_vf_reset_done()
 * describes: state_mutex -> mmap_lock -> memory_lock (BAR fault) ->
 * state_mutex (VFIO_DEVICE_RESET). A cycle through two rwsems.
 */
static bool fault_state_mm;
module_param(fault_state_mm, bool, 0644);
MODULE_PARM_DESC(fault_state_mm, "set_device_state() takes the caller's mmap_lock under state_mutex");

/*
 * 12: the saving file's read() takes state_mutex under the file's own mutex,
 * the reverse of set_device_state() disabling the files (state_mutex ->
 * migf->lock): a read racing a state change deadlocks.
 */
/*
 * 14: probe() takes device_lock(PF) under the VF lock the driver core holds
 * while probing (__device_attach): the probe-time seed bug. Bind through
 * drivers_probe with sriov_drivers_autoprobe off, or the probe runs inside
 * sriov_numvfs_store, which holds the PF lock already.
 */
static bool fault_probe_pf_lock;
module_param(fault_probe_pf_lock, bool, 0644);
MODULE_PARM_DESC(fault_probe_pf_lock, "probe() takes the PF device lock under the VF lock");

static bool fault_read_state_mutex;
module_param(fault_read_state_mutex, bool, 0644);
MODULE_PARM_DESC(fault_read_state_mutex, "the migration file's read() takes state_mutex under its lock");

/* Size of the synthetic device state; several read()s move it. */
static unsigned int state_size = 65536;
module_param(state_size, uint, 0444);
MODULE_PARM_DESC(state_size, "bytes of synthetic device state per VF");

#define HMTEST_MAX_DELAY_MS	60000

enum hmtest_pf_lock_mode {
	HMTEST_PF_LOCK_OFF,
	HMTEST_PF_LOCK_RESET_DONE,
	HMTEST_PF_TRYLOCK_RESET_DONE,
	HMTEST_PF_LOCK_STOP_COPY,
	HMTEST_PF_TRYLOCK_STOP_COPY,
};

/* --- migration stream ----------------------------------------------------- */

#define HMTEST_STATE_MAGIC	0x53544d48	/* "HMTS" */
#define HMTEST_STATE_VERSION	1

/* Header of the data the STOP_COPY file yields; the content follows it. */
struct hmtest_state_hdr {
	__le32 magic;
	__le32 version;
	__le64 pf_cookie;	/* must match the destination's PF */
	__le64 generation;
	__le32 vf_id;
	__le32 content_len;
	__le32 content_crc;
	__le32 reserved;
};

struct hmtest_vf_migf {
	struct hmtest_vf_device *hvdev;
	struct file *filp;
	struct mutex lock;	/* serialises read/write against disable */
	bool disabled;
	size_t total_length;	/* bytes valid (save) or written (resume) */
	size_t capacity;
	u8 *buf;
};

struct hmtest_vf_device {
	struct vfio_pci_core_device core_device;
	u8 deferred_reset:1;
	/* Protects mig_state, the migfs and the content. */
	struct mutex state_mutex;
	enum vfio_device_mig_state mig_state;
	spinlock_t reset_lock;	/* protects deferred_reset */
	struct hmtest_vf_migf *saving_migf;
	struct hmtest_vf_migf *resuming_migf;
	struct pci_dev *pdev;
	int vf_id;
	/* fault_cache_pf_data: the reference taken at probe */
	struct hmtest_pf_data *cached_pf;

	/* The synthetic device state. */
	u8 *content;
	size_t content_len;
	u64 generation;

	/* What the tests and tracers look at, shown by hmtest_status. */
	u32 saved_crc, loaded_crc;
	u64 saved_generation, loaded_generation;
	atomic_t saves, loads, resets_direct, resets_deferred, resets_applied;
	atomic_t stale_pf_uses, pf_locks, pf_trylock_fails;
	atomic_t injected_failures, illegal_arcs;
	u64 last_stop_copy_ns;
	/* 13: the pf_work attribute's work item, run by a kworker */
	struct work_struct pf_work;
	atomic_t pf_works;
};

static const char * const hmtest_state_names[] = {
	[VFIO_DEVICE_STATE_ERROR] = "ERROR",
	[VFIO_DEVICE_STATE_STOP] = "STOP",
	[VFIO_DEVICE_STATE_RUNNING] = "RUNNING",
	[VFIO_DEVICE_STATE_STOP_COPY] = "STOP_COPY",
	[VFIO_DEVICE_STATE_RESUMING] = "RESUMING",
	[VFIO_DEVICE_STATE_RUNNING_P2P] = "RUNNING_P2P",
};

static const char *hmtest_state_name(enum vfio_device_mig_state state)
{
	if (state < ARRAY_SIZE(hmtest_state_names) && hmtest_state_names[state])
		return hmtest_state_names[state];
	return "?";
}

static struct hmtest_vf_device *hmtest_vf_from_vdev(struct vfio_device *vdev)
{
	return container_of(vdev, struct hmtest_vf_device, core_device.vdev);
}

static struct hmtest_vf_device *hmtest_vf_drvdata(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core_device = dev_get_drvdata(&pdev->dev);

	return container_of(core_device, struct hmtest_vf_device, core_device);
}

static u32 hmtest_crc(const u8 *buf, size_t len)
{
	return crc32_le(~0U, buf, len);
}

/* --- the PF's drvdata ------------------------------------------------------ */

/*
 * Everything the VF driver needs from its PF goes through here, the way
 * hisi_acc_vfio_pci reads the PF's hisi_qm for its match data. Correctly the
 * drvdata is looked up on each use: pci_iov_get_pf_drvdata() fails once the
 * PF driver is gone. With fault_cache_pf_data the pointer cached at probe is
 * used instead; the reference taken then keeps the memory valid so that the
 * test does not crash, and a use after hmtest_pf's remove() is counted.
 */
noinline int hmtest_vf_use_pf_data(struct hmtest_vf_device *hvdev, u64 *cookie)
{
	struct hmtest_pf_data *pf = hvdev->cached_pf;

	if (pf) {
		if (!READ_ONCE(pf->bound)) {
			atomic_inc(&hvdev->stale_pf_uses);
			dev_warn_ratelimited(&hvdev->pdev->dev,
					     "fault: using PF drvdata after the PF driver unbound\n");
		}
		*cookie = pf->cookie;
		return 0;
	}
	pf = pci_iov_get_pf_drvdata(hvdev->pdev, hmtest_pf_get_driver());
	if (IS_ERR(pf))
		return PTR_ERR(pf);
	*cookie = pf->cookie;
	return 0;
}

/*
 * The seed bug: reach for the PF under its device lock while the VF's device
 * lock is held. pci_disable_sriov() takes them the other way round, so both
 * can wait for each other forever; fault_pf_lock_delay_ms opens the window.
 * @take_vf_lock: the caller does not run under the VF lock already.
 */
noinline void hmtest_vf_lock_pf(struct hmtest_vf_device *hvdev, bool take_vf_lock,
				bool trylock)
{
	struct device *vf = &hvdev->pdev->dev;
	struct device *pf = &pci_physfn(hvdev->pdev)->dev;
	unsigned int delay = min(READ_ONCE(fault_pf_lock_delay_ms),
				 (unsigned int)HMTEST_MAX_DELAY_MS);
	u64 cookie;

	if (take_vf_lock)
		device_lock(vf);
	if (delay) {
		pci_info(hvdev->pdev, "fault: holding VF lock %u ms before the PF lock\n",
			 delay);
		msleep(delay);
	}
	if (trylock) {
		if (!device_trylock(pf)) {
			atomic_inc(&hvdev->pf_trylock_fails);
			goto out;
		}
	} else {
		device_lock(pf);
	}
	atomic_inc(&hvdev->pf_locks);
	/* What the lock was taken for: a "stable" look at the PF driver. */
	hmtest_vf_use_pf_data(hvdev, &cookie);
	device_unlock(pf);
out:
	if (take_vf_lock)
		device_unlock(vf);
}

/* --- data files -------------------------------------------------------------- */

noinline void hmtest_vf_disable_fd(struct hmtest_vf_migf *migf)
{
	mutex_lock(&migf->lock);
	migf->disabled = true;
	migf->total_length = 0;
	migf->filp->f_pos = 0;
	mutex_unlock(&migf->lock);
}

/* Called with state_mutex held: the files stop working, our refs go. */
noinline void hmtest_vf_disable_fds(struct hmtest_vf_device *hvdev)
{
	if (hvdev->resuming_migf) {
		hmtest_vf_disable_fd(hvdev->resuming_migf);
		fput(hvdev->resuming_migf->filp);
		hvdev->resuming_migf = NULL;
	}
	if (hvdev->saving_migf) {
		hmtest_vf_disable_fd(hvdev->saving_migf);
		fput(hvdev->saving_migf->filp);
		hvdev->saving_migf = NULL;
	}
}

noinline int hmtest_vf_release_file(struct inode *inode, struct file *filp)
{
	struct hmtest_vf_migf *migf = filp->private_data;

	hmtest_vf_disable_fd(migf);
	mutex_destroy(&migf->lock);
	kvfree(migf->buf);
	kfree(migf);
	return 0;
}

noinline ssize_t hmtest_vf_save_read(struct file *filp, char __user *buf,
				     size_t len, loff_t *pos)
{
	struct hmtest_vf_migf *migf = filp->private_data;
	ssize_t done;

	/* A stream: no pread(). */
	if (pos)
		return -ESPIPE;
	pos = &filp->f_pos;

	mutex_lock(&migf->lock);
	if (READ_ONCE(fault_read_state_mutex)) {
		mutex_lock(&migf->hvdev->state_mutex);
		mutex_unlock(&migf->hvdev->state_mutex);
	}
	if (migf->disabled) {
		done = -ENODEV;
		goto out;
	}
	if (*pos > migf->total_length) {
		done = -EINVAL;
		goto out;
	}
	len = min_t(size_t, len, migf->total_length - *pos);
	if (len && copy_to_user(buf, migf->buf + *pos, len)) {
		done = -EFAULT;
		goto out;
	}
	*pos += len;
	done = len;
out:
	mutex_unlock(&migf->lock);
	return done;
}

noinline ssize_t hmtest_vf_resume_write(struct file *filp, const char __user *buf,
					size_t len, loff_t *pos)
{
	struct hmtest_vf_migf *migf = filp->private_data;
	ssize_t done;

	if (pos)
		return -ESPIPE;
	pos = &filp->f_pos;

	mutex_lock(&migf->lock);
	if (migf->disabled) {
		done = -ENODEV;
		goto out;
	}
	if (*pos < 0 || *pos > migf->capacity || len > migf->capacity - *pos) {
		done = -EFBIG;
		goto out;
	}
	if (copy_from_user(migf->buf + *pos, buf, len)) {
		done = -EFAULT;
		goto out;
	}
	*pos += len;
	migf->total_length = max_t(size_t, migf->total_length, *pos);
	done = len;
out:
	mutex_unlock(&migf->lock);
	return done;
}

static const struct file_operations hmtest_vf_save_fops = {
	.owner = THIS_MODULE,
	.read = hmtest_vf_save_read,
	.release = hmtest_vf_release_file,
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0) /* 6.12: a NULL llseek is unseekable */
	.llseek = no_llseek,
#endif
};

static const struct file_operations hmtest_vf_resume_fops = {
	.owner = THIS_MODULE,
	.write = hmtest_vf_resume_write,
	.release = hmtest_vf_release_file,
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0) /* 6.12: a NULL llseek is unseekable */
	.llseek = no_llseek,
#endif
};

static struct hmtest_vf_migf *hmtest_vf_new_migf(struct hmtest_vf_device *hvdev,
						 const struct file_operations *fops,
						 int flags, size_t capacity)
{
	struct hmtest_vf_migf *migf;
	struct file *filp;

	migf = kzalloc(sizeof(*migf), GFP_KERNEL);
	if (!migf)
		return ERR_PTR(-ENOMEM);
	migf->buf = kvzalloc(capacity, GFP_KERNEL);
	if (!migf->buf) {
		kfree(migf);
		return ERR_PTR(-ENOMEM);
	}
	migf->hvdev = hvdev;
	migf->capacity = capacity;
	mutex_init(&migf->lock);
	filp = anon_inode_getfile("hmtest_vf_mig", fops, migf, flags);
	if (IS_ERR(filp)) {
		mutex_destroy(&migf->lock);
		kvfree(migf->buf);
		kfree(migf);
		return ERR_CAST(filp);
	}
	migf->filp = filp;
	stream_open(filp->f_inode, filp);
	return migf;
}

/* --- per-arc handlers (state_mutex held) ------------------------------------ */

static size_t hmtest_vf_stream_len(struct hmtest_vf_device *hvdev)
{
	return sizeof(struct hmtest_state_hdr) + hvdev->content_len;
}

/* RUNNING -> STOP: the device "worked" while it ran; its state moved on. */
noinline int hmtest_vf_stop_device(struct hmtest_vf_device *hvdev)
{
	size_t chunk = min_t(size_t, 64, hvdev->content_len);
	size_t off;

	hvdev->generation++;
	off = (hvdev->generation * 64) % (hvdev->content_len - chunk + 1);
	get_random_bytes(hvdev->content + off, chunk);
	return 0;
}

/* STOP -> RUNNING */
noinline int hmtest_vf_start_device(struct hmtest_vf_device *hvdev)
{
	return 0;
}

/* STOP -> STOP_COPY: snapshot the device state into a read-only file. */
noinline struct file *hmtest_vf_stop_copy(struct hmtest_vf_device *hvdev)
{
	unsigned int delay = min(READ_ONCE(fault_stop_copy_delay_ms),
				 (unsigned int)HMTEST_MAX_DELAY_MS);
	int pf_lock = READ_ONCE(fault_pf_lock);
	struct hmtest_vf_migf *migf;
	struct hmtest_state_hdr *hdr;
	u64 start = ktime_get_ns();
	u64 cookie;
	int ret;

	if (pf_lock == HMTEST_PF_LOCK_STOP_COPY || pf_lock == HMTEST_PF_TRYLOCK_STOP_COPY)
		hmtest_vf_lock_pf(hvdev, true, pf_lock == HMTEST_PF_TRYLOCK_STOP_COPY);

	ret = hmtest_vf_use_pf_data(hvdev, &cookie);
	if (ret) {
		pci_warn(hvdev->pdev, "stop-copy: no PF drvdata (%d)\n", ret);
		return ERR_PTR(ret);
	}
	migf = hmtest_vf_new_migf(hvdev, &hmtest_vf_save_fops, O_RDONLY,
				  hmtest_vf_stream_len(hvdev));
	if (IS_ERR(migf))
		return ERR_CAST(migf);

	if (delay) {
		pci_info(hvdev->pdev, "fault: slow stop-copy, %u ms\n", delay);
		msleep(delay);
	}
	hdr = (struct hmtest_state_hdr *)migf->buf;
	hdr->magic = cpu_to_le32(HMTEST_STATE_MAGIC);
	hdr->version = cpu_to_le32(HMTEST_STATE_VERSION);
	hdr->pf_cookie = cpu_to_le64(cookie);
	hdr->generation = cpu_to_le64(hvdev->generation);
	hdr->vf_id = cpu_to_le32(hvdev->vf_id);
	hdr->content_len = cpu_to_le32(hvdev->content_len);
	hdr->content_crc = cpu_to_le32(hmtest_crc(hvdev->content, hvdev->content_len));
	memcpy(migf->buf + sizeof(*hdr), hvdev->content, hvdev->content_len);
	migf->total_length = hmtest_vf_stream_len(hvdev);

	hvdev->saved_crc = le32_to_cpu(hdr->content_crc);
	hvdev->saved_generation = hvdev->generation;
	atomic_inc(&hvdev->saves);
	WRITE_ONCE(hvdev->last_stop_copy_ns, ktime_get_ns() - start);

	get_file(migf->filp);
	hvdev->saving_migf = migf;
	return migf->filp;
}

/* STOP -> RESUMING: a write-only file collecting the incoming state. */
noinline struct file *hmtest_vf_resume_begin(struct hmtest_vf_device *hvdev)
{
	struct hmtest_vf_migf *migf;

	migf = hmtest_vf_new_migf(hvdev, &hmtest_vf_resume_fops, O_WRONLY,
				  hmtest_vf_stream_len(hvdev));
	if (IS_ERR(migf))
		return ERR_CAST(migf);
	get_file(migf->filp);
	hvdev->resuming_migf = migf;
	return migf->filp;
}

/* Is the incoming stream complete, intact and meant for a VF of our PF? */
static int hmtest_vf_check_stream(struct hmtest_vf_device *hvdev,
				  struct hmtest_vf_migf *migf)
{
	struct hmtest_state_hdr *hdr = (struct hmtest_state_hdr *)migf->buf;
	u64 cookie;
	int ret;

	if (migf->total_length != hmtest_vf_stream_len(hvdev) ||
	    le32_to_cpu(hdr->magic) != HMTEST_STATE_MAGIC ||
	    le32_to_cpu(hdr->version) != HMTEST_STATE_VERSION ||
	    le32_to_cpu(hdr->content_len) != hvdev->content_len) {
		pci_warn(hvdev->pdev, "resume: malformed stream (%zu bytes)\n",
			 migf->total_length);
		return -EINVAL;
	}
	if (le32_to_cpu(hdr->content_crc) !=
	    hmtest_crc(migf->buf + sizeof(*hdr), hvdev->content_len)) {
		pci_warn(hvdev->pdev, "resume: content checksum mismatch\n");
		return -EINVAL;
	}
	ret = hmtest_vf_use_pf_data(hvdev, &cookie);
	if (ret)
		return ret;
	if (le64_to_cpu(hdr->pf_cookie) != cookie) {
		pci_warn(hvdev->pdev, "resume: stream from an incompatible PF\n");
		return -EINVAL;
	}
	return 0;
}

/* RESUMING -> STOP: the written state becomes the device's. */
noinline int hmtest_vf_load_state(struct hmtest_vf_device *hvdev)
{
	struct hmtest_vf_migf *migf = hvdev->resuming_migf;
	struct hmtest_state_hdr *hdr;
	int ret;

	if (!migf)
		return -EINVAL;
	mutex_lock(&migf->lock);
	ret = hmtest_vf_check_stream(hvdev, migf);
	if (!ret) {
		hdr = (struct hmtest_state_hdr *)migf->buf;
		memcpy(hvdev->content, migf->buf + sizeof(*hdr), hvdev->content_len);
		hvdev->generation = le64_to_cpu(hdr->generation);
		hvdev->loaded_crc = le32_to_cpu(hdr->content_crc);
		hvdev->loaded_generation = hvdev->generation;
		atomic_inc(&hvdev->loads);
	}
	mutex_unlock(&migf->lock);
	return ret;
}

/* fault_fail_state: the device "fails" the arc and is left in ERROR. */
static bool hmtest_vf_inject_failure(struct hmtest_vf_device *hvdev, u32 new)
{
	int target = READ_ONCE(fault_fail_state);

	if (target <= 0 || target != new)
		return false;
	pci_warn(hvdev->pdev, "fault: arc %s -> %s fails, device in ERROR\n",
		 hmtest_state_name(hvdev->mig_state), hmtest_state_name(new));
	atomic_inc(&hvdev->injected_failures);
	hmtest_vf_disable_fds(hvdev);
	hvdev->mig_state = VFIO_DEVICE_STATE_ERROR;
	return true;
}

/* One arc of the FSM; the only arcs a STOP_COPY-only device may see. */
noinline struct file *hmtest_vf_step_state(struct hmtest_vf_device *hvdev, u32 new)
{
	u32 cur = hvdev->mig_state;
	int ret;

	if (hmtest_vf_inject_failure(hvdev, new))
		return ERR_PTR(-EIO);

	if (cur == VFIO_DEVICE_STATE_RUNNING && new == VFIO_DEVICE_STATE_STOP) {
		ret = hmtest_vf_stop_device(hvdev);
		return ret ? ERR_PTR(ret) : NULL;
	}
	if (cur == VFIO_DEVICE_STATE_STOP && new == VFIO_DEVICE_STATE_STOP_COPY)
		return hmtest_vf_stop_copy(hvdev);
	if (cur == VFIO_DEVICE_STATE_STOP_COPY && new == VFIO_DEVICE_STATE_STOP) {
		hmtest_vf_disable_fds(hvdev);
		return NULL;
	}
	if (cur == VFIO_DEVICE_STATE_STOP && new == VFIO_DEVICE_STATE_RESUMING)
		return hmtest_vf_resume_begin(hvdev);
	if (cur == VFIO_DEVICE_STATE_RESUMING && new == VFIO_DEVICE_STATE_STOP) {
		ret = hmtest_vf_load_state(hvdev);
		if (ret)
			return ERR_PTR(ret);
		hmtest_vf_disable_fds(hvdev);
		return NULL;
	}
	if (cur == VFIO_DEVICE_STATE_STOP && new == VFIO_DEVICE_STATE_RUNNING) {
		ret = hmtest_vf_start_device(hvdev);
		return ret ? ERR_PTR(ret) : NULL;
	}

	/* The core never hands out another arc; only fault_skip_core_fsm does. */
	atomic_inc(&hvdev->illegal_arcs);
	WARN(1, "hmtest_vf %s: illegal arc %s -> %s\n", pci_name(hvdev->pdev),
	     hmtest_state_name(cur), hmtest_state_name(new));
	return ERR_PTR(-EINVAL);
}

/* --- state_mutex and reset --------------------------------------------------- */

/* What a reset does to the migration side: back to RUNNING, files dead. */
noinline void hmtest_vf_reset_state(struct hmtest_vf_device *hvdev)
{
	hvdev->mig_state = VFIO_DEVICE_STATE_RUNNING;
	hmtest_vf_disable_fds(hvdev);
	atomic_inc(&hvdev->resets_applied);
}

/*
 * reset_done() may run while state_mutex is held (it only trylocks it, see
 * there); it then leaves deferred_reset set and whoever holds the mutex
 * applies the reset here, before letting go.
 */
noinline void hmtest_vf_state_mutex_unlock(struct hmtest_vf_device *hvdev)
{
again:
	spin_lock(&hvdev->reset_lock);
	if (hvdev->deferred_reset) {
		hvdev->deferred_reset = false;
		spin_unlock(&hvdev->reset_lock);
		hmtest_vf_reset_state(hvdev);
		goto again;
	}
	mutex_unlock(&hvdev->state_mutex);
	spin_unlock(&hvdev->reset_lock);
}

/*
 * PCI core callback after an FLR (sysfs reset, VFIO_DEVICE_RESET), run under
 * the VF's device lock. It must not wait for state_mutex: the VFIO reset
 * ioctl calls us with the memory_lock held for write, and a state_mutex
 * holder may be faulting on a mapping (mm lock -> memory_lock) -- the ABBA
 * hisi_acc_vfio_pci 6.1 avoids with the same trylock.
 */
noinline void hmtest_vf_reset_done(struct pci_dev *pdev)
{
	struct hmtest_vf_device *hvdev = hmtest_vf_drvdata(pdev);
	int pf_lock = READ_ONCE(fault_pf_lock);

	if (pf_lock == HMTEST_PF_LOCK_RESET_DONE || pf_lock == HMTEST_PF_TRYLOCK_RESET_DONE)
		hmtest_vf_lock_pf(hvdev, false, pf_lock == HMTEST_PF_TRYLOCK_RESET_DONE);

	if (!hvdev->core_device.vdev.mig_ops)
		return;
	if (READ_ONCE(reset_waits_state_mutex)) {
		mutex_lock(&hvdev->state_mutex);
		hmtest_vf_reset_state(hvdev);
		atomic_inc(&hvdev->resets_direct);
		hmtest_vf_state_mutex_unlock(hvdev);
		return;
	}
	spin_lock(&hvdev->reset_lock);
	hvdev->deferred_reset = true;
	if (!mutex_trylock(&hvdev->state_mutex)) {
		spin_unlock(&hvdev->reset_lock);
		atomic_inc(&hvdev->resets_deferred);
		return;
	}
	spin_unlock(&hvdev->reset_lock);
	atomic_inc(&hvdev->resets_direct);
	hmtest_vf_state_mutex_unlock(hvdev);
}

/* --- vfio_migration_ops ------------------------------------------------------ */

noinline struct file *hmtest_vf_set_device_state(struct vfio_device *vdev,
						 enum vfio_device_mig_state new_state)
{
	struct hmtest_vf_device *hvdev = hmtest_vf_from_vdev(vdev);
	enum vfio_device_mig_state next_state;
	struct file *res = NULL;
	int ret;

	mutex_lock(&hvdev->state_mutex);
	if (READ_ONCE(fault_state_vf_lock)) {
		device_lock(&hvdev->pdev->dev);
		device_unlock(&hvdev->pdev->dev);
	}
	if (READ_ONCE(fault_state_mm) && current->mm) {
		mmap_read_lock(current->mm);
		mmap_read_unlock(current->mm);
	}
	while (new_state != hvdev->mig_state) {
		if (READ_ONCE(fault_skip_core_fsm)) {
			next_state = new_state;
		} else {
			ret = vfio_mig_get_next_state(vdev, hvdev->mig_state,
						      new_state, &next_state);
			if (ret) {
				res = ERR_PTR(ret);
				break;
			}
		}
		res = hmtest_vf_step_state(hvdev, next_state);
		if (IS_ERR(res))
			break;
		hvdev->mig_state = next_state;
		/* Only the last arc of a combination may return a file. */
		if (WARN_ON(res && new_state != hvdev->mig_state)) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
	}
	hmtest_vf_state_mutex_unlock(hvdev);
	return res;
}

noinline int hmtest_vf_get_device_state(struct vfio_device *vdev,
					enum vfio_device_mig_state *curr_state)
{
	struct hmtest_vf_device *hvdev = hmtest_vf_from_vdev(vdev);

	mutex_lock(&hvdev->state_mutex);
	*curr_state = hvdev->mig_state;
	hmtest_vf_state_mutex_unlock(hvdev);
	return 0;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
/* VFIO_DEVICE_FEATURE_MIG_DATA_SIZE (6.2+, required there): the STOP_COPY
 * stream is the device content. */
noinline int hmtest_vf_get_data_size(struct vfio_device *vdev, unsigned long *stop_copy_length)
{
	*stop_copy_length = hmtest_vf_from_vdev(vdev)->content_len;
	return 0;
}
#endif

static const struct vfio_migration_ops hmtest_vf_mig_ops = {
	.migration_set_state = hmtest_vf_set_device_state,
	.migration_get_state = hmtest_vf_get_device_state,
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	.migration_get_data_size = hmtest_vf_get_data_size,
#endif
};

/* --- vfio_device_ops ---------------------------------------------------------- */

noinline int hmtest_vf_open_device(struct vfio_device *core_vdev)
{
	struct hmtest_vf_device *hvdev = hmtest_vf_from_vdev(core_vdev);
	int ret;

	ret = vfio_pci_core_enable(&hvdev->core_device);
	if (ret)
		return ret;
	if (core_vdev->mig_ops) {
		mutex_lock(&hvdev->state_mutex);
		hvdev->mig_state = VFIO_DEVICE_STATE_RUNNING;
		hmtest_vf_state_mutex_unlock(hvdev);
	}
	vfio_pci_core_finish_enable(&hvdev->core_device);
	return 0;
}

noinline void hmtest_vf_close_device(struct vfio_device *core_vdev)
{
	struct hmtest_vf_device *hvdev = hmtest_vf_from_vdev(core_vdev);

	if (core_vdev->mig_ops) {
		mutex_lock(&hvdev->state_mutex);
		hmtest_vf_disable_fds(hvdev);
		hmtest_vf_state_mutex_unlock(hvdev);
	}
	vfio_pci_core_close_device(core_vdev);
}

/* .init of vfio_alloc_device(): migration only if hmtest_pf owns the PF. */
noinline int hmtest_vf_init_dev(struct vfio_device *core_vdev)
{
	struct hmtest_vf_device *hvdev = hmtest_vf_from_vdev(core_vdev);
	struct pci_dev *pdev = to_pci_dev(core_vdev->dev);
	struct hmtest_pf_data *pf;
	int ret;

	hvdev->pdev = pdev;
	hvdev->vf_id = pci_iov_vf_id(pdev);
	mutex_init(&hvdev->state_mutex);
	spin_lock_init(&hvdev->reset_lock);
	hvdev->mig_state = VFIO_DEVICE_STATE_RUNNING;

	pf = pci_iov_get_pf_drvdata(pdev, hmtest_pf_get_driver());
	if (IS_ERR(pf)) {
		pci_info(pdev, "PF not bound to hmtest_pf: no migration\n");
		return vfio_pci_core_init_dev(core_vdev);
	}
	hvdev->content_len = max_t(size_t, state_size, 64);
	hvdev->content = kvmalloc(hvdev->content_len, GFP_KERNEL);
	if (!hvdev->content)
		return -ENOMEM;
	get_random_bytes(hvdev->content, hvdev->content_len);
	if (READ_ONCE(fault_cache_pf_data)) {
		hmtest_pf_data_get(pf);
		hvdev->cached_pf = pf;
		pci_info(pdev, "fault: PF drvdata cached at probe\n");
	}
	core_vdev->migration_flags = VFIO_MIGRATION_STOP_COPY;
	core_vdev->mig_ops = &hmtest_vf_mig_ops;
	ret = vfio_pci_core_init_dev(core_vdev);
	if (ret) {
		/* .release only runs for a device whose .init succeeded. */
		if (hvdev->cached_pf)
			hmtest_pf_data_put(hvdev->cached_pf);
		kvfree(hvdev->content);
		mutex_destroy(&hvdev->state_mutex);
	}
	return ret;
}

noinline void hmtest_vf_release_dev(struct vfio_device *core_vdev)
{
	struct hmtest_vf_device *hvdev = hmtest_vf_from_vdev(core_vdev);

	if (hvdev->cached_pf)
		hmtest_pf_data_put(hvdev->cached_pf);
	kvfree(hvdev->content);
	mutex_destroy(&hvdev->state_mutex);
	vfio_pci_core_release_dev(core_vdev);
}

static const struct vfio_device_ops hmtest_vf_ops = {
	.name = "hmtest-vf",
	.init = hmtest_vf_init_dev,
	.release = hmtest_vf_release_dev,
	.open_device = hmtest_vf_open_device,
	.close_device = hmtest_vf_close_device,
	.ioctl = vfio_pci_core_ioctl,
	.device_feature = vfio_pci_core_ioctl_feature,
	.read = vfio_pci_core_read,
	.write = vfio_pci_core_write,
	.mmap = vfio_pci_core_mmap,
	.request = vfio_pci_core_request,
	.match = vfio_pci_core_match,
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	/* required with CONFIG_IOMMUFD (NULL without it, as in Debian's 6.12) */
	.bind_iommufd = vfio_iommufd_physical_bind,
	.unbind_iommufd = vfio_iommufd_physical_unbind,
	.attach_ioas = vfio_iommufd_physical_attach_ioas,
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	.detach_ioas = vfio_iommufd_physical_detach_ioas,
#endif
};

/* --- sysfs: what tests compare --------------------------------------------- */

static ssize_t hmtest_status_show(struct device *dev, struct device_attribute *attr,
				  char *buf)
{
	struct hmtest_vf_device *hvdev = hmtest_vf_drvdata(to_pci_dev(dev));
	int n = 0;

	/* Racy snapshot on purpose: never wait for state_mutex here. */
	n += sysfs_emit_at(buf, n, "migration=%d\n", !!hvdev->core_device.vdev.mig_ops);
	n += sysfs_emit_at(buf, n, "mig_state=%s\n",
			   hmtest_state_name(READ_ONCE(hvdev->mig_state)));
	if (hvdev->content)
		n += sysfs_emit_at(buf, n, "content_crc=%#010x\n",
				   hmtest_crc(hvdev->content, hvdev->content_len));
	n += sysfs_emit_at(buf, n, "content_len=%zu\n", hvdev->content_len);
	n += sysfs_emit_at(buf, n, "generation=%llu\n", READ_ONCE(hvdev->generation));
	n += sysfs_emit_at(buf, n, "saved_crc=%#010x\n", READ_ONCE(hvdev->saved_crc));
	n += sysfs_emit_at(buf, n, "saved_generation=%llu\n", hvdev->saved_generation);
	n += sysfs_emit_at(buf, n, "loaded_crc=%#010x\n", READ_ONCE(hvdev->loaded_crc));
	n += sysfs_emit_at(buf, n, "loaded_generation=%llu\n", hvdev->loaded_generation);
	n += sysfs_emit_at(buf, n, "saves=%d\n", atomic_read(&hvdev->saves));
	n += sysfs_emit_at(buf, n, "loads=%d\n", atomic_read(&hvdev->loads));
	n += sysfs_emit_at(buf, n, "resets_direct=%d\n", atomic_read(&hvdev->resets_direct));
	n += sysfs_emit_at(buf, n, "resets_deferred=%d\n", atomic_read(&hvdev->resets_deferred));
	n += sysfs_emit_at(buf, n, "resets_applied=%d\n", atomic_read(&hvdev->resets_applied));
	n += sysfs_emit_at(buf, n, "stale_pf_uses=%d\n", atomic_read(&hvdev->stale_pf_uses));
	n += sysfs_emit_at(buf, n, "pf_locks=%d\n", atomic_read(&hvdev->pf_locks));
	n += sysfs_emit_at(buf, n, "pf_trylock_fails=%d\n",
			   atomic_read(&hvdev->pf_trylock_fails));
	n += sysfs_emit_at(buf, n, "injected_failures=%d\n",
			   atomic_read(&hvdev->injected_failures));
	n += sysfs_emit_at(buf, n, "illegal_arcs=%d\n", atomic_read(&hvdev->illegal_arcs));
	n += sysfs_emit_at(buf, n, "pf_works=%d\n", atomic_read(&hvdev->pf_works));
	n += sysfs_emit_at(buf, n, "last_stop_copy_ms=%llu\n",
			   READ_ONCE(hvdev->last_stop_copy_ns) / NSEC_PER_MSEC);
	return n;
}
static DEVICE_ATTR_RO(hmtest_status);

/*
 * 13: the seed bug through a kworker. Writing the VF's pf_work attribute
 * takes device_lock(VF), queues work that takes device_lock(PF) and
 * flushes it: no task ever holds both locks, but the store waits for the
 * worker under the VF lock, and pci_disable_sriov() (PF lock, then the VF's)
 * completes the circle.
 */
noinline void hmtest_vf_pf_work(struct work_struct *work)
{
	struct hmtest_vf_device *hvdev = container_of(work, struct hmtest_vf_device, pf_work);

	hmtest_vf_lock_pf(hvdev, false, false);
	atomic_inc(&hvdev->pf_works);
}

static ssize_t pf_work_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct hmtest_vf_device *hvdev = hmtest_vf_drvdata(to_pci_dev(dev));

	device_lock(dev);
	queue_work(system_wq, &hvdev->pf_work);
	flush_work(&hvdev->pf_work);
	device_unlock(dev);
	return count;
}
static DEVICE_ATTR_WO(pf_work);

static struct attribute *hmtest_vf_attrs[] = {
	&dev_attr_hmtest_status.attr,
	&dev_attr_pf_work.attr,
	NULL
};
ATTRIBUTE_GROUPS(hmtest_vf);

/* --- pci_driver ------------------------------------------------------------------ */

noinline int hmtest_vf_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct hmtest_vf_device *hvdev;
	int ret;

	if (!pdev->is_virtfn)
		return -ENODEV;
	hvdev = vfio_alloc_device(hmtest_vf_device, core_device.vdev, &pdev->dev,
				  &hmtest_vf_ops);
	if (IS_ERR(hvdev))
		return PTR_ERR(hvdev);
	dev_set_drvdata(&pdev->dev, &hvdev->core_device);
	INIT_WORK(&hvdev->pf_work, hmtest_vf_pf_work);
	if (READ_ONCE(fault_probe_pf_lock))
		hmtest_vf_lock_pf(hvdev, false, false);
	ret = vfio_pci_core_register_device(&hvdev->core_device);
	if (ret) {
		vfio_put_device(&hvdev->core_device.vdev);
		return ret;
	}
	return 0;
}

noinline void hmtest_vf_remove(struct pci_dev *pdev)
{
	struct hmtest_vf_device *hvdev = hmtest_vf_drvdata(pdev);

	cancel_work_sync(&hvdev->pf_work);
	vfio_pci_core_unregister_device(&hvdev->core_device);
	vfio_put_device(&hvdev->core_device.vdev);
}

static const struct pci_error_handlers hmtest_vf_err_handlers = {
	.reset_done = hmtest_vf_reset_done,
	.error_detected = vfio_pci_core_aer_err_detected,
};

/* Only through driver_override, like any vfio-pci variant for a generic id. */
static const struct pci_device_id hmtest_vf_ids[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_REDHAT, 0x0010) },
	{}
};
MODULE_DEVICE_TABLE(pci, hmtest_vf_ids);

static struct pci_driver hmtest_vf_driver = {
	.name = "hmtest_vf",
	.id_table = hmtest_vf_ids,
	.probe = hmtest_vf_probe,
	.remove = hmtest_vf_remove,
	.err_handler = &hmtest_vf_err_handlers,
	.driver_managed_dma = true,
	.dev_groups = hmtest_vf_groups,
};
module_pci_driver(hmtest_vf_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hisimig-trace test vfio-pci migration variant driver with fault injection");
