/*
 * config.h - sunarchive configuration: line-oriented "key = value" file with
 * "[account NAME]" sections, parsed against a static table of keys (type,
 * bounds, default, reloadable).
 */
#ifndef SUNARCHIVE_CONFIG_H
#define SUNARCHIVE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_DEFAULT_PATH	"/etc/sunarchive/sunarchive.conf"
#define CONFIG_MAX_ACCOUNTS	256
#define CONFIG_MAX_LINE		4096
#define CONFIG_MAX_SECRET	8192

enum platform {
	PLATFORM_FACEBOOK = 1,
	PLATFORM_MASTODON,
};

/* One [account NAME] section. Durations are in seconds, sizes in bytes. */
struct account_conf {
	char		*name;		/* section name, [A-Za-z0-9._-]{1,64} */
	enum platform	 platform;
	char		*id;		/* page id / Mastodon account id */
	char		*token_file;	/* resolved path */
	char		*token;		/* loaded secret; never log it */
	char		*app_secret_file; /* Facebook only; may be NULL */
	char		*app_secret;	/* loaded secret or NULL */
	char		*api_base;	/* scheme://host[:port], no final / */
	char		*api_version;	/* Facebook Graph version, "v25.0" */
	char		*edge;		/* Facebook: "posts" or "feed" */
	int64_t		 poll_interval;
	int64_t		 request_budget;	/* requests per budget_window */
	int64_t		 budget_window;
	int		 media;		/* download attachments: 0/1 */
	int		 enabled;
	int		 line;		/* line of the [account] header */
};

struct config {
	char		*path;
	char		*state_dir;
	char		*log_level;	/* debug|info|notice|warning|err */
	char		*user_agent;
	int64_t		 segment_max_size;
	int64_t		 segment_max_age;
	int64_t		 request_timeout;
	int64_t		 max_response_size;
	int64_t		 max_media_size;
	int64_t		 retry_attempts;
	int64_t		 retry_base;
	int64_t		 rate_limit_pause; /* limit without a reset time */
	int64_t		 pages_per_cycle;
	int64_t		 recheck_day;	/* re-check interval, < 1 day old */
	int64_t		 recheck_week;	/* items < 7 days old */
	int64_t		 recheck_month;	/* items < 30 days old */
	int64_t		 recheck_older;	/* older items */
	int64_t		 full_scan_interval;
	char		*signing_key_file;	/* Ed25519 key, or NULL */
	char		*signing_key_name;	/* NULL: sunarchive-<host> */
	char		*checkpoint_origin;	/* NULL: the key name */
	char		*tsa_url;		/* RFC 3161 TSA, or NULL */
	char		*tsa_ca_file;		/* trust for its tokens */
	char		*tsa_policy;		/* OID to ask for, or NULL */
	int64_t		 tsa_interval;		/* 0: every checkpoint */
	char		*holidays_file;		/* MO request deadlines */
	struct account_conf *accounts;
	size_t		 naccounts;
};

/*
 * Parse the file at path into *ret (which the caller then owns and frees
 * with config_release()). Loads token and app secret files: each must be a
 * regular file not readable or writable by group or others. A relative
 * token_file is looked up in $CREDENTIALS_DIRECTORY when that is set, else
 * relative to the config file's directory.
 *
 * Returns 0, or a negative errno with a message "FILE:LINE: message" (or
 * "FILE: message" when no line applies) written to err. Secrets never
 * appear in err.
 */
#define CONFIG_SKIP_SECRETS	0x1	/* CLI: do not read token files */

int	config_load(const char *path, unsigned flags, struct config *ret,
	    char *err, size_t errlen);

/* Free everything config_load() allocated; wipes secrets. Accepts zeroed. */
void	config_release(struct config *cfg);

/* Find an account by name; borrowed pointer or NULL. */
const struct account_conf *config_account(const struct config *cfg,
	    const char *name);

/* "facebook" / "mastodon". */
const char *config_platform_name(enum platform p);

/*
 * Write every key with its type, default and bounds to out as the
 * documentation table used by conf/sunarchive.conf.example tests.
 */
#include <stdio.h>
void	config_dump_keys(FILE *out);

#endif
