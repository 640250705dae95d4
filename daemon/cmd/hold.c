/*
 * hold.c - "sunarchive hold add|list|release": legal holds by hand.
 *
 * Opening a records request holds what it matches (request.c); these
 * commands add items to a request's hold or place a hold of their own
 * (HOLD-YYYY-NNNN, e.g. for litigation), list what is held, and release
 * a hold. A held item cannot be disposed of until every hold on it is
 * released (request_item_held()). Releasing needs a note, and the holds
 * of a request that is still open cannot be released: the request's
 * records must be kept until it is answered. Every change is an event
 * queued for sunarchived to archive and applied to the index at once
 * (include/request.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "request.h"
#include "util.h"
#include "xalloc.h"

#define HOLD_MAX_ITEMS	10000	/* ITEM arguments in one "hold add" */

enum {
	HOLD_OPT_REASON = 0x200,
	HOLD_OPT_REQUEST,
	HOLD_OPT_ALL,
	HOLD_OPT_NOTE,
};

static json_t *
hold_time_json(int64_t t)
{
	char buf[CTL_TIME_LEN];

	return t != 0 ? json_string(ctl_fmt_time(t, buf, sizeof(buf))) :
	    json_null();
}

static int
hold_open_index(struct ctl *ctl, struct index *ix, const char **ret_state)
{
	char err[1024];

	if (ctl_state_dir(ctl, ret_state) < 0)
		return -EIO;
	if (request_index_open(*ret_state, ix, err, sizeof(err)) < 0)
		return ctl_fail(-EIO, "%s", err);
	return 0;
}

/* Candidates for ITEM, as in "show": ?1 account, ?2 platform id, ?3 id. */
static const char hold_find_sql[] =
    "SELECT i.id, a.name, i.platform_id"
    " FROM accounts a CROSS JOIN items i ON i.account_id = a.id"
    " WHERE i.platform_id = ?2 AND (?1 IS NULL OR a.name = ?1)"
    " UNION"
    " SELECT i.id, a.name, i.platform_id"
    " FROM items i JOIN accounts a ON a.id = i.account_id"
    " WHERE ?1 IS NULL AND i.id = ?3"
    " ORDER BY 1";

/*
 * ITEM (the number search prints, a platform id, or ACCOUNT:PLATFORM_ID)
 * to an item number. 0, or the exit code after the message.
 */
static int
hold_find(struct ctl *ctl, sqlite3 *db, const char *arg, int64_t *ret_id)
{
	const char *colon = strchr(arg, ':'), *pid = arg;
	char *account = NULL;
	sqlite3_stmt *st;
	int64_t num, id = 0;
	int n = 0, rc, ex;

	if (colon != NULL) {
		if (colon == arg || colon[1] == '\0')
			return ctl_usage(ctl, "invalid item '%s' (use ID, "
			    "PLATFORM_ID or ACCOUNT:PLATFORM_ID)", arg);
		account = xstrndup(arg, (size_t)(colon - arg));
		pid = colon + 1;
	}
	if (sqlite3_prepare_v2(db, hold_find_sql, -1, &st, NULL) !=
	    SQLITE_OK) {
		free(account);
		return ctl_fail(CTL_EXIT_IO, "cannot read the index: %s",
		    sqlite3_errmsg(db));
	}
	if (account != NULL)
		sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, pid, -1, SQLITE_STATIC);
	if (account == NULL && util_parse_int(arg, 1, INT64_MAX, &num) == 0)
		sqlite3_bind_int64(st, 3, num);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == 0)
			id = sqlite3_column_int64(st, 0);
	}
	if (rc != SQLITE_DONE)
		ex = ctl_fail(CTL_EXIT_IO, "cannot read the index: %s",
		    sqlite3_errmsg(db));
	else if (n == 0)
		ex = ctl_fail(CTL_EXIT_NOTFOUND, "no item '%s' in the index",
		    arg);
	else if (n > 1)
		ex = ctl_fail(CTL_EXIT_USAGE, "'%s' matches %d items; name "
		    "one as ACCOUNT:PLATFORM_ID or by its number (see "
		    "'sunarchive show %s')", arg, n, arg);
	else
		ex = CTL_EXIT_OK;
	sqlite3_finalize(st);
	free(account);
	if (ex == CTL_EXIT_OK)
		*ret_id = id;
	return ex;
}

/* Active (released = 0) or released hold rows under hold_id. */
static int64_t
hold_count(sqlite3 *db, const char *hold_id, int released)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM holds WHERE"
	    " hold_id = ?1 AND (released IS NOT NULL) = ?2", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, hold_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, released != 0);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* ---- add -------------------------------------------------------------- */

static int
hold_add(int argc, char **argv, struct ctl *ctl)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, HOLD_OPT_REASON },
		{ "request", required_argument, NULL, HOLD_OPT_REQUEST },
		CTL_OPTIONS_COMMON
	};
	const char *reason = NULL, *request = NULL, *state_dir;
	char hold_id[REQUEST_ID_LEN], user[256], err[1024];
	struct request_info ri;
	struct index ix;
	json_t *events = NULL, *out;
	int64_t *items = NULL, before, after;
	size_t n, i;
	int c, r, ex;

	while ((c = ctl_getopt(ctl, argc, argv, "h", opts)) != -1) {
		switch (c) {
		case HOLD_OPT_REASON:
			reason = optarg;
			break;
		case HOLD_OPT_REQUEST:
			request = optarg;
			break;
		case CTL_OPT_HELP:
			return ctl_help(ctl);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	n = (size_t)(argc - optind);
	if (n == 0)
		return ctl_usage(ctl, "which items? give ITEM...");
	if (n > HOLD_MAX_ITEMS)
		return ctl_usage(ctl, "too many items (at most %d at a time)",
		    HOLD_MAX_ITEMS);
	if (reason == NULL || reason[0] == '\0')
		return ctl_usage(ctl, "--reason is required (why these items"
		    " must be kept)");
	if (strlen(reason) > REQUEST_TEXT_MAX)
		return ctl_usage(ctl, "--reason is too long (at most %d "
		    "bytes)", REQUEST_TEXT_MAX);
	if (request != NULL && !request_id_valid(request, REQUEST_PREFIX))
		return ctl_usage(ctl, "invalid request id '%s' (expected "
		    "%s-YYYY-NNNN)", request, REQUEST_PREFIX);
	if (hold_open_index(ctl, &ix, &state_dir) < 0)
		return CTL_EXIT_IO;
	ex = CTL_EXIT_IO;
	if (index_begin(&ix) < 0) {
		ctl_fail(0, "cannot write to the index: %s", index_errmsg(&ix));
		goto out_close;
	}
	items = xcalloc(n, sizeof(*items));
	for (i = 0; i < n; i++) {
		ex = hold_find(ctl, ix.db, argv[optind + (int)i], &items[i]);
		if (ex != CTL_EXIT_OK)
			goto out_rollback;
	}
	ex = CTL_EXIT_IO;
	if (request != NULL) {
		r = request_load(ix.db, request, &ri, err, sizeof(err));
		if (r < 0) {
			ex = ctl_fail(r == -ENOENT ? CTL_EXIT_NOTFOUND :
			    CTL_EXIT_IO, "%s", err);
			goto out_rollback;
		}
		request_info_release(&ri);
		snprintf(hold_id, sizeof(hold_id), "%s", request);
	} else {
		r = request_next_id(ix.db, REQUEST_HOLD_PREFIX,
		    request_local_year(ctl->now), hold_id, sizeof(hold_id));
		if (r < 0) {
			ctl_fail(0, "cannot number the hold: %s", r == -ERANGE ?
			    "no ids left this year" : index_errmsg(&ix));
			goto out_rollback;
		}
	}
	before = hold_count(ix.db, hold_id, 0);
	request_user(user, sizeof(user));
	events = json_array();
	r = request_hold_events(ix.db, hold_id, request, reason, ctl->now,
	    user, items, n, events);
	if (r < 0) {
		ctl_fail(0, "cannot list the items to hold: %s",
		    index_errmsg(&ix));
		goto out_rollback;
	}
	r = request_record(&ix, state_dir, events, NULL, NULL, err,
	    sizeof(err));
	if (r < 0) {
		ctl_fail(0, "%s; no hold placed", err);
		goto out_close;
	}
	after = hold_count(ix.db, hold_id, 0);
	if (ctl->json) {
		out = json_object();
		json_object_set_new(out, "hold", json_string(hold_id));
		json_object_set_new(out, "request", request != NULL ?
		    json_string(request) : json_null());
		json_object_set_new(out, "placed",
		    json_integer(after - before));
		json_object_set_new(out, "held", json_integer(after));
		ex = ctl_print_json(out);
	} else {
		printf("hold %s: %lld item(s) placed", hold_id,
		    (long long)(after - before));
		if ((int64_t)n > after - before)
			printf(" (%lld already held under it)",
			    (long long)n - (after - before));
		printf(", %lld held in all\n", (long long)after);
		ex = CTL_EXIT_OK;
	}
	goto out_close;

out_rollback:
	index_rollback(&ix);
out_close:
	index_close(&ix);
	json_decref(events);
	free(items);
	return ex;
}

/* ---- list ------------------------------------------------------------- */

/* One line per hold id: items held and released. */
static const char hold_summary_sql[] =
    "SELECT hold_id, request_id, SUM(released IS NULL),"
    " SUM(released IS NOT NULL), MIN(placed), MAX(released), MAX(reason)"
    " FROM holds GROUP BY hold_id HAVING ?1 OR SUM(released IS NULL) > 0"
    " ORDER BY MIN(placed), hold_id";

/* One line per held item of one hold id or request. */
static const char hold_items_sql[] =
    "SELECT h.hold_id, h.request_id, i.id, a.name, i.platform_id, i.kind,"
    " h.placed, h.released, h.reason, h.note"
    " FROM holds h JOIN items i ON i.id = h.item_id"
    " JOIN accounts a ON a.id = i.account_id"
    " WHERE (h.hold_id = ?1 OR h.request_id = ?1)"
    " AND (?2 OR h.released IS NULL) ORDER BY h.hold_id, i.created, i.id";

static json_t *
hold_summary_row(sqlite3_stmt *st)
{
	json_t *o = json_object();

	json_object_set_new(o, "hold", ctl_col_str(st, 0));
	json_object_set_new(o, "request", ctl_col_str(st, 1));
	json_object_set_new(o, "held", ctl_col_int(st, 2));
	json_object_set_new(o, "released", ctl_col_int(st, 3));
	json_object_set_new(o, "placed", ctl_col_time(st, 4));
	json_object_set_new(o, "last_release", ctl_col_time(st, 5));
	json_object_set_new(o, "reason", ctl_col_str(st, 6));
	return o;
}

static json_t *
hold_item_row(sqlite3_stmt *st)
{
	json_t *o = json_object();

	json_object_set_new(o, "hold", ctl_col_str(st, 0));
	json_object_set_new(o, "request", ctl_col_str(st, 1));
	json_object_set_new(o, "item", ctl_col_int(st, 2));
	json_object_set_new(o, "account", ctl_col_str(st, 3));
	json_object_set_new(o, "platform_id", ctl_col_str(st, 4));
	json_object_set_new(o, "kind", ctl_col_str(st, 5));
	json_object_set_new(o, "placed", ctl_col_time(st, 6));
	json_object_set_new(o, "released", ctl_col_time(st, 7));
	json_object_set_new(o, "reason", ctl_col_str(st, 8));
	json_object_set_new(o, "note", ctl_col_str(st, 9));
	return o;
}

static void
hold_print_summary(const json_t *rows)
{
	const json_t *o;
	size_t i;

	printf("%-15s %6s %8s %-20s REASON\n", "HOLD", "HELD", "RELEASED",
	    "PLACED");
	for (i = 0; i < json_array_size(rows); i++) {
		o = json_array_get(rows, i);
		printf("%-15s %6lld %8lld %-20s ",
		    ctl_json_get_str(o, "hold", "?"),
		    (long long)ctl_json_get_int(o, "held"),
		    (long long)ctl_json_get_int(o, "released"),
		    ctl_json_get_str(o, "placed", "-"));
		ctl_put_text(stdout, ctl_json_get_str(o, "reason", "-"), 60,
		    CTL_TEXT_ONELINE);
		fputc('\n', stdout);
	}
}

static void
hold_print_items(const json_t *rows)
{
	const json_t *o;
	size_t i;

	printf("%-15s %8s %-20s %-20s %-8s ACCOUNT:PLATFORM_ID\n", "HOLD",
	    "ITEM", "PLACED", "RELEASED", "KIND");
	for (i = 0; i < json_array_size(rows); i++) {
		o = json_array_get(rows, i);
		printf("%-15s %8lld %-20s %-20s %-8s ",
		    ctl_json_get_str(o, "hold", "?"),
		    (long long)ctl_json_get_int(o, "item"),
		    ctl_json_get_str(o, "placed", "-"),
		    ctl_json_get_str(o, "released", "-"),
		    ctl_json_get_str(o, "kind", "?"));
		ctl_put_text(stdout, ctl_json_get_str(o, "account", "?"), 0,
		    CTL_TEXT_ONELINE);
		fputc(':', stdout);
		ctl_put_text(stdout, ctl_json_get_str(o, "platform_id", "?"), 0,
		    CTL_TEXT_ONELINE);
		fputc('\n', stdout);
	}
}

static int
hold_list(int argc, char **argv, struct ctl *ctl)
{
	static const struct option opts[] = {
		{ "request", required_argument, NULL, HOLD_OPT_REQUEST },
		{ "all", no_argument, NULL, HOLD_OPT_ALL },
		CTL_OPTIONS_COMMON
	};
	const char *which = NULL;
	sqlite3_stmt *st;
	sqlite3 *db;
	json_t *rows;
	int all = 0, c, rc, r;

	while ((c = ctl_getopt(ctl, argc, argv, "h", opts)) != -1) {
		switch (c) {
		case HOLD_OPT_REQUEST:
			which = optarg;
			break;
		case HOLD_OPT_ALL:
			all = 1;
			break;
		case CTL_OPT_HELP:
			return ctl_help(ctl);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (argc - optind > 1 || (argc - optind == 1 && which != NULL))
		return ctl_usage(ctl, "give one HOLD-ID or --request ID");
	if (argc - optind == 1)
		which = argv[optind];
	if (which != NULL && !request_id_valid(which, NULL))
		return ctl_usage(ctl, "invalid hold id '%s' (expected "
		    "%s-YYYY-NNNN or %s-YYYY-NNNN)", which, REQUEST_PREFIX,
		    REQUEST_HOLD_PREFIX);
	if (ctl_db(ctl, &db) < 0)
		return CTL_EXIT_IO;
	r = request_tables(db);
	if (r < 0) {
		ctl_db_error(ctl);
		return CTL_EXIT_IO;
	}
	if (r == 0)
		return ctl_fail(CTL_EXIT_NOTFOUND, "no holds");
	if (ctl_prepare(ctl, which != NULL ? hold_items_sql :
	    hold_summary_sql, &st) < 0)
		return CTL_EXIT_IO;
	if (which != NULL) {
		sqlite3_bind_text(st, 1, which, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, all);
	} else {
		sqlite3_bind_int(st, 1, all);
	}
	rows = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(rows, which != NULL ? hold_item_row(st) :
		    hold_summary_row(st));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(rows);
		ctl_db_error(ctl);
		return CTL_EXIT_IO;
	}
	if (json_array_size(rows) == 0) {
		json_decref(rows);
		if (which != NULL)
			return ctl_fail(CTL_EXIT_NOTFOUND, "nothing %sheld "
			    "under '%s'", all ? "ever " : "", which);
		return ctl_fail(CTL_EXIT_NOTFOUND, "no holds");
	}
	if (ctl->json)
		return ctl_print_json(rows);
	if (which != NULL)
		hold_print_items(rows);
	else
		hold_print_summary(rows);
	json_decref(rows);
	return CTL_EXIT_OK;
}

/* ---- release ---------------------------------------------------------- */

static int
hold_release(int argc, char **argv, struct ctl *ctl)
{
	static const struct option opts[] = {
		{ "request", required_argument, NULL, HOLD_OPT_REQUEST },
		{ "note", required_argument, NULL, HOLD_OPT_NOTE },
		CTL_OPTIONS_COMMON
	};
	const char *request = NULL, *hold = NULL, *note = NULL, *state_dir;
	char user[256], err[1024];
	struct request_info ri;
	struct index ix;
	json_t *events, *ev, *out;
	int64_t before, after;
	int c, r, ex;

	while ((c = ctl_getopt(ctl, argc, argv, "h", opts)) != -1) {
		switch (c) {
		case HOLD_OPT_REQUEST:
			request = optarg;
			break;
		case HOLD_OPT_NOTE:
			note = optarg;
			break;
		case CTL_OPT_HELP:
			return ctl_help(ctl);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (argc - optind > 1 || (argc - optind == 1) == (request != NULL))
		return ctl_usage(ctl, "give one HOLD-ID or --request ID");
	if (argc - optind == 1)
		hold = argv[optind];
	/* A request's own hold id is its request id. */
	if (hold != NULL && request_id_valid(hold, REQUEST_PREFIX)) {
		request = hold;
		hold = NULL;
	}
	if (hold != NULL && !request_id_valid(hold, REQUEST_HOLD_PREFIX))
		return ctl_usage(ctl, "invalid hold id '%s' (expected "
		    "%s-YYYY-NNNN or %s-YYYY-NNNN)", hold, REQUEST_HOLD_PREFIX,
		    REQUEST_PREFIX);
	if (request != NULL && !request_id_valid(request, REQUEST_PREFIX))
		return ctl_usage(ctl, "invalid request id '%s' (expected "
		    "%s-YYYY-NNNN)", request, REQUEST_PREFIX);
	if (note == NULL || note[0] == '\0')
		return ctl_usage(ctl, "--note is required: say why the hold"
		    " may end (releasing is a deliberate, logged act)");
	if (strlen(note) > REQUEST_TEXT_MAX)
		return ctl_usage(ctl, "--note is too long (at most %d bytes)",
		    REQUEST_TEXT_MAX);
	if (hold_open_index(ctl, &ix, &state_dir) < 0)
		return CTL_EXIT_IO;
	ex = CTL_EXIT_IO;
	if (index_begin(&ix) < 0) {
		ctl_fail(0, "cannot write to the index: %s", index_errmsg(&ix));
		goto out_close;
	}
	if (request != NULL) {
		r = request_load(ix.db, request, &ri, err, sizeof(err));
		if (r < 0) {
			ex = ctl_fail(r == -ENOENT ? CTL_EXIT_NOTFOUND :
			    CTL_EXIT_IO, "%s", err);
			goto out_rollback;
		}
		r = strcmp(ri.status, "open") == 0;
		request_info_release(&ri);
		if (r) {
			ex = ctl_fail(CTL_EXIT_NOTFOUND, "request %s is still "
			    "open: its records stay on hold until it is "
			    "answered ('sunarchive request close %s')",
			    request, request);
			goto out_rollback;
		}
	}
	before = hold_count(ix.db, hold != NULL ? hold : request, 0);
	if (before == 0) {
		ex = ctl_fail(CTL_EXIT_NOTFOUND, "nothing is held under '%s'",
		    hold != NULL ? hold : request);
		goto out_rollback;
	}
	request_user(user, sizeof(user));
	ev = json_object();
	json_object_set_new(ev, "event", json_string("hold-released"));
	if (hold != NULL)
		json_object_set_new(ev, "hold", json_string(hold));
	else
		json_object_set_new(ev, "request", json_string(request));
	json_object_set_new(ev, "note", ctl_json_str(note));
	json_object_set_new(ev, "released", hold_time_json(ctl->now));
	json_object_set_new(ev, "time", hold_time_json(ctl->now));
	json_object_set_new(ev, "user", ctl_json_str(user));
	events = json_array();
	json_array_append_new(events, ev);
	r = request_record(&ix, state_dir, events, NULL, NULL, err,
	    sizeof(err));
	json_decref(events);
	if (r < 0) {
		ctl_fail(0, "%s; nothing released", err);
		goto out_close;
	}
	after = hold_count(ix.db, hold != NULL ? hold : request, 0);
	if (ctl->json) {
		out = json_object();
		json_object_set_new(out, "hold", json_string(hold != NULL ?
		    hold : request));
		json_object_set_new(out, "released",
		    json_integer(before - after));
		json_object_set_new(out, "held", json_integer(after));
		ex = ctl_print_json(out);
	} else {
		printf("released %lld item(s) from hold %s\n",
		    (long long)(before - after), hold != NULL ? hold : request);
		if (after > 0)
			printf("%lld item(s) placed after this moment stay "
			    "held\n", (long long)after);
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
} hold_subcommands[] = {
	{ "add",	hold_add },
	{ "list",	hold_list },
	{ "release",	hold_release },
};

int
cmd_hold(int argc, char **argv, struct ctl *ctl)
{
	size_t i;

	if (argc < 2)
		return ctl_usage(ctl, "which subcommand? 'add', 'list' or "
		    "'release'");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return ctl_help(ctl);
	for (i = 0; i < ARRAY_SIZE(hold_subcommands); i++) {
		if (strcmp(argv[1], hold_subcommands[i].name) != 0)
			continue;
		optind = 0;	/* getopt restarts on the subcommand's argv */
		return hold_subcommands[i].fn(argc - 1, argv + 1, ctl);
	}
	return ctl_usage(ctl, "unknown subcommand '%s' (use 'add', 'list' "
	    "or 'release')", argv[1]);
}
