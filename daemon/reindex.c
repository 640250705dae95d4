/*
 * reindex.c - rebuild an index from the archive alone.
 *
 * Segments are read in number order and every record is applied through
 * index_record(), the same function capture and crash recovery use, so a
 * rebuilt index says what the live one says. What the archive cannot
 * tell (poll bookkeeping: last_seen of live items, next re-check times,
 * account health, which records crash recovery indexed, suspect flags)
 * starts empty.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index.h"
#include "record.h"
#include "reindex.h"
#include "segment.h"
#include "store.h"
#include "util.h"
#include "xalloc.h"

struct seg_file {
	unsigned	 num;
	char		*name;		/* final name */
	int		 open;		/* still NAME.open */
};

static int
by_num(const void *a, const void *b)
{
	const struct seg_file *x = a, *y = b;

	return x->num < y->num ? -1 : x->num > y->num;
}

struct scan_ctx {
	struct index	*ix;
	int64_t		 segment_id;
	uint64_t	 records;
	int		 err;
};

static int
apply_member(const struct segment_member *mb, void *arg)
{
	struct scan_ctx *sc = arg;
	struct rec_meta m;
	json_t *owned = NULL;
	int r;

	r = record_from_warc(&mb->rec, &m, &owned);
	if (r < 0)
		return 1;	/* not a record of ours: stop, count as bad */
	r = index_record(sc->ix, &m, sc->segment_id, mb->offset, mb->length,
	    mb->sha256, 0, mb->rec.block, mb->rec.block_len, NULL);
	json_decref(owned);
	if (r < 0) {
		sc->err = r;
		return r;
	}
	sc->records++;
	return 0;
}

static int
list_segments(const char *dir, struct seg_file **ret, size_t *ret_n)
{
	struct seg_file *v = NULL;
	struct dirent *de;
	size_t n = 0;
	unsigned num;
	char tail[32];
	DIR *d;

	d = opendir(dir);
	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		tail[0] = '\0';
		if (sscanf(de->d_name, "seg-%u.warc.gz%31s", &num, tail) < 1)
			continue;
		if (tail[0] != '\0' && strcmp(tail, SEGMENT_SUFFIX_OPEN) != 0)
			continue;
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n].num = num;
		v[n].open = tail[0] != '\0';
		v[n].name = segment_name(num);
		n++;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), by_num);
	*ret = v;
	*ret_n = n;
	return 0;
}

int
reindex_run(const char *state_dir, const char *out_path,
    struct reindex_result *ret, char *err, size_t errlen)
{
	struct reindex_result res;
	struct seg_file *segs = NULL;
	struct index ix;
	struct stat sb;
	char *dir, *path, sha[HASH_HEX_LEN];
	size_t n = 0, i;
	uint64_t good, size;
	int r;

	memset(&res, 0, sizeof(res));
	if (stat(out_path, &sb) == 0) {
		snprintf(err, errlen, "'%s' exists; give a new file", out_path);
		return -EEXIST;
	}
	dir = xasprintf("%s/%s", state_dir, STORE_ARCHIVE_DIR);
	r = list_segments(dir, &segs, &n);
	if (r < 0) {
		snprintf(err, errlen, "cannot read '%s': %s", dir,
		    strerror(-r));
		free(dir);
		return r;
	}
	r = index_open(&ix, out_path, 0, err, errlen);
	if (r < 0)
		goto out_free;
	r = index_begin(&ix);
	for (i = 0; i < n && r == 0; i++) {
		struct scan_ctx sc = { &ix, 0, 0, 0 };

		path = segment_path(dir, segs[i].name, segs[i].open);
		if (stat(path, &sb) < 0) {
			r = -errno;
			snprintf(err, errlen, "cannot read '%s': %s", path,
			    strerror(errno));
			free(path);
			break;
		}
		r = index_segment_add(&ix, segs[i].name, sb.st_mtime,
		    &sc.segment_id);
		if (r == 0)
			r = segment_scan(path, 0, apply_member, &sc, &good);
		if (r < 0) {
			snprintf(err, errlen, "cannot index '%s': %s", path,
			    sc.err != 0 ? index_errmsg(&ix) : strerror(-r));
			free(path);
			break;
		}
		res.records += sc.records;
		res.segments++;
		if (good < (uint64_t)sb.st_size) {
			if (res.bad_bytes == 0) {
				snprintf(res.bad_file, sizeof(res.bad_file),
				    "%s", path);
				res.bad_offset = good;
			}
			res.bad_bytes += (uint64_t)sb.st_size - good;
		}
		if (!segs[i].open) {
			r = segment_file_hash(path, sha, &size);
			if (r == 0)
				r = index_segment_seal(&ix, sc.segment_id,
				    sb.st_mtime, size, sha, 0);
			if (r < 0)
				snprintf(err, errlen, "cannot hash '%s': %s",
				    path, strerror(-r));
		}
		free(path);
	}
	if (r == 0)
		r = index_commit(&ix);
	else
		index_rollback(&ix);
	index_close(&ix);
	if (r < 0)
		unlink(out_path);
	else
		*ret = res;
out_free:
	for (i = 0; i < n; i++)
		free(segs[i].name);
	free(segs);
	free(dir);
	return r;
}
