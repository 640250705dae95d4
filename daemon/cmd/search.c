/*
 * search.c - "sunarchive search": find items by account, platform,
 * creation date, a text query over every version (edited-away text
 * included), author, state, kind, removed and hidden status, optionally
 * with each match's whole thread; sorted, paged and counted. A header
 * line and one line per item for the clerk, or the counts and every
 * field with the full text under --json.
 *
 * What a search covers is turned into SQL by the query module (query.h),
 * which records requests share: the user's words never become SQL or
 * FTS5 syntax. Removed items are included unless --exclude-removed:
 * public records law covers content the city has taken down.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "query.h"
#include "util.h"
#include "xalloc.h"

#define SEARCH_DEFAULT_LIMIT	100
#define SEARCH_MAX_LIMIT	10000000
#define SEARCH_MAX_OFFSET	INT64_C(1000000000000)
#define SEARCH_DAY		86400

enum {
	SEARCH_OPT_ACCOUNT = 0x200,
	SEARCH_OPT_PLATFORM,
	SEARCH_OPT_FROM,
	SEARCH_OPT_TO,
	SEARCH_OPT_TEXT,
	SEARCH_OPT_AUTHOR,
	SEARCH_OPT_STATE,
	SEARCH_OPT_KIND,
	SEARCH_OPT_INCLUDE_REMOVED,
	SEARCH_OPT_EXCLUDE_REMOVED,
	SEARCH_OPT_ONLY_REMOVED,
	SEARCH_OPT_HIDDEN,
	SEARCH_OPT_WITH_THREAD,
	SEARCH_OPT_SORT,
	SEARCH_OPT_ORDER,
	SEARCH_OPT_LIMIT,
	SEARCH_OPT_OFFSET,
	SEARCH_OPT_PAGE,
	SEARCH_OPT_COUNT,
};

/*
 * This command's row of the commands[] table with the current options.
 * cmd_search() answers --help and usage errors with it; the row in
 * daemon/ctl.c should carry the same text (then this copy can go).
 */
static const struct command search_command = {
	"search", cmd_search,
	"find archived items by text, account, date, author, state",
	"search [--account NAME] [--platform facebook|mastodon]\n"
	"\t[--from DATE] [--to DATE] [--text QUERY] [--author NAME]\n"
	"\t[--state STATE] [--kind post|comment|reply]\n"
	"\t[--include-removed | --exclude-removed | --only-removed]\n"
	"\t[--hidden include|exclude|only] [--with-thread]\n"
	"\t[--sort created|captured|relevance] [--order asc|desc]\n"
	"\t[--limit N] [--offset N | --page N] [--count] [--json]",
	"  --account NAME      items of this account (its config name)\n"
	"  --platform NAME     facebook or mastodon\n"
	"  --from DATE         created at or after DATE (YYYY-MM-DD or\n"
	"                      RFC 3339, UTC)\n"
	"  --to DATE           created at or before DATE; a bare date\n"
	"                      includes that whole day\n"
	"  --text QUERY        words in some version's text or author,\n"
	"                      edited-away versions included (syntax\n"
	"                      below)\n"
	"  --author NAME       author contains NAME (case-insensitive)\n"
	"  --state STATE       current state: live, edited, hidden,\n"
	"                      removed or restored\n"
	"  --kind KIND         post, comment or reply\n"
	"  --include-removed   include items removed from the platform:\n"
	"                      the default, as records law covers\n"
	"                      removed content too\n"
	"  --exclude-removed   leave removed items out\n"
	"  --only-removed      removed items only\n"
	"  --hidden WHICH      hidden items: include (default), exclude\n"
	"                      or only\n"
	"  --with-thread       with each match, its whole thread (the\n"
	"                      post and all its comments and replies);\n"
	"                      items not matching themselves are marked\n"
	"                      context\n"
	"  --sort KEY          created (default), captured (first\n"
	"                      archived) or relevance (needs --text)\n"
	"  --order asc|desc    oldest first by default; for relevance,\n"
	"                      best first unless asc\n"
	"  --limit N           matches per page (default 100)\n"
	"  --offset N          skip the first N matches\n"
	"  --page N            page N of --limit matches (1 is the first)\n"
	"  --count             only the number of matching items and of\n"
	"                      their versions (with --text, the versions\n"
	"                      that match)\n"
	"  --json              {\"total\", \"offset\", \"limit\",\n"
	"                      \"items\": [...]}, each item with its\n"
	"                      latest text and \"context\"; with --count\n"
	"                      {\"total\", \"versions\"}\n"
	"\n"
	"  QUERY: words (all must appear; case and accents do not\n"
	"  matter), \"a phrase\", prefix* (words starting with prefix),\n"
	"  x OR y, x AND y, x NOT y, and ( ) to group. Operators are\n"
	"  upper case. NEAR, column: filters, ^, -word and +word are\n"
	"  refused; quote a word to search for it as it is (\"NEAR\",\n"
	"  \"10:30\"). At most 1000 characters and 64 words.\n"
	"  Exit 1 if nothing matches, 2 for a bad option or query (the\n"
	"  message says what and at which character), 3 for I/O errors.\n",
};

/* The item columns and latest text of one item. */
static const char search_item_sql[] =
    "SELECT " CTL_ITEM_COLUMNS ","
    " (SELECT v.text FROM versions v WHERE v.item_id = i.id"
    "  ORDER BY v.id DESC LIMIT 1)"
    " FROM items i JOIN accounts a ON a.id = i.account_id"
    " WHERE i.id = ?1";

struct search_opts {
	struct query_filter	 f;
	struct query_order	 o;
	int64_t			 page;		/* 0 = not given */
	int			 has_order;
	int			 has_offset;
	int			 count_only;
};

static const char *const search_platforms[] = { "facebook", "mastodon" };
static const char *const search_states[] = { "live", "edited", "hidden",
    "removed", "restored" };
static const char *const search_kinds[] = { "post", "comment", "reply" };
static const char *const search_incl[] = {
	[QUERY_INCLUDE] = "include", [QUERY_EXCLUDE] = "exclude",
	[QUERY_ONLY] = "only",
};
static const char *const search_sorts[] = {
	[QUERY_SORT_CREATED] = "created", [QUERY_SORT_CAPTURED] = "captured",
	[QUERY_SORT_RELEVANCE] = "relevance",
};
static const char *const search_orders[] = { "asc", "desc" };

/* Index of s in set, or -1. */
static int
search_index(const char *s, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return (int)i;
	return -1;
}

static int
search_date(struct ctl *ctl, const char *opt, const char *s, int end_of_day,
    int64_t *ret_t)
{
	int64_t t;

	if (util_parse_time(s, &t) < 0)
		return ctl_usage(ctl, "invalid date '%s' for %s (use "
		    "YYYY-MM-DD or RFC 3339, e.g. 2026-03-02T14:05:09Z)", s,
		    opt);
	/* A bare date YYYY-MM-DD as an upper bound means the whole day. */
	if (end_of_day && strlen(s) == 10)
		t += SEARCH_DAY - 1;
	*ret_t = t;
	return 0;
}

/* One option; 0, or the exit code to return. */
static int
search_option(struct ctl *ctl, int c, struct search_opts *so)
{
	struct query_filter *f = &so->f;
	int i;

	switch (c) {
	case SEARCH_OPT_ACCOUNT:
		f->account = optarg;
		return 0;
	case SEARCH_OPT_PLATFORM:
		if (search_index(optarg, search_platforms,
		    ARRAY_SIZE(search_platforms)) < 0)
			return ctl_usage(ctl, "unknown platform '%s' "
			    "(facebook or mastodon)", optarg);
		f->platform = optarg;
		return 0;
	case SEARCH_OPT_FROM:
		if (search_date(ctl, "--from", optarg, 0, &f->from) != 0)
			return CTL_EXIT_USAGE;
		f->has_from = 1;
		return 0;
	case SEARCH_OPT_TO:
		if (search_date(ctl, "--to", optarg, 1, &f->to) != 0)
			return CTL_EXIT_USAGE;
		f->has_to = 1;
		return 0;
	case SEARCH_OPT_TEXT:
		f->text = optarg;
		return 0;
	case SEARCH_OPT_AUTHOR:
		f->author = optarg;
		return 0;
	case SEARCH_OPT_STATE:
		if (search_index(optarg, search_states,
		    ARRAY_SIZE(search_states)) < 0)
			return ctl_usage(ctl, "unknown state '%s' (live, "
			    "edited, hidden, removed or restored)", optarg);
		f->state = optarg;
		return 0;
	case SEARCH_OPT_KIND:
		if (search_index(optarg, search_kinds,
		    ARRAY_SIZE(search_kinds)) < 0)
			return ctl_usage(ctl, "unknown kind '%s' (post, "
			    "comment or reply)", optarg);
		f->kind = optarg;
		return 0;
	case SEARCH_OPT_INCLUDE_REMOVED:
		f->removed = QUERY_INCLUDE;
		return 0;
	case SEARCH_OPT_EXCLUDE_REMOVED:
		f->removed = QUERY_EXCLUDE;
		return 0;
	case SEARCH_OPT_ONLY_REMOVED:
		f->removed = QUERY_ONLY;
		return 0;
	case SEARCH_OPT_HIDDEN:
		i = search_index(optarg, search_incl, ARRAY_SIZE(search_incl));
		if (i < 0)
			return ctl_usage(ctl, "unknown --hidden '%s' "
			    "(include, exclude or only)", optarg);
		f->hidden = (enum query_incl)i;
		return 0;
	case SEARCH_OPT_WITH_THREAD:
		f->with_thread = 1;
		return 0;
	case SEARCH_OPT_SORT:
		i = search_index(optarg, search_sorts,
		    ARRAY_SIZE(search_sorts));
		if (i < 0)
			return ctl_usage(ctl, "unknown --sort '%s' (created, "
			    "captured or relevance)", optarg);
		so->o.sort = (enum query_sort)i;
		return 0;
	case SEARCH_OPT_ORDER:
		i = search_index(optarg, search_orders,
		    ARRAY_SIZE(search_orders));
		if (i < 0)
			return ctl_usage(ctl, "unknown --order '%s' (asc or "
			    "desc)", optarg);
		so->o.desc = i;
		so->has_order = 1;
		return 0;
	case SEARCH_OPT_LIMIT:
		if (util_parse_int(optarg, 1, SEARCH_MAX_LIMIT,
		    &so->o.limit) < 0)
			return ctl_usage(ctl, "invalid --limit '%s' (1 to %d)",
			    optarg, SEARCH_MAX_LIMIT);
		return 0;
	case SEARCH_OPT_OFFSET:
		if (util_parse_int(optarg, 0, SEARCH_MAX_OFFSET,
		    &so->o.offset) < 0)
			return ctl_usage(ctl, "invalid --offset '%s' (0 or "
			    "more)", optarg);
		so->has_offset = 1;
		return 0;
	case SEARCH_OPT_PAGE:
		if (util_parse_int(optarg, 1, SEARCH_MAX_OFFSET,
		    &so->page) < 0)
			return ctl_usage(ctl, "invalid --page '%s' (1 or "
			    "more)", optarg);
		return 0;
	case SEARCH_OPT_COUNT:
		so->count_only = 1;
		return 0;
	case CTL_OPT_HELP:
		ctl_help(ctl);
		return -1;
	default:
		return CTL_EXIT_USAGE;
	}
}

/* Options that only make sense together; 0 or CTL_EXIT_USAGE. */
static int
search_combine(struct ctl *ctl, struct search_opts *so)
{
	struct query_filter *f = &so->f;
	char err[QUERY_ERR_LEN];
	char *fts;

	if (f->has_from && f->has_to && f->from > f->to)
		return ctl_usage(ctl, "--from is after --to");
	if (so->o.sort == QUERY_SORT_RELEVANCE && f->text == NULL)
		return ctl_usage(ctl, "--sort relevance needs --text");
	if (so->page > 0 && so->has_offset)
		return ctl_usage(ctl, "--page and --offset cannot be used "
		    "together");
	if (so->page > 0) {
		if (so->page - 1 > SEARCH_MAX_OFFSET / so->o.limit)
			return ctl_usage(ctl, "--page is too large");
		so->o.offset = (so->page - 1) * so->o.limit;
	}
	/* Relevance reads best first unless asked otherwise. */
	if (so->o.sort == QUERY_SORT_RELEVANCE && !so->has_order)
		so->o.desc = 1;
	if (f->text != NULL) {
		if (query_parse_text(NULL, f->text, strlen(f->text), &fts,
		    err, sizeof(err)) < 0)
			return ctl_fail(CTL_EXIT_USAGE, "bad --text query: "
			    "%s (see 'sunarchive help search')", err);
		free(fts);
	}
	return 0;
}

/* Does the account exist? 1, 0, or -EIO. */
static int
search_account_exists(struct ctl *ctl, const char *name)
{
	sqlite3_stmt *st;
	int r, rc;

	r = ctl_prepare(ctl, "SELECT 1 FROM accounts WHERE name = ?1", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = 1;
	else if (rc == SQLITE_DONE)
		r = 0;
	else
		r = ctl_db_error(ctl);
	sqlite3_finalize(st);
	return r;
}

/* A query module error: 2 for the user's query, 3 for the index. */
static int
search_error(struct ctl *ctl, int r, const char *err)
{
	if (r == -EINVAL)
		return ctl_fail(CTL_EXIT_USAGE, "bad --text query: %s (see "
		    "'sunarchive help search')", err);
	return ctl_fail(CTL_EXIT_IO, "cannot search index '%s': %s",
	    ctl->index_path != NULL ? ctl->index_path : "(none)", err);
}

/*
 * The page: each row of the query with the item's columns, latest text
 * and "context", appended to items. *ret_total is the number of matching
 * items (-1 if the page is empty), *ret_context the context rows.
 */
static int
search_page(struct ctl *ctl, sqlite3 *db, const struct search_opts *so,
    json_t *items, int64_t *ret_total, int64_t *ret_context)
{
	char err[QUERY_ERR_LEN];
	sqlite3_stmt *st, *it;
	json_t *o;
	int64_t ncontext = 0, total = -1;
	int r, rc, context;

	r = query_prepare(db, &so->f, &so->o, &st, err, sizeof(err));
	if (r < 0)
		return search_error(ctl, r, err);
	r = ctl_prepare(ctl, search_item_sql, &it);
	if (r < 0) {
		sqlite3_finalize(st);
		return CTL_EXIT_IO;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		total = sqlite3_column_int64(st, QUERY_COL_TOTAL);
		context = sqlite3_column_int(st, QUERY_COL_CONTEXT) != 0;
		sqlite3_reset(it);
		sqlite3_bind_int64(it, 1, sqlite3_column_int64(st,
		    QUERY_COL_ID));
		/* The row is in this transaction's snapshot. */
		if (sqlite3_step(it) != SQLITE_ROW) {
			rc = SQLITE_ERROR;
			break;
		}
		o = ctl_item_json(it);
		json_object_set_new(o, "text", ctl_col_str(it,
		    CTL_ITEM_NCOLS));
		json_object_set_new(o, "context", json_boolean(context));
		json_array_append_new(items, o);
		ncontext += context;
	}
	r = CTL_EXIT_OK;
	if (rc != SQLITE_DONE)
		r = search_error(ctl, -EIO, sqlite3_errmsg(db));
	sqlite3_finalize(it);
	sqlite3_finalize(st);
	*ret_total = total;
	*ret_context = ncontext;
	return r;
}

static size_t
search_width(const json_t *items, const char *key, size_t min, size_t max)
{
	size_t i, w = min, n;

	for (i = 0; i < json_array_size(items); i++) {
		n = ctl_text_width(ctl_json_get_str(json_array_get(items, i),
		    key, "-"), CTL_TEXT_ONELINE);
		if (n > w)
			w = n;
	}
	return w < max ? w : max;
}

/*
 * One aligned line per item; the latest text gets what width is left.
 * With threads, a first column says whether the item matched.
 */
static void
search_print(const json_t *items, int with_thread)
{
	const json_t *o;
	char id[24];
	size_t i, wid, wacct, wauth, wtext, used;

	wid = 2;
	for (i = 0; i < json_array_size(items); i++) {
		snprintf(id, sizeof(id), "%lld", (long long)ctl_json_get_int(
		    json_array_get(items, i), "id"));
		if (strlen(id) > wid)
			wid = strlen(id);
	}
	wacct = search_width(items, "account", 7, 24);
	wauth = search_width(items, "author", 6, 24);
	/* id, platform 8, account, kind 7, created 20, state 8, author. */
	used = wid + 1 + 9 + wacct + 1 + 8 + 21 + 9 + wauth + 1 +
	    (with_thread ? 8 : 0);
	wtext = ctl_term_width();
	wtext = wtext > used + 20 ? wtext - used : 20;

	if (with_thread)
		printf("%-7s ", "MATCH");
	printf("%*s %-8s ", (int)wid, "ID", "PLATFORM");
	ctl_put_cell(stdout, "ACCOUNT", wacct);
	printf(" %-7s %-20s %-8s ", "KIND", "CREATED", "STATE");
	ctl_put_cell(stdout, "AUTHOR", wauth);
	printf(" TEXT\n");
	for (i = 0; i < json_array_size(items); i++) {
		o = json_array_get(items, i);
		if (with_thread)
			printf("%-7s ", json_is_true(json_object_get(o,
			    "context")) ? "context" : "match");
		printf("%*lld ", (int)wid,
		    (long long)ctl_json_get_int(o, "id"));
		ctl_put_cell(stdout, ctl_json_get_str(o, "platform", "-"), 8);
		fputc(' ', stdout);
		ctl_put_cell(stdout, ctl_json_get_str(o, "account", "-"),
		    wacct);
		fputc(' ', stdout);
		ctl_put_cell(stdout, ctl_json_get_str(o, "kind", "-"), 7);
		fputc(' ', stdout);
		ctl_put_cell(stdout, ctl_json_get_str(o, "created", "-"), 20);
		fputc(' ', stdout);
		ctl_put_cell(stdout, ctl_json_get_str(o, "state", "-"), 8);
		fputc(' ', stdout);
		ctl_put_cell(stdout, ctl_json_get_str(o, "author", "-"), wauth);
		fputc(' ', stdout);
		ctl_put_text(stdout, ctl_json_get_str(o, "text", ""), wtext,
		    CTL_TEXT_ONELINE);
		fputc('\n', stdout);
	}
}

/* "N items match (showing A-B)", and how many thread items came along. */
static void
search_header(const struct search_opts *so, int64_t total, size_t shown,
    int64_t ncontext)
{
	int64_t first = so->o.offset + 1;
	int64_t last = so->o.offset + (int64_t)shown - ncontext;

	printf("%lld item%s match%s ", (long long)total, total == 1 ? "" :
	    "s", total == 1 ? "es" : "");
	if (last < first)
		printf("(none shown: --offset %lld is past the end)\n",
		    (long long)so->o.offset);
	else if (ncontext > 0)
		printf("(showing %lld-%lld, with %lld more item%s of their"
		    " threads as context)\n", (long long)first,
		    (long long)last, (long long)ncontext,
		    ncontext == 1 ? "" : "s");
	else
		printf("(showing %lld-%lld)\n", (long long)first,
		    (long long)last);
}

static int
search_counts_out(struct ctl *ctl, const struct query_counts *c)
{
	json_t *o;

	if (ctl->json) {
		o = json_object();
		json_object_set_new(o, "total", json_integer(c->items));
		json_object_set_new(o, "versions", json_integer(c->versions));
		ctl_print_json(o);
	} else {
		printf("%lld item%s match%s (%lld version%s)\n",
		    (long long)c->items, c->items == 1 ? "" : "s",
		    c->items == 1 ? "es" : "", (long long)c->versions,
		    c->versions == 1 ? "" : "s");
	}
	return c->items > 0 ? CTL_EXIT_OK : CTL_EXIT_NOTFOUND;
}

/* Nothing matched: say why, once; 1 or 3. */
static int
search_none(struct ctl *ctl, const struct search_opts *so)
{
	int r = 1;

	if (so->f.account != NULL)
		r = search_account_exists(ctl, so->f.account);
	if (r < 0)
		return CTL_EXIT_IO;
	if (r == 0)
		return ctl_fail(CTL_EXIT_NOTFOUND, "no account '%s' in the "
		    "index", so->f.account);
	return ctl_fail(CTL_EXIT_NOTFOUND, "no items match");
}

/*
 * The page with the total, in one read transaction; an empty page is
 * told from no match by counting. Prints the result.
 */
static int
search_run(struct ctl *ctl, struct search_opts *so)
{
	struct query_counts c;
	char err[QUERY_ERR_LEN];
	sqlite3 *db;
	json_t *items = NULL, *out;
	int64_t total = -1, ncontext = 0;
	int r, ex;

	if (ctl_db(ctl, &db) < 0)
		return CTL_EXIT_IO;
	/* Everything from the same snapshot of a live index. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		ctl_db_error(ctl);
		return CTL_EXIT_IO;
	}
	if (so->count_only) {
		r = query_count(db, &so->f, &c, err, sizeof(err));
		ex = r < 0 ? search_error(ctl, r, err) :
		    search_counts_out(ctl, &c);
		goto out;
	}
	items = json_array();
	ex = search_page(ctl, db, so, items, &total, &ncontext);
	if (ex != CTL_EXIT_OK)
		goto out;
	if (total < 0) {
		r = query_count(db, &so->f, &c, err, sizeof(err));
		if (r < 0) {
			ex = search_error(ctl, r, err);
			goto out;
		}
		if (c.items == 0) {
			ex = search_none(ctl, so);
			goto out;
		}
		total = c.items;
	}
	if (ctl->json) {
		out = json_object();
		json_object_set_new(out, "total", json_integer(total));
		json_object_set_new(out, "offset", json_integer(so->o.offset));
		json_object_set_new(out, "limit", json_integer(so->o.limit));
		json_object_set(out, "items", items);
		ex = ctl_print_json(out);
	} else {
		search_header(so, total, json_array_size(items), ncontext);
		if (json_array_size(items) > 0)
			search_print(items, so->f.with_thread);
		ex = CTL_EXIT_OK;
	}
out:
	json_decref(items);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	return ex;
}

int
cmd_search(int argc, char **argv, struct ctl *ctl)
{
	static const struct option opts[] = {
		{ "account",	required_argument, NULL, SEARCH_OPT_ACCOUNT },
		{ "platform",	required_argument, NULL, SEARCH_OPT_PLATFORM },
		{ "from",	required_argument, NULL, SEARCH_OPT_FROM },
		{ "to",		required_argument, NULL, SEARCH_OPT_TO },
		{ "text",	required_argument, NULL, SEARCH_OPT_TEXT },
		{ "author",	required_argument, NULL, SEARCH_OPT_AUTHOR },
		{ "state",	required_argument, NULL, SEARCH_OPT_STATE },
		{ "kind",	required_argument, NULL, SEARCH_OPT_KIND },
		{ "include-removed", no_argument, NULL,
		    SEARCH_OPT_INCLUDE_REMOVED },
		{ "exclude-removed", no_argument, NULL,
		    SEARCH_OPT_EXCLUDE_REMOVED },
		{ "only-removed", no_argument, NULL, SEARCH_OPT_ONLY_REMOVED },
		{ "hidden",	required_argument, NULL, SEARCH_OPT_HIDDEN },
		{ "with-thread", no_argument, NULL, SEARCH_OPT_WITH_THREAD },
		{ "sort",	required_argument, NULL, SEARCH_OPT_SORT },
		{ "order",	required_argument, NULL, SEARCH_OPT_ORDER },
		{ "limit",	required_argument, NULL, SEARCH_OPT_LIMIT },
		{ "offset",	required_argument, NULL, SEARCH_OPT_OFFSET },
		{ "page",	required_argument, NULL, SEARCH_OPT_PAGE },
		{ "count",	no_argument,	   NULL, SEARCH_OPT_COUNT },
		CTL_OPTIONS_COMMON
	};
	struct search_opts so;
	int c, r;

	ctl->cmd = &search_command;
	memset(&so, 0, sizeof(so));
	query_filter_init(&so.f);
	so.o.sort = QUERY_SORT_CREATED;
	so.o.limit = SEARCH_DEFAULT_LIMIT;
	while ((c = ctl_getopt(ctl, argc, argv, "h", opts)) != -1) {
		r = search_option(ctl, c, &so);
		if (r < 0)
			return CTL_EXIT_OK;	/* --help */
		if (r != 0)
			return r;
	}
	if (optind < argc)
		return ctl_usage(ctl, "unexpected argument '%s'",
		    argv[optind]);
	r = search_combine(ctl, &so);
	if (r != 0)
		return r;
	return search_run(ctl, &so);
}
