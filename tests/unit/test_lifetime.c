// SPDX-License-Identifier: GPL-2.0
/* PF/VF lifetime analyzer: drvdata spans, VFs outliving SR-IOV, blocked disables. */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ULL
#define SEC 1000000000ULL

struct topo {
	struct scenario *s;
	struct hm_device pf, vf1, vf2;
	struct scn_task shell, qemu;
	struct collected out;
};

static int setup(void **state)
{
	struct topo *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->s = scn_new();
	assert_non_null(t->s);
	t->pf = scn_device("0000:75:00.0", HM_ROLE_PF, NULL, "hisi_zip");
	t->vf1 = scn_device("0000:75:00.1", HM_ROLE_VF, "0000:75:00.0", "hisi_acc_vfio_pci");
	t->vf2 = scn_device("0000:75:00.2", HM_ROLE_VF, "0000:75:00.0", "hisi_acc_vfio_pci");
	t->shell = scn_task(812, "bash");
	t->qemu = scn_task(4242, "qemu-system-aarch64");
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct topo *t = *state;

	return unit_fixture_free(&t->out, t->s, t);
}

static void bind_device(struct topo *t, const struct hm_device *dev)
{
	scn_bind(t->s, &t->shell, HM_EV_BIND_BEGIN, dev, 0);
	scn_bind(t->s, &t->shell, HM_EV_BIND_END, dev, 0);
}

static void unbind_device(struct topo *t, const struct hm_device *dev)
{
	scn_bind(t->s, &t->shell, HM_EV_UNBIND_BEGIN, dev, 0);
	scn_bind(t->s, &t->shell, HM_EV_UNBIND_END, dev, 0);
}

static void fetch(struct topo *t, const struct hm_device *vf)
{
	scn_drvdata(t->s, &t->shell, vf, &t->pf, HM_DRVDATA_FETCH, 0, "hisi_acc_get_pf_qm");
}

static void use(struct topo *t, const struct hm_device *vf, const char *accessor)
{
	scn_drvdata(t->s, &t->qemu, vf, &t->pf, HM_DRVDATA_USE, 0, accessor);
}

/* hisi_acc_vfio_pci probe: fetches the PF's hisi_qm inside probe(). */
static void probe_vf(struct topo *t, const struct hm_device *vf)
{
	scn_bind(t->s, &t->shell, HM_EV_BIND_BEGIN, vf, 0);
	fetch(t, vf);
	scn_bind(t->s, &t->shell, HM_EV_BIND_END, vf, 0);
}

static void enable_sriov(struct topo *t)
{
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_ENABLE_BEGIN, &t->pf, 2, 0);
	scn_vf(t->s, &t->shell, HM_EV_VF_ADDED, &t->vf1);
	scn_vf(t->s, &t->shell, HM_EV_VF_ADDED, &t->vf2);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_ENABLE_END, &t->pf, 2, 0);
}

static void remove_vf(struct topo *t, const struct hm_device *vf)
{
	unbind_device(t, vf);
	scn_vf(t->s, &t->shell, HM_EV_VF_REMOVED, vf);
}

static void disable_sriov(struct topo *t)
{
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
	remove_vf(t, &t->vf1);
	remove_vf(t, &t->vf2);
	scn_advance(t->s, 1000 * MS);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_END, &t->pf, 0, 0);
}

/* PF bound, SR-IOV on, both VFs probed. */
static void bring_up(struct topo *t)
{
	bind_device(t, &t->pf);
	enable_sriov(t);
	probe_vf(t, &t->vf1);
	probe_vf(t, &t->vf2);
}

static void run(struct topo *t)
{
	unit_run_analyzer(&hm_lifetime_analyzer, t->s, NULL, &t->out);
}

static union hm_event *last_event(struct topo *t)
{
	return &t->s->events[t->s->count - 1];
}

/* ---- clean sequences -------------------------------------------------- */

static void clean_lifecycle_gives_no_findings(void **state)
{
	struct topo *t = *state;

	for (int cycle = 0; cycle < 5; cycle++) {
		bring_up(t);
		scn_vfio(t->s, &t->qemu, HM_EV_VFIO_OPEN, &t->vf1, 0);
		use(t, &t->vf1, "vf_qm_get_match_data");
		scn_vfio(t->s, &t->qemu, HM_EV_VFIO_CLOSE, &t->vf1, 0);
		disable_sriov(t);
		unbind_device(t, &t->pf);
		scn_advance(t->s, 200 * MS);
	}
	unit_run_engine(t->s, NULL, &t->out);
	assert_int_equal(t->out.n, 0);
}

static void drvdata_fetched_during_probe_is_fine(void **state)
{
	struct topo *t = *state;

	bring_up(t);
	run(t);
	assert_int_equal(t->out.n, 0);
}

static void drvdata_during_vf_remove_is_inside_bind(void **state)
{
	struct topo *t = *state;

	bring_up(t);
	scn_bind(t->s, &t->shell, HM_EV_UNBIND_BEGIN, &t->vf1, 0);
	use(t, &t->vf1, "hisi_acc_vf_disable_fds");
	scn_bind(t->s, &t->shell, HM_EV_UNBIND_END, &t->vf1, 0);
	run(t);
	assert_int_equal(t->out.n, 0);
}

/* PF remove() calling pci_disable_sriov() first: the VF drivers removed inside
 * it may still use the PF's drvdata. */
static void drvdata_inside_pf_remove_disable_is_fine(void **state)
{
	struct topo *t = *state;

	bring_up(t);
	scn_bind(t->s, &t->shell, HM_EV_UNBIND_BEGIN, &t->pf, 0);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
	scn_bind(t->s, &t->shell, HM_EV_UNBIND_BEGIN, &t->vf1, 0);
	use(t, &t->vf1, "vf_qm_get_match_data");
	scn_bind(t->s, &t->shell, HM_EV_UNBIND_END, &t->vf1, 0);
	scn_vf(t->s, &t->shell, HM_EV_VF_REMOVED, &t->vf1);
	remove_vf(t, &t->vf2);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_END, &t->pf, 0, 0);
	scn_bind(t->s, &t->shell, HM_EV_UNBIND_END, &t->pf, 0);
	unit_run_engine(t->s, NULL, &t->out);
	assert_int_equal(t->out.n, 0);
}

/* Once pci_disable_sriov() returned, the PF driver may free its drvdata. */
static void drvdata_after_pf_remove_disabled_sriov_is_error(void **state)
{
	struct topo *t = *state;

	bring_up(t);
	scn_bind(t->s, &t->shell, HM_EV_UNBIND_BEGIN, &t->pf, 0);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
	remove_vf(t, &t->vf2);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_END, &t->pf, 0, 0);
	use(t, &t->vf1, "vf_qm_get_match_data");
	run(t);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_DRVDATA_AFTER_PF_UNBIND), 1);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_VF_OUTLIVES_SRIOV), 1);
	assert_int_equal(t->out.n, 2);
}

/* The trace may start after everything was bound. */
static void unseen_bindings_are_assumed_bound(void **state)
{
	struct topo *t = *state;

	use(t, &t->vf1, "vf_qm_get_match_data");
	run(t);
	assert_int_equal(t->out.n, 0);
}

/* ---- PF driver data after PF unbind ------------------------------------ */

static void drvdata_after_pf_unbind_begin_is_error(void **state)
{
	struct topo *t = *state;
	int32_t stack;
	const struct hm_finding *f;

	bring_up(t);
	scn_bind(t->s, &t->shell, HM_EV_UNBIND_BEGIN, &t->pf, 0);
	stack = scn_stack(t->s, "hisi_acc_check_int_state", "hisi_acc_vf_stop_device",
			  "hisi_acc_vfio_pci_set_device_state", NULL);
	/* accessor[] holds 23 characters: longer kernel names are cut */
	use(t, &t->vf1, "vf_qm_check_match");
	last_event(t)->hdr.stack_id = stack;
	run(t);

	assert_int_equal(t->out.n, 1);
	f = unit_find_kind(&t->out, HM_FIND_DRVDATA_AFTER_PF_UNBIND);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_ERROR);
	assert_int_equal(f->ndevices, 2);
	assert_int_equal(f->devices[0].dev_addr, t->vf1.dev_addr);
	assert_int_equal(f->devices[1].dev_addr, t->pf.dev_addr);
	assert_true(f->nevidence >= 2);
	assert_int_equal(f->evidence[0].stack_id, stack);
	assert_int_equal(f->evidence[0].tid, 4242);
	assert_non_null(strstr(f->summary, "vf_qm_check_match"));
	assert_non_null(strstr(f->summary, "hisi_zip began unbinding"));
	assert_non_null(strstr(f->summary, "0000:75:00.1"));
}

static void drvdata_after_pf_unbound_is_error(void **state)
{
	struct topo *t = *state;

	bring_up(t);
	unbind_device(t, &t->pf);
	use(t, &t->vf2, "vf_qm_get_match_data");
	run(t);
	/* the PF driver left SR-IOV enabled: that is a finding of its own */
	assert_int_equal(t->out.n, 2);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_SRIOV_LEFT_ENABLED), 1);
	assert_non_null(strstr(unit_find_kind(&t->out, HM_FIND_DRVDATA_AFTER_PF_UNBIND)->summary,
			       "finished unbinding"));
}

static void drvdata_after_pf_rebind_is_fine(void **state)
{
	struct topo *t = *state;

	bring_up(t);
	unbind_device(t, &t->pf);
	bind_device(t, &t->pf);
	use(t, &t->vf1, "vf_qm_get_match_data");
	run(t);
	assert_int_equal(t->out.n, 1);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_SRIOV_LEFT_ENABLED), 1);
}

/* The use hook reports the PF drvdata the PCI core holds now: NULL once the
 * PF driver is gone, while the VF still dereferences its cached copy. */
static void use_seeing_null_pf_drvdata_is_error(void **state)
{
	struct topo *t = *state;

	bring_up(t);
	unbind_device(t, &t->pf);
	use(t, &t->vf1, "hmtest_vf_use_pf_data");
	t->s->events[t->s->count - 1].drvdata.result = 0;
	run(t);
	assert_int_equal(t->out.n, 2);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_SRIOV_LEFT_ENABLED), 1);
	assert_non_null(strstr(unit_find_kind(&t->out, HM_FIND_DRVDATA_AFTER_PF_UNBIND)->evidence[0].label,
			       "cached by the VF"));
}

/* A use function that failed (its own fetch was refused) used nothing. */
static void failed_use_is_not_reported(void **state)
{
	struct topo *t = *state;

	bring_up(t);
	unbind_device(t, &t->pf);
	scn_drvdata(t->s, &t->qemu, &t->vf1, &t->pf, HM_DRVDATA_USE, -EINVAL,
		    "hmtest_vf_use_pf_data");
	run(t);
	assert_int_equal(t->out.n, 1);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_SRIOV_LEFT_ENABLED), 1);
}

/* pci_iov_get_pf_drvdata() returning ERR_PTR reached nothing. */
static void refused_fetch_is_not_reported(void **state)
{
	struct topo *t = *state;

	bring_up(t);
	unbind_device(t, &t->pf);
	scn_drvdata(t->s, &t->shell, &t->vf1, &t->pf, HM_DRVDATA_FETCH, -EINVAL,
		    "hisi_acc_get_pf_qm");
	run(t);
	assert_int_equal(t->out.n, 1);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_SRIOV_LEFT_ENABLED), 1);
}

static void one_finding_per_accessor(void **state)
{
	struct topo *t = *state;

	bring_up(t);
	scn_bind(t->s, &t->shell, HM_EV_UNBIND_BEGIN, &t->pf, 0);
	for (int i = 0; i < 10; i++) {
		use(t, &t->vf1, "vf_qm_get_match_data");
		use(t, &t->vf1, "vf_qm_check_match");
	}
	unit_run_engine(t->s, NULL, &t->out);
	assert_int_equal(t->out.n, 2);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_DRVDATA_AFTER_PF_UNBIND), 2);
	assert_int_not_equal(t->out.items[0].fingerprint, t->out.items[1].fingerprint);
}

/* ---- outside the VF's bound span ---------------------------------------- */

static void drvdata_after_vf_unbind_is_outside_bind(void **state)
{
	struct topo *t = *state;
	const struct hm_finding *f;

	bring_up(t);
	unbind_device(t, &t->vf1);
	use(t, &t->vf1, "vf_qm_cache_wb");
	run(t);
	assert_int_equal(t->out.n, 1);
	f = unit_find_kind(&t->out, HM_FIND_DRVDATA_OUTSIDE_BIND);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_ERROR);
	assert_int_equal(f->devices[0].dev_addr, t->vf1.dev_addr);
	assert_int_equal(f->devices[1].dev_addr, t->pf.dev_addr);
	assert_non_null(strstr(f->summary, "vf_qm_cache_wb"));
	assert_non_null(strstr(f->summary, "VF driver hisi_acc_vfio_pci finished unbinding"));
}

static void drvdata_from_unprobed_vf_is_outside_bind(void **state)
{
	struct topo *t = *state;

	bind_device(t, &t->pf);
	enable_sriov(t);
	fetch(t, &t->vf2);
	run(t);
	assert_int_equal(t->out.n, 1);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_DRVDATA_OUTSIDE_BIND), 1);
	assert_non_null(strstr(t->out.items[0].summary, "no driver probed it"));
}

static void drvdata_after_failed_probe_is_outside_bind(void **state)
{
	struct topo *t = *state;

	bind_device(t, &t->pf);
	enable_sriov(t);
	scn_bind(t->s, &t->shell, HM_EV_BIND_BEGIN, &t->vf1, 0);
	scn_bind(t->s, &t->shell, HM_EV_BIND_END, &t->vf1, -ENODEV);
	use(t, &t->vf1, "vf_qm_get_match_data");
	run(t);
	assert_int_equal(t->out.n, 1);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_DRVDATA_OUTSIDE_BIND), 1);
	assert_non_null(strstr(t->out.items[0].summary, "failed (-19)"));
}

/* ---- VFs outliving SR-IOV ------------------------------------------------ */

static void vf_present_after_disable_end_is_error(void **state)
{
	struct topo *t = *state;
	const struct hm_finding *f;

	bring_up(t);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
	remove_vf(t, &t->vf1);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_END, &t->pf, 0, 0);
	run(t);
	assert_int_equal(t->out.n, 1);
	f = unit_find_kind(&t->out, HM_FIND_VF_OUTLIVES_SRIOV);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_ERROR);
	assert_int_equal(f->ndevices, 2);
	assert_int_equal(f->devices[0].dev_addr, t->pf.dev_addr);
	assert_int_equal(f->devices[1].dev_addr, t->vf2.dev_addr);
	assert_non_null(strstr(f->summary, "0000:75:00.2"));
	assert_null(strstr(f->summary, "0000:75:00.1"));
}

static void all_vfs_removed_before_disable_end_is_fine(void **state)
{
	struct topo *t = *state;

	bring_up(t);
	disable_sriov(t);
	/* a VF of another PF does not count */
	{
		struct hm_device other = scn_device("0000:76:00.1", HM_ROLE_VF, "0000:76:00.0", "");

		scn_vf(t->s, &t->shell, HM_EV_VF_ADDED, &other);
		scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
		scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_END, &t->pf, 0, 0);
	}
	run(t);
	assert_int_equal(t->out.n, 0);
}

/* ---- SR-IOV disable blocked ---------------------------------------------- */

/* QEMU holds VF1 open; echo 0 > sriov_numvfs waits in the VFIO request loop. */
static void disable_blocked_12s_names_vfio_user(void **state)
{
	struct topo *t = *state;
	const struct hm_finding *f;

	bring_up(t);
	scn_vfio(t->s, &t->qemu, HM_EV_VFIO_OPEN, &t->vf1, 0);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
	scn_bind(t->s, &t->shell, HM_EV_UNBIND_BEGIN, &t->vf1, 0);
	scn_vfio(t->s, &t->shell, HM_EV_VFIO_UNREGISTER_BEGIN, &t->vf1, 0);
	scn_advance(t->s, 12 * SEC);
	scn_vfio(t->s, &t->qemu, HM_EV_VFIO_CLOSE, &t->vf1, 0);
	scn_vfio(t->s, &t->shell, HM_EV_VFIO_UNREGISTER_END, &t->vf1, 0);
	scn_bind(t->s, &t->shell, HM_EV_UNBIND_END, &t->vf1, 0);
	scn_vf(t->s, &t->shell, HM_EV_VF_REMOVED, &t->vf1);
	remove_vf(t, &t->vf2);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_END, &t->pf, 0, 0);
	unit_run_engine(t->s, NULL, &t->out);

	assert_int_equal(t->out.n, 1);
	f = unit_find_kind(&t->out, HM_FIND_SRIOV_DISABLE_BLOCKED);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_WARNING);
	assert_true(f->duration_ns >= 12 * SEC);
	assert_true(f->duration_ns < 12 * SEC + 1 * MS);
	assert_int_equal(f->ndevices, 2);
	assert_int_equal(f->devices[0].dev_addr, t->pf.dev_addr);
	assert_int_equal(f->devices[1].dev_addr, t->vf1.dev_addr);
	assert_non_null(strstr(f->summary, "qemu-system-aar"));
	assert_non_null(strstr(f->summary, "pid 4242"));
	assert_non_null(strstr(f->summary, "0000:75:00.1"));
	assert_non_null(strstr(f->summary, "vfio_unregister_group_dev"));
	assert_int_equal(f->nevidence, 3);
	assert_int_equal(f->evidence[1].pid, 4242);
}

static void disable_of_1_05s_is_fine(void **state)
{
	struct topo *t = *state;

	bring_up(t);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
	remove_vf(t, &t->vf1);
	remove_vf(t, &t->vf2);
	scn_advance(t->s, 1050 * MS);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_END, &t->pf, 0, 0);
	unit_run_engine(t->s, NULL, &t->out);
	assert_int_equal(t->out.n, 0);
}

/* Reported at the first event past the threshold, once per span. */
static void blocked_disable_reported_as_soon_as_seen_once(void **state)
{
	struct topo *t = *state;
	uint64_t begin, seen;

	bring_up(t);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
	begin = last_event(t)->hdr.ts_ns;
	scn_advance(t->s, 6 * SEC);
	scn_vfio(t->s, &t->qemu, HM_EV_VFIO_OPEN, &t->vf2, 0);
	seen = last_event(t)->hdr.ts_ns;
	scn_advance(t->s, 10 * SEC);
	scn_vfio(t->s, &t->qemu, HM_EV_VFIO_CLOSE, &t->vf2, 0);
	remove_vf(t, &t->vf1);
	remove_vf(t, &t->vf2);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_END, &t->pf, 0, 0);
	run(t);
	assert_int_equal(t->out.n, 1);
	assert_int_equal(t->out.items[0].kind, HM_FIND_SRIOV_DISABLE_BLOCKED);
	assert_int_equal(t->out.items[0].ts_ns, seen);
	assert_int_equal(t->out.items[0].duration_ns, seen - begin);
	assert_non_null(strstr(t->out.items[0].summary, "no VFIO user"));
}

/* Each span is judged on its own. */
static void every_blocked_span_is_reported(void **state)
{
	struct topo *t = *state;

	for (int span = 0; span < 2; span++) {
		scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
		scn_advance(t->s, 6 * SEC);
		scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_END, &t->pf, 0, 0);
	}
	run(t);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_SRIOV_DISABLE_BLOCKED), 2);
	assert_int_equal(t->out.n, 2);
}

static void blocked_threshold_comes_from_config(void **state)
{
	struct topo *t = *state;
	struct hm_config cfg;

	hm_config_defaults(&cfg);
	cfg.sriov_disable_warn_ns = 500 * MS;
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
	scn_advance(t->s, 1050 * MS);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_END, &t->pf, 0, 0);
	unit_run_analyzer(&hm_lifetime_analyzer, t->s, &cfg, &t->out);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_SRIOV_DISABLE_BLOCKED), 1);
	assert_true(t->out.items[0].duration_ns >= 1050 * MS);
}

/* Still blocked when the stream ends: finish() reports it. */
static void blocked_disable_still_open_at_finish(void **state)
{
	struct topo *t = *state;
	struct hm_config cfg;
	struct hm_emitter em = { .emit = unit_collect, .ctx = &t->out };
	struct unit_rig rig;
	uint64_t begin;

	hm_config_defaults(&cfg);
	bring_up(t);
	scn_vfio(t->s, &t->qemu, HM_EV_VFIO_OPEN, &t->vf2, 0);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
	begin = last_event(t)->hdr.ts_ns;
	unit_rig_open(&rig, &hm_lifetime_analyzer, &cfg, em);
	for (size_t i = 0; i < t->s->count; i++)
		unit_rig_feed(&rig, &t->s->events[i]);
	assert_int_equal(t->out.n, 0);
	unit_rig_close(&rig, begin + 7 * SEC);
	assert_int_equal(t->out.n, 1);
	assert_int_equal(t->out.items[0].kind, HM_FIND_SRIOV_DISABLE_BLOCKED);
	assert_int_equal(t->out.items[0].duration_ns, 7 * SEC);
	assert_non_null(strstr(t->out.items[0].summary, "0000:75:00.2"));
	assert_non_null(strstr(t->out.items[0].summary, "pid 4242"));
}

/* What the disable waits for when it waits for a lock: the lock and its holder. */
static void disable_blocked_on_a_vf_lock_names_its_holder(void **state)
{
	struct topo *t = *state;
	struct scn_task kworker = scn_task(77, "kworker/1:2");
	const struct hm_finding *f;

	bring_up(t);
	scn_lock(t->s, &kworker, &t->vf1, -1);
	scn_lock(t->s, &t->shell, &t->pf, -1);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
	scn_lock_wait(t->s, &t->shell, &t->vf1, -1);
	scn_advance(t->s, 6 * SEC);
	scn_unlock(t->s, &kworker, &t->vf1);
	run(t);
	assert_int_equal(t->out.n, 1);
	f = unit_find_kind(&t->out, HM_FIND_SRIOV_DISABLE_BLOCKED);
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "bash/812 waits for device_lock(0000:75:00.1"));
	assert_non_null(strstr(f->summary, "which kworker/1:2/77 holds"));
	assert_true(unit_has_device(f, &t->vf1));
	assert_int_equal(f->nevidence, 3);
	assert_int_equal(f->evidence[2].tid, 77);
}

/* Disable and a VF migration ioctl in ABBA: the deadlock report, given when
 * the cycle closed, is the one finding; a record 10 s later adds no blocked
 * warning. */
static void disable_inside_a_lock_deadlock_is_not_reported_again(void **state)
{
	struct topo *t = *state;
	struct scn_task kworker = scn_task(77, "kworker/1:2");

	bring_up(t);
	scn_lock(t->s, &t->qemu, &t->vf1, -1);
	scn_lock(t->s, &t->shell, &t->pf, -1);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
	scn_lock_wait(t->s, &t->shell, &t->vf1, -1);
	scn_lock_wait(t->s, &t->qemu, &t->pf, -1);
	scn_advance(t->s, 10 * SEC);
	scn_lock(t->s, &kworker, &t->vf2, -1);
	unit_run_engine(t->s, NULL, &t->out);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_DEADLOCK), 1);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_SRIOV_DISABLE_BLOCKED), 0);
}

/* The disable, holding the PF and VF1 locks, waits for QEMU to release VF1
 * while QEMU's vCPU thread waits for the lock of `wanted`. A kworker holds
 * VF2's lock throughout and lets it go 10 s later. */
static void vfio_user_thread_waits_during_disable(struct topo *t, const struct hm_device *wanted)
{
	struct scn_task vcpu = scn_task(4243, "CPU 0/KVM");
	struct scn_task kworker = scn_task(77, "kworker/1:2");

	vcpu.pid = t->qemu.pid;
	bring_up(t);
	scn_vfio(t->s, &t->qemu, HM_EV_VFIO_OPEN, &t->vf1, 0);
	scn_lock(t->s, &kworker, &t->vf2, -1);
	scn_lock(t->s, &t->shell, &t->pf, -1);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
	scn_lock(t->s, &t->shell, &t->vf1, -1);
	scn_vfio(t->s, &t->shell, HM_EV_VFIO_UNREGISTER_BEGIN, &t->vf1, 0);
	scn_lock_wait(t->s, &vcpu, wanted, -1);
	scn_advance(t->s, 10 * SEC);
	scn_unlock(t->s, &kworker, &t->vf2);
	unit_run_engine(t->s, NULL, &t->out);
}

/* The vCPU thread waits for the PF lock the disable holds: one deadlock,
 * across the kernel/user boundary, and no blocked warning after it. */
static void disable_inside_a_vfio_user_deadlock_is_not_reported_again(void **state)
{
	struct topo *t = *state;

	vfio_user_thread_waits_during_disable(t, &t->pf);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_DEADLOCK), 1);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_SRIOV_DISABLE_BLOCKED), 0);
}

/* The vCPU thread waits for VF2, which the kworker holds: no deadlock, and
 * the long wait is reported, naming the user. */
static void vfio_user_blocked_elsewhere_still_gives_the_warning(void **state)
{
	struct topo *t = *state;

	vfio_user_thread_waits_during_disable(t, &t->vf2);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_DEADLOCK), 0);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_SRIOV_DISABLE_BLOCKED), 1);
	assert_non_null(strstr(unit_find_kind(&t->out, HM_FIND_SRIOV_DISABLE_BLOCKED)->summary,
			       "pid 4242"));
}

/* A hang makes no records: the clock alone passes the deadline (live), and
 * a recording's end counts as much as its last record (replay). */
static void blocked_disable_reported_when_only_the_clock_moves(void **state)
{
	struct topo *t = *state;
	const struct hm_finding *f;
	struct hm_engine *e;
	uint64_t begin;

	bring_up(t);
	scn_vfio(t->s, &t->qemu, HM_EV_VFIO_OPEN, &t->vf2, 0);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
	begin = last_event(t)->hdr.ts_ns;
	e = unit_engine_fed(t->s, NULL, &t->out);
	f = unit_reported_when_the_clock_passes(e, &t->out, begin, 5 * SEC,
						HM_FIND_SRIOV_DISABLE_BLOCKED);
	assert_int_equal(f->duration_ns, 6 * SEC);
	assert_non_null(strstr(f->summary, "pid 4242"));
	hm_engine_finish(e, begin + 9 * SEC);
	assert_int_equal(t->out.n, 1);
	hm_engine_free(e);
}

static void blocked_disable_judged_at_the_recordings_end(void **state)
{
	struct topo *t = *state;
	struct hm_engine *e;
	uint64_t begin;

	bring_up(t);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_DISABLE_BEGIN, &t->pf, 0, 0);
	begin = last_event(t)->hdr.ts_ns;
	e = unit_engine_fed(t->s, NULL, &t->out);
	hm_engine_advance(e, begin - 1); /* behind the records: nothing to judge */
	hm_engine_finish(e, begin + 7 * SEC);
	assert_int_equal(t->out.n, 1);
	assert_int_equal(t->out.items[0].duration_ns, 7 * SEC);
	hm_engine_free(e);
}

/* ---- PFs that go while their VFs stay ------------------------------------ */

static void pf_unbound_with_driverless_vfs_is_a_warning(void **state)
{
	struct topo *t = *state;
	const struct hm_finding *f;

	bind_device(t, &t->pf);
	enable_sriov(t);
	unbind_device(t, &t->pf);
	run(t);
	assert_int_equal(t->out.n, 1);
	f = unit_find_kind(&t->out, HM_FIND_SRIOV_LEFT_ENABLED);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_WARNING);
	assert_true(unit_has_device(f, &t->pf));
	assert_true(unit_has_device(f, &t->vf1));
	assert_true(unit_has_device(f, &t->vf2));
}

/* A bound VF driver that fetched the PF's drvdata now points into freed memory. */
static void pf_unbound_under_a_drvdata_holder_is_an_error(void **state)
{
	struct topo *t = *state;
	const struct hm_finding *f;

	bring_up(t);
	unbind_device(t, &t->pf);
	run(t);
	assert_int_equal(t->out.n, 1);
	f = unit_find_kind(&t->out, HM_FIND_SRIOV_LEFT_ENABLED);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_ERROR);
	assert_non_null(strstr(f->summary, "freed driver data"));
}

/* The VF drivers unbound first: nothing holds the PF's drvdata. */
static void pf_unbound_after_vf_drivers_left_is_a_warning(void **state)
{
	struct topo *t = *state;

	bring_up(t);
	unbind_device(t, &t->vf1);
	unbind_device(t, &t->vf2);
	unbind_device(t, &t->pf);
	run(t);
	assert_int_equal(t->out.n, 1);
	assert_int_equal(unit_find_kind(&t->out, HM_FIND_SRIOV_LEFT_ENABLED)->severity,
			 HM_SEV_WARNING);
}

static void pf_remove_that_disables_sriov_is_fine(void **state)
{
	struct topo *t = *state;

	bring_up(t);
	scn_bind(t->s, &t->shell, HM_EV_UNBIND_BEGIN, &t->pf, 0);
	disable_sriov(t);
	scn_bind(t->s, &t->shell, HM_EV_UNBIND_END, &t->pf, 0);
	scn_sriov(t->s, &t->shell, HM_EV_PF_REMOVED, &t->pf, 0, 0);
	run(t);
	assert_int_equal(t->out.n, 0);
}

static void pf_removed_with_vfs_is_an_error(void **state)
{
	struct topo *t = *state;
	const struct hm_finding *f;

	bind_device(t, &t->pf);
	enable_sriov(t);
	unbind_device(t, &t->pf);
	scn_sriov(t->s, &t->shell, HM_EV_PF_REMOVED, &t->pf, 2, 0);
	run(t);
	assert_int_equal(t->out.n, 2);
	f = unit_find_kind(&t->out, HM_FIND_PF_REMOVED_WITH_VFS);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_ERROR);
	assert_true(unit_has_device(f, &t->pf));
	assert_true(unit_has_device(f, &t->vf2));
}

static void sriov_enable_failing_over_left_vfs_is_a_warning(void **state)
{
	struct topo *t = *state;
	const struct hm_finding *f;

	bind_device(t, &t->pf);
	enable_sriov(t);
	unbind_device(t, &t->pf);
	bind_device(t, &t->pf);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_ENABLE_BEGIN, &t->pf, 2, 0);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_ENABLE_END, &t->pf, 2, -22);
	run(t);
	assert_int_equal(t->out.n, 2);
	f = unit_find_kind(&t->out, HM_FIND_SRIOV_ENABLE_FAILED);
	assert_non_null(f);
	assert_int_equal(f->severity, HM_SEV_WARNING);
	assert_non_null(strstr(f->summary, "-22"));
}

/* Once the left VFs are gone, a failing enable is the driver's own business. */
static void sriov_enable_failing_after_cleanup_is_not_reported(void **state)
{
	struct topo *t = *state;

	bind_device(t, &t->pf);
	enable_sriov(t);
	unbind_device(t, &t->pf);
	bind_device(t, &t->pf);
	disable_sriov(t);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_ENABLE_BEGIN, &t->pf, 2, 0);
	scn_sriov(t->s, &t->shell, HM_EV_SRIOV_ENABLE_END, &t->pf, 0, -12);
	run(t);
	assert_int_equal(t->out.n, 1);
	assert_int_equal(unit_count_kind(&t->out, HM_FIND_SRIOV_ENABLE_FAILED), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* A PF record without a struct device address (a corrupt or hand-made trace;
 * found by fuzzing) is not tracked: its unbind reports nothing, and does not
 * crash. */
static void pf_unbind_without_device_address_is_ignored(void **state)
{
	struct topo *t = *state;

	bring_up(t);
	t->pf.dev_addr = 0;
	unbind_device(t, &t->pf);
	run(t);
	assert_int_equal(t->out.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(clean_lifecycle_gives_no_findings),
		T(disable_blocked_on_a_vf_lock_names_its_holder),
		T(blocked_disable_reported_when_only_the_clock_moves),
		T(blocked_disable_judged_at_the_recordings_end),
		T(disable_inside_a_lock_deadlock_is_not_reported_again),
		T(disable_inside_a_vfio_user_deadlock_is_not_reported_again),
		T(vfio_user_blocked_elsewhere_still_gives_the_warning),
		T(drvdata_fetched_during_probe_is_fine),
		T(drvdata_during_vf_remove_is_inside_bind),
		T(unseen_bindings_are_assumed_bound),
		T(drvdata_inside_pf_remove_disable_is_fine),
		T(drvdata_after_pf_remove_disabled_sriov_is_error),
		T(drvdata_after_pf_unbind_begin_is_error),
		T(drvdata_after_pf_unbound_is_error),
		T(drvdata_after_pf_rebind_is_fine),
		T(use_seeing_null_pf_drvdata_is_error),
		T(failed_use_is_not_reported),
		T(refused_fetch_is_not_reported),
		T(one_finding_per_accessor),
		T(drvdata_after_vf_unbind_is_outside_bind),
		T(drvdata_from_unprobed_vf_is_outside_bind),
		T(drvdata_after_failed_probe_is_outside_bind),
		T(vf_present_after_disable_end_is_error),
		T(all_vfs_removed_before_disable_end_is_fine),
		T(disable_blocked_12s_names_vfio_user),
		T(disable_of_1_05s_is_fine),
		T(blocked_disable_reported_as_soon_as_seen_once),
		T(every_blocked_span_is_reported),
		T(blocked_threshold_comes_from_config),
		T(blocked_disable_still_open_at_finish),
		T(pf_unbound_with_driverless_vfs_is_a_warning),
		T(pf_unbound_under_a_drvdata_holder_is_an_error),
		T(pf_unbound_after_vf_drivers_left_is_a_warning),
		T(pf_remove_that_disables_sriov_is_fine),
		T(pf_removed_with_vfs_is_an_error),
		T(sriov_enable_failing_over_left_vfs_is_a_warning),
		T(sriov_enable_failing_after_cleanup_is_not_reported),
		T(pf_unbind_without_device_address_is_ignored),
	};

	return cmocka_run_group_tests_name("lifetime", tests, NULL, NULL);
}
