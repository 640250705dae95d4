/*
 * log.h - logging to stderr with journald priority prefixes ("<3>"), as
 * systemd reads them. Library-like modules do not log; the daemon loop and
 * CLI commands log each failure once.
 */
#ifndef SUNARCHIVE_LOG_H
#define SUNARCHIVE_LOG_H

#define LOG_PRI_ERR	3
#define LOG_PRI_WARNING	4
#define LOG_PRI_NOTICE	5
#define LOG_PRI_INFO	6
#define LOG_PRI_DEBUG	7

/* prefix: 1 = "<N>" journald prefixes, 0 = "sunarchived: warning: ". */
void	log_init(const char *progname, int prefix);
/* Returns 0, or -EINVAL for an unknown name. */
int	log_set_level_name(const char *name);
void	log_set_level(int pri);
int	log_level(void);

void	log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
