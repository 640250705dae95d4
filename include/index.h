/*
 * index.h - the SQLite index (schema in daemon/schema.sql): WAL journal,
 * synchronous=FULL, versioned schema, prepared statements, one
 * transaction per batch. The index is derived data; the archive is the
 * truth (index_apply() is shared by capture, recovery and reindex).
 */
#ifndef SUNARCHIVE_INDEX_H
#define SUNARCHIVE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define INDEX_SCHEMA_VERSION	4
#define INDEX_FILE		"index.sqlite"

struct sqlite3;

struct index {
	struct sqlite3	*db;
	void		*stmts[64];	/* sqlite3_stmt *, prepared lazily */
	int		 in_txn;
	int		 readonly;
	char		*acct_name;	/* last account looked up by name */
	int64_t		 acct_id;
};

/* What capture needs to know about an item it sees again. */
struct index_item {
	int64_t		 id;
	char		 state[16];
	int		 hidden;
	int		 nversions;
	char		 last_hash[HASH_HEX_LEN];
	int64_t		 last_platform_time;
	int64_t		 created;
	int64_t		 last_seen;
	int64_t		 first_missing;	/* 0 = not missing */
	char		 edit_marker[64];
};

/*
 * Open (creating and migrating unless readonly) the index at path.
 * Refuses to run unless journal_mode is wal and synchronous is FULL.
 * 0 or a negative errno with a message in err.
 */
int	index_open(struct index *ix, const char *path, int readonly,
	    char *err, size_t errlen);
void	index_close(struct index *ix);
/* Last SQLite error message (borrowed). */
const char *index_errmsg(struct index *ix);

int	index_begin(struct index *ix);
int	index_commit(struct index *ix);
void	index_rollback(struct index *ix);

/* Insert or update an account row; returns its id. */
int	index_account(struct index *ix, const char *name, const char *platform,
	    const char *platform_id, int64_t *ret_id);
int	index_account_id(struct index *ix, const char *name, int64_t *ret_id);
/* 1 if the account is unknown or registered with another platform or
 * id (its registration event must be archived), 0 if not, or -errno. */
int	index_account_changed(struct index *ix, const char *name,
	    const char *platform, const char *platform_id);
/*
 * Record an account's health. last_poll_ok = 0 leaves it unchanged;
 * detail may be NULL.
 */
int	index_account_status(struct index *ix, int64_t id, const char *status,
	    const char *detail, int64_t last_poll, int64_t last_poll_ok,
	    int64_t paused_until);
int	index_account_full_scan(struct index *ix, int64_t id, int64_t t);
int	index_account_last_full_scan(struct index *ix, int64_t id,
	    int64_t *ret_t);

/* Segments. */
int	index_segment_add(struct index *ix, const char *name, int64_t created,
	    int64_t *ret_id);
int	index_segment_seal(struct index *ix, int64_t id, int64_t sealed,
	    uint64_t size, const char *sha256, int suspect);
/*
 * The unsealed segment, if any: its id, name (caller frees), and the end
 * of the last record indexed in it (0 if none). -ENOENT when none.
 */
int	index_segment_open(struct index *ix, int64_t *ret_id, char **ret_name,
	    uint64_t *ret_end);
/* Forget an empty segment that never held a record. */
int	index_segment_delete(struct index *ix, int64_t id);
/* Number of segments ever created (for naming the next). */
int	index_segment_count(struct index *ix, int64_t *ret_n);

/*
 * Index one stored record at (segment, offset, length) with the SHA-256
 * of its stored bytes, then apply what it says (versions, events, media).
 * block is the record's content block (event detail JSON).
 */
int	index_record(struct index *ix, const struct rec_meta *m,
	    int64_t segment_id, uint64_t offset, uint64_t length,
	    const char *sha256, int recovered, const char *block,
	    size_t block_len, int64_t *ret_seq);
/* Is a record with this WARC-Record-ID indexed? 1, 0 or -errno. */
int	index_has_record(struct index *ix, const char *record_id);

/* Each record after seq, in seq order: fn(seq, sha256 hex of its stored
 * bytes, arg); a non-zero return stops and is returned. */
int	index_records_after(struct index *ix, int64_t seq,
	    int (*fn)(int64_t seq, const char *sha256, void *arg), void *arg);
/* Records after the newest checkpoint other than checkpoints' and
 * timestamps' own. */
int	index_news_since_checkpoint(struct index *ix, int64_t *ret_n);
/* Size of the newest checkpoint (0 if none). */
int	index_last_checkpoint(struct index *ix, int64_t *ret_size);

/* Items, for capture. -ENOENT when unknown. */
int	index_item_get(struct index *ix, int64_t account_id,
	    const char *platform_id, struct index_item *ret);
int	index_item_seen(struct index *ix, int64_t item_id, int64_t t,
	    const char *edit_marker);
int	index_item_missing(struct index *ix, int64_t item_id, int64_t t);
int	index_item_next_check(struct index *ix, int64_t item_id, int64_t t);

/*
 * Call fn for each item of the account not seen since `seen_before` and
 * not removed, that a complete listing should have contained: posts
 * created at or after `since` (root == NULL), or the comments and replies
 * of thread `root`. fn gets the platform id and the item's row.
 */
typedef int (*index_item_fn)(const char *platform_id,
	    const struct index_item *it, void *arg);
int	index_missing_candidates(struct index *ix, int64_t account_id,
	    const char *root, int64_t since, int64_t seen_before,
	    index_item_fn fn, void *arg);
/* Posts whose thread re-check is due at `now`, oldest due first. */
int	index_due_threads(struct index *ix, int64_t account_id, int64_t now,
	    int limit, index_item_fn fn, void *arg);

/* Media already archived for this account? 1, 0 or -errno. */
int	index_media_has(struct index *ix, int64_t account_id, const char *key);
/* Open capture gaps of an account. */
int	index_open_gaps(struct index *ix, int64_t account_id, int64_t *ret_n);

#endif
