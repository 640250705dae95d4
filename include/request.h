/*
 * request.h - public records requests and legal holds.
 *
 * A request (Florida ch. 119, Missouri ch. 610) is logged with who asked,
 * when the custodian received it, what it covers (a search filter, see
 * query.h) and, for Missouri, the response deadline; opening it places a
 * legal hold on every item it matches. Holds are also placed and released
 * by hand. A held item must not be disposed of (request_item_held()).
 *
 * Every change is an event the sunarchive tool queues in the spool for
 * sunarchived to archive (spool.h); the index rows are derived from those
 * events by request_apply(), which the daemon's index_record() calls for
 * them (and so reindex rebuilds requests and holds from the archive), and
 * which the tool also calls at once so the clerk sees the change before
 * the daemon has ingested it. Applying an event twice changes nothing.
 *
 * Events (JSON objects; times are RFC 3339 UTC strings):
 *
 *	request-opened	request, requester, received, state ("FL"|"MO"),
 *			description, search (request_filter_to_json()),
 *			deadline (MO) and/or acknowledged, opened, user
 *	request-closed	request, disposition, note (or null), closed, user
 *	hold-placed	hold (the hold id), request (or null), items
 *			([{"account", "platform_id"}]), reason, placed, user
 *	hold-released	hold or request, note, released, user
 *
 * Items are named by account and platform id (platform ids are unique
 * only per account), never by index row number, which a reindex may
 * renumber. A hold id is the request id for the holds a request placed
 * (and items added to it by hand), or HOLD-YYYY-NNNN for a hold placed by
 * hand without a request. A placement after a release of the same item
 * and hold id places it again; the release of a hold id releases only
 * what was placed at or before the release time, so replaying the events
 * in any interleaving with what the tool applied ends in the same rows.
 *
 * Closing a request does not release its holds: retention under the
 * records schedules continues after the answer, and a release is a
 * deliberate, logged act ("sunarchive hold release --request ID").
 *
 * Deadlines (Missouri §610.023.3): the end of the third business day
 * after the custodian received the request. Day 1 is the first business
 * day after the day of receipt; Saturdays, Sundays and the holidays of
 * the configured calendar are not business days. Days are calendar days
 * of the machine's local time zone (TZ): a request received on Monday is
 * due by Thursday 23:59:59 local time, on Friday (or Saturday or Sunday)
 * by Wednesday. A holiday that falls on a weekend changes nothing: the
 * calendar lists the days the office is actually closed (the observed
 * Friday or Monday). Florida has no fixed deadline (§119.07(1)(c):
 * acknowledge promptly; Tribune Co. v. Cannella: no automatic delay), so
 * only the acknowledgment is recorded.
 *
 * Nothing here prints; errors are a negative errno, with a message in the
 * caller's buffer where one is taken.
 */
#ifndef SUNARCHIVE_REQUEST_H
#define SUNARCHIVE_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "index.h"
#include "query.h"

#define REQUEST_ID_LEN		32	/* "PRR-2026-0042" and room to grow */
#define REQUEST_PREFIX		"PRR"	/* request ids: PRR-YYYY-NNNN */
#define REQUEST_HOLD_PREFIX	"HOLD"	/* hand-placed holds: HOLD-YYYY-NNNN */
#define REQUEST_MO_DAYS		3	/* business days, §610.023.3 */
#define REQUEST_TEXT_MAX	4000	/* bytes of a description, note... */
#define REQUEST_HOLIDAYS_MAX	10000	/* dates in a holiday calendar */
#define REQUEST_HOLIDAYS_SIZE	(1024 * 1024)	/* bytes of its file */
#define REQUEST_BUSY_MS		30000	/* wait for the daemon's writes */
/*
 * Pages of the printed rendering: every version of every item (thread
 * context included) is one entry, about this many to a page. The
 * estimate the clerk quotes fees from (§119.07(4), §610.026); adjust it
 * to the city's own rendering.
 */
#define REQUEST_RECORDS_PER_PAGE 3

/* Dispositions a request is closed with. */
#define REQUEST_DISPOSITIONS	"fulfilled|partial|no-records|denied"

/* The holidays of a calendar: days since 1970-01-01, sorted, unique. */
struct request_calendar {
	int64_t		*days;
	size_t		 ndays;
};

void	request_calendar_init(struct request_calendar *cal);
/*
 * Parse a holiday calendar: one YYYY-MM-DD per line; blank lines and
 * '#' comments (whole lines, or after the date) are ignored. name is the
 * file name for messages: "FILE:LINE: invalid date 'x' (expected
 * YYYY-MM-DD)". Adds to what cal holds. 0 or -EINVAL / -E2BIG.
 */
int	request_calendar_parse(struct request_calendar *cal, const char *name,
	    const char *text, size_t len, char *err, size_t errlen);
/* Read and parse the file at path; errors as above, or -errno. */
int	request_calendar_load(struct request_calendar *cal, const char *path,
	    char *err, size_t errlen);
void	request_calendar_release(struct request_calendar *cal);

/*
 * The Missouri deadline of a request received at `received` (unix s):
 * the last second of the REQUEST_MO_DAYS-th business day after the local
 * date of receipt, in local time. 0 or -ERANGE (no business day within
 * ten years, or a time mktime() cannot represent).
 */
int	request_mo_deadline(int64_t received,
	    const struct request_calendar *cal, int64_t *ret_deadline);

/*
 * A date the clerk types: "YYYY-MM-DD" is that day's local midnight;
 * anything else is RFC 3339 (util_parse_time()). 0 or -EINVAL.
 */
int	request_parse_date(const char *s, int64_t *ret_t);

/* Local calendar date of t into buf: "2026-03-02". */
char	*request_fmt_date(int64_t t, char *buf, size_t len);
/* Local time of t into buf: "2026-03-05 23:59:59 CST". */
char	*request_fmt_local(int64_t t, char *buf, size_t len);
/* Local year of t (request ids are numbered per year of receipt). */
int	request_local_year(int64_t t);

/* Is s PREFIX-YYYY-NNNN (4 to 9 digits)? prefix NULL: PRR or HOLD. */
int	request_id_valid(const char *s, const char *prefix);
/*
 * The next free id PREFIX-YEAR-NNNN on db (REQUEST_PREFIX among the
 * requests, REQUEST_HOLD_PREFIX among the holds). Call it inside the
 * write transaction that applies the event carrying it.
 */
int	request_next_id(sqlite3 *db, const char *prefix, int year, char *buf,
	    size_t len);

/*
 * The filter of a request as a new JSON object (keys account, platform,
 * from, to, text, author, state, kind, removed, hidden, with_thread; the
 * strings copied). Item numbers (f->ids) are refused with -EINVAL: they
 * are index rows, which a reindex may renumber.
 */
int	request_filter_to_json(const struct query_filter *f, json_t **ret);
/*
 * Back: *ret's strings are borrowed from j and stay valid while j does.
 * Unknown keys and values query_check() refuses are -EINVAL with the
 * reason in err (a newer filter read by an older tool must not silently
 * match more or less).
 */
int	request_filter_from_json(const json_t *j, struct query_filter *ret,
	    char *err, size_t errlen);

/* Is this event name one of request_apply()'s? */
int	request_is_event(const char *name);
/*
 * Apply one request or hold event to the index (the daemon from the
 * archive, the tool at once). Idempotent. *ret_changes (may be NULL)
 * gets the rows inserted or updated. 0, -EINVAL for an event that is
 * malformed (nothing applied), or a negative errno from SQLite.
 */
int	request_apply(struct index *ix, const json_t *event,
	    int64_t *ret_changes);

/*
 * Apply each event of the JSON array `events` to ix, queue each in
 * state_dir's spool for the daemon, and commit. Begins the transaction
 * unless the caller already did (to assign an id in it). On failure
 * nothing is committed and the files queued are removed again. Record
 * ids of the queued events are appended to ret_ids when not NULL.
 * 0 or a negative errno with the message in err.
 */
int	request_record(struct index *ix, const char *state_dir,
	    json_t *events, int64_t *ret_changes, json_t *ret_ids, char *err,
	    size_t errlen);

/*
 * hold-placed events for the items (index row numbers on db), resolved
 * to account and platform id and split so that each fits in the spool;
 * appended to the JSON array events. request_id may be NULL. 0, -ENOENT
 * for an unknown item, or -EIO.
 */
int	request_hold_events(sqlite3 *db, const char *hold_id,
	    const char *request_id, const char *reason, int64_t placed,
	    const char *user, const int64_t *items, size_t nitems,
	    json_t *events);

/* A request as the index holds it. */
struct request_info {
	int64_t		 id;
	char		 request_id[REQUEST_ID_LEN];
	char		 state[4];		/* "FL" or "MO" */
	char		 status[8];		/* "open" or "closed" */
	char		*requester;
	char		*description;
	char		*disposition;		/* NULL while open */
	char		*note;			/* closing note, or NULL */
	char		*opened_by;
	char		*closed_by;
	int64_t		 received;
	int64_t		 acknowledged;		/* 0 = not recorded */
	int64_t		 deadline;		/* 0 = none (Florida) */
	int64_t		 opened;
	int64_t		 closed;		/* 0 while open */
	json_t		*search;		/* the filter, owned */
	struct query_filter filter;		/* strings borrowed: search */
};

/*
 * Load request_id from db into *ret (release it with
 * request_info_release()). The export command turns --request ID into
 * ret->filter this way. 0, -ENOENT, -EINVAL (a stored filter this tool
 * cannot read, reason in err) or -EIO.
 */
int	request_load(sqlite3 *db, const char *request_id,
	    struct request_info *ret, char *err, size_t errlen);
void	request_info_release(struct request_info *ri);

/* Does db have the requests and holds tables? 1, 0 or -EIO. */
int	request_tables(sqlite3 *db);

/*
 * Every item f matches now, in creation order, with the whole thread of
 * each match when f->with_thread: *ret_ids (caller frees), *ret_n, and
 * how many of them are only thread context. 0, -EINVAL (filter, reason
 * in err) or -EIO.
 */
int	request_matches(sqlite3 *db, const struct query_filter *f,
	    int64_t **ret_ids, size_t *ret_n, size_t *ret_context, char *err,
	    size_t errlen);

/* What answering a request takes, for the fee estimate. */
struct request_estimate {
	int64_t		 items;		/* matching items */
	int64_t		 context;	/* thread items that come along */
	int64_t		 records;	/* versions of all of them */
	int64_t		 record_bytes;	/* their stored WARC records */
	int64_t		 media;		/* media files */
	int64_t		 media_bytes;
	int64_t		 bytes;		/* record_bytes + media_bytes */
	int64_t		 pages;		/* records / REQUEST_RECORDS_PER_PAGE,
					   rounded up */
};

int	request_estimate(sqlite3 *db, const struct query_filter *f,
	    struct request_estimate *ret, char *err, size_t errlen);

/*
 * Is the item (index row number) under a hold that is not released?
 * 1, 0 or -EIO. A disposition must not touch an item for which this is
 * not 0.
 */
int	request_item_held(sqlite3 *db, int64_t item_id);

/*
 * Open STATE_DIR/index.sqlite read-write (migrating it) for the tool's
 * writes, waiting up to REQUEST_BUSY_MS for a transaction of the daemon.
 * The file must exist: a mistyped state directory does not get a new,
 * empty index. 0 or a negative errno with the message in err.
 */
int	request_index_open(const char *state_dir, struct index *ix, char *err,
	    size_t errlen);

/* Who runs the tool, for events: "jdoe", or "sunarchive (sudo: jdoe)". */
char	*request_user(char *buf, size_t len);

#endif
