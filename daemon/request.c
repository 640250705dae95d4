/*
 * request.c - public records requests and legal holds (request.h).
 *
 * Four parts: the Missouri business-day clock (civil-date arithmetic on
 * day numbers, local dates from localtime_r()/mktime(), a sorted holiday
 * list); request filters as JSON; request_apply(), the one place request
 * and hold events become rows, shared by the daemon (from the archive)
 * and the tool (at once); and the reads the commands and the export
 * share: a request, what it matches, what answering it takes, whether an
 * item is held.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "request.h"
#include "spool.h"
#include "util.h"
#include "xalloc.h"

#define DAY_S			86400
#define REQUEST_SEARCH_DAYS	3660	/* give up finding business days */
#define REQUEST_LINE_MAX	256	/* bytes of a holiday calendar line */
/* Item references per hold-placed event: half the spool's limit. */
#define REQUEST_EVENT_BYTES	(SPOOL_MAX / 2)

/* ---- calendar --------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
request_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
request_civil_from_days(int64_t z, int *ret_y, int *ret_m, int *ret_d)
{
	int64_t era, y;
	unsigned doe, yoe, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	*ret_y = (int)(y + (m <= 2));
	*ret_m = (int)m;
	*ret_d = (int)d;
}

/* 0 = Sunday ... 6 = Saturday; day 0 was a Thursday. */
static int
request_weekday(int64_t day)
{
	return (int)(((day % 7) + 11) % 7);
}

/* The local calendar day of t. */
static int
request_local_day(int64_t t, int64_t *ret_day)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return -ERANGE;
	*ret_day = request_days_from_civil(tm.tm_year + 1900,
	    (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
	return 0;
}

/* Local midnight starting day (or the first second after it, if a
 * time zone skips midnight). */
static int
request_day_start(int64_t day, int64_t *ret_t)
{
	struct tm tm;
	time_t t;
	int y, m, d;

	request_civil_from_days(day, &y, &m, &d);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1)
		return -ERANGE;
	*ret_t = (int64_t)t;
	return 0;
}

void
request_calendar_init(struct request_calendar *cal)
{
	memset(cal, 0, sizeof(*cal));
}

void
request_calendar_release(struct request_calendar *cal)
{
	free(cal->days);
	memset(cal, 0, sizeof(*cal));
}

static int
request_cmp_day(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int
request_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

int
request_calendar_parse(struct request_calendar *cal, const char *name,
    const char *text, size_t len, char *err, size_t errlen)
{
	char line[REQUEST_LINE_MAX + 1];
	const char *p = text, *end = text + len, *eol, *hash;
	size_t n, lineno = 0, i, k;
	int64_t t;

	while (p < end) {
		lineno++;
		eol = memchr(p, '\n', (size_t)(end - p));
		n = eol != NULL ? (size_t)(eol - p) : (size_t)(end - p);
		if (memchr(p, '\0', n) != NULL) {
			snprintf(err, errlen, "%s:%zu: NUL byte", name, lineno);
			return -EINVAL;
		}
		hash = memchr(p, '#', n);
		if (hash != NULL)
			n = (size_t)(hash - p);
		while (n > 0 && request_is_blank(p[n - 1]))
			n--;
		while (n > 0 && request_is_blank(*p)) {
			p++;
			n--;
		}
		if (n > REQUEST_LINE_MAX) {
			snprintf(err, errlen, "%s:%zu: line too long (expected"
			    " YYYY-MM-DD)", name, lineno);
			return -EINVAL;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p = eol != NULL ? eol + 1 : end;
		if (n == 0)
			continue;
		if (n != 10 || util_parse_time(line, &t) < 0) {
			snprintf(err, errlen, "%s:%zu: invalid date '%.40s'"
			    " (expected YYYY-MM-DD)", name, lineno, line);
			return -EINVAL;
		}
		if (cal->ndays >= REQUEST_HOLIDAYS_MAX) {
			snprintf(err, errlen, "%s:%zu: more than %d holidays",
			    name, lineno, REQUEST_HOLIDAYS_MAX);
			return -E2BIG;
		}
		cal->days = xreallocarray(cal->days, cal->ndays + 1,
		    sizeof(*cal->days));
		cal->days[cal->ndays++] = t / DAY_S;	/* UTC midnight */
	}
	qsort(cal->days, cal->ndays, sizeof(*cal->days), request_cmp_day);
	for (i = 0, k = 0; i < cal->ndays; i++)
		if (k == 0 || cal->days[k - 1] != cal->days[i])
			cal->days[k++] = cal->days[i];
	cal->ndays = k;
	return 0;
}

int
request_calendar_load(struct request_calendar *cal, const char *path,
    char *err, size_t errlen)
{
	char *text;
	size_t n;
	FILE *f;
	int r;

	f = fopen(path, "re");
	if (f == NULL) {
		r = -errno;
		snprintf(err, errlen, "cannot read holidays file '%s': %s",
		    path, strerror(errno));
		return r;
	}
	text = xmalloc(REQUEST_HOLIDAYS_SIZE + 1);
	n = fread(text, 1, REQUEST_HOLIDAYS_SIZE + 1, f);
	if (ferror(f)) {
		r = -EIO;
		snprintf(err, errlen, "cannot read holidays file '%s': %s",
		    path, strerror(errno));
	} else if (n > REQUEST_HOLIDAYS_SIZE) {
		r = -E2BIG;
		snprintf(err, errlen, "holidays file '%s' is larger than %d"
		    " bytes", path, REQUEST_HOLIDAYS_SIZE);
	} else {
		r = request_calendar_parse(cal, path, text, n, err, errlen);
	}
	fclose(f);
	free(text);
	return r;
}

static int
request_business_day(const struct request_calendar *cal, int64_t day)
{
	int wd = request_weekday(day);

	if (wd == 0 || wd == 6)
		return 0;
	return cal == NULL || cal->ndays == 0 || bsearch(&day, cal->days,
	    cal->ndays, sizeof(*cal->days), request_cmp_day) == NULL;
}

int
request_mo_deadline(int64_t received, const struct request_calendar *cal,
    int64_t *ret_deadline)
{
	int64_t day, next;
	int n = 0, i, r;

	r = request_local_day(received, &day);
	if (r < 0)
		return r;
	for (i = 0; i < REQUEST_SEARCH_DAYS && n < REQUEST_MO_DAYS; i++) {
		day++;
		if (request_business_day(cal, day))
			n++;
	}
	if (n < REQUEST_MO_DAYS)
		return -ERANGE;
	/* The end of that day is the second before the next one starts. */
	r = request_day_start(day + 1, &next);
	if (r < 0)
		return r;
	*ret_deadline = next - 1;
	return 0;
}

int
request_parse_date(const char *s, int64_t *ret_t)
{
	int64_t t;

	if (s == NULL || util_parse_time(s, &t) < 0)
		return -EINVAL;
	if (strlen(s) == 10)	/* a bare date: local, not UTC */
		return request_day_start(t / DAY_S, ret_t) < 0 ? -EINVAL : 0;
	*ret_t = t;
	return 0;
}

char *
request_fmt_date(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, len, "invalid-date");
	return buf;
}

char *
request_fmt_local(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(buf, len, "invalid-time");
	return buf;
}

int
request_local_year(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return 1970;
	return tm.tm_year + 1900;
}

/* ---- ids -------------------------------------------------------------- */

/* Are the n bytes at s digits? */
static int
request_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
request_id_valid(const char *s, const char *prefix)
{
	size_t n, len;

	if (s == NULL)
		return 0;
	if (prefix == NULL)
		return request_id_valid(s, REQUEST_PREFIX) ||
		    request_id_valid(s, REQUEST_HOLD_PREFIX);
	n = strlen(prefix);
	len = strlen(s);
	/* PREFIX-YYYY-NNNN: a year 1000-9999, 4 to 9 digits. */
	if (len < n + 10 || len > n + 15 || strncmp(s, prefix, n) != 0)
		return 0;
	s += n;
	return s[0] == '-' && s[1] != '0' && request_digits(s + 1, 4) &&
	    s[5] == '-' && request_digits(s + 6, len - n - 6);
}

int
request_next_id(sqlite3 *db, const char *prefix, int year, char *buf,
    size_t len)
{
	static const char req_sql[] = "SELECT COALESCE(MAX(CAST(substr("
	    "request_id, ?2) AS INTEGER)), 0) FROM requests"
	    " WHERE request_id GLOB ?1";
	static const char hold_sql[] = "SELECT COALESCE(MAX(CAST(substr("
	    "hold_id, ?2) AS INTEGER)), 0) FROM holds WHERE hold_id GLOB ?1";
	char head[32], pat[48];
	sqlite3_stmt *st;
	int64_t last = -1;

	if (year < 1000 || year > 9999)
		return -EINVAL;
	snprintf(head, sizeof(head), "%s-%d-", prefix, year);
	snprintf(pat, sizeof(pat), "%s[0-9]*", head);
	if (sqlite3_prepare_v2(db, strcmp(prefix, REQUEST_PREFIX) == 0 ?
	    req_sql : hold_sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, pat, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)strlen(head) + 1);
	if (sqlite3_step(st) == SQLITE_ROW)
		last = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (last < 0 || last >= 999999999)
		return last < 0 ? -EIO : -ERANGE;
	snprintf(buf, len, "%s%04lld", head, (long long)last + 1);
	return 0;
}

/* ---- filters as JSON -------------------------------------------------- */

static const char *const request_incl[] = {
	[QUERY_INCLUDE] = "include", [QUERY_EXCLUDE] = "exclude",
	[QUERY_ONLY] = "only",
};

/* Set key to a copy of s unless s is NULL; -EINVAL if not UTF-8. */
static int
request_set_str(json_t *o, const char *key, const char *s)
{
	if (s == NULL)
		return 0;
	return json_object_set_new(o, key, json_string(s)) == 0 ? 0 :
	    -EINVAL;
}

int
request_filter_to_json(const struct query_filter *f, json_t **ret)
{
	char t[32];
	json_t *o;
	int r = 0;

	if (f->nids > 0 || (unsigned)f->removed > QUERY_ONLY ||
	    (unsigned)f->hidden > QUERY_ONLY)
		return -EINVAL;
	o = json_object();
	r |= request_set_str(o, "account", f->account);
	r |= request_set_str(o, "platform", f->platform);
	if (f->has_from)
		r |= request_set_str(o, "from",
		    util_format_time(f->from, t, sizeof(t)));
	if (f->has_to)
		r |= request_set_str(o, "to",
		    util_format_time(f->to, t, sizeof(t)));
	r |= request_set_str(o, "text", f->text);
	r |= request_set_str(o, "author", f->author);
	r |= request_set_str(o, "state", f->state);
	r |= request_set_str(o, "kind", f->kind);
	r |= request_set_str(o, "removed", request_incl[f->removed]);
	r |= request_set_str(o, "hidden", request_incl[f->hidden]);
	json_object_set_new(o, "with_thread", json_boolean(f->with_thread));
	if (r != 0) {
		/* A string that is not UTF-8: never store a wider filter. */
		json_decref(o);
		return -EINVAL;
	}
	*ret = o;
	return 0;
}

static int
request_incl_of(const json_t *v, enum query_incl *ret)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(request_incl); i++) {
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), request_incl[i]) == 0) {
			*ret = (enum query_incl)i;
			return 0;
		}
	}
	return -EINVAL;
}

int
request_filter_from_json(const json_t *j, struct query_filter *ret,
    char *err, size_t errlen)
{
	static const char *const strkeys[] = { "account", "platform",
	    "text", "author", "state", "kind" };
	struct query_filter f;
	struct query_order o;
	const char *key, **slot;
	json_t *obj = (json_t *)j, *v;
	size_t i;
	int r;

	if (!json_is_object(j)) {
		snprintf(err, errlen, "the search filter is not a JSON object");
		return -EINVAL;
	}
	query_filter_init(&f);
	json_object_foreach(obj, key, v) {
		for (i = 0; i < ARRAY_SIZE(strkeys); i++)
			if (strcmp(key, strkeys[i]) == 0)
				break;
		if (i < ARRAY_SIZE(strkeys)) {
			if (!json_is_string(v))
				goto bad;
			slot = i == 0 ? &f.account : i == 1 ? &f.platform :
			    i == 2 ? &f.text : i == 3 ? &f.author :
			    i == 4 ? &f.state : &f.kind;
			*slot = json_string_value(v);
		} else if (strcmp(key, "from") == 0) {
			if (util_parse_time(json_string_value(v), &f.from) < 0)
				goto bad;
			f.has_from = 1;
		} else if (strcmp(key, "to") == 0) {
			if (util_parse_time(json_string_value(v), &f.to) < 0)
				goto bad;
			f.has_to = 1;
		} else if (strcmp(key, "removed") == 0) {
			if (request_incl_of(v, &f.removed) < 0)
				goto bad;
		} else if (strcmp(key, "hidden") == 0) {
			if (request_incl_of(v, &f.hidden) < 0)
				goto bad;
		} else if (strcmp(key, "with_thread") == 0) {
			if (!json_is_boolean(v))
				goto bad;
			f.with_thread = json_is_true(v);
		} else {
			snprintf(err, errlen, "unknown key '%.64s' in the"
			    " search filter (made by a newer sunarchive?)",
			    key);
			return -EINVAL;
		}
	}
	memset(&o, 0, sizeof(o));
	o.sort = QUERY_SORT_CREATED;
	r = query_check(&f, &o, err, errlen);
	if (r < 0)
		return r;
	*ret = f;
	return 0;
bad:
	snprintf(err, errlen, "invalid value for '%.64s' in the search"
	    " filter", key);
	return -EINVAL;
}

/* ---- events to rows --------------------------------------------------- */

static const char request_insert_sql[] =
    "INSERT INTO requests(request_id, requester, received, state,"
    " description, search, acknowledged, deadline, status, opened,"
    " opened_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', ?9, ?10)"
    " ON CONFLICT(request_id) DO NOTHING";
static const char request_close_sql[] =
    "UPDATE requests SET status = 'closed', disposition = ?2, note = ?3,"
    " closed = ?4, closed_by = ?5 WHERE request_id = ?1"
    " AND status = 'open'";
static const char request_item_sql[] =
    "SELECT i.id FROM accounts a JOIN items i ON i.account_id = a.id"
    " WHERE a.name = ?1 AND i.platform_id = ?2";
/*
 * A placement inserts, or places again what was released before it; a
 * replayed placement older than the release changes nothing.
 */
static const char request_hold_sql[] =
    "INSERT INTO holds(item_id, hold_id, request_id, reason, placed)"
    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(item_id, hold_id) DO UPDATE"
    " SET request_id = excluded.request_id, reason = excluded.reason,"
    " placed = excluded.placed, released = NULL, note = NULL"
    " WHERE holds.released IS NOT NULL"
    " AND excluded.placed > holds.released";
/* A release covers what was placed at or before it. */
static const char request_release_hold_sql[] =
    "UPDATE holds SET released = ?2, note = ?3 WHERE hold_id = ?1"
    " AND released IS NULL AND placed <= ?2";
static const char request_release_req_sql[] =
    "UPDATE holds SET released = ?2, note = ?3 WHERE request_id = ?1"
    " AND released IS NULL AND placed <= ?2";

static int
request_sqlerr(int rc)
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
	case SQLITE_NOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/* Step a statement to its end and finalize it. */
static int
request_run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : request_sqlerr(rc);
}

static void
request_bind_str(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static void
request_bind_time(sqlite3_stmt *st, int i, int64_t t)
{
	if (t == 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int64(st, i, t);
}

/* A string field of at most REQUEST_TEXT_MAX bytes; NULL if absent. */
static int
request_text(const json_t *ev, const char *key, int required,
    const char **ret)
{
	const json_t *v = json_object_get(ev, key);

	if (v == NULL || json_is_null(v)) {
		*ret = NULL;
		return required ? -EINVAL : 0;
	}
	if (!json_is_string(v) || json_string_length(v) > REQUEST_TEXT_MAX ||
	    (required && json_string_length(v) == 0))
		return -EINVAL;
	*ret = json_string_value(v);
	return 0;
}

/* A time field; 0 if absent and not required. */
static int
request_time(const json_t *ev, const char *key, int required, int64_t *ret)
{
	const json_t *v = json_object_get(ev, key);

	*ret = 0;
	if (v == NULL || json_is_null(v))
		return required ? -EINVAL : 0;
	return util_parse_time(json_string_value(v), ret) < 0 ? -EINVAL : 0;
}

static int
request_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, ret, NULL);

	return rc == SQLITE_OK ? 0 : request_sqlerr(rc);
}

static int
request_apply_opened(sqlite3 *db, const json_t *ev)
{
	const char *rid, *requester, *state, *desc, *user;
	int64_t received, opened, deadline, ack;
	struct query_filter f;
	const json_t *search = json_object_get(ev, "search");
	char err[QUERY_ERR_LEN], *stext;
	sqlite3_stmt *st;
	int r;

	rid = json_string_value(json_object_get(ev, "request"));
	state = json_string_value(json_object_get(ev, "state"));
	if (!request_id_valid(rid, REQUEST_PREFIX) || state == NULL ||
	    (strcmp(state, "FL") != 0 && strcmp(state, "MO") != 0))
		return -EINVAL;
	if (request_text(ev, "requester", 1, &requester) < 0 ||
	    request_text(ev, "description", 1, &desc) < 0 ||
	    request_text(ev, "user", 0, &user) < 0 ||
	    request_time(ev, "received", 1, &received) < 0 ||
	    request_time(ev, "opened", 1, &opened) < 0 ||
	    request_time(ev, "deadline", strcmp(state, "MO") == 0,
	    &deadline) < 0 ||
	    request_time(ev, "acknowledged", 0, &ack) < 0 ||
	    request_filter_from_json(search, &f, err, sizeof(err)) < 0)
		return -EINVAL;
	stext = json_dumps(search, JSON_COMPACT | JSON_SORT_KEYS);
	if (stext == NULL)
		return -EINVAL;
	r = request_prepare(db, request_insert_sql, &st);
	if (r < 0) {
		free(stext);
		return r;
	}
	request_bind_str(st, 1, rid);
	request_bind_str(st, 2, requester);
	sqlite3_bind_int64(st, 3, received);
	request_bind_str(st, 4, state);
	request_bind_str(st, 5, desc);
	request_bind_str(st, 6, stext);
	request_bind_time(st, 7, ack);
	request_bind_time(st, 8, deadline);
	sqlite3_bind_int64(st, 9, opened);
	request_bind_str(st, 10, user);
	r = request_run(st);
	free(stext);
	return r;
}

static int
request_disposition_valid(const char *s)
{
	const char *p = REQUEST_DISPOSITIONS, *bar;
	size_t n, len;

	if (s == NULL)
		return 0;
	len = strlen(s);
	for (;;) {
		bar = strchr(p, '|');
		n = bar != NULL ? (size_t)(bar - p) : strlen(p);
		if (n == len && strncmp(p, s, n) == 0)
			return 1;
		if (bar == NULL)
			return 0;
		p = bar + 1;
	}
}

static int
request_apply_closed(sqlite3 *db, const json_t *ev)
{
	const char *rid, *disp, *note, *user;
	sqlite3_stmt *st;
	int64_t closed;
	int r;

	rid = json_string_value(json_object_get(ev, "request"));
	disp = json_string_value(json_object_get(ev, "disposition"));
	if (!request_id_valid(rid, REQUEST_PREFIX) ||
	    !request_disposition_valid(disp) ||
	    request_text(ev, "note", 0, &note) < 0 ||
	    request_text(ev, "user", 0, &user) < 0 ||
	    request_time(ev, "closed", 1, &closed) < 0)
		return -EINVAL;
	r = request_prepare(db, request_close_sql, &st);
	if (r < 0)
		return r;
	request_bind_str(st, 1, rid);
	request_bind_str(st, 2, disp);
	request_bind_str(st, 3, note);
	sqlite3_bind_int64(st, 4, closed);
	request_bind_str(st, 5, user);
	return request_run(st);
}

static int
request_apply_placed(sqlite3 *db, const json_t *ev)
{
	const char *hold, *rid, *reason, *acct, *pid;
	const json_t *items = json_object_get(ev, "items"), *it;
	sqlite3_stmt *find = NULL, *ins = NULL;
	int64_t placed, item;
	size_t i;
	int r, rc;

	hold = json_string_value(json_object_get(ev, "hold"));
	if (!request_id_valid(hold, NULL) ||
	    request_text(ev, "request", 0, &rid) < 0 ||
	    (rid != NULL && !request_id_valid(rid, REQUEST_PREFIX)) ||
	    request_text(ev, "reason", 1, &reason) < 0 ||
	    request_time(ev, "placed", 1, &placed) < 0 ||
	    !json_is_array(items))
		return -EINVAL;
	for (i = 0; i < json_array_size(items); i++) {
		it = json_array_get(items, i);
		if (!json_is_string(json_object_get(it, "account")) ||
		    !json_is_string(json_object_get(it, "platform_id")))
			return -EINVAL;
	}
	r = request_prepare(db, request_item_sql, &find);
	if (r == 0)
		r = request_prepare(db, request_hold_sql, &ins);
	for (i = 0; r == 0 && i < json_array_size(items); i++) {
		it = json_array_get(items, i);
		acct = json_string_value(json_object_get(it, "account"));
		pid = json_string_value(json_object_get(it, "platform_id"));
		sqlite3_reset(find);
		request_bind_str(find, 1, acct);
		request_bind_str(find, 2, pid);
		rc = sqlite3_step(find);
		if (rc == SQLITE_DONE)
			continue;	/* not in this index: nothing to hold */
		if (rc != SQLITE_ROW) {
			r = request_sqlerr(rc);
			break;
		}
		item = sqlite3_column_int64(find, 0);
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, item);
		request_bind_str(ins, 2, hold);
		request_bind_str(ins, 3, rid);
		request_bind_str(ins, 4, reason);
		sqlite3_bind_int64(ins, 5, placed);
		rc = sqlite3_step(ins);
		if (rc != SQLITE_DONE)
			r = request_sqlerr(rc);
	}
	sqlite3_finalize(find);
	sqlite3_finalize(ins);
	return r;
}

static int
request_apply_released(sqlite3 *db, const json_t *ev)
{
	const char *hold, *rid, *note;
	sqlite3_stmt *st;
	int64_t released;
	int r;

	if (request_text(ev, "hold", 0, &hold) < 0 ||
	    request_text(ev, "request", 0, &rid) < 0 ||
	    (hold == NULL) == (rid == NULL) ||
	    (hold != NULL && !request_id_valid(hold, NULL)) ||
	    (rid != NULL && !request_id_valid(rid, REQUEST_PREFIX)) ||
	    request_text(ev, "note", 1, &note) < 0 ||
	    request_time(ev, "released", 1, &released) < 0)
		return -EINVAL;
	r = request_prepare(db, hold != NULL ? request_release_hold_sql :
	    request_release_req_sql, &st);
	if (r < 0)
		return r;
	request_bind_str(st, 1, hold != NULL ? hold : rid);
	sqlite3_bind_int64(st, 2, released);
	request_bind_str(st, 3, note);
	return request_run(st);
}

static const struct {
	const char	*name;
	int		(*fn)(sqlite3 *, const json_t *);
} request_events[] = {
	{ "request-opened",	request_apply_opened },
	{ "request-closed",	request_apply_closed },
	{ "hold-placed",	request_apply_placed },
	{ "hold-released",	request_apply_released },
};

int
request_is_event(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < ARRAY_SIZE(request_events); i++)
		if (strcmp(name, request_events[i].name) == 0)
			return 1;
	return 0;
}

int
request_apply(struct index *ix, const json_t *event, int64_t *ret_changes)
{
	const char *name = json_string_value(json_object_get(event, "event"));
	sqlite3_int64 before;
	size_t i;
	int r;

	if (name == NULL)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(request_events); i++)
		if (strcmp(name, request_events[i].name) == 0)
			break;
	if (i == ARRAY_SIZE(request_events))
		return -EINVAL;
	before = sqlite3_total_changes64(ix->db);
	r = request_events[i].fn(ix->db, event);
	if (r == 0 && ret_changes != NULL)
		*ret_changes = (int64_t)(sqlite3_total_changes64(ix->db) -
		    before);
	return r;
}

/* ---- recording -------------------------------------------------------- */

int
request_record(struct index *ix, const char *state_dir, json_t *events,
    int64_t *ret_changes, json_t *ret_ids, char *err, size_t errlen)
{
	char (*ids)[RECORD_ID_LEN] = NULL;
	size_t i, n = json_array_size(events), queued = 0;
	int64_t changes = 0, c;
	char *path;
	int r;

	r = index_begin(ix);
	if (r < 0) {
		snprintf(err, errlen, "cannot write to the index: %s",
		    index_errmsg(ix));
		return r;
	}
	for (i = 0; i < n; i++) {
		r = request_apply(ix, json_array_get(events, i), &c);
		if (r == -EINVAL) {
			snprintf(err, errlen, "invalid '%s' event",
			    json_string_value(json_object_get(json_array_get(
			    events, i), "event")));
			goto out_rollback;
		}
		if (r < 0) {
			snprintf(err, errlen, "cannot apply an event to the"
			    " index: %s", index_errmsg(ix));
			goto out_rollback;
		}
		changes += c;
	}
	ids = xcalloc(n > 0 ? n : 1, sizeof(*ids));
	for (i = 0; i < n; i++) {
		r = spool_write(state_dir, json_array_get(events, i), ids[i],
		    sizeof(ids[i]));
		if (r < 0) {
			snprintf(err, errlen, "cannot queue the event in"
			    " '%s/%s': %s", state_dir, SPOOL_DIR,
			    strerror(-r));
			goto out_unqueue;
		}
		queued++;
	}
	r = index_commit(ix);
	if (r < 0) {
		snprintf(err, errlen, "cannot commit to the index: %s",
		    index_errmsg(ix));
		goto out_unqueue;
	}
	for (i = 0; ret_ids != NULL && i < n; i++)
		json_array_append_new(ret_ids, json_string(ids[i]));
	free(ids);
	if (ret_changes != NULL)
		*ret_changes = changes;
	return 0;

out_unqueue:
	/* Not applied, so not archived either (unless already ingested). */
	for (i = 0; i < queued; i++) {
		path = xasprintf("%s/%s/%s.json", state_dir, SPOOL_DIR,
		    ids[i] + strlen("urn:uuid:"));
		unlink(path);
		free(path);
	}
	free(ids);
out_rollback:
	index_rollback(ix);
	return r;
}

int
request_hold_events(sqlite3 *db, const char *hold_id,
    const char *request_id, const char *reason, int64_t placed,
    const char *user, const int64_t *items, size_t nitems, json_t *events)
{
	static const char sql[] = "SELECT a.name, i.platform_id FROM items i"
	    " JOIN accounts a ON a.id = i.account_id WHERE i.id = ?1";
	json_t *ev = NULL, *arr = NULL;
	sqlite3_stmt *st;
	char t[32];
	size_t i, bytes = 0, n;
	const char *acct, *pid;
	int rc, r = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	util_format_time(placed, t, sizeof(t));
	for (i = 0; i < nitems; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, items[i]);
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			r = rc == SQLITE_DONE ? -ENOENT : -EIO;
			break;
		}
		acct = (const char *)sqlite3_column_text(st, 0);
		pid = (const char *)sqlite3_column_text(st, 1);
		n = strlen(acct) + strlen(pid) + 40;
		if (ev == NULL || bytes + n > REQUEST_EVENT_BYTES) {
			ev = json_object();
			json_object_set_new(ev, "event",
			    json_string("hold-placed"));
			json_object_set_new(ev, "hold", json_string(hold_id));
			json_object_set_new(ev, "request", request_id != NULL ?
			    json_string(request_id) : json_null());
			json_object_set_new(ev, "reason", json_string(reason));
			json_object_set_new(ev, "placed", json_string(t));
			json_object_set_new(ev, "time", json_string(t));
			json_object_set_new(ev, "user", json_string(user));
			arr = json_array();
			json_object_set_new(ev, "items", arr);
			json_array_append_new(events, ev);
			bytes = strlen(reason) + strlen(user) + 256;
		}
		if (json_array_append_new(arr, json_pack("{s:s, s:s}",
		    "account", acct, "platform_id", pid)) < 0) {
			r = -EINVAL;	/* not UTF-8 */
			break;
		}
		bytes += n;
	}
	sqlite3_finalize(st);
	return r;
}

/* ---- reading ---------------------------------------------------------- */

int
request_tables(sqlite3 *db)
{
	sqlite3_stmt *st;
	int rc, n = -1;

	if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM sqlite_master WHERE"
	    " type = 'table' AND name IN ('requests', 'holds')", -1, &st,
	    NULL) != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n < 0 ? -EIO : n == 2;
}

static char *
request_col_dup(sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	return s != NULL ? xstrdup(s) : NULL;
}

void
request_info_release(struct request_info *ri)
{
	if (ri == NULL)
		return;
	free(ri->requester);
	free(ri->description);
	free(ri->disposition);
	free(ri->note);
	free(ri->opened_by);
	free(ri->closed_by);
	json_decref(ri->search);
	memset(ri, 0, sizeof(*ri));
}

int
request_load(sqlite3 *db, const char *request_id, struct request_info *ret,
    char *err, size_t errlen)
{
	static const char sql[] = "SELECT id, request_id, state, status,"
	    " requester, description, disposition, note, opened_by, closed_by,"
	    " received, COALESCE(acknowledged, 0), COALESCE(deadline, 0),"
	    " opened, COALESCE(closed, 0), search FROM requests"
	    " WHERE request_id = ?1";
	struct request_info ri;
	json_error_t jerr;
	sqlite3_stmt *st;
	const char *s;
	int rc, r;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return -EIO;
	}
	sqlite3_bind_text(st, 1, request_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			snprintf(err, errlen, "no request '%s'", request_id);
		else
			snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	memset(&ri, 0, sizeof(ri));
	ri.id = sqlite3_column_int64(st, 0);
	s = (const char *)sqlite3_column_text(st, 1);
	snprintf(ri.request_id, sizeof(ri.request_id), "%s", s ? s : "");
	s = (const char *)sqlite3_column_text(st, 2);
	snprintf(ri.state, sizeof(ri.state), "%s", s ? s : "");
	s = (const char *)sqlite3_column_text(st, 3);
	snprintf(ri.status, sizeof(ri.status), "%s", s ? s : "");
	ri.requester = request_col_dup(st, 4);
	ri.description = request_col_dup(st, 5);
	ri.disposition = request_col_dup(st, 6);
	ri.note = request_col_dup(st, 7);
	ri.opened_by = request_col_dup(st, 8);
	ri.closed_by = request_col_dup(st, 9);
	ri.received = sqlite3_column_int64(st, 10);
	ri.acknowledged = sqlite3_column_int64(st, 11);
	ri.deadline = sqlite3_column_int64(st, 12);
	ri.opened = sqlite3_column_int64(st, 13);
	ri.closed = sqlite3_column_int64(st, 14);
	s = (const char *)sqlite3_column_text(st, 15);
	ri.search = s != NULL ? json_loads(s, 0, &jerr) : NULL;
	sqlite3_finalize(st);
	if (ri.search == NULL) {
		snprintf(err, errlen, "request '%s' has no readable search"
		    " filter", request_id);
		r = -EINVAL;
	} else {
		r = request_filter_from_json(ri.search, &ri.filter, err,
		    errlen);
	}
	if (r < 0) {
		request_info_release(&ri);
		return r;
	}
	*ret = ri;
	return 0;
}

int
request_matches(sqlite3 *db, const struct query_filter *f,
    int64_t **ret_ids, size_t *ret_n, size_t *ret_context, char *err,
    size_t errlen)
{
	struct query_order o;
	sqlite3_stmt *st;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0, ctx = 0;
	int r, rc;

	memset(&o, 0, sizeof(o));
	o.sort = QUERY_SORT_CREATED;
	r = query_prepare(db, f, &o, &st, err, errlen);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			ids = xreallocarray(ids, cap, sizeof(*ids));
		}
		ids[n++] = sqlite3_column_int64(st, QUERY_COL_ID);
		ctx += sqlite3_column_int(st, QUERY_COL_CONTEXT) != 0;
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		free(ids);
		return -EIO;
	}
	sqlite3_finalize(st);
	*ret_ids = ids;
	*ret_n = n;
	if (ret_context != NULL)
		*ret_context = ctx;
	return 0;
}

/* Two integers sql returns with ?1 bound to the JSON array ids. */
static int
request_sum(sqlite3 *db, const char *sql, const char *ids, int64_t *ret_a,
    int64_t *ret_b)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, ids, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_a = sqlite3_column_int64(st, 0);
		*ret_b = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

int
request_estimate(sqlite3 *db, const struct query_filter *f,
    struct request_estimate *ret, char *err, size_t errlen)
{
	struct request_estimate e;
	struct buf ids;
	int64_t *v = NULL;
	size_t n = 0, ctx = 0, i;
	int r;

	r = request_matches(db, f, &v, &n, &ctx, err, errlen);
	if (r < 0)
		return r;
	memset(&e, 0, sizeof(e));
	e.items = (int64_t)(n - ctx);
	e.context = (int64_t)ctx;
	buf_init(&ids, 0);
	buf_puts(&ids, "[");
	for (i = 0; i < n; i++)
		buf_printf(&ids, "%s%lld", i > 0 ? "," : "", (long long)v[i]);
	buf_puts(&ids, "]");
	free(v);
	r = request_sum(db, "SELECT COUNT(*), COALESCE(SUM(r.length), 0)"
	    " FROM versions v LEFT JOIN records r ON r.seq = v.seq"
	    " WHERE v.item_id IN (SELECT value FROM json_each(?1))",
	    ids.data, &e.records, &e.record_bytes);
	if (r == 0)
		r = request_sum(db, "SELECT COUNT(*), COALESCE(SUM(size), 0)"
		    " FROM media WHERE item_id IN (SELECT value FROM"
		    " json_each(?1))", ids.data, &e.media, &e.media_bytes);
	buf_release(&ids);
	if (r < 0) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return r;
	}
	e.bytes = e.record_bytes + e.media_bytes;
	e.pages = (e.records + REQUEST_RECORDS_PER_PAGE - 1) /
	    REQUEST_RECORDS_PER_PAGE;
	*ret = e;
	return 0;
}

int
request_item_held(sqlite3 *db, int64_t item_id)
{
	sqlite3_stmt *st;
	int rc, held = -EIO;

	if (sqlite3_prepare_v2(db, "SELECT EXISTS (SELECT 1 FROM holds"
	    " WHERE item_id = ?1 AND released IS NULL)", -1, &st, NULL) !=
	    SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, item_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		held = sqlite3_column_int(st, 0) != 0;
	sqlite3_finalize(st);
	return held;
}

int
request_index_open(const char *state_dir, struct index *ix, char *err,
    size_t errlen)
{
	struct stat sb;
	char *path;
	int r;

	path = xasprintf("%s/%s", state_dir, INDEX_FILE);
	if (stat(path, &sb) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open index '%s': %s", path,
		    strerror(errno));
		free(path);
		return r;
	}
	r = index_open(ix, path, 0, err, errlen);
	if (r == 0)
		sqlite3_busy_timeout(ix->db, REQUEST_BUSY_MS);
	free(path);
	return r;
}

char *
request_user(char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	const char *sudo = getenv("SUDO_USER");
	char pwbuf[1024];

	if (getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &res) == 0 &&
	    res != NULL)
		snprintf(buf, len, "%s", pw.pw_name);
	else
		snprintf(buf, len, "uid %u", (unsigned)getuid());
	if (sudo != NULL && sudo[0] != '\0' && strcmp(sudo, buf) != 0 &&
	    util_is_printable(sudo) && strlen(sudo) < 64) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, " (sudo: %s)", sudo);
	}
	return buf;
}
