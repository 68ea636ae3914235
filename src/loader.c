// SPDX-License-Identifier: GPL-2.0
#include "loader.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attacher.h"
#include "hisimig/lockcfg.h"
#include "kfeatures.h"
#include "lock_names.h"
#include "record_decoder.h"
#include "ring_loss.h"

#define LATE_CHECK_NS (2ULL * 1000000000ULL)

struct hm_loader {
	struct hm_session *session;
	struct hm_kernel *kernel;
	struct hm_attacher *attacher;
	struct hm_lock_names *names;
	struct hm_record_decoder *decoder;
	struct hm_ring_loss *loss;
	struct ring_buffer *rb;
	bool verbose;
	uint64_t next_late_check;
};

uint64_t hm_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int libbpf_to_stderr(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

bool hm_loader_check_env(char *err, size_t errlen)
{
	struct hm_privileges priv;
	char lockdown[96];

	hm_privileges_get(&priv);
	if (!hm_privileges_enough(&priv)) {
		snprintf(err, errlen, "must run as root (CAP_BPF and CAP_PERFMON; " HM_HOST_GUIDE ")");
		return false;
	}
	if (!strncmp(hm_lockdown_mode(lockdown, sizeof(lockdown)), "confidentiality", 15)) {
		snprintf(err, errlen, "kernel lockdown (confidentiality) forbids BPF tracing "
				      "programs: boot with lockdown=none, which Secure Boot may forbid ("
				      HM_HOST_GUIDE ")");
		return false;
	}
	if (access(HM_VMLINUX_BTF, R_OK)) {
		snprintf(err, errlen, "%s is missing: need CONFIG_DEBUG_INFO_BTF=y (" HM_HOST_GUIDE ")",
			 HM_VMLINUX_BTF);
		return false;
	}
	return true;
}

int hm_loader_poll(struct hm_loader *l, int timeout_ms)
{
	int n = ring_buffer__poll(l->rb, timeout_ms);
	bool periodic = hm_mono_ns() >= l->next_late_check;
	uint64_t skipped = 0;

	if (n == -EINTR)
		n = 0;
	/* the BPF side wakes us only for a batch (hm_submit()): a quiet
	 * timeout still has records to read */
	if (n == 0)
		n = ring_buffer__consume(l->rb);
	/* skipped runs cost a syscall per program: every 2 s, and at the
	 * final drain (timeout 0) */
	if (periodic || timeout_ms == 0)
		skipped = hm_attacher_skipped_runs(l->attacher, NULL, 0);
	hm_ring_loss_report(l->loss, hm_mono_ns(), periodic || timeout_ms == 0 ? &skipped : NULL);
	if (periodic) {
		/* after the drain above: the records of a released lock are named */
		hm_lock_names_forget(l->names, NULL);
		hm_attacher_late(l->attacher);
		l->next_late_check = hm_mono_ns() + LATE_CHECK_NS;
	}
	hm_session_flush(l->session);
	return n < 0 ? n : 0;
}

static void phase(const struct hm_loader *l, const char *what, uint64_t t0)
{
	if (l->verbose)
		fprintf(stderr, "hisimig-trace: %8.1f ms: %s\n", (hm_mono_ns() - t0) / 1e6, what);
}

/* What the attacher needs: the options, and the known mutexes' addresses. */
static struct hm_attacher_opts attacher_opts(const struct hm_loader_opts *o,
					     const struct hm_kernel *k)
{
	struct hm_attacher_opts a = { .pref = o->pref, .lock_mode = o->lock_mode,
				      .ringbuf_bytes = o->ringbuf_bytes };

	/* full mode's bursts (an exec: hundreds of mutex and rwsem records in
	 * a millisecond) outrun the reader of the objects' 8 MiB */
	if (!a.ringbuf_bytes && a.lock_mode == HM_LOCKS_FULL)
		a.ringbuf_bytes = HM_FULL_RINGBUF_BYTES;
	for (size_t i = 0; i < hm_known_lock_count && i < HM_MAX_KNOWN_LOCKS; i++)
		hm_kernel_data_symbol(k, hm_known_locks[i].symbol, &a.known_locks[i]);
	return a;
}

static bool add_hooks(struct hm_attacher *a, const struct hm_loader_opts *o)
{
	bool fit = true;

	for (size_t i = 0; i < hm_target_count; i++)
		fit = fit && hm_attacher_add(a, &hm_targets[i]);
	for (size_t i = 0; i < hm_driver_target_count; i++)
		fit = fit && hm_attacher_add(a, &hm_driver_targets[i]);
	for (size_t i = 0; i < o->n_set_state_funcs; i++) {
		struct hm_target t = hm_driver_set_state_target(o->set_state_funcs[i]);

		fit = fit && hm_attacher_add(a, &t);
	}
	return fit;
}

/* The locks object, which owns the shared maps, then the rest. false with
 * the one line that says why nothing can be traced. */
static bool attach_all(struct hm_loader *l, uint64_t t0, char *err, size_t errlen)
{
	int lerr = hm_attacher_settle(l->attacher, HM_OBJ_LOCKS);
	const char *no_lock_hook = hm_attacher_no_lock_hook(l->attacher);

	if (lerr == -EPERM) {
		/* privileged, yet refused: lockdown without securityfs to say so */
		snprintf(err, errlen, HM_LOADER_EPERM_MSG);
		return false;
	}
	/* pci_bus_type comes from kallsyms, or (no CONFIG_KALLSYMS_ALL, as in
	 * Debian's arm64 kernels) the BPF side finds the bus by its name. */
	if (!hm_kernel_data_symbol(l->kernel, "pci_bus_type", NULL) &&
	    !hm_kernel_btf_has_func(l->kernel, "pci_device_probe", NULL)) {
		snprintf(err, errlen, "unsupported kernel: no PCI bus (needs CONFIG_PCI; " HM_HOST_GUIDE ")");
		return false;
	}
	if (lerr || no_lock_hook || hm_attacher_map_fd(l->attacher, HM_MAP_EVENTS) < 0) {
		snprintf(err, errlen, "unsupported kernel: no device-mutex hook could attach (%s; "
			 HM_HOST_GUIDE ")",
			 no_lock_hook ? no_lock_hook : strerror(-lerr));
		return false;
	}
	phase(l, "locks loaded and attached", t0);
	hm_attacher_settle(l->attacher, HM_OBJ_PCI);
	phase(l, "pci loaded and attached", t0);
	hm_attacher_settle(l->attacher, HM_OBJ_VFIO);
	hm_attacher_settle(l->attacher, HM_OBJ_DRIVER);
	phase(l, "vfio and driver hooks done", t0);
	return true;
}

struct hm_loader *hm_loader_start(const struct hm_loader_opts *o, struct hm_session *s,
				  char *err, size_t errlen)
{
	struct hm_loader *l = calloc(1, sizeof(*l));
	uint64_t t0 = hm_mono_ns();
	struct hm_attacher_opts ao;
	char ms[32];

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	libbpf_set_print(o->verbose ? libbpf_to_stderr : NULL);
	*l = (struct hm_loader){ .session = s, .verbose = o->verbose };
	l->kernel = hm_kernel_open();
	phase(l, "BTF and kallsyms read", t0);
	if (!l->kernel) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!hm_kernel_has_vmlinux_btf(l->kernel)) {
		snprintf(err, errlen, "cannot read %s: unsupported kernel (" HM_HOST_GUIDE ")",
			 HM_VMLINUX_BTF);
		goto fail;
	}
	ao = attacher_opts(o, l->kernel);
	l->attacher = hm_attacher_new(&ao, l->kernel, s);
	if (!l->attacher) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!add_hooks(l->attacher, o)) { /* a build with more targets than room: never drop one silently */
		snprintf(err, errlen, "too many hooks: more than %d attach points", HM_ATTACHER_MAX_HOOKS);
		goto fail;
	}
	hm_session_meta(s, "locks.mode", hm_lock_mode_name(o->lock_mode));
	hm_session_meta(s, "attach.preference",
			o->pref == HM_PREF_KPROBE ? "kprobe" : o->pref == HM_PREF_FENTRY ? "fentry" : "auto");
	if (!attach_all(l, t0, err, errlen))
		goto fail;
	hm_kernel_reload_symbols(l->kernel);
	l->names = hm_lock_names_new(hm_attacher_map_fd(l->attacher, HM_MAP_LEARNED), ao.known_locks);
	l->decoder = l->names ? hm_record_decoder_new(s, l->kernel,
						      hm_attacher_map_fd(l->attacher, HM_MAP_STACKS),
						      l->names)
			      : NULL;
	l->loss = hm_ring_loss_new(hm_attacher_map_fd(l->attacher, HM_MAP_LOST), s);
	if (!l->decoder || !l->loss) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	l->rb = ring_buffer__new(hm_attacher_map_fd(l->attacher, HM_MAP_EVENTS), hm_record_decode,
				 l->decoder, NULL);
	if (!l->rb) {
		snprintf(err, errlen, "failed to create the ring buffer: %s", strerror(errno));
		goto fail;
	}
	l->next_late_check = hm_mono_ns() + LATE_CHECK_NS;
	snprintf(ms, sizeof(ms), "%.1f", (hm_mono_ns() - t0) / 1e6);
	hm_session_meta(s, "load.ms", ms);
	return l;
fail:
	hm_loader_free(l);
	return NULL;
}

void hm_loader_summary(const struct hm_loader *l, char *buf, size_t len)
{
	hm_attacher_summary(l->attacher, buf, len);
}

uint64_t hm_loader_lost(const struct hm_loader *l)
{
	return hm_ring_loss_refused(l->loss);
}

bool hm_loader_skipped_by(const struct hm_loader *l, char *who, size_t wholen)
{
	who[0] = '\0';
	return hm_attacher_skipped_runs(l->attacher, who, wholen) > 0;
}

void hm_loader_free(struct hm_loader *l)
{
	if (!l)
		return;
	ring_buffer__free(l->rb);
	hm_attacher_free(l->attacher);
	hm_record_decoder_free(l->decoder);
	hm_lock_names_free(l->names);
	hm_ring_loss_free(l->loss);
	hm_kernel_free(l->kernel);
	free(l);
}
