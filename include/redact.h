/*
 * redact.h - find what the records laws exempt (Social Security numbers,
 * payment card numbers, clerk-chosen text) and produce a redacted copy
 * plus the list of what was redacted, each with its statutory citation.
 *
 * Used only for the produced copy of a records-request response (the
 * rendering, CSV and JSON copies). The archived originals and the WARC
 * copy are never passed through this module. It does no I/O and does not
 * log: callers write redactions.csv from the hits.
 *
 * Text is bytes with an explicit length: UTF-8 in, UTF-8 out. Invalid
 * UTF-8 and NUL bytes are carried through unchanged. A redacted span is
 * replaced by a fixed ASCII marker; every other byte of the input is
 * copied unchanged:
 *
 *	REDACT_SSN	"[REDACTED: SSN]"
 *	REDACT_CARD	"[REDACTED: card number]"
 *	REDACT_MANUAL	"[REDACTED]"
 *
 * Detection rules (see redact.c for the tables):
 *
 * Boundaries. A number is "glued" to its neighbour, and so not matched,
 * when the byte next to it is an ASCII letter, digit or '_', or one of
 * . - / : with a digit on its far side ("x4111...", "12-123-45-6789",
 * "123456789.5"). Other bytes, including spaces, punctuation and any
 * non-ASCII byte, are boundaries: "«123-45-6789»" matches.
 *
 * SSN (REDACT_SSN). ddd-dd-dddd, ddd dd dddd (a space next to a digit
 * also glues this form), or 9 contiguous digits only when a cue ("SSN",
 * "SS#", "social security", "soc sec", case-insensitive, a whole word)
 * ends at most REDACT_CUE_BYTES bytes and REDACT_CUE_WORDS words before
 * it, with no newline, ';', '!' or '?' in between. Numbers that cannot be
 * SSNs are skipped: area 000, 666 or 900-999, group 00, serial 0000.
 *
 * Card (REDACT_CARD). 13-19 digits, either contiguous or in groups of
 * 3-6 digits separated by single spaces or by single hyphens (one kind
 * per number), whose prefix and length fit a known issuer (Visa 4,
 * Mastercard 51-55 and 2221-2720, Amex 34/37, Discover 6011/644-649/65,
 * JCB 3528-3589, Diners 300-305/36/38-39, UnionPay 62, Maestro, Mir) and
 * that pass the Luhn check. A space-separated number may carry other
 * space-separated groups around it ("4111 1111 1111 1111 12/27" redacts
 * the 16 digits); a hyphenated one may not, and a contiguous run longer
 * than 19 digits never matches. The longest valid window wins.
 *
 * Manual (REDACT_MANUAL). A clerk's rule redacts a whole field, or every
 * occurrence of an exact byte string in it, under the clerk's citation.
 *
 * When hits overlap (a manual rule over an SSN, say), every hit is listed
 * but the output holds one marker for the merged span: the marker of the
 * hit that starts first (the longest, on a tie).
 */
#ifndef SUNARCHIVE_REDACT_H
#define SUNARCHIVE_REDACT_H

#include <stddef.h>

#include <jansson.h>

enum redact_category {
	REDACT_SSN,
	REDACT_CARD,
	REDACT_MANUAL,
};

/* Which automatic detectors to run (the flags argument). */
#define REDACT_F_SSN	(1u << REDACT_SSN)
#define REDACT_F_CARD	(1u << REDACT_CARD)
#define REDACT_F_AUTO	(REDACT_F_SSN | REDACT_F_CARD)

#define REDACT_CUE_BYTES	48	/* SSN cue: how far back to look */
#define REDACT_CUE_WORDS	3	/* SSN cue: words allowed in between */
#define REDACT_JSON_MAX_DEPTH	128	/* redact_json(): deeper is -E2BIG */
#define REDACT_PREVIEW_LEN	48

/*
 * One redaction. off and len locate the redacted bytes in the ORIGINAL
 * text (for redact_json(), in the original value of the string at field).
 * The hit owns field and citation; redact_hits_free() frees them.
 */
struct redact_hit {
	enum redact_category	 category;
	size_t			 off;
	size_t			 len;
	/* JSON path ("text", "media[0].description", "" for a root
	 * string) or the caller's field name; NULL if none was given. */
	char			*field;
	/* "Fla. Stat. §119.071(5)(a)", both states joined by "; ", or the
	 * clerk's text for REDACT_MANUAL. */
	char			*citation;
	/* Masked, never the full value: digits but the last 4 become '*',
	 * separators are kept ("***-**-6789", "**** **** **** 1111"); a
	 * manual hit shows only its size ("(12 characters)"). */
	char			 preview[REDACT_PREVIEW_LEN];
};

/* A clerk's manual redaction. Strings are borrowed. */
struct redact_rule {
	/* The field it applies to: compared exactly with the field
	 * argument or JSON path; NULL applies to every field. */
	const char	*field;
	/* Exact bytes to redact wherever they occur (case-sensitive);
	 * NULL or "" redacts the whole field (nothing if it is empty). */
	const char	*substring;
	/* Statutory citation for the log; required. */
	const char	*citation;
};

/* Everything redact_field() and redact_json() apply. Strings borrowed. */
struct redact_opts {
	unsigned			 flags;		/* REDACT_F_* */
	/* "FL" or "MO" (any case) cites that state's statute; NULL cites
	 * both. Anything else is -EINVAL. */
	const char			*state;
	const struct redact_rule	*rules;		/* may be NULL */
	size_t				 nrules;
	/* redact_json() only: NULL-terminated object member names whose
	 * values (and everything below them) are left alone, for
	 * platform-generated ids that could look like card numbers. NULL
	 * examines every string. */
	const char *const		*skip_keys;
};

/*
 * Redact in[0..len) with the automatic detectors in flags, citing state
 * ("FL", "MO" or NULL for both). On success returns 0 and sets *ret_out
 * to a new NUL-terminated copy (caller frees; *ret_out_len, if not NULL,
 * is its length, which matters if the text holds NUL bytes), *ret_hits
 * to a new array of *ret_n hits sorted by offset (NULL when there are
 * none; free with redact_hits_free()). Hits have field NULL.
 * -EINVAL for a NULL in with len > 0, unknown flags or an unknown state;
 * nothing is written then.
 */
int	redact_text(const char *in, size_t len, unsigned flags,
	    const char *state, struct redact_hit **ret_hits, size_t *ret_n,
	    char **ret_out, size_t *ret_out_len);

/*
 * Apply the clerk's rules whose field is NULL or equals field (which may
 * be NULL: then only rules with a NULL field apply) to in[0..len).
 * Outputs as redact_text(); hits get a copy of field. -EINVAL also for a
 * rule without a citation.
 */
int	redact_manual(const char *in, size_t len, const char *field,
	    const struct redact_rule *rules, size_t nrules,
	    struct redact_hit **ret_hits, size_t *ret_n, char **ret_out,
	    size_t *ret_out_len);

/*
 * Both at once on one field: the detectors in o->flags and the manual
 * rules in o->rules, with offsets into this original text. This is what
 * an exporter calls for each field of the rendering and the CSV.
 */
int	redact_field(const char *in, size_t len, const char *field,
	    const struct redact_opts *o, struct redact_hit **ret_hits,
	    size_t *ret_n, char **ret_out, size_t *ret_out_len);

/*
 * Redact every string value under root in place (recursively; object
 * keys, numbers and the values under o->skip_keys are left alone). Each
 * hit's field is the JSON path of its string: member names joined by '.',
 * array indexes as [i] ("media[0].description"); keys are used verbatim.
 * Manual rules match that path. root is borrowed and modified. Returns 0
 * and the hits as redact_text(); -EINVAL as redact_field(), -E2BIG past
 * REDACT_JSON_MAX_DEPTH, -EILSEQ if a manual substring would leave
 * invalid UTF-8. On error the tree may be partly redacted: discard it.
 */
int	redact_json(json_t *root, const struct redact_opts *o,
	    struct redact_hit **ret_hits, size_t *ret_n);

/* Free n hits and the array; accepts NULL. */
void	redact_hits_free(struct redact_hit *hits, size_t n);

/* "SSN", "card number", "manual": the category column of the log. */
const char *redact_category_name(enum redact_category c);

#endif
