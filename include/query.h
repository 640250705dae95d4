/*
 * query.h - what a search or records request covers, turned into SQL.
 *
 * The one place where a filter (account, platform, creation dates, words,
 * author, state, kind, removed and hidden items, item numbers, threads)
 * becomes a statement on the index. "sunarchive search" uses it, and so
 * do the commands that must produce or hold exactly what a request
 * covers. The SQL is assembled only from constant fragments of this
 * module; every value the user gave is a bound parameter, and the user's
 * text query is translated by query_parse_text() into FTS5 syntax in
 * which every word is a quoted string, so neither SQL nor FTS5 ever sees
 * user syntax. Nothing here prints; errors are a negative errno with a
 * message in the caller's buffer.
 *
 * Text query syntax (query_parse_text):
 *
 *	word		a word; matched as FTS5 matches it: case and
 *			diacritics folded, punctuation splits it into
 *			consecutive words ("co-op" is the phrase "co op")
 *	word*		words starting with "word" (prefix search)
 *	"a phrase"	these words, in this order; any character may
 *			appear inside the quotes; "a phrase"* ends in a prefix
 *	x y, x AND y	both
 *	x OR y		either
 *	x NOT y		x, unless y is also there (there is no lone NOT)
 *	( ... )		grouping
 *
 * NOT binds tighter than AND, AND tighter than OR (as in FTS5). The
 * operators are upper case; "and", "or", "not" are plain words. Rejected
 * with a message naming the character position: NEAR, unquoted words
 * containing ':' (column filters), '^', '{' or '}', '-' or '+' before a
 * letter or digit ("-word": use NOT), '*' anywhere but at the end of a
 * word, operators without an operand on both sides, unbalanced
 * parentheses or quotes, empty parentheses, invalid UTF-8 and NUL bytes.
 * Quote a word to search for it as it is ("NEAR", "10:30"). Limits:
 * QUERY_TEXT_MAX characters, QUERY_TERMS_MAX words and phrases,
 * QUERY_DEPTH_MAX nested parentheses. Words with nothing the index
 * tokenizes ("&", "--", a dash) are left out, as the index leaves them
 * out of the text.
 */
#ifndef SUNARCHIVE_QUERY_H
#define SUNARCHIVE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define QUERY_TEXT_MAX		1000	/* characters in a text query */
#define QUERY_TERMS_MAX		64	/* words and phrases in one */
#define QUERY_DEPTH_MAX		16	/* nested parentheses */
#define QUERY_IDS_MAX		100000	/* item numbers in one filter */
#define QUERY_ERR_LEN		256	/* enough for any message here */

/* Removed or hidden items: with the others, left out, or alone. */
enum query_incl {
	QUERY_INCLUDE = 0,
	QUERY_EXCLUDE,
	QUERY_ONLY,
};

enum query_sort {
	QUERY_SORT_CREATED = 0,		/* platform creation time */
	QUERY_SORT_CAPTURED,		/* first captured (items.first_seen) */
	QUERY_SORT_RELEVANCE,		/* best bm25 of its versions; text */
};

/*
 * What is covered. NULL pointers and unset flags mean "any". Strings are
 * borrowed for the duration of the call they are passed to.
 */
struct query_filter {
	const char	*account;	/* accounts.name */
	const char	*platform;	/* facebook, mastodon (its account's) */
	int64_t		 from;		/* created >= from, if has_from */
	int64_t		 to;		/* created <= to, if has_to */
	int		 has_from;
	int		 has_to;
	const char	*text;		/* text query, syntax above */
	const char	*author;	/* in author, ASCII case-blind */
	const char	*state;		/* live, edited, hidden, removed,
					   restored */
	const char	*kind;		/* post | comment | reply */
	enum query_incl	 removed;	/* state 'removed'; default include */
	enum query_incl	 hidden;	/* hidden flag set; default include */
	const int64_t	*ids;		/* only these items, if nids > 0 */
	size_t		 nids;
	/*
	 * Also cover the thread of every match: the items of the same
	 * account whose thread root (root_id, or a post's own platform id)
	 * is the match's. They come as context rows (QUERY_COL_CONTEXT).
	 */
	int		 with_thread;
};

/* Order and page of the matches. Context rows do not count in limit. */
struct query_order {
	enum query_sort	 sort;
	int		 desc;		/* newest first; relevance: best */
	int64_t		 limit;		/* matches per page, 0 = all */
	int64_t		 offset;	/* matches skipped */
};

struct query_counts {
	int64_t		 items;		/* items matching (context excluded) */
	int64_t		 versions;	/* their versions that match: with a
					   text query those whose text or
					   author matches, else all */
};

/* Columns of the statement query_prepare() makes. */
#define QUERY_COL_ID		0	/* items.id */
#define QUERY_COL_CONTEXT	1	/* 1: thread context that does not
					   itself match the filter */
#define QUERY_COL_TOTAL		2	/* items matching, on every row */

/* Zero the filter: every item, removed and hidden ones included. */
void	query_filter_init(struct query_filter *f);

/*
 * Translate the user's text query (len bytes at text, syntax above) into
 * an FTS5 expression for versions_fts in *ret_fts (caller frees), e.g.
 * `budget hear* OR "city hall"` -> `("budget" AND "hear"*) OR "city hall"`.
 * db is any open connection whose FTS5 tokenizer is used to leave out
 * words with nothing to search for; with db NULL every word is kept (a
 * syntax check). Returns 0, -EINVAL with the reason and character
 * position in err, or -EIO if the tokenizer failed.
 */
int	query_parse_text(sqlite3 *db, const char *text, size_t len,
	    char **ret_fts, char *err, size_t errlen);

/*
 * Check a filter and order without touching the index: known platform,
 * state and kind, from <= to, text syntax, relevance only with text,
 * limits. 0 or -EINVAL with the reason in err.
 */
int	query_check(const struct query_filter *f, const struct query_order *o,
	    char *err, size_t errlen);

/*
 * Prepare the search on db with every value bound. Each step yields one
 * row: the matches in order, limit and offset applied; with
 * f->with_thread each match's whole thread instead (in the order of its
 * first match on the page; post first, then by creation), each item
 * once. Every row also carries the number of matching items
 * (QUERY_COL_TOTAL), computed in the same pass; a page with no rows
 * says nothing, and query_count() tells "no match" from "past the end".
 * The caller finalizes *ret_st. Returns 0, -EINVAL (bad filter or text,
 * reason in err) or -EIO with SQLite's message.
 *
 * The statement is assembled from constant fragments, one per filter
 * that is set, so SQLite can use an index for each; an index without
 * the search step of the schema migrations is searched all the same,
 * more slowly. A text query's matching versions are mapped to their
 * items once per statement.
 */
int	query_prepare(sqlite3 *db, const struct query_filter *f,
	    const struct query_order *o, sqlite3_stmt **ret_st, char *err,
	    size_t errlen);

/*
 * Count what f matches (threads not included) into *ret. Errors as
 * above. Counting versions without a text query reads every matching
 * item, so a broad filter takes longer than the page does.
 */
int	query_count(sqlite3 *db, const struct query_filter *f,
	    struct query_counts *ret, char *err, size_t errlen);

#endif
