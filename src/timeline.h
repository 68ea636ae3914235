/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A timeline of a run in the Chrome trace-event JSON format, which Perfetto
 * (ui.perfetto.dev) and chrome://tracing open: device-lock holds and waits per
 * task, SR-IOV and bind/unbind spans, each device's migration state as its
 * own track, and findings as instant markers. Fed as a session observer, so
 * live runs and replays produce the same file (--timeline FILE).
 */
#ifndef HM_TIMELINE_H
#define HM_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include "observer.h"

struct hm_timeline;

/* NULL on error with one line in err. */
struct hm_timeline *hm_timeline_open(const char *path, char *err, size_t errlen);
/* What the session calls for each event and finding. */
struct hm_observer hm_timeline_observer(struct hm_timeline *tl);
/* Ends spans still open at the last event time, closes the JSON document and
 * puts it in place (FILE.partial until then, outfile.h); false if writing
 * failed. NULL-safe. */
bool hm_timeline_close(struct hm_timeline *tl);
/* No timeline after all (setup failed): FILE.partial removed. NULL-safe. */
void hm_timeline_discard(struct hm_timeline *tl);

#endif
