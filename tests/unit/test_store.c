/*
 * test_store.c - segments and index kept in step, checked from outside
 * through a separate read-only SQLite connection and the segment files:
 *
 *   - store_open creates archive/, quarantine/ and index.sqlite (WAL,
 *     synchronous FULL);
 *   - committed versions show up as items/versions rows whose records
 *     point at stored bytes with the recorded SHA-256;
 *   - a "crash" (records added, never committed) is recovered: complete
 *     records are indexed once, as recovered, also when the segment
 *     itself was never committed;
 *   - torn bytes after the last good member are quarantined byte for
 *     byte and the segment truncated; no row points past the end;
 *   - rotation seals the segment (0440, sha256 in the index) and the
 *     next one starts with warcinfo;
 *   - an injected ENOSPC / EIO fails the store; store_recover seals the
 *     segment suspect with only acknowledged records and moves on.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
#include "warc.h"
#include "xalloc.h"

#define ACCOUNT		"city-facebook"
#define WARCINFO	"software: sunarchive test\r\nformat: WARC File " \
			"Format 1.1\r\n"
#define BIG		((uint64_t)1 << 40)
#define DAY		86400

static char root[] = "/tmp/sunarchive-test-store.XXXXXX";
static char err[512];

/* --- helpers: files ------------------------------------------------ */

static char *
path_in(const char *state, const char *rel)
{
	return xasprintf("%s/%s", state, rel);
}

static int
read_all(const char *path, struct buf *out)
{
	char chunk[8192];
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
append_bytes(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

	if (fd < 0 || write(fd, p, n) != (ssize_t)n) {
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

static int64_t
size_of(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

/* Number of quarantine files; the last one's path into found. */
static int
torn_files(const char *state, char *found, size_t len)
{
	char *q = path_in(state, STORE_QUARANTINE_DIR);
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir(q);
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".torn-") == NULL)
			continue;
		n++;
		snprintf(found, len, "%s/%s", q, de->d_name);
	}
	if (d != NULL)
		closedir(d);
	free(q);
	return n;
}

/* --- helpers: a separate read-only SQLite connection ---------------- */

static sqlite3 *
ro_open(const char *state)
{
	char *path = path_in(state, INDEX_FILE);
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		printf("# cannot open %s read-only: %s\n", path,
		    db ? sqlite3_errmsg(db) : "?");
		sqlite3_close(db);
		db = NULL;
	}
	free(path);
	return db;
}

/* One integer from a query on a fresh read-only connection; -999 on error. */
static int64_t __attribute__((format(printf, 2, 3)))
qint(const char *state, const char *fmt, ...)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	char sql[1024];
	int64_t v = -999;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	db = ro_open(state);
	if (db == NULL)
		return v;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		printf("# %s: %s\n", sql, sqlite3_errmsg(db));
	} else {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return v;
}

/* One text value (static buffer) from a query; "" on error. */
static const char * __attribute__((format(printf, 2, 3)))
qtext(const char *state, const char *fmt, ...)
{
	static char out[512];
	sqlite3_stmt *st;
	sqlite3 *db;
	char sql[1024];
	va_list ap;

	out[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	db = ro_open(state);
	if (db == NULL)
		return out;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_text(st, 0) != NULL)
			snprintf(out, sizeof(out), "%s",
			    (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	} else {
		printf("# %s: %s\n", sql, sqlite3_errmsg(db));
	}
	sqlite3_close(db);
	return out;
}

/*
 * Check every records row against the segment files: the bytes at
 * (offset, length) exist and hash to the row's sha256. Returns the number
 * of rows checked, or -(bad rows) - 1 when any is wrong.
 */
static int
check_records(const char *state)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	struct buf file;
	char *archive = path_in(state, STORE_ARCHIVE_DIR);
	char path[1024], sha[HASH_HEX_LEN], loaded[1024] = "";
	int rows = 0, bad = 0;

	db = ro_open(state);
	if (db == NULL) {
		free(archive);
		return -1000;
	}
	buf_init(&file, 0);
	if (sqlite3_prepare_v2(db, "SELECT s.name, s.sealed IS NULL,"
	    " r.offset, r.length, r.sha256, r.record_id FROM records r"
	    " JOIN segments s ON s.id = r.segment_id ORDER BY r.seq", -1, &st,
	    NULL) != SQLITE_OK) {
		bad++;
		goto out;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t off = sqlite3_column_int64(st, 2);
		int64_t len = sqlite3_column_int64(st, 3);

		snprintf(path, sizeof(path), "%s/%s%s", archive,
		    (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int(st, 1) ? SEGMENT_SUFFIX_OPEN : "");
		if (strcmp(path, loaded) != 0) {
			read_all(path, &file);
			snprintf(loaded, sizeof(loaded), "%s", path);
		}
		rows++;
		if (off < 0 || len <= 0 || (uint64_t)(off + len) > file.len) {
			printf("# %s at %lld+%lld is past the end of %s"
			    " (%zu)\n",
			    sqlite3_column_text(st, 5), (long long)off,
			    (long long)len, path, file.len);
			bad++;
			continue;
		}
		hash_sha256_hex(file.data + off, (size_t)len, sha);
		if (strcmp(sha, (const char *)sqlite3_column_text(st, 4)) !=
		    0) {
			printf("# %s: stored bytes do not hash to the row\n",
			    sqlite3_column_text(st, 5));
			bad++;
		}
	}
	sqlite3_finalize(st);
out:
	sqlite3_close(db);
	buf_release(&file);
	free(archive);
	return bad ? -bad - 1 : rows;
}

/* --- helpers: records as capture.c builds them ---------------------- */

/* Add a version of item_id; its record id into ret_id when non-NULL. */
static int
add_version(struct store *st, const char *item_id, const char *text,
    char *ret_id)
{
	struct rec_meta m;
	char hash[HASH_HEX_LEN], *canon;
	json_t *c;
	int r;

	c = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s}", "id", item_id,
	    "text", text, "author", "name", "City of Sunnyvale", "id", "1001",
	    "created", "2026-03-02T14:05:09+0000");
	canon = record_canonical(c, hash);
	record_meta_init(&m, REC_VERSION);
	m.account = ACCOUNT;
	m.platform = "facebook";
	m.item_id = item_id;
	m.item_kind = "post";
	m.author = "City of Sunnyvale";
	m.author_id = "1001";
	m.created = 1772460309;
	m.url = "https://www.facebook.com/1001/posts/1";
	m.text = json_string_value(json_object_get(c, "text"));
	memcpy(m.content_hash, hash, sizeof(hash));
	r = store_add(st, &m, "application/json", canon, strlen(canon), -1);
	if (ret_id != NULL)
		snprintf(ret_id, RECORD_ID_LEN, "%s", m.record_id);
	free(canon);
	json_decref(c);
	return r;
}

/* A gzip member of a version record, built but not stored. */
static void
version_member(const char *item_id, const char *text, struct buf *out,
    char *ret_id)
{
	struct rec_meta m;
	struct buf rec;
	char hash[HASH_HEX_LEN], *canon;
	json_t *c;

	c = json_pack("{s:s, s:s}", "id", item_id, "text", text);
	canon = record_canonical(c, hash);
	record_meta_init(&m, REC_VERSION);
	m.account = ACCOUNT;
	m.platform = "facebook";
	m.item_id = item_id;
	m.item_kind = "post";
	memcpy(m.content_hash, hash, sizeof(hash));
	buf_init(&rec, 0);
	record_to_warc(&m, "application/json", canon, strlen(canon), -1, &rec);
	compress_gzip(rec.data, rec.len, out);
	snprintf(ret_id, RECORD_ID_LEN, "%s", m.record_id);
	buf_release(&rec);
	free(canon);
	json_decref(c);
}

static int
open_store(struct store *st, const char *state, uint64_t max_size,
    struct store_recovery *rec)
{
	int r;

	memset(rec, 0, sizeof(*rec));
	err[0] = '\0';
	r = store_open(st, state, max_size, DAY, WARCINFO, rec, err,
	    sizeof(err));
	if (r < 0)
		printf("# store_open: %s\n", err);
	return r;
}

static int
account(struct store *st)
{
	int64_t id = 0;

	return index_account(&st->ix, ACCOUNT, "facebook", "1001", &id);
}

/* --- tests ---------------------------------------------------------- */

static void
test_open_commit_crash(void)
{
	struct store st;
	struct store_recovery rec;
	struct buf before, after, q, extra;
	char state[128], ids[8][RECORD_ID_LEN], found[512], *p, *seg;
	sqlite3_stmt *stmt;
	int64_t sync = -1, seg_id;
	uint64_t good_size;
	size_t half;
	int r;

	snprintf(state, sizeof(state), "%s/a", root);
	buf_init(&before, 0);
	buf_init(&after, 0);
	buf_init(&q, 0);
	buf_init(&extra, 0);

	/* 1. open an empty state directory */
	r = open_store(&st, state, BIG, &rec);
	is_int(r, 0, "open: empty state dir");
	if (r < 0)
		return;
	p = path_in(state, STORE_ARCHIVE_DIR);
	is_int(mode_of(p), 0750, "open: archive/ created, 0750");
	free(p);
	p = path_in(state, STORE_QUARANTINE_DIR);
	is_int(mode_of(p), 0750, "open: quarantine/ created, 0750");
	free(p);
	p = path_in(state, INDEX_FILE);
	ok(size_of(p) > 0, "open: index.sqlite created");
	free(p);
	ok(rec.recovered == 0 && rec.torn_bytes == 0 && rec.torn_path == NULL &&
	    rec.sealed == 0, "open: nothing to recover");
	is_int(st.seg.fd, -1, "open: no segment until the first record");
	is_str(qtext(state, "PRAGMA journal_mode"), "wal",
	    "open: journal_mode wal (read back by another connection)");
	if (sqlite3_prepare_v2(st.ix.db, "PRAGMA synchronous", -1, &stmt,
	    NULL) == SQLITE_OK) {
		if (sqlite3_step(stmt) == SQLITE_ROW)
			sync = sqlite3_column_int64(stmt, 0);
		sqlite3_finalize(stmt);
	}
	is_int(sync, 2, "open: synchronous FULL (2)");
	is_int(qint(state, "PRAGMA user_version"), INDEX_SCHEMA_VERSION,
	    "open: schema version");

	/* 2. an account, then one committed batch */
	is_int(account(&st), 0, "index_account");
	r = add_version(&st, "1001_1", "Road closure on Main St.", ids[0]);
	is_int(r, 0, "add version of 1001_1");
	ok(st.seg.fd >= 0, "first add opens a segment");
	is_int(add_version(&st, "1001_2", "Farmers market Saturday", ids[1]),
	    0, "add version of 1001_2");
	is_int(add_version(&st, "1001_3", "Library hours change", ids[2]), 0,
	    "add version of 1001_3");
	is_int(add_version(&st, "1001_1", "Road closure on Main St. "
	    "(reopened)", ids[3]), 0, "add a second version of 1001_1");
	is_int(st.batch, 5, "batch: warcinfo + 4 versions");
	is_int(qint(state, "SELECT COUNT(*) FROM versions"), 0,
	    "before commit another connection sees no versions");
	is_int(store_commit(&st), 0, "commit");
	is_int(st.acked, 5, "acked: 5 records");
	is_int(st.batch, 0, "batch emptied");
	is_int(qint(state, "SELECT COUNT(*) FROM items"), 3, "3 items");
	is_int(qint(state, "SELECT COUNT(*) FROM versions"), 4, "4 versions");
	is_int(qint(state, "SELECT nversions FROM items WHERE"
	    " platform_id = '1001_1'"), 2, "1001_1 has 2 versions");
	is_str(qtext(state, "SELECT state FROM items WHERE"
	    " platform_id = '1001_1'"), "edited", "1001_1 is edited");
	is_str(qtext(state, "SELECT state FROM items WHERE"
	    " platform_id = '1001_2'"), "live", "1001_2 is live");
	is_str(qtext(state, "SELECT v.text FROM versions v JOIN items i ON"
	    " i.id = v.item_id WHERE i.platform_id = '1001_1'"
	    " ORDER BY v.id DESC LIMIT 1"), "Road closure on Main St. "
	    "(reopened)", "latest version text of 1001_1");
	is_int(qint(state, "SELECT COUNT(*) FROM records WHERE record_id IN"
	    " ('%s', '%s', '%s', '%s')", ids[0], ids[1], ids[2], ids[3]), 4,
	    "records rows carry our record ids");
	is_str(qtext(state, "SELECT type FROM records WHERE offset = 0"),
	    "warcinfo", "the segment starts with warcinfo");
	is_int(qint(state, "SELECT SUM(recovered) FROM records"), 0,
	    "nothing marked recovered");
	is_int(check_records(state), 5,
	    "every row's sha256 = sha256 of the stored bytes");
	seg = segment_path(st.archive_dir, "seg-000001.warc.gz", 1);
	is_int(size_of(seg), (int64_t)st.seg.size, "segment file size");
	seg_id = st.seg.id;

	/* 3. crash: records appended, never committed */
	is_int(add_version(&st, "1001_4", "Council meeting agenda", ids[4]), 0,
	    "crash: add 1001_4");
	is_int(add_version(&st, "1001_5", "Snow day", ids[5]), 0,
	    "crash: add 1001_5");
	store_close(&st);
	is_int(qint(state, "SELECT COUNT(*) FROM versions"), 4,
	    "crash: rolled back, 4 versions in the index");
	r = open_store(&st, state, BIG, &rec);
	is_int(r, 0, "crash: reopen");
	if (r < 0)
		goto out;
	is_int(rec.recovered, 2, "crash: 2 complete records recovered");
	ok(rec.torn_path == NULL && rec.torn_bytes == 0, "crash: nothing torn");
	is_int(qint(state, "SELECT COUNT(*) FROM records WHERE recovered = 1"
	    " AND record_id IN ('%s', '%s')", ids[4], ids[5]), 2,
	    "crash: both indexed with recovered = 1");
	is_int(qint(state, "SELECT COUNT(*) FROM records WHERE recovered = 1"),
	    2, "crash: nothing else marked recovered");
	is_int(qint(state, "SELECT COUNT(*) FROM items WHERE platform_id IN"
	    " ('1001_4', '1001_5')"), 2, "crash: items 1001_4, 1001_5 exist");
	is_int(qint(state, "SELECT COUNT(*) FROM versions"), 6,
	    "crash: 6 versions");
	is_str(qtext(state, "SELECT v.text FROM versions v JOIN items i ON"
	    " i.id = v.item_id WHERE i.platform_id = '1001_5'"), "Snow day",
	    "crash: recovered version text from the block");
	is_int(check_records(state), 7, "crash: every row matches its bytes");
	ok(st.seg.fd >= 0 && st.seg.id == seg_id,
	    "crash: the open segment is reopened for appending");
	store_close(&st);
	r = open_store(&st, state, BIG, &rec);
	is_int(r, 0, "crash: reopen again");
	is_int(rec.recovered, 0, "crash: nothing recovered twice");
	is_int(qint(state, "SELECT COUNT(*) FROM versions"), 6,
	    "crash: versions appear exactly once");
	is_int(qint(state, "SELECT COUNT(*) FROM versions v JOIN items i ON"
	    " i.id = v.item_id WHERE i.platform_id = '1001_5'"), 1,
	    "crash: 1001_5 has one version");
	store_close(&st);

	/* 4. torn tail: one complete unindexed member, half a member, junk */
	read_all(seg, &before);
	version_member("1001_6", "Parade route", &extra, ids[6]);
	good_size = before.len + extra.len;
	buf_reset(&q);
	version_member("1001_7", "Never finished", &q, ids[7]);
	half = q.len / 2;
	buf_append(&extra, q.data, half);
	buf_puts(&extra, "\x1f\x8b\x08junk after a crash");
	append_bytes(seg, extra.data, extra.len);
	r = open_store(&st, state, BIG, &rec);
	is_int(r, 0, "torn: reopen");
	if (r < 0)
		goto out;
	is_int(rec.recovered, 1, "torn: the complete member is recovered");
	is_int(rec.torn_bytes, extra.len - (good_size - before.len),
	    "torn: torn_bytes = half member + junk");
	ok(rec.torn_path != NULL && strstr(rec.torn_path,
	    "/" STORE_QUARANTINE_DIR "/seg-000001.warc.gz.open.torn-") != NULL,
	    "torn: quarantine/NAME.torn-*: %s",
	    rec.torn_path ? rec.torn_path : "(null)");
	is_int(torn_files(state, found, sizeof(found)), 1,
	    "torn: one quarantine file");
	read_all(found, &q);
	ok(q.len == extra.len - (good_size - before.len) &&
	    memcmp(q.data, extra.data + (good_size - before.len), q.len) == 0,
	    "torn: quarantined bytes equal the torn tail");
	is_int(mode_of(found), 0440, "torn: quarantine file is 0440");
	is_int(size_of(seg), (int64_t)good_size,
	    "torn: segment truncated to the last good member");
	read_all(seg, &after);
	ok(after.len == good_size && memcmp(after.data, before.data,
	    before.len) == 0, "torn: the good prefix is untouched");
	is_int(qint(state, "SELECT MAX(offset + length) FROM records WHERE"
	    " segment_id = %lld", (long long)seg_id), (int64_t)good_size,
	    "torn: the last row ends at the end of the file");
	is_int(qint(state, "SELECT COUNT(*) FROM records WHERE record_id ="
	    " '%s'", ids[7]), 0, "torn: the half member is not indexed");
	is_int(check_records(state), 8, "torn: no row points past the end");
	free(rec.torn_path);
	rec.torn_path = NULL;

	/* 5. life goes on after recovery */
	is_int(add_version(&st, "1001_8", "Back to normal", NULL), 0,
	    "after recovery: add");
	is_int(store_commit(&st), 0, "after recovery: commit");
	is_int(check_records(state), 9, "after recovery: all rows match");
	is_int(qint(state, "SELECT COUNT(*) FROM segments"), 1,
	    "after recovery: still one segment");

	/* 6. a bad field is the caller's error, not a storage failure */
	is_int(add_version(&st, "bad\r\nid", "x", NULL), -EINVAL,
	    "CR LF in an item id: -EINVAL");
	ok(!st.failed, "the store is not failed by a bad field");
	store_abandon(&st);
	is_int(add_version(&st, "1001_9", "fine", NULL), 0, "add after that");
	is_int(store_commit(&st), 0, "commit after that");
	store_close(&st);
out:
	free(seg);
	buf_release(&before);
	buf_release(&after);
	buf_release(&q);
	buf_release(&extra);
}

/* A crash before the first commit: the segment itself was never indexed. */
static void
test_stray_segment(void)
{
	struct store st;
	struct store_recovery rec;
	char state[128], sha[HASH_HEX_LEN], *p;
	uint64_t size = 0;
	int r;

	snprintf(state, sizeof(state), "%s/b", root);
	if (open_store(&st, state, BIG, &rec) < 0)
		return;
	account(&st);
	add_version(&st, "2_1", "one", NULL);
	add_version(&st, "2_2", "two", NULL);
	store_close(&st);
	is_int(qint(state, "SELECT COUNT(*) FROM segments"), 0,
	    "stray: the segment row was rolled back too");
	r = open_store(&st, state, BIG, &rec);
	is_int(r, 0, "stray: reopen");
	if (r < 0)
		return;
	is_int(rec.recovered, 3, "stray: warcinfo + 2 versions recovered");
	is_int(rec.sealed, 1, "stray: the stray segment sealed");
	is_int(qint(state, "SELECT COUNT(*) FROM versions"), 2,
	    "stray: 2 versions");
	p = segment_path(st.archive_dir, "seg-000001.warc.gz", 0);
	is_int(mode_of(p), 0440, "stray: sealed file 0440");
	segment_file_hash(p, sha, &size);
	is_str(qtext(state, "SELECT sha256 FROM segments WHERE name ="
	    " 'seg-000001.warc.gz'"), sha, "stray: segment sha256 recorded");
	free(p);
	is_int(check_records(state), 3, "stray: rows match the bytes");
	is_int(add_version(&st, "2_3", "three", NULL), 0, "stray: add");
	is_int(store_commit(&st), 0, "stray: commit");
	is_str(st.seg.name, "seg-000002.warc.gz", "stray: next is seg-000002");
	is_int(check_records(state), 5, "stray: rows match after");
	store_close(&st);
}

static void
test_rotation(void)
{
	struct store st;
	struct store_recovery rec;
	struct buf file, plain;
	char state[128], sha[HASH_HEX_LEN], *p;
	uint64_t size = 0, max = 4096;
	size_t used = 0;
	int i, early = 0, r;

	snprintf(state, sizeof(state), "%s/c", root);
	if (open_store(&st, state, max, &rec) < 0)
		return;
	account(&st);
	for (i = 0; i < 100; i++) {
		char item[32], text[600];
		uint64_t at;

		snprintf(item, sizeof(item), "3_%d", i);
		/* incompressible-ish text so the segment grows */
		snprintf(text, sizeof(text), "post %d %08x%08x%08x%08x%08x%08x"
		    "%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", i,
		    util_random(), util_random(), util_random(), util_random(),
		    util_random(), util_random(), util_random(), util_random(),
		    util_random(), util_random(), util_random(), util_random(),
		    util_random(), util_random(), util_random(), util_random());
		if (add_version(&st, item, text, NULL) != 0)
			break;
		at = st.seg.size;
		if (store_commit(&st) != 0)
			break;
		if (st.seg.fd < 0)
			break;		/* rotated */
		if (at >= max)
			early++;
	}
	ok(i < 100 && st.seg.fd < 0, "rotation: a commit past %llu bytes"
	    " sealed the segment (after %d)", (unsigned long long)max, i + 1);
	is_int(early, 0, "rotation: no commit past max_size left it open");
	ok(!st.failed, "rotation: store healthy");
	p = segment_path(st.archive_dir, "seg-000001.warc.gz", 1);
	ok(access(p, F_OK) != 0, "rotation: no .open file left");
	free(p);
	p = segment_path(st.archive_dir, "seg-000001.warc.gz", 0);
	is_int(mode_of(p), 0440, "rotation: seg-000001.warc.gz is 0440");
	r = segment_file_hash(p, sha, &size);
	ok(r == 0 && size >= max, "rotation: sealed size %llu >= max",
	    (unsigned long long)size);
	free(p);
	is_int(qint(state, "SELECT sealed IS NOT NULL FROM segments WHERE"
	    " name = 'seg-000001.warc.gz'"), 1, "rotation: segments.sealed");
	is_str(qtext(state, "SELECT sha256 FROM segments WHERE"
	    " name = 'seg-000001.warc.gz'"), sha,
	    "rotation: segments.sha256 = the file's sha256");
	is_int(qint(state, "SELECT size FROM segments WHERE"
	    " name = 'seg-000001.warc.gz'"), (int64_t)size,
	    "rotation: segments.size");
	is_int(qint(state, "SELECT suspect FROM segments WHERE"
	    " name = 'seg-000001.warc.gz'"), 0, "rotation: not suspect");

	is_int(add_version(&st, "3_next", "first of the next segment", NULL),
	    0, "rotation: next add");
	is_str(st.seg.name, "seg-000002.warc.gz", "rotation: opens seg-000002");
	is_int(store_commit(&st), 0, "rotation: commit");
	is_str(qtext(state, "SELECT r.type FROM records r JOIN segments s ON"
	    " s.id = r.segment_id WHERE s.name = 'seg-000002.warc.gz'"
	    " ORDER BY r.offset LIMIT 1"), "warcinfo",
	    "rotation: seg-000002's first record is warcinfo");
	buf_init(&file, 0);
	buf_init(&plain, 0);
	p = segment_path(st.archive_dir, "seg-000002.warc.gz", 1);
	read_all(p, &file);
	free(p);
	if (compress_gunzip_member(file.data, file.len, &plain, 1 << 20,
	    &used) == 0) {
		struct warc_parsed wp;

		if (warc_parse(plain.data, plain.len, &wp) == 0) {
			is_str(warc_get(&wp, "WARC-Type"), "warcinfo",
			    "rotation: the file starts with a warcinfo record");
			ok(wp.block_len == strlen(WARCINFO) &&
			    memcmp(wp.block, WARCINFO, wp.block_len) == 0,
			    "rotation: warcinfo block as given to store_open");
			warc_parsed_release(&wp);
		} else {
			ok(0, "rotation: first member of seg-000002 parses");
		}
	} else {
		ok(0, "rotation: first member of seg-000002 decodes");
	}
	p = segment_path(st.archive_dir, "seg-000001.warc.gz", 0);
	segment_file_hash(p, sha, &size);
	free(p);
	is_str(qtext(state, "SELECT sha256 FROM segments WHERE"
	    " name = 'seg-000001.warc.gz'"), sha,
	    "rotation: the sealed segment is not written again");
	is_int(check_records(state), i + 1 + 1 + 2,
	    "rotation: every row matches its bytes");
	is_int(store_rotate(&st), 0, "store_rotate seals on demand");
	is_int(qint(state, "SELECT COUNT(*) FROM segments WHERE sealed IS"
	    " NULL"), 0, "store_rotate: nothing left open");
	store_close(&st);
	buf_release(&file);
	buf_release(&plain);
}

static void
test_faults(void)
{
	struct store st;
	struct store_recovery rec;
	struct buf q, member;
	char state[128], full[160], found[512], sha[HASH_HEX_LEN], *p;
	char ack_id[RECORD_ID_LEN], unack_id[RECORD_ID_LEN];
	uint64_t acked_end, size = 0, unacked_len;
	int r, fd;

	snprintf(state, sizeof(state), "%s/d", root);
	snprintf(full, sizeof(full), "%s/disk-full", root);
	buf_init(&q, 0);
	buf_init(&member, 0);
	setenv("SUNARCHIVE_TEST_FAULTS", "write:*:enospc", 1);
	setenv("SUNARCHIVE_TEST_FAULT_FILE", full, 1);
	is_int(sysio_init(), 0, "faults: armed (inactive until the file)");
	if (open_store(&st, state, BIG, &rec) < 0)
		goto out;
	account(&st);
	add_version(&st, "4_1", "acknowledged one", ack_id);
	add_version(&st, "4_2", "acknowledged two", NULL);
	is_int(store_commit(&st), 0, "faults: first batch committed");
	acked_end = st.seg.size;
	is_int(add_version(&st, "4_3", "appended, never acknowledged",
	    unack_id), 0, "faults: add before the disk fills");
	unacked_len = st.seg.size - acked_end;

	fd = open(full, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	close(fd);
	r = add_version(&st, "4_4", "disk is full", NULL);
	is_int(r, -ENOSPC, "faults: store_add fails with -ENOSPC");
	ok(st.failed, "faults: store->failed set");
	is_int(st.err, -ENOSPC, "faults: store->err");
	is_int(add_version(&st, "4_5", "refused", NULL), -ENOSPC,
	    "faults: a failed store refuses adds");
	ok(store_commit(&st) < 0, "faults: and refuses to commit");
	is_int(st.acked, 3, "faults: acked = warcinfo + 2");

	unlink(full);
	memset(&rec, 0, sizeof(rec));
	r = store_recover(&st, &rec);
	is_int(r, 0, "faults: store_recover after freeing space");
	ok(!st.failed, "faults: store healthy again");
	is_int(rec.sealed, 1, "faults: the failed segment sealed");
	is_int(rec.torn_bytes, unacked_len,
	    "faults: the unacknowledged record moved to quarantine");
	is_int(qint(state, "SELECT suspect FROM segments WHERE"
	    " name = 'seg-000001.warc.gz'"), 1, "faults: segments.suspect = 1");
	is_int(qint(state, "SELECT size FROM segments WHERE"
	    " name = 'seg-000001.warc.gz'"), (int64_t)acked_end,
	    "faults: suspect segment holds only acknowledged bytes");
	p = segment_path(st.archive_dir, "seg-000001.warc.gz", 0);
	is_int(size_of(p), (int64_t)acked_end, "faults: file size = acked end");
	is_int(mode_of(p), 0440, "faults: suspect segment sealed 0440");
	segment_file_hash(p, sha, &size);
	free(p);
	is_str(qtext(state, "SELECT sha256 FROM segments WHERE"
	    " name = 'seg-000001.warc.gz'"), sha, "faults: suspect sha256");
	is_int(qint(state, "SELECT COUNT(*) FROM records"), 3,
	    "faults: only acknowledged records indexed");
	is_int(qint(state, "SELECT COUNT(*) FROM records WHERE record_id ="
	    " '%s'", unack_id), 0, "faults: the unacknowledged one is not");
	is_int(torn_files(state, found, sizeof(found)), 1,
	    "faults: one quarantine file");
	free(rec.torn_path);
	read_all(found, &q);
	is_int(q.len, unacked_len, "faults: quarantine holds that record");

	is_int(add_version(&st, "4_6", "after recovery", NULL), 0,
	    "faults: add after recovery");
	is_str(st.seg.name, "seg-000002.warc.gz",
	    "faults: new records go to a new segment");
	is_int(store_commit(&st), 0, "faults: commit after recovery");
	is_int(qint(state, "SELECT COUNT(*) FROM records r JOIN segments s"
	    " ON s.id = r.segment_id WHERE s.name = 'seg-000002.warc.gz'"), 2,
	    "faults: warcinfo + the new version in seg-000002");
	is_int(check_records(state), 5, "faults: every row matches its bytes");

	/* fdatasync fails at commit: same outcome for that batch. */
	setenv("SUNARCHIVE_TEST_FAULTS", "fdatasync:*:eio", 1);
	sysio_init();
	acked_end = st.seg.size;
	is_int(add_version(&st, "4_7", "sync will fail", unack_id), 0,
	    "sync fault: add");
	fd = open(full, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	close(fd);
	is_int(store_commit(&st), -EIO, "sync fault: commit fails with -EIO");
	ok(st.failed && st.seg.failed, "sync fault: store and segment failed");
	unlink(full);
	is_int(store_commit(&st), -EIO, "sync fault: no retry of the sync");
	r = store_recover(&st, &rec);
	is_int(r, 0, "sync fault: recover");
	is_int(qint(state, "SELECT suspect FROM segments WHERE"
	    " name = 'seg-000002.warc.gz'"), 1,
	    "sync fault: seg-000002 suspect");
	is_int(qint(state, "SELECT size FROM segments WHERE"
	    " name = 'seg-000002.warc.gz'"), (int64_t)acked_end,
	    "sync fault: only acknowledged bytes kept");
	is_int(qint(state, "SELECT COUNT(*) FROM records WHERE record_id ="
	    " '%s'", unack_id), 0, "sync fault: the batch is not indexed");
	free(rec.torn_path);
	is_int(add_version(&st, "4_8", "third segment", NULL), 0,
	    "sync fault: add after recovery");
	is_str(st.seg.name, "seg-000003.warc.gz", "sync fault: seg-000003");
	is_int(store_commit(&st), 0, "sync fault: commit");
	is_int(check_records(state), 7, "sync fault: rows match bytes");
	store_close(&st);

	/* The index survives a reopen with the suspect segments as they are. */
	r = open_store(&st, state, BIG, &rec);
	is_int(r, 0, "faults: reopen");
	ok(rec.recovered == 0 && rec.torn_bytes == 0,
	    "faults: nothing to recover on reopen");
	is_int(qint(state, "SELECT COUNT(*) FROM segments WHERE suspect = 1"),
	    2, "faults: two suspect segments");
	store_close(&st);
out:
	unsetenv("SUNARCHIVE_TEST_FAULTS");
	unsetenv("SUNARCHIVE_TEST_FAULT_FILE");
	sysio_init();
	unlink(full);
	buf_release(&q);
	buf_release(&member);
}

/* Touch or remove the fault file that arms SUNARCHIVE_TEST_FAULTS. */
static void
disk_full(const char *full, int on)
{
	int fd;

	if (!on) {
		unlink(full);
		return;
	}
	fd = open(full, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

/*
 * The first batch of a fresh segment fails at fdatasync. Nothing in that
 * segment was acknowledged: recovery must not index its records (their
 * bytes may never reach the disk) and must seal it suspect.
 */
static void
test_fault_new_segment(void)
{
	struct store st;
	struct store_recovery rec;
	char state[128], full[160], id[RECORD_ID_LEN], *p;
	int r;

	snprintf(state, sizeof(state), "%s/g", root);
	snprintf(full, sizeof(full), "%s/disk-full-g", root);
	if (open_store(&st, state, BIG, &rec) < 0)
		return;
	account(&st);
	add_version(&st, "7_1", "in the first segment", NULL);
	is_int(store_commit(&st), 0, "new-segment fault: first batch");
	is_int(store_rotate(&st), 0, "new-segment fault: rotate");
	setenv("SUNARCHIVE_TEST_FAULTS", "fdatasync:*:eio", 1);
	setenv("SUNARCHIVE_TEST_FAULT_FILE", full, 1);
	sysio_init();
	disk_full(full, 1);
	is_int(add_version(&st, "7_2", "first batch of seg-000002", id), 0,
	    "new-segment fault: add opens seg-000002");
	is_int(store_commit(&st), -EIO, "new-segment fault: fdatasync fails");
	disk_full(full, 0);
	memset(&rec, 0, sizeof(rec));
	r = store_recover(&st, &rec);
	is_int(r, 0, "new-segment fault: recover");
	is_int(rec.recovered, 0,
	    "new-segment fault: nothing from the failed segment is recovered");
	is_int(qint(state, "SELECT COUNT(*) FROM records WHERE record_id ="
	    " '%s'", id), 0, "new-segment fault: the unacknowledged version"
	    " is not indexed");
	is_int(qint(state, "SELECT COUNT(*) FROM items WHERE platform_id ="
	    " '7_2'"), 0, "new-segment fault: no item for it");
	is_int(qint(state, "SELECT suspect FROM segments WHERE"
	    " name = 'seg-000002.warc.gz'"), 1,
	    "new-segment fault: seg-000002 sealed suspect");
	p = segment_path(st.archive_dir, "seg-000002.warc.gz", 0);
	is_int(size_of(p), 0, "new-segment fault: it keeps no unacknowledged"
	    " bytes (they are in quarantine)");
	free(p);
	ok(rec.torn_bytes > 0, "new-segment fault: %llu bytes quarantined",
	    (unsigned long long)rec.torn_bytes);
	free(rec.torn_path);
	if (r == 0) {
		is_int(add_version(&st, "7_3", "after", NULL), 0,
		    "new-segment fault: add after recovery");
		is_str(st.seg.name, "seg-000003.warc.gz",
		    "new-segment fault: into seg-000003");
		is_int(store_commit(&st), 0, "new-segment fault: commit");
		is_int(check_records(state), 4,
		    "new-segment fault: rows match the bytes");
	}
	store_close(&st);
	unsetenv("SUNARCHIVE_TEST_FAULTS");
	unsetenv("SUNARCHIVE_TEST_FAULT_FILE");
	sysio_init();
}

/* A full disk refuses even the warcinfo of a fresh segment: drop it. */
static void
test_fault_empty_segment(void)
{
	struct store st;
	struct store_recovery rec;
	char state[128], full[160], *p;
	int r;

	snprintf(state, sizeof(state), "%s/i", root);
	snprintf(full, sizeof(full), "%s/disk-full-i", root);
	if (open_store(&st, state, BIG, &rec) < 0)
		return;
	account(&st);
	add_version(&st, "9_1", "in the first segment", NULL);
	store_commit(&st);
	store_rotate(&st);
	setenv("SUNARCHIVE_TEST_FAULTS", "write:*:enospc", 1);
	setenv("SUNARCHIVE_TEST_FAULT_FILE", full, 1);
	sysio_init();
	disk_full(full, 1);
	is_int(add_version(&st, "9_2", "refused", NULL), -ENOSPC,
	    "empty segment: its warcinfo is refused");
	disk_full(full, 0);
	r = store_recover(&st, &rec);
	is_int(r, 0, "empty segment: recover");
	is_int(rec.sealed, 0, "empty segment: nothing sealed");
	is_int(qint(state, "SELECT COUNT(*) FROM segments"), 1,
	    "empty segment: no row for it");
	p = segment_path(st.archive_dir, "seg-000002.warc.gz", 1);
	ok(access(p, F_OK) != 0, "empty segment: its .open file is gone");
	free(p);
	if (r == 0) {
		is_int(add_version(&st, "9_3", "after", NULL), 0,
		    "empty segment: add after recovery");
		is_int(store_commit(&st), 0, "empty segment: commit");
		is_int(qint(state, "SELECT COUNT(*) FROM segments"), 2,
		    "empty segment: one new segment");
		is_int(check_records(state), 4,
		    "empty segment: rows match the bytes");
	}
	store_close(&st);
	unsetenv("SUNARCHIVE_TEST_FAULTS");
	unsetenv("SUNARCHIVE_TEST_FAULT_FILE");
	sysio_init();
}

/*
 * fsync fails while rotation seals the segment: the file must not be
 * reopened and appended to as if healthy; recovery seals it suspect.
 */
static void
test_fault_seal(void)
{
	struct store st;
	struct store_recovery rec;
	char state[128], full[160], *p;
	int r;

	snprintf(state, sizeof(state), "%s/h", root);
	snprintf(full, sizeof(full), "%s/disk-full-h", root);
	if (open_store(&st, state, BIG, &rec) < 0)
		return;
	account(&st);
	add_version(&st, "8_1", "acknowledged", NULL);
	is_int(store_commit(&st), 0, "seal fault: batch committed");
	setenv("SUNARCHIVE_TEST_FAULTS", "fsync:*:eio", 1);
	setenv("SUNARCHIVE_TEST_FAULT_FILE", full, 1);
	sysio_init();
	disk_full(full, 1);
	is_int(store_rotate(&st), -EIO, "seal fault: rotation's fsync fails");
	ok(st.failed, "seal fault: the store is failed");
	disk_full(full, 0);
	memset(&rec, 0, sizeof(rec));
	r = store_recover(&st, &rec);
	is_int(r, 0, "seal fault: recover");
	is_int(qint(state, "SELECT suspect FROM segments WHERE"
	    " name = 'seg-000001.warc.gz'"), 1,
	    "seal fault: seg-000001 sealed suspect");
	ok(st.seg.fd < 0, "seal fault: not reopened for appending");
	p = segment_path(st.archive_dir, "seg-000001.warc.gz", 1);
	ok(access(p, F_OK) != 0, "seal fault: no .open file left");
	free(p);
	if (r == 0) {
		is_int(add_version(&st, "8_2", "after", NULL), 0,
		    "seal fault: add after recovery");
		is_str(st.seg.name, "seg-000002.warc.gz",
		    "seal fault: into seg-000002");
		store_commit(&st);
		is_int(check_records(state), 4, "seal fault: rows match");
	}
	store_close(&st);
	unsetenv("SUNARCHIVE_TEST_FAULTS");
	unsetenv("SUNARCHIVE_TEST_FAULT_FILE");
	sysio_init();
}

/* The segment was renamed, then the process died before the index knew. */
static void
test_finish_sealing(void)
{
	struct store st;
	struct store_recovery rec;
	char state[128], sha[HASH_HEX_LEN], *from, *to;
	uint64_t size = 0;
	int r;

	snprintf(state, sizeof(state), "%s/e", root);
	if (open_store(&st, state, BIG, &rec) < 0)
		return;
	account(&st);
	add_version(&st, "5_1", "before the rename", NULL);
	store_commit(&st);
	from = segment_path(st.archive_dir, "seg-000001.warc.gz", 1);
	to = segment_path(st.archive_dir, "seg-000001.warc.gz", 0);
	store_close(&st);
	chmod(from, 0440);
	ok(rename(from, to) == 0, "half-sealed: renamed behind the index");
	r = open_store(&st, state, BIG, &rec);
	is_int(r, 0, "half-sealed: reopen");
	segment_file_hash(to, sha, &size);
	is_str(qtext(state, "SELECT sha256 FROM segments WHERE"
	    " name = 'seg-000001.warc.gz'"), sha,
	    "half-sealed: sealing finished in the index with the file's hash");
	is_int(qint(state, "SELECT size FROM segments WHERE"
	    " name = 'seg-000001.warc.gz'"), (int64_t)size,
	    "half-sealed: size recorded");
	if (r == 0) {
		is_int(add_version(&st, "5_2", "next", NULL), 0,
		    "half-sealed: add");
		is_str(st.seg.name, "seg-000002.warc.gz",
		    "half-sealed: a new segment, not the sealed one");
		store_commit(&st);
		is_int(check_records(state), 4, "half-sealed: rows match");
		store_close(&st);
	}

	/* Acknowledged bytes gone from the open segment: seal it suspect. */
	free(from);
	from = xasprintf("%s/%s/seg-000002.warc.gz.open", state,
	    STORE_ARCHIVE_DIR);
	size = (uint64_t)size_of(from);
	ok(truncate(from, (off_t)(size - 10)) == 0,
	    "lost bytes: cut 10 acknowledged bytes off the open segment");
	r = open_store(&st, state, BIG, &rec);
	is_int(r, 0, "lost bytes: reopen");
	is_int(qint(state, "SELECT suspect FROM segments WHERE"
	    " name = 'seg-000002.warc.gz'"), 1,
	    "lost bytes: the segment is sealed suspect");
	ok(rec.recovered == 0 && rec.torn_bytes == 0,
	    "lost bytes: nothing recovered or quarantined");
	if (r == 0)
		store_close(&st);
	free(from);
	free(to);
}

/*
 * A real process death: a child appends and commits, appends more, and is
 * SIGKILLed by the fault shim in the next commit's fdatasync (no cleanup
 * at all: the SQLite write transaction is simply abandoned).
 */
static void
test_killed(void)
{
	struct store st;
	struct store_recovery rec;
	char state[128];
	pid_t pid;
	int status = 0, r;

	snprintf(state, sizeof(state), "%s/f", root);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (open_store(&st, state, BIG, &rec) < 0)
			_exit(2);
		account(&st);
		add_version(&st, "6_1", "committed", NULL);
		if (store_commit(&st) != 0)
			_exit(3);
		setenv("SUNARCHIVE_TEST_FAULTS", "fdatasync:*:crash", 1);
		sysio_init();
		add_version(&st, "6_2", "appended, then killed", NULL);
		add_version(&st, "6_3", "appended, then killed", NULL);
		store_commit(&st);
		_exit(4);	/* not reached */
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGKILL, "killed: the child died by SIGKILL"
	    " in fdatasync (status %d)", status);
	r = open_store(&st, state, BIG, &rec);
	is_int(r, 0, "killed: reopen");
	is_int(rec.recovered, 2, "killed: 2 appended records recovered");
	is_int(qint(state, "SELECT COUNT(*) FROM versions"), 3,
	    "killed: 3 versions, each once");
	is_int(qint(state, "SELECT COUNT(*) FROM records WHERE recovered = 1"),
	    2, "killed: marked recovered");
	is_int(check_records(state), 4, "killed: rows match the bytes");
	if (r == 0)
		store_close(&st);
}

static void
test_open_errors(void)
{
	struct store st;
	struct store_recovery rec;
	char file[160], state[200];
	int fd, r;

	snprintf(file, sizeof(file), "%s/not-a-dir", root);
	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	close(fd);
	snprintf(state, sizeof(state), "%s/state", file);
	memset(&rec, 0, sizeof(rec));
	err[0] = '\0';
	r = store_open(&st, state, BIG, DAY, WARCINFO, &rec, err, sizeof(err));
	ok(r < 0, "open under a regular file fails (%d)", r);
	ok(strstr(err, "cannot create") != NULL && strstr(err, state) != NULL,
	    "with a message naming the directory: %s", err);
	ok(st.state_dir == NULL && st.ix.db == NULL,
	    "a failed open leaves nothing to close");
	unlink(file);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(path);
}

int
main(void)
{
	umask(022);
	unsetenv("SUNARCHIVE_TEST_FAULTS");
	unsetenv("SUNARCHIVE_TEST_FAULT_FILE");
	sysio_init();
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_open_commit_crash();
	test_stray_segment();
	test_rotation();
	test_faults();
	test_fault_new_segment();
	test_fault_empty_segment();
	test_fault_seal();
	test_finish_sealing();
	test_killed();
	test_open_errors();
	if (getenv("SUNARCHIVE_TEST_KEEP") == NULL)
		nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		printf("# kept %s\n", root);
	return tap_done();
}
