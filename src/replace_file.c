// SPDX-License-Identifier: GPL-2.0
#include "replace_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool hm_replace_file(const char *path, void (*write)(FILE *out, const void *ctx),
		     const void *ctx, char *err, size_t errlen)
{
	size_t tmplen = strlen(path) + 24;
	char *tmp = malloc(tmplen);
	FILE *out;
	bool ok;

	if (!tmp) {
		snprintf(err, errlen, "%s: out of memory", path);
		return false;
	}
	snprintf(tmp, tmplen, "%s.tmp.%ld", path, (long)getpid());
	out = fopen(tmp, "wxe");
	if (!out) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return false;
	}
	write(out, ctx);
	ok = !ferror(out);
	ok = !fclose(out) && ok;
	if (!ok)
		snprintf(err, errlen, "%s: write error", tmp);
	else if (rename(tmp, path)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		ok = false;
	}
	if (!ok)
		unlink(tmp);
	free(tmp);
	return ok;
}
