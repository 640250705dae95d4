/*
 * test_recovery.c - R1 (integrity.md section 11): torn-tail recovery of
 * the open segment, at every byte.
 *
 * A fixture archive is built through the store: a sealed segment, then
 * an open one with acknowledged records, then two more records appended
 * but never committed (a crash before the commit). For every offset t
 * from the start of the second-last member to the end of the file, a
 * copy of the fixture has its open segment cut at t, then optionally a
 * nonsense block appended (zeros, as when the inode size was updated
 * but the data never written; random garbage; a well-formed gzip member
 * that is not a WARC record), and store_open() recovers it. Then:
 *
 *   - every complete member (all its original bytes present: a zero
 *     block can supply the zero high bytes of a cut-off ISIZE) is kept
 *     and indexed, the unacknowledged ones as recovered (with their
 *     versions), and nothing else is indexed;
 *   - the segment is cut back to the end of the last complete member,
 *     its kept bytes unchanged, and the .torn file holds exactly the
 *     removed bytes (store_recovery.torn_bytes agrees);
 *   - the sealed segment is unchanged, byte for byte, still 0440;
 *   - every index row's bytes exist and hash to its sha256: the index
 *     never points past the end;
 *   - a second store_open finds nothing more to do, and the recovered
 *     store takes new records right after the kept bytes.
 *
 * $TMPDIR (default /dev/shm when present, else /tmp) holds the copies.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "buf.h"
#include "compress.h"
#include "hash.h"
#include "index.h"
#include "record.h"
#include "segment.h"
#include "store.h"
#include "sysio.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

#define ACCOUNT		"city-facebook"
#define WARCINFO	"software: sunarchive test\r\nformat: WARC File " \
			"Format 1.1\r\n"
#define BIG		((uint64_t)1 << 40)
#define DAY		86400
#define OPEN_SEG	"seg-000002.warc.gz"
#define SEALED_SEG	"seg-000001.warc.gz"

enum tail { TAIL_NONE, TAIL_ZEROS, TAIL_GARBAGE, TAIL_GZIP, TAIL_COUNT };
static const char *tail_names[TAIL_COUNT] = { "cut", "cut+zeros",
    "cut+garbage", "cut+foreign gzip" };

static char root[PATH_MAX];
static char err[512];

/* Failures are counted per check and reported once, with the first few
 * offsets, so the TAP output stays short over thousands of trials. */
struct tally {
	const char	*what;
	long		 bad;
	long		 first[4];
};

static void
tally(struct tally *t, int cond, long off)
{
	if (cond)
		return;
	if (t->bad < 4)
		t->first[t->bad] = off;
	t->bad++;
}

static void
tally_report(struct tally *t, long trials, const char *kind)
{
	if (!ok(t->bad == 0, "%s: %s (%ld offsets)", kind, t->what, trials))
		printf("#   failed at %ld offset(s), first: %ld %ld %ld %ld\n",
		    t->bad, t->first[0], t->bad > 1 ? t->first[1] : -1,
		    t->bad > 2 ? t->first[2] : -1,
		    t->bad > 3 ? t->first[3] : -1);
}

/* --- files ---------------------------------------------------------- */

static int
read_all(const char *path, struct buf *out)
{
	char chunk[65536];
	ssize_t n;
	int fd;

	buf_reset(out);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(out, chunk, (size_t)n);
	close(fd);
	return 0;
}

static void
write_all(const char *path, const void *p, size_t n, mode_t mode, int append)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC |
	    (append ? O_APPEND : O_TRUNC), 0600);

	if (fd < 0 || (n > 0 && write(fd, p, n) != (ssize_t)n) ||
	    (mode != 0 && fchmod(fd, mode) < 0)) {
		perror(path);
		exit(1);
	}
	close(fd);
}

static int
mode_of(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
}

static void
copy_tree(const char *from, const char *to)
{
	struct dirent *de;
	struct stat sb;
	struct buf b;
	DIR *d;

	if (mkdir(to, 0750) < 0 && errno != EEXIST) {
		perror(to);
		exit(1);
	}
	d = opendir(from);
	if (d == NULL) {
		perror(from);
		exit(1);
	}
	buf_init(&b, 0);
	while ((de = readdir(d)) != NULL) {
		char *s, *t;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		s = xasprintf("%s/%s", from, de->d_name);
		t = xasprintf("%s/%s", to, de->d_name);
		if (lstat(s, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			copy_tree(s, t);
		} else {
			read_all(s, &b);
			write_all(t, b.data, b.len, sb.st_mode & 07777, 0);
		}
		free(s);
		free(t);
	}
	closedir(d);
	buf_release(&b);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The single .torn file in quarantine/ into out; the number of them. */
static int
torn_file(const char *state, struct buf *out)
{
	char *q = xasprintf("%s/%s", state, STORE_QUARANTINE_DIR), *p;
	struct dirent *de;
	int n = 0;
	DIR *d;

	buf_reset(out);
	d = opendir(q);
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".torn-") == NULL)
			continue;
		n++;
		p = xasprintf("%s/%s", q, de->d_name);
		read_all(p, out);
		free(p);
	}
	if (d != NULL)
		closedir(d);
	free(q);
	return n;
}

/* --- the index, through a separate read-only connection ------------- */

static int64_t __attribute__((format(printf, 2, 3)))
qint(const char *state, const char *fmt, ...)
{
	char *path = xasprintf("%s/%s", state, INDEX_FILE), sql[1024];
	sqlite3_stmt *st;
	sqlite3 *db = NULL;
	int64_t v = -999;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	free(path);
	return v;
}

/*
 * Every records row: its bytes exist in its segment file and hash to
 * its sha256; rows of a segment tile it from 0. Returns the highest end
 * offset in the open segment, or -1 when any row is wrong.
 */
static int64_t
check_rows(const char *state)
{
	char *path = xasprintf("%s/%s", state, INDEX_FILE), *seg;
	char sha[HASH_HEX_LEN], loaded[256] = "";
	int64_t end = 0, open_end = 0;
	sqlite3_stmt *st;
	sqlite3 *db = NULL;
	struct buf file;
	int bad = 0;

	buf_init(&file, 0);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(db, "SELECT s.name, s.sealed IS"
	    " NULL, r.offset, r.length, r.sha256 FROM records r JOIN segments"
	    " s ON s.id = r.segment_id ORDER BY s.id, r.offset", -1, &st,
	    NULL) != SQLITE_OK) {
		sqlite3_close(db);
		free(path);
		return -1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		int open = sqlite3_column_int(st, 1);
		int64_t off = sqlite3_column_int64(st, 2);
		int64_t len = sqlite3_column_int64(st, 3);

		if (strcmp(name, loaded) != 0) {
			seg = xasprintf("%s/%s/%s%s", state, STORE_ARCHIVE_DIR,
			    name, open ? SEGMENT_SUFFIX_OPEN : "");
			read_all(seg, &file);
			free(seg);
			snprintf(loaded, sizeof(loaded), "%s", name);
			end = 0;
		}
		if (off != end || len <= 0 || (uint64_t)(off + len) >
		    file.len) {
			bad++;
			continue;
		}
		hash_sha256_hex(file.data + off, (size_t)len, sha);
		if (strcmp(sha, (const char *)sqlite3_column_text(st, 4)) != 0)
			bad++;
		end = off + len;
		if (open)
			open_end = end;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	buf_release(&file);
	free(path);
	return bad ? -1 : open_end;
}

/* --- the fixture ---------------------------------------------------- */

static int
add_version(struct store *st, const char *item_id, const char *text)
{
	struct rec_meta m;
	char hash[HASH_HEX_LEN], *canon;
	json_t *c;
	int r;

	c = json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", item_id, "text", text,
	    "author", "name", "City of Sunnyvale", "id", "1001");
	canon = record_canonical(c, hash);
	record_meta_init(&m, REC_VERSION);
	m.account = ACCOUNT;
	m.platform = "facebook";
	m.item_id = item_id;
	m.item_kind = "post";
	m.text = json_string_value(json_object_get(c, "text"));
	memcpy(m.content_hash, hash, sizeof(hash));
	r = store_add(st, &m, "application/json", canon, strlen(canon), -1);
	free(canon);
	json_decref(c);
	return r;
}

static int
open_store(struct store *st, const char *state, struct store_recovery *rec)
{
	int r;

	memset(rec, 0, sizeof(*rec));
	err[0] = '\0';
	r = store_open(st, state, BIG, DAY, WARCINFO, rec, err, sizeof(err));
	if (r < 0)
		printf("# store_open(%s): %s\n", state, err);
	return r;
}

struct fixture {
	char		 state[PATH_MAX + 32];
	struct buf	 open;		/* the open segment's bytes */
	struct buf	 sealed;	/* the sealed segment's bytes */
	uint64_t	 acked_end;	/* = start of the second-last member */
	uint64_t	 last_start;	/* start of the last member */
	int64_t		 rows;		/* records rows (acknowledged) */
	int64_t		 versions;
};

static int
build_fixture(struct fixture *fx)
{
	struct store st;
	struct store_recovery rec;
	char text[4096], *seg;
	int i, r;

	snprintf(fx->state, sizeof(fx->state), "%s/fixture", root);
	if (open_store(&st, fx->state, &rec) < 0)
		return -1;
	{
		int64_t id;

		r = index_account(&st.ix, ACCOUNT, "facebook", "1001", &id);
	}
	/* Sealed segment: warcinfo + 3 versions. */
	for (i = 0; r == 0 && i < 3; i++) {
		snprintf(text, sizeof(text), "Sealed notice %d: road works", i);
		r = add_version(&st, "1001_s", text);
	}
	if (r == 0)
		r = store_commit(&st);
	if (r == 0)
		r = store_rotate(&st);
	/* Open segment: warcinfo + 4 acknowledged versions, two batches. */
	for (i = 0; r == 0 && i < 4; i++) {
		snprintf(text, sizeof(text), "Council agenda item %d", i);
		r = add_version(&st, i < 2 ? "1001_a" : "1001_b", text);
		if (r == 0 && i % 2 == 1)
			r = store_commit(&st);
	}
	if (r < 0) {
		printf("# fixture: %s\n", strerror(-r));
		store_close(&st);
		return -1;
	}
	fx->acked_end = st.seg.size;
	/* Two more, never committed: the crash. Different sizes and items;
	 * some text so each member is a few hundred bytes. */
	for (i = 0; i < 300; i++)
		text[i] = (char)('a' + (i * 7) % 26);
	text[300] = '\0';
	r = add_version(&st, "1001_c", text);
	fx->last_start = st.seg.size;
	text[120] = '\0';
	if (r == 0)
		r = add_version(&st, "1001_d", text);
	store_close(&st);	/* rolls the open transaction back */
	if (r < 0)
		return -1;
	buf_init(&fx->open, 0);
	buf_init(&fx->sealed, 0);
	seg = xasprintf("%s/%s/%s%s", fx->state, STORE_ARCHIVE_DIR, OPEN_SEG,
	    SEGMENT_SUFFIX_OPEN);
	read_all(seg, &fx->open);
	free(seg);
	seg = xasprintf("%s/%s/%s", fx->state, STORE_ARCHIVE_DIR, SEALED_SEG);
	read_all(seg, &fx->sealed);
	free(seg);
	fx->rows = qint(fx->state, "SELECT COUNT(*) FROM records");
	fx->versions = qint(fx->state, "SELECT COUNT(*) FROM versions");
	return 0;
}

/* --- one trial: cut at t, add a tail, recover, check ---------------- */

struct checks {
	struct tally	 open_ok, kept, torn, torn_bytes, recovered, rows,
			 flagged, sealed, index, again, usable;
};

static void
checks_init(struct checks *c)
{
	memset(c, 0, sizeof(*c));
	c->open_ok.what = "store_open recovers";
	c->kept.what = "segment cut back to the last complete member, kept"
	    " bytes unchanged";
	c->torn.what = ".torn file holds exactly the removed bytes";
	c->torn_bytes.what = "store_recovery.torn_bytes = removed bytes";
	c->recovered.what = "complete unacknowledged members indexed as"
	    " recovered";
	c->rows.what = "records and versions: acknowledged + recovered";
	c->flagged.what = "recovered rows flagged recovered = 1, others 0";
	c->sealed.what = "sealed segment unchanged, 0440";
	c->index.what = "every row's bytes exist and hash right (never past"
	    " the end)";
	c->again.what = "a second store_open changes nothing";
	c->usable.what = "the store takes new records after the kept bytes";
}

static void
make_tail(enum tail kind, uint64_t t, struct buf *out)
{
	size_t i, n;

	buf_reset(out);
	switch (kind) {
	case TAIL_ZEROS:
		n = 4096 - (size_t)(t % 4096);	/* to the next "block" */
		for (i = 0; i < n; i++)
			buf_append(out, "", 1);
		break;
	case TAIL_GARBAGE:
		n = 64 + (size_t)(t * 2654435761u % 1500);
		for (i = 0; i < n; i++) {
			char c = (char)((t * 31 + i * 2654435761u) >> 7);

			buf_append(out, &c, 1);
		}
		break;
	case TAIL_GZIP: {
		static const char junk[] = "not a WARC record\r\n";

		compress_gzip(junk, sizeof(junk) - 1, out);
		break;
	}
	default:
		break;
	}
}

static void
trial(const struct fixture *fx, uint64_t t, enum tail kind,
    struct checks *c, int extra)
{
	char state[PATH_MAX + 32], *seg, *sealed;
	struct store st;
	struct store_recovery rec;
	struct buf tail, now, torn, eff;
	uint64_t good, removed;
	int64_t nrec, end;
	int complete, r;

	snprintf(state, sizeof(state), "%s/trial", root);
	rm_tree(state);
	copy_tree(fx->state, state);
	seg = xasprintf("%s/%s/%s%s", state, STORE_ARCHIVE_DIR, OPEN_SEG,
	    SEGMENT_SUFFIX_OPEN);
	sealed = xasprintf("%s/%s/%s", state, STORE_ARCHIVE_DIR, SEALED_SEG);
	buf_init(&tail, 0);
	buf_init(&now, 0);
	buf_init(&torn, 0);
	buf_init(&eff, 0);
	make_tail(kind, t, &tail);
	write_all(seg, fx->open.data, (size_t)t, 0, 0);
	if (tail.len > 0)
		write_all(seg, tail.data, tail.len, 0, 1);

	/*
	 * What recovery must find: a member is complete when all its
	 * original bytes are there, also when the tail happens to supply
	 * the last ones (the high bytes of ISIZE are zeros).
	 */
	buf_append(&eff, fx->open.data, (size_t)t);
	buf_append(&eff, tail.data, tail.len);
	complete = 0;
	good = fx->acked_end;
	if (eff.len >= fx->last_start && memcmp(eff.data + good,
	    fx->open.data + good, fx->last_start - good) == 0) {
		complete = 1;
		good = fx->last_start;
		if (eff.len >= fx->open.len && memcmp(eff.data + good,
		    fx->open.data + good, fx->open.len - good) == 0) {
			complete = 2;
			good = fx->open.len;
		}
	}
	removed = eff.len - good;

	r = open_store(&st, state, &rec);
	tally(&c->open_ok, r == 0, (long)t);
	if (r < 0)
		goto out;
	read_all(seg, &now);
	tally(&c->kept, now.len == good && memcmp(now.data, fx->open.data,
	    (size_t)good) == 0, (long)t);
	if (removed == 0)
		tally(&c->torn, torn_file(state, &torn) == 0, (long)t);
	else
		tally(&c->torn, torn_file(state, &torn) == 1 &&
		    torn.len == removed && memcmp(torn.data, eff.data + good,
		    (size_t)removed) == 0, (long)t);
	tally(&c->torn_bytes, rec.torn_bytes == removed, (long)t);
	tally(&c->recovered, rec.recovered == (uint64_t)complete, (long)t);
	nrec = qint(state, "SELECT COUNT(*) FROM records");
	tally(&c->rows, nrec == fx->rows + complete && qint(state,
	    "SELECT COUNT(*) FROM versions") == fx->versions + complete,
	    (long)t);
	tally(&c->flagged, qint(state, "SELECT COUNT(*) FROM records WHERE"
	    " recovered = 1") == complete && (complete == 0 || qint(state,
	    "SELECT MIN(offset) FROM records WHERE recovered = 1") ==
	    (int64_t)fx->acked_end), (long)t);
	read_all(sealed, &now);
	tally(&c->sealed, now.len == fx->sealed.len && memcmp(now.data,
	    fx->sealed.data, now.len) == 0 && mode_of(sealed) == 0440,
	    (long)t);
	end = check_rows(state);
	tally(&c->index, end == (int64_t)good, (long)t);
	if (extra) {
		/* Recovered once is recovered: nothing moves on reopen. */
		store_close(&st);
		r = open_store(&st, state, &rec);
		read_all(seg, &now);
		tally(&c->again, r == 0 && rec.recovered == 0 &&
		    rec.torn_bytes == 0 && now.len == good &&
		    qint(state, "SELECT COUNT(*) FROM records") == nrec,
		    (long)t);
		if (r < 0)
			goto out;
		/* And it takes the next record right after the kept bytes. */
		r = add_version(&st, "1001_e", "After recovery");
		if (r == 0)
			r = store_commit(&st);
		tally(&c->usable, r == 0 && qint(state, "SELECT MAX(offset)"
		    " FROM records r JOIN segments s ON s.id = r.segment_id"
		    " WHERE s.name = '" OPEN_SEG "'") == (int64_t)good &&
		    check_rows(state) > (int64_t)good, (long)t);
	}
	store_close(&st);
out:
	buf_release(&tail);
	buf_release(&now);
	buf_release(&torn);
	buf_release(&eff);
	free(seg);
	free(sealed);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");
	struct fixture fx;
	struct checks c;
	uint64_t t, from;
	long trials;
	int k;

	if (tmp == NULL || *tmp == '\0')
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(root, sizeof(root), "%s/sunarchive-test-recovery.XXXXXX",
	    tmp);
	if (mkdtemp(root) == NULL) {
		perror(root);
		return 1;
	}
	unsetenv("SUNARCHIVE_TEST_FAULTS");
	sysio_init();
	if (!ok(build_fixture(&fx) == 0, "fixture: sealed segment, open"
	    " segment, two unacknowledged members")) {
		rm_tree(root);
		return tap_done();
	}
	ok(fx.acked_end < fx.last_start && fx.last_start < fx.open.len,
	    "fixture: member bounds %llu < %llu < %zu",
	    (unsigned long long)fx.acked_end,
	    (unsigned long long)fx.last_start, fx.open.len);
	is_int(check_rows(fx.state), (int64_t)fx.acked_end,
	    "fixture: the index ends at the acknowledged end");

	from = fx.acked_end;
	for (k = 0; k < TAIL_COUNT; k++) {
		checks_init(&c);
		trials = 0;
		for (t = from; t <= fx.open.len; t++) {
			/* Every byte for the plain cut and for zeros and
			 * garbage; the foreign member at every 16th. */
			if (k == TAIL_GZIP && (t - from) % 16 != 0 &&
			    t != fx.last_start && t != fx.open.len)
				continue;
			trial(&fx, t, (enum tail)k, &c,
			    t % 97 == 0 || t == fx.last_start ||
			    t == fx.open.len || t == from);
			trials++;
		}
		tally_report(&c.open_ok, trials, tail_names[k]);
		tally_report(&c.kept, trials, tail_names[k]);
		tally_report(&c.torn, trials, tail_names[k]);
		tally_report(&c.torn_bytes, trials, tail_names[k]);
		tally_report(&c.recovered, trials, tail_names[k]);
		tally_report(&c.rows, trials, tail_names[k]);
		tally_report(&c.flagged, trials, tail_names[k]);
		tally_report(&c.sealed, trials, tail_names[k]);
		tally_report(&c.index, trials, tail_names[k]);
		tally_report(&c.again, trials, tail_names[k]);
		tally_report(&c.usable, trials, tail_names[k]);
	}
	buf_release(&fx.open);
	buf_release(&fx.sealed);
	rm_tree(root);
	return tap_done();
}
