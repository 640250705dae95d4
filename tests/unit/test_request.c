/*
 * test_request.c - records requests and holds (daemon/request.c): the
 * Missouri deadline in local calendar days (receipt on Monday, Friday,
 * Saturday, Sunday, late in the evening, across a daylight saving change,
 * a holiday, the year end, a holiday on a weekend), holiday calendars and
 * their errors, request ids per year, request_apply() applied twice
 * changing nothing (directly and through index_record(), as the daemon
 * and reindex apply it), placements and releases replayed in any order,
 * request_record() undoing itself when the spool cannot be written, the
 * filter JSON round trip, the effort estimate and request_item_held().
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "hash.h"
#include "index.h"
#include "query.h"
#include "record.h"
#include "request.h"
#include "spool.h"
#include "tap.h"
#include "util.h"

#define ACCOUNT		"city-mastodon"

static char dir[] = "/tmp/sunarchive-test-request.XXXXXX";
static char err[1024];
static int64_t seg_id;
static uint64_t next_off;

/* Local time of a wall-clock date, as the machine's TZ reads it. */
static int64_t
local(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

static int64_t
utc(const char *s)
{
	int64_t t = -1;

	util_parse_time(s, &t);
	return t;
}

static void
set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static int64_t
deadline(int64_t received, const struct request_calendar *cal)
{
	int64_t t = -1;

	if (request_mo_deadline(received, cal, &t) < 0)
		return -1;
	return t;
}

static void
calendar(struct request_calendar *cal, const char *text)
{
	request_calendar_init(cal);
	if (request_calendar_parse(cal, "test", text, strlen(text), err,
	    sizeof(err)) < 0)
		printf("# calendar: %s\n", err);
}

static void
test_deadlines(void)
{
	struct request_calendar cal, none;
	char buf[64];

	set_tz("America/Chicago");
	request_calendar_init(&none);

	/* Monday -> Thursday, end of the day, local time. */
	is_int(deadline(local(2026, 3, 2, 9, 0, 0), &none),
	    local(2026, 3, 5, 23, 59, 59), "Monday 2026-03-02 -> Thursday");
	is_int(deadline(local(2026, 3, 2, 9, 0, 0), &none),
	    utc("2026-03-06T05:59:59Z"), "... 23:59:59 CST = 05:59:59Z");
	is_str(request_fmt_local(deadline(local(2026, 3, 2, 9, 0, 0), NULL),
	    buf, sizeof(buf)), "2026-03-05 23:59:59 CST",
	    "... shown in local time");
	is_int(deadline(local(2026, 3, 2, 23, 30, 0), &none),
	    local(2026, 3, 5, 23, 59, 59), "received 23:30 Monday: still"
	    " Thursday");
	/* 21:00 CST Monday is Tuesday in UTC: the local date counts. */
	is_int(deadline(utc("2026-03-03T03:00:00Z"), &none),
	    local(2026, 3, 5, 23, 59, 59), "Monday evening local (Tuesday"
	    " UTC) -> Thursday");
	is_int(deadline(local(2026, 3, 3, 0, 0, 0), NULL),
	    local(2026, 3, 6, 23, 59, 59), "Tuesday -> Friday");
	is_int(deadline(local(2026, 3, 4, 12, 0, 0), NULL),
	    local(2026, 3, 9, 23, 59, 59), "Wednesday -> Monday");

	/* Friday -> Wednesday, across the change to daylight time. */
	is_int(deadline(local(2026, 3, 6, 16, 0, 0), &none),
	    local(2026, 3, 11, 23, 59, 59), "Friday 2026-03-06 -> Wednesday");
	is_int(deadline(local(2026, 3, 6, 16, 0, 0), &none),
	    utc("2026-03-12T04:59:59Z"), "... 23:59:59 CDT after the DST"
	    " change = 04:59:59Z");
	is_int(deadline(local(2026, 3, 7, 10, 0, 0), &none),
	    local(2026, 3, 11, 23, 59, 59), "Saturday -> from Monday:"
	    " Wednesday");
	is_int(deadline(local(2026, 3, 8, 10, 0, 0), &none),
	    local(2026, 3, 11, 23, 59, 59), "Sunday -> from Monday:"
	    " Wednesday");

	/* Holidays. */
	calendar(&cal, "# city holidays\n2026-05-25   # Memorial Day\n"
	    "2026-11-11\n\n2025-12-25\n2026-01-01\n2026-07-04\n");
	is_int(cal.ndays, 5, "calendar: 5 dates");
	is_int(deadline(local(2026, 5, 22, 10, 0, 0), &cal),
	    local(2026, 5, 28, 23, 59, 59), "Friday before Memorial Day ->"
	    " Thursday");
	is_int(deadline(local(2026, 5, 22, 10, 0, 0), NULL),
	    local(2026, 5, 27, 23, 59, 59), "... Wednesday without the"
	    " calendar");
	is_int(deadline(local(2026, 11, 9, 10, 0, 0), &cal),
	    local(2026, 11, 13, 23, 59, 59), "Monday, holiday on Wednesday"
	    " -> Friday");
	is_int(deadline(local(2026, 5, 24, 10, 0, 0), &cal),
	    local(2026, 5, 28, 23, 59, 59), "Sunday before a Monday holiday"
	    " -> Thursday");

	/* Year end: Christmas and New Year's Day on Thursdays. */
	is_int(deadline(local(2025, 12, 24, 10, 0, 0), &cal),
	    local(2025, 12, 30, 23, 59, 59), "Wed 2025-12-24 -> Tue"
	    " 2025-12-30");
	is_int(deadline(local(2025, 12, 30, 10, 0, 0), &cal),
	    local(2026, 1, 5, 23, 59, 59), "Tue 2025-12-30 -> Mon"
	    " 2026-01-05 across the year end");
	is_int(deadline(local(2025, 12, 31, 10, 0, 0), NULL),
	    local(2026, 1, 5, 23, 59, 59), "Wed 2025-12-31 -> Mon 2026-01-05"
	    " (weekends only)");

	/* A holiday on Saturday changes nothing; its observed day does. */
	is_int(deadline(local(2026, 7, 2, 10, 0, 0), &cal),
	    local(2026, 7, 7, 23, 59, 59), "holiday on a Saturday: Thursday"
	    " -> Tuesday as without it");
	request_calendar_release(&cal);
	calendar(&cal, "2026-07-03 # observed\n2026-07-04\n2026-07-03\n");
	is_int(cal.ndays, 2, "calendar: duplicates kept once");
	is_int(deadline(local(2026, 7, 2, 10, 0, 0), &cal),
	    local(2026, 7, 8, 23, 59, 59), "observed Friday -> Wednesday");
	request_calendar_release(&cal);

	/* Every day a holiday: no deadline, not a loop. */
	{
		struct request_calendar all;
		int64_t t;
		int r;

		request_calendar_init(&all);
		all.days = calloc(5000, sizeof(*all.days));
		for (all.ndays = 0; all.ndays < 5000; all.ndays++)
			all.days[all.ndays] = utc("2026-01-01T00:00:00Z") /
			    86400 + (int64_t)all.ndays;
		r = request_mo_deadline(local(2026, 1, 1, 0, 0, 0), &all, &t);
		is_int(r, -ERANGE, "no business day within ten years:"
		    " -ERANGE");
		request_calendar_release(&all);
	}

	/* Another zone, and UTC. */
	set_tz("UTC");
	is_int(deadline(utc("2026-03-02T09:00:00Z"), NULL),
	    utc("2026-03-05T23:59:59Z"), "TZ=UTC: Monday -> Thursday"
	    " 23:59:59Z");
	is_int(deadline(utc("2026-03-03T03:00:00Z"), NULL),
	    utc("2026-03-06T23:59:59Z"), "TZ=UTC: Tuesday 03:00Z -> Friday");
	set_tz("America/Chicago");
}

static void
test_calendar_errors(void)
{
	struct request_calendar cal;
	int r;

	request_calendar_init(&cal);
	r = request_calendar_parse(&cal, "/etc/h", "2026-01-01\n\n"
	    "2026-02-30\n", 23, err, sizeof(err));
	is_int(r, -EINVAL, "calendar: 2026-02-30 refused");
	is_str(err, "/etc/h:3: invalid date '2026-02-30' (expected"
	    " YYYY-MM-DD)", "... naming FILE:LINE");
	request_calendar_release(&cal);
	r = request_calendar_parse(&cal, "h", "2026-1-1\n", 9, err,
	    sizeof(err));
	ok(r == -EINVAL && strstr(err, "h:1: invalid date '2026-1-1'"),
	    "calendar: 2026-1-1 refused (%s)", err);
	request_calendar_release(&cal);
	r = request_calendar_parse(&cal, "h", "2026-01-01T00:00:00Z\n", 21,
	    err, sizeof(err));
	ok(r == -EINVAL, "calendar: a time is not a date");
	request_calendar_release(&cal);
	r = request_calendar_parse(&cal, "h", "  2026-01-01\t# x\r\n", 18,
	    err, sizeof(err));
	ok(r == 0 && cal.ndays == 1, "calendar: blanks, CR, trailing"
	    " comment");
	request_calendar_release(&cal);
	r = request_calendar_load(&cal, "/nonexistent/holidays", err,
	    sizeof(err));
	ok(r == -ENOENT && strstr(err, "/nonexistent/holidays") != NULL,
	    "calendar: missing file named (%s)", err);
	request_calendar_release(&cal);
}

static void
test_dates_and_ids(void)
{
	char buf[32];
	int64_t t;

	set_tz("America/Chicago");
	ok(request_parse_date("2026-03-02", &t) == 0 &&
	    t == local(2026, 3, 2, 0, 0, 0), "bare date: local midnight");
	ok(request_parse_date("2026-03-02T15:00:00Z", &t) == 0 &&
	    t == utc("2026-03-02T15:00:00Z"), "RFC 3339: as written");
	ok(request_parse_date("2026-13-02", &t) == -EINVAL, "bad date");
	is_str(request_fmt_date(utc("2026-03-03T03:00:00Z"), buf,
	    sizeof(buf)), "2026-03-02", "local date of a UTC time");
	is_int(request_local_year(utc("2026-01-01T03:00:00Z")), 2025,
	    "local year on New Year's Eve evening");

	ok(request_id_valid("PRR-2026-0042", REQUEST_PREFIX), "PRR-2026-0042");
	ok(request_id_valid("PRR-2026-123456789", NULL), "9 digits");
	ok(request_id_valid("HOLD-2026-0001", NULL), "HOLD-2026-0001");
	ok(!request_id_valid("HOLD-2026-0001", REQUEST_PREFIX),
	    "HOLD is not a request id");
	ok(!request_id_valid("PRR-2026-042", NULL), "3 digits refused");
	ok(!request_id_valid("PRR-26-0042", NULL), "2-digit year refused");
	ok(!request_id_valid("PRR-2026-0042x", NULL), "trailing junk");
	ok(!request_id_valid("prr-2026-0042", NULL), "lower case");
	ok(!request_id_valid("PRR-2026-1234567890", NULL), "10 digits");
	ok(!request_id_valid(NULL, NULL), "NULL");
}

static void
test_filter_json(void)
{
	struct query_filter f, g;
	int64_t ids[] = { 1, 2 };
	json_t *j, *k;
	char *s;
	int r;

	query_filter_init(&f);
	f.account = "city-facebook";
	f.platform = "facebook";
	f.from = utc("2026-03-01T00:00:00Z");
	f.has_from = 1;
	f.to = utc("2026-03-31T23:59:59Z");
	f.has_to = 1;
	f.text = "budget \"city hall\" OR hear*";
	f.author = "Jane";
	f.state = "edited";
	f.kind = "comment";
	f.removed = QUERY_ONLY;
	f.hidden = QUERY_EXCLUDE;
	f.with_thread = 1;
	r = request_filter_to_json(&f, &j);
	is_int(r, 0, "filter to JSON");
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	is_str(s, "{\"account\":\"city-facebook\",\"author\":\"Jane\","
	    "\"from\":\"2026-03-01T00:00:00Z\",\"hidden\":\"exclude\","
	    "\"kind\":\"comment\",\"platform\":\"facebook\","
	    "\"removed\":\"only\",\"state\":\"edited\","
	    "\"text\":\"budget \\\"city hall\\\" OR hear*\","
	    "\"to\":\"2026-03-31T23:59:59Z\",\"with_thread\":true}",
	    "... every field");
	/* Through text, as the index stores it. */
	k = json_loads(s, 0, NULL);
	free(s);
	r = request_filter_from_json(k, &g, err, sizeof(err));
	is_int(r, 0, "filter from JSON");
	ok(r == 0 && strcmp(g.account, f.account) == 0 &&
	    strcmp(g.platform, f.platform) == 0 && g.has_from && g.has_to &&
	    g.from == f.from && g.to == f.to && strcmp(g.text, f.text) == 0 &&
	    strcmp(g.author, f.author) == 0 && strcmp(g.state, f.state) == 0 &&
	    strcmp(g.kind, f.kind) == 0 && g.removed == QUERY_ONLY &&
	    g.hidden == QUERY_EXCLUDE && g.with_thread == 1 && g.nids == 0,
	    "... round trip is the same filter");
	json_decref(k);
	json_decref(j);

	query_filter_init(&f);
	r = request_filter_to_json(&f, &j);
	s = r == 0 ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	is_str(s, "{\"hidden\":\"include\",\"removed\":\"include\","
	    "\"with_thread\":false}", "empty filter: removed and hidden"
	    " included, explicitly");
	free(s);
	r = request_filter_from_json(j, &g, err, sizeof(err));
	ok(r == 0 && g.account == NULL && !g.has_from && g.removed ==
	    QUERY_INCLUDE && !g.with_thread, "... and back");
	json_decref(j);

	f.ids = ids;
	f.nids = 2;
	is_int(request_filter_to_json(&f, &j), -EINVAL, "item numbers"
	    " refused");
	query_filter_init(&f);
	f.author = "\xff\xfe";
	is_int(request_filter_to_json(&f, &j), -EINVAL, "invalid UTF-8"
	    " refused, not dropped");

	k = json_pack("{s:s, s:s}", "account", "x", "place", "y");
	r = request_filter_from_json(k, &g, err, sizeof(err));
	ok(r == -EINVAL && strstr(err, "'place'") != NULL, "unknown key"
	    " refused (%s)", err);
	json_decref(k);
	k = json_pack("{s:s}", "platform", "myspace");
	is_int(request_filter_from_json(k, &g, err, sizeof(err)), -EINVAL,
	    "unknown platform refused");
	json_decref(k);
	k = json_pack("{s:s}", "text", "a NEAR b");
	is_int(request_filter_from_json(k, &g, err, sizeof(err)), -EINVAL,
	    "bad text query refused");
	json_decref(k);
	k = json_pack("{s:i}", "with_thread", 1);
	is_int(request_filter_from_json(k, &g, err, sizeof(err)), -EINVAL,
	    "with_thread must be a boolean");
	json_decref(k);
	k = json_pack("{s:s}", "from", "yesterday");
	is_int(request_filter_from_json(k, &g, err, sizeof(err)), -EINVAL,
	    "bad date refused");
	json_decref(k);
	is_int(request_filter_from_json(NULL, &g, err, sizeof(err)), -EINVAL,
	    "no filter refused");
}

/* ---- the index -------------------------------------------------------- */

static int
add(struct index *ix, struct rec_meta *m, const char *block)
{
	char sha[HASH_HEX_LEN];
	size_t len = block != NULL ? strlen(block) : 0;
	int r;

	hash_sha256_hex(m->record_id, strlen(m->record_id), sha);
	r = index_record(ix, m, seg_id, next_off, 100, sha, 0, block, len,
	    NULL);
	next_off += 100;
	return r;
}

static int
version(struct index *ix, const char *account, const char *item,
    const char *kind, const char *root, const char *text, int64_t date)
{
	struct rec_meta m;
	char canon[512];

	record_meta_init(&m, REC_VERSION);
	m.date = date;
	m.account = account;
	m.platform = "mastodon";
	m.item_id = item;
	m.item_kind = kind;
	m.root_id = root;
	m.parent_id = root;
	m.author = "City Hall";
	m.created = date - 60;
	m.text = text;
	snprintf(canon, sizeof(canon), "{\"text\":\"%s\"}", text);
	hash_sha256_hex(canon, strlen(canon), m.content_hash);
	return add(ix, &m, canon);
}

/* A spooled event as the daemon archives it: a metadata record. */
static int
archived(struct index *ix, const json_t *ev)
{
	struct rec_meta m;
	char *text = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
	int r;

	record_meta_init(&m, REC_EVENT);
	m.event = json_string_value(json_object_get(ev, "event"));
	r = add(ix, &m, text);
	free(text);
	return r;
}

static int64_t
qint(struct index *ix, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -999;

	if (sqlite3_prepare_v2(ix->db, sql, -1, &st, NULL) != SQLITE_OK) {
		printf("# %s: %s\n", sql, sqlite3_errmsg(ix->db));
		return v;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 :
		    sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Every row of requests and holds as one string, to compare states. */
static char *
dump(struct index *ix)
{
	static const char *const sql[] = {
		"SELECT * FROM requests ORDER BY id",
		"SELECT * FROM holds ORDER BY id",
	};
	sqlite3_stmt *st;
	char *out = NULL;
	size_t len = 0, i;
	int c, n;
	FILE *f = open_memstream(&out, &len);

	for (i = 0; i < 2; i++) {
		if (sqlite3_prepare_v2(ix->db, sql[i], -1, &st, NULL) !=
		    SQLITE_OK)
			continue;
		while (sqlite3_step(st) == SQLITE_ROW) {
			n = sqlite3_column_count(st);
			for (c = 0; c < n; c++) {
				const unsigned char *v =
				    sqlite3_column_text(st, c);

				fprintf(f, "%s|", v != NULL ? (const char *)v :
				    "NULL");
			}
			fputc('\n', f);
		}
		sqlite3_finalize(st);
		fputs("--\n", f);
	}
	fclose(f);
	return out;
}

/* Apply ev twice; the second time must change nothing. */
static int64_t
twice(struct index *ix, json_t *ev, const char *what)
{
	int64_t c1 = -1, c2 = -1;
	char *before, *after;
	int r;

	r = request_apply(ix, ev, &c1);
	before = dump(ix);
	if (r == 0)
		r = request_apply(ix, ev, &c2);
	after = dump(ix);
	ok(r == 0 && c2 == 0 && strcmp(before, after) == 0,
	    "%s: applied twice, the second changes nothing (%lld, %lld)",
	    what, (long long)c1, (long long)c2);
	free(before);
	free(after);
	json_decref(ev);
	return c1;
}

static json_t *
opened(const char *rid, const char *state, const char *received)
{
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s,"
	    " s:{s:s, s:s, s:s, s:b}, s:s, s:s}",
	    "event", "request-opened", "request", rid, "requester",
	    "Jane Doe", "received", received, "state", state, "description",
	    "all posts about the budget", "search", "text", "budget",
	    "removed", "include", "hidden", "include", "with_thread", 1,
	    "opened", "2026-03-02T16:00:00Z", "user", "clerk");

	if (strcmp(state, "MO") == 0)
		json_object_set_new(ev, "deadline",
		    json_string("2026-03-06T05:59:59Z"));
	else
		json_object_set_new(ev, "acknowledged",
		    json_string("2026-03-02T16:00:00Z"));
	return ev;
}

static json_t *
placed(const char *hold, const char *rid, const char *when,
    const char *item1, const char *item2)
{
	json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[]}", "event",
	    "hold-placed", "hold", hold, "reason", "test", "placed", when,
	    "user", "clerk", "items");
	json_t *items = json_object_get(ev, "items");

	json_object_set_new(ev, "request", rid != NULL ? json_string(rid) :
	    json_null());
	json_array_append_new(items, json_pack("{s:s, s:s}", "account",
	    ACCOUNT, "platform_id", item1));
	if (item2 != NULL)
		json_array_append_new(items, json_pack("{s:s, s:s}",
		    "account", ACCOUNT, "platform_id", item2));
	return ev;
}

static json_t *
released(const char *key, const char *id, const char *when)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "event",
	    "hold-released", key, id, "note", "retention met", "released",
	    when, "user", "clerk");
}

static int64_t
item_of(struct index *ix, const char *pid)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT id FROM items WHERE platform_id"
	    " = '%s'", pid);
	return qint(ix, sql);
}

static void
test_apply(void)
{
	struct request_estimate e;
	struct request_info ri;
	struct query_filter f;
	struct index ix;
	struct rec_meta m;
	char path[256], rid[REQUEST_ID_LEN];
	int64_t t = utc("2026-03-02T14:00:00Z"), i1, i2, n, c;
	int64_t *ids = NULL;
	size_t nids = 0, ctx = 0;
	json_t *ev;
	int r;

	snprintf(path, sizeof(path), "%s/index.sqlite", dir);
	r = index_open(&ix, path, 0, err, sizeof(err));
	is_int(r, 0, "open index");
	if (r < 0) {
		printf("# %s\n", err);
		return;
	}
	is_int(qint(&ix, "PRAGMA user_version"), INDEX_SCHEMA_VERSION,
	    "schema at the current version");
	is_int(request_tables(ix.db), 1, "requests and holds tables exist");
	index_begin(&ix);
	index_segment_add(&ix, "seg-000001.warc.gz", t, &seg_id);
	version(&ix, ACCOUNT, "100", "post", NULL, "Budget hearing Tuesday",
	    t);
	version(&ix, ACCOUNT, "100", "post", NULL, "Budget hearing Wednesday",
	    t + 60);
	version(&ix, ACCOUNT, "101", "comment", "100", "Will it be online?",
	    t + 120);
	version(&ix, ACCOUNT, "102", "post", NULL, "Road closure", t + 180);
	version(&ix, "parks-mastodon", "100", "post", NULL, "Trail repairs",
	    t + 240);
	record_meta_init(&m, REC_RESPONSE);
	m.account = ACCOUNT;
	m.item_id = "100";
	m.media_key = "m1";
	add(&ix, &m, "HTTP/1.1 200 OK\r\n\r\n0123456789");
	index_commit(&ix);
	i1 = item_of(&ix, "101");
	i2 = qint(&ix, "SELECT i.id FROM items i JOIN accounts a ON"
	    " a.id = i.account_id WHERE a.name = '" ACCOUNT "' AND"
	    " i.platform_id = '100'");

	/* Request ids per year of receipt. */
	is_int(request_next_id(ix.db, REQUEST_PREFIX, 2026, rid,
	    sizeof(rid)), 0, "next id on an empty log");
	is_str(rid, "PRR-2026-0001", "... PRR-2026-0001");
	c = twice(&ix, opened("PRR-2026-0001", "MO",
	    "2026-03-02T15:00:00Z"), "request-opened (MO)");
	is_int(c, 1, "... inserted one row");
	twice(&ix, opened("PRR-2026-0002", "FL", "2026-03-02T15:00:00Z"),
	    "request-opened (FL)");
	twice(&ix, opened("PRR-2025-0041", "FL", "2025-12-30T15:00:00Z"),
	    "request-opened (2025)");
	request_next_id(ix.db, REQUEST_PREFIX, 2026, rid, sizeof(rid));
	is_str(rid, "PRR-2026-0003", "next 2026 id after 0001 and 0002");
	request_next_id(ix.db, REQUEST_PREFIX, 2025, rid, sizeof(rid));
	is_str(rid, "PRR-2025-0042", "next 2025 id is per year");
	request_next_id(ix.db, REQUEST_PREFIX, 2027, rid, sizeof(rid));
	is_str(rid, "PRR-2027-0001", "a new year starts at 0001");
	request_next_id(ix.db, REQUEST_HOLD_PREFIX, 2026, rid, sizeof(rid));
	is_str(rid, "HOLD-2026-0001", "hold ids are numbered apart");
	is_int(qint(&ix, "SELECT deadline FROM requests WHERE request_id ="
	    " 'PRR-2026-0001'"), utc("2026-03-06T05:59:59Z"),
	    "MO deadline stored");
	is_int(qint(&ix, "SELECT deadline IS NULL AND acknowledged IS NOT"
	    " NULL FROM requests WHERE request_id = 'PRR-2026-0002'"), 1,
	    "FL: acknowledged, no deadline");

	/* Holds: placed, replayed, released, replayed in every order. */
	c = twice(&ix, placed("PRR-2026-0001", "PRR-2026-0001",
	    "2026-03-02T16:00:00Z", "100", "101"), "hold-placed");
	is_int(c, 2, "... two items held");
	is_int(request_item_held(ix.db, i1), 1, "item 101 is held");
	is_int(request_item_held(ix.db, item_of(&ix, "102")), 0,
	    "item 102 is not");
	c = twice(&ix, placed("HOLD-2026-0001", NULL, "2026-03-02T17:00:00Z",
	    "101", "nonexistent"), "hold-placed by hand");
	is_int(c, 1, "... the unknown item is skipped");
	c = twice(&ix, released("request", "PRR-2026-0001",
	    "2026-03-03T10:00:00Z"), "hold-released (request)");
	is_int(c, 2, "... released two");
	is_int(request_item_held(ix.db, i2), 0, "item 100 released");
	is_int(request_item_held(ix.db, i1), 1, "item 101 still held by"
	    " HOLD-2026-0001");
	c = twice(&ix, placed("PRR-2026-0001", "PRR-2026-0001",
	    "2026-03-02T16:00:00Z", "100", "101"), "the old placement"
	    " replayed after the release");
	is_int(c, 0, "... does not place it again");
	is_int(request_item_held(ix.db, i2), 0, "... item 100 stays"
	    " released");
	c = twice(&ix, placed("PRR-2026-0001", "PRR-2026-0001",
	    "2026-03-04T09:00:00Z", "100", NULL), "a new placement after the"
	    " release");
	is_int(c, 1, "... places it again");
	is_int(request_item_held(ix.db, i2), 1, "... item 100 held again");
	c = twice(&ix, released("request", "PRR-2026-0001",
	    "2026-03-03T10:00:00Z"), "the old release replayed after it");
	is_int(c, 0, "... does not release the new placement");
	c = twice(&ix, released("hold", "HOLD-2026-0001",
	    "2026-03-05T10:00:00Z"), "hold-released (hold id)");
	is_int(c, 1, "... released one");
	is_int(request_item_held(ix.db, i1), 0, "item 101 no longer held");
	request_next_id(ix.db, REQUEST_HOLD_PREFIX, 2026, rid, sizeof(rid));
	is_str(rid, "HOLD-2026-0002", "next hold id");

	/* Closing. */
	ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "event",
	    "request-closed", "request", "PRR-2026-0001", "disposition",
	    "fulfilled", "note", "sent", "closed", "2026-03-05T12:00:00Z",
	    "user", "clerk");
	c = twice(&ix, ev, "request-closed");
	is_int(c, 1, "... closed");
	ev = json_pack("{s:s, s:s, s:s, s:s, s:s}", "event",
	    "request-closed", "request", "PRR-2026-0001", "disposition",
	    "denied", "closed", "2026-03-06T12:00:00Z", "user", "clerk");
	request_apply(&ix, ev, &c);
	json_decref(ev);
	is_int(c, 0, "a second close changes nothing");
	is_int(qint(&ix, "SELECT closed FROM requests WHERE request_id ="
	    " 'PRR-2026-0001'"), utc("2026-03-05T12:00:00Z"),
	    "... the first close stands");
	is_int(request_item_held(ix.db, i2), 1, "closing released no hold");

	/* Malformed events change nothing. */
	ev = opened("PRR-2026-0009", "TX", "2026-03-02T15:00:00Z");
	is_int(request_apply(&ix, ev, NULL), -EINVAL, "state TX refused");
	json_decref(ev);
	ev = opened("PRR-26-9", "FL", "2026-03-02T15:00:00Z");
	is_int(request_apply(&ix, ev, NULL), -EINVAL, "bad id refused");
	json_decref(ev);
	ev = opened("PRR-2026-0009", "MO", "2026-03-02T15:00:00Z");
	json_object_del(ev, "deadline");
	is_int(request_apply(&ix, ev, NULL), -EINVAL, "MO without deadline"
	    " refused");
	json_object_set_new(ev, "deadline", json_string("2026-03-06T05:59Z"));
	json_object_set_new(json_object_get(ev, "search"), "zip",
	    json_string("1"));
	is_int(request_apply(&ix, ev, NULL), -EINVAL, "unknown filter key"
	    " refused");
	json_decref(ev);
	ev = released("hold", "HOLD-2026-0001", "2026-03-05T10:00:00Z");
	json_object_del(ev, "note");
	is_int(request_apply(&ix, ev, NULL), -EINVAL, "a release needs a"
	    " note");
	json_decref(ev);
	ev = json_pack("{s:s}", "event", "request-reopened");
	is_int(request_apply(&ix, ev, NULL), -EINVAL, "unknown event");
	ok(!request_is_event("request-reopened") &&
	    request_is_event("hold-placed"), "request_is_event");
	json_decref(ev);
	is_int(qint(&ix, "SELECT COUNT(*) FROM requests"), 3,
	    "... no row from them");

	/* Loading a request, and what answering it takes. */
	r = request_load(ix.db, "PRR-2026-0001", &ri, err, sizeof(err));
	is_int(r, 0, "request_load");
	if (r == 0) {
		ok(strcmp(ri.state, "MO") == 0 && strcmp(ri.status,
		    "closed") == 0 && strcmp(ri.requester, "Jane Doe") == 0 &&
		    strcmp(ri.disposition, "fulfilled") == 0 &&
		    ri.deadline == utc("2026-03-06T05:59:59Z") &&
		    ri.received == utc("2026-03-02T15:00:00Z") &&
		    strcmp(ri.opened_by, "clerk") == 0, "... its fields");
		ok(strcmp(ri.filter.text, "budget") == 0 &&
		    ri.filter.with_thread == 1 && ri.filter.account == NULL,
		    "... its filter");
		r = request_matches(ix.db, &ri.filter, &ids, &nids, &ctx, err,
		    sizeof(err));
		ok(r == 0 && nids == 2 && ctx == 1 && ids[0] == i2 &&
		    ids[1] == i1, "matches: the post and its comment as"
		    " context (%zu, %zu)", nids, ctx);
		free(ids);
		r = request_estimate(ix.db, &ri.filter, &e, err, sizeof(err));
		ok(r == 0 && e.items == 1 && e.context == 1 &&
		    e.records == 3 && e.record_bytes == 300 && e.media == 1 &&
		    e.media_bytes == 10 && e.bytes == 310 && e.pages == 1,
		    "estimate: 1 item + 1 context, 3 records, 300 + 10 bytes,"
		    " 1 page (%lld %lld %lld %lld %lld %lld)",
		    (long long)e.items, (long long)e.context,
		    (long long)e.records, (long long)e.record_bytes,
		    (long long)e.media_bytes, (long long)e.pages);
		request_info_release(&ri);
	}
	is_int(request_load(ix.db, "PRR-2026-0099", &ri, err, sizeof(err)),
	    -ENOENT, "request_load: unknown id");
	query_filter_init(&f);
	r = request_estimate(ix.db, &f, &e, err, sizeof(err));
	ok(r == 0 && e.items == 4 && e.records == 5 && e.pages == 2,
	    "estimate of everything: 4 items, 5 records, 2 pages");

	/* The daemon's path: archived events through index_record(). */
	n = qint(&ix, "SELECT COUNT(*) FROM holds");
	index_begin(&ix);
	ev = opened("PRR-2026-0003", "MO", "2026-03-02T15:00:00Z");
	r = archived(&ix, ev);
	json_decref(ev);
	ev = placed("PRR-2026-0003", "PRR-2026-0003", "2026-03-04T09:00:00Z",
	    "102", NULL);
	if (r == 0)
		r = archived(&ix, ev);
	if (r == 0)
		r = archived(&ix, ev);	/* ingested twice after a crash */
	json_decref(ev);
	ev = json_pack("{s:s, s:s}", "event", "hold-placed", "hold", "junk");
	if (r == 0)
		r = archived(&ix, ev);	/* malformed: kept, not applied */
	json_decref(ev);
	index_commit(&ix);
	is_int(r, 0, "index_record applies request events");
	is_int(qint(&ix, "SELECT COUNT(*) FROM requests WHERE request_id ="
	    " 'PRR-2026-0003'"), 1, "... the request");
	is_int(qint(&ix, "SELECT COUNT(*) FROM holds"), n + 1,
	    "... one hold, once");
	is_int(qint(&ix, "SELECT COUNT(*) FROM events WHERE type IN"
	    " ('request-opened', 'hold-placed')"), 4, "... every event in"
	    " events, the malformed one too");
	index_close(&ix);
}

static void
test_record(void)
{
	struct index ix;
	char path[320], state[256], spool[400];
	json_t *events, *ids;
	int64_t changes = -1;
	struct stat sb;
	int r;

	snprintf(state, sizeof(state), "%s/state", dir);
	mkdir(state, 0750);
	snprintf(path, sizeof(path), "%s/index.sqlite", state);
	r = index_open(&ix, path, 0, err, sizeof(err));
	is_int(r, 0, "open a second index");
	if (r < 0)
		return;
	r = request_index_open("/nonexistent", &ix, err, sizeof(err));
	ok(r == -ENOENT && strstr(err, "/nonexistent/index.sqlite"),
	    "request_index_open does not create an index (%s)", err);
	index_close(&ix);
	r = request_index_open(state, &ix, err, sizeof(err));
	is_int(r, 0, "request_index_open");

	/* The spool cannot be written: nothing is applied. */
	events = json_array();
	json_array_append_new(events, opened("PRR-2026-0001", "FL",
	    "2026-03-02T15:00:00Z"));
	snprintf(spool, sizeof(spool), "%s/%s", state, SPOOL_DIR);
	r = open(spool, O_CREAT | O_WRONLY, 0600);	/* a file, not a dir */
	close(r);
	r = request_record(&ix, state, events, &changes, NULL, err,
	    sizeof(err));
	ok(r < 0 && strstr(err, "cannot queue") != NULL, "spool not"
	    " writable: error (%s)", err);
	is_int(qint(&ix, "SELECT COUNT(*) FROM requests"), 0, "... and"
	    " nothing applied");
	ok(!ix.in_txn, "... and no transaction left open");
	unlink(spool);

	ids = json_array();
	r = request_record(&ix, state, events, &changes, ids, err,
	    sizeof(err));
	is_int(r, 0, "request_record");
	is_int(changes, 1, "... one row");
	is_int(qint(&ix, "SELECT COUNT(*) FROM requests"), 1, "... applied");
	ok(json_array_size(ids) == 1 && strncmp(json_string_value(
	    json_array_get(ids, 0)), "urn:uuid:", 9) == 0, "... record id");
	if (json_array_size(ids) == 1) {
		snprintf(spool, sizeof(spool), "%s/%s/%s.json", state,
		    SPOOL_DIR, json_string_value(json_array_get(ids, 0)) + 9);
		ok(stat(spool, &sb) == 0 && sb.st_size > 0, "... spooled");
	}
	json_decref(ids);
	json_decref(events);
	index_close(&ix);
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_deadlines();
	test_calendar_errors();
	test_dates_and_ids();
	test_filter_json();
	test_apply();
	test_record();
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
