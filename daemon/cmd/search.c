/*
 * search.c - "sunarchive search": find items by account, platform,
 * creation date, words in any version (edited-away text included), author,
 * state and kind. One line per item for the clerk, or every field and the
 * full text under --json.
 *
 * The user's words never become SQL or FTS5 syntax: each filter is a bound
 * parameter of one fixed statement (NULL = not filtering), and --text is
 * turned into a conjunction of quoted FTS5 phrases, one per word.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ctl.h"
#include "util.h"
#include "xalloc.h"

#define SEARCH_DEFAULT_LIMIT	100
#define SEARCH_MAX_LIMIT	10000000
#define SEARCH_DAY		86400
#define SEARCH_SPACE		" \t\n\v\f\r"

enum {
	SEARCH_OPT_ACCOUNT = 0x200,
	SEARCH_OPT_PLATFORM,
	SEARCH_OPT_FROM,
	SEARCH_OPT_TO,
	SEARCH_OPT_TEXT,
	SEARCH_OPT_AUTHOR,
	SEARCH_OPT_STATE,
	SEARCH_OPT_KIND,
	SEARCH_OPT_LIMIT,
};

/* Parameters of search_sql, in order; NULL or -1 means "any". */
struct search_query {
	const char	*account;	/* ?1 */
	const char	*platform;	/* ?2 */
	int64_t		 from;		/* ?3 */
	int64_t		 to;		/* ?4 */
	char		*fts;		/* ?5, built by search_fts() */
	const char	*author;	/* ?6 */
	const char	*state;		/* ?7 */
	const char	*kind;		/* ?8 */
	int64_t		 limit;		/* ?9 is limit + 1 to see if more */
	int		 has_from, has_to;
};

static const char search_sql[] =
    "SELECT " CTL_ITEM_COLUMNS ","
    " (SELECT v.text FROM versions v WHERE v.item_id = i.id"
    "  ORDER BY v.id DESC LIMIT 1)"
    " FROM items i JOIN accounts a ON a.id = i.account_id"
    " WHERE (?1 IS NULL OR a.name = ?1)"
    " AND (?2 IS NULL OR i.platform = ?2)"
    " AND (?3 IS NULL OR i.created >= ?3)"
    " AND (?4 IS NULL OR i.created <= ?4)"
    " AND (?5 IS NULL OR i.id IN (SELECT v.item_id FROM versions v"
    "  WHERE v.id IN (SELECT rowid FROM versions_fts"
    "  WHERE versions_fts MATCH ?5)))"
    " AND (?6 IS NULL OR instr(lower(i.author), lower(?6)) > 0)"
    " AND (?7 IS NULL OR i.state = ?7)"
    " AND (?8 IS NULL OR i.kind = ?8)"
    " ORDER BY i.created IS NULL, i.created, i.id"
    " LIMIT ?9";

/*
 * A scratch FTS5 table with the tokenizer of versions_fts (schema.sql):
 * a word the tokenizer drops entirely ("&", "--", an emoji) would make an
 * empty phrase that matches nothing, so such words are left out.
 */
static const char search_words_sql[] =
    "PRAGMA temp_store = MEMORY;"
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.ctl_words USING fts5(word,"
    " tokenize = 'unicode61 remove_diacritics 2')";
static const char search_word_ins_sql[] =
    "INSERT INTO temp.ctl_words(rowid, word) VALUES (?1, ?2)";
static const char search_word_match_sql[] =
    "SELECT 1 FROM temp.ctl_words WHERE ctl_words MATCH ?1 AND rowid = ?2";

static const char *const search_platforms[] = { "facebook", "mastodon" };
static const char *const search_states[] = { "live", "edited", "hidden",
    "removed", "restored" };
static const char *const search_kinds[] = { "post", "comment", "reply" };

static int
search_oneof(const char *s, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return 1;
	return 0;
}

/* Append word as one FTS5 string: in quotes, inner quotes doubled. */
static void
search_quote(struct buf *b, const char *w, size_t n)
{
	size_t i;

	buf_append(b, "\"", 1);
	for (i = 0; i < n; i++) {
		if (w[i] == '"')
			buf_append(b, "\"", 1);
		buf_append(b, w + i, 1);
	}
	buf_append(b, "\"", 1);
}

/*
 * Turn the user's words into "w1" AND "w2" ... in *ret_fts (caller frees).
 * Returns 0, -ENOENT when no word has anything to search for, or -EIO
 * after printing a database error.
 */
static int
search_fts(struct ctl *ctl, const char *text, char **ret_fts)
{
	sqlite3 *db;
	sqlite3_stmt *ins = NULL, *match = NULL;
	struct buf phrase, expr;
	const char *p = text;
	size_t n;
	int64_t row = 0;
	int r, rc;

	r = ctl_db(ctl, &db);
	if (r < 0)
		return r;
	if (sqlite3_exec(db, search_words_sql, NULL, NULL, NULL) != SQLITE_OK)
		return ctl_db_error(ctl);
	r = ctl_prepare(ctl, search_word_ins_sql, &ins);
	if (r < 0)
		return r;
	r = ctl_prepare(ctl, search_word_match_sql, &match);
	if (r < 0)
		goto out_ins;

	buf_init(&phrase, 0);
	buf_init(&expr, 0);
	for (;;) {
		p += strspn(p, SEARCH_SPACE);
		if (*p == '\0')
			break;
		n = strcspn(p, SEARCH_SPACE);
		row++;
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, row);
		sqlite3_bind_text(ins, 2, p, (int)n, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			r = ctl_db_error(ctl);
			goto out_bufs;
		}
		buf_reset(&phrase);
		search_quote(&phrase, p, n);
		p += n;
		sqlite3_reset(match);
		sqlite3_bind_text(match, 1, phrase.data, (int)phrase.len,
		    SQLITE_STATIC);
		sqlite3_bind_int64(match, 2, row);
		rc = sqlite3_step(match);
		if (rc == SQLITE_DONE)
			continue;	/* no token in it */
		if (rc != SQLITE_ROW) {
			r = ctl_db_error(ctl);
			goto out_bufs;
		}
		if (expr.len > 0)
			buf_puts(&expr, " AND ");
		buf_append(&expr, phrase.data, phrase.len);
	}
	if (expr.len == 0) {
		r = -ENOENT;
		goto out_bufs;
	}
	*ret_fts = buf_steal(&expr, NULL);
	r = 0;
out_bufs:
	buf_release(&phrase);
	buf_release(&expr);
	sqlite3_finalize(match);
out_ins:
	sqlite3_finalize(ins);
	return r;
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

static void
search_bind_opt(sqlite3_stmt *st, int col, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, col, s, -1, SQLITE_STATIC);
}

/* An item with its latest text. */
static json_t *
search_row(sqlite3_stmt *st)
{
	json_t *o = ctl_item_json(st);

	json_object_set_new(o, "text", ctl_col_str(st, CTL_ITEM_NCOLS));
	return o;
}

/* Run the query into a JSON array; more is set when the limit cut it. */
static int
search_run(struct ctl *ctl, const struct search_query *q, json_t *items,
    int *ret_more)
{
	sqlite3_stmt *st;
	int r, rc;

	r = ctl_prepare(ctl, search_sql, &st);
	if (r < 0)
		return r;
	search_bind_opt(st, 1, q->account);
	search_bind_opt(st, 2, q->platform);
	if (q->has_from)
		sqlite3_bind_int64(st, 3, q->from);
	if (q->has_to)
		sqlite3_bind_int64(st, 4, q->to);
	search_bind_opt(st, 5, q->fts);
	search_bind_opt(st, 6, q->author);
	search_bind_opt(st, 7, q->state);
	search_bind_opt(st, 8, q->kind);
	sqlite3_bind_int64(st, 9, q->limit + 1);

	*ret_more = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((int64_t)json_array_size(items) == q->limit) {
			*ret_more = 1;
			break;
		}
		json_array_append_new(items, search_row(st));
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = ctl_db_error(ctl);
	sqlite3_finalize(st);
	return r;
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

/* One aligned line per item; the latest text gets what width is left. */
static void
search_print(const json_t *items)
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
	used = wid + 1 + 9 + wacct + 1 + 8 + 21 + 9 + wauth + 1;
	wtext = ctl_term_width();
	wtext = wtext > used + 20 ? wtext - used : 20;

	printf("%*s %-8s ", (int)wid, "ID", "PLATFORM");
	ctl_put_cell(stdout, "ACCOUNT", wacct);
	printf(" %-7s %-20s %-8s ", "KIND", "CREATED", "STATE");
	ctl_put_cell(stdout, "AUTHOR", wauth);
	printf(" TEXT\n");
	for (i = 0; i < json_array_size(items); i++) {
		o = json_array_get(items, i);
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
		{ "limit",	required_argument, NULL, SEARCH_OPT_LIMIT },
		CTL_OPTIONS_COMMON
	};
	struct search_query q;
	const char *text = NULL;
	json_t *items;
	int c, r, ex, more;

	memset(&q, 0, sizeof(q));
	q.limit = SEARCH_DEFAULT_LIMIT;
	while ((c = ctl_getopt(ctl, argc, argv, "h", opts)) != -1) {
		switch (c) {
		case SEARCH_OPT_ACCOUNT:
			q.account = optarg;
			break;
		case SEARCH_OPT_PLATFORM:
			if (!search_oneof(optarg, search_platforms,
			    ARRAY_SIZE(search_platforms)))
				return ctl_usage(ctl, "unknown platform '%s' "
				    "(facebook or mastodon)", optarg);
			q.platform = optarg;
			break;
		case SEARCH_OPT_FROM:
			if (search_date(ctl, "--from", optarg, 0, &q.from) != 0)
				return CTL_EXIT_USAGE;
			q.has_from = 1;
			break;
		case SEARCH_OPT_TO:
			if (search_date(ctl, "--to", optarg, 1, &q.to) != 0)
				return CTL_EXIT_USAGE;
			q.has_to = 1;
			break;
		case SEARCH_OPT_TEXT:
			text = optarg;
			break;
		case SEARCH_OPT_AUTHOR:
			q.author = optarg;
			break;
		case SEARCH_OPT_STATE:
			if (!search_oneof(optarg, search_states,
			    ARRAY_SIZE(search_states)))
				return ctl_usage(ctl, "unknown state '%s' "
				    "(live, edited, hidden, removed or "
				    "restored)", optarg);
			q.state = optarg;
			break;
		case SEARCH_OPT_KIND:
			if (!search_oneof(optarg, search_kinds,
			    ARRAY_SIZE(search_kinds)))
				return ctl_usage(ctl, "unknown kind '%s' "
				    "(post, comment or reply)", optarg);
			q.kind = optarg;
			break;
		case SEARCH_OPT_LIMIT:
			if (util_parse_int(optarg, 1, SEARCH_MAX_LIMIT,
			    &q.limit) < 0)
				return ctl_usage(ctl, "invalid --limit '%s' "
				    "(1 to %d)", optarg, SEARCH_MAX_LIMIT);
			break;
		case CTL_OPT_HELP:
			return ctl_help(ctl);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return ctl_usage(ctl, "unexpected argument '%s'",
		    argv[optind]);
	if (q.has_from && q.has_to && q.from > q.to)
		return ctl_usage(ctl, "--from is after --to");

	if (text != NULL) {
		r = search_fts(ctl, text, &q.fts);
		if (r == -ENOENT)
			return ctl_usage(ctl, "--text has no words to search "
			    "for");
		if (r < 0)
			return CTL_EXIT_IO;
	}
	items = json_array();
	r = search_run(ctl, &q, items, &more);
	if (r < 0) {
		ex = CTL_EXIT_IO;
		goto out;
	}
	if (json_array_size(items) == 0) {
		ex = CTL_EXIT_NOTFOUND;
		r = q.account != NULL ? search_account_exists(ctl, q.account) :
		    1;
		if (r < 0)
			ex = CTL_EXIT_IO;
		else if (r == 0)
			ctl_fail(0, "no account '%s' in the index", q.account);
		else
			ctl_fail(0, "no items match");
		goto out;
	}
	if (more)
		ctl_fail(0, "showing the first %lld items; more match "
		    "(raise --limit)", (long long)q.limit);
	if (ctl->json) {
		ex = ctl_print_json(items);
		items = NULL;
	} else {
		search_print(items);
		ex = CTL_EXIT_OK;
	}
out:
	json_decref(items);
	free(q.fts);
	return ex;
}
