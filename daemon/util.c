/*
 * util.c - safe number, duration, size, boolean and time parsing; clocks;
 * hex; random ids. Everything that turns untrusted text into numbers goes
 * through here so bounds are checked in one place.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "util.h"

/* The times util_parse_time() accepts: 1000-01-01 to 9999-12-31 UTC. */
#define UTIL_TIME_MIN	(-30610224000LL)
#define UTIL_TIME_MAX	253402300799LL

int
util_parse_int(const char *s, int64_t min, int64_t max, int64_t *ret_v)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*ret_v = v;
	return 0;
}

static int
parse_scaled(const char *s, const char *units, const int64_t *mult,
    int64_t *ret)
{
	char num[32];
	size_t len;
	const char *u;
	int64_t v, m = 1;
	int r;

	if (s == NULL || (len = strlen(s)) == 0 || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, len + 1);
	if (!isdigit((unsigned char)num[len - 1])) {
		u = strchr(units, num[len - 1]);
		if (u == NULL)
			return -EINVAL;
		m = mult[u - units];
		num[len - 1] = '\0';
	}
	r = util_parse_int(num, 0, INT64_MAX, &v);
	if (r < 0)
		return r;
	if (v > INT64_MAX / m)
		return -ERANGE;
	*ret = v * m;
	return 0;
}

int
util_parse_duration(const char *s, int64_t *ret_secs)
{
	static const int64_t mult[] = { 1, 60, 3600, 86400, 604800 };

	return parse_scaled(s, "smhdw", mult, ret_secs);
}

int
util_parse_size(const char *s, int64_t *ret_bytes)
{
	static const int64_t mult[] = { 1024, 1024, 1048576, 1073741824 };

	return parse_scaled(s, "kKMG", mult, ret_bytes);
}

int
util_parse_bool(const char *s, int *ret_b)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret_b = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret_b = 0;
			return 0;
		}
	}
	return -EINVAL;
}

static int
digits(const char **p, int n, int *ret)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return 0;
}

/* Days in month mo (1-12) of year y, proleptic Gregorian. */
static int
month_days(int y, int mo)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[mo - 1];
}

int
util_parse_time(const char *s, int64_t *ret_t)
{
	struct tm tm;
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, se = 0, oh = 0, om = 0, sign = 0;
	time_t t;

	if (s == NULL || digits(&p, 4, &y) < 0 || *p++ != '-' ||
	    digits(&p, 2, &mo) < 0 || *p++ != '-' || digits(&p, 2, &d) < 0)
		return -EINVAL;
	if (*p == '\0')
		goto done;
	if ((*p != 'T' && *p != 't' && *p != ' ') || (p++, 0) ||
	    digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0 ||
	    *p++ != ':' || digits(&p, 2, &se) < 0)
		return -EINVAL;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh) < 0)
			return -EINVAL;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om) < 0)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*p != '\0')
		return -EINVAL;
done:
	/* timegm() would quietly turn "2026-02-30" into March 2. */
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 ||
	    mi > 59 || se > 60 || oh > 23 || om > 59)
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	t -= sign * (oh * 3600 + om * 60);
	/*
	 * Only times util_format_time() writes back the same way: years
	 * 1000 to 9999 after the offset ("0026-..." would come back as
	 * "26-..." and a record holding it could not be read again).
	 */
	if (t < UTIL_TIME_MIN || t > UTIL_TIME_MAX)
		return -EINVAL;
	*ret_t = (int64_t)t;
	return 0;
}

char *
util_format_time(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "invalid-time");
	return buf;
}

int64_t
util_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

int64_t
util_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
util_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
util_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int
util_is_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

uint32_t
util_random(void)
{
	uint32_t v;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint32_t)util_now_usec() ^ (uint32_t)rand();
	return v;
}

char *
util_uuid_urn(char *buf, size_t len)
{
	unsigned char b[16];
	uint64_t ms = (uint64_t)(util_now_usec() / 1000);
	int i;

	/*
	 * UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random
	 * bits. Time-ordered ids keep the index's record-id B-tree appending
	 * at its end instead of dirtying a random page per record.
	 */
	if (getrandom(b + 6, 10, 0) != 10) {
		for (i = 6; i < 16; i++)
			b[i] = (unsigned char)util_random();
	}
	for (i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	b[6] = (b[6] & 0x0f) | 0x70;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(buf, len, "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
	    b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
	    b[15]);
	return buf;
}
