/* SPDX-License-Identifier: GPL-2.0 */
/* Reports written whole or not at all: a temporary file renamed over path. */
#ifndef HM_REPLACE_FILE_H
#define HM_REPLACE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* write(out, ctx) fills the file; false (nothing replaced) with a reason in err. */
bool hm_replace_file(const char *path, void (*write)(FILE *out, const void *ctx),
		     const void *ctx, char *err, size_t errlen);

#endif
