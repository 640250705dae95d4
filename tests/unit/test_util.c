/*
 * test_util.c - safe parsing: integers, durations, sizes and booleans at
 * their bounds and with junk; every time form the platforms send and the
 * ones that must be refused; time formatting round trips; uuid URNs and
 * hex.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "util.h"

#define T_20260302_140509	1772460309LL	/* 2026-03-02T14:05:09Z */

static void
test_parse_int(void)
{
	static const char *junk[] = { "", " 42", "42 ", "4x", "x4", "0x10",
	    "1e3", "4 2", "--1", "\t7" };
	int64_t v;
	size_t i;

	v = -1;
	is_int(util_parse_int("42", 0, 100, &v), 0, "int: 42 in [0,100]");
	is_int(v, 42, "int: value 42");
	is_int(util_parse_int("-7", -10, 10, &v), 0, "int: negative in range");
	is_int(v, -7, "int: value -7");
	is_int(util_parse_int("0", 0, 0, &v), 0, "int: single-value range");
	is_int(util_parse_int("100", 0, 100, &v), 0, "int: max is inclusive");
	is_int(v, 100, "int: value at max");
	is_int(util_parse_int("5", 5, 10, &v), 0, "int: min is inclusive");
	v = 99;
	is_int(util_parse_int("101", 0, 100, &v), -ERANGE, "int: max + 1");
	is_int(util_parse_int("4", 5, 10, &v), -ERANGE, "int: min - 1");
	is_int(util_parse_int("-1", 0, INT64_MAX, &v), -ERANGE,
	    "int: negative where min is 0");
	is_int(v, 99, "int: out-parameter untouched on error");
	is_int(util_parse_int("9223372036854775807", INT64_MIN, INT64_MAX,
	    &v), 0, "int: INT64_MAX parses");
	ok(v == INT64_MAX, "int: value INT64_MAX");
	is_int(util_parse_int("-9223372036854775808", INT64_MIN, INT64_MAX,
	    &v), 0, "int: INT64_MIN parses");
	ok(v == INT64_MIN, "int: value INT64_MIN");
	is_int(util_parse_int("9223372036854775808", INT64_MIN, INT64_MAX,
	    &v), -ERANGE, "int: INT64_MAX + 1 overflows");
	is_int(util_parse_int("-9223372036854775809", INT64_MIN, INT64_MAX,
	    &v), -ERANGE, "int: INT64_MIN - 1 overflows");
	is_int(util_parse_int("99999999999999999999999", 0, 10, &v), -ERANGE,
	    "int: far too large");
	for (i = 0; i < ARRAY_SIZE(junk); i++)
		is_int(util_parse_int(junk[i], INT64_MIN, INT64_MAX, &v),
		    -EINVAL, "int: junk '%s' rejected", junk[i]);
	is_int(util_parse_int(NULL, 0, 10, &v), -EINVAL, "int: NULL rejected");
}

static void
test_parse_duration(void)
{
	static const struct {
		const char	*s;
		int64_t		 v;
	} good[] = {
		{ "0", 0 }, { "90", 90 }, { "90s", 90 }, { "15m", 900 },
		{ "2h", 7200 }, { "7d", 604800 }, { "1w", 604800 },
		{ "1000000d", 86400000000LL },
	};
	static const char *bad[] = { "", "s", "m", "5x", "1.5h", " 5m",
	    "5m ", "5 m", "m5", "5mm", "5M", "0x5s",
	    "123456789012345678901234567890123s" };
	int64_t v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		v = -1;
		is_int(util_parse_duration(good[i].s, &v), 0,
		    "duration: '%s' parses", good[i].s);
		is_int(v, good[i].v, "duration: '%s' value", good[i].s);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		is_int(util_parse_duration(bad[i], &v), -EINVAL,
		    "duration: '%s' rejected", bad[i]);
	ok(util_parse_duration("-5m", &v) < 0, "duration: negative rejected");
	is_int(util_parse_duration("9223372036854775807d", &v), -ERANGE,
	    "duration: overflow after scaling");
	is_int(util_parse_duration("9223372036854775807", &v), 0,
	    "duration: INT64_MAX seconds");
	is_int(util_parse_duration(NULL, &v), -EINVAL,
	    "duration: NULL rejected");
}

static void
test_parse_size(void)
{
	static const struct {
		const char	*s;
		int64_t		 v;
	} good[] = {
		{ "0", 0 }, { "512", 512 }, { "64k", 65536 }, { "64K", 65536 },
		{ "16M", 16777216 }, { "1G", 1073741824 },
		{ "8589934591G", INT64_C(8589934591) * 1073741824 },
	};
	static const char *bad[] = { "", "k", "1T", "1kb", "1.5M", " 1M",
	    "1M ", "M1", "1 k" };
	int64_t v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		v = -1;
		is_int(util_parse_size(good[i].s, &v), 0, "size: '%s' parses",
		    good[i].s);
		is_int(v, good[i].v, "size: '%s' value", good[i].s);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		is_int(util_parse_size(bad[i], &v), -EINVAL,
		    "size: '%s' rejected", bad[i]);
	is_int(util_parse_size("8589934592G", &v), -ERANGE,
	    "size: 2^63 bytes overflows");
	ok(util_parse_size("-1k", &v) < 0, "size: negative rejected");
}

static void
test_parse_bool(void)
{
	static const char *yes[] = { "yes", "true", "on", "1", "YES", "True",
	    "ON" };
	static const char *no[] = { "no", "false", "off", "0", "NO", "False",
	    "Off" };
	static const char *bad[] = { "", "y", "n", "2", "yes ", " no", "enable",
	    "truee", "-1" };
	size_t i;
	int b;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		b = -1;
		is_int(util_parse_bool(yes[i], &b), 0, "bool: '%s' parses",
		    yes[i]);
		is_int(b, 1, "bool: '%s' is true", yes[i]);
	}
	for (i = 0; i < ARRAY_SIZE(no); i++) {
		b = -1;
		is_int(util_parse_bool(no[i], &b), 0, "bool: '%s' parses",
		    no[i]);
		is_int(b, 0, "bool: '%s' is false", no[i]);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		b = 7;
		is_int(util_parse_bool(bad[i], &b), -EINVAL,
		    "bool: '%s' rejected", bad[i]);
		is_int(b, 7, "bool: '%s' leaves the value", bad[i]);
	}
}

static void
test_parse_time(void)
{
	static const struct {
		const char	*s;
		int64_t		 t;
	} good[] = {
		/* Facebook Graph */
		{ "2026-03-02T14:05:09+0000", T_20260302_140509 },
		{ "2026-03-02T14:05:09Z", T_20260302_140509 },
		{ "2026-03-02T14:05:09z", T_20260302_140509 },
		/* Mastodon: milliseconds */
		{ "2026-03-02T14:05:09.505Z", T_20260302_140509 },
		/* Python isoformat: microseconds and a colon offset */
		{ "2026-03-02T14:05:09.903293+00:00", T_20260302_140509 },
		{ "2026-03-02T14:05:09.9+00:00", T_20260302_140509 },
		{ "2026-03-02T14:05:09.123456789Z", T_20260302_140509 },
		/* offsets: local time minus the offset */
		{ "2026-03-02T09:05:09-05:00", T_20260302_140509 },
		{ "2026-03-02T09:05:09-0500", T_20260302_140509 },
		{ "2026-03-02T14:05:09-05:00", T_20260302_140509 + 5 * 3600 },
		{ "2026-03-02T19:35:09+05:30", T_20260302_140509 },
		{ "2026-03-03T00:05:09+10:00", T_20260302_140509 },
		{ "2026-03-01T23:05:09-15:00", T_20260302_140509 },
		{ "2026-03-02 14:05:09Z", T_20260302_140509 },
		/* bare date: midnight UTC */
		{ "2026-03-02", 1772409600LL },
		{ "1970-01-01T00:00:00.000000Z", 0 },
		{ "1970-01-01", 0 },
		{ "2024-02-29T23:59:59Z", 1709251199LL },
		{ "2000-02-29", 951782400LL },
		{ "2038-01-19T03:14:08Z", 2147483648LL },
		{ "2026-12-31T23:59:59Z", 1798761599LL },
	};
	static const char *bad[] = {
		"", "garbage", "2026", "2026-03", "2026-3-02", "26-03-02",
		"2026-13-02T14:05:09Z", "2026-00-10", "2026-03-00",
		"2026-03-32", "2026-02-30", "2026-02-29", "1900-02-29",
		"2026-04-31", "2026-03-02T24:00:00Z", "2026-03-02T14:60:00Z",
		"2026-03-02T14:05:61Z", "2026-03-02T14:05:09",
		"2026-03-02T14:05:09Zjunk", "2026-03-02T14:05:09+0000 ",
		"2026-03-02junk", "2026-03-02T", "2026-03-02T14:05Z",
		"2026-03-02T14:05:09.Z", "2026-03-02T14:05:09+00",
		"2026-03-02T14:05:09+24:00", "2026-03-02T14:05:09+00:60",
		"2026-03-02T14:05:09+0:00", "2026-03-02T14:05:09UTC",
		" 2026-03-02", "2026-03-02 ", "2026/03/02",
		"2026-03-02X14:05:09Z",
		"2026-03-02T14:05:09+00:00:00", "2026-03-02T14:05:09.5.5Z",
	};
	int64_t t;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		t = -1;
		is_int(util_parse_time(good[i].s, &t), 0, "time: '%s' parses",
		    good[i].s);
		is_int(t, good[i].t, "time: '%s' value", good[i].s);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		t = 12345;
		is_int(util_parse_time(bad[i], &t), -EINVAL,
		    "time: '%s' rejected", bad[i]);
		is_int(t, 12345, "time: '%s' leaves the value", bad[i]);
	}
	is_int(util_parse_time(NULL, &t), -EINVAL, "time: NULL rejected");
}

static void
test_format_time(void)
{
	char buf[32], small[21];
	int64_t t, back;
	int i, bad = 0;

	is_str(util_format_time(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z",
	    "format: epoch");
	is_str(util_format_time(T_20260302_140509, buf, sizeof(buf)),
	    "2026-03-02T14:05:09Z", "format: 2026-03-02T14:05:09Z");
	is_str(util_format_time(T_20260302_140509, small, sizeof(small)),
	    "2026-03-02T14:05:09Z", "format: fits in 21 bytes");
	is_str(util_format_time(1709251199LL, buf, sizeof(buf)),
	    "2024-02-29T23:59:59Z", "format: leap day");
	ok(util_format_time(T_20260302_140509, buf, 20) == buf &&
	    strcmp(buf, "2026-03-02T14:05:09Z") != 0,
	    "format: too small a buffer is not a silent truncation");
	/* Every 97,003rd second from 1970 to 2100 survives a round trip. */
	for (i = 0, t = 0; t < 4102444800LL; t += 97003, i++) {
		back = -1;
		util_format_time(t, buf, sizeof(buf));
		if (util_parse_time(buf, &back) != 0 || back != t) {
			if (bad++ == 0)
				printf("# round trip of %" PRId64 " gave"
				    " '%s' -> %" PRId64 "\n", t, buf, back);
		}
	}
	ok(i > 1000 && bad == 0, "format: %d round trips, %d bad", i, bad);
	t = util_now();
	ok(util_parse_time(util_format_time(t, buf, sizeof(buf)), &back) == 0 &&
	    back == t, "format: now round trips");
}

static int
is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}

static void
test_uuid(void)
{
	char a[64], b[64], small[46];
	int good = 1, i;

	memset(a, 'x', sizeof(a));
	ok(util_uuid_urn(a, sizeof(a)) == a, "uuid: returns its buffer");
	is_int(strlen(a), 45, "uuid: 45 characters");
	ok(strncmp(a, "urn:uuid:", 9) == 0, "uuid: urn:uuid: prefix");
	ok(is_hex(a + 9, 8) && a[17] == '-' && is_hex(a + 18, 4) &&
	    a[22] == '-' && is_hex(a + 23, 4) && a[27] == '-' &&
	    is_hex(a + 28, 4) && a[32] == '-' && is_hex(a + 33, 12),
	    "uuid: 8-4-4-4-12 lower-case hex: %s", a);
	for (i = 0; i < 200; i++) {
		util_uuid_urn(b, sizeof(b));
		if (b[23] != '7' || strchr("89ab", b[28]) == NULL ||
		    strcmp(a, b) == 0 || strncmp(a + 9, b + 9, 8) > 0)
			good = 0;
	}
	ok(good, "uuid: version 7, RFC 9562 variant, distinct, time-ordered"
	    " (200 tries)");
	util_uuid_urn(small, sizeof(small));
	is_int(strlen(small), 45, "uuid: fits in 46 bytes");
}

static void
test_hex(void)
{
	static const unsigned char in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab,
	    0xff };
	char out[2 * sizeof(in) + 1];

	memset(out, 'x', sizeof(out));
	util_hex(in, sizeof(in), out);
	is_str(out, "00017f80abff", "hex: bytes to lower-case hex");
	memset(out, 'x', sizeof(out));
	util_hex(in, 0, out);
	is_str(out, "", "hex: zero bytes give an empty string");
}

static void
test_printable(void)
{
	ok(util_is_printable("plain text, \xc3\xa9t\xc3\xa9"),
	    "printable: text and UTF-8");
	ok(util_is_printable(""), "printable: empty");
	ok(!util_is_printable("a\tb"), "printable: tab is a control");
	ok(!util_is_printable("a\r\nb"), "printable: CR LF");
	ok(!util_is_printable("a\x7f"), "printable: DEL");
	ok(!util_is_printable("\x1b[31m"), "printable: escape");
}

int
main(void)
{
	test_parse_int();
	test_parse_duration();
	test_parse_size();
	test_parse_bool();
	test_parse_time();
	test_format_time();
	test_uuid();
	test_hex();
	test_printable();
	return tap_done();
}
