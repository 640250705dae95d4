/*
 * util.h - safe parsing, time and small string helpers.
 */
#ifndef SUNARCHIVE_UTIL_H
#define SUNARCHIVE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Parse a decimal integer in [min, max]; 0 or -EINVAL / -ERANGE. */
int	util_parse_int(const char *s, int64_t min, int64_t max,
	    int64_t *ret_v);
/* "90", "90s", "15m", "2h", "7d" -> seconds. 0 or -EINVAL / -ERANGE. */
int	util_parse_duration(const char *s, int64_t *ret_secs);
/* "512", "64k", "16M", "1G" (powers of 1024) -> bytes. */
int	util_parse_size(const char *s, int64_t *ret_bytes);
/* "yes"/"no"/"true"/"false"/"on"/"off"/"1"/"0". */
int	util_parse_bool(const char *s, int *ret_b);

/*
 * Tolerant RFC 3339 parser: "2026-03-02T14:05:09+0000", "...Z",
 * "...505Z", "...+00:00", fractions of any length, and a bare date
 * "2026-03-02". Returns 0 and UTC seconds (fraction dropped) or -EINVAL.
 */
int	util_parse_time(const char *s, int64_t *ret_t);
/* Format UTC seconds as "2026-03-02T14:05:09Z" into buf (>= 21 bytes). */
char	*util_format_time(int64_t t, char *buf, size_t len);

/* Wall clock seconds / microseconds, and monotonic milliseconds. */
int64_t	util_now(void);
int64_t	util_now_usec(void);
int64_t	util_mono_ms(void);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void	util_hex(const unsigned char *in, size_t n, char *out);

/* Constant-time-ish check that s contains no ASCII control characters. */
int	util_is_printable(const char *s);

/* Random 32-bit value from the OS (getrandom); never fails fatally. */
uint32_t util_random(void);
/* New time-ordered "urn:uuid:..." (UUIDv7) into buf (>= 46 bytes). */
char	*util_uuid_urn(char *buf, size_t len);

#endif
