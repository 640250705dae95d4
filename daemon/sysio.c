/*
 * sysio.c - system call table with test-only fault injection. The storage
 * protocol (temp -> fsync -> rename -> fsync(dir); fdatasync before
 * acknowledging) lives in the callers; this file only makes every call it
 * depends on breakable from a test.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysio.h"
#include "util.h"
#include "xalloc.h"

enum sysio_op { OP_OPEN, OP_WRITE, OP_FSYNC, OP_FDATASYNC, OP_RENAME,
    OP_FTRUNCATE, OP_COUNT };
enum sysio_action { ACT_EIO = 1, ACT_ENOSPC, ACT_CRASH, ACT_CRASH_AFTER };

static const char *op_names[OP_COUNT] = { "open", "write", "fsync",
    "fdatasync", "rename", "ftruncate" };

#define MAX_FAULTS 16
static struct {
	enum sysio_op	  op;
	long		  n;	/* 0 = every call */
	enum sysio_action act;
} faults[MAX_FAULTS];
static size_t nfaults;
static long calls[OP_COUNT];
static const char *fault_file;

/* Returns the action to take for this call, or 0. */
static enum sysio_action
fault_check(enum sysio_op op)
{
	size_t i;
	long n = ++calls[op];

	if (nfaults == 0)
		return 0;
	if (fault_file != NULL && access(fault_file, F_OK) != 0)
		return 0;
	for (i = 0; i < nfaults; i++)
		if (faults[i].op == op && (faults[i].n == 0 || faults[i].n == n))
			return faults[i].act;
	return 0;
}

/* Apply a before-call action: returns -1 with errno set to fail it. */
static int
fault_before(enum sysio_action act)
{
	switch (act) {
	case ACT_EIO:
		errno = EIO;
		return -1;
	case ACT_ENOSPC:
		errno = ENOSPC;
		return -1;
	case ACT_CRASH:
		kill(getpid(), SIGKILL);
		_exit(137);
	default:
		return 0;
	}
}

static void
fault_after(enum sysio_action act)
{
	if (act == ACT_CRASH_AFTER) {
		kill(getpid(), SIGKILL);
		_exit(137);
	}
}

#define FAULTED(op, call) do {					\
	enum sysio_action a_ = fault_check(op);			\
	if (fault_before(a_) < 0)				\
		return -1;					\
	r_ = (call);						\
	fault_after(a_);					\
} while (0)

static int
x_open(const char *path, int flags, mode_t mode)
{
	int r_;

	FAULTED(OP_OPEN, open(path, flags | O_CLOEXEC, mode));
	return r_;
}

static ssize_t
x_write(int fd, const void *p, size_t n)
{
	ssize_t r_;

	FAULTED(OP_WRITE, write(fd, p, n));
	return r_;
}

static int
x_fsync(int fd)
{
	int r_;

	FAULTED(OP_FSYNC, fsync(fd));
	return r_;
}

static int
x_fdatasync(int fd)
{
	int r_;

	FAULTED(OP_FDATASYNC, fdatasync(fd));
	return r_;
}

static int
x_rename(const char *from, const char *to)
{
	int r_;

	FAULTED(OP_RENAME, rename(from, to));
	return r_;
}

static int
x_ftruncate(int fd, off_t len)
{
	int r_;

	FAULTED(OP_FTRUNCATE, ftruncate(fd, len));
	return r_;
}

struct sysio_ops sysio = {
	.open = x_open,
	.write = x_write,
	.pread = pread,
	.fsync = x_fsync,
	.fdatasync = x_fdatasync,
	.rename = x_rename,
	.ftruncate = x_ftruncate,
	.fchmod = fchmod,
	.close = close,
};

int
sysio_init(void)
{
	static const char *act_names[] = { NULL, "eio", "enospc", "crash",
	    "crash-after" };
	const char *spec = getenv("SUNARCHIVE_TEST_FAULTS");
	char *copy, *item, *save = NULL;
	int r = 0;

	nfaults = 0;
	memset(calls, 0, sizeof(calls));
	fault_file = getenv("SUNARCHIVE_TEST_FAULT_FILE");
	if (spec == NULL || *spec == '\0')
		return 0;
	copy = xstrdup(spec);
	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		char *op = item, *n = strchr(item, ':');
		char *act = n != NULL ? strchr(n + 1, ':') : NULL;
		size_t i, j;
		int64_t v = 0;

		if (act == NULL || nfaults == MAX_FAULTS) {
			r = -EINVAL;
			break;
		}
		*n++ = '\0';
		*act++ = '\0';
		for (i = 0; i < OP_COUNT && strcmp(op_names[i], op) != 0; i++)
			;
		for (j = 1; j < ARRAY_SIZE(act_names) &&
		    strcmp(act_names[j], act) != 0; j++)
			;
		if (i == OP_COUNT || j == ARRAY_SIZE(act_names) ||
		    (strcmp(n, "*") != 0 &&
		    util_parse_int(n, 1, 1000000000, &v) < 0)) {
			r = -EINVAL;
			break;
		}
		faults[nfaults].op = i;
		faults[nfaults].n = v;
		faults[nfaults].act = j;
		nfaults++;
	}
	free(copy);
	if (r < 0)
		nfaults = 0;
	return r;
}

int
sysio_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = sysio.write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
sysio_fsync_dir(const char *dir)
{
	int fd, r = 0;

	fd = sysio.open(dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return -errno;
	if (sysio.fsync(fd) < 0)
		r = -errno;
	sysio.close(fd);
	return r;
}

int
sysio_write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	char *tmp, *dcopy;
	int fd, r;

	tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	fd = sysio.open(tmp, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0) {
		r = -errno;
		goto out_free;
	}
	r = sysio_write_all(fd, p, n);
	if (r == 0 && sysio.fsync(fd) < 0)
		r = -errno;
	sysio.close(fd);
	if (r == 0 && sysio.rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		goto out_free;
	}
	dcopy = xstrdup(path);
	r = sysio_fsync_dir(dirname(dcopy));
	free(dcopy);
out_free:
	free(tmp);
	return r;
}
