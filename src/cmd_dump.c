// SPDX-License-Identifier: GPL-2.0
/* hisimig-trace dump FILE: one line per record, key=value, for engineers and tests. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "event.h"

static const char dump_usage[] = "Usage: hisimig-trace dump FILE\n"
				 "Print every record of a trace file, one line each.\n\n"
				 "Examples:\n"
				 "  hisimig-trace dump migrate.hmt | grep lock-class\n";

static void print_device(FILE *out, const char *prefix, const struct hm_device *d)
{
	char bdf[HM_BDF_STR_LEN], pf[HM_BDF_STR_LEN];

	fprintf(out, " %sdev=%s %srole=%s %sdriver=%.*s %saddr=0x%" PRIx64, prefix,
		hm_bdf_format(&d->bdf, bdf), prefix, hm_role_name(d->role), prefix, HM_DRIVER_LEN,
		d->driver[0] ? d->driver : "-", prefix, (uint64_t)d->dev_addr);
	if (d->role == HM_ROLE_VF)
		fprintf(out, " %spf=%s %svf_id=%d", prefix, hm_bdf_format(&d->pf_bdf, pf), prefix,
			d->vf_id);
}

static void print_details(FILE *out, const union hm_event *ev)
{
	switch (ev->hdr.type) {
	case HM_EV_LOCK_WAIT:
	case HM_EV_LOCK_ACQUIRED:
	case HM_EV_LOCK_TRYLOCK:
	case HM_EV_LOCK_RELEASED:
		fprintf(out, " lock=0x%" PRIx64 " kind=%s call=%u subclass=%u ret=%d owner=%" PRIu64,
			(uint64_t)ev->lock.lock_addr, hm_lock_type_name(ev->lock.lock_type),
			ev->lock.call, ev->lock.subclass, ev->lock.ret, (uint64_t)ev->lock.owner_tid);
		if (ev->lock.lock_type == HM_LOCK_DEVICE_MUTEX)
			print_device(out, "", &ev->lock.dev);
		else
			fprintf(out, " origin=%u", ev->lock.origin);
		break;
	case HM_EV_LOCK_CLASS:
		fprintf(out, " lock=0x%" PRIx64 " origin=%u name=%.*s",
			(uint64_t)ev->lock_class.lock_addr, ev->lock_class.origin, HM_FUNC_LEN,
			ev->lock_class.name);
		break;
	case HM_EV_SRIOV_ENABLE_BEGIN:
	case HM_EV_SRIOV_ENABLE_END:
	case HM_EV_SRIOV_DISABLE_BEGIN:
	case HM_EV_SRIOV_DISABLE_END:
	case HM_EV_PF_REMOVED:
		fprintf(out, " num_vfs=%d ret=%d", ev->sriov.num_vfs, ev->sriov.ret);
		print_device(out, "", &ev->sriov.pf);
		break;
	case HM_EV_VF_ADDED:
	case HM_EV_VF_REMOVED:
		print_device(out, "", &ev->vf.vf);
		fprintf(out, " pf_addr=0x%" PRIx64, (uint64_t)ev->vf.pf_dev_addr);
		break;
	case HM_EV_BIND_BEGIN:
	case HM_EV_BIND_END:
	case HM_EV_UNBIND_BEGIN:
	case HM_EV_UNBIND_END:
		fprintf(out, " ret=%d", ev->bind.ret);
		print_device(out, "", &ev->bind.dev);
		break;
	case HM_EV_PF_DRVDATA:
		fprintf(out, " ret=%d result=0x%" PRIx64 " access=%u accessor=%.*s", ev->drvdata.ret,
			(uint64_t)ev->drvdata.result, ev->drvdata.access, HM_FUNC_LEN,
			ev->drvdata.accessor);
		print_device(out, "", &ev->drvdata.vf);
		print_device(out, "pf_", &ev->drvdata.pf);
		break;
	case HM_EV_VFIO_OPEN:
	case HM_EV_VFIO_CLOSE:
	case HM_EV_VFIO_UNREGISTER_BEGIN:
	case HM_EV_VFIO_UNREGISTER_END:
		fprintf(out, " ret=%d open_count=%u", ev->vfio.ret, ev->vfio.open_count);
		print_device(out, "", &ev->vfio.dev);
		break;
	case HM_EV_MIG_SET_STATE_BEGIN:
	case HM_EV_MIG_SET_STATE_END:
	case HM_EV_MIG_STEP:
		fprintf(out, " from=%s to=%s next=%s caps=0x%x ret=%d",
			hm_mig_state_name(ev->mig.from), hm_mig_state_name(ev->mig.to),
			hm_mig_state_name(ev->mig.next), ev->mig.caps, ev->mig.ret);
		print_device(out, "", &ev->mig.dev);
		break;
	case HM_EV_MIG_DATA:
		fprintf(out, " bytes=%" PRIu64 " dir=%u", (uint64_t)ev->data.bytes, ev->data.dir);
		print_device(out, "", &ev->data.dev);
		break;
	case HM_EV_DEVICE_RESET:
		fprintf(out, " kind=%u ret=%d", ev->reset.kind, ev->reset.ret);
		print_device(out, "", &ev->reset.dev);
		break;
	case HM_EV_WORK_RUN_BEGIN:
	case HM_EV_WORK_RUN_END:
	case HM_EV_WORK_FLUSH_BEGIN:
	case HM_EV_WORK_FLUSH_END:
	case HM_EV_WQ_FLUSH_BEGIN:
	case HM_EV_WQ_FLUSH_END:
	case HM_EV_COMPLETION_WAIT_BEGIN:
	case HM_EV_COMPLETION_WAIT_END:
	case HM_EV_COMPLETE:
		fprintf(out, " addr=0x%" PRIx64 " wq=0x%" PRIx64 " wq_name=%.*s func=0x%" PRIx64
			" func_name=%.*s ret=%d", (uint64_t)ev->work.work_addr,
			(uint64_t)ev->work.wq_addr, HM_DRIVER_LEN,
			ev->work.wq_name[0] ? ev->work.wq_name : "-", (uint64_t)ev->work.func,
			HM_FUNC_LEN, ev->work.func_name[0] ? ev->work.func_name : "-", ev->work.ret);
		break;
	case HM_EV_LOST:
		fprintf(out, " lost=%" PRIu64 " lost_cpu=%u", (uint64_t)ev->lost.lost,
			ev->lost.lost_cpu);
		break;
	default:
		break;
	}
}

static void print_event(FILE *out, const void *data, size_t len)
{
	union hm_event ev;

	if (!hm_event_valid(data, len)) {
		fprintf(out, "malformed len=%zu\n", len);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	memcpy(&ev, data, len);
	fprintf(out, "%" PRIu64 " %s cpu=%u pid=%u tid=%u comm=%.*s stack=%d",
		(uint64_t)ev.hdr.ts_ns, hm_event_type_name(ev.hdr.type), ev.hdr.cpu, ev.hdr.pid,
		ev.hdr.tid, HM_COMM_LEN, ev.hdr.comm[0] ? ev.hdr.comm : "-", ev.hdr.stack_id);
	print_details(out, &ev);
	fputc('\n', out);
}

static void print_record(FILE *out, const struct hm_trace_record *rec)
{
	switch (rec->kind) {
	case HM_REC_EVENT:
		print_event(out, rec->data, rec->len);
		break;
	case HM_REC_META:
		fprintf(out, "meta %.*s\n", (int)strnlen(rec->data, rec->len), (const char *)rec->data);
		break;
	case HM_REC_END: {
		struct hm_trace_end end = { 0 };

		memcpy(&end, rec->data, rec->len < sizeof(end) ? rec->len : sizeof(end));
		fprintf(out, "end events=%" PRIu64 " lost=%" PRIu64 " end_ts=%" PRIu64 "\n",
			(uint64_t)end.events, (uint64_t)end.lost, (uint64_t)end.end_mono_ns);
		break;
	}
	default:
		break; /* stack and symbol tables: see replay */
	}
}

int hm_cmd_dump(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hm_trace_reader *r;
	struct hm_trace_record rec;
	enum hm_read_status st;
	const char *path;
	char err[256];
	int opt;

	while ((opt = getopt_long(argc, argv, HM_GETOPT("h"), long_options, NULL)) != -1) {
		if (opt != 'h')
			return hm_cli_option_error("dump", opt, argv);
		fputs(dump_usage, stdout);
		return HM_EXIT_CLEAN;
	}
	if (optind != argc - 1) {
		hm_cli_error("dump needs exactly one trace FILE (see --help)");
		return HM_EXIT_USAGE;
	}
	path = argv[optind];
	r = hm_trace_reader_open(path, err, sizeof(err));
	if (!r) {
		hm_cli_error("%s: %s", path, err);
		return HM_EXIT_USAGE;
	}
	while ((st = hm_trace_read(r, &rec)) == HM_READ_OK)
		print_record(stdout, &rec);
	if (st != HM_READ_EOF)
		hm_cli_error("%s: %s", path, hm_trace_reader_error(r));
	hm_trace_reader_close(r);
	return st == HM_READ_EOF ? HM_EXIT_CLEAN : HM_EXIT_USAGE;
}
