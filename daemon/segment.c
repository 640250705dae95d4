/*
 * segment.c - the segment writer and the open-segment recovery scan.
 *
 * Protocol (integrity.md §6): a new segment is created exclusively and
 * its directory fsynced before the first acknowledgement; members are
 * appended and made durable with fdatasync before the index row that
 * points at them is committed; a failed write or sync marks the segment
 * failed and it is never written or synced again; sealing is fsync ->
 * fchmod 0440 -> rename -> fsync(dir).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compress.h"
#include "segment.h"
#include "sysio.h"
#include "util.h"
#include "xalloc.h"

#define SEGMENT_MAX_RECORD	(256u * 1024 * 1024)

char *
segment_name(unsigned num)
{
	return xasprintf("seg-%06u.warc.gz", num);
}

char *
segment_path(const char *dir, const char *name, int open)
{
	return xasprintf("%s/%s%s", dir, name, open ? SEGMENT_SUFFIX_OPEN : "");
}

static void
segment_setup(struct segment *s, const char *dir, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->dir = xstrdup(dir);
	s->name = xstrdup(name);
	s->fd = -1;
	s->created = util_now();
}

int
segment_create(struct segment *s, const char *dir, const char *name)
{
	char *path;
	int r;

	segment_setup(s, dir, name);
	path = segment_path(dir, name, 1);
	s->fd = sysio.open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0640);
	r = s->fd < 0 ? -errno : 0;
	free(path);
	if (r == 0)
		r = sysio_fsync_dir(dir);
	if (r < 0) {
		s->failed = 1;
		segment_close(s);
	}
	return r;
}

int
segment_reopen(struct segment *s, const char *dir, const char *name)
{
	struct stat st;
	char *path;
	int r = 0;

	segment_setup(s, dir, name);
	path = segment_path(dir, name, 1);
	s->fd = sysio.open(path, O_WRONLY | O_APPEND, 0);
	if (s->fd < 0 || fstat(s->fd, &st) < 0)
		r = -errno;
	else
		s->size = s->synced = (uint64_t)st.st_size;
	free(path);
	if (r < 0)
		segment_close(s);
	return r;
}

int
segment_append(struct segment *s, const void *p, size_t n, uint64_t *ret_off)
{
	int r;

	if (s->fd < 0 || s->failed)
		return -EIO;
	r = sysio_write_all(s->fd, p, n);
	if (r < 0) {
		s->failed = 1;
		return r;
	}
	*ret_off = s->size;
	s->size += n;
	return 0;
}

int
segment_sync(struct segment *s)
{
	if (s->fd < 0 || s->failed)
		return -EIO;
	if (s->synced == s->size)
		return 0;
	if (sysio.fdatasync(s->fd) < 0) {
		s->failed = 1;	/* fsyncgate: never retry on this file */
		return -errno;
	}
	s->synced = s->size;
	return 0;
}

int
segment_seal(struct segment *s, char ret_sha[HASH_HEX_LEN],
    uint64_t *ret_size)
{
	char *from, *to;
	int r = 0;

	if (s->fd < 0)
		return -EBADF;
	if (!s->failed && sysio.fsync(s->fd) < 0)
		r = -errno;
	if (r == 0 && sysio.fchmod(s->fd, 0440) < 0)
		r = -errno;
	sysio.close(s->fd);
	s->fd = -1;
	if (r < 0)
		return r;
	from = segment_path(s->dir, s->name, 1);
	to = segment_path(s->dir, s->name, 0);
	if (sysio.rename(from, to) < 0)
		r = -errno;
	if (r == 0)
		r = sysio_fsync_dir(s->dir);
	if (r == 0)
		r = segment_file_hash(to, ret_sha, ret_size);
	free(from);
	free(to);
	return r;
}

void
segment_close(struct segment *s)
{
	if (s->fd >= 0)
		sysio.close(s->fd);
	s->fd = -1;
}

void
segment_release(struct segment *s)
{
	segment_close(s);
	free(s->dir);
	free(s->name);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

int
segment_file_hash(const char *path, char ret_sha[HASH_HEX_LEN],
    uint64_t *ret_size)
{
	unsigned char chunk[65536], md[HASH_LEN];
	struct hash_ctx h;
	uint64_t total = 0;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	hash_init(&h);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		hash_update(&h, chunk, (size_t)n);
		total += (uint64_t)n;
	}
	hash_final(&h, md);
	close(fd);
	if (r == 0) {
		util_hex(md, HASH_LEN, ret_sha);
		*ret_size = total;
	}
	return r;
}

int
segment_scan(const char *path, uint64_t from, segment_scan_fn fn, void *arg,
    uint64_t *ret_good_end)
{
	struct segment_member m;
	struct stat st;
	struct buf plain;
	unsigned char *map = NULL;
	uint64_t off = from;
	size_t used;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out_close;
	}
	if ((uint64_t)st.st_size > from) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
		    fd, 0);
		if (map == MAP_FAILED) {
			map = NULL;
			r = -errno;
			goto out_close;
		}
	}
	buf_init(&plain, 0);
	while (off < (uint64_t)st.st_size) {
		buf_reset(&plain);
		if (compress_gunzip_member(map + off, (size_t)st.st_size - off,
		    &plain, SEGMENT_MAX_RECORD, &used) < 0)
			break;
		memset(&m, 0, sizeof(m));
		if (warc_parse(plain.data, plain.len, &m.rec) < 0)
			break;
		if (m.rec.total_len != plain.len) {
			/* More than one record in a member: not ours. */
			warc_parsed_release(&m.rec);
			break;
		}
		m.offset = off;
		m.length = used;
		m.stored = map + off;
		hash_sha256_hex(m.stored, used, m.sha256);
		r = fn != NULL ? fn(&m, arg) : 0;
		warc_parsed_release(&m.rec);
		if (r != 0)
			break;
		off += used;
	}
	buf_release(&plain);
	if (map != NULL)
		munmap(map, (size_t)st.st_size);
	if (r > 0)
		r = 0;
	if (r == 0)
		*ret_good_end = off;
out_close:
	close(fd);
	return r;
}

int
segment_quarantine(const char *path, uint64_t good_end, const char *qdir,
    char **ret_torn)
{
	unsigned char chunk[65536];
	struct stat st;
	const char *base;
	char *torn = NULL;
	off_t off;
	ssize_t n;
	int fd, tfd = -1, r = 0;

	fd = sysio.open(path, O_RDWR, 0);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out_close;
	}
	if ((uint64_t)st.st_size <= good_end) {
		*ret_torn = NULL;
		goto out_close;
	}
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	torn = xasprintf("%s/%s.torn-%lld", qdir, base,
	    (long long)util_now_usec());
	tfd = sysio.open(torn, O_WRONLY | O_CREAT | O_EXCL, 0440);
	if (tfd < 0) {
		r = -errno;
		goto out_close;
	}
	for (off = (off_t)good_end; off < st.st_size; off += n) {
		n = sysio.pread(fd, chunk, sizeof(chunk), off);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			goto out_close;
		}
		r = sysio_write_all(tfd, chunk, (size_t)n);
		if (r < 0)
			goto out_close;
	}
	if (sysio.fsync(tfd) < 0) {
		r = -errno;
		goto out_close;
	}
	r = sysio_fsync_dir(qdir);
	if (r < 0)
		goto out_close;
	/* The torn bytes are safe elsewhere: now cut them off. */
	if (sysio.ftruncate(fd, (off_t)good_end) < 0 || sysio.fsync(fd) < 0) {
		r = -errno;
		goto out_close;
	}
	*ret_torn = torn;
	torn = NULL;
out_close:
	if (tfd >= 0)
		sysio.close(tfd);
	if (r < 0 && torn != NULL)
		unlink(torn);
	free(torn);
	sysio.close(fd);
	return r;
}
