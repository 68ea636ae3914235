// SPDX-License-Identifier: GPL-2.0
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct hm_outfile {
	FILE *file;
	char *path;
	char *partial;
};

static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device node";
	if (S_ISFIFO(mode))
		return "a fifo";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

static char *partial_name(const char *path)
{
	char *name = malloc(strlen(path) + sizeof(HM_OUTFILE_SUFFIX));

	if (name)
		strcat(strcpy(name, path), HM_OUTFILE_SUFFIX);
	return name;
}

bool hm_outfile_check(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *partial;
	bool taken;

	if (!*path) {
		snprintf(err, errlen, "empty output file name");
		return false;
	}
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is %s: write to a regular file", path,
			 file_kind(st.st_mode));
		return false;
	}
	partial = partial_name(path);
	if (!partial) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	taken = !lstat(partial, &st);
	if (taken)
		snprintf(err, errlen, "%s exists (an interrupted run's data?): replay or move it "
				      "first", partial);
	free(partial);
	return !taken;
}

struct hm_outfile *hm_outfile_open(const char *path, char *err, size_t errlen)
{
	struct hm_outfile *o;
	struct stat target;
	int fd;

	if (!hm_outfile_check(path, err, errlen))
		return NULL;
	o = calloc(1, sizeof(*o));
	if (!o || !(o->path = strdup(path)) || !(o->partial = partial_name(path))) {
		snprintf(err, errlen, "out of memory");
		hm_outfile_discard(o);
		return NULL;
	}
	fd = open(o->partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", o->partial, strerror(errno));
		free(o->partial);
		o->partial = NULL; /* not ours: never unlink it */
		hm_outfile_discard(o);
		return NULL;
	}
	/* replacing a file keeps its permissions */
	if (!stat(path, &target))
		fchmod(fd, target.st_mode & 07777);
	o->file = fdopen(fd, "wb");
	if (!o->file) {
		snprintf(err, errlen, "cannot create %s: %s", o->partial, strerror(errno));
		close(fd);
		hm_outfile_discard(o);
		return NULL;
	}
	return o;
}

FILE *hm_outfile_stream(const struct hm_outfile *o)
{
	return o->file;
}

const char *hm_outfile_partial(const struct hm_outfile *o)
{
	return o->partial;
}

static void outfile_free(struct hm_outfile *o)
{
	free(o->path);
	free(o->partial);
	free(o);
}

bool hm_outfile_commit(struct hm_outfile *o, char *err, size_t errlen)
{
	int error = 0;
	bool ok;

	if (fflush(o->file))
		error = errno;
	if (ferror(o->file) && !error)
		error = EIO;
	if (!error && fsync(fileno(o->file)) && errno != EINVAL)
		error = errno;
	if (fclose(o->file) && !error)
		error = errno;
	if (!error && rename(o->partial, o->path))
		error = errno;
	ok = !error;
	if (!ok)
		snprintf(err, errlen, "writing %s failed (%s); what was written is in %s", o->path,
			 strerror(error), o->partial);
	outfile_free(o);
	return ok;
}

void hm_outfile_discard(struct hm_outfile *o)
{
	if (!o)
		return;
	if (o->file)
		fclose(o->file);
	if (o->partial)
		unlink(o->partial);
	outfile_free(o);
}

bool hm_outfile_write(const char *path, void (*write)(FILE *out, const void *ctx),
		      const void *ctx, char *err, size_t errlen)
{
	struct hm_outfile *o = hm_outfile_open(path, err, errlen);

	if (!o)
		return false;
	write(hm_outfile_stream(o), ctx);
	return hm_outfile_commit(o, err, errlen);
}
