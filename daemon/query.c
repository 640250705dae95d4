/*
 * query.c - filters to SQL for search and records requests (query.h).
 *
 * Two parts. The text translator is a strict little parser: the user's
 * query is validated (UTF-8, no NUL, bounded), cut into tokens, parsed
 * by recursive descent into a tree of at most QUERY_TERMS_MAX terms and
 * QUERY_DEPTH_MAX nested groups, pruned of words the index tokenizer has
 * nothing to index for, and written out again as FTS5 with every word and
 * phrase double-quoted, so FTS5 only ever sees quoted strings, '*',
 * AND, OR, NOT and parentheses that this file wrote.
 *
 * The statement builder appends constant WHERE fragments, one per filter
 * that is set, so that SQLite can use the index for each (a fixed
 * statement with "(?1 IS NULL OR ...)" terms cannot); every value is a
 * named parameter bound afterwards.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "buf.h"
#include "query.h"
#include "util.h"
#include "xalloc.h"

/* The tokenizer of versions_fts in daemon/schema.sql; keep in step. */
#define QUERY_TOKENIZER		"unicode61"
#define QUERY_TOKENIZER_ARGS	{ "remove_diacritics", "2" }

/* ---- text queries --------------------------------------------------- */

enum qtok_type {
	QT_TERM,
	QT_AND,
	QT_OR,
	QT_NOT,
	QT_LPAREN,
	QT_RPAREN,
	QT_END,
};

struct qtok {
	enum qtok_type	 type;
	size_t		 off;		/* a term's text: bytes of the input */
	size_t		 len;
	size_t		 pos;		/* 1-based character position */
	int		 prefix;	/* term followed by '*' */
};

enum qnode_type {
	QN_TERM,
	QN_AND,
	QN_OR,
	QN_NOT,
};

struct qnode {
	enum qnode_type	 type;
	const struct qtok *tok;		/* the term, or the operator */
	struct qnode	*l;
	struct qnode	*r;
	int		 empty;		/* a term with nothing to search for */
};

struct qparse {
	const char	*s;
	size_t		 len;
	struct qtok	*toks;		/* ntoks, the last one QT_END */
	size_t		 ntoks;
	size_t		 cur;
	size_t		 nterms;
	struct qnode	 nodes[2 * QUERY_TERMS_MAX];
	size_t		 nnodes;
	char		*err;
	size_t		 errlen;
};

static int	query_fail(char *, size_t, int, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static int	qerr(struct qparse *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	qparse_or(struct qparse *, int, struct qnode **);

/* Write the message into err and return r. */
static int
query_fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

static int
qerr(struct qparse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes); 0 for an
 * invalid, overlong, surrogate or truncated one.
 */
static size_t
query_utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp, min;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Characters in n bytes of valid UTF-8. */
static size_t
query_nchars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

/* Valid UTF-8, no NUL, at most QUERY_TEXT_MAX characters. */
static int
query_validate(const char *text, size_t len, char *err, size_t errlen)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i, n, chars = 0;

	if (len > 4 * (size_t)QUERY_TEXT_MAX)
		return query_fail(err, errlen, -EINVAL, "the query is too"
		    " long (%zu bytes; at most %d characters)", len,
		    QUERY_TEXT_MAX);
	for (i = 0; i < len; i += n) {
		chars++;
		if (s[i] == '\0')
			return query_fail(err, errlen, -EINVAL, "the query"
			    " contains a NUL byte at character %zu", chars);
		n = query_utf8_len(s + i, len - i);
		if (n == 0)
			return query_fail(err, errlen, -EINVAL, "the query is"
			    " not valid UTF-8 at character %zu", chars);
	}
	if (chars > QUERY_TEXT_MAX)
		return query_fail(err, errlen, -EINVAL, "the query is too"
		    " long (%zu characters; at most %d)", chars,
		    QUERY_TEXT_MAX);
	return 0;
}

static int
query_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\v' || c == '\f';
}

static const char *
qtok_name(enum qtok_type t)
{
	switch (t) {
	case QT_AND:
		return "AND";
	case QT_OR:
		return "OR";
	case QT_NOT:
		return "NOT";
	case QT_LPAREN:
		return "'('";
	case QT_RPAREN:
		return "')'";
	case QT_TERM:
		return "a word";
	case QT_END:
		break;
	}
	return "the end";
}

static int
qterm_add(struct qparse *p, struct qtok *t)
{
	if (++p->nterms > QUERY_TERMS_MAX)
		return qerr(p, "too many words and phrases (at most %d)",
		    QUERY_TERMS_MAX);
	t->type = QT_TERM;
	return 0;
}

/* Classify the unquoted word at [off, off + len), at character pos. */
static int
qlex_word(struct qparse *p, struct qtok *t, size_t off, size_t len,
    size_t pos)
{
	const char *w = p->s + off;
	size_t k;

	if (len == 3 && memcmp(w, "AND", 3) == 0) {
		t->type = QT_AND;
		return 0;
	}
	if (len == 2 && memcmp(w, "OR", 2) == 0) {
		t->type = QT_OR;
		return 0;
	}
	if (len == 3 && memcmp(w, "NOT", 3) == 0) {
		t->type = QT_NOT;
		return 0;
	}
	if ((len == 4 && memcmp(w, "NEAR", 4) == 0) ||
	    (len > 4 && memcmp(w, "NEAR/", 5) == 0))
		return qerr(p, "NEAR at character %zu is not supported (to"
		    " search for the word, quote it: \"NEAR\")", pos);
	/* "-word" looks like web search syntax; "--" is punctuation. */
	if ((w[0] == '-' || w[0] == '+') && len > 1 &&
	    (isalnum((unsigned char)w[1]) || (unsigned char)w[1] >= 0x80))
		return qerr(p, "'%c' at character %zu: there is no +/- syntax"
		    " (use NOT to leave words out, or quote the word to search"
		    " for it as it is)", w[0], pos);
	for (k = 0; k < len; k++) {
		switch (w[k]) {
		case '*':
			if (k == 0 && len == 1)
				return qerr(p, "'*' at character %zu must"
				    " follow a word (prefix search: word*)",
				    pos);
			if (k + 1 < len)
				return qerr(p, "'*' at character %zu: '*'"
				    " may only end a word (prefix search:"
				    " word*)", pos + query_nchars(w, k));
			break;
		case ':':
			return qerr(p, "':' at character %zu: column filters"
			    " are not supported (quote the word to search for"
			    " it as it is)", pos + query_nchars(w, k));
		case '^':
		case '{':
		case '}':
			return qerr(p, "'%c' at character %zu is not supported"
			    " (quote the word to search for it as it is)",
			    w[k], pos + query_nchars(w, k));
		default:
			break;
		}
	}
	t->off = off;
	t->len = len;
	if (w[len - 1] == '*') {
		t->prefix = 1;
		t->len--;
	}
	return qterm_add(p, t);
}

/* Cut p->s into p->toks, ending in QT_END. */
static int
qlex(struct qparse *p)
{
	const char *s = p->s, *q;
	struct qtok *t;
	size_t i = 0, pos = 1, j;
	int r;

	p->toks = xcalloc(p->len + 1, sizeof(*p->toks));
	while (i < p->len) {
		if (query_is_space((unsigned char)s[i])) {
			i++;
			pos++;
			continue;
		}
		t = &p->toks[p->ntoks++];
		t->pos = pos;
		if (s[i] == '(' || s[i] == ')') {
			t->type = s[i] == '(' ? QT_LPAREN : QT_RPAREN;
			i++;
			pos++;
			continue;
		}
		if (s[i] == '"') {
			q = memchr(s + i + 1, '"', p->len - i - 1);
			if (q == NULL)
				return qerr(p, "the quote at character %zu is"
				    " not closed", pos);
			t->off = i + 1;
			t->len = (size_t)(q - s) - t->off;
			pos += 2 + query_nchars(s + t->off, t->len);
			i = (size_t)(q - s) + 1;
			if (i < p->len && s[i] == '*') {
				t->prefix = 1;
				i++;
				pos++;
			}
			r = qterm_add(p, t);
			if (r < 0)
				return r;
			continue;
		}
		for (j = i; j < p->len; j++)
			if (query_is_space((unsigned char)s[j]) ||
			    s[j] == '(' || s[j] == ')' || s[j] == '"')
				break;
		r = qlex_word(p, t, i, j - i, pos);
		if (r < 0)
			return r;
		pos += query_nchars(s + i, j - i);
		i = j;
	}
	p->toks[p->ntoks].type = QT_END;
	p->toks[p->ntoks].pos = pos;
	p->ntoks++;
	return 0;
}

static struct qnode *
qnode_new(struct qparse *p, enum qnode_type type, const struct qtok *tok,
    struct qnode *l, struct qnode *r)
{
	struct qnode *n;

	/* Terms are at most QUERY_TERMS_MAX, operators one fewer. */
	if (p->nnodes >= ARRAY_SIZE(p->nodes))
		return NULL;
	n = &p->nodes[p->nnodes++];
	n->type = type;
	n->tok = tok;
	n->l = l;
	n->r = r;
	return n;
}

static const struct qtok *
qpeek(const struct qparse *p)
{
	return &p->toks[p->cur];
}

/* After operator op there must be a word, phrase or group. */
static int
qoperand(struct qparse *p, const struct qtok *op)
{
	const struct qtok *t = qpeek(p);

	if (t->type == QT_TERM || t->type == QT_LPAREN)
		return 0;
	return qerr(p, "%s at character %zu needs a word, phrase or '(' after"
	    " it, not %s", qtok_name(op->type), op->pos, qtok_name(t->type));
}

static int
qparse_primary(struct qparse *p, int depth, struct qnode **ret)
{
	const struct qtok *t = qpeek(p);
	struct qnode *inner;
	int r;

	switch (t->type) {
	case QT_TERM:
		p->cur++;
		*ret = qnode_new(p, QN_TERM, t, NULL, NULL);
		return *ret != NULL ? 0 : qerr(p, "the query is too complex");
	case QT_LPAREN:
		if (depth >= QUERY_DEPTH_MAX)
			return qerr(p, "parentheses nested more than %d deep"
			    " at character %zu", QUERY_DEPTH_MAX, t->pos);
		p->cur++;
		if (qpeek(p)->type == QT_RPAREN)
			return qerr(p, "empty parentheses at character %zu",
			    t->pos);
		if (qpeek(p)->type == QT_END)
			return qerr(p, "the '(' at character %zu is not"
			    " closed", t->pos);
		r = qparse_or(p, depth + 1, &inner);
		if (r < 0)
			return r;
		if (qpeek(p)->type != QT_RPAREN)
			return qerr(p, "the '(' at character %zu is not"
			    " closed", t->pos);
		p->cur++;
		*ret = inner;
		return 0;
	case QT_RPAREN:
		return qerr(p, "the ')' at character %zu has no '(' before"
		    " it", t->pos);
	case QT_END:
		return qerr(p, "the query is empty");
	case QT_AND:
	case QT_OR:
	case QT_NOT:
		break;
	}
	return qerr(p, "%s at character %zu needs a word, phrase or ')'"
	    " before it", qtok_name(t->type), t->pos);
}

/* primary (NOT primary)* */
static int
qparse_not(struct qparse *p, int depth, struct qnode **ret)
{
	const struct qtok *op;
	struct qnode *l, *r;
	int e;

	e = qparse_primary(p, depth, &l);
	while (e == 0 && qpeek(p)->type == QT_NOT) {
		op = qpeek(p);
		p->cur++;
		e = qoperand(p, op);
		if (e == 0)
			e = qparse_primary(p, depth, &r);
		if (e == 0) {
			l = qnode_new(p, QN_NOT, op, l, r);
			if (l == NULL)
				e = qerr(p, "the query is too complex");
		}
	}
	if (e == 0)
		*ret = l;
	return e;
}

/* not ([AND] not)* */
static int
qparse_and(struct qparse *p, int depth, struct qnode **ret)
{
	const struct qtok *op;
	struct qnode *l, *r;
	int e;

	e = qparse_not(p, depth, &l);
	while (e == 0) {
		op = qpeek(p);
		if (op->type == QT_AND) {
			p->cur++;
			e = qoperand(p, op);
			if (e < 0)
				break;
		} else if (op->type != QT_TERM && op->type != QT_LPAREN) {
			break;
		}
		e = qparse_not(p, depth, &r);
		if (e == 0) {
			l = qnode_new(p, QN_AND, op, l, r);
			if (l == NULL)
				e = qerr(p, "the query is too complex");
		}
	}
	if (e == 0)
		*ret = l;
	return e;
}

/* and (OR and)* */
static int
qparse_or(struct qparse *p, int depth, struct qnode **ret)
{
	const struct qtok *op;
	struct qnode *l, *r;
	int e;

	e = qparse_and(p, depth, &l);
	while (e == 0 && qpeek(p)->type == QT_OR) {
		op = qpeek(p);
		p->cur++;
		e = qoperand(p, op);
		if (e == 0)
			e = qparse_and(p, depth, &r);
		if (e == 0) {
			l = qnode_new(p, QN_OR, op, l, r);
			if (l == NULL)
				e = qerr(p, "the query is too complex");
		}
	}
	if (e == 0)
		*ret = l;
	return e;
}

/* The index's own tokenizer, to tell which terms it has tokens for. */
struct qtokenizer {
	fts5_tokenizer	 api;
	Fts5Tokenizer	*tok;
};

static int
qtokenizer_open(sqlite3 *db, struct qtokenizer *t, char *err, size_t errlen)
{
	const char *args[] = QUERY_TOKENIZER_ARGS;
	sqlite3_stmt *st;
	fts5_api *api = NULL;
	void *ud = NULL;

	memset(t, 0, sizeof(*t));
	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) !=
	    SQLITE_OK)
		return query_fail(err, errlen, -EIO, "cannot reach FTS5: %s",
		    sqlite3_errmsg(db));
	sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	sqlite3_finalize(st);
	if (api == NULL || api->iVersion < 2)
		return query_fail(err, errlen, -EIO, "this SQLite has no"
		    " FTS5");
	if (api->xFindTokenizer(api, QUERY_TOKENIZER, &ud, &t->api) !=
	    SQLITE_OK || t->api.xCreate(ud, args, (int)ARRAY_SIZE(args),
	    &t->tok) != SQLITE_OK)
		return query_fail(err, errlen, -EIO, "cannot create the FTS5"
		    " tokenizer '" QUERY_TOKENIZER "'");
	return 0;
}

static void
qtokenizer_close(struct qtokenizer *t)
{
	if (t->tok != NULL)
		t->api.xDelete(t->tok);
	t->tok = NULL;
}

static int
qtoken_count(void *ctx, int tflags, const char *token, int ntoken,
    int start, int end)
{
	(void)tflags;
	(void)token;
	(void)ntoken;
	(void)start;
	(void)end;
	(*(int *)ctx)++;
	return SQLITE_OK;
}

/* Mark the terms the tokenizer finds no token in. */
static int
qmark_empty(struct qparse *p, struct qtokenizer *t, char *err,
    size_t errlen)
{
	struct qnode *n;
	size_t i;
	int count, flags;

	for (i = 0; i < p->nnodes; i++) {
		n = &p->nodes[i];
		if (n->type != QN_TERM)
			continue;
		count = 0;
		flags = FTS5_TOKENIZE_QUERY;
		if (n->tok->prefix)
			flags |= FTS5_TOKENIZE_PREFIX;
		if (t->api.xTokenize(t->tok, &count, flags, p->s + n->tok->off,
		    (int)n->tok->len, qtoken_count) != SQLITE_OK)
			return query_fail(err, errlen, -EIO, "cannot tokenize"
			    " the query");
		n->empty = count == 0;
	}
	return 0;
}

/*
 * Drop empty terms: an operand of AND or OR that is empty leaves the
 * other; x NOT (empty) is x; (empty) NOT y cannot be written in FTS5.
 * *ret is NULL when nothing is left.
 */
static int
qprune(struct qparse *p, struct qnode *n, struct qnode **ret)
{
	struct qnode *l, *r;
	int e;

	if (n->type == QN_TERM) {
		*ret = n->empty ? NULL : n;
		return 0;
	}
	e = qprune(p, n->l, &l);
	if (e == 0)
		e = qprune(p, n->r, &r);
	if (e < 0)
		return e;
	if (n->type == QN_NOT && l == NULL && r != NULL)
		return qerr(p, "NOT at character %zu has nothing to search"
		    " for before it", n->tok->pos);
	n->l = l;
	n->r = r;
	*ret = l == NULL ? r : r == NULL ? l : n;
	return 0;
}

/*
 * Write n as FTS5. A child gets parentheses unless it is a term or
 * continues a chain of the same AND or OR.
 */
static void
qemit(const struct qparse *p, struct buf *b, const struct qnode *n,
    int nested, enum qnode_type parent)
{
	static const char *const ops[] = {
		[QN_AND] = " AND ", [QN_OR] = " OR ", [QN_NOT] = " NOT ",
	};
	const char *s;
	size_t i;
	int paren;

	if (n->type == QN_TERM) {
		s = p->s + n->tok->off;
		buf_append(b, "\"", 1);
		for (i = 0; i < n->tok->len; i++) {
			if (s[i] == '"')
				buf_append(b, "\"", 1);
			buf_append(b, s + i, 1);
		}
		buf_puts(b, n->tok->prefix ? "\"*" : "\"");
		return;
	}
	paren = nested && !(n->type == parent && n->type != QN_NOT);
	if (paren)
		buf_append(b, "(", 1);
	qemit(p, b, n->l, 1, n->type);
	buf_puts(b, ops[n->type]);
	qemit(p, b, n->r, 1, n->type);
	if (paren)
		buf_append(b, ")", 1);
}

int
query_parse_text(sqlite3 *db, const char *text, size_t len, char **ret_fts,
    char *err, size_t errlen)
{
	struct qparse p;
	struct qtokenizer tk;
	struct qnode *root = NULL;
	struct buf b;
	int r;

	r = query_validate(text, len, err, errlen);
	if (r < 0)
		return r;
	memset(&p, 0, sizeof(p));
	p.s = text;
	p.len = len;
	p.err = err;
	p.errlen = errlen;
	r = qlex(&p);
	if (r == 0)
		r = qparse_or(&p, 0, &root);
	if (r == 0 && qpeek(&p)->type != QT_END)
		r = qerr(&p, "the ')' at character %zu has no '(' before it",
		    qpeek(&p)->pos);
	if (r == 0 && db != NULL) {
		r = qtokenizer_open(db, &tk, err, errlen);
		if (r == 0)
			r = qmark_empty(&p, &tk, err, errlen);
		qtokenizer_close(&tk);
	}
	if (r == 0)
		r = qprune(&p, root, &root);
	if (r == 0 && root == NULL)
		r = qerr(&p, "no words to search for (a word needs a letter"
		    " or a digit)");
	if (r < 0)
		goto out;
	buf_init(&b, 0);
	qemit(&p, &b, root, 0, QN_TERM);
	*ret_fts = buf_steal(&b, NULL);
out:
	free(p.toks);
	return r;
}

/* ---- filters to SQL ------------------------------------------------- */

static const char *const query_platforms[] = { "facebook", "mastodon" };
static const char *const query_states[] = { "live", "edited", "hidden",
    "removed", "restored" };
static const char *const query_kinds[] = { "post", "comment", "reply" };

/*
 * Objects of the search step of the schema (index.c) that the SQL uses
 * when the index has them; an index not yet migrated is searched all the
 * same, only more slowly.
 */
#define QF_VMAP		0x1	/* version_items: FTS rowid -> item */
#define QF_AUTHORS	0x2	/* item_authors: every distinct author */
#define QF_ORDER	0x4	/* items_by_created, items_by_captured */
#define QF_BYID		0x8	/* items_by_id: filter columns by id */

static const char q_features[] = "SELECT name FROM sqlite_master"
    " WHERE name IN ('version_items', 'item_authors',"
    " 'items_by_created', 'items_by_captured', 'items_by_id')";

/*
 * The text query, mapped once per statement from matching versions to
 * their items: m(id, nver, score), score only when sorting by relevance
 * (FTS5's rank column, bm25 by default: lower is better; bm25() itself
 * cannot be used under an aggregate).
 */
static const char q_m_head[] = "m(id, nver, score) AS MATERIALIZED"
    " (SELECT v.item_id, COUNT(*), ";
static const char q_m_score[] = "MIN(f.rank)";
static const char q_m_noscore[] = "NULL";
static const char q_m_from[] = " FROM versions_fts f CROSS JOIN ";
static const char q_m_vmap[] = "version_items v";
static const char q_m_novmap[] = "versions v";
static const char q_m_tail[] = " ON v.id = f.rowid"
    " WHERE f.versions_fts MATCH :fts GROUP BY v.item_id)";

/* One constant WHERE fragment per filter, on "items i". */
static const char q_account[] = " AND i.account_id ="
    " (SELECT id FROM accounts WHERE name = :account)";
/* An item's platform is its account's: this way the account index serves. */
static const char q_platform[] = " AND i.account_id IN"
    " (SELECT id FROM accounts WHERE platform = :platform)";
static const char q_from[] = " AND i.created >= :from";
static const char q_to[] = " AND i.created <= :to";
/*
 * The items of m: each looked up by id (through items_by_id when there,
 * which holds the columns filtered and sorted on, so the rows are not
 * read), or an index walked in order probing m.
 */
static const char q_m_items[] = " FROM m CROSS JOIN items i";
static const char q_m_byid[] = " INDEXED BY items_by_id";
static const char q_m_items_on[] = " ON i.id = m.id WHERE 1";
static const char q_text_drive[] = " AND i.id IN (SELECT id FROM m)";
static const char q_text_walk[] = " AND +i.id IN (SELECT id FROM m)";
static const char q_author_scan[] = " AND instr(lower(i.author),"
    " lower(:author)) > 0";
static const char q_author_list[] = " AND i.author IN (SELECT name FROM"
    " item_authors WHERE instr(lower(name), lower(:author)) > 0)";
static const char q_state[] = " AND i.state = :state";
static const char q_kind[] = " AND i.kind = :kind";
static const char q_removed_only[] = " AND i.state = 'removed'";
static const char q_removed_excl[] = " AND i.state <> 'removed'";
static const char q_hidden_only[] = " AND i.hidden <> 0";
static const char q_hidden_excl[] = " AND i.hidden = 0";
static const char q_ids[] = " AND i.id IN (SELECT value FROM"
    " json_each(:ids))";

/* The sort key of each match, as column k. */
static const char *const q_keys[] = {
	[QUERY_SORT_CREATED] = "i.created",
	[QUERY_SORT_CAPTURED] = "i.first_seen",
	[QUERY_SORT_RELEVANCE] = "m.score",
};
static const char *const q_order[] = { " ORDER BY k, id",
    " ORDER BY k DESC, id DESC" };
static const char *const q_window[] = { "k, id", "k DESC, id DESC" };
static const char q_page[] = " LIMIT :limit OFFSET :offset";

/*
 * With threads: the page of matches pg, numbered in order (p), the
 * thread roots of the page (t), every item of those threads (tm), then
 * each item once, in the order of its thread's first match, the post
 * first. Context = the item is not among the members of tm that match
 * the filter themselves (tmatch).
 */
static const char q_thread_head[] = "pg AS MATERIALIZED (";
static const char q_thread_window[] = "), p(id, pos) AS (SELECT id,"
    " row_number() OVER (ORDER BY ";
static const char q_thread_members[] = ") FROM pg),"
    " t(acct, root, pos) AS (SELECT i.account_id,"
    " COALESCE(i.root_id, i.platform_id), MIN(p.pos)"
    " FROM p JOIN items i ON i.id = p.id GROUP BY 1, 2),"
    " tm(id, pos) AS (SELECT c.id, t.pos FROM t JOIN items c"
    " ON c.account_id = t.acct AND c.platform_id = t.root"
    " UNION ALL SELECT c.id, t.pos FROM t JOIN items c"
    " ON c.root_id = t.root AND c.account_id = t.acct),"
    " tmatch(id) AS MATERIALIZED (SELECT tm.id FROM tm CROSS JOIN items i"
    " ON i.id = tm.id WHERE 1";
static const char q_thread_end[] = ") SELECT c.id,"
    " c.id NOT IN (SELECT id FROM tmatch), (SELECT total FROM pg LIMIT 1),"
    " MIN(tm.pos) AS tpos FROM tm JOIN items c ON c.id = tm.id"
    " GROUP BY c.id ORDER BY tpos, c.kind <> 'post', c.created, c.id";

static int
query_oneof(const char *s, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return 1;
	return 0;
}

static int
query_check_filter(const struct query_filter *f, char *err, size_t errlen)
{
	char *fts;
	int r;

	if (f->platform != NULL && !query_oneof(f->platform,
	    query_platforms, ARRAY_SIZE(query_platforms)))
		return query_fail(err, errlen, -EINVAL, "unknown platform"
		    " (facebook or mastodon)");
	if (f->state != NULL && !query_oneof(f->state, query_states,
	    ARRAY_SIZE(query_states)))
		return query_fail(err, errlen, -EINVAL, "unknown state (live,"
		    " edited, hidden, removed or restored)");
	if (f->kind != NULL && !query_oneof(f->kind, query_kinds,
	    ARRAY_SIZE(query_kinds)))
		return query_fail(err, errlen, -EINVAL, "unknown kind (post,"
		    " comment or reply)");
	if (f->has_from && f->has_to && f->from > f->to)
		return query_fail(err, errlen, -EINVAL, "the start date is"
		    " after the end date");
	if ((unsigned)f->removed > QUERY_ONLY ||
	    (unsigned)f->hidden > QUERY_ONLY)
		return query_fail(err, errlen, -EINVAL, "invalid removed or"
		    " hidden choice");
	if (f->nids > QUERY_IDS_MAX || (f->nids > 0 && f->ids == NULL))
		return query_fail(err, errlen, -EINVAL, "too many item"
		    " numbers (at most %d)", QUERY_IDS_MAX);
	if (f->text != NULL) {
		r = query_parse_text(NULL, f->text, strlen(f->text), &fts,
		    err, errlen);
		if (r < 0)
			return r;
		free(fts);
	}
	return 0;
}

int
query_check(const struct query_filter *f, const struct query_order *o,
    char *err, size_t errlen)
{
	int r;

	r = query_check_filter(f, err, errlen);
	if (r < 0)
		return r;
	if ((unsigned)o->sort > QUERY_SORT_RELEVANCE)
		return query_fail(err, errlen, -EINVAL, "invalid sort");
	if (o->sort == QUERY_SORT_RELEVANCE && f->text == NULL)
		return query_fail(err, errlen, -EINVAL, "sorting by relevance"
		    " needs a text query");
	if (o->limit < 0 || o->offset < 0)
		return query_fail(err, errlen, -EINVAL, "negative limit or"
		    " offset");
	return 0;
}

void
query_filter_init(struct query_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->removed = QUERY_INCLUDE;
	f->hidden = QUERY_INCLUDE;
}

/* Does f filter on the items' own columns (anything but the text)? */
static int
query_item_filters(const struct query_filter *f)
{
	return f->account != NULL || f->platform != NULL || f->has_from ||
	    f->has_to || f->author != NULL || f->state != NULL ||
	    f->kind != NULL || f->removed != QUERY_INCLUDE ||
	    f->hidden != QUERY_INCLUDE || f->nids > 0;
}

/* Which QF_* objects the index has. */
static int
query_features(sqlite3 *db, int *ret)
{
	sqlite3_stmt *st;
	const char *name;
	int feat = 0, rc, order = 0;

	if (sqlite3_prepare_v2(db, q_features, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(st, 0);
		if (name == NULL)
			continue;
		if (strcmp(name, "version_items") == 0)
			feat |= QF_VMAP;
		else if (strcmp(name, "item_authors") == 0)
			feat |= QF_AUTHORS;
		else if (strcmp(name, "items_by_id") == 0)
			feat |= QF_BYID;
		else
			order++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	if (order == 2)
		feat |= QF_ORDER;
	*ret = feat;
	return 0;
}

/* "m(...) AS MATERIALIZED (...)", the text query's items. */
static void
query_cte_text(struct buf *b, int feat, int scored)
{
	buf_puts(b, q_m_head);
	buf_puts(b, scored ? q_m_score : q_m_noscore);
	buf_puts(b, q_m_from);
	buf_puts(b, feat & QF_VMAP ? q_m_vmap : q_m_novmap);
	buf_puts(b, q_m_tail);
}

/* FROM m and its items, then WHERE 1. */
static void
query_m_items(struct buf *b, int feat)
{
	buf_puts(b, q_m_items);
	if (feat & QF_BYID)
		buf_puts(b, q_m_byid);
	buf_puts(b, q_m_items_on);
}

/*
 * Append the WHERE fragment of every filter that is set; the text one
 * (text: 0 none, else q_text_drive or q_text_walk) needs m.
 */
static void
query_where(struct buf *b, const struct query_filter *f, int feat,
    const char *text)
{
	if (f->account != NULL)
		buf_puts(b, q_account);
	if (f->platform != NULL)
		buf_puts(b, q_platform);
	if (f->has_from)
		buf_puts(b, q_from);
	if (f->has_to)
		buf_puts(b, q_to);
	if (f->text != NULL && text != NULL)
		buf_puts(b, text);
	if (f->author != NULL)
		buf_puts(b, feat & QF_AUTHORS ? q_author_list : q_author_scan);
	if (f->state != NULL)
		buf_puts(b, q_state);
	if (f->kind != NULL)
		buf_puts(b, q_kind);
	if (f->removed == QUERY_ONLY)
		buf_puts(b, q_removed_only);
	else if (f->removed == QUERY_EXCLUDE)
		buf_puts(b, q_removed_excl);
	if (f->hidden == QUERY_ONLY)
		buf_puts(b, q_hidden_only);
	else if (f->hidden == QUERY_EXCLUDE)
		buf_puts(b, q_hidden_excl);
	if (f->nids > 0)
		buf_puts(b, q_ids);
}

/*
 * The page of matches as (id, context, total, k): total is every match
 * (a constant subquery, run once), k the sort key. With text, the page
 * comes from walking the sort index (walk), from m alone (relevance
 * without item filters), or from m's items.
 */
static void
query_page_select(struct buf *b, const struct query_filter *f,
    const struct query_order *o, int feat, int walk)
{
	int text = f->text != NULL, filters = query_item_filters(f);
	int rel = o->sort == QUERY_SORT_RELEVANCE;

	buf_puts(b, "SELECT ");
	buf_puts(b, text && !filters && rel ? "m.id" : "i.id");
	buf_puts(b, " AS id, 0 AS context, ");
	if (text && !filters) {
		buf_puts(b, "(SELECT COUNT(*) FROM m)");
	} else if (text) {
		/* From the matches: SQLite would rather scan a filter. */
		buf_puts(b, "(SELECT COUNT(*)");
		query_m_items(b, feat);
		query_where(b, f, feat, NULL);
		buf_puts(b, ")");
	} else if (filters) {
		buf_puts(b, "(SELECT COUNT(*) FROM items i WHERE 1");
		query_where(b, f, feat, NULL);
		buf_puts(b, ")");
	} else {
		buf_puts(b, "(SELECT COUNT(*) FROM items)");
	}
	buf_puts(b, " AS total, ");
	buf_puts(b, q_keys[o->sort]);
	buf_puts(b, " AS k");
	if (!text) {
		buf_puts(b, " FROM items i WHERE 1");
		query_where(b, f, feat, NULL);
	} else if (walk && !rel) {
		buf_puts(b, " FROM items i WHERE 1");
		query_where(b, f, feat, q_text_walk);
	} else if (rel && !filters) {
		buf_puts(b, " FROM m");
	} else {
		query_m_items(b, feat);
		query_where(b, f, feat, NULL);
	}
	buf_puts(b, q_order[rel ? !o->desc : o->desc]);
	buf_puts(b, q_page);
}

static void
query_bind_text(sqlite3_stmt *st, const char *name, const char *s)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i > 0 && s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static void
query_bind_int(sqlite3_stmt *st, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i > 0)
		sqlite3_bind_int64(st, i, v);
}

/* Prepare sql and bind what f, fts and o (if given) set. */
static int
query_stmt(sqlite3 *db, const char *sql, const struct query_filter *f,
    const char *fts, const struct query_order *o, sqlite3_stmt **ret_st,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	struct buf ids;
	size_t i;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return query_fail(err, errlen, -EIO, "cannot prepare the"
		    " search: %s", sqlite3_errmsg(db));
	query_bind_text(st, ":account", f->account);
	query_bind_text(st, ":platform", f->platform);
	query_bind_int(st, ":from", f->from);
	query_bind_int(st, ":to", f->to);
	query_bind_text(st, ":fts", fts);
	query_bind_text(st, ":author", f->author);
	query_bind_text(st, ":state", f->state);
	query_bind_text(st, ":kind", f->kind);
	if (f->nids > 0) {
		buf_init(&ids, 0);
		buf_puts(&ids, "[");
		for (i = 0; i < f->nids; i++)
			buf_printf(&ids, "%s%lld", i > 0 ? "," : "",
			    (long long)f->ids[i]);
		buf_puts(&ids, "]");
		query_bind_text(st, ":ids", ids.data);
		buf_release(&ids);
	}
	if (o != NULL) {
		query_bind_int(st, ":limit", o->limit > 0 ? o->limit : -1);
		query_bind_int(st, ":offset", o->offset);
	}
	*ret_st = st;
	return 0;
}

/* The one integer sql returns with :fts and :cap bound, or -EIO. */
static int
query_int(sqlite3 *db, const char *sql, const char *fts, int64_t cap,
    int64_t *ret)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	query_bind_text(st, ":fts", fts);
	query_bind_int(st, ":cap", cap);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

/*
 * Walk the sort index and probe the text matches, rather than look every
 * match up and sort them, when the matches are dense enough that the
 * page is found after a short walk: matches^2 >= (offset + limit) *
 * items, matches estimated by the matching versions (FTS5 counts those
 * without reading a row; it stops at the threshold).
 */
static int
query_walk(sqlite3 *db, const struct query_order *o, int feat,
    const char *fts, int *ret)
{
	int64_t nmatch = 0, nitems = 0, cap;

	*ret = 0;
	if (!(feat & QF_ORDER) || o->sort == QUERY_SORT_RELEVANCE ||
	    o->limit == 0)
		return 0;
	if (query_int(db, "SELECT COALESCE(MAX(id), 0) FROM items", NULL, 0,
	    &nitems) < 0)
		return -EIO;
	cap = (int64_t)sqrt(((double)o->offset + (double)o->limit) *
	    (double)nitems) + 1;
	if (query_int(db, "SELECT COUNT(*) FROM (SELECT 1 FROM versions_fts"
	    " WHERE versions_fts MATCH :fts LIMIT :cap)", fts, cap,
	    &nmatch) < 0)
		return -EIO;
	*ret = nmatch >= cap;
	return 0;
}

int
query_prepare(sqlite3 *db, const struct query_filter *f,
    const struct query_order *o, sqlite3_stmt **ret_st, char *err,
    size_t errlen)
{
	struct buf sql;
	char *fts = NULL;
	int r, feat, walk = 0;

	r = query_check(f, o, err, errlen);
	if (r < 0)
		return r;
	if (query_features(db, &feat) < 0)
		return query_fail(err, errlen, -EIO, "cannot read the index"
		    " schema: %s", sqlite3_errmsg(db));
	if (f->text != NULL) {
		r = query_parse_text(db, f->text, strlen(f->text), &fts, err,
		    errlen);
		if (r < 0)
			return r;
		if (query_walk(db, o, feat, fts, &walk) < 0) {
			free(fts);
			return query_fail(err, errlen, -EIO, "cannot search"
			    " the text index: %s", sqlite3_errmsg(db));
		}
	}
	buf_init(&sql, 0);
	if (f->text != NULL) {
		buf_puts(&sql, "WITH ");
		query_cte_text(&sql, feat, o->sort == QUERY_SORT_RELEVANCE);
	}
	if (!f->with_thread) {
		if (f->text != NULL)
			buf_puts(&sql, " ");
		query_page_select(&sql, f, o, feat, walk);
	} else {
		buf_puts(&sql, f->text != NULL ? ", " : "WITH ");
		buf_puts(&sql, q_thread_head);
		query_page_select(&sql, f, o, feat, walk);
		buf_puts(&sql, q_thread_window);
		buf_puts(&sql, q_window[o->sort == QUERY_SORT_RELEVANCE ?
		    !o->desc : o->desc]);
		buf_puts(&sql, q_thread_members);
		query_where(&sql, f, feat, q_text_drive);
		buf_puts(&sql, q_thread_end);
	}
	r = query_stmt(db, sql.data, f, fts, o, ret_st, err, errlen);
	buf_release(&sql);
	free(fts);
	return r;
}

int
query_count(sqlite3 *db, const struct query_filter *f,
    struct query_counts *ret, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	struct buf sql;
	char *fts = NULL;
	int r, rc, feat;

	r = query_check_filter(f, err, errlen);
	if (r < 0)
		return r;
	if (query_features(db, &feat) < 0)
		return query_fail(err, errlen, -EIO, "cannot read the index"
		    " schema: %s", sqlite3_errmsg(db));
	buf_init(&sql, 0);
	if (f->text != NULL) {
		r = query_parse_text(db, f->text, strlen(f->text), &fts, err,
		    errlen);
		if (r < 0) {
			buf_release(&sql);
			return r;
		}
		buf_puts(&sql, "WITH ");
		query_cte_text(&sql, feat, 0);
		buf_puts(&sql, " SELECT COUNT(*), COALESCE(SUM(m.nver), 0)");
		if (query_item_filters(f)) {
			query_m_items(&sql, feat);
			query_where(&sql, f, feat, NULL);
		} else {
			buf_puts(&sql, " FROM m");
		}
	} else if (!query_item_filters(f)) {
		buf_puts(&sql, "SELECT (SELECT COUNT(*) FROM items),"
		    " (SELECT COUNT(*) FROM versions)");
	} else {
		buf_puts(&sql, "SELECT COUNT(*), COALESCE(SUM(i.nversions), 0)"
		    " FROM items i WHERE 1");
		query_where(&sql, f, feat, NULL);
	}
	r = query_stmt(db, sql.data, f, fts, NULL, &st, err, errlen);
	buf_release(&sql);
	free(fts);
	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret->items = sqlite3_column_int64(st, 0);
		ret->versions = sqlite3_column_int64(st, 1);
		r = 0;
	} else {
		r = query_fail(err, errlen, -EIO, "cannot count the matches:"
		    " %s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return r;
}
