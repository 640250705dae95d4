/*
 * test_query.c - the query module: the text translator (valid queries to
 * exact FTS5 strings; every hostile class - NEAR, column filters, ^,
 * +/-, stray '*', unbalanced quotes and parentheses, operators out of
 * place, too long, too many words, too deep, NUL, invalid UTF-8 - an
 * error naming the position, never a crash; thousands of random hostile
 * strings, each either refused or accepted by FTS5 itself), filters
 * checked, and searches on a small index built through the real schema:
 * every filter, order and page, totals and counts, threads with context
 * rows, an index without the search migration, and SQL in every string
 * matched as text while the tables stay.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "index.h"
#include "query.h"
#include "tap.h"
#include "util.h"

#define T0		1772409600LL	/* 2026-03-02T00:00:00Z */
#define HOUR		3600

static char dir[] = "/tmp/sunarchive-test-query.XXXXXX";
static char err[QUERY_ERR_LEN];
static sqlite3 *mem;		/* an in-memory connection for the tokenizer */

/* The translation of s, or "ERR: message"; static buffer. */
static const char *
tr(sqlite3 *db, const char *s)
{
	static char out[4096];
	char *fts;
	int r;

	err[0] = '\0';
	r = query_parse_text(db, s, strlen(s), &fts, err, sizeof(err));
	if (r < 0) {
		snprintf(out, sizeof(out), "ERR: %s", err);
		return out;
	}
	snprintf(out, sizeof(out), "%s", fts);
	free(fts);
	return out;
}

/* Is s refused with a message containing want? */
static int
refused(const char *s, size_t len, const char *want)
{
	char *fts = NULL;
	int r;

	err[0] = '\0';
	r = query_parse_text(mem, s, len, &fts, err, sizeof(err));
	free(fts);
	if (r != -EINVAL || strstr(err, want) == NULL) {
		printf("# '%.60s': r=%d err='%s' (want '%s')\n", s, r, err,
		    want);
		return 0;
	}
	return 1;
}

static void
test_valid(void)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "road", "\"road\"" },
		{ "road closure", "\"road\" AND \"closure\"" },
		{ "  road\t\nclosure  ", "\"road\" AND \"closure\"" },
		{ "road AND closure", "\"road\" AND \"closure\"" },
		{ "\"road closure\"", "\"road closure\"" },
		{ "bud*", "\"bud\"*" },
		{ "\"city hal\"*", "\"city hal\"*" },
		{ "a OR b", "\"a\" OR \"b\"" },
		{ "a OR b c", "\"a\" OR (\"b\" AND \"c\")" },
		{ "a b OR c", "(\"a\" AND \"b\") OR \"c\"" },
		{ "(a OR b) c", "(\"a\" OR \"b\") AND \"c\"" },
		{ "a AND b AND c", "\"a\" AND \"b\" AND \"c\"" },
		{ "a OR b OR c", "\"a\" OR \"b\" OR \"c\"" },
		{ "a OR (b OR c)", "\"a\" OR \"b\" OR \"c\"" },
		{ "a NOT b", "\"a\" NOT \"b\"" },
		{ "a NOT b c", "(\"a\" NOT \"b\") AND \"c\"" },
		{ "a NOT (b OR c)", "\"a\" NOT (\"b\" OR \"c\")" },
		{ "a NOT b NOT c", "(\"a\" NOT \"b\") NOT \"c\"" },
		{ "((a))", "\"a\"" },
		{ "and or not near", "\"and\" AND \"or\" AND \"not\" AND"
		    " \"near\"" },
		{ "\"NEAR\"", "\"NEAR\"" },
		{ "\"AND\" \"OR\"", "\"AND\" AND \"OR\"" },
		{ "\"col:word\" \"^x\" \"-y\"", "\"col:word\" AND \"^x\" AND"
		    " \"-y\"" },
		{ "\"'); DROP TABLE items; --\"",
		    "\"'); DROP TABLE items; --\"" },
		{ "a\"b\"", "\"a\" AND \"b\"" },
		{ "caf\xc3\xa9 na\xc3\xafve", "\"caf\xc3\xa9\" AND"
		    " \"na\xc3\xafve\"" },
		{ "co-op 10.30 it's", "\"co-op\" AND \"10.30\" AND \"it's\"" },
		{ "resident@social.example", "\"resident@social.example\"" },
		{ "\"(a OR b)\"", "\"(a OR b)\"" },
		{ "x*  \"y\"", "\"x\"* AND \"y\"" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		is_str(tr(NULL, cases[i].in), cases[i].out, "valid %zu: %s", i,
		    cases[i].out);
}

/* Words with nothing the index tokenizes are left out (needs a db). */
static void
test_tokenless(void)
{
	is_str(tr(mem, "Main & Street"), "\"Main\" AND \"Street\"",
	    "'&' is left out");
	is_str(tr(NULL, "Main & Street"), "\"Main\" AND \"&\" AND"
	    " \"Street\"", "without a db every word is kept");
	is_str(tr(mem, "& OR snow"), "\"snow\"", "empty OR operand dropped");
	is_str(tr(mem, "snow NOT &"), "\"snow\"", "empty NOT operand dropped");
	is_str(tr(mem, "snow (& OR --)"), "\"snow\"", "empty group dropped");
	is_str(tr(mem, "\"\" road"), "\"road\"", "empty phrase dropped");
	is_str(tr(mem, "- road -"), "\"road\"", "lone '-' dropped");
	is_str(tr(mem, "emerg\xc3\xa9ncy"), "\"emerg\xc3\xa9ncy\"",
	    "accented word kept (the index folds it)");
	ok(refused("& NOT snow", 10, "nothing to search for before it"),
	    "(empty) NOT x refused");
	ok(refused("& --", 4, "no words to search for"), "only punctuation");
	ok(refused("\xe2\x80\x94 \xe2\x80\xa6", 7, "no words to search for"),
	    "only a dash and an ellipsis");
	ok(refused("\"\"", 2, "no words to search for"), "empty phrase");
}

static void
test_hostile(void)
{
	static const struct {
		const char	*in;
		const char	*want;
	} cases[] = {
		{ "NEAR", "NEAR at character 1" },
		{ "a NEAR b", "NEAR at character 3" },
		{ "NEAR(a b)", "NEAR at character 1" },
		{ "a NEAR/3 b", "NEAR at character 3" },
		{ "col:word", "':' at character 4" },
		{ "text:road", "column filters" },
		{ "caf\xc3\xa9:x", "':' at character 5" },
		{ "^start", "'^' at character 1" },
		{ "{text author}: road", "'{' at character 1" },
		{ "-road", "'-' at character 1" },
		{ "a +road", "'+' at character 3" },
		{ "*", "'*' at character 1 must follow a word" },
		{ "a * b", "'*' at character 3" },
		{ "a*b", "'*' at character 2" },
		{ "a**", "'*' at character 2" },
		{ "(", "'(' at character 1 is not closed" },
		{ "(((a)", "'(' at character 2 is not closed" },
		{ ")", "')' at character 1 has no '('" },
		{ "a OR b)", "')' at character 7" },
		{ "(a))", "')' at character 4" },
		{ "()", "empty parentheses at character 1" },
		{ "a ( )", "empty parentheses at character 3" },
		{ "\"", "quote at character 1 is not closed" },
		{ "a \"unterminated", "quote at character 3" },
		{ "\"a\" \"b", "quote at character 5" },
		{ "AND", "AND at character 1 needs" },
		{ "AND a", "AND at character 1 needs" },
		{ "a AND", "AND at character 3 needs a word, phrase or '('"
		    " after it, not the end" },
		{ "a OR", "OR at character 3" },
		{ "a OR OR b", "OR at character 3" },
		{ "a NOT", "NOT at character 3" },
		{ "NOT a", "NOT at character 1" },
		{ "a AND )", "AND at character 3" },
		{ "(OR a)", "OR at character 2" },
		{ "", "the query is empty" },
		{ "   \t\n", "the query is empty" },
		{ "'); DROP TABLE items; --", "')' at character 2" },
		{ "\") OR 1=1 --", "quote at character 1" },
	};
	char buf[12000];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		ok(refused(cases[i].in, strlen(cases[i].in), cases[i].want),
		    "refused %zu: %s", i, cases[i].want);

	/* Limits: characters, terms, depth. */
	memset(buf, 'a', QUERY_TEXT_MAX);
	buf[QUERY_TEXT_MAX] = '\0';
	is_int(strlen(tr(mem, buf)), QUERY_TEXT_MAX + 2,
	    "%d characters are fine", QUERY_TEXT_MAX);
	buf[QUERY_TEXT_MAX] = 'a';
	ok(refused(buf, QUERY_TEXT_MAX + 1, "too long (1001 characters"),
	    "%d characters are too many", QUERY_TEXT_MAX + 1);
	memset(buf, 'x', 10240);
	ok(refused(buf, 10240, "too long"), "10 KB refused");
	memset(buf, '(', 5000);
	ok(refused(buf, 5000, "too long"), "5000 '(' refused");
	memset(buf, '"', 10000);
	ok(refused(buf, 10000, "too long"), "10000 '\"' refused");
	/* 500 non-ASCII characters (1000 bytes) are 500 characters. */
	for (i = 0; i < 500; i++)
		memcpy(buf + 2 * i, "\xc3\xa9", 2);
	buf[1000] = '\0';
	ok(strncmp(tr(mem, buf), "ERR", 3) != 0, "length is counted in"
	    " characters");

	buf[0] = '\0';
	for (i = 0; i < QUERY_TERMS_MAX; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		    "w%zu ", i);
	ok(strncmp(tr(mem, buf), "ERR", 3) != 0, "%d words are fine",
	    QUERY_TERMS_MAX);
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "one-more");
	ok(refused(buf, strlen(buf), "too many words and phrases"),
	    "%d words are too many", QUERY_TERMS_MAX + 1);

	memset(buf, '(', QUERY_DEPTH_MAX);
	buf[QUERY_DEPTH_MAX] = 'a';
	memset(buf + QUERY_DEPTH_MAX + 1, ')', QUERY_DEPTH_MAX);
	buf[2 * QUERY_DEPTH_MAX + 1] = '\0';
	is_str(tr(mem, buf), "\"a\"", "%d nested parentheses are fine",
	    QUERY_DEPTH_MAX);
	memset(buf, '(', QUERY_DEPTH_MAX + 1);
	buf[QUERY_DEPTH_MAX + 1] = 'a';
	memset(buf + QUERY_DEPTH_MAX + 2, ')', QUERY_DEPTH_MAX + 1);
	buf[2 * QUERY_DEPTH_MAX + 3] = '\0';
	ok(refused(buf, strlen(buf), "nested more than 16 deep at character"
	    " 17"), "%d nested parentheses are too many", QUERY_DEPTH_MAX + 1);
	memset(buf, '(', 1000);
	ok(refused(buf, 1000, "nested more than 16"), "1000 '(' refused");

	/* NUL bytes and invalid UTF-8. */
	ok(refused("ab\0cd", 5, "NUL byte at character 3"), "NUL refused");
	ok(refused("\0", 1, "NUL byte at character 1"), "lone NUL refused");
	ok(refused("\xff\xfe", 2, "not valid UTF-8 at character 1"),
	    "0xff refused");
	ok(refused("caf\xe9", 4, "not valid UTF-8 at character 4"),
	    "Latin-1 refused");
	ok(refused("road\xc3", 5, "not valid UTF-8 at character 5"),
	    "truncated sequence refused");
	ok(refused("\xc0\xaf", 2, "not valid UTF-8"), "overlong refused");
	ok(refused("\xed\xa0\x80x", 4, "not valid UTF-8"),
	    "surrogate refused");
	ok(refused("\xf4\x90\x80\x80", 4, "not valid UTF-8"),
	    "past U+10FFFF refused");
	ok(refused("\xe2\x82", 2, "not valid UTF-8"), "short sequence refused");
}

/*
 * Random strings from the pieces of FTS5 and SQL syntax: each must be
 * refused with a message, or give an expression FTS5 accepts.
 */
static void
test_random(void)
{
	static const char *const pieces[] = {
		"a", "road", "NEAR", "AND", "OR", "NOT", "and", "(", ")", "\"",
		"*", ":", "^", "-", "+", "{", "}", " ", " ", " ", "'", ";",
		"--", "%", "_", "\\", "\xc3\xa9", "\xf0\x9f\x99\x82", "\xff",
		"\xc3", "\x01", "\x7f", "col", "NEAR/2", "DROP TABLE items",
		",", "0", "=", "/*", "*/", "\t", "\n",
	};
	sqlite3_stmt *st;
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	char buf[512], *fts;
	int i, k, n, r, accepted = 0, refused_ok = 0, bad = 0, rc;

	if (sqlite3_prepare_v2(mem, "SELECT rowid FROM t WHERE t MATCH ?1",
	    -1, &st, NULL) != SQLITE_OK) {
		ok(0, "prepare: %s", sqlite3_errmsg(mem));
		return;
	}
	for (i = 0; i < 20000; i++) {
		buf[0] = '\0';
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		n = 1 + (int)((s >> 33) % 12);
		for (k = 0; k < n; k++) {
			s = s * 6364136223846793005ULL +
			    1442695040888963407ULL;
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
			    "%s", pieces[(s >> 33) % ARRAY_SIZE(pieces)]);
		}
		err[0] = '\0';
		fts = NULL;
		r = query_parse_text(mem, buf, strlen(buf), &fts, err,
		    sizeof(err));
		if (r == -EINVAL && err[0] != '\0') {
			refused_ok++;
			continue;
		}
		if (r != 0) {
			if (bad++ < 5)
				printf("# '%s': r=%d\n", buf, r);
			continue;
		}
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, fts, -1, SQLITE_TRANSIENT);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		if (rc != SQLITE_DONE && bad++ < 5)
			printf("# '%s' -> '%s': %s\n", buf, fts,
			    sqlite3_errmsg(mem));
		accepted++;
		free(fts);
	}
	sqlite3_finalize(st);
	is_int(bad, 0, "20000 random queries: %d accepted by FTS5, %d"
	    " refused with a message, none failed", accepted, refused_ok);
	ok(accepted > 1000 && refused_ok > 1000, "both kinds were tried");
}

static void
test_check(void)
{
	struct query_filter f;
	struct query_order o;
	int64_t ids[1] = { 1 };

	memset(&o, 0, sizeof(o));
	query_filter_init(&f);
	is_int(f.removed, QUERY_INCLUDE, "removed items included by default");
	is_int(f.hidden, QUERY_INCLUDE, "hidden items included by default");
	is_int(query_check(&f, &o, err, sizeof(err)), 0, "empty filter ok");
	f.kind = "tweet";
	is_int(query_check(&f, &o, err, sizeof(err)), -EINVAL,
	    "unknown kind: %s", err);
	f.kind = "reply";
	f.state = "deleted";
	is_int(query_check(&f, &o, err, sizeof(err)), -EINVAL,
	    "unknown state: %s", err);
	f.state = NULL;
	f.platform = "twitter";
	is_int(query_check(&f, &o, err, sizeof(err)), -EINVAL,
	    "unknown platform: %s", err);
	f.platform = "mastodon";
	f.from = 10;
	f.to = 5;
	f.has_from = f.has_to = 1;
	is_int(query_check(&f, &o, err, sizeof(err)), -EINVAL,
	    "from after to: %s", err);
	f.has_from = f.has_to = 0;
	o.sort = QUERY_SORT_RELEVANCE;
	is_int(query_check(&f, &o, err, sizeof(err)), -EINVAL,
	    "relevance without text: %s", err);
	f.text = "road (";
	is_int(query_check(&f, &o, err, sizeof(err)), -EINVAL,
	    "bad text: %s", err);
	f.text = "road";
	is_int(query_check(&f, &o, err, sizeof(err)), 0, "relevance with"
	    " text");
	f.ids = ids;
	f.nids = QUERY_IDS_MAX + 1;
	is_int(query_check(&f, &o, err, sizeof(err)), -EINVAL,
	    "too many ids: %s", err);
	f.nids = 1;
	o.limit = -1;
	is_int(query_check(&f, &o, err, sizeof(err)), -EINVAL,
	    "negative limit: %s", err);
}

/* ---- searches on a small index -------------------------------------- */

static sqlite3 *db;
static int64_t seq;

static void
exec_ok(const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		printf("# %s: %s\n", sql, sqlite3_errmsg(db));
}

/* One item with its versions' texts (NULL-terminated). */
static void
add_item(int64_t id, int account, const char *kind, const char *pid,
    const char *root, int64_t created, const char *author,
    const char *state, int hidden, const char *const *texts)
{
	sqlite3_stmt *st;
	int n = 0, i;

	while (texts[n] != NULL)
		n++;
	sqlite3_prepare_v2(db, "INSERT INTO items(id, account_id, platform,"
	    " platform_id, kind, parent_id, root_id, author, created, state,"
	    " hidden, first_seen, last_seen, nversions) VALUES (?1, ?2,"
	    " CASE ?2 WHEN 1 THEN 'facebook' ELSE 'mastodon' END, ?3, ?4, ?5,"
	    " ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)", -1, &st, NULL);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, account);
	sqlite3_bind_text(st, 3, pid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
	if (root != NULL)
		sqlite3_bind_text(st, 5, root, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, author, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, created);
	sqlite3_bind_text(st, 8, state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, hidden);
	/* Captured in the reverse order of creation, to tell them apart. */
	sqlite3_bind_int64(st, 10, T0 + 100 * HOUR - created / 1000);
	sqlite3_bind_int(st, 11, n);
	if (sqlite3_step(st) != SQLITE_DONE)
		printf("# item %lld: %s\n", (long long)id, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		char sql[512];

		seq++;
		snprintf(sql, sizeof(sql), "INSERT INTO records(seq, record_id,"
		    " segment_id, offset, length, sha256, type, date) VALUES"
		    " (%lld, 'urn:uuid:%lld', 1, %lld, 10, 'x', 'conversion',"
		    " 0)", (long long)seq, (long long)seq,
		    (long long)seq * 10);
		exec_ok(sql);
		sqlite3_prepare_v2(db, "INSERT INTO versions(id, item_id, seq,"
		    " hash, captured, text) VALUES (?1, ?2, ?1, 'h', 0, ?3)",
		    -1, &st, NULL);
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_int64(st, 2, id);
		sqlite3_bind_text(st, 3, texts[i], -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
		sqlite3_prepare_v2(db, "INSERT INTO versions_fts(rowid, text,"
		    " author) VALUES (?1, ?2, ?3)", -1, &st, NULL);
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_text(st, 2, texts[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, author, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
}

#define TEXTS(...)	((const char *const[]){ __VA_ARGS__, NULL })

static void
build(void)
{
	exec_ok("INSERT INTO accounts(id, name, platform, platform_id) VALUES"
	    " (1, 'city-facebook', 'facebook', '1'),"
	    " (2, 'city-mastodon', 'mastodon', '2');"
	    "INSERT INTO segments(id, name, created) VALUES (1, 's', 0)");
	exec_ok("BEGIN");
	/* A thread on facebook: post 1, comments 2 and 3, reply 4. */
	add_item(1, 1, "post", "P1", NULL, T0, "City of Example", "edited", 0,
	    TEXTS("Budget hearing on Tuesday",
	    "Budget hearing moved to Wednesday"));
	add_item(2, 1, "comment", "C2", "P1", T0 + HOUR, "Jane Resident",
	    "live", 0, TEXTS("Will there be parking at the hearing?"));
	add_item(3, 1, "comment", "C3", "P1", T0 + 2 * HOUR, "Spam Bot",
	    "hidden", 1, TEXTS("Buy cheap followers"));
	add_item(4, 1, "reply", "R4", "P1", T0 + 3 * HOUR, "City of Example",
	    "live", 0, TEXTS("Yes, the garage on 5th is open"));
	/* A removed post, and a lone post. */
	add_item(5, 1, "post", "P5", NULL, T0 + 4 * HOUR, "City of Example",
	    "removed", 0, TEXTS("Water main break NEAR the park"));
	add_item(6, 1, "post", "P6", NULL, T0 + 5 * HOUR, "City of Example",
	    "live", 0, TEXTS("'); DROP TABLE items; -- parking"));
	/* Mastodon: a post and a reply; the same platform id as item 1. */
	add_item(7, 2, "post", "P1", NULL, T0 + 6 * HOUR, "city", "live", 0,
	    TEXTS("Snow emergency: parking on the odd side"));
	add_item(8, 2, "reply", "R8", "P1", T0 + 7 * HOUR,
	    "resident@social.example", "restored", 0,
	    TEXTS("Thanks for the parking update"));
	exec_ok("COMMIT");
}

/*
 * Run a search; ids into out (comma-separated, context rows as "(id)"),
 * returns the total column of the first row, or -1 without rows, -2 on
 * an error (err set).
 */
static int64_t
run(const struct query_filter *f, const struct query_order *o, char *out,
    size_t len)
{
	sqlite3_stmt *st;
	int64_t total = -1;
	size_t n;
	int r;

	out[0] = '\0';
	err[0] = '\0';
	r = query_prepare(db, f, o, &st, err, sizeof(err));
	if (r < 0)
		return -2;
	while (sqlite3_step(st) == SQLITE_ROW) {
		n = strlen(out);
		snprintf(out + n, len - n, sqlite3_column_int(st,
		    QUERY_COL_CONTEXT) ? "%s(%lld)" : "%s%lld", n > 0 ? "," :
		    "", (long long)sqlite3_column_int64(st, QUERY_COL_ID));
		total = sqlite3_column_int64(st, QUERY_COL_TOTAL);
	}
	if (sqlite3_errcode(db) != SQLITE_OK &&
	    sqlite3_errcode(db) != SQLITE_DONE &&
	    sqlite3_errcode(db) != SQLITE_ROW)
		printf("# step: %s\n", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return total;
}

static void
search_is(struct query_filter *f, struct query_order *o, const char *want,
    const char *what)
{
	char out[512];

	run(f, o, out, sizeof(out));
	is_str(out, want, "%s", what);
	if (err[0] != '\0')
		printf("# error: %s\n", err);
}

static void
test_search(void)
{
	struct query_filter f;
	struct query_order o;
	struct query_counts c;
	int64_t ids[] = { 7, 2, 99 };
	char out[512];

	query_filter_init(&f);
	memset(&o, 0, sizeof(o));
	search_is(&f, &o, "1,2,3,4,5,6,7,8", "everything, oldest first");
	is_int(run(&f, &o, out, sizeof(out)), 8, "total column");
	o.desc = 1;
	search_is(&f, &o, "8,7,6,5,4,3,2,1", "newest first");
	o.desc = 0;
	o.sort = QUERY_SORT_CAPTURED;
	search_is(&f, &o, "8,7,6,5,4,3,2,1", "by capture time");
	o.sort = QUERY_SORT_CREATED;
	o.limit = 3;
	o.offset = 2;
	search_is(&f, &o, "3,4,5", "a page");
	is_int(run(&f, &o, out, sizeof(out)), 8, "a page's total is all");
	o.offset = 8;
	is_int(run(&f, &o, out, sizeof(out)), -1, "past the end: no rows");
	o.limit = 0;
	o.offset = 0;

	f.account = "city-mastodon";
	search_is(&f, &o, "7,8", "account");
	f.account = "nobody' OR '1'='1";
	search_is(&f, &o, "", "an account name is a value, not SQL");
	f.account = NULL;
	f.platform = "facebook";
	f.kind = "post";
	search_is(&f, &o, "1,5,6", "platform and kind");
	f.platform = NULL;
	f.kind = NULL;
	f.from = T0 + HOUR;
	f.to = T0 + 3 * HOUR;
	f.has_from = f.has_to = 1;
	search_is(&f, &o, "2,3,4", "created between, inclusive");
	f.has_from = f.has_to = 0;
	f.author = "RESIDENT";
	search_is(&f, &o, "2,8", "author, case-blind substring");
	f.author = "%";
	search_is(&f, &o, "", "LIKE wildcards are plain characters");
	f.author = "'; DROP TABLE items; --";
	search_is(&f, &o, "", "an author is a value, not SQL");
	f.author = NULL;
	f.state = "restored";
	search_is(&f, &o, "8", "state");
	f.state = NULL;
	f.removed = QUERY_ONLY;
	search_is(&f, &o, "5", "only removed");
	f.removed = QUERY_EXCLUDE;
	search_is(&f, &o, "1,2,3,4,6,7,8", "removed left out");
	f.removed = QUERY_INCLUDE;
	f.hidden = QUERY_ONLY;
	search_is(&f, &o, "3", "only hidden");
	f.hidden = QUERY_EXCLUDE;
	search_is(&f, &o, "1,2,4,5,6,7,8", "hidden left out");
	f.hidden = QUERY_INCLUDE;
	f.ids = ids;
	f.nids = ARRAY_SIZE(ids);
	search_is(&f, &o, "2,7", "item numbers");
	f.ids = NULL;
	f.nids = 0;

	/* Text. */
	f.text = "tuesday";
	search_is(&f, &o, "1", "text in an old version");
	f.text = "parking";
	search_is(&f, &o, "2,6,7,8", "a word");
	f.text = "parking NOT snow";
	search_is(&f, &o, "2,6,8", "NOT");
	f.text = "garage OR emerg*";
	search_is(&f, &o, "4,7", "OR and prefix");
	f.text = "\"moved to wednesday\"";
	search_is(&f, &o, "1", "phrase");
	f.text = "\"to tuesday\"";
	search_is(&f, &o, "", "phrase words must be adjacent");
	f.text = "\"'); DROP TABLE items; --\"";
	search_is(&f, &o, "6", "SQL in a phrase is searched as text");
	f.text = "jane";
	search_is(&f, &o, "2", "author words are text too");

	/*
	 * Pages of one: the matches are dense enough to walk the creation
	 * index and probe them (4 matches >= sqrt(1 * 8) + 1), rather than
	 * look each up and sort; the pages must be the same.
	 */
	f.text = "parking";
	o.limit = 1;
	{
		static const char *const want[] = { "2", "6", "7", "8", "" };
		static const char *const back[] = { "8", "7", "6", "2", "" };
		int k;

		for (k = 0; k < 5; k++) {
			o.offset = k;
			o.desc = 0;
			search_is(&f, &o, want[k], "walked page, oldest first");
			o.desc = 1;
			search_is(&f, &o, back[k], "walked page, newest first");
		}
		o.desc = 0;
		o.offset = 1;
		is_int(run(&f, &o, out, sizeof(out)), 4, "walked page total");
		f.account = "city-facebook";
		search_is(&f, &o, "6", "walked page with an account");
		is_int(run(&f, &o, out, sizeof(out)), 2, "and its total");
		f.account = NULL;
	}
	o.limit = 0;
	o.offset = 0;
	f.text = "parking";
	f.account = "city-facebook";
	search_is(&f, &o, "2,6", "text and account");
	is_int(run(&f, &o, out, sizeof(out)), 2, "their total");
	f.account = NULL;
	o.sort = QUERY_SORT_RELEVANCE;
	o.desc = 1;
	run(&f, &o, out, sizeof(out));
	ok(strlen(out) == 7 && strstr(out, "2") && strstr(out, "6") &&
	    strstr(out, "7") && strstr(out, "8"), "relevance: every match"
	    " once (%s)", out);
	f.kind = "reply";
	search_is(&f, &o, "8", "relevance with a filter");
	f.kind = NULL;
	o.sort = QUERY_SORT_CREATED;
	o.desc = 0;
	f.text = "NEAR";
	is_int(run(&f, &o, out, sizeof(out)), -2, "refused: %s", err);
	f.text = "\"NEAR\"";
	search_is(&f, &o, "5", "quoted NEAR is a word");

	/* Threads: each match's whole thread, context marked. */
	f.text = "garage";
	f.with_thread = 1;
	search_is(&f, &o, "(1),(2),(3),4", "a reply's thread, post first");
	f.text = "hearing";
	search_is(&f, &o, "1,2,(3),(4)", "two matches in one thread");
	f.text = "snow OR garage";
	search_is(&f, &o, "(1),(2),(3),4,7,(8)", "two threads, the same"
	    " root id on two accounts kept apart");
	o.limit = 1;
	o.offset = 1;
	search_is(&f, &o, "7,(8)", "the page is of matches");
	is_int(run(&f, &o, out, sizeof(out)), 2, "total counts matches only");
	o.limit = 0;
	o.offset = 0;
	f.text = NULL;
	f.kind = "reply";
	search_is(&f, &o, "(1),(2),(3),4,(7),8", "kind filter marks the"
	    " rest");
	f.kind = NULL;
	f.with_thread = 0;

	/* Counts. */
	query_filter_init(&f);
	is_int(query_count(db, &f, &c, err, sizeof(err)), 0, "count all");
	is_int(c.items, 8, "8 items");
	is_int(c.versions, 9, "9 versions");
	f.text = "hearing";
	query_count(db, &f, &c, err, sizeof(err));
	ok(c.items == 2 && c.versions == 3, "text: 2 items, 3 matching"
	    " versions (%lld, %lld)", (long long)c.items,
	    (long long)c.versions);
	f.text = "budget";
	query_count(db, &f, &c, err, sizeof(err));
	ok(c.items == 1 && c.versions == 2, "both versions of item 1 match");
	f.kind = "comment";
	query_count(db, &f, &c, err, sizeof(err));
	ok(c.items == 0 && c.versions == 0, "text and kind: none");
	f.text = NULL;
	query_count(db, &f, &c, err, sizeof(err));
	ok(c.items == 2 && c.versions == 2, "kind: 2 comments");
	f.kind = NULL;
	f.text = "a (";
	is_int(query_count(db, &f, &c, err, sizeof(err)), -EINVAL,
	    "count refuses bad text: %s", err);

	is_int(sqlite3_exec(db, "SELECT 1 FROM items LIMIT 1", NULL, NULL,
	    NULL), SQLITE_OK, "the items table is still there");
}

/* An index that did not get the search step is searched all the same. */
static void
test_old_schema(void)
{
	struct query_filter f;
	struct query_order o;

	exec_ok("DROP TABLE version_items; DROP INDEX items_by_created;"
	    " DROP INDEX items_by_id; DROP TABLE item_authors");
	query_filter_init(&f);
	memset(&o, 0, sizeof(o));
	f.text = "parking";
	search_is(&f, &o, "2,6,7,8", "without the search indexes: text");
	f.text = NULL;
	f.author = "resident";
	search_is(&f, &o, "2,8", "without item_authors: author");
	f.author = NULL;
	f.text = "garage";
	f.kind = "reply";
	f.with_thread = 1;
	search_is(&f, &o, "(1),(2),(3),4", "without them: threads");
}

static int
rm_cb(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

int
main(void)
{
	struct index ix;
	char path[256], errbuf[512];

	if (sqlite3_open(":memory:", &mem) != SQLITE_OK ||
	    sqlite3_exec(mem, "CREATE VIRTUAL TABLE t USING fts5(text,"
	    " author, tokenize = 'unicode61 remove_diacritics 2');"
	    " INSERT INTO t VALUES ('road a col', 'x')", NULL, NULL,
	    NULL) != SQLITE_OK) {
		printf("Bail out! in-memory FTS5\n");
		return 1;
	}
	test_valid();
	test_tokenless();
	test_hostile();
	test_random();
	test_check();

	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/index.sqlite", dir);
	if (index_open(&ix, path, 0, errbuf, sizeof(errbuf)) < 0) {
		printf("Bail out! %s\n", errbuf);
		return 1;
	}
	db = ix.db;
	build();
	test_search();
	test_old_schema();
	index_close(&ix);
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	sqlite3_close(mem);
	return tap_done();
}
