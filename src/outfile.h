/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output files written whole or not at all. Data goes to PATH.partial, created
 * next to PATH (so the final rename stays on one filesystem) and only ever by
 * us; PATH itself is touched once, by the rename on commit. A run killed
 * before that leaves PATH as it was and what was flushed in PATH.partial.
 */
#ifndef HM_OUTFILE_H
#define HM_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define HM_OUTFILE_SUFFIX ".partial"

struct hm_outfile;

/* May PATH be written? false and one line in err if PATH exists and is not a
 * regular file (device node, directory, fifo, socket) or PATH.partial exists
 * (another run's or an interrupted run's data). Touches nothing. */
bool hm_outfile_check(const char *path, char *err, size_t errlen);
/* Checks, then creates PATH.partial exclusively; NULL and one line in err. */
struct hm_outfile *hm_outfile_open(const char *path, char *err, size_t errlen);
FILE *hm_outfile_stream(const struct hm_outfile *o);
const char *hm_outfile_partial(const struct hm_outfile *o);
/* Flush, fsync and rename PATH.partial over PATH. On failure (a write error
 * along the way, a full disk) PATH is left alone, PATH.partial keeps what was
 * written, and err says so. Frees o either way. */
bool hm_outfile_commit(struct hm_outfile *o, char *err, size_t errlen);
/* Nothing was worth keeping (setup failed): remove PATH.partial. NULL-safe. */
void hm_outfile_discard(struct hm_outfile *o);
/* A whole file at once (reports, baselines): write(out, ctx) fills it, then
 * commit. false with a reason in err: PATH not replaced. */
bool hm_outfile_write(const char *path, void (*write)(FILE *out, const void *ctx),
		      const void *ctx, char *err, size_t errlen);

#endif
