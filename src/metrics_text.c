// SPDX-License-Identifier: GPL-2.0
/* The Prometheus text exposition format (0.0.4) of a metrics snapshot. */
#include <inttypes.h>
#include <string.h>

#include "event.h"
#include "finding.h"
#include "json.h"
#include "metrics.h"
#include "version.h"

#define SECONDS_STR_LEN 32
#define LABELS_LEN 256

/* Exact decimal seconds of ns, without trailing zeros: 1000 -> "0.000001". */
static const char *seconds(uint64_t ns, char buf[SECONDS_STR_LEN])
{
	char *end;

	snprintf(buf, SECONDS_STR_LEN, "%" PRIu64 ".%09" PRIu64, ns / UINT64_C(1000000000),
		 ns % UINT64_C(1000000000));
	end = buf + strlen(buf) - 1;
	while (*end == '0')
		*end-- = '\0';
	if (*end == '.')
		*end = '\0';
	return buf;
}

/* A label value with \, " and newline escaped as the format requires, and
 * valid UTF-8 (each invalid byte becomes U+FFFD) as it also requires. */
static const char *escape(const char *src, char *dst, size_t len)
{
	static const char replacement[] = "\xef\xbf\xbd";
	const unsigned char *p = (const unsigned char *)src;
	size_t n = 0, avail = strlen(src);

	while (*p && n + 5 < len) {
		size_t seq = hm_utf8_sequence_len(p, avail);

		if (!seq) {
			memcpy(dst + n, replacement, 3);
			n += 3;
			seq = 1;
		} else if (*p == '\\' || *p == '"' || *p == '\n') {
			dst[n++] = '\\';
			dst[n++] = *p == '\n' ? 'n' : (char)*p;
		} else if (n + seq < len) {
			memcpy(dst + n, p, seq);
			n += seq;
		} else {
			break;
		}
		p += seq;
		avail -= seq;
	}
	dst[n] = '\0';
	return dst;
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample; labels is "" or `a="x",b="y"` (no braces). */
static void sample(FILE *out, const char *name, const char *labels, uint64_t value)
{
	fprintf(out, labels[0] ? "%s{%s} %" PRIu64 "\n" : "%s%s %" PRIu64 "\n", name, labels,
		value);
}

/* _bucket (made cumulative here), _sum and _count of one histogram series. */
static void histogram(FILE *out, const char *name, const char *labels,
		      const struct hm_histogram *h, const struct hm_hist_layout *l)
{
	const char *sep = labels[0] ? "," : "";
	char le[SECONDS_STR_LEN];
	uint64_t cumulative = 0;

	for (unsigned int i = 0; i < l->nbuckets; i++) {
		cumulative += h->buckets[i];
		fprintf(out, "%s_bucket{%s%sle=\"%s\"} %" PRIu64 "\n", name, labels, sep,
			seconds(hm_hist_bound_ns(l, i), le), cumulative);
	}
	fprintf(out, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, labels, sep, h->count);
	fprintf(out, labels[0] ? "%s_sum{%s} %s\n" : "%s_sum%s %s\n", name, labels,
		seconds(h->sum_ns, le));
	fprintf(out, labels[0] ? "%s_count{%s} %" PRIu64 "\n" : "%s_count%s %" PRIu64 "\n", name,
		labels, h->count);
}

static void write_self(FILE *out, const struct hm_metrics_values *v)
{
	char labels[LABELS_LEN];

	family(out, "hisimig_build_info", "gauge",
	       "hisimig-trace version and event ABI; always 1.");
	snprintf(labels, sizeof(labels), "version=\"%s\",abi=\"%d\"", HM_VERSION, HM_ABI_VERSION);
	sample(out, "hisimig_build_info", labels, 1);

	family(out, "hisimig_attach_status", "gauge",
	       "1 if the probe of this kernel target is attached (mode: fentry, kprobe, ...), "
	       "0 if it is not (mode says why).");
	for (unsigned int i = 0; i < v->nattach; i++) {
		char target[2 * HM_ATTACH_TARGET_LEN], mode[2 * HM_ATTACH_MODE_LEN];

		snprintf(labels, sizeof(labels), "target=\"%s\",mode=\"%s\"",
			 escape(v->attach[i].target, target, sizeof(target)),
			 escape(v->attach[i].mode, mode, sizeof(mode)));
		sample(out, "hisimig_attach_status", labels, v->attach[i].attached);
	}

	family(out, "hisimig_events_total", "counter", "Trace events processed, by type.");
	for (unsigned int t = 1; t < HM_EV_TYPE_MAX; t++) {
		if (!hm_event_size(t))
			continue;
		snprintf(labels, sizeof(labels), "type=\"%s\"", hm_event_type_name(t));
		sample(out, "hisimig_events_total", labels, v->events[t]);
	}
	family(out, "hisimig_lost_events_total", "counter",
	       "Events the kernel dropped (ring buffer full): analysis is incomplete.");
	sample(out, "hisimig_lost_events_total", "", v->lost_events);
	family(out, "hisimig_untracked_device_events_total", "counter",
	       "Events about devices beyond the exporter's fixed device tables (not in "
	       "per-device series).");
	sample(out, "hisimig_untracked_device_events_total", "", v->untracked_device_events);
	family(out, "hisimig_analysis_limit_total", "counter",
	       "Records or searches a bounded table or search left out (the summary names "
	       "each limit): analysis is incomplete.");
	for (int i = 0; i < HM_LIMIT_NR; i++) {
		snprintf(labels, sizeof(labels), "limit=\"%s\"", hm_limit_name((enum hm_limit)i));
		sample(out, "hisimig_analysis_limit_total", labels, v->limits.count[i]);
	}
}

/* Sum over severities of one finding kind. */
static uint64_t finding_count(const struct hm_metrics_values *v, enum hm_finding_kind k)
{
	uint64_t n = 0;

	for (unsigned int s = 0; s <= HM_SEV_ERROR; s++)
		n += v->findings[k][s];
	return n;
}

static void write_locks(FILE *out, const struct hm_metrics_values *v)
{
	char labels[LABELS_LEN];

	family(out, "hisimig_device_lock_acquisitions_total", "counter",
	       "device_lock() acquisitions (blocking and successful trylocks), by device role.");
	for (unsigned int r = 0; r < HM_ROLES; r++) {
		snprintf(labels, sizeof(labels), "role=\"%s\"", hm_role_name(r));
		sample(out, "hisimig_device_lock_acquisitions_total", labels,
		       v->lock_acquisitions[r]);
	}
	family(out, "hisimig_device_lock_wait_seconds", "histogram",
	       "Time from asking for a device_lock() to holding it, by device role.");
	for (unsigned int r = 0; r < HM_ROLES; r++) {
		snprintf(labels, sizeof(labels), "role=\"%s\"", hm_role_name(r));
		histogram(out, "hisimig_device_lock_wait_seconds", labels, &v->lock_wait[r],
			  &hm_lock_wait_layout);
	}

	family(out, "hisimig_lock_order_violations_total", "counter",
	       "Distinct PF/VF device lock order violations (VF held, PF taken), by kind.");
	for (enum hm_finding_kind k = HM_FIND_VF_PF_ORDER; k <= HM_FIND_VF_PF_TRYLOCK; k++) {
		snprintf(labels, sizeof(labels), "kind=\"%s\"", hm_finding_kind_name(k));
		sample(out, "hisimig_lock_order_violations_total", labels, finding_count(v, k));
	}
	family(out, "hisimig_lock_cycles_total", "counter",
	       "Distinct circular lock-order dependencies (possible deadlocks).");
	sample(out, "hisimig_lock_cycles_total", "", finding_count(v, HM_FIND_LOCK_CYCLE));
	family(out, "hisimig_deadlocks_total", "counter",
	       "Distinct live deadlocks (wait-for cycles between tasks).");
	sample(out, "hisimig_deadlocks_total", "", finding_count(v, HM_FIND_DEADLOCK));
}

static void write_findings(FILE *out, const struct hm_metrics_values *v)
{
	char labels[LABELS_LEN];

	family(out, "hisimig_findings_total", "counter",
	       "Distinct findings (de-duplicated by fingerprint), by kind and severity.");
	for (enum hm_finding_kind k = 0; k < HM_FIND_KIND_MAX; k++) {
		for (enum hm_severity s = HM_SEV_INFO; s <= HM_SEV_ERROR; s++) {
			/* the kind's usual severity always, others once they happen */
			if (!v->findings[k][s] && s != hm_finding_kind_severity(k))
				continue;
			snprintf(labels, sizeof(labels), "kind=\"%s\",severity=\"%s\"",
				 hm_finding_kind_name(k), hm_severity_name(s));
			sample(out, "hisimig_findings_total", labels, v->findings[k][s]);
		}
	}
}

static void write_sriov(FILE *out, const struct hm_metrics_values *v)
{
	char labels[LABELS_LEN], pf[HM_BDF_STR_LEN];

	family(out, "hisimig_sriov_vfs", "gauge", "VFs currently enabled on a PF.");
	for (unsigned int i = 0; i < v->npfs; i++) {
		snprintf(labels, sizeof(labels), "pf=\"%s\"", hm_bdf_format(&v->pfs[i].bdf, pf));
		sample(out, "hisimig_sriov_vfs", labels, v->pfs[i].vfs);
	}
	family(out, "hisimig_sriov_changes_total", "counter",
	       "Finished SR-IOV enables and disables (sriov_numvfs writes), by PF and result.");
	for (unsigned int i = 0; i < v->npfs; i++)
		for (enum hm_sriov_op op = 0; op < HM_SRIOV_OPS; op++)
			for (unsigned int failed = 0; failed < HM_RESULTS; failed++) {
				snprintf(labels, sizeof(labels),
					 "pf=\"%s\",op=\"%s\",result=\"%s\"",
					 hm_bdf_format(&v->pfs[i].bdf, pf), hm_sriov_op_name(op),
					 hm_result_name(failed));
				sample(out, "hisimig_sriov_changes_total", labels,
				       v->pfs[i].changes[op][failed]);
			}
	family(out, "hisimig_driver_operations_total", "counter",
	       "Finished driver binds (probe) and unbinds (remove), by device role and result.");
	for (enum hm_driver_op op = 0; op < HM_DRIVER_OPS; op++)
		for (unsigned int r = 0; r < HM_ROLES; r++)
			for (unsigned int failed = 0; failed < HM_RESULTS; failed++) {
				snprintf(labels, sizeof(labels),
					 "op=\"%s\",role=\"%s\",result=\"%s\"",
					 hm_driver_op_name(op), hm_role_name(r),
					 hm_result_name(failed));
				sample(out, "hisimig_driver_operations_total", labels,
				       v->driver_ops[op][r][failed]);
			}
}

static void write_migration(FILE *out, const struct hm_metrics_values *v)
{
	char labels[LABELS_LEN], dev[HM_BDF_STR_LEN], budget[SECONDS_STR_LEN];

	family(out, "hisimig_migration_transitions_total", "counter",
	       "VFIO migration set-state requests, by current state, requested state and "
	       "result (ok, error, illegal: the FSM forbids the request).");
	for (unsigned int from = 0; from < HM_MIG_STATE_SLOTS; from++)
		for (unsigned int to = 0; to < HM_MIG_NR_STATES; to++)
			for (enum hm_mig_result r = 0; r < HM_MIG_RESULTS; r++) {
				if (!v->mig_transitions[from][to][r])
					continue;
				snprintf(labels, sizeof(labels),
					 "from=\"%s\",to=\"%s\",result=\"%s\"",
					 hm_mig_state_name(from), hm_mig_state_name(to),
					 hm_mig_result_name(r));
				sample(out, "hisimig_migration_transitions_total", labels,
				       v->mig_transitions[from][to][r]);
			}
	family(out, "hisimig_migration_state", "gauge",
	       "1 for the VFIO migration state a device is in, 0 for the others.");
	for (unsigned int i = 0; i < v->nmig_devices; i++) {
		const struct hm_mig_device_metrics *d = &v->mig_devices[i];

		if (!d->present)
			continue;
		for (unsigned int s = 0; s < HM_MIG_NR_STATES; s++) {
			snprintf(labels, sizeof(labels), "device=\"%s\",state=\"%s\"",
				 hm_bdf_format(&d->bdf, dev), hm_mig_state_name(s));
			sample(out, "hisimig_migration_state", labels, d->state == s);
		}
	}
	family(out, "hisimig_migration_downtime_seconds", "histogram",
	       "Time devices spent in STOP_COPY (device downtime of a stop-copy migration).");
	histogram(out, "hisimig_migration_downtime_seconds", "", &v->downtime,
		  &hm_downtime_layout);
	family(out, "hisimig_migration_downtime_budget_seconds", "gauge",
	       "The STOP_COPY downtime budget in effect (--mig-downtime-max-ms).");
	fprintf(out, "hisimig_migration_downtime_budget_seconds %s\n",
		seconds(v->downtime_budget_ns, budget));
	family(out, "hisimig_migration_downtime_over_budget_total", "counter",
	       "STOP_COPY stays longer than the downtime budget, by device.");
	for (unsigned int i = 0; i < v->nmig_devices; i++) {
		snprintf(labels, sizeof(labels), "device=\"%s\"",
			 hm_bdf_format(&v->mig_devices[i].bdf, dev));
		sample(out, "hisimig_migration_downtime_over_budget_total", labels,
		       v->mig_devices[i].over_budget);
	}
	family(out, "hisimig_migration_state_duration_seconds", "histogram",
	       "How long devices stayed in a VFIO migration state, observed when they left it.");
	for (unsigned int s = 0; s < HM_MIG_NR_STATES; s++) {
		snprintf(labels, sizeof(labels), "state=\"%s\"", hm_mig_state_name(s));
		histogram(out, "hisimig_migration_state_duration_seconds", labels,
			  &v->state_time[s], &hm_state_time_layout);
	}
	family(out, "hisimig_migration_data_bytes_total", "counter",
	       "Device state bytes saved (STOP_COPY/PRE_COPY) and loaded (RESUMING).");
	sample(out, "hisimig_migration_data_bytes_total", "dir=\"save\"",
	       v->mig_bytes[HM_MIG_DATA_SAVE]);
	sample(out, "hisimig_migration_data_bytes_total", "dir=\"load\"",
	       v->mig_bytes[HM_MIG_DATA_LOAD]);
}

bool hm_metrics_write_text(const struct hm_metrics_values *v, FILE *out)
{
	write_self(out, v);
	write_locks(out, v);
	write_findings(out, v);
	write_sriov(out, v);
	write_migration(out, v);
	return !ferror(out);
}
