/*
 * request.c - "sunarchive request open|list|show|close": the log of public
 * records requests (Florida ch. 119, Missouri ch. 610).
 *
 * open logs who asked, when the custodian received the request, under
 * which law and what it covers (the filter options of "search"), gives it
 * the next id PRR-YYYY-NNNN of its year of receipt, computes the Missouri
 * deadline (the end of the third business day: include/request.h) or
 * records the Florida acknowledgment, and places a legal hold on every
 * item the request matches now. list shows the open requests with their
 * age and deadline, overdue ones flagged; show one request with its holds
 * and what answering it takes (records, items, media, bytes, printed
 * pages) for the fee estimate; close records the disposition. Closing
 * does not release the holds: retention continues, and a release is a
 * deliberate act ("sunarchive hold release").
 *
 * Every change is a request or hold event queued for sunarchived to
 * archive (the archive is the record of the request log); the same event
 * is applied to the index at once by request_apply(), so the index must
 * be writable by whoever runs these commands.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "query.h"
#include "request.h"
#include "util.h"
#include "xalloc.h"

#define REQ_DAY			86400
#define REQ_LABEL		16	/* width of show's label column */
#define REQ_TIME_LEN		64

enum {
	REQ_OPT_REQUESTER = 0x200,
	REQ_OPT_RECEIVED,
	REQ_OPT_STATE,
	REQ_OPT_DESCRIPTION,
	REQ_OPT_ACKNOWLEDGED,
	REQ_OPT_HOLIDAYS,
	REQ_OPT_ACCOUNT,
	REQ_OPT_PLATFORM,
	REQ_OPT_FROM,
	REQ_OPT_TO,
	REQ_OPT_TEXT,
	REQ_OPT_AUTHOR,
	REQ_OPT_ITEM_STATE,
	REQ_OPT_KIND,
	REQ_OPT_INCLUDE_REMOVED,
	REQ_OPT_EXCLUDE_REMOVED,
	REQ_OPT_ONLY_REMOVED,
	REQ_OPT_HIDDEN,
	REQ_OPT_WITH_THREAD,
	REQ_OPT_ALL,
	REQ_OPT_DISPOSITION,
	REQ_OPT_NOTE,
};

static const char *const req_platforms[] = { "facebook", "mastodon" };
static const char *const req_item_states[] = { "live", "edited", "hidden",
    "removed", "restored" };
static const char *const req_kinds[] = { "post", "comment", "reply" };
static const char *const req_incl[] = {
	[QUERY_INCLUDE] = "include", [QUERY_EXCLUDE] = "exclude",
	[QUERY_ONLY] = "only",
};
static const char *const req_dispositions[] = { "fulfilled", "partial",
    "no-records", "denied" };

static int
req_index(const char *s, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return (int)i;
	return -1;
}

static const char *
req_state_name(const char *state)
{
	return strcmp(state, "MO") == 0 ? "Missouri" : "Florida";
}

static const char *
req_weekday(int64_t t)
{
	static const char *const names[] = { "Sunday", "Monday", "Tuesday",
	    "Wednesday", "Thursday", "Friday", "Saturday" };
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return "?";
	return names[tm.tm_wday % 7];
}

/* A text option: not empty, at most REQUEST_TEXT_MAX bytes. */
static int
req_text_opt(struct ctl *ctl, const char *opt, const char *s)
{
	if (s == NULL)
		return 0;
	if (s[0] == '\0')
		return ctl_usage(ctl, "%s must not be empty", opt);
	if (strlen(s) > REQUEST_TEXT_MAX)
		return ctl_usage(ctl, "%s is too long (at most %d bytes)", opt,
		    REQUEST_TEXT_MAX);
	return 0;
}

static int
req_id_arg(struct ctl *ctl, const char *s)
{
	if (!request_id_valid(s, REQUEST_PREFIX))
		return ctl_usage(ctl, "invalid request id '%s' (expected "
		    "%s-YYYY-NNNN)", s, REQUEST_PREFIX);
	return 0;
}

/* The index for writing; prints the error. */
static int
req_open_index(struct ctl *ctl, struct index *ix, const char **ret_state)
{
	char err[1024];

	if (ctl_state_dir(ctl, ret_state) < 0)
		return -EIO;
	if (request_index_open(*ret_state, ix, err, sizeof(err)) < 0)
		return ctl_fail(-EIO, "%s%s", err, access(*ret_state, W_OK) ==
		    0 ? "" : " (request commands write to the index and the"
		    " spool: run them as a member of the archive's group)");
	return 0;
}

/*
 * The holiday calendar: --holidays FILE, else holidays_file from the
 * configuration file, if there is one. *ret_path is NULL for none.
 */
static int
req_holidays(struct ctl *ctl, const char *opt, struct request_calendar *cal,
    char **ret_path)
{
	struct config cfg;
	char err[1024];
	int r;

	*ret_path = NULL;
	if (opt == NULL) {
		if (access(ctl->config_path, F_OK) < 0 && errno == ENOENT)
			return 0;
		memset(&cfg, 0, sizeof(cfg));
		r = config_load(ctl->config_path, CONFIG_SKIP_SECRETS, &cfg,
		    err, sizeof(err));
		if (r < 0)
			return ctl_fail(-EIO, "%s", err);
		if (cfg.holidays_file != NULL)
			*ret_path = xstrdup(cfg.holidays_file);
		config_release(&cfg);
		if (*ret_path == NULL)
			return 0;
	} else {
		*ret_path = xstrdup(opt);
	}
	r = request_calendar_load(cal, *ret_path, err, sizeof(err));
	if (r < 0) {
		request_calendar_release(cal);
		free(*ret_path);
		*ret_path = NULL;
		return ctl_fail(-EIO, "%s", err);
	}
	return 0;
}

/* ---- open ------------------------------------------------------------- */

struct req_open {
	const char		*requester;
	const char		*received;
	const char		*state;
	const char		*description;
	const char		*acknowledged;
	const char		*holidays;
	struct query_filter	 f;
	int64_t			 t_received;
	int64_t			 t_ack;
};

static int
req_filter_date(struct ctl *ctl, const char *opt, const char *s,
    int end_of_day, int64_t *ret_t)
{
	int64_t t;

	if (util_parse_time(s, &t) < 0)
		return ctl_usage(ctl, "invalid date '%s' for %s (use "
		    "YYYY-MM-DD or RFC 3339, e.g. 2026-03-02T14:05:09Z)", s,
		    opt);
	/* As in search: UTC, and a bare upper bound means the whole day. */
	if (end_of_day && strlen(s) == 10)
		t += REQ_DAY - 1;
	*ret_t = t;
	return 0;
}

/* One option of "request open"; 0 or the exit code. */
static int
req_open_option(struct ctl *ctl, int c, struct req_open *o)
{
	struct query_filter *f = &o->f;
	int i;

	switch (c) {
	case REQ_OPT_REQUESTER:
		o->requester = optarg;
		return 0;
	case REQ_OPT_RECEIVED:
		o->received = optarg;
		return 0;
	case REQ_OPT_STATE:
		if (strcmp(optarg, "FL") != 0 && strcmp(optarg, "MO") != 0)
			return ctl_usage(ctl, "unknown --state '%s' (FL or MO)",
			    optarg);
		o->state = optarg;
		return 0;
	case REQ_OPT_DESCRIPTION:
		o->description = optarg;
		return 0;
	case REQ_OPT_ACKNOWLEDGED:
		o->acknowledged = optarg;
		return 0;
	case REQ_OPT_HOLIDAYS:
		o->holidays = optarg;
		return 0;
	case REQ_OPT_ACCOUNT:
		f->account = optarg;
		return 0;
	case REQ_OPT_PLATFORM:
		if (req_index(optarg, req_platforms,
		    ARRAY_SIZE(req_platforms)) < 0)
			return ctl_usage(ctl, "unknown platform '%s' "
			    "(facebook or mastodon)", optarg);
		f->platform = optarg;
		return 0;
	case REQ_OPT_FROM:
		f->has_from = 1;
		return req_filter_date(ctl, "--from", optarg, 0, &f->from);
	case REQ_OPT_TO:
		f->has_to = 1;
		return req_filter_date(ctl, "--to", optarg, 1, &f->to);
	case REQ_OPT_TEXT:
		f->text = optarg;
		return 0;
	case REQ_OPT_AUTHOR:
		f->author = optarg;
		return 0;
	case REQ_OPT_ITEM_STATE:
		if (req_index(optarg, req_item_states,
		    ARRAY_SIZE(req_item_states)) < 0)
			return ctl_usage(ctl, "unknown --item-state '%s' (live,"
			    " edited, hidden, removed or restored)", optarg);
		f->state = optarg;
		return 0;
	case REQ_OPT_KIND:
		if (req_index(optarg, req_kinds, ARRAY_SIZE(req_kinds)) < 0)
			return ctl_usage(ctl, "unknown kind '%s' (post, "
			    "comment or reply)", optarg);
		f->kind = optarg;
		return 0;
	case REQ_OPT_INCLUDE_REMOVED:
		f->removed = QUERY_INCLUDE;
		return 0;
	case REQ_OPT_EXCLUDE_REMOVED:
		f->removed = QUERY_EXCLUDE;
		return 0;
	case REQ_OPT_ONLY_REMOVED:
		f->removed = QUERY_ONLY;
		return 0;
	case REQ_OPT_HIDDEN:
		i = req_index(optarg, req_incl, ARRAY_SIZE(req_incl));
		if (i < 0)
			return ctl_usage(ctl, "unknown --hidden '%s' "
			    "(include, exclude or only)", optarg);
		f->hidden = (enum query_incl)i;
		return 0;
	case REQ_OPT_WITH_THREAD:
		f->with_thread = 1;
		return 0;
	default:
		return CTL_EXIT_USAGE;
	}
}

/* Required options, dates and the filter; 0 or the exit code. */
static int
req_open_check(struct ctl *ctl, struct req_open *o)
{
	struct query_order qo;
	char err[QUERY_ERR_LEN];
	int r;

	if (o->requester == NULL || o->received == NULL || o->state == NULL ||
	    o->description == NULL)
		return ctl_usage(ctl, "request open needs --requester, "
		    "--received, --state and --description");
	r = req_text_opt(ctl, "--requester", o->requester);
	if (r == 0)
		r = req_text_opt(ctl, "--description", o->description);
	if (r != 0)
		return r;
	if (request_parse_date(o->received, &o->t_received) < 0)
		return ctl_usage(ctl, "invalid date '%s' for --received (use "
		    "YYYY-MM-DD, local time, or RFC 3339)", o->received);
	if (o->t_received > ctl->now)
		return ctl_usage(ctl, "--received %s is in the future",
		    o->received);
	if (o->acknowledged != NULL) {
		if (request_parse_date(o->acknowledged, &o->t_ack) < 0)
			return ctl_usage(ctl, "invalid date '%s' for "
			    "--acknowledged", o->acknowledged);
		if (o->t_ack > ctl->now || o->t_ack < o->t_received)
			return ctl_usage(ctl, "--acknowledged must be between"
			    " --received and now");
	} else if (strcmp(o->state, "FL") == 0) {
		o->t_ack = ctl->now;	/* logging it acknowledges it */
	}
	memset(&qo, 0, sizeof(qo));
	qo.sort = QUERY_SORT_CREATED;
	if (query_check(&o->f, &qo, err, sizeof(err)) < 0)
		return ctl_usage(ctl, "bad search filter: %s", err);
	return 0;
}

/* Does the account exist? 1, 0 or -EIO. */
static int
req_account_exists(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM accounts WHERE name = ?1",
	    -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -EIO;
}

/* Active holds under hold_id (or of request_id); -1 on error. */
static int64_t
req_count_holds(sqlite3 *db, const char *request_id, int released)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, released ? "SELECT COUNT(*) FROM holds"
	    " WHERE request_id = ?1 AND released IS NOT NULL" :
	    "SELECT COUNT(*) FROM holds WHERE request_id = ?1"
	    " AND released IS NULL", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, request_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static json_t *
req_time_json(int64_t t)
{
	char buf[CTL_TIME_LEN];

	return t != 0 ? json_string(ctl_fmt_time(t, buf, sizeof(buf))) :
	    json_null();
}

static json_t *
req_local_json(int64_t t)
{
	char buf[REQ_TIME_LEN];

	return t != 0 ? json_string(request_fmt_local(t, buf, sizeof(buf))) :
	    json_null();
}

/* The request-opened event. */
static json_t *
req_opened_event(struct ctl *ctl, const struct req_open *o, const char *rid,
    json_t *search, int64_t deadline, const char *holidays,
    const char *user)
{
	json_t *ev = json_object();

	json_object_set_new(ev, "event", json_string("request-opened"));
	json_object_set_new(ev, "request", json_string(rid));
	json_object_set_new(ev, "requester", ctl_json_str(o->requester));
	json_object_set_new(ev, "received", req_time_json(o->t_received));
	json_object_set_new(ev, "state", json_string(o->state));
	json_object_set_new(ev, "description", ctl_json_str(o->description));
	json_object_set(ev, "search", search);
	if (deadline != 0) {
		json_object_set_new(ev, "deadline", req_time_json(deadline));
		json_object_set_new(ev, "deadline_local",
		    req_local_json(deadline));
		json_object_set_new(ev, "deadline_rule", json_string(
		    "RSMo 610.023.3: end of the third business day after"
		    " receipt; weekends and listed holidays skipped"));
		json_object_set_new(ev, "holidays_file", holidays != NULL ?
		    ctl_json_str(holidays) : json_null());
	}
	if (o->t_ack != 0)
		json_object_set_new(ev, "acknowledged",
		    req_time_json(o->t_ack));
	json_object_set_new(ev, "opened", req_time_json(ctl->now));
	json_object_set_new(ev, "time", req_time_json(ctl->now));
	json_object_set_new(ev, "user", ctl_json_str(user));
	return ev;
}

static void
req_open_print(struct ctl *ctl, const struct req_open *o, const char *rid,
    int64_t deadline, const char *holidays, int64_t held, size_t context)
{
	char a[REQ_TIME_LEN], b[REQ_TIME_LEN];

	printf("opened %s: %s request from '", rid, req_state_name(o->state));
	ctl_put_text(stdout, o->requester, 0, CTL_TEXT_ONELINE);
	printf("'\n");
	printf("  %-*s%s (%s)\n", REQ_LABEL, "received",
	    request_fmt_date(o->t_received, a, sizeof(a)),
	    req_weekday(o->t_received));
	if (deadline != 0) {
		printf("  %-*s%s (%s)\n", REQ_LABEL, "deadline",
		    request_fmt_local(deadline, b, sizeof(b)),
		    req_weekday(deadline));
		printf("  %-*send of the third business day after receipt"
		    " (RSMo 610.023.3)\n", REQ_LABEL, "");
		if (deadline < ctl->now)
			printf("  %-*sOVERDUE since %s\n", REQ_LABEL, "",
			    request_fmt_local(deadline, b, sizeof(b)));
		if (holidays == NULL)
			printf("  %-*sno holidays_file configured: only"
			    " weekends were skipped\n", REQ_LABEL, "");
	}
	if (o->t_ack != 0)
		printf("  %-*s%s\n", REQ_LABEL, "acknowledged",
		    request_fmt_local(o->t_ack, a, sizeof(a)));
	if (strcmp(o->state, "FL") == 0)
		printf("  %-*sno fixed deadline (F.S. 119.07(1)(c)): produce"
		    " without\n  %-*sunreasonable delay\n", REQ_LABEL, "",
		    REQ_LABEL, "");
	if (held > 0)
		printf("  %-*s%lld item(s) placed on legal hold", REQ_LABEL,
		    "holds", (long long)held);
	else
		printf("  %-*snone: nothing in the archive matches the search"
		    " now", REQ_LABEL, "holds");
	if (context > 0)
		printf(" (%zu as thread context)", context);
	printf("\n");
}

static int
req_open(int argc, char **argv, struct ctl *ctl)
{
	static const struct option opts[] = {
		{ "requester", required_argument, NULL, REQ_OPT_REQUESTER },
		{ "received", required_argument, NULL, REQ_OPT_RECEIVED },
		{ "state", required_argument, NULL, REQ_OPT_STATE },
		{ "description", required_argument, NULL,
		    REQ_OPT_DESCRIPTION },
		{ "acknowledged", required_argument, NULL,
		    REQ_OPT_ACKNOWLEDGED },
		{ "holidays", required_argument, NULL, REQ_OPT_HOLIDAYS },
		{ "account", required_argument, NULL, REQ_OPT_ACCOUNT },
		{ "platform", required_argument, NULL, REQ_OPT_PLATFORM },
		{ "from", required_argument, NULL, REQ_OPT_FROM },
		{ "to", required_argument, NULL, REQ_OPT_TO },
		{ "text", required_argument, NULL, REQ_OPT_TEXT },
		{ "author", required_argument, NULL, REQ_OPT_AUTHOR },
		{ "item-state", required_argument, NULL, REQ_OPT_ITEM_STATE },
		{ "kind", required_argument, NULL, REQ_OPT_KIND },
		{ "include-removed", no_argument, NULL,
		    REQ_OPT_INCLUDE_REMOVED },
		{ "exclude-removed", no_argument, NULL,
		    REQ_OPT_EXCLUDE_REMOVED },
		{ "only-removed", no_argument, NULL, REQ_OPT_ONLY_REMOVED },
		{ "hidden", required_argument, NULL, REQ_OPT_HIDDEN },
		{ "with-thread", no_argument, NULL, REQ_OPT_WITH_THREAD },
		CTL_OPTIONS_COMMON
	};
	struct request_calendar cal;
	struct req_open o;
	struct index ix;
	char rid[REQUEST_ID_LEN], user[256], err[1024], reason[64];
	char *holidays = NULL;
	const char *state_dir;
	json_t *search = NULL, *events = NULL, *ids = NULL, *out;
	int64_t deadline = 0, *items = NULL, held;
	size_t nitems = 0, context = 0;
	int c, r, ex;

	memset(&o, 0, sizeof(o));
	query_filter_init(&o.f);
	while ((c = ctl_getopt(ctl, argc, argv, "h", opts)) != -1) {
		if (c == CTL_OPT_HELP)
			return ctl_help(ctl);
		r = req_open_option(ctl, c, &o);
		if (r != 0)
			return r;
	}
	if (optind < argc)
		return ctl_usage(ctl, "unexpected argument '%s'", argv[optind]);
	r = req_open_check(ctl, &o);
	if (r != 0)
		return r;
	if (request_filter_to_json(&o.f, &search) < 0)
		return ctl_usage(ctl, "the search filter is not valid UTF-8");

	request_calendar_init(&cal);
	if (strcmp(o.state, "MO") == 0) {
		if (req_holidays(ctl, o.holidays, &cal, &holidays) < 0) {
			json_decref(search);
			return CTL_EXIT_IO;
		}
		r = request_mo_deadline(o.t_received, &cal, &deadline);
		request_calendar_release(&cal);
		if (r < 0) {
			ex = ctl_fail(CTL_EXIT_USAGE, "cannot compute a "
			    "deadline from --received %s: %s", o.received,
			    strerror(-r));
			goto out_free;
		}
	}
	if (req_open_index(ctl, &ix, &state_dir) < 0) {
		ex = CTL_EXIT_IO;
		goto out_free;
	}
	if (o.f.account != NULL) {
		r = req_account_exists(ix.db, o.f.account);
		if (r <= 0) {
			ex = r < 0 ? ctl_fail(CTL_EXIT_IO, "cannot read the "
			    "index: %s", index_errmsg(&ix)) :
			    ctl_fail(CTL_EXIT_NOTFOUND, "no account '%s' in"
			    " the index", o.f.account);
			goto out_close;
		}
	}

	/* The id, the matches and the events in one write transaction. */
	request_user(user, sizeof(user));
	ex = CTL_EXIT_IO;
	r = index_begin(&ix);
	if (r < 0) {
		ctl_fail(0, "cannot write to the index: %s", index_errmsg(&ix));
		goto out_close;
	}
	r = request_next_id(ix.db, REQUEST_PREFIX,
	    request_local_year(o.t_received), rid, sizeof(rid));
	if (r < 0) {
		ctl_fail(0, "cannot number the request: %s", r == -ERANGE ?
		    "no ids left this year" : index_errmsg(&ix));
		goto out_rollback;
	}
	r = request_matches(ix.db, &o.f, &items, &nitems, &context, err,
	    sizeof(err));
	if (r < 0) {
		ex = ctl_fail(r == -EINVAL ? CTL_EXIT_USAGE : CTL_EXIT_IO,
		    "cannot search the index: %s", err);
		goto out_rollback;
	}
	events = json_array();
	json_array_append_new(events, req_opened_event(ctl, &o, rid, search,
	    deadline, holidays, user));
	snprintf(reason, sizeof(reason), "public records request %s", rid);
	r = request_hold_events(ix.db, rid, rid, reason, ctl->now, user,
	    items, nitems, events);
	if (r < 0) {
		ctl_fail(0, "cannot list the items to hold: %s",
		    index_errmsg(&ix));
		goto out_rollback;
	}
	ids = json_array();
	r = request_record(&ix, state_dir, events, NULL, ids, err,
	    sizeof(err));
	if (r < 0) {
		ctl_fail(0, "%s; request not opened", err);
		goto out_close;
	}
	held = req_count_holds(ix.db, rid, 0);

	if (ctl->json) {
		out = json_object();
		json_object_set_new(out, "request", json_string(rid));
		json_object_set_new(out, "state", json_string(o.state));
		json_object_set_new(out, "requester",
		    ctl_json_str(o.requester));
		json_object_set_new(out, "received",
		    req_time_json(o.t_received));
		json_object_set_new(out, "deadline", req_time_json(deadline));
		json_object_set_new(out, "deadline_local",
		    req_local_json(deadline));
		json_object_set_new(out, "overdue", json_boolean(deadline !=
		    0 && deadline < ctl->now));
		json_object_set_new(out, "acknowledged",
		    req_time_json(o.t_ack));
		json_object_set_new(out, "holidays_file",
		    ctl_json_str(holidays));
		json_object_set_new(out, "holds", json_integer(held));
		json_object_set_new(out, "context",
		    json_integer((json_int_t)context));
		json_object_set_new(out, "search", json_incref(search));
		json_object_set(out, "events", ids);
		ex = ctl_print_json(out);
	} else {
		req_open_print(ctl, &o, rid, deadline, holidays, held,
		    context);
		ex = CTL_EXIT_OK;
	}
	goto out_close;

out_rollback:
	index_rollback(&ix);
out_close:
	index_close(&ix);
out_free:
	free(items);
	free(holidays);
	json_decref(ids);
	json_decref(events);
	json_decref(search);
	return ex;
}

/* ---- list ------------------------------------------------------------- */

static const char req_list_sql[] =
    "SELECT request_id, state, status, requester, received,"
    " acknowledged, deadline, closed, disposition,"
    " (SELECT COUNT(*) FROM holds h WHERE h.request_id = r.request_id"
    "  AND h.released IS NULL)"
    " FROM requests r WHERE ?1 OR status = 'open'"
    " ORDER BY status = 'closed', deadline IS NULL, deadline, received,"
    " request_id";

static json_t *
req_row_json(struct ctl *ctl, sqlite3_stmt *st)
{
	json_t *o = json_object();
	int64_t received = sqlite3_column_int64(st, 4);
	int64_t deadline = sqlite3_column_int64(st, 6);
	const char *status = (const char *)sqlite3_column_text(st, 2);
	int open = status != NULL && strcmp(status, "open") == 0;

	json_object_set_new(o, "request", ctl_col_str(st, 0));
	json_object_set_new(o, "state", ctl_col_str(st, 1));
	json_object_set_new(o, "status", ctl_col_str(st, 2));
	json_object_set_new(o, "requester", ctl_col_str(st, 3));
	json_object_set_new(o, "received", ctl_col_time(st, 4));
	json_object_set_new(o, "age_days", json_integer(ctl->now > received ?
	    (ctl->now - received) / REQ_DAY : 0));
	json_object_set_new(o, "acknowledged", ctl_col_time(st, 5));
	json_object_set_new(o, "deadline", ctl_col_time(st, 6));
	json_object_set_new(o, "deadline_local", req_local_json(deadline));
	json_object_set_new(o, "overdue", json_boolean(open &&
	    deadline != 0 && ctl->now > deadline));
	json_object_set_new(o, "closed", ctl_col_time(st, 7));
	json_object_set_new(o, "disposition", ctl_col_str(st, 8));
	json_object_set_new(o, "holds", ctl_col_int(st, 9));
	return o;
}

static void
req_list_print(const json_t *rows)
{
	char a[REQ_TIME_LEN], b[REQ_TIME_LEN];
	const json_t *o;
	const char *status;
	int64_t received, deadline;
	size_t i;

	printf("%-14s %-2s %-10s %5s %-24s %-18s %5s REQUESTER\n", "REQUEST",
	    "ST", "RECEIVED", "AGE", "DEADLINE", "STATUS", "HOLDS");
	for (i = 0; i < json_array_size(rows); i++) {
		o = json_array_get(rows, i);
		received = 0;
		deadline = 0;
		util_parse_time(ctl_json_get_str(o, "received", NULL),
		    &received);
		util_parse_time(ctl_json_get_str(o, "deadline", NULL),
		    &deadline);
		status = ctl_json_get_str(o, "status", "?");
		if (json_is_true(json_object_get(o, "overdue"))) {
			status = "OVERDUE";
		} else if (strcmp(status, "closed") == 0) {
			snprintf(b, sizeof(b), "closed: %s",
			    ctl_json_get_str(o, "disposition", "?"));
			status = b;
		}
		printf("%-14s %-2s %-10s %3lld d ",
		    ctl_json_get_str(o, "request", "?"),
		    ctl_json_get_str(o, "state", "?"),
		    request_fmt_date(received, a, sizeof(a)),
		    (long long)ctl_json_get_int(o, "age_days"));
		if (deadline != 0)
			printf("%-24s ", request_fmt_local(deadline, a,
			    sizeof(a)));
		else
			printf("%-24s ", "-");
		printf("%-18s %5lld ", status,
		    (long long)ctl_json_get_int(o, "holds"));
		ctl_put_text(stdout, ctl_json_get_str(o, "requester", ""), 40,
		    CTL_TEXT_ONELINE);
		fputc('\n', stdout);
	}
}

static int
req_list(int argc, char **argv, struct ctl *ctl)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, REQ_OPT_ALL },
		CTL_OPTIONS_COMMON
	};
	sqlite3_stmt *st;
	sqlite3 *db;
	json_t *rows;
	int all = 0, c, rc, r;

	while ((c = ctl_getopt(ctl, argc, argv, "h", opts)) != -1) {
		if (c == CTL_OPT_HELP)
			return ctl_help(ctl);
		if (c != REQ_OPT_ALL)
			return CTL_EXIT_USAGE;
		all = 1;
	}
	if (optind < argc)
		return ctl_usage(ctl, "unexpected argument '%s'", argv[optind]);
	if (ctl_db(ctl, &db) < 0)
		return CTL_EXIT_IO;
	r = request_tables(db);
	if (r < 0) {
		ctl_db_error(ctl);
		return CTL_EXIT_IO;
	}
	if (r == 0)
		return ctl_fail(CTL_EXIT_NOTFOUND, "no requests (the index "
		    "has no request log yet)");
	if (ctl_prepare(ctl, req_list_sql, &st) < 0)
		return CTL_EXIT_IO;
	sqlite3_bind_int(st, 1, all);
	rows = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(rows, req_row_json(ctl, st));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(rows);
		ctl_db_error(ctl);
		return CTL_EXIT_IO;
	}
	if (json_array_size(rows) == 0) {
		json_decref(rows);
		return ctl_fail(CTL_EXIT_NOTFOUND, all ? "no requests" :
		    "no open requests");
	}
	if (ctl->json)
		return ctl_print_json(rows);
	req_list_print(rows);
	json_decref(rows);
	return CTL_EXIT_OK;
}

/* ---- show ------------------------------------------------------------- */

static json_t *
req_info_json(struct ctl *ctl, const struct request_info *ri,
    int64_t held, int64_t released, const struct request_estimate *e)
{
	json_t *o = json_object(), *est = json_object();
	int open = strcmp(ri->status, "open") == 0;

	json_object_set_new(o, "request", json_string(ri->request_id));
	json_object_set_new(o, "state", json_string(ri->state));
	json_object_set_new(o, "status", json_string(ri->status));
	json_object_set_new(o, "requester", ctl_json_str(ri->requester));
	json_object_set_new(o, "description", ctl_json_str(ri->description));
	json_object_set_new(o, "received", req_time_json(ri->received));
	json_object_set_new(o, "age_days", json_integer(ctl->now >
	    ri->received ? (ctl->now - ri->received) / REQ_DAY : 0));
	json_object_set_new(o, "acknowledged",
	    req_time_json(ri->acknowledged));
	json_object_set_new(o, "deadline", req_time_json(ri->deadline));
	json_object_set_new(o, "deadline_local", req_local_json(ri->deadline));
	json_object_set_new(o, "overdue", json_boolean(open &&
	    ri->deadline != 0 && ctl->now > ri->deadline));
	json_object_set_new(o, "opened", req_time_json(ri->opened));
	json_object_set_new(o, "opened_by", ctl_json_str(ri->opened_by));
	json_object_set_new(o, "closed", req_time_json(ri->closed));
	json_object_set_new(o, "closed_by", ctl_json_str(ri->closed_by));
	json_object_set_new(o, "disposition", ctl_json_str(ri->disposition));
	json_object_set_new(o, "note", ctl_json_str(ri->note));
	json_object_set_new(o, "search", json_incref(ri->search));
	json_object_set_new(o, "holds", json_integer(held));
	json_object_set_new(o, "holds_released", json_integer(released));
	json_object_set_new(est, "items", json_integer(e->items));
	json_object_set_new(est, "context_items", json_integer(e->context));
	json_object_set_new(est, "records", json_integer(e->records));
	json_object_set_new(est, "record_bytes",
	    json_integer(e->record_bytes));
	json_object_set_new(est, "media", json_integer(e->media));
	json_object_set_new(est, "media_bytes", json_integer(e->media_bytes));
	json_object_set_new(est, "bytes", json_integer(e->bytes));
	json_object_set_new(est, "pages", json_integer(e->pages));
	json_object_set_new(est, "records_per_page",
	    json_integer(REQUEST_RECORDS_PER_PAGE));
	json_object_set_new(o, "estimate", est);
	return o;
}

static void
req_show_label(const char *label)
{
	printf("  %-*s", REQ_LABEL, label);
}

static void
req_show_print(struct ctl *ctl, const struct request_info *ri,
    int64_t held, int64_t released, const struct request_estimate *e)
{
	char a[REQ_TIME_LEN], s1[32], s2[32], s3[32], *search;
	int open = strcmp(ri->status, "open") == 0;

	printf("request %s (%s)\n", ri->request_id, req_state_name(ri->state));
	req_show_label("status");
	if (open && ri->deadline != 0 && ctl->now > ri->deadline)
		printf("open, OVERDUE\n");
	else if (open)
		printf("open\n");
	else {
		printf("closed %s: ", request_fmt_local(ri->closed, a,
		    sizeof(a)));
		ctl_put_text(stdout, ri->disposition != NULL ?
		    ri->disposition : "?", 0, CTL_TEXT_ONELINE);
		fputc('\n', stdout);
	}
	req_show_label("requester");
	ctl_put_text(stdout, ri->requester, 0, CTL_TEXT_ONELINE);
	fputc('\n', stdout);
	req_show_label("received");
	printf("%s (%s), %lld day(s) ago\n", request_fmt_date(ri->received,
	    a, sizeof(a)), req_weekday(ri->received),
	    (long long)(ctl->now > ri->received ?
	    (ctl->now - ri->received) / REQ_DAY : 0));
	req_show_label("deadline");
	if (ri->deadline != 0)
		printf("%s (%s), RSMo 610.023.3\n", request_fmt_local(
		    ri->deadline, a, sizeof(a)), req_weekday(ri->deadline));
	else
		printf("none fixed (F.S. 119.07: acknowledge promptly,"
		    " produce without unreasonable delay)\n");
	req_show_label("acknowledged");
	printf("%s\n", ri->acknowledged != 0 ? request_fmt_local(
	    ri->acknowledged, a, sizeof(a)) : "-");
	req_show_label("opened");
	printf("%s by ", request_fmt_local(ri->opened, a, sizeof(a)));
	ctl_put_text(stdout, ri->opened_by != NULL ? ri->opened_by : "?", 0,
	    CTL_TEXT_ONELINE);
	fputc('\n', stdout);
	if (!open) {
		req_show_label("closed by");
		ctl_put_text(stdout, ri->closed_by != NULL ? ri->closed_by :
		    "?", 0, CTL_TEXT_ONELINE);
		fputc('\n', stdout);
		req_show_label("note");
		ctl_put_text(stdout, ri->note != NULL ? ri->note : "-", 0,
		    CTL_TEXT_ONELINE);
		fputc('\n', stdout);
	}
	req_show_label("search");
	search = json_dumps(ri->search, JSON_COMPACT | JSON_SORT_KEYS);
	ctl_put_text(stdout, search != NULL ? search : "?", 0,
	    CTL_TEXT_ONELINE);
	free(search);
	fputc('\n', stdout);
	req_show_label("holds");
	printf("%lld item(s) held, %lld released\n", (long long)held,
	    (long long)released);
	req_show_label("estimate");
	printf("%lld item(s) match now", (long long)e->items);
	if (e->context > 0)
		printf(", %lld more as thread context", (long long)e->context);
	printf("\n");
	req_show_label("");
	printf("%lld record(s) (item versions), %s\n", (long long)e->records,
	    ctl_fmt_size(e->record_bytes, s1, sizeof(s1)));
	req_show_label("");
	printf("%lld media file(s), %s\n", (long long)e->media,
	    ctl_fmt_size(e->media_bytes, s2, sizeof(s2)));
	req_show_label("");
	printf("%s in all; about %lld printed page(s) at %d records a"
	    " page\n", ctl_fmt_size(e->bytes, s3, sizeof(s3)),
	    (long long)e->pages, REQUEST_RECORDS_PER_PAGE);
	printf("\n");
	ctl_put_block(stdout, ri->description, "    ");
}

static int
req_show(int argc, char **argv, struct ctl *ctl)
{
	static const struct option opts[] = { CTL_OPTIONS_COMMON };
	struct request_estimate e;
	struct request_info ri;
	char err[1024];
	int64_t held, released;
	sqlite3 *db;
	int c, r;

	while ((c = ctl_getopt(ctl, argc, argv, "h", opts)) != -1)
		return c == CTL_OPT_HELP ? ctl_help(ctl) : CTL_EXIT_USAGE;
	if (argc - optind != 1)
		return ctl_usage(ctl, "request show needs one request id");
	if (req_id_arg(ctl, argv[optind]) != 0)
		return CTL_EXIT_USAGE;
	if (ctl_db(ctl, &db) < 0)
		return CTL_EXIT_IO;
	r = request_tables(db);
	if (r <= 0)
		return r < 0 ? CTL_EXIT_IO : ctl_fail(CTL_EXIT_NOTFOUND,
		    "no request '%s'", argv[optind]);
	/* One snapshot for the request, its holds and the estimate. */
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	r = request_load(db, argv[optind], &ri, err, sizeof(err));
	if (r < 0) {
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		return ctl_fail(r == -ENOENT ? CTL_EXIT_NOTFOUND : CTL_EXIT_IO,
		    "%s", err);
	}
	held = req_count_holds(db, ri.request_id, 0);
	released = req_count_holds(db, ri.request_id, 1);
	r = request_estimate(db, &ri.filter, &e, err, sizeof(err));
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (r < 0 || held < 0 || released < 0) {
		request_info_release(&ri);
		return ctl_fail(CTL_EXIT_IO, "cannot read index '%s': %s",
		    ctl->index_path, r < 0 ? err : sqlite3_errmsg(db));
	}
	if (ctl->json)
		r = ctl_print_json(req_info_json(ctl, &ri, held, released,
		    &e));
	else {
		req_show_print(ctl, &ri, held, released, &e);
		r = CTL_EXIT_OK;
	}
	request_info_release(&ri);
	return r;
}

/* ---- close ------------------------------------------------------------ */

static int
req_close(int argc, char **argv, struct ctl *ctl)
{
	static const struct option opts[] = {
		{ "disposition", required_argument, NULL,
		    REQ_OPT_DISPOSITION },
		{ "note", required_argument, NULL, REQ_OPT_NOTE },
		CTL_OPTIONS_COMMON
	};
	const char *disp = NULL, *note = NULL, *state_dir, *rid;
	char user[256], err[1024], t[CTL_TIME_LEN];
	struct request_info ri;
	struct index ix;
	json_t *events, *ev, *out;
	int64_t held;
	int c, r, ex;

	while ((c = ctl_getopt(ctl, argc, argv, "h", opts)) != -1) {
		switch (c) {
		case REQ_OPT_DISPOSITION:
			if (req_index(optarg, req_dispositions,
			    ARRAY_SIZE(req_dispositions)) < 0)
				return ctl_usage(ctl, "unknown --disposition "
				    "'%s' (fulfilled, partial, no-records or "
				    "denied)", optarg);
			disp = optarg;
			break;
		case REQ_OPT_NOTE:
			note = optarg;
			break;
		case CTL_OPT_HELP:
			return ctl_help(ctl);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return ctl_usage(ctl, "request close needs one request id");
	rid = argv[optind];
	if (req_id_arg(ctl, rid) != 0)
		return CTL_EXIT_USAGE;
	if (disp == NULL)
		return ctl_usage(ctl, "--disposition is required (fulfilled,"
		    " partial, no-records or denied)");
	if (note == NULL && (strcmp(disp, "partial") == 0 ||
	    strcmp(disp, "denied") == 0))
		return ctl_usage(ctl, "--disposition %s needs --note with the"
		    " grounds (the exemption and its statute)", disp);
	if (req_text_opt(ctl, "--note", note) != 0)
		return CTL_EXIT_USAGE;
	if (req_open_index(ctl, &ix, &state_dir) < 0)
		return CTL_EXIT_IO;
	ex = CTL_EXIT_IO;
	if (index_begin(&ix) < 0) {
		ctl_fail(0, "cannot write to the index: %s", index_errmsg(&ix));
		goto out_close;
	}
	r = request_load(ix.db, rid, &ri, err, sizeof(err));
	if (r < 0) {
		ex = ctl_fail(r == -ENOENT ? CTL_EXIT_NOTFOUND : CTL_EXIT_IO,
		    "%s", err);
		goto out_rollback;
	}
	if (strcmp(ri.status, "open") != 0) {
		ex = ctl_fail(CTL_EXIT_NOTFOUND, "request %s was already"
		    " closed on %s (%s)", rid, ctl_fmt_time(ri.closed, t,
		    sizeof(t)), ri.disposition != NULL ? ri.disposition : "?");
		request_info_release(&ri);
		goto out_rollback;
	}
	request_info_release(&ri);
	request_user(user, sizeof(user));
	ev = json_object();
	json_object_set_new(ev, "event", json_string("request-closed"));
	json_object_set_new(ev, "request", json_string(rid));
	json_object_set_new(ev, "disposition", json_string(disp));
	json_object_set_new(ev, "note", ctl_json_str(note));
	json_object_set_new(ev, "closed", req_time_json(ctl->now));
	json_object_set_new(ev, "time", req_time_json(ctl->now));
	json_object_set_new(ev, "user", ctl_json_str(user));
	events = json_array();
	json_array_append_new(events, ev);
	r = request_record(&ix, state_dir, events, NULL, NULL, err,
	    sizeof(err));
	json_decref(events);
	if (r < 0) {
		ctl_fail(0, "%s; request not closed", err);
		goto out_close;
	}
	held = req_count_holds(ix.db, rid, 0);
	if (ctl->json) {
		out = json_object();
		json_object_set_new(out, "request", json_string(rid));
		json_object_set_new(out, "status", json_string("closed"));
		json_object_set_new(out, "disposition", json_string(disp));
		json_object_set_new(out, "closed", req_time_json(ctl->now));
		json_object_set_new(out, "holds", json_integer(held));
		ex = ctl_print_json(out);
	} else {
		printf("closed %s: %s\n", rid, disp);
		if (held > 0)
			printf("%lld item(s) remain on legal hold: closing a"
			    " request does not release them, as retention"
			    " under the records schedule continues. Release"
			    " them deliberately when it allows:\n"
			    "  sunarchive hold release --request %s --note"
			    " TEXT\n", (long long)held, rid);
		ex = CTL_EXIT_OK;
	}
	goto out_close;

out_rollback:
	index_rollback(&ix);
out_close:
	index_close(&ix);
	return ex;
}

/* ---- the command ------------------------------------------------------ */

static const struct {
	const char	*name;
	int		(*fn)(int argc, char **argv, struct ctl *ctl);
} req_subcommands[] = {
	{ "open",	req_open },
	{ "list",	req_list },
	{ "show",	req_show },
	{ "close",	req_close },
};

int
cmd_request(int argc, char **argv, struct ctl *ctl)
{
	size_t i;

	if (argc < 2)
		return ctl_usage(ctl, "which subcommand? 'open', 'list', "
		    "'show' or 'close'");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return ctl_help(ctl);
	for (i = 0; i < ARRAY_SIZE(req_subcommands); i++) {
		if (strcmp(argv[1], req_subcommands[i].name) != 0)
			continue;
		optind = 0;	/* getopt restarts on the subcommand's argv */
		return req_subcommands[i].fn(argc - 1, argv + 1, ctl);
	}
	return ctl_usage(ctl, "unknown subcommand '%s' (use 'open', 'list', "
	    "'show' or 'close')", argv[1]);
}
