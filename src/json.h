/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one JSON string writer of the tool (NDJSON findings, timelines, probe
 * -j). Names come from the kernel and from other processes (a task's comm is
 * whatever it set with PR_SET_NAME), so they are arbitrary bytes: the output
 * is valid UTF-8 whatever the input, each invalid byte becoming U+FFFD.
 */
#ifndef HM_JSON_H
#define HM_JSON_H

#include <stddef.h>
#include <stdio.h>

/* The length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF) at the start of s[0..avail), or 0. */
size_t hm_utf8_sequence_len(const unsigned char *s, size_t avail);

/* s, NUL-terminated, as a JSON string literal (quotes included). */
void hm_json_string(FILE *out, const char *s);
/* The same for at most max bytes of s (fixed-size fields such as comm). */
void hm_json_string_n(FILE *out, const char *s, size_t max);

#endif
