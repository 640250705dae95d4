/*
 * index.c - the SQLite index. Statements are prepared once and kept; the
 * daemon holds one write transaction per batch, committed only after the
 * archive bytes it points at are durable (see store.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>
#include <openssl/evp.h>

#include "index.h"
#include "request.h"
#include "util.h"
#include "xalloc.h"

#include "schema.h"	/* generated from daemon/schema.sql: SCHEMA_SQL */

#define APPLICATION_ID	0x53554e41	/* "SUNA" */

enum {
	Q_ACCOUNT_UPSERT, Q_ACCOUNT_ID, Q_ACCOUNT_STATUS, Q_ACCOUNT_SCAN,
	Q_ACCOUNT_LAST_SCAN, Q_SEG_ADD, Q_SEG_SEAL, Q_SEG_OPEN, Q_SEG_END,
	Q_SEG_COUNT, Q_REC_ADD, Q_REC_HAS, Q_ITEM_GET, Q_ITEM_INSERT,
	Q_ITEM_UPDATE_VERSION, Q_VERSION_ADD, Q_FTS_ADD, Q_ITEM_SEEN,
	Q_ITEM_MISSING, Q_ITEM_NEXT, Q_MISSING_POSTS, Q_MISSING_THREAD,
	Q_DUE, Q_MEDIA_HAS, Q_MEDIA_ADD, Q_EVENT_ADD, Q_GAP_OPEN,
	Q_GAP_CLOSE, Q_GAP_COUNT, Q_ITEM_REMOVED, Q_ITEM_RESTORED,
	Q_ITEM_HIDDEN, Q_ITEM_ID, Q_SEG_DELETE, Q_ACCOUNT_SAME, Q_RECORDS_AFTER, Q_LAST_CP,
	Q_CP_ADD, Q_CP_TOKEN, Q_CP_NEWS, Q_COUNT
};

static const char *sql[Q_COUNT] = {
	[Q_ACCOUNT_UPSERT] = "INSERT INTO accounts(name, platform, platform_id)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT(name) DO UPDATE SET"
	    " platform = ?2, platform_id = ?3 RETURNING id",
	[Q_ACCOUNT_ID] = "SELECT id FROM accounts WHERE name = ?1",
	[Q_ACCOUNT_STATUS] = "UPDATE accounts SET status = ?2,"
	    " status_detail = ?3, last_poll = ?4,"
	    " last_poll_ok = CASE WHEN ?5 > 0 THEN ?5 ELSE last_poll_ok END,"
	    " paused_until = NULLIF(?6, 0) WHERE id = ?1",
	[Q_ACCOUNT_SCAN] = "UPDATE accounts SET last_full_scan = ?2"
	    " WHERE id = ?1",
	[Q_ACCOUNT_LAST_SCAN] = "SELECT COALESCE(last_full_scan, 0)"
	    " FROM accounts WHERE id = ?1",
	[Q_SEG_ADD] = "INSERT INTO segments(name, created) VALUES (?1, ?2)",
	[Q_SEG_SEAL] = "UPDATE segments SET sealed = ?2, size = ?3,"
	    " sha256 = ?4, suspect = ?5 WHERE id = ?1",
	[Q_SEG_OPEN] = "SELECT id, name FROM segments WHERE sealed IS NULL"
	    " ORDER BY id DESC LIMIT 1",
	[Q_SEG_END] = "SELECT COALESCE(MAX(offset + length), 0) FROM records"
	    " WHERE segment_id = ?1",
	[Q_SEG_COUNT] = "SELECT COUNT(*) FROM segments",
	[Q_REC_ADD] = "INSERT INTO records(record_id, segment_id, offset,"
	    " length, sha256, type, date, account_id, target_uri, recovered)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[Q_REC_HAS] = "SELECT 1 FROM records WHERE record_id = ?1",
	[Q_ITEM_GET] = "SELECT i.id, i.state, i.hidden, i.nversions,"
	    " COALESCE(i.created, 0), i.last_seen,"
	    " COALESCE(i.first_missing, 0), COALESCE(i.edit_marker, ''),"
	    " v.hash, COALESCE(v.platform_time, 0)"
	    " FROM items i LEFT JOIN versions v ON v.id ="
	    " (SELECT MAX(id) FROM versions WHERE item_id = i.id)"
	    " WHERE i.account_id = ?1 AND i.platform_id = ?2",
	[Q_ITEM_INSERT] = "INSERT INTO items(account_id, platform,"
	    " platform_id, kind, parent_id, root_id, author, author_id,"
	    " created, url, first_seen, last_seen, edit_marker, hidden,"
	    " nversions) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
	    " ?11, ?12, ?13, 1)",
	[Q_ITEM_UPDATE_VERSION] = "UPDATE items SET nversions = nversions + 1,"
	    " author = COALESCE(?2, author), author_id = COALESCE(?3,"
	    " author_id), url = COALESCE(?4, url),"
	    " last_seen = MAX(last_seen, ?5),"
	    " edit_marker = COALESCE(?6, edit_marker),"
	    " state = CASE WHEN state IN ('live', 'edited')"
	    " THEN (CASE WHEN nversions + 1 > 1 THEN 'edited' ELSE 'live' END)"
	    " ELSE state END WHERE id = ?1",
	[Q_VERSION_ADD] = "INSERT INTO versions(item_id, seq, hash, captured,"
	    " platform_time, source_seq, text) VALUES (?1, ?2, ?3, ?4,"
	    " NULLIF(?5, 0), (SELECT seq FROM records WHERE record_id = ?6),"
	    " ?7)",
	[Q_FTS_ADD] = "INSERT INTO versions_fts(rowid, text, author)"
	    " VALUES (?1, ?2, ?3)",
	[Q_ITEM_SEEN] = "UPDATE items SET last_seen = MAX(last_seen, ?2),"
	    " first_missing = NULL, edit_marker = COALESCE(?3, edit_marker)"
	    " WHERE id = ?1",
	[Q_ITEM_MISSING] = "UPDATE items SET first_missing ="
	    " COALESCE(first_missing, ?2) WHERE id = ?1",
	[Q_ITEM_NEXT] = "UPDATE items SET next_check = ?2 WHERE id = ?1",
	[Q_MISSING_POSTS] = "SELECT platform_id, id, state, hidden,"
	    " COALESCE(created, 0), last_seen, COALESCE(first_missing, 0)"
	    " FROM items WHERE account_id = ?1 AND kind = 'post'"
	    " AND state != 'removed' AND created >= ?2 AND last_seen < ?3",
	[Q_MISSING_THREAD] = "SELECT platform_id, id, state, hidden,"
	    " COALESCE(created, 0), last_seen, COALESCE(first_missing, 0)"
	    " FROM items WHERE account_id = ?1 AND root_id = ?2"
	    " AND kind != 'post' AND state != 'removed' AND last_seen < ?3",
	[Q_DUE] = "SELECT platform_id, id, state, hidden,"
	    " COALESCE(created, 0), last_seen, COALESCE(first_missing, 0)"
	    " FROM items WHERE account_id = ?1 AND kind = 'post'"
	    " AND state != 'removed' AND COALESCE(next_check, 0) <= ?2"
	    " ORDER BY COALESCE(next_check, 0), created DESC LIMIT ?3",
	[Q_MEDIA_HAS] = "SELECT 1 FROM media WHERE account_id = ?1"
	    " AND media_key = ?2",
	[Q_MEDIA_ADD] = "INSERT OR IGNORE INTO media(account_id, media_key,"
	    " item_id, seq, sha256, content_type, size) VALUES ((SELECT id"
	    " FROM accounts WHERE name = ?1), ?2, (SELECT i.id FROM items i"
	    " JOIN accounts a ON a.id = i.account_id WHERE a.name = ?1 AND"
	    " i.platform_id = ?3), ?4, ?5, ?6, ?7)",
	[Q_EVENT_ADD] = "INSERT INTO events(seq, account_id, item_id, type,"
	    " time, detail) VALUES (?1, (SELECT id FROM accounts WHERE"
	    " name = ?2), ?3, ?4, ?5, ?6)",
	[Q_GAP_OPEN] = "INSERT INTO gaps(account_id, opened, reason, detail,"
	    " seq) VALUES ((SELECT id FROM accounts WHERE name = ?1), ?2, ?3,"
	    " ?4, ?5)",
	[Q_GAP_CLOSE] = "UPDATE gaps SET closed = ?2 WHERE closed IS NULL"
	    " AND account_id = (SELECT id FROM accounts WHERE name = ?1)",
	[Q_GAP_COUNT] = "SELECT COUNT(*) FROM gaps WHERE account_id = ?1"
	    " AND closed IS NULL",
	[Q_ITEM_REMOVED] = "UPDATE items SET state = 'removed',"
	    " removed_at = ?2, first_missing = COALESCE(?3, first_missing)"
	    " WHERE id = ?1",
	[Q_ITEM_RESTORED] = "UPDATE items SET state = 'restored',"
	    " first_missing = NULL, last_seen = MAX(last_seen, ?2)"
	    " WHERE id = ?1",
	[Q_ITEM_HIDDEN] = "UPDATE items SET hidden = ?2, state = CASE"
	    " WHEN state = 'removed' THEN state WHEN ?2 THEN 'hidden'"
	    " WHEN nversions > 1 THEN 'edited' ELSE 'live' END WHERE id = ?1",
	[Q_ACCOUNT_SAME] = "SELECT 1 FROM accounts a WHERE name = ?1 AND"
	    " platform = ?2 AND platform_id = ?3 AND EXISTS (SELECT 1 FROM"
	    " events e WHERE e.account_id = a.id AND e.type = 'account')",
	[Q_RECORDS_AFTER] = "SELECT seq, sha256 FROM records WHERE seq > ?1"
	    " ORDER BY seq",
	[Q_LAST_CP] = "SELECT COALESCE(MAX(size), 0) FROM checkpoints",
	[Q_CP_NEWS] = "SELECT COUNT(*) FROM records r WHERE r.seq >"
	    " (SELECT COALESCE(MAX(seq), 0) FROM checkpoints) AND NOT EXISTS"
	    " (SELECT 1 FROM events e WHERE e.seq = r.seq AND e.type IN"
	    " ('checkpoint', 'timestamp'))",
	[Q_CP_ADD] = "INSERT INTO checkpoints(seq, size, root, time, note,"
	    " signer) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_CP_TOKEN] = "UPDATE checkpoints SET tsa_token = ?2 WHERE seq ="
	    " (SELECT seq FROM records WHERE record_id = ?1)",
	[Q_SEG_DELETE] = "DELETE FROM segments WHERE id = ?1 AND NOT EXISTS"
	    " (SELECT 1 FROM records WHERE segment_id = ?1)",
	[Q_ITEM_ID] = "SELECT id FROM items WHERE account_id = ?1"
	    " AND platform_id = ?2",
};

static sqlite3_stmt *
q(struct index *ix, int which)
{
	sqlite3_stmt *st = ix->stmts[which];

	if (st == NULL) {
		if (sqlite3_prepare_v3(ix->db, sql[which], -1,
		    SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
			fprintf(stderr, "<2>index: cannot prepare statement %d:"
			    " %s\n", which, sqlite3_errmsg(ix->db));
			abort();	/* a bug, not a runtime condition */
		}
		ix->stmts[which] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static int
sqlerr(int rc)
{
	switch (rc) {
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return -EACCES;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_NOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/* Step a statement that returns no rows (or whose rows are ignored). */
static int
run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	return sqlerr(rc);
}

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static int
exec(struct index *ix, const char *s)
{
	int rc = sqlite3_exec(ix->db, s, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sqlerr(rc);
}

static int
pragma_int(struct index *ix, const char *s, int64_t *ret)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(ix->db, s, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

/*
 * Schema migrations: step i takes user_version i to i + 1. Step 0 is the
 * base schema (daemon/schema.sql); later steps only add.
 */
static const char *migrations[] = {
	SCHEMA_SQL,
	/* 1 -> 2: signed ledger checkpoints (a metadata record each). */
	"CREATE TABLE checkpoints ("
	" id INTEGER PRIMARY KEY,"
	" seq INTEGER UNIQUE REFERENCES records(seq),"
	" size INTEGER NOT NULL,"		/* ledger leaves covered */
	" root TEXT NOT NULL,"			/* hex Merkle root */
	" time INTEGER NOT NULL,"
	" note TEXT NOT NULL,"			/* the signed note */
	" signer TEXT,"				/* key name, NULL if unsigned */
	" tsa_token BLOB);",			/* RFC 3161 token, DER */
	/*
	 * 2 -> 3: search (query.c). Text matches (versions_fts rowids) map to
	 * their items through version_items, a rowid table kept by a
	 * trigger (an integer-keyed seek, cheaper than one in an index on
	 * versions, and the text rows are not read), and are checked
	 * against the other filters in items_by_id; each sort key
	 * and common filter has an index in creation order, carrying the
	 * columns most often filtered on with it, so that walking it in
	 * order needs no row until the page is found; item_authors,
	 * kept by triggers, lists each distinct author once, so that an
	 * author substring is looked for among names, not items. IF NOT
	 * EXISTS: a copy whose version was set back keeps its objects.
	 */
	"CREATE TABLE IF NOT EXISTS version_items (id INTEGER PRIMARY KEY,"
	" item_id INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO version_items(id, item_id)"
	" SELECT id, item_id FROM versions;"
	"CREATE TRIGGER IF NOT EXISTS version_items_insert"
	" AFTER INSERT ON versions BEGIN"
	" INSERT INTO version_items(id, item_id) VALUES (new.id, new.item_id);"
	" END;"
	"CREATE INDEX IF NOT EXISTS items_by_created"
	" ON items(created, account_id, kind, state, hidden);"
	"CREATE INDEX IF NOT EXISTS items_by_captured ON items(first_seen);"
	"CREATE INDEX IF NOT EXISTS items_by_id ON items(id, account_id,"
	" created, first_seen, kind, state, hidden, platform, nversions);"
	"CREATE INDEX IF NOT EXISTS items_by_kind"
	" ON items(kind, created, account_id);"
	"CREATE INDEX IF NOT EXISTS items_by_state"
	" ON items(state, created, account_id);"
	"CREATE INDEX IF NOT EXISTS items_by_hidden"
	" ON items(hidden, created, account_id);"
	"CREATE INDEX IF NOT EXISTS items_by_author"
	" ON items(author, created, account_id, kind, state, hidden);"
	"CREATE TABLE IF NOT EXISTS item_authors"
	" (name TEXT PRIMARY KEY) WITHOUT ROWID;"
	"INSERT OR IGNORE INTO item_authors(name)"
	" SELECT DISTINCT author FROM items WHERE author IS NOT NULL;"
	"CREATE TRIGGER IF NOT EXISTS item_authors_insert"
	" AFTER INSERT ON items"
	" WHEN new.author IS NOT NULL BEGIN"
	" INSERT OR IGNORE INTO item_authors(name) VALUES (new.author); END;"
	"CREATE TRIGGER IF NOT EXISTS item_authors_update"
	" AFTER UPDATE OF author ON items"
	" WHEN new.author IS NOT NULL AND new.author IS NOT old.author BEGIN"
	" INSERT OR IGNORE INTO item_authors(name) VALUES (new.author); END;",
	/*
	 * 3 -> 4: records requests and legal holds (request.c), derived
	 * from the request-* and hold-* events. A hold is one item under
	 * one hold id (the request id, or HOLD-YYYY-NNNN placed by hand);
	 * released is NULL while it holds.
	 */
	"CREATE TABLE IF NOT EXISTS requests ("
	" id INTEGER PRIMARY KEY,"
	" request_id TEXT UNIQUE NOT NULL,"	/* PRR-YYYY-NNNN */
	" requester TEXT NOT NULL,"
	" received INTEGER NOT NULL,"		/* custodian's receipt */
	" state TEXT NOT NULL CHECK (state IN ('FL', 'MO')),"
	" description TEXT NOT NULL,"
	" search TEXT NOT NULL,"		/* the filter, JSON */
	" acknowledged INTEGER,"
	" deadline INTEGER,"			/* MO: end of 3rd business day */
	" status TEXT NOT NULL DEFAULT 'open'"
	" CHECK (status IN ('open', 'closed')),"
	" disposition TEXT,"	/* fulfilled|partial|no-records|denied */
	" closed INTEGER,"
	" note TEXT,"				/* closing note */
	" opened INTEGER NOT NULL,"
	" opened_by TEXT,"
	" closed_by TEXT);"
	"CREATE INDEX IF NOT EXISTS requests_by_status"
	" ON requests(status, deadline);"
	"CREATE TABLE IF NOT EXISTS holds ("
	" id INTEGER PRIMARY KEY,"
	" item_id INTEGER NOT NULL REFERENCES items(id),"
	" hold_id TEXT NOT NULL,"		/* request id or HOLD-... */
	" request_id TEXT,"			/* NULL: placed by hand */
	" reason TEXT,"
	" placed INTEGER NOT NULL,"
	" released INTEGER,"			/* NULL while it holds */
	" note TEXT,"				/* why it was released */
	" UNIQUE (item_id, hold_id));"
	"CREATE INDEX IF NOT EXISTS holds_active ON holds(item_id)"
	" WHERE released IS NULL;"
	"CREATE INDEX IF NOT EXISTS holds_by_hold ON holds(hold_id);"
	"CREATE INDEX IF NOT EXISTS holds_by_request ON holds(request_id);",
};

static int
index_migrate(struct index *ix, char *err, size_t errlen)
{
	int64_t v = 0;
	char step[64];
	int r;

	r = pragma_int(ix, "PRAGMA user_version", &v);
	if (r < 0)
		return r;
	if (v > INDEX_SCHEMA_VERSION) {
		snprintf(err, errlen, "index schema version %lld is newer than"
		    " this program's (%d)", (long long)v, INDEX_SCHEMA_VERSION);
		return -EPROTO;
	}
	for (; v < INDEX_SCHEMA_VERSION; v++) {
		r = exec(ix, "BEGIN IMMEDIATE");
		if (r == 0)
			r = exec(ix, migrations[v]);
		if (r == 0 && v == 0)
			r = exec(ix, "PRAGMA application_id = 1398099521");
		snprintf(step, sizeof(step), "PRAGMA user_version = %lld",
		    (long long)v + 1);
		if (r == 0)
			r = exec(ix, step);
		if (r == 0)
			r = exec(ix, "COMMIT");
		if (r < 0) {
			snprintf(err, errlen, "cannot migrate index schema to"
			    " version %lld: %s", (long long)v + 1,
			    sqlite3_errmsg(ix->db));
			exec(ix, "ROLLBACK");
			return r;
		}
	}
	return 0;
}

int
index_open(struct index *ix, const char *path, int readonly, char *err,
    size_t errlen)
{
	int64_t sync = -1;
	char mode[16] = "";
	sqlite3_stmt *st;
	int flags, rc, r;

	memset(ix, 0, sizeof(*ix));
	ix->readonly = readonly;
	flags = readonly ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &ix->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open index '%s': %s", path,
		    ix->db != NULL ? sqlite3_errmsg(ix->db) :
		    sqlite3_errstr(rc));
		r = sqlerr(rc);
		goto out_close;
	}
	sqlite3_busy_timeout(ix->db, 5000);
	sqlite3_db_config(ix->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	r = exec(ix, "PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF");
	if (r == 0 && !readonly)
		r = exec(ix, "PRAGMA journal_mode = WAL;"
		    " PRAGMA synchronous = FULL;"
		    " PRAGMA wal_autocheckpoint = 4000");
	if (r < 0) {
		snprintf(err, errlen, "cannot configure index '%s': %s", path,
		    sqlite3_errmsg(ix->db));
		goto out_close;
	}
	if (!readonly) {
		/* D7: refuse unless the settings actually took. */
		if (sqlite3_prepare_v2(ix->db, "PRAGMA journal_mode", -1, &st,
		    NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				snprintf(mode, sizeof(mode), "%s",
				    (const char *)sqlite3_column_text(st, 0));
			sqlite3_finalize(st);
		}
		pragma_int(ix, "PRAGMA synchronous", &sync);
		if (strcmp(mode, "wal") != 0 || sync != 2) {
			snprintf(err, errlen, "index '%s': journal_mode is '%s'"
			    " and synchronous %lld; need 'wal' and 2 (FULL)",
			    path, mode, (long long)sync);
			r = -EIO;
			goto out_close;
		}
		r = index_migrate(ix, err, errlen);
		if (r < 0)
			goto out_close;
	}
	return 0;
out_close:
	index_close(ix);
	return r;
}

void
index_close(struct index *ix)
{
	size_t i;

	for (i = 0; i < Q_COUNT; i++)
		if (ix->stmts[i] != NULL)
			sqlite3_finalize(ix->stmts[i]);
	if (ix->db != NULL)
		sqlite3_close(ix->db);
	free(ix->acct_name);
	memset(ix, 0, sizeof(*ix));
}

const char *
index_errmsg(struct index *ix)
{
	return ix->db != NULL ? sqlite3_errmsg(ix->db) : "index not open";
}

int
index_begin(struct index *ix)
{
	int r;

	if (ix->in_txn)
		return 0;
	r = exec(ix, "BEGIN IMMEDIATE");
	if (r == 0)
		ix->in_txn = 1;
	return r;
}

int
index_commit(struct index *ix)
{
	int r;

	if (!ix->in_txn)
		return 0;
	r = exec(ix, "COMMIT");
	if (r < 0)
		index_rollback(ix);
	ix->in_txn = 0;
	return r;
}

void
index_rollback(struct index *ix)
{
	if (sqlite3_get_autocommit(ix->db) == 0)
		exec(ix, "ROLLBACK");
	ix->in_txn = 0;
}

/* Run st, which returns one integer column; -ENOENT with no row. */
static int
one_int(sqlite3_stmt *st, int64_t *ret)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		*ret = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? -ENOENT : sqlerr(rc);
}

int
index_account(struct index *ix, const char *name, const char *platform,
    const char *platform_id, int64_t *ret_id)
{
	sqlite3_stmt *st = q(ix, Q_ACCOUNT_UPSERT);

	bind_text(st, 1, name);
	bind_text(st, 2, platform);
	bind_text(st, 3, platform_id);
	return one_int(st, ret_id);
}

int
index_account_id(struct index *ix, const char *name, int64_t *ret_id)
{
	sqlite3_stmt *st = q(ix, Q_ACCOUNT_ID);

	bind_text(st, 1, name);
	return one_int(st, ret_id);
}

int
index_account_changed(struct index *ix, const char *name,
    const char *platform, const char *platform_id)
{
	sqlite3_stmt *st = q(ix, Q_ACCOUNT_SAME);
	int64_t v;
	int r;

	bind_text(st, 1, name);
	bind_text(st, 2, platform);
	bind_text(st, 3, platform_id);
	r = one_int(st, &v);
	return r == 0 ? 0 : r == -ENOENT ? 1 : r;
}

int
index_account_status(struct index *ix, int64_t id, const char *status,
    const char *detail, int64_t last_poll, int64_t last_poll_ok,
    int64_t paused_until)
{
	sqlite3_stmt *st = q(ix, Q_ACCOUNT_STATUS);

	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, status);
	bind_text(st, 3, detail);
	sqlite3_bind_int64(st, 4, last_poll);
	sqlite3_bind_int64(st, 5, last_poll_ok);
	sqlite3_bind_int64(st, 6, paused_until);
	return run(st);
}

int
index_account_full_scan(struct index *ix, int64_t id, int64_t t)
{
	sqlite3_stmt *st = q(ix, Q_ACCOUNT_SCAN);

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, t);
	return run(st);
}

int
index_account_last_full_scan(struct index *ix, int64_t id, int64_t *ret_t)
{
	sqlite3_stmt *st = q(ix, Q_ACCOUNT_LAST_SCAN);

	sqlite3_bind_int64(st, 1, id);
	return one_int(st, ret_t);
}

int
index_segment_add(struct index *ix, const char *name, int64_t created,
    int64_t *ret_id)
{
	sqlite3_stmt *st = q(ix, Q_SEG_ADD);
	int r;

	bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, created);
	r = run(st);
	if (r == 0)
		*ret_id = sqlite3_last_insert_rowid(ix->db);
	return r;
}

int
index_segment_seal(struct index *ix, int64_t id, int64_t sealed,
    uint64_t size, const char *sha256, int suspect)
{
	sqlite3_stmt *st = q(ix, Q_SEG_SEAL);

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, sealed);
	sqlite3_bind_int64(st, 3, (int64_t)size);
	bind_text(st, 4, sha256);
	sqlite3_bind_int(st, 5, suspect);
	return run(st);
}

int
index_segment_open(struct index *ix, int64_t *ret_id, char **ret_name,
    uint64_t *ret_end)
{
	sqlite3_stmt *st = q(ix, Q_SEG_OPEN);
	int64_t id, end;
	char *name;
	int rc, r;

	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? -ENOENT : sqlerr(rc);
	}
	id = sqlite3_column_int64(st, 0);
	name = xstrdup((const char *)sqlite3_column_text(st, 1));
	sqlite3_reset(st);
	st = q(ix, Q_SEG_END);
	sqlite3_bind_int64(st, 1, id);
	r = one_int(st, &end);
	if (r < 0) {
		free(name);
		return r;
	}
	*ret_id = id;
	*ret_name = name;
	*ret_end = (uint64_t)end;
	return 0;
}

int
index_segment_delete(struct index *ix, int64_t id)
{
	sqlite3_stmt *st = q(ix, Q_SEG_DELETE);

	sqlite3_bind_int64(st, 1, id);
	return run(st);
}

int
index_records_after(struct index *ix, int64_t seq,
    int (*fn)(int64_t seq, const char *sha256, void *arg), void *arg)
{
	sqlite3_stmt *st = q(ix, Q_RECORDS_AFTER);
	int rc, r = 0;

	sqlite3_bind_int64(st, 1, seq);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = fn(sqlite3_column_int64(st, 0),
		    (const char *)sqlite3_column_text(st, 1), arg);
	if (r == 0 && rc != SQLITE_DONE)
		r = sqlerr(rc);
	sqlite3_reset(st);
	return r;
}

int
index_last_checkpoint(struct index *ix, int64_t *ret_size)
{
	return one_int(q(ix, Q_LAST_CP), ret_size);
}

int
index_news_since_checkpoint(struct index *ix, int64_t *ret_n)
{
	return one_int(q(ix, Q_CP_NEWS), ret_n);
}

int
index_segment_count(struct index *ix, int64_t *ret_n)
{
	return one_int(q(ix, Q_SEG_COUNT), ret_n);
}

int
index_has_record(struct index *ix, const char *record_id)
{
	sqlite3_stmt *st = q(ix, Q_REC_HAS);
	int64_t v;
	int r;

	bind_text(st, 1, record_id);
	r = one_int(st, &v);
	return r == 0 ? 1 : r == -ENOENT ? 0 : r;
}

/* Account id by name, cached: every record names its account. */
static int
account_id_of(struct index *ix, const char *name, int64_t *ret_id)
{
	int r;

	if (name == NULL)
		return -ENOENT;
	if (ix->acct_name != NULL && strcmp(ix->acct_name, name) == 0) {
		*ret_id = ix->acct_id;
		return 0;
	}
	r = index_account_id(ix, name, ret_id);
	if (r == 0) {
		free(ix->acct_name);
		ix->acct_name = xstrdup(name);
		ix->acct_id = *ret_id;
	}
	return r;
}

static int
item_id_of(struct index *ix, const char *account, const char *platform_id,
    int64_t *ret_id)
{
	sqlite3_stmt *st;
	int64_t account_id;
	int r;

	r = account_id_of(ix, account, &account_id);
	if (r < 0)
		return r;
	st = q(ix, Q_ITEM_ID);
	sqlite3_bind_int64(st, 1, account_id);
	bind_text(st, 2, platform_id);
	return one_int(st, ret_id);
}

static int
apply_version(struct index *ix, const struct rec_meta *m, int64_t seq)
{
	sqlite3_stmt *st;
	int64_t account_id, item_id, vid;
	int r;

	r = account_id_of(ix, m->account, &account_id);
	if (r == -ENOENT)	/* an archive older than account events */
		r = index_account(ix, m->account, m->platform != NULL ?
		    m->platform : "unknown", "", &account_id);
	if (r < 0)
		return r;
	st = q(ix, Q_ITEM_ID);
	sqlite3_bind_int64(st, 1, account_id);
	bind_text(st, 2, m->item_id);
	r = one_int(st, &item_id);
	if (r == -ENOENT) {
		/* A new item: its first version sets everything. */
		st = q(ix, Q_ITEM_INSERT);
		sqlite3_bind_int64(st, 1, account_id);
		bind_text(st, 2, m->platform);
		bind_text(st, 3, m->item_id);
		bind_text(st, 4, m->item_kind != NULL ? m->item_kind : "post");
		bind_text(st, 5, m->parent_id);
		bind_text(st, 6, m->root_id);
		bind_text(st, 7, m->author);
		bind_text(st, 8, m->author_id);
		if (m->created != 0)
			sqlite3_bind_int64(st, 9, m->created);
		bind_text(st, 10, m->url);
		sqlite3_bind_int64(st, 11, m->date);
		bind_text(st, 12, m->edit_marker);
		sqlite3_bind_int(st, 13, m->hidden);
		r = run(st);
		if (r < 0)
			return r;
		item_id = sqlite3_last_insert_rowid(ix->db);
	} else if (r < 0) {
		return r;
	} else {
		st = q(ix, Q_ITEM_UPDATE_VERSION);
		sqlite3_bind_int64(st, 1, item_id);
		bind_text(st, 2, m->author);
		bind_text(st, 3, m->author_id);
		bind_text(st, 4, m->url);
		sqlite3_bind_int64(st, 5, m->date);
		bind_text(st, 6, m->edit_marker);
		r = run(st);
		if (r < 0)
			return r;
	}
	st = q(ix, Q_VERSION_ADD);
	sqlite3_bind_int64(st, 1, item_id);
	sqlite3_bind_int64(st, 2, seq);
	bind_text(st, 3, m->content_hash);
	sqlite3_bind_int64(st, 4, m->date);
	sqlite3_bind_int64(st, 5, m->platform_time);
	bind_text(st, 6, m->refers_to);
	bind_text(st, 7, m->text);
	r = run(st);
	if (r < 0)
		return r;
	vid = sqlite3_last_insert_rowid(ix->db);
	st = q(ix, Q_FTS_ADD);
	sqlite3_bind_int64(st, 1, vid);
	bind_text(st, 2, m->text != NULL ? m->text : "");
	bind_text(st, 3, m->author != NULL ? m->author : "");
	return run(st);
}

static int64_t
detail_time(json_t *d, const char *key)
{
	int64_t t = 0;

	util_parse_time(json_string_value(json_object_get(d, key)), &t);
	return t;
}

static int
apply_event(struct index *ix, const struct rec_meta *m, int64_t seq,
    const char *block, size_t block_len)
{
	sqlite3_stmt *st;
	int64_t item_id = 0;
	json_t *d;
	int r = 0;

	if (m->event == NULL)
		return 0;
	d = json_loadb(block, block_len, 0, NULL);
	if (strcmp(m->event, "account") == 0 && m->account != NULL) {
		/* An account's registration: (re)creates its row. */
		int64_t id;

		r = index_account(ix, m->account, json_string_value(
		    json_object_get(d, "platform")), json_string_value(
		    json_object_get(d, "platform_id")), &id);
		if (r < 0)
			goto out;
	}
	if (m->item_id != NULL && m->account != NULL) {
		r = item_id_of(ix, m->account, m->item_id, &item_id);
		if (r == -ENOENT)
			r = 0;		/* an event about an unknown item */
		if (r < 0)
			goto out;
	}
	st = q(ix, Q_EVENT_ADD);
	sqlite3_bind_int64(st, 1, seq);
	bind_text(st, 2, m->account);
	if (item_id != 0)
		sqlite3_bind_int64(st, 3, item_id);
	bind_text(st, 4, m->event);
	sqlite3_bind_int64(st, 5, m->date);
	sqlite3_bind_text(st, 6, block, (int)block_len, SQLITE_TRANSIENT);
	r = run(st);
	if (r < 0)
		goto out;
	if (strcmp(m->event, "gap") == 0) {
		st = q(ix, Q_GAP_OPEN);
		bind_text(st, 1, m->account);
		sqlite3_bind_int64(st, 2, m->date);
		bind_text(st, 3, json_string_value(json_object_get(d,
		    "reason")));
		sqlite3_bind_text(st, 4, block, (int)block_len,
		    SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, seq);
		if (json_object_get(d, "reason") == NULL)
			bind_text(st, 3, "unknown");
		r = run(st);
	} else if (strcmp(m->event, "checkpoint") == 0) {
		int64_t t = detail_time(d, "time");

		st = q(ix, Q_CP_ADD);
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_int64(st, 2, json_integer_value(json_object_get(d,
		    "size")));
		bind_text(st, 3, json_string_value(json_object_get(d,
		    "root")));
		sqlite3_bind_int64(st, 4, t != 0 ? t : m->date);
		bind_text(st, 5, json_string_value(json_object_get(d,
		    "note")));
		bind_text(st, 6, json_string_value(json_object_get(d,
		    "signer")));
		r = json_is_string(json_object_get(d, "root")) &&
		    json_is_string(json_object_get(d, "note")) ? run(st) : 0;
	} else if (strcmp(m->event, "timestamp") == 0) {
		const char *tok = json_string_value(json_object_get(d,
		    "token"));
		unsigned char *der = NULL;
		int n = tok != NULL ? (int)strlen(tok) : 0;

		/* The token is base64 in the record, DER in the index. */
		if (n > 0 && n % 4 == 0) {
			int pad = (tok[n - 1] == '=') + (tok[n - 2] == '=');

			der = xmalloc((size_t)n);
			n = EVP_DecodeBlock(der, (const unsigned char *)tok, n);
			n = n > pad ? n - pad : -1;
		}
		if (der != NULL && n > 0) {
			st = q(ix, Q_CP_TOKEN);
			bind_text(st, 1, m->refers_to);
			sqlite3_bind_blob(st, 2, der, n, SQLITE_TRANSIENT);
			r = run(st);
		}
		free(der);
	} else if (strcmp(m->event, "gap-closed") == 0) {
		st = q(ix, Q_GAP_CLOSE);
		bind_text(st, 1, m->account);
		sqlite3_bind_int64(st, 2, m->date);
		r = run(st);
	} else if (request_is_event(m->event)) {
		/*
		 * Records requests and holds. A malformed one stays in
		 * events and applies nothing: it must not stop the batch.
		 */
		r = request_apply(ix, d, NULL);
		if (r == -EINVAL)
			r = 0;
	} else if (item_id == 0) {
		r = 0;
	} else if (strcmp(m->event, "removed") == 0) {
		int64_t fm = detail_time(d, "first_missing");

		st = q(ix, Q_ITEM_REMOVED);
		sqlite3_bind_int64(st, 1, item_id);
		sqlite3_bind_int64(st, 2, m->date);
		if (fm != 0)
			sqlite3_bind_int64(st, 3, fm);
		r = run(st);
	} else if (strcmp(m->event, "restored") == 0) {
		st = q(ix, Q_ITEM_RESTORED);
		sqlite3_bind_int64(st, 1, item_id);
		sqlite3_bind_int64(st, 2, m->date);
		r = run(st);
	} else if (strcmp(m->event, "hidden") == 0 ||
	    strcmp(m->event, "unhidden") == 0) {
		st = q(ix, Q_ITEM_HIDDEN);
		sqlite3_bind_int64(st, 1, item_id);
		sqlite3_bind_int(st, 2, strcmp(m->event, "hidden") == 0);
		r = run(st);
	}
out:
	json_decref(d);
	return r;
}

static int
apply_media(struct index *ix, const struct rec_meta *m, int64_t seq,
    const char *sha256_payload, const char *content_type, uint64_t size)
{
	sqlite3_stmt *st = q(ix, Q_MEDIA_ADD);

	bind_text(st, 1, m->account);
	bind_text(st, 2, m->media_key);
	bind_text(st, 3, m->item_id);
	sqlite3_bind_int64(st, 4, seq);
	bind_text(st, 5, sha256_payload);
	bind_text(st, 6, content_type);
	sqlite3_bind_int64(st, 7, (int64_t)size);
	return run(st);
}

int
index_record(struct index *ix, const struct rec_meta *m, int64_t segment_id,
    uint64_t offset, uint64_t length, const char *sha256, int recovered,
    const char *block, size_t block_len, int64_t *ret_seq)
{
	sqlite3_stmt *st;
	int64_t seq, acct = 0;
	int r;

	if (m->account != NULL)
		account_id_of(ix, m->account, &acct);
	st = q(ix, Q_REC_ADD);
	bind_text(st, 1, m->record_id);
	sqlite3_bind_int64(st, 2, segment_id);
	sqlite3_bind_int64(st, 3, (int64_t)offset);
	sqlite3_bind_int64(st, 4, (int64_t)length);
	bind_text(st, 5, sha256);
	bind_text(st, 6, record_warc_type(m->kind));
	sqlite3_bind_int64(st, 7, m->date);
	if (acct != 0)
		sqlite3_bind_int64(st, 8, acct);
	bind_text(st, 9, m->target_uri);
	sqlite3_bind_int(st, 10, recovered);
	r = run(st);
	if (r < 0)
		return r;
	seq = sqlite3_last_insert_rowid(ix->db);
	if (m->kind == REC_VERSION)
		r = apply_version(ix, m, seq);
	else if (m->kind == REC_EVENT)
		r = apply_event(ix, m, seq, block, block_len);
	else if (m->kind == REC_RESPONSE && m->media_key != NULL) {
		/* Media: the payload is the HTTP body after the headers. */
		const char *body = block != NULL ?
		    memmem(block, block_len, "\r\n\r\n", 4) : NULL;
		char sha[HASH_HEX_LEN];
		size_t n = 0;

		if (body != NULL) {
			body += 4;
			n = block_len - (size_t)(body - block);
			hash_sha256_hex(body, n, sha);
		}
		r = apply_media(ix, m, seq, body != NULL ? sha : NULL, NULL, n);
	}
	if (r == 0 && ret_seq != NULL)
		*ret_seq = seq;
	return r;
}

int
index_item_get(struct index *ix, int64_t account_id, const char *platform_id,
    struct index_item *ret)
{
	sqlite3_stmt *st = q(ix, Q_ITEM_GET);
	struct index_item it;
	const char *s;
	int rc;

	sqlite3_bind_int64(st, 1, account_id);
	bind_text(st, 2, platform_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? -ENOENT : sqlerr(rc);
	}
	memset(&it, 0, sizeof(it));
	it.id = sqlite3_column_int64(st, 0);
	snprintf(it.state, sizeof(it.state), "%s",
	    (const char *)sqlite3_column_text(st, 1));
	it.hidden = sqlite3_column_int(st, 2);
	it.nversions = sqlite3_column_int(st, 3);
	it.created = sqlite3_column_int64(st, 4);
	it.last_seen = sqlite3_column_int64(st, 5);
	it.first_missing = sqlite3_column_int64(st, 6);
	snprintf(it.edit_marker, sizeof(it.edit_marker), "%s",
	    (const char *)sqlite3_column_text(st, 7));
	s = (const char *)sqlite3_column_text(st, 8);
	if (s != NULL)
		snprintf(it.last_hash, sizeof(it.last_hash), "%s", s);
	it.last_platform_time = sqlite3_column_int64(st, 9);
	sqlite3_reset(st);
	*ret = it;
	return 0;
}

int
index_item_seen(struct index *ix, int64_t item_id, int64_t t,
    const char *edit_marker)
{
	sqlite3_stmt *st = q(ix, Q_ITEM_SEEN);

	sqlite3_bind_int64(st, 1, item_id);
	sqlite3_bind_int64(st, 2, t);
	bind_text(st, 3, edit_marker);
	return run(st);
}

int
index_item_missing(struct index *ix, int64_t item_id, int64_t t)
{
	sqlite3_stmt *st = q(ix, Q_ITEM_MISSING);

	sqlite3_bind_int64(st, 1, item_id);
	sqlite3_bind_int64(st, 2, t);
	return run(st);
}

int
index_item_next_check(struct index *ix, int64_t item_id, int64_t t)
{
	sqlite3_stmt *st = q(ix, Q_ITEM_NEXT);

	sqlite3_bind_int64(st, 1, item_id);
	sqlite3_bind_int64(st, 2, t);
	return run(st);
}

/*
 * Collect rows first, then call fn: fn may write to the index (which
 * would reset a statement we are still stepping).
 */
struct row {
	char			*platform_id;
	struct index_item	 it;
};

static int
each_item(struct index *ix, sqlite3_stmt *st, index_item_fn fn, void *arg)
{
	struct row *rows = NULL;
	size_t n = 0, i;
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct row *w;

		rows = xreallocarray(rows, n + 1, sizeof(*rows));
		w = &rows[n++];
		memset(w, 0, sizeof(*w));
		w->platform_id = xstrdup((const char *)
		    sqlite3_column_text(st, 0));
		w->it.id = sqlite3_column_int64(st, 1);
		snprintf(w->it.state, sizeof(w->it.state), "%s",
		    (const char *)sqlite3_column_text(st, 2));
		w->it.hidden = sqlite3_column_int(st, 3);
		w->it.created = sqlite3_column_int64(st, 4);
		w->it.last_seen = sqlite3_column_int64(st, 5);
		w->it.first_missing = sqlite3_column_int64(st, 6);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		r = sqlerr(rc);
	for (i = 0; i < n; i++) {
		if (r == 0)
			r = fn(rows[i].platform_id, &rows[i].it, arg);
		free(rows[i].platform_id);
	}
	free(rows);
	(void)ix;
	return r;
}

int
index_missing_candidates(struct index *ix, int64_t account_id,
    const char *root, int64_t since, int64_t seen_before, index_item_fn fn,
    void *arg)
{
	sqlite3_stmt *st;

	if (root == NULL) {
		st = q(ix, Q_MISSING_POSTS);
		sqlite3_bind_int64(st, 2, since);
	} else {
		st = q(ix, Q_MISSING_THREAD);
		bind_text(st, 2, root);
	}
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int64(st, 3, seen_before);
	return each_item(ix, st, fn, arg);
}

int
index_due_threads(struct index *ix, int64_t account_id, int64_t now,
    int limit, index_item_fn fn, void *arg)
{
	sqlite3_stmt *st = q(ix, Q_DUE);

	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int(st, 3, limit);
	return each_item(ix, st, fn, arg);
}

int
index_media_has(struct index *ix, int64_t account_id, const char *key)
{
	sqlite3_stmt *st = q(ix, Q_MEDIA_HAS);
	int64_t v;
	int r;

	sqlite3_bind_int64(st, 1, account_id);
	bind_text(st, 2, key);
	r = one_int(st, &v);
	return r == 0 ? 1 : r == -ENOENT ? 0 : r;
}

int
index_open_gaps(struct index *ix, int64_t account_id, int64_t *ret_n)
{
	sqlite3_stmt *st = q(ix, Q_GAP_COUNT);

	sqlite3_bind_int64(st, 1, account_id);
	return one_int(st, ret_n);
}
