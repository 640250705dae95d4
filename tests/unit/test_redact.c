/*
 * test_redact.c - exemption redaction: planted SSNs (each form) and
 * Luhn-valid card numbers (each network, spaced, hyphenated) are replaced
 * by their markers; impossible SSNs, uncued 9-digit numbers, Luhn-invalid
 * look-alikes, phone numbers, dates, longer digit runs and words holding
 * digits are not. Every other byte is unchanged; hits point at the
 * original bytes, previews never hold the full value, citations follow
 * the state; manual rules; recursive JSON redaction with paths; invalid
 * UTF-8, NUL bytes and a 1 MB input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "redact.h"
#include "tap.h"

#define SSN_MARK	"[REDACTED: SSN]"
#define CARD_MARK	"[REDACTED: card number]"
#define MAN_MARK	"[REDACTED]"

static const char *
marker(enum redact_category c)
{
	return c == REDACT_SSN ? SSN_MARK : c == REDACT_CARD ? CARD_MARK :
	    MAN_MARK;
}

/*
 * The invariants every result must hold: the output is the input with
 * each (merged) hit span replaced by its marker and nothing else
 * changed; hits are sorted and inside the input; a preview shows at most
 * 4 digits and never the value.
 */
static int
consistent(const char *in, size_t len, const struct redact_hit *h,
    size_t n, const char *out, size_t outlen)
{
	char want[1 << 16], digits[64];
	size_t i, j, w = 0, pos = 0, end = 0, nd, pd;
	const char *m;

	for (i = 0; i < n; i++) {
		if (h[i].off + h[i].len > len || h[i].len == 0 ||
		    (i > 0 && h[i].off < h[i - 1].off) ||
		    h[i].citation == NULL || h[i].citation[0] == '\0')
			return 0;
		if (h[i].off >= end) {
			memcpy(want + w, in + pos, h[i].off - pos);
			w += h[i].off - pos;
			m = marker(h[i].category);
			memcpy(want + w, m, strlen(m));
			w += strlen(m);
		}
		if (h[i].off + h[i].len > end)
			end = h[i].off + h[i].len;
		pos = end;
		if (h[i].category == REDACT_MANUAL)
			continue;
		for (nd = 0, j = 0; j < h[i].len && nd < sizeof(digits) - 1;
		    j++)
			if (in[h[i].off + j] >= '0' && in[h[i].off + j] <= '9')
				digits[nd++] = in[h[i].off + j];
		digits[nd] = '\0';
		for (pd = 0, j = 0; h[i].preview[j] != '\0'; j++)
			pd += h[i].preview[j] >= '0' && h[i].preview[j] <= '9';
		if (pd > 4 || strstr(h[i].preview, digits) != NULL ||
		    memmem(h[i].preview, strlen(h[i].preview), in + h[i].off,
		    h[i].len) != NULL)
			return 0;
	}
	memcpy(want + w, in + pos, len - pos);
	w += len - pos;
	return w == outlen && memcmp(want, out, w) == 0 && out[outlen] == '\0';
}

/* Redact s (auto, both states) and compare with want; returns hits. */
static size_t
check(const char *s, const char *want, const char *what)
{
	struct redact_hit *h = NULL;
	size_t n = 0, outlen = 0;
	char *out = NULL;
	int r;

	r = redact_text(s, strlen(s), REDACT_F_AUTO, NULL, &h, &n, &out,
	    &outlen);
	if (r != 0) {
		ok(0, "%s: redact_text returned %d", what, r);
		return 0;
	}
	is_str(out, want, "%s", what);
	ok(consistent(s, strlen(s), h, n, out, outlen),
	    "%s: rest byte-identical, hits and previews sound", what);
	redact_hits_free(h, n);
	free(out);
	return n;
}

/* s must come out unchanged. */
static void
untouched(const char *s, const char *what)
{
	struct redact_hit *h = NULL;
	size_t n = 99;
	char *out = NULL;

	is_int(redact_text(s, strlen(s), REDACT_F_AUTO, NULL, &h, &n, &out,
	    NULL), 0, "%s: ok", what);
	ok(n == 0 && h == NULL && out != NULL && strcmp(out, s) == 0,
	    "not redacted: %s", what);
	redact_hits_free(h, n);
	free(out);
}

static void
test_ssn(void)
{
	check("my number is 123-45-6789 thanks",
	    "my number is " SSN_MARK " thanks", "SSN ddd-dd-dddd");
	check("my number is 123 45 6789 thanks",
	    "my number is " SSN_MARK " thanks", "SSN ddd dd dddd");
	check("SSN: 123456789", "SSN: " SSN_MARK, "9 digits after 'SSN:'");
	check("my social security number is 078051121.",
	    "my social security number is " SSN_MARK ".",
	    "9 digits two words after 'social security'");
	check("SS# 123456789", "SS# " SSN_MARK, "9 digits after 'SS#'");
	check("ssns 123456789 x", "ssns " SSN_MARK " x", "plural cue");
	check("Soc. Sec. No. 123456789", "Soc. Sec. No. " SSN_MARK,
	    "abbreviated cue");

	untouched("000-12-3456", "area 000");
	untouched("666-12-3456", "area 666");
	untouched("900-12-3456 and 999-12-3456", "area 900-999");
	untouched("123-00-4567", "group 00");
	untouched("123-45-0000", "serial 0000");
	untouched("SSN 000123456", "cued, area 000");
	untouched("order 123456789 shipped", "9 digits without a cue");
	untouched("SSN? no. my order number for the couch is 123456789",
	    "cue too many words and a sentence away");
	untouched("SSN\n123456789", "cue on another line");
	untouched("classnote 123456789", "cue inside a word");
	untouched("SSN 1234567890", "10 digits after a cue");
	untouched("SSN 12345678", "8 digits after a cue");
	untouched("12-123-45-6789", "SSN form inside a hyphenated id");
	untouched("123-45-6789-1", "SSN form followed by -digit");
	untouched("1 123 45 6789", "spaced form inside a spaced number");
	untouched("v123-45-6789 and 123-45-6789x", "SSN forms inside words");
	untouched("123.45.6789 123-45 6789", "other or mixed separators");
}

static void
test_card(void)
{
	static const char *const valid[] = {
		"4111111111111111", "4111 1111 1111 1111",
		"4111-1111-1111-1111", "5555555555554444",
		"5555 5555 5555 4444", "378282246310005", "3782 822463 10005",
		"3782-822463-10005", "6011111111111117", "6011 1111 1111 1117",
		"2223003122003222", "3530111333300000", "36227206271667",
		"4222222222222", "4012 8888 8888 1881",
	};
	static const char *const invalid[] = {	/* one digit changed */
		"4111111111111112", "4111 1111 1111 1121",
		"4111-1111-1111-1112", "5555555555554445",
		"5555 5555 5555 4445", "378282246310006", "3782 822463 10006",
		"6011111111111118", "6011 1111 1111 1118",
		"2223003122003223", "3530111333300001", "36227206271668",
	};
	char in[128], want[128];
	size_t i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		snprintf(in, sizeof(in), "card %s exp", valid[i]);
		snprintf(want, sizeof(want), "card " CARD_MARK " exp");
		is_int(check(in, want, valid[i]), 1, "one hit: %s", valid[i]);
	}
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		snprintf(in, sizeof(in), "card %s exp", invalid[i]);
		untouched(in, "Luhn-invalid look-alike");
	}
	untouched("1234567812345670", "Luhn-valid, no issuer prefix");
	untouched("4111111111111111123",
	    "Visa prefix, Luhn-invalid at 19 digits");
	untouched("3782822463100052", "Amex prefix, Luhn-valid, 16 digits");
	untouched("call (555) 123-4567 or 555-123-4567 or +1 555 123 4567",
	    "phone numbers");
	untouched("on 2026-03-02, 03/02/2026 at 10:30", "dates and times");
	untouched("order 94111111111111111111 ok",
	    "card inside a longer digit run");
	untouched("41111111111111110000", "card prefix of a longer run");
	untouched("x4111111111111111 4111111111111111y id_4111111111111111",
	    "words containing a card number");
	untouched("4111111111111111-2 9-4111111111111111",
	    "card number in a hyphenated id");
	untouched("4111111111111111.50 and 1.4111111111111111",
	    "decimal numbers");
	untouched("4111-1111-1111-1111-22", "hyphen groups run on");
	untouched("41 11 11 11 11 11 11 11", "groups too small");
	untouched("4111  1111  1111  1111", "double spaces");
	untouched("4111 1111-1111 1111", "mixed separators");

	check("card 4111 1111 1111 1111 12/27 cvv 123",
	    "card " CARD_MARK " 12/27 cvv 123", "expiry after the groups");
	check("ref 12 4111 1111 1111 1111 thanks",
	    "ref 12 " CARD_MARK " thanks", "small number before the groups");
	check("4111111111111111,5555555555554444",
	    CARD_MARK "," CARD_MARK, "two cards joined by a comma");
}

static void
test_mixed(void)
{
	struct redact_hit *h = NULL;
	size_t n = 0;
	char *out = NULL;
	const char *s = "123-45-6789 paid with 4111 1111 1111 1111, ssn "
	    "587654321; card 378282246310005";

	is_int(check(s, SSN_MARK " paid with " CARD_MARK ", ssn " SSN_MARK
	    "; card " CARD_MARK, "several hits, at the start and the end"),
	    4, "four hits");
	check("(123-45-6789) [4111111111111111] \"5555555555554444\"!",
	    "(" SSN_MARK ") [" CARD_MARK "] \"" CARD_MARK "\"!",
	    "hits next to punctuation");
	check("café·123-45-6789€ ñ4111 1111 1111 1111ü — ok",
	    "café·" SSN_MARK "€ ñ" CARD_MARK "ü — ok",
	    "hits next to multibyte UTF-8");
	check("123-45-6789", SSN_MARK, "whole text is an SSN");
	check("", "", "empty text");

	is_int(redact_text(s, strlen(s), REDACT_F_AUTO, "FL", &h, &n, &out,
	    NULL), 0, "FL redaction");
	if (n == 4) {
		is_int(h[0].category, REDACT_SSN, "hit 0 is an SSN");
		is_int(h[0].off, 0, "hit 0 at the start");
		is_int(h[0].len, 11, "hit 0 length");
		ok(memcmp(s + h[1].off, "4111 1111 1111 1111", h[1].len) == 0 &&
		    h[1].len == 19, "hit 1 points at the spaced card");
		ok(memcmp(s + h[2].off, "587654321", 9) == 0 && h[2].len == 9,
		    "hit 2 points at the cued SSN");
		ok(h[3].off + h[3].len == strlen(s), "hit 3 ends the text");
		is_str(h[0].preview, "***-**-6789", "SSN preview");
		is_str(h[1].preview, "**** **** **** 1111", "card preview");
		is_str(h[2].preview, "*****4321", "contiguous SSN preview");
		is_str(h[3].preview, "***********0005", "Amex preview");
		is_str(h[0].citation, "Fla. Stat. §119.071(5)(a)",
		    "FL SSN citation");
		is_str(h[1].citation, "Fla. Stat. §119.071(5)(b)",
		    "FL card citation");
		ok(h[0].field == NULL, "redact_text hits have no field");
		is_str(redact_category_name(h[1].category), "card number",
		    "category name");
	} else {
		ok(0, "FL redaction: %zu hits, want 4", n);
	}
	redact_hits_free(h, n);
	free(out);

	is_int(redact_text(s, strlen(s), REDACT_F_SSN, "mo", &h, &n, &out,
	    NULL), 0, "MO, SSN only");
	ok(n == 2 && h[0].category == REDACT_SSN && h[1].category ==
	    REDACT_SSN, "flags pick the detectors");
	if (n > 0)
		is_str(h[0].citation, "Mo. Rev. Stat. §610.035",
		    "MO SSN citation");
	redact_hits_free(h, n);
	free(out);

	is_int(redact_text(s, strlen(s), REDACT_F_CARD, NULL, &h, &n, &out,
	    NULL), 0, "both states, cards only");
	if (n > 0)
		is_str(h[0].citation, "Fla. Stat. §119.071(5)(b); "
		    "Mo. Rev. Stat. §610.021", "both card citations");
	redact_hits_free(h, n);
	free(out);

	h = NULL;
	out = NULL;
	is_int(redact_text(s, strlen(s), REDACT_F_AUTO, "TX", &h, &n, &out,
	    NULL), -EINVAL, "unknown state: -EINVAL");
	is_int(redact_text(s, strlen(s), 1u << 7, NULL, &h, &n, &out, NULL),
	    -EINVAL, "unknown flag: -EINVAL");
	is_int(redact_text(NULL, 3, REDACT_F_AUTO, NULL, &h, &n, &out, NULL),
	    -EINVAL, "NULL text: -EINVAL");
	ok(h == NULL && out == NULL, "nothing written on error");
	is_int(redact_text(NULL, 0, REDACT_F_AUTO, NULL, &h, &n, &out, NULL),
	    0, "NULL empty text is fine");
	ok(out != NULL && out[0] == '\0' && n == 0, "empty output");
	free(out);
}

static void
test_manual(void)
{
	static const struct redact_rule rules[] = {
		{ "text", "42 Elm Street", "Fla. Stat. §119.071(4)(d)" },
		{ "author", NULL, "Fla. Stat. §119.071(4)(d)" },
		{ NULL, "Elm Street, Apt", "clerk: overlap" },
	};
	struct redact_rule bad = { NULL, "x", NULL };
	struct redact_opts o = { REDACT_F_AUTO, "FL", rules, 3, NULL };
	const char *s = "officer lives at 42 Elm Street, Apt 4; 42 Elm Street "
	    "again, SSN 123-45-6789";
	struct redact_hit *h = NULL;
	size_t n = 0, outlen;
	char *out = NULL;

	is_int(redact_manual(s, strlen(s), "text", rules, 1, &h, &n, &out,
	    &outlen), 0, "manual substring");
	is_str(out, "officer lives at " MAN_MARK ", Apt 4; " MAN_MARK
	    " again, SSN 123-45-6789", "every occurrence, nothing else");
	ok(n == 2 && strcmp(h[0].field, "text") == 0 &&
	    strcmp(h[0].citation, "Fla. Stat. §119.071(4)(d)") == 0 &&
	    strcmp(h[0].preview, "(13 characters)") == 0 &&
	    h[0].category == REDACT_MANUAL, "manual hit: field, citation, "
	    "size-only preview");
	ok(consistent(s, strlen(s), h, n, out, outlen), "manual consistent");
	redact_hits_free(h, n);
	free(out);

	is_int(redact_manual(s, strlen(s), "caption", rules, 1, &h, &n, &out,
	    NULL), 0, "rule for another field");
	ok(n == 0 && strcmp(out, s) == 0, "rule for another field: no-op");
	redact_hits_free(h, n);
	free(out);

	is_int(redact_manual("Jane Roe", 8, "author", rules, 2, &h, &n, &out,
	    NULL), 0, "whole-field rule");
	ok(n == 1 && strcmp(out, MAN_MARK) == 0 && h[0].off == 0 &&
	    h[0].len == 8, "whole field redacted");
	redact_hits_free(h, n);
	free(out);

	is_int(redact_field(s, strlen(s), "text", &o, &h, &n, &out, &outlen),
	    0, "manual and automatic together");
	is_str(out, "officer lives at " MAN_MARK " 4; " MAN_MARK
	    " again, SSN " SSN_MARK, "overlapping hits share one marker");
	is_int(n, 4, "every overlapping hit is still listed");
	ok(consistent(s, strlen(s), h, n, out, outlen), "combined consistent");
	redact_hits_free(h, n);
	free(out);

	h = NULL;
	is_int(redact_manual(s, strlen(s), NULL, &bad, 1, &h, &n, &out, NULL),
	    -EINVAL, "rule without citation: -EINVAL");
	ok(h == NULL, "nothing written");
}

static void
test_json(void)
{
	static const char *const skip[] = { "id", NULL };
	struct redact_opts o = { REDACT_F_AUTO, "MO", NULL, 0, skip };
	struct redact_rule rule = { "author.name", NULL, "clerk: officer" };
	struct redact_hit *h = NULL;
	json_t *j, *s;
	size_t n = 0;
	char *dump;

	j = json_loads("{\"id\": \"4111111111111111\", "
	    "\"text\": \"SSN 123-45-6789 and 123-45-6789\", "
	    "\"author\": {\"name\": \"Jane\", \"id\": \"5555555555554444\"}, "
	    "\"media\": [{\"description\": \"card 4111 1111 1111 1111\"}, "
	    "{\"description\": \"nothing\", \"n\": 4111111111111111, "
	    "\"tags\": [\"x\", \"378282246310005\"]}]}", 0, NULL);
	ok(j != NULL, "JSON parsed");
	is_int(redact_json(j, &o, &h, &n), 0, "redact_json");
	is_int(n, 4, "four hits in the tree");
	if (n == 4) {
		is_str(h[0].field, "text", "path of a top-level string");
		is_str(h[1].field, "text", "second hit in the same string");
		is_int(h[1].off, 20, "offset within the original string");
		is_str(h[2].field, "media[0].description", "path into array");
		is_str(h[3].field, "media[1].tags[1]", "path of array string");
		is_str(h[0].citation, "Mo. Rev. Stat. §610.035",
		    "MO citation");
	}
	dump = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	is_str(dump, "{\"id\":\"4111111111111111\",\"text\":\"SSN "
	    SSN_MARK " and " SSN_MARK "\",\"author\":{\"name\":\"Jane\","
	    "\"id\":\"5555555555554444\"},\"media\":[{\"description\":"
	    "\"card " CARD_MARK "\"},{\"description\":\"nothing\","
	    "\"n\":4111111111111111,\"tags\":[\"x\",\"" CARD_MARK "\"]}]}",
	    "strings redacted in place; skipped keys and numbers kept");
	free(dump);
	redact_hits_free(h, n);

	o.rules = &rule;
	o.nrules = 1;
	is_int(redact_json(j, &o, &h, &n), 0, "manual rule by path");
	ok(n == 1 && strcmp(h[0].field, "author.name") == 0 &&
	    strcmp(json_string_value(json_object_get(json_object_get(j,
	    "author"), "name")), MAN_MARK) == 0, "author.name redacted");
	redact_hits_free(h, n);
	json_decref(j);

	s = json_string("4111111111111111");
	o.rules = NULL;
	o.nrules = 0;
	is_int(redact_json(s, &o, &h, &n), 0, "root string");
	ok(n == 1 && strcmp(h[0].field, "") == 0 &&
	    strcmp(json_string_value(s), CARD_MARK) == 0, "root path is ''");
	redact_hits_free(h, n);
	json_decref(s);

	j = json_array();
	s = j;
	for (n = 0; n < REDACT_JSON_MAX_DEPTH + 5; n++) {
		json_t *a = json_array();

		json_array_append_new(s, a);
		s = a;
	}
	json_array_append_new(s, json_string("123-45-6789"));
	h = NULL;
	is_int(redact_json(j, &o, &h, &n), -E2BIG, "too deep: -E2BIG");
	ok(h == NULL, "no hits on error");
	json_decref(j);
}

static void
test_bytes(void)
{
	static const char in[] = "\xff\xfe 123-45-6789\0 4111111111111111 "
	    "\xc3 5555555555554444\x80";
	static const char want[] = "\xff\xfe " SSN_MARK "\0 " CARD_MARK " "
	    "\xc3 " CARD_MARK "\x80";
	struct redact_hit *h = NULL;
	size_t n = 0, outlen = 0, len = sizeof(in) - 1, i;
	char *out = NULL, *big, *bigout;
	static const char unit[] = "post 123-45-6789 é 4111 1111 1111 1111 "
	    "x 2026-03-02 (555) 123-4567 12345678901234567890\n";
	size_t ulen = sizeof(unit) - 1, reps = (1 << 20) / ulen, blen;

	is_int(redact_text(in, len, REDACT_F_AUTO, NULL, &h, &n, &out,
	    &outlen), 0, "invalid UTF-8 and NUL bytes");
	ok(n == 3 && outlen == sizeof(want) - 1 &&
	    memcmp(out, want, outlen) == 0,
	    "NUL and invalid bytes carried through, hits found past a NUL");
	ok(consistent(in, len, h, n, out, outlen), "bytes consistent");
	redact_hits_free(h, n);
	free(out);

	blen = reps * ulen;
	big = malloc(blen);
	for (i = 0; i < reps; i++)
		memcpy(big + i * ulen, unit, ulen);
	is_int(redact_text(big, blen, REDACT_F_AUTO, NULL, &h, &n, &bigout,
	    &outlen), 0, "1 MB input");
	is_int(n, 2 * reps, "two hits per line of 1 MB");
	ok(n > 0 && h[n - 1].off == (reps - 1) * ulen + 20,
	    "last hit offset in the original");
	is_int(outlen, blen + reps * (strlen(SSN_MARK) - 11 +
	    strlen(CARD_MARK) - 19), "1 MB output length");
	redact_hits_free(h, n);
	free(bigout);
	free(big);
}

int
main(void)
{
	test_ssn();
	test_card();
	test_mixed();
	test_manual();
	test_json();
	test_bytes();
	return tap_done();
}
