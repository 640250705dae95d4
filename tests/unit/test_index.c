/*
 * test_index.c - the SQLite index: opening and migrating (idempotent,
 * user_version, application_id, WAL + FULL), read-only and bad files;
 * segments and records; versions moving items live -> edited; events
 * (removed, hidden, unhidden, restored, gap, gap-closed) and what they do
 * to items and gaps, per the statements in daemon/index.c; the queries
 * capture relies on (missing candidates, due threads, media); full text
 * search over old versions.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "hash.h"
#include "index.h"
#include "record.h"
#include "tap.h"
#include "util.h"

#define ACCOUNT		"city-mastodon"
#define T0		1772460309LL	/* 2026-03-02T14:05:09Z */
#define DAY		86400

static char dir[] = "/tmp/sunarchive-test-index.XXXXXX";
static char path[256];
static char err[512];
static int64_t seg_id, account_id;
static uint64_t next_off;

static int64_t
qint(struct index *ix, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -999;

	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
		printf("# %s: %s\n", sql, sqlite3_errmsg(ix->db));
		return v;
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 :
		    sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return v;
}

static const char *
qtext(struct index *ix, const char *sql)
{
	static char out[512];
	sqlite3_stmt *st;

	out[0] = '\0';
	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
		printf("# %s: %s\n", sql, sqlite3_errmsg(ix->db));
		return out;
	}
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, sizeof(out), "%s",
		    (const char *)sqlite3_column_text(st, 0));
	else
		snprintf(out, sizeof(out), "(null)");
	sqlite3_finalize(st);
	return out;
}

/* Index one record of kind at a fresh offset; 0 or -errno. */
static int
add(struct index *ix, struct rec_meta *m, const char *block, int64_t *seq)
{
	char sha[HASH_HEX_LEN];
	size_t len = block != NULL ? strlen(block) : 0;
	int r;

	hash_sha256_hex(m->record_id, strlen(m->record_id), sha);
	r = index_record(ix, m, seg_id, next_off, 100, sha, 0, block, len,
	    seq);
	next_off += 100;
	return r;
}

static int
version(struct index *ix, const char *item, const char *kind,
    const char *root, const char *text, int64_t date, int64_t created)
{
	struct rec_meta m;
	char canon[512];

	record_meta_init(&m, REC_VERSION);
	m.date = date;
	m.account = ACCOUNT;
	m.platform = "mastodon";
	m.item_id = item;
	m.item_kind = kind;
	m.root_id = root;
	m.parent_id = root;
	m.author = "City Hall";
	m.author_id = "42";
	m.created = created;
	m.platform_time = date - 5;
	m.edit_marker = text;
	m.text = text;
	snprintf(canon, sizeof(canon), "{\"text\":\"%s\"}", text);
	hash_sha256_hex(canon, strlen(canon), m.content_hash);
	return add(ix, &m, canon, NULL);
}

static int
event(struct index *ix, const char *item, const char *ev, int64_t date,
    const char *detail)
{
	struct rec_meta m;

	record_meta_init(&m, REC_EVENT);
	m.date = date;
	m.account = ACCOUNT;
	m.platform = "mastodon";
	m.item_id = item;
	m.event = ev;
	return add(ix, &m, detail != NULL ? detail : "{}", NULL);
}

static void
test_open(void)
{
	struct index ix;
	int fd, r;

	is_int(index_open(&ix, path, 0, err, sizeof(err)), 0, "open: create");
	is_int(qint(&ix, "PRAGMA user_version"), INDEX_SCHEMA_VERSION,
	    "open: user_version is the current schema version");
	is_int(qint(&ix, "PRAGMA application_id"), 0x53554e41,
	    "open: application_id 'SUNA'");
	is_str(qtext(&ix, "PRAGMA journal_mode"), "wal", "open: WAL");
	is_int(qint(&ix, "PRAGMA synchronous"), 2, "open: synchronous FULL");
	is_int(qint(&ix, "PRAGMA foreign_keys"), 1, "open: foreign keys on");
	is_int(index_account(&ix, ACCOUNT, "mastodon", "42", &account_id), 0,
	    "open: a row to survive the second open");
	index_close(&ix);
	ok(ix.db == NULL, "close clears");

	is_int(index_open(&ix, path, 0, err, sizeof(err)), 0,
	    "open again: migration is idempotent");
	is_int(qint(&ix, "PRAGMA user_version"), INDEX_SCHEMA_VERSION,
	    "open again: same version");
	is_int(qint(&ix, "SELECT COUNT(*) FROM accounts"), 1,
	    "open again: data kept");
	is_int(qint(&ix, "SELECT COUNT(*) FROM sqlite_master WHERE"
	    " name = 'items'"), 1, "open again: one items table");
	index_close(&ix);

	/* A newer schema is refused. */
	index_open(&ix, path, 0, err, sizeof(err));
	{
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		    INDEX_SCHEMA_VERSION + 1);
		sqlite3_exec(ix.db, sql, NULL, NULL, NULL);
	}
	index_close(&ix);
	err[0] = '\0';
	r = index_open(&ix, path, 0, err, sizeof(err));
	is_int(r, -EPROTO, "newer schema version: -EPROTO");
	ok(strstr(err, "newer") != NULL, "with a message: %s", err);
	ok(ix.db == NULL, "failed open leaves nothing open");
	{
		sqlite3 *db;

		sqlite3_open(path, &db);
		sqlite3_exec(db, "PRAGMA user_version = 1; DROP TABLE"
		    " checkpoints", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	/* A version 1 index (before checkpoints) is migrated in place. */
	is_int(index_open(&ix, path, 0, err, sizeof(err)), 0,
	    "version 1 index opens: %s", err);
	is_int(qint(&ix, "PRAGMA user_version"), INDEX_SCHEMA_VERSION,
	    "migrated to the current version");
	is_int(qint(&ix, "SELECT COUNT(*) FROM sqlite_master WHERE"
	    " name = 'checkpoints'"), 1, "migration 1 -> 2 adds checkpoints");
	is_int(qint(&ix, "SELECT COUNT(*) FROM accounts"), 1,
	    "migration keeps the data");
	index_close(&ix);

	/* Read-only: a missing file fails with a message naming it. */
	{
		char missing[300];

		snprintf(missing, sizeof(missing), "%s/missing.sqlite", dir);
		err[0] = '\0';
		r = index_open(&ix, missing, 1, err, sizeof(err));
		ok(r < 0, "read-only open of a missing file fails (%d)", r);
		ok(strstr(err, "cannot open index") != NULL &&
		    strstr(err, missing) != NULL, "message: %s", err);
		ok(access(missing, F_OK) != 0,
		    "read-only open does not create the file");
	}
	is_int(index_open(&ix, path, 1, err, sizeof(err)), 0,
	    "read-only open of the index");
	is_int(qint(&ix, "SELECT COUNT(*) FROM accounts"), 1,
	    "read-only: reads");
	ok(index_account(&ix, "other", "mastodon", "1", &account_id) < 0,
	    "read-only: writes refused");
	index_close(&ix);

	/* Not a database. */
	{
		char junk[300];

		snprintf(junk, sizeof(junk), "%s/junk.sqlite", dir);
		fd = open(junk, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0) {
			static const char text[] = "this is not a database,"
			    " not even close; padding padding padding\n";
			ssize_t w = write(fd, text, sizeof(text) - 1);

			(void)w;
			close(fd);
		}
		err[0] = '\0';
		r = index_open(&ix, junk, 0, err, sizeof(err));
		ok(r < 0 && err[0] != '\0', "a non-database file is refused:"
		    " %d %s", r, err);
	}
}

static int
collect(const char *platform_id, const struct index_item *it, void *arg)
{
	char *out = arg;
	size_t n = strlen(out);

	(void)it;
	snprintf(out + n, 256 - n, "%s%s", n ? "," : "", platform_id);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort the names in a comma-separated list (the order is not promised). */
static void
sort_csv(char *csv)
{
	char copy[256], *names[32], *save = NULL, *t;
	size_t n = 0, i, len = 0;

	snprintf(copy, sizeof(copy), "%s", csv);
	for (t = strtok_r(copy, ",", &save); t != NULL && n < 32;
	    t = strtok_r(NULL, ",", &save))
		names[n++] = t;
	qsort(names, n, sizeof(names[0]), cmp_str);
	csv[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(csv + len, 256 - len, "%s%s",
		    i ? "," : "", names[i]);
}

static int
fail_cb(const char *platform_id, const struct index_item *it, void *arg)
{
	(void)platform_id;
	(void)it;
	(void)arg;
	return -ECANCELED;
}

static void
test_segments_records(struct index *ix)
{
	struct rec_meta m;
	char *name = NULL;
	int64_t id = 0, n = -1;
	uint64_t end = 1;

	is_int(index_segment_open(ix, &id, &name, &end), -ENOENT,
	    "segments: none open");
	is_int(index_segment_add(ix, "seg-000001.warc.gz", T0, &seg_id), 0,
	    "segments: add");
	is_int(index_segment_open(ix, &id, &name, &end), 0, "segments: open");
	ok(id == seg_id && name != NULL &&
	    strcmp(name, "seg-000001.warc.gz") == 0 && end == 0,
	    "segments: the open one, end 0 with no records");
	free(name);
	name = NULL;
	record_meta_init(&m, REC_WARCINFO);
	is_int(index_record(ix, &m, seg_id, 0, 321, "ab", 0, "x", 1, NULL), 0,
	    "records: warcinfo");
	next_off = 321;
	is_int(index_has_record(ix, m.record_id), 1, "records: has it");
	is_int(index_has_record(ix, "urn:uuid:nope"), 0, "records: not that");
	ok(index_record(ix, &m, seg_id, 5000, 10, "ab", 0, "x", 1, NULL) < 0,
	    "records: the same record id twice is refused");
	record_meta_init(&m, REC_WARCINFO);
	ok(index_record(ix, &m, seg_id, 0, 10, "ab", 0, "x", 1, NULL) < 0,
	    "records: two records at one offset are refused");
	index_segment_open(ix, &id, &name, &end);
	is_int(end, 321, "segments: end = offset + length of the last");
	free(name);
	name = NULL;
	index_segment_count(ix, &n);
	is_int(n, 1, "segments: count");
}

static void
test_versions(struct index *ix)
{
	struct index_item it;
	char hash1[HASH_HEX_LEN];
	int64_t before;

	is_int(index_item_get(ix, account_id, "p1", &it), -ENOENT,
	    "item_get of an unknown item: -ENOENT");
	is_int(version(ix, "p1", "post", NULL, "first words about zebras",
	    T0 + 10, T0), 0, "version 1 of p1");
	memset(&it, 0, sizeof(it));
	is_int(index_item_get(ix, account_id, "p1", &it), 0, "item_get p1");
	is_str(it.state, "live", "p1: live");
	is_int(it.nversions, 1, "p1: 1 version");
	is_int(it.created, T0, "p1: created");
	is_int(it.last_seen, T0 + 10, "p1: last_seen = capture time");
	is_int(it.last_platform_time, T0 + 5, "p1: platform time");
	is_str(it.edit_marker, "first words about zebras", "p1: edit marker");
	is_int(it.first_missing, 0, "p1: not missing");
	is_int(it.hidden, 0, "p1: not hidden");
	memcpy(hash1, it.last_hash, sizeof(hash1));
	ok(strlen(hash1) == 64, "p1: last_hash is the content hash");

	is_int(version(ix, "p1", "post", NULL, "second words about lions",
	    T0 + 20, T0), 0, "version 2 of p1");
	index_item_get(ix, account_id, "p1", &it);
	is_str(it.state, "edited", "p1: live -> edited");
	is_int(it.nversions, 2, "p1: items.nversions 2");
	ok(strcmp(it.last_hash, hash1) != 0, "p1: last_hash is the newest");
	is_int(it.last_seen, T0 + 20, "p1: last_seen moves forward");
	is_int(qint(ix, "SELECT COUNT(*) FROM versions v JOIN items i ON"
	    " i.id = v.item_id WHERE i.platform_id = 'p1'"), 2,
	    "p1: two versions rows");
	is_int(qint(ix, "SELECT COUNT(*) FROM items WHERE platform_id ="
	    " 'p1'"), 1, "p1: still one item");
	is_str(qtext(ix, "SELECT author FROM items WHERE platform_id = 'p1'"),
	    "City Hall", "p1: author");

	/* FTS finds a word only the old version had. */
	is_int(qint(ix, "SELECT COUNT(*) FROM versions_fts WHERE versions_fts"
	    " MATCH 'zebras'"), 1, "fts: a word of the old version");
	is_int(qint(ix, "SELECT rowid = (SELECT MIN(id) FROM versions) FROM"
	    " versions_fts WHERE versions_fts MATCH 'zebras'"), 1,
	    "fts: its rowid is the first version's id");
	is_int(qint(ix, "SELECT COUNT(*) FROM versions_fts WHERE versions_fts"
	    " MATCH 'lions'"), 1, "fts: a word of the new version");
	is_int(qint(ix, "SELECT COUNT(*) FROM versions_fts WHERE versions_fts"
	    " MATCH 'hall'"), 2, "fts: the author is searchable");

	before = qint(ix, "SELECT COUNT(*) FROM versions");
	{
		struct rec_meta m;

		record_meta_init(&m, REC_VERSION);
		m.account = "no-such-account";
		m.item_id = "zz";
		memcpy(m.content_hash, hash1, sizeof(hash1));
		ok(add(ix, &m, "{}", NULL) < 0,
		    "a version of an unknown account is refused");
	}
	is_int(qint(ix, "SELECT COUNT(*) FROM versions"), before,
	    "nothing added for it");
}

static void
test_events(struct index *ix)
{
	struct index_item it;
	int64_t n = -1;

	version(ix, "p2", "post", NULL, "p2 text", T0 + 30, T0 + 1);

	is_int(event(ix, "p1", "hidden", T0 + 40, NULL), 0, "event hidden p1");
	index_item_get(ix, account_id, "p1", &it);
	ok(it.hidden == 1 && strcmp(it.state, "hidden") == 0,
	    "hidden: hidden = 1, state hidden");
	is_int(event(ix, "p1", "unhidden", T0 + 50, NULL), 0, "unhidden p1");
	index_item_get(ix, account_id, "p1", &it);
	ok(it.hidden == 0 && strcmp(it.state, "edited") == 0,
	    "unhidden: hidden = 0, back to edited (2 versions)");
	event(ix, "p2", "hidden", T0 + 51, NULL);
	event(ix, "p2", "unhidden", T0 + 52, NULL);
	index_item_get(ix, account_id, "p2", &it);
	ok(it.hidden == 0 && strcmp(it.state, "live") == 0,
	    "unhidden: back to live (1 version)");

	is_int(index_item_missing(ix, it.id, T0 + 55), 0, "item_missing p2");
	index_item_missing(ix, it.id, T0 + 58);
	index_item_get(ix, account_id, "p2", &it);
	is_int(it.first_missing, T0 + 55,
	    "item_missing keeps the first time");
	is_int(event(ix, "p2", "removed", T0 + 60,
	    "{\"event\":\"removed\","
	    "\"first_missing\":\"2026-03-02T14:05:00Z\"}"),
	    0, "event removed p2");
	index_item_get(ix, account_id, "p2", &it);
	is_str(it.state, "removed", "removed: state removed");
	is_int(qint(ix, "SELECT removed_at FROM items WHERE platform_id ="
	    " 'p2'"), T0 + 60, "removed: removed_at = event time");
	is_int(it.first_missing, T0 - 9,
	    "removed: first_missing from the event detail");
	event(ix, "p2", "hidden", T0 + 61, NULL);
	index_item_get(ix, account_id, "p2", &it);
	ok(it.hidden == 1 && strcmp(it.state, "removed") == 0,
	    "hidden on a removed item: stays removed");
	event(ix, "p2", "unhidden", T0 + 62, NULL);
	is_int(event(ix, "p2", "restored", T0 + 70, NULL), 0, "event restored");
	index_item_get(ix, account_id, "p2", &it);
	is_str(it.state, "restored", "restored: state restored");
	is_int(it.first_missing, 0, "restored: first_missing cleared");
	is_int(it.last_seen, T0 + 70, "restored: last_seen = event time");

	is_int(event(ix, "nope", "removed", T0 + 71, NULL), 0,
	    "event about an unknown item is kept");
	is_int(qint(ix, "SELECT item_id IS NULL FROM events ORDER BY id DESC"
	    " LIMIT 1"), 1, "with no item");
	is_int(qint(ix, "SELECT COUNT(*) FROM events"), 9,
	    "every event has an events row");
	is_str(qtext(ix, "SELECT detail FROM events WHERE type = 'removed'"
	    " ORDER BY id LIMIT 1"), "{\"event\":\"removed\",\"first_missing\":"
	    "\"2026-03-02T14:05:00Z\"}", "events.detail is the block");

	/* Gaps. */
	index_open_gaps(ix, account_id, &n);
	is_int(n, 0, "gaps: none open");
	is_int(event(ix, NULL, "gap", T0 + 80,
	    "{\"event\":\"gap\",\"reason\":\"timeout\"}"), 0, "gap 1");
	is_int(event(ix, NULL, "gap", T0 + 81, "not json"), 0,
	    "gap 2 with an unreadable detail");
	index_open_gaps(ix, account_id, &n);
	is_int(n, 2, "gaps: two open");
	is_str(qtext(ix, "SELECT reason FROM gaps ORDER BY id LIMIT 1"),
	    "timeout", "gaps: reason from the detail");
	is_str(qtext(ix, "SELECT reason FROM gaps ORDER BY id DESC LIMIT 1"),
	    "unknown", "gaps: 'unknown' without one");
	is_int(qint(ix, "SELECT opened FROM gaps ORDER BY id LIMIT 1"),
	    T0 + 80, "gaps: opened = event time");
	is_int(event(ix, NULL, "gap-closed", T0 + 90, NULL), 0, "gap-closed");
	index_open_gaps(ix, account_id, &n);
	is_int(n, 0, "gaps: all closed");
	is_int(qint(ix, "SELECT COUNT(*) FROM gaps WHERE closed = 1772460399"),
	    2, "gaps: closed = the gap-closed time");
	{
		struct rec_meta m;

		record_meta_init(&m, REC_EVENT);
		m.event = "checkpoint";	/* the archive's own: no account */
		is_int(add(ix, &m, "{}", NULL), 0, "archive event indexed");
	}
	is_int(qint(ix, "SELECT COUNT(*) FROM events"), 13,
	    "archive events are indexed too");
	is_int(qint(ix, "SELECT COUNT(*) FROM events WHERE type ="
	    " 'checkpoint' AND account_id IS NULL AND item_id IS NULL"), 1,
	    "an archive event belongs to no account or item");
}

static void
test_queries(struct index *ix)
{
	struct index_item it;
	char got[256];
	int64_t id3, id4;

	/* p3 old post, p4 new post; c1/c2 comments of p3; r1 reply. */
	version(ix, "p3", "post", NULL, "p3", T0 + 100, T0 - 40 * DAY);
	version(ix, "p4", "post", NULL, "p4", T0 + 100, T0 - 1 * DAY);
	version(ix, "c1", "comment", "p3", "c1", T0 + 100, T0 - 39 * DAY);
	version(ix, "c2", "comment", "p3", "c2", T0 + 100, T0 - 39 * DAY);
	version(ix, "r1", "reply", "p3", "r1", T0 + 100, T0 - 38 * DAY);
	index_item_get(ix, account_id, "p3", &it);
	id3 = it.id;
	index_item_get(ix, account_id, "p4", &it);
	id4 = it.id;

	/* Seen in a later listing: p4, c1. */
	index_item_seen(ix, id4, T0 + 200, "marker-2");
	index_item_get(ix, account_id, "p4", &it);
	ok(it.last_seen == T0 + 200 && strcmp(it.edit_marker, "marker-2") == 0,
	    "item_seen: last_seen and edit marker");
	index_item_missing(ix, id4, T0 + 150);
	index_item_seen(ix, id4, T0 + 160, NULL);
	index_item_get(ix, account_id, "p4", &it);
	ok(it.first_missing == 0 && it.last_seen == T0 + 200 &&
	    strcmp(it.edit_marker, "marker-2") == 0,
	    "item_seen: clears first_missing, never moves back, keeps marker");
	index_item_get(ix, account_id, "c1", &it);
	index_item_seen(ix, it.id, T0 + 200, NULL);

	got[0] = '\0';
	is_int(index_missing_candidates(ix, account_id, NULL, T0 - 60 * DAY,
	    T0 + 200, collect, got), 0, "missing posts");
	sort_csv(got);
	is_str(got, "p1,p2,p3", "missing posts: not seen since the listing"
	    " began, not removed (restored p2 is a candidate again)");
	got[0] = '\0';
	index_missing_candidates(ix, account_id, NULL, T0 - 10 * DAY,
	    T0 + 200, collect, got);
	sort_csv(got);
	is_str(got, "p1,p2", "missing posts: created before `since` skipped");
	got[0] = '\0';
	index_missing_candidates(ix, account_id, "p3", 0, T0 + 200, collect,
	    got);
	sort_csv(got);
	is_str(got, "c2,r1", "missing thread: comments and replies of p3"
	    " not seen since (c1 was)");
	is_int(index_missing_candidates(ix, account_id, NULL, 0, T0 + 200,
	    fail_cb, NULL), -ECANCELED, "a callback error is returned");

	/* Due threads: next_check NULL counts as due now. */
	index_item_next_check(ix, id3, T0 + 500);
	index_item_next_check(ix, id4, T0 + 300);
	got[0] = '\0';
	is_int(index_due_threads(ix, account_id, T0 + 400, 10, collect, got),
	    0, "due threads");
	is_str(got, "p2,p1,p4", "due: never checked first (newest post"
	    " first), then by next_check; p3 not yet due");
	got[0] = '\0';
	index_due_threads(ix, account_id, T0 + 1000, 2, collect, got);
	is_str(got, "p2,p1", "due: limit");
	got[0] = '\0';
	index_due_threads(ix, account_id, T0 + 1000, 10, collect, got);
	is_str(got, "p2,p1,p4,p3", "due: every post, earliest due first");
}

static void
test_media_accounts(struct index *ix)
{
	struct rec_meta m;
	const char *block = "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n"
	    "PNGDATA";
	char want[HASH_HEX_LEN];
	int64_t id = 0, id2 = 0, t = -1;

	record_meta_init(&m, REC_RESPONSE);
	m.account = ACCOUNT;
	m.item_id = "p1";
	m.media_key = "media-1";
	is_int(add(ix, &m, block, NULL), 0, "media response indexed");
	is_int(index_media_has(ix, account_id, "media-1"), 1, "media: has it");
	is_int(index_media_has(ix, account_id, "media-2"), 0,
	    "media: not that");
	hash_sha256_hex("PNGDATA", 7, want);
	is_str(qtext(ix, "SELECT sha256 FROM media WHERE media_key ="
	    " 'media-1'"), want, "media: sha256 of the body");
	is_int(qint(ix, "SELECT size FROM media WHERE media_key = 'media-1'"),
	    7, "media: size of the body");

	is_int(index_account(ix, ACCOUNT, "mastodon", "43", &id), 0,
	    "account: upsert");
	is_int(id, account_id, "account: same name, same id");
	is_str(qtext(ix, "SELECT platform_id FROM accounts WHERE name ="
	    " 'city-mastodon'"), "43", "account: platform id updated");
	is_int(index_account_id(ix, ACCOUNT, &id2), 0, "account_id");
	is_int(id2, account_id, "account_id: value");
	is_int(index_account_id(ix, "nobody", &id2), -ENOENT,
	    "account_id: unknown -ENOENT");
	is_int(index_account_status(ix, account_id, "ok", NULL, T0, T0, 0), 0,
	    "status ok");
	index_account_status(ix, account_id, "gap", "1 gap", T0 + 5, 0,
	    T0 + 99);
	is_int(qint(ix, "SELECT last_poll_ok FROM accounts"), T0,
	    "status: last_poll_ok 0 leaves it");
	is_int(qint(ix, "SELECT last_poll FROM accounts"), T0 + 5,
	    "status: last_poll");
	is_int(qint(ix, "SELECT paused_until FROM accounts"), T0 + 99,
	    "status: paused_until");
	index_account_status(ix, account_id, "ok", NULL, T0 + 6, T0 + 6, 0);
	is_int(qint(ix, "SELECT paused_until FROM accounts"), -1,
	    "status: paused_until 0 -> NULL");
	index_account_last_full_scan(ix, account_id, &t);
	is_int(t, 0, "full scan: never -> 0");
	index_account_full_scan(ix, account_id, T0 + 7);
	index_account_last_full_scan(ix, account_id, &t);
	is_int(t, T0 + 7, "full scan: recorded");
}

static void
test_transactions(struct index *ix)
{
	int64_t before = qint(ix, "SELECT COUNT(*) FROM versions");

	is_int(index_begin(ix), 0, "begin");
	is_int(index_begin(ix), 0, "begin again is a no-op");
	ok(ix->in_txn, "in a transaction");
	version(ix, "t1", "post", NULL, "rolled back", T0, T0);
	index_rollback(ix);
	ok(!ix->in_txn, "rollback ends it");
	is_int(qint(ix, "SELECT COUNT(*) FROM versions"), before,
	    "rollback discards");
	index_begin(ix);
	version(ix, "t2", "post", NULL, "committed", T0, T0);
	is_int(index_commit(ix), 0, "commit");
	is_int(qint(ix, "SELECT COUNT(*) FROM versions"), before + 1,
	    "commit keeps");
	is_int(index_commit(ix), 0, "commit outside a transaction: 0");
	is_int(index_segment_seal(ix, seg_id, T0, 1234, "abcd", 1), 0,
	    "segment seal");
	{
		char *name = NULL;
		int64_t id;
		uint64_t end;

		is_int(index_segment_open(ix, &id, &name, &end), -ENOENT,
		    "sealed segment is not open");
		free(name);
	}
	is_int(qint(ix, "SELECT suspect FROM segments"), 1, "segment suspect");
}

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

int
main(void)
{
	struct index ix;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, INDEX_FILE);
	test_open();
	if (index_open(&ix, path, 0, err, sizeof(err)) != 0) {
		printf("# %s\n", err);
		return 1;
	}
	index_account_id(&ix, ACCOUNT, &account_id);
	test_segments_records(&ix);
	test_versions(&ix);
	test_events(&ix);
	test_queries(&ix);
	test_media_accounts(&ix);
	test_transactions(&ix);
	index_close(&ix);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
