/*
 * tap.h - a tiny TAP producer for the C unit tests. Each check prints
 * "ok N - what" or "not ok N - what (file:line)"; tap_done() prints the
 * plan and returns the exit status. tests/run.py reads the lines.
 */
#ifndef SUNARCHIVE_TAP_H
#define SUNARCHIVE_TAP_H

#include <stdio.h>
#include <stdarg.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(a, b, ...) do {						\
	long long tap_a_ = (long long)(a), tap_b_ = (long long)(b);	\
	if (!tap_ok(tap_a_ == tap_b_, __FILE__, __LINE__, __VA_ARGS__))	\
		printf("#   got %lld, want %lld\n", tap_a_, tap_b_);	\
} while (0)
#define is_str(a, b, ...) do {						\
	const char *tap_a_ = (a), *tap_b_ = (b);			\
	int tap_eq_ = tap_a_ != NULL && tap_b_ != NULL &&		\
	    strcmp(tap_a_, tap_b_) == 0;				\
	if (!tap_ok(tap_eq_, __FILE__, __LINE__, __VA_ARGS__))		\
		printf("#   got '%s', want '%s'\n", tap_a_ ? tap_a_ :	\
		    "(null)", tap_b_ ? tap_b_ : "(null)");		\
} while (0)

static int __attribute__((format(printf, 4, 5), unused))
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!cond) {
		printf(" (%s:%d)", file, line);
		tap_failed++;
	}
	printf("\n");
	fflush(stdout);
	return cond;
}

static int __attribute__((unused))
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
