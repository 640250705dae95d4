/*
 * store.c - segments and index kept in step.
 *
 * Order is the durability rule: record bytes are appended and indexed in
 * an open transaction; store_commit() fdatasyncs the segment and only then
 * commits. A crash before the commit leaves complete-but-unindexed records
 * (re-indexed by recovery as "recovered") and perhaps a torn member
 * (quarantined byte for byte). A failed write or sync fails the segment:
 * it is sealed suspect and never written or synced again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compress.h"
#include "store.h"
#include "sysio.h"
#include "util.h"
#include "xalloc.h"

static int
mkdir_p(const char *path)
{
	if (mkdir(path, 0750) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

static void
store_fail(struct store *st, int err)
{
	st->failed = 1;
	if (st->err == 0)
		st->err = err;
}

/* Name for the next segment: one past the highest number in use. */
static char *
next_segment_name(struct store *st)
{
	unsigned max = 0, n;
	struct dirent *de;
	int64_t count = 0;
	DIR *d;

	index_segment_count(&st->ix, &count);
	max = (unsigned)count;
	d = opendir(st->archive_dir);
	if (d != NULL) {
		while ((de = readdir(d)) != NULL)
			if (sscanf(de->d_name, "seg-%u.warc.gz", &n) == 1 &&
			    n > max)
				max = n;
		closedir(d);
	}
	return segment_name(max + 1);
}

static int
store_new_segment(struct store *st)
{
	struct rec_meta m;
	char *name;
	int r;

	name = next_segment_name(st);
	r = segment_create(&st->seg, st->archive_dir, name);
	free(name);
	if (r < 0)
		return r;
	r = index_segment_add(&st->ix, st->seg.name, st->seg.created,
	    &st->seg.id);
	if (r < 0)
		return r;
	record_meta_init(&m, REC_WARCINFO);
	return store_add(st, &m, "application/warc-fields", st->warcinfo,
	    strlen(st->warcinfo), -1);
}

int
store_add(struct store *st, struct rec_meta *m, const char *ctype,
    const void *block, size_t len, long payload_off)
{
	char sha[HASH_HEX_LEN];
	uint64_t off;
	int r;

	if (st->failed)
		return st->err != 0 ? st->err : -EIO;
	r = index_begin(&st->ix);
	if (r < 0)
		goto fail;
	if (st->seg.fd < 0) {
		r = store_new_segment(st);
		if (r < 0)
			goto fail;
	}
	buf_reset(&st->rec);
	buf_reset(&st->member);
	r = record_to_warc(m, ctype, block, len, payload_off, &st->rec);
	if (r < 0)
		return r;	/* bad field: the caller's bug, not storage */
	r = compress_gzip(st->rec.data, st->rec.len, &st->member);
	if (r < 0)
		return r;
	r = segment_append(&st->seg, st->member.data, st->member.len, &off);
	if (r < 0)
		goto fail;
	hash_sha256_hex(st->member.data, st->member.len, sha);
	r = index_record(&st->ix, m, st->seg.id, off, st->member.len, sha, 0,
	    block, len, NULL);
	if (r < 0)
		goto fail;
	st->batch++;
	return 0;
fail:
	store_fail(st, r);
	return r;
}

int
store_commit(struct store *st)
{
	int r;

	if (st->failed)
		return st->err != 0 ? st->err : -EIO;
	if (!st->ix.in_txn)
		return 0;
	if (st->seg.fd >= 0) {
		r = segment_sync(&st->seg);
		if (r < 0)
			goto fail;
	}
	r = index_commit(&st->ix);
	if (r < 0)
		goto fail;
	st->acked += st->batch;
	st->batch = 0;
	if (st->seg.fd >= 0 && (st->seg.size >= st->max_size ||
	    util_now() - st->seg.created >= st->max_age))
		return store_rotate(st);
	return 0;
fail:
	store_fail(st, r);
	return r;
}

void
store_abandon(struct store *st)
{
	index_rollback(&st->ix);
	st->batch = 0;
}

int
store_rotate(struct store *st)
{
	char sha[HASH_HEX_LEN];
	uint64_t size;
	int r;

	if (st->seg.fd < 0)
		return 0;
	r = segment_seal(&st->seg, sha, &size);
	if (r < 0) {
		/* Keep its name: store_recover() seals it suspect. */
		st->seg.failed = 1;
		store_fail(st, r);
		return r;
	}
	r = index_segment_seal(&st->ix, st->seg.id, util_now(), size, sha, 0);
	if (r < 0)
		store_fail(st, r);
	segment_release(&st->seg);
	return r;
}

/* Recovery: index complete records past the acknowledged end. */
struct recover_ctx {
	struct store	*st;
	int64_t		 segment_id;
	uint64_t	 recovered;
};

static int
recover_member(const struct segment_member *mb, void *arg)
{
	struct recover_ctx *rc = arg;
	struct rec_meta m;
	json_t *owned = NULL;
	int r;

	r = record_from_warc(&mb->rec, &m, &owned);
	if (r < 0)
		return 1;	/* not ours: stop here, quarantine the rest */
	r = index_has_record(&rc->st->ix, m.record_id);
	if (r != 0) {
		json_decref(owned);
		return r < 0 ? r : 0;	/* an error, or already indexed */
	}
	r = index_record(&rc->st->ix, &m, rc->segment_id, mb->offset,
	    mb->length, mb->sha256, 1, mb->rec.block, mb->rec.block_len,
	    NULL);
	json_decref(owned);
	if (r == 0)
		rc->recovered++;
	return r;
}

/*
 * Recover one open segment: with reindex, index complete records past
 * `end`; quarantine everything after the last good byte.
 */
static int
recover_segment(struct store *st, int64_t id, const char *name,
    uint64_t end, int reindex, struct store_recovery *ret)
{
	struct recover_ctx rc = { st, id, 0 };
	uint64_t good = end;
	char *path, *torn = NULL;
	struct stat sb;
	int r = 0;

	path = segment_path(st->archive_dir, name, 1);
	if (stat(path, &sb) < 0) {
		r = -errno;
		goto out;
	}
	if (reindex) {
		r = segment_scan(path, end, recover_member, &rc, &good);
		if (r < 0)
			goto out;
	}
	r = segment_quarantine(path, good, st->quarantine_dir, &torn);
	if (r < 0)
		goto out;
	if (torn != NULL) {
		ret->torn_bytes += (uint64_t)sb.st_size - good;
		free(ret->torn_path);
		ret->torn_path = torn;
	} else {
		/* Make the recovered records durable before indexing them. */
		int fd = sysio.open(path, O_RDONLY, 0);

		if (fd < 0 || sysio.fsync(fd) < 0)
			r = -errno;
		if (fd >= 0)
			sysio.close(fd);
		if (r < 0)
			goto out;
	}
	ret->recovered += rc.recovered;
out:
	free(path);
	return r;
}

/* Seal the open segment `name` (row id) in place, suspect or not. */
static int
seal_by_name(struct store *st, int64_t id, const char *name, int suspect)
{
	struct segment s;
	char sha[HASH_HEX_LEN];
	uint64_t size = 0;
	int r;

	r = segment_reopen(&s, st->archive_dir, name);
	if (r == 0) {
		s.id = id;
		r = segment_seal(&s, sha, &size);
	}
	segment_release(&s);
	if (r < 0)
		return r;
	return index_segment_seal(&st->ix, id, util_now(), size, sha, suspect);
}

/* A segment the index thinks open but that was renamed before a crash. */
static int
finish_sealing(struct store *st, int64_t id, const char *name)
{
	char sha[HASH_HEX_LEN], *path;
	uint64_t size;
	int r;

	path = segment_path(st->archive_dir, name, 0);
	r = segment_file_hash(path, sha, &size);
	free(path);
	if (r < 0)
		return r;
	return index_segment_seal(&st->ix, id, util_now(), size, sha, 0);
}

/*
 * .open files with no segments row: created, then crashed before commit.
 * `failed` names the segment whose write or sync just failed: none of its
 * records was acknowledged, so it is sealed suspect with none indexed.
 */
static int
adopt_strays(struct store *st, const char *keep, const char *failed,
    struct store_recovery *ret)
{
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = opendir(st->archive_dir);
	if (d == NULL)
		return -errno;
	while (r == 0 && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char *name;
		int64_t id;

		if (n <= strlen(SEGMENT_SUFFIX_OPEN) ||
		    strcmp(de->d_name + n - strlen(SEGMENT_SUFFIX_OPEN),
		    SEGMENT_SUFFIX_OPEN) != 0)
			continue;
		name = xstrndup(de->d_name, n - strlen(SEGMENT_SUFFIX_OPEN));
		if (keep == NULL || strcmp(name, keep) != 0) {
			int suspect = failed != NULL &&
			    strcmp(name, failed) == 0;
			char *path = segment_path(st->archive_dir, name, 1);
			struct stat sb;

			if (suspect && stat(path, &sb) == 0 &&
			    sb.st_size == 0) {
				/* Never held a byte: drop, do not pile up. */
				if (unlink(path) < 0)
					r = -errno;
			} else {
				r = index_segment_add(&st->ix, name,
				    util_now(), &id);
				if (r == 0)
					r = recover_segment(st, id, name, 0,
					    !suspect, ret);
				if (r == 0)
					r = seal_by_name(st, id, name,
					    suspect);
				if (r == 0)
					ret->sealed++;
			}
			free(path);
		}
		free(name);
	}
	closedir(d);
	return r;
}

int
store_recover(struct store *st, struct store_recovery *ret)
{
	int suspect = st->failed && st->seg.fd >= 0 ? 1 : 0;
	char *name = NULL, *failed = NULL, *path;
	struct stat sb;
	uint64_t end = 0;
	int64_t id = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	index_rollback(&st->ix);
	st->batch = 0;
	if (st->seg.fd >= 0 || st->seg.name != NULL)
		suspect = st->failed;
	if (suspect && st->seg.name != NULL)
		failed = xstrdup(st->seg.name);
	segment_release(&st->seg);
	st->failed = 0;
	st->err = 0;
	r = index_begin(&st->ix);
	if (r < 0)
		goto fail;
	r = index_segment_open(&st->ix, &id, &name, &end);
	if (r == -ENOENT) {
		r = 0;
	} else if (r == 0) {
		path = segment_path(st->archive_dir, name, 1);
		if (stat(path, &sb) < 0 && errno == ENOENT) {
			r = finish_sealing(st, id, name);
		} else if (suspect || (uint64_t)sb.st_size < end) {
			/*
			 * A failed write or sync, or acknowledged bytes gone
			 * (an integrity incident for check to report): keep
			 * the acknowledged prefix and seal it suspect.
			 */
			r = recover_segment(st, id, name, end, 0, ret);
			if (r == 0 && end == 0 && sb.st_size == 0) {
				/* Never held a record (a full disk refused
				 * even its warcinfo): drop, do not pile up. */
				r = index_segment_delete(&st->ix, id);
				if (r == 0 && unlink(path) < 0)
					r = -errno;
			} else if (r == 0) {
				r = seal_by_name(st, id, name, 1);
				if (r == 0)
					ret->sealed++;
			}
		} else {
			r = recover_segment(st, id, name, end, 1, ret);
			if (r == 0)
				r = segment_reopen(&st->seg, st->archive_dir,
				    name);
			if (r == 0) {
				st->seg.id = id;
				st->seg.created = util_now();
			}
		}
		free(path);
	}
	if (r == 0)
		r = adopt_strays(st, st->seg.fd >= 0 ? name : NULL, failed,
		    ret);
	free(name);
	free(failed);
	if (r < 0)
		goto fail;
	r = index_commit(&st->ix);
	if (r < 0)
		goto fail;
	return 0;
fail:
	index_rollback(&st->ix);
	segment_release(&st->seg);
	store_fail(st, r);
	return r;
}

int
store_open(struct store *st, const char *state_dir, uint64_t max_size,
    int64_t max_age, const char *warcinfo, struct store_recovery *ret,
    char *err, size_t errlen)
{
	char *path;
	int r;

	memset(st, 0, sizeof(*st));
	st->seg.fd = -1;
	st->state_dir = xstrdup(state_dir);
	st->archive_dir = xasprintf("%s/%s", state_dir, STORE_ARCHIVE_DIR);
	st->quarantine_dir = xasprintf("%s/%s", state_dir,
	    STORE_QUARANTINE_DIR);
	st->max_size = max_size;
	st->max_age = max_age;
	st->warcinfo = xstrdup(warcinfo);
	buf_init(&st->rec, 0);
	buf_init(&st->member, 0);
	r = mkdir_p(state_dir);
	if (r == 0)
		r = mkdir_p(st->archive_dir);
	if (r == 0)
		r = mkdir_p(st->quarantine_dir);
	if (r < 0) {
		snprintf(err, errlen, "cannot create directories under '%s':"
		    " %s", state_dir, strerror(-r));
		goto fail;
	}
	path = xasprintf("%s/%s", state_dir, INDEX_FILE);
	r = index_open(&st->ix, path, 0, err, errlen);
	free(path);
	if (r < 0)
		goto fail;
	r = store_recover(st, ret);
	if (r < 0) {
		snprintf(err, errlen, "cannot recover archive in '%s': %s",
		    st->archive_dir, strerror(-r));
		goto fail;
	}
	return 0;
fail:
	store_close(st);
	return r;
}

void
store_close(struct store *st)
{
	if (st->ix.db != NULL)
		index_rollback(&st->ix);
	segment_release(&st->seg);
	index_close(&st->ix);
	buf_release(&st->rec);
	buf_release(&st->member);
	free(st->state_dir);
	free(st->archive_dir);
	free(st->quarantine_dir);
	free(st->warcinfo);
	memset(st, 0, sizeof(*st));
	st->seg.fd = -1;
}
