/*
 * log.c - OpenBSD-style logging to stderr. Under systemd each line carries
 * a "<N>" priority prefix that journald turns into the entry's priority.
 * Messages must never contain secrets: callers redact URLs before logging.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static const char *log_progname = "sunarchive";
static int log_prefix;
static int log_pri = LOG_PRI_INFO;

static const struct {
	const char	*name;
	int		 pri;
} log_levels[] = {
	{ "err",	LOG_PRI_ERR },
	{ "warning",	LOG_PRI_WARNING },
	{ "notice",	LOG_PRI_NOTICE },
	{ "info",	LOG_PRI_INFO },
	{ "debug",	LOG_PRI_DEBUG },
};

void
log_init(const char *progname, int prefix)
{
	log_progname = progname;
	log_prefix = prefix;
}

int
log_set_level_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
		if (strcmp(log_levels[i].name, name) == 0) {
			log_pri = log_levels[i].pri;
			return 0;
		}
	}
	return -EINVAL;
}

void
log_set_level(int pri)
{
	log_pri = pri;
}

int
log_level(void)
{
	return log_pri;
}

static void __attribute__((format(printf, 2, 0)))
log_vwrite(int pri, const char *fmt, va_list ap)
{
	static const char *names[] = { "emerg", "alert", "crit", "error",
	    "warning", "notice", "info", "debug" };
	char msg[2048];
	char *p;

	if (pri > log_pri)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* One record per line: fold embedded newlines. */
	for (p = msg; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (log_prefix)
		fprintf(stderr, "<%d>%s\n", pri, msg);
	else if (pri <= LOG_PRI_WARNING)
		fprintf(stderr, "%s: %s: %s\n", log_progname, names[pri], msg);
	else
		fprintf(stderr, "%s: %s\n", log_progname, msg);
	fflush(stderr);
}

#define LOG_FN(fn, pri)						\
void								\
fn(const char *fmt, ...)					\
{								\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	log_vwrite(pri, fmt, ap);				\
	va_end(ap);						\
}

LOG_FN(log_err, LOG_PRI_ERR)
LOG_FN(log_warnx, LOG_PRI_WARNING)
LOG_FN(log_notice, LOG_PRI_NOTICE)
LOG_FN(log_info, LOG_PRI_INFO)
LOG_FN(log_debug, LOG_PRI_DEBUG)
