/* SPDX-License-Identifier: GPL-2.0 */
/* The text files users hand the tool (baselines, blessed lock orders): one
 * entry a line, blank lines and lines starting with '#' skipped. */
#ifndef HM_LINE_READER_H
#define HM_LINE_READER_H

#include <stdbool.h>
#include <stddef.h>

/* One line without its line end. Returns false after writing one line to
 * err ("PATH:LINE: ..."): reading stops there. */
typedef bool (*hm_line_fn)(void *ctx, char *line, const char *path, size_t lineno, char *err,
			   size_t errlen);

/* Calls each for every entry line of path. False with one line in err when the
 * file cannot be opened or read, or each refused a line. */
bool hm_read_lines(const char *path, hm_line_fn each, void *ctx, char *err, size_t errlen);

#endif
