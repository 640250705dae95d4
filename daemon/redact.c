/*
 * redact.c - exemption redaction for the produced copy of a records
 * response. Two detectors (SSN, payment card) and the clerk's manual
 * rules each add hits to one list; the list is sorted and the output is
 * the input with each (merged) hit span replaced by its marker. Pure:
 * no I/O, no logging. The rules are described in redact.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "redact.h"
#include "xalloc.h"

/*
 * What each category is called, how it is marked, and which statute
 * exempts it. THIS TABLE IS THE ONE PLACE to correct a citation: counsel
 * (the city attorney and records officer) decides; see
 * shared/reference/records-law.md section 4. With no state given, both
 * citations are logged, joined by "; ". Manual redactions carry the
 * clerk's own citation, so that row has none.
 */
static const struct redact_kind {
	enum redact_category	 category;
	const char		*name;
	const char		*marker;
	const char		*cite_fl;
	const char		*cite_mo;
} redact_kinds[] = {
	{ REDACT_SSN, "SSN", "[REDACTED: SSN]",
	  "Fla. Stat. §119.071(5)(a)",
	  "Mo. Rev. Stat. §610.035" },
	/*
	 * Card numbers: records-law.md marks both as unverified. FL: the
	 * paragraph of §119.071 (verify paragraph). MO: which item of the
	 * §610.021 closed-record list applies (verify item).
	 */
	{ REDACT_CARD, "card number", "[REDACTED: card number]",
	  "Fla. Stat. §119.071(5)(b)",
	  "Mo. Rev. Stat. §610.021" },
	{ REDACT_MANUAL, "manual", "[REDACTED]", NULL, NULL },
};

enum state {
	STATE_FL = 1,
	STATE_MO = 2,
	STATE_BOTH = STATE_FL | STATE_MO,
};

/* Words that make 9 contiguous digits an SSN (lower case). */
static const char *const ssn_cues[] = {
	"ssn", "ss#", "ss #", "s.s.n", "social security", "soc sec",
	"soc. sec",
};

#define CARD_MIN_DIGITS	13
#define CARD_MAX_DIGITS	19
#define CARD_GROUP_MIN	3
#define CARD_GROUP_MAX	6
#define LEN(n)		(1u << (n))
#define LEN_16_19	(LEN(16) | LEN(17) | LEN(18) | LEN(19))

/*
 * Issuer prefixes (IIN ranges) and the lengths they issue. A number must
 * fit one row as well as pass Luhn, which keeps order ids and the like
 * out. Wikipedia's "Payment card number" table, trimmed to networks a
 * US resident is likely to post.
 */
static const struct card_iin {
	unsigned	lo, hi;		/* prefix range, inclusive */
	unsigned	ndigits;	/* digits in lo and hi */
	unsigned	lengths;	/* LEN(n): n-digit numbers issued */
} card_iins[] = {
	{ 4, 4, 1, LEN(13) | LEN(16) | LEN(19) },	/* Visa */
	{ 51, 55, 2, LEN(16) },				/* Mastercard */
	{ 2221, 2720, 4, LEN(16) },			/* Mastercard */
	{ 34, 34, 2, LEN(15) },				/* Amex */
	{ 37, 37, 2, LEN(15) },				/* Amex */
	{ 6011, 6011, 4, LEN_16_19 },			/* Discover */
	{ 644, 649, 3, LEN_16_19 },			/* Discover */
	{ 65, 65, 2, LEN_16_19 },			/* Discover */
	{ 62, 62, 2, LEN_16_19 },			/* UnionPay */
	{ 3528, 3589, 4, LEN_16_19 },			/* JCB */
	{ 300, 305, 3, LEN(14) | LEN_16_19 },		/* Diners */
	{ 36, 36, 2, LEN(14) | LEN_16_19 },		/* Diners */
	{ 38, 39, 2, LEN_16_19 },			/* Diners */
	{ 2200, 2204, 4, LEN_16_19 },			/* Mir */
	{ 5018, 5018, 4, LEN(13) | LEN_16_19 },		/* Maestro */
	{ 5020, 5020, 4, LEN(13) | LEN_16_19 },		/* Maestro */
	{ 5038, 5038, 4, LEN(13) | LEN_16_19 },		/* Maestro */
	{ 5893, 5893, 4, LEN(13) | LEN_16_19 },		/* Maestro */
	{ 6304, 6304, 4, LEN(13) | LEN_16_19 },		/* Maestro */
	{ 6759, 6759, 4, LEN(13) | LEN_16_19 },		/* Maestro */
	{ 6761, 6763, 4, LEN(13) | LEN_16_19 },		/* Maestro */
};

/* A growing list of hits. */
struct hitvec {
	struct redact_hit	*v;
	size_t			 n, cap;
};

/* What one call works with, checked and resolved once. */
struct ctx {
	const struct redact_opts	*o;
	enum state			 state;
};

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ASCII letter, digit or '_': a number touching one is part of a word. */
static int
is_word(char c)
{
	return is_alpha(c) || is_digit(c) || c == '_';
}

/* Punctuation that joins digits into one longer token ("1.5", "1-2"). */
static int
is_joiner(char c)
{
	return c == '.' || c == '-' || c == '/' || c == ':';
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * Is the number starting at s glued to what is before it? sep, if not
 * NUL, joins as well (the separator of a grouped form).
 */
static int
glued_left(const char *in, size_t s, char sep)
{
	char c;

	if (s == 0)
		return 0;
	c = in[s - 1];
	if (is_word(c))
		return 1;
	return (is_joiner(c) || (sep != '\0' && c == sep)) && s >= 2 &&
	    is_digit(in[s - 2]);
}

/* Is the number ending before e glued to what follows it? */
static int
glued_right(const char *in, size_t len, size_t e, char sep)
{
	char c;

	if (e >= len)
		return 0;
	c = in[e];
	if (is_word(c))
		return 1;
	return (is_joiner(c) || (sep != '\0' && c == sep)) && e + 1 < len &&
	    is_digit(in[e + 1]);
}

static int
all_digits(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!is_digit(p[i]))
			return 0;
	return 1;
}

static unsigned
num(const char *p, size_t n)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (unsigned)(p[i] - '0');
	return v;
}

static const struct redact_kind *
kind(enum redact_category c)
{
	size_t i;

	for (i = 0; i < sizeof(redact_kinds) / sizeof(redact_kinds[0]); i++)
		if (redact_kinds[i].category == c)
			return &redact_kinds[i];
	return &redact_kinds[REDACT_MANUAL];
}

const char *
redact_category_name(enum redact_category c)
{
	return kind(c)->name;
}

static char *
citation(enum redact_category c, enum state st)
{
	const struct redact_kind *k = kind(c);

	if (st == STATE_FL)
		return xstrdup(k->cite_fl);
	if (st == STATE_MO)
		return xstrdup(k->cite_mo);
	return xasprintf("%s; %s", k->cite_fl, k->cite_mo);
}

/* Digits but the last 4 become '*'; everything else is copied. */
static void
mask_digits(const char *p, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0, digits = 0, seen = 0;

	for (i = 0; i < n; i++)
		digits += is_digit(p[i]);
	for (i = 0; i < n && o + 1 < outsz; i++) {
		/* digits - seen: this digit and those after it */
		if (is_digit(p[i]) && digits - seen++ > 4)
			out[o++] = '*';
		else
			out[o++] = p[i];
	}
	out[o] = '\0';
}

static void
add_hit(struct hitvec *hv, enum redact_category c, const char *in,
    size_t off, size_t len, const char *field, char *cite)
{
	struct redact_hit *h;
	size_t i, chars = 0;

	if (hv->n == hv->cap) {
		hv->cap = hv->cap ? hv->cap * 2 : 8;
		hv->v = xreallocarray(hv->v, hv->cap, sizeof(*hv->v));
	}
	h = &hv->v[hv->n++];
	memset(h, 0, sizeof(*h));
	h->category = c;
	h->off = off;
	h->len = len;
	h->field = field != NULL ? xstrdup(field) : NULL;
	h->citation = cite;
	if (c != REDACT_MANUAL) {
		mask_digits(in + off, len, h->preview, sizeof(h->preview));
		return;
	}
	for (i = 0; i < len; i++)	/* UTF-8 characters, not bytes */
		chars += ((unsigned char)in[off + i] & 0xc0) != 0x80;
	snprintf(h->preview, sizeof(h->preview), "(%zu character%s)", chars,
	    chars == 1 ? "" : "s");
}

/*
 * SSN cue: does one of ssn_cues end at most REDACT_CUE_BYTES before s,
 * as a whole word, with at most REDACT_CUE_WORDS words and no sentence
 * or line break between it and s?
 */
static int
ssn_cued(const char *in, size_t len, size_t s)
{
	size_t from = s > REDACT_CUE_BYTES ? s - REDACT_CUE_BYTES : 0;
	size_t p, i, j, m, e, words;
	const char *cue;

	for (p = from; p < s; p++) {
		for (i = 0; i < sizeof(ssn_cues) / sizeof(ssn_cues[0]); i++) {
			cue = ssn_cues[i];
			m = strlen(cue);
			if (p + m > s)
				continue;
			for (j = 0; j < m && lower(in[p + j]) == cue[j]; j++)
				;
			if (j < m || (p > 0 && is_word(in[p - 1])))
				continue;
			e = p + m;
			if (e < len && lower(in[e]) == 's' &&
			    is_alpha(cue[m - 1]))
				e++;	/* plural: "SSNs" */
			if (is_alpha(cue[m - 1]) && e < s && is_alpha(in[e]))
				continue;
			words = 0;
			for (j = e; j < s; j++) {
				if (strchr("\n\r;!?", in[j]) != NULL)
					break;
				if (is_word(in[j]) && !is_word(in[j - 1]))
					words++;
			}
			if (j == s && words <= REDACT_CUE_WORDS)
				return 1;
		}
	}
	return 0;
}

/* Area 000, 666, 900-999, group 00 and serial 0000 are never issued. */
static int
ssn_possible(const char *area, const char *group, const char *serial)
{
	unsigned a = num(area, 3);

	return a != 0 && a != 666 && a < 900 && num(group, 2) != 0 &&
	    num(serial, 4) != 0;
}

/* The end of an SSN starting at s (a digit-run start), or s if none. */
static size_t
ssn_at(const char *in, size_t len, size_t s)
{
	static const char seps[] = { '-', ' ' };
	const char *p = in + s;
	size_t i;

	for (i = 0; i < sizeof(seps); i++) {
		if (len - s < 11 || !all_digits(p, 3) || p[3] != seps[i] ||
		    !all_digits(p + 4, 2) || p[6] != seps[i] ||
		    !all_digits(p + 7, 4))
			continue;
		if (glued_left(in, s, seps[i]) ||
		    glued_right(in, len, s + 11, seps[i]) ||
		    !ssn_possible(p, p + 4, p + 7))
			continue;
		return s + 11;
	}
	if (len - s >= 9 && all_digits(p, 9) && !glued_left(in, s, '\0') &&
	    !glued_right(in, len, s + 9, '\0') &&
	    ssn_possible(p, p + 3, p + 5) && ssn_cued(in, len, s))
		return s + 9;
	return s;
}

static int
luhn_ok(const char *d, size_t n)
{
	unsigned sum = 0, v;
	size_t i;

	for (i = 0; i < n; i++) {
		v = (unsigned)(d[n - 1 - i] - '0');
		if (i % 2 == 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

static int
iin_ok(const char *d, size_t n)
{
	const struct card_iin *r;
	unsigned pre;
	size_t i;

	for (i = 0; i < sizeof(card_iins) / sizeof(card_iins[0]); i++) {
		r = &card_iins[i];
		pre = num(d, r->ndigits);
		if (pre >= r->lo && pre <= r->hi && (r->lengths & LEN(n)))
			return 1;
	}
	return 0;
}

/*
 * The end of a card number starting at s (a digit-run start), or s if
 * none. Collects up to CARD_MAX_DIGITS digits in groups joined by one
 * kind of single separator, then tries the windows of whole groups that
 * start at s, longest first.
 */
static size_t
card_at(const char *in, size_t len, size_t s)
{
	size_t gend[CARD_MAX_DIGITS], gsize[CARD_MAX_DIGITS];
	size_t ng = 0, total = 0, p = s, q, k, g, nd;
	char sep = '\0', d[CARD_MAX_DIGITS];
	int sized;

	if (glued_left(in, s, '\0'))
		return s;
	for (;;) {
		for (q = p; q < len && is_digit(in[q]); q++)
			;
		if (total + (q - p) > CARD_MAX_DIGITS)
			break;
		total += q - p;
		gend[ng] = q;
		gsize[ng++] = q - p;
		if (q + 1 >= len || (in[q] != ' ' && in[q] != '-') ||
		    !is_digit(in[q + 1]) || (sep != '\0' && in[q] != sep))
			break;
		sep = in[q];
		p = q + 1;
	}
	for (k = ng; k > 0; k--) {
		total = 0;
		sized = 1;
		for (g = 0; g < k; g++) {
			total += gsize[g];
			if (gsize[g] < CARD_GROUP_MIN ||
			    gsize[g] > CARD_GROUP_MAX)
				sized = 0;
		}
		if (total < CARD_MIN_DIGITS)
			break;
		if ((k > 1 && !sized) ||
		    glued_right(in, len, gend[k - 1], '\0'))
			continue;
		for (nd = 0, q = s; q < gend[k - 1]; q++)
			if (is_digit(in[q]))
				d[nd++] = in[q];
		if (iin_ok(d, nd) && luhn_ok(d, nd))
			return gend[k - 1];
	}
	return s;
}

/* Run a detector at every digit-run start; hits never overlap. */
static void
detect(const struct ctx *cx, const char *in, size_t len, const char *field,
    enum redact_category c, size_t (*at)(const char *, size_t, size_t),
    struct hitvec *hv)
{
	size_t i = 0, e;

	while (i < len) {
		if (!is_digit(in[i])) {
			i++;
			continue;
		}
		e = at(in, len, i);
		if (e > i) {
			add_hit(hv, c, in, i, e - i, field,
			    citation(c, cx->state));
			i = e;
			continue;
		}
		while (i < len && is_digit(in[i]))
			i++;
	}
}

static void
apply_rule(const struct redact_rule *r, const char *in, size_t len,
    const char *field, struct hitvec *hv)
{
	size_t n, off = 0;
	const char *hit;

	if (r->field != NULL && (field == NULL || strcmp(r->field, field) != 0))
		return;
	if (r->substring == NULL || r->substring[0] == '\0') {
		if (len > 0)
			add_hit(hv, REDACT_MANUAL, in, 0, len, field,
			    xstrdup(r->citation));
		return;
	}
	n = strlen(r->substring);
	while (off < len) {
		hit = memmem(in + off, len - off, r->substring, n);
		if (hit == NULL)
			break;
		add_hit(hv, REDACT_MANUAL, in, (size_t)(hit - in), n, field,
		    xstrdup(r->citation));
		off = (size_t)(hit - in) + n;
	}
}

static int
hit_cmp(const void *a, const void *b)
{
	const struct redact_hit *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	if (x->category != y->category)
		return x->category < y->category ? -1 : 1;
	return strcmp(x->citation, y->citation);
}

/*
 * Redact one text: append its hits to hv (from index hv->n on, sorted)
 * and write the redacted copy to out.
 */
static void
redact_one(const struct ctx *cx, const char *in, size_t len,
    const char *field, struct hitvec *hv, struct buf *out)
{
	size_t first = hv->n, i, pos = 0, end = 0;
	const struct redact_hit *h;

	if (cx->o->flags & REDACT_F_SSN)
		detect(cx, in, len, field, REDACT_SSN, ssn_at, hv);
	if (cx->o->flags & REDACT_F_CARD)
		detect(cx, in, len, field, REDACT_CARD, card_at, hv);
	for (i = 0; i < cx->o->nrules; i++)
		apply_rule(&cx->o->rules[i], in, len, field, hv);
	if (hv->n > first)
		qsort(hv->v + first, hv->n - first, sizeof(*hv->v), hit_cmp);

	buf_init(out, 0);
	for (i = first; i < hv->n; i++) {
		h = &hv->v[i];
		if (h->off >= end) {	/* else merged into the last marker */
			buf_append(out, in + pos, h->off - pos);
			buf_puts(out, kind(h->category)->marker);
		}
		if (h->off + h->len > end)
			end = h->off + h->len;
		pos = end;
	}
	buf_append(out, in + pos, len - pos);
}

static int
ctx_init(struct ctx *cx, const struct redact_opts *o)
{
	size_t i;

	if (o == NULL || (o->flags & ~REDACT_F_AUTO) != 0 ||
	    (o->rules == NULL && o->nrules > 0))
		return -EINVAL;
	if (o->state == NULL)
		cx->state = STATE_BOTH;
	else if (strcasecmp(o->state, "FL") == 0)
		cx->state = STATE_FL;
	else if (strcasecmp(o->state, "MO") == 0)
		cx->state = STATE_MO;
	else
		return -EINVAL;
	for (i = 0; i < o->nrules; i++)
		if (o->rules[i].citation == NULL)
			return -EINVAL;
	cx->o = o;
	return 0;
}

void
redact_hits_free(struct redact_hit *hits, size_t n)
{
	size_t i;

	if (hits == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(hits[i].field);
		free(hits[i].citation);
	}
	free(hits);
}

static void
hits_give(struct hitvec *hv, struct redact_hit **ret_hits, size_t *ret_n)
{
	if (hv->n == 0) {
		free(hv->v);
		hv->v = NULL;
	}
	*ret_hits = hv->v;
	*ret_n = hv->n;
}

int
redact_field(const char *in, size_t len, const char *field,
    const struct redact_opts *o, struct redact_hit **ret_hits,
    size_t *ret_n, char **ret_out, size_t *ret_out_len)
{
	struct hitvec hv = { NULL, 0, 0 };
	struct ctx cx;
	struct buf out;
	int r;

	if ((in == NULL && len > 0) || ret_hits == NULL || ret_n == NULL ||
	    ret_out == NULL)
		return -EINVAL;
	r = ctx_init(&cx, o);
	if (r < 0)
		return r;
	redact_one(&cx, in != NULL ? in : "", len, field, &hv, &out);
	*ret_out = buf_steal(&out, ret_out_len);
	hits_give(&hv, ret_hits, ret_n);
	return 0;
}

int
redact_text(const char *in, size_t len, unsigned flags, const char *state,
    struct redact_hit **ret_hits, size_t *ret_n, char **ret_out,
    size_t *ret_out_len)
{
	struct redact_opts o = { flags, state, NULL, 0, NULL };

	return redact_field(in, len, NULL, &o, ret_hits, ret_n, ret_out,
	    ret_out_len);
}

int
redact_manual(const char *in, size_t len, const char *field,
    const struct redact_rule *rules, size_t nrules,
    struct redact_hit **ret_hits, size_t *ret_n, char **ret_out,
    size_t *ret_out_len)
{
	struct redact_opts o = { 0, NULL, rules, nrules, NULL };

	return redact_field(in, len, field, &o, ret_hits, ret_n, ret_out,
	    ret_out_len);
}

static int
skipped(const struct redact_opts *o, const char *key)
{
	const char *const *k;

	if (o->skip_keys == NULL)
		return 0;
	for (k = o->skip_keys; *k != NULL; k++)
		if (strcmp(*k, key) == 0)
			return 1;
	return 0;
}

/* Redact the strings under v, whose path is in path; path is restored. */
static int
json_walk(const struct ctx *cx, json_t *v, struct buf *path, int depth,
    struct hitvec *hv)
{
	size_t mark = path->len, first = hv->n, i;
	const char *key;
	struct buf out;
	json_t *sub;
	int r = 0;

	if (depth > REDACT_JSON_MAX_DEPTH)
		return -E2BIG;
	if (json_is_string(v)) {
		redact_one(cx, json_string_value(v), json_string_length(v),
		    path->data != NULL ? path->data : "", hv, &out);
		if (hv->n > first && json_string_setn(v, out.data != NULL ?
		    out.data : "", out.len) < 0)
			r = -EILSEQ;
		buf_release(&out);
		return r;
	}
	if (json_is_object(v)) {
		json_object_foreach(v, key, sub) {
			if (skipped(cx->o, key))
				continue;
			buf_printf(path, "%s%s", mark > 0 ? "." : "", key);
			r = json_walk(cx, sub, path, depth + 1, hv);
			path->len = mark;
			if (path->data != NULL)
				path->data[mark] = '\0';
			if (r < 0)
				return r;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, sub) {
			buf_printf(path, "[%zu]", i);
			r = json_walk(cx, sub, path, depth + 1, hv);
			path->len = mark;
			path->data[mark] = '\0';
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int
redact_json(json_t *root, const struct redact_opts *o,
    struct redact_hit **ret_hits, size_t *ret_n)
{
	struct hitvec hv = { NULL, 0, 0 };
	struct buf path;
	struct ctx cx;
	int r;

	if (root == NULL || ret_hits == NULL || ret_n == NULL)
		return -EINVAL;
	r = ctx_init(&cx, o);
	if (r < 0)
		return r;
	buf_init(&path, 0);
	r = json_walk(&cx, root, &path, 0, &hv);
	buf_release(&path);
	if (r < 0) {
		redact_hits_free(hv.v, hv.n);
		return r;
	}
	hits_give(&hv, ret_hits, ret_n);
	return 0;
}
