// SPDX-License-Identifier: GPL-2.0
#include "line_reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static bool is_entry(const char *line)
{
	const char *start = line + strspn(line, " \t");

	return *start && *start != '#';
}

bool hm_read_lines(const char *path, hm_line_fn each, void *ctx, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	bool ok = true;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	while (ok && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (is_entry(line))
			ok = each(ctx, line, path, lineno, err, errlen);
	}
	if (ok && ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		ok = false;
	}
	free(line);
	fclose(f);
	return ok;
}
