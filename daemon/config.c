/*
 * config.c - parse sunarchive.conf against a static table of keys.
 *
 * The file is line-oriented: "key = value", '#' comments, blank lines and
 * "[account NAME]" sections. Every key is one row of config_keys[] (scope,
 * type, bounds, default, reloadable, where it lives in the struct), so
 * parsing, defaults, freeing and the documentation dump all walk one table.
 * Secrets (token files) are read here, checked for safe permissions, and
 * never copied into an error message.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "util.h"
#include "xalloc.h"

#ifndef SUNARCHIVE_VERSION
#define SUNARCHIVE_VERSION	"unknown"
#endif

enum key_scope {
	SCOPE_GLOBAL,
	SCOPE_ACCOUNT,
};

enum key_type {
	TYPE_STRING,		/* char *, length bounded by min..max */
	TYPE_PATH,		/* char * */
	TYPE_DURATION,		/* int64_t seconds */
	TYPE_SIZE,		/* int64_t bytes */
	TYPE_INT,		/* int64_t */
	TYPE_BOOL,		/* int 0/1 */
	TYPE_ENUM,		/* char * one of choices, or enum platform */
	TYPE_URL,		/* char * http[s]://host[:port][/path] */
};

static const char *const type_names[] = {
	"string", "path", "duration", "size", "int", "bool", "enum", "url",
};

/*
 * Key flags. KEY_RELOAD: a SIGHUP applies a new value (others need a
 * restart). KEY_REQUIRED: every account must set it. KEY_FB_ONLY: only
 * facebook accounts may set it. KEY_FB_DEFAULT: the default applies to
 * facebook accounts; other platforms must set it unless it is also
 * KEY_FB_ONLY. KEY_ABSOLUTE: a path that must be absolute. KEY_PLATFORM:
 * an enum stored as enum platform (choice index + 1), not a string.
 */
#define KEY_RELOAD	0x01
#define KEY_REQUIRED	0x02
#define KEY_FB_ONLY	0x04
#define KEY_FB_DEFAULT	0x08
#define KEY_ABSOLUTE	0x10
#define KEY_PLATFORM	0x20

struct config_key {
	const char	*name;
	enum key_scope	 scope;
	enum key_type	 type;
	int64_t		 min;		/* numbers: value; strings: length */
	int64_t		 max;
	const char	*def;		/* default as written, or NULL */
	const char	*choices;	/* enum: "a|b"; string: syntax */
	int		(*check)(const char *);	/* extra check or NULL */
	unsigned	 flags;
	size_t		 offset;	/* in config or account_conf */
};

static int	check_id(const char *);
static int	check_api_version(const char *);

#define MIN_S	60
#define HOUR_S	3600
#define DAY_S	86400
#define KIB	1024LL
#define MIB	(1024LL * 1024)
#define GIB	(1024LL * 1024 * 1024)

/*
 * Every key the file may contain, in the order the example documents them.
 * Account keys: platform must come first (later checks depend on it).
 */
static const struct config_key config_keys[] = {
	/* global */
	{ "state_dir", SCOPE_GLOBAL, TYPE_PATH, 1, 4095,
	    "/var/lib/sunarchive", NULL, NULL, KEY_ABSOLUTE,
	    offsetof(struct config, state_dir) },
	{ "log_level", SCOPE_GLOBAL, TYPE_ENUM, 0, 0, "info",
	    "err|warning|notice|info|debug", NULL, KEY_RELOAD,
	    offsetof(struct config, log_level) },
	{ "user_agent", SCOPE_GLOBAL, TYPE_STRING, 1, 256,
	    "sunarchive/" SUNARCHIVE_VERSION, NULL, NULL, KEY_RELOAD,
	    offsetof(struct config, user_agent) },
	{ "segment_max_size", SCOPE_GLOBAL, TYPE_SIZE, 1 * MIB, 64 * GIB,
	    "256M", NULL, NULL, KEY_RELOAD,
	    offsetof(struct config, segment_max_size) },
	{ "segment_max_age", SCOPE_GLOBAL, TYPE_DURATION, MIN_S, 30 * DAY_S,
	    "1d", NULL, NULL, KEY_RELOAD,
	    offsetof(struct config, segment_max_age) },
	{ "request_timeout", SCOPE_GLOBAL, TYPE_DURATION, 1, 10 * MIN_S,
	    "60s", NULL, NULL, KEY_RELOAD,
	    offsetof(struct config, request_timeout) },
	{ "max_response_size", SCOPE_GLOBAL, TYPE_SIZE, 64 * KIB, 1 * GIB,
	    "16M", NULL, NULL, KEY_RELOAD,
	    offsetof(struct config, max_response_size) },
	{ "max_media_size", SCOPE_GLOBAL, TYPE_SIZE, 0, 4 * GIB,
	    "100M", NULL, NULL, KEY_RELOAD,
	    offsetof(struct config, max_media_size) },
	{ "retry_attempts", SCOPE_GLOBAL, TYPE_INT, 0, 10,
	    "3", NULL, NULL, KEY_RELOAD,
	    offsetof(struct config, retry_attempts) },
	{ "retry_base", SCOPE_GLOBAL, TYPE_DURATION, 0, 5 * MIN_S,
	    "2s", NULL, NULL, KEY_RELOAD,
	    offsetof(struct config, retry_base) },
	{ "rate_limit_pause", SCOPE_GLOBAL, TYPE_DURATION, 1, HOUR_S,
	    "60s", NULL, NULL, KEY_RELOAD,
	    offsetof(struct config, rate_limit_pause) },
	{ "pages_per_cycle", SCOPE_GLOBAL, TYPE_INT, 1, 10000,
	    "50", NULL, NULL, KEY_RELOAD,
	    offsetof(struct config, pages_per_cycle) },
	{ "recheck_day", SCOPE_GLOBAL, TYPE_DURATION, 0, DAY_S,
	    "0", NULL, NULL, KEY_RELOAD,
	    offsetof(struct config, recheck_day) },
	{ "recheck_week", SCOPE_GLOBAL, TYPE_DURATION, 0, 7 * DAY_S,
	    "1h", NULL, NULL, KEY_RELOAD,
	    offsetof(struct config, recheck_week) },
	{ "recheck_month", SCOPE_GLOBAL, TYPE_DURATION, 0, 30 * DAY_S,
	    "6h", NULL, NULL, KEY_RELOAD,
	    offsetof(struct config, recheck_month) },
	{ "recheck_older", SCOPE_GLOBAL, TYPE_DURATION, 0, 90 * DAY_S,
	    "1d", NULL, NULL, KEY_RELOAD,
	    offsetof(struct config, recheck_older) },
	{ "full_scan_interval", SCOPE_GLOBAL, TYPE_DURATION, 0, 90 * DAY_S,
	    "1d", NULL, NULL, KEY_RELOAD,
	    offsetof(struct config, full_scan_interval) },

	{ "signing_key_file", SCOPE_GLOBAL, TYPE_PATH, 1, 4095, NULL,
	    NULL, NULL, 0, offsetof(struct config, signing_key_file) },
	{ "signing_key_name", SCOPE_GLOBAL, TYPE_STRING, 1, 255, NULL,
	    NULL, NULL, 0, offsetof(struct config, signing_key_name) },
	{ "checkpoint_origin", SCOPE_GLOBAL, TYPE_STRING, 1, 255, NULL,
	    NULL, NULL, 0, offsetof(struct config, checkpoint_origin) },
	{ "tsa_url", SCOPE_GLOBAL, TYPE_URL, 0, 0, NULL, NULL, NULL,
	    KEY_RELOAD, offsetof(struct config, tsa_url) },
	{ "tsa_ca_file", SCOPE_GLOBAL, TYPE_PATH, 1, 4095, NULL, NULL, NULL,
	    KEY_RELOAD, offsetof(struct config, tsa_ca_file) },
	{ "tsa_policy", SCOPE_GLOBAL, TYPE_STRING, 1, 128, NULL, NULL, NULL,
	    KEY_RELOAD, offsetof(struct config, tsa_policy) },
	{ "tsa_interval", SCOPE_GLOBAL, TYPE_DURATION, 0, 7 * DAY_S,
	    "1d", NULL, NULL, KEY_RELOAD,
	    offsetof(struct config, tsa_interval) },
	{ "holidays_file", SCOPE_GLOBAL, TYPE_PATH, 1, 4095, NULL, NULL,
	    NULL, KEY_ABSOLUTE | KEY_RELOAD,
	    offsetof(struct config, holidays_file) },

	/* [account NAME] */
	{ "platform", SCOPE_ACCOUNT, TYPE_ENUM, 0, 0, NULL,
	    "facebook|mastodon", NULL, KEY_REQUIRED | KEY_PLATFORM,
	    offsetof(struct account_conf, platform) },
	{ "id", SCOPE_ACCOUNT, TYPE_STRING, 1, 128, NULL,
	    "[A-Za-z0-9_.@-]", check_id, KEY_REQUIRED,
	    offsetof(struct account_conf, id) },
	{ "token_file", SCOPE_ACCOUNT, TYPE_PATH, 1, 4095, NULL,
	    NULL, NULL, KEY_REQUIRED | KEY_RELOAD,
	    offsetof(struct account_conf, token_file) },
	{ "app_secret_file", SCOPE_ACCOUNT, TYPE_PATH, 1, 4095, NULL,
	    NULL, NULL, KEY_FB_ONLY | KEY_RELOAD,
	    offsetof(struct account_conf, app_secret_file) },
	{ "api_base", SCOPE_ACCOUNT, TYPE_URL, 0, 0,
	    "https://graph.facebook.com", NULL, NULL,
	    KEY_FB_DEFAULT | KEY_RELOAD,
	    offsetof(struct account_conf, api_base) },
	{ "api_version", SCOPE_ACCOUNT, TYPE_STRING, 4, 16, "v25.0",
	    "v<major>.<minor>", check_api_version,
	    KEY_FB_ONLY | KEY_FB_DEFAULT | KEY_RELOAD,
	    offsetof(struct account_conf, api_version) },
	{ "edge", SCOPE_ACCOUNT, TYPE_ENUM, 0, 0, "posts", "posts|feed",
	    NULL, KEY_FB_ONLY | KEY_FB_DEFAULT | KEY_RELOAD,
	    offsetof(struct account_conf, edge) },
	{ "poll_interval", SCOPE_ACCOUNT, TYPE_DURATION, 1, DAY_S, "5m",
	    NULL, NULL, KEY_RELOAD,
	    offsetof(struct account_conf, poll_interval) },
	{ "request_budget", SCOPE_ACCOUNT, TYPE_INT, 1, 1000000, "300",
	    NULL, NULL, KEY_RELOAD,
	    offsetof(struct account_conf, request_budget) },
	{ "budget_window", SCOPE_ACCOUNT, TYPE_DURATION, 1, DAY_S, "1h",
	    NULL, NULL, KEY_RELOAD,
	    offsetof(struct account_conf, budget_window) },
	{ "media", SCOPE_ACCOUNT, TYPE_BOOL, 0, 1, "yes", NULL, NULL,
	    KEY_RELOAD, offsetof(struct account_conf, media) },
	{ "enabled", SCOPE_ACCOUNT, TYPE_BOOL, 0, 1, "yes", NULL, NULL,
	    KEY_RELOAD, offsetof(struct account_conf, enabled) },
};

#define NKEYS	ARRAY_SIZE(config_keys)

/* Parser state for one config_load() call. */
struct parser {
	const char	*path;
	char		*err;
	size_t		 errlen;
	struct config	*cfg;
	int		 gline[NKEYS];	/* line each global key is on, or 0 */
	int		(*aline)[NKEYS]; /* the same for each account */
	size_t		 acap;
	struct account_conf *cur;	/* current [account] section or NULL */
	int		 curidx;
};

static int __attribute__((format(printf, 4, 5)))
fail(struct parser *p, int line, int r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->err == NULL || p->errlen == 0)
		return r;
	if (line > 0)
		n = snprintf(p->err, p->errlen, "%s:%d: ", p->path, line);
	else
		n = snprintf(p->err, p->errlen, "%s: ", p->path);
	if (n < 0 || (size_t)n >= p->errlen)
		return r;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return r;
}

static int
check_id(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("_.@-", *s) == NULL)
			return -EINVAL;
	return 0;
}

static int
check_api_version(const char *s)
{
	const char *d;

	if (*s++ != 'v')
		return -EINVAL;
	for (d = s; isdigit((unsigned char)*s); s++)
		;
	if (s == d || *s++ != '.')
		return -EINVAL;
	for (d = s; isdigit((unsigned char)*s); s++)
		;
	if (s == d || *s != '\0')
		return -EINVAL;
	return 0;
}

/*
 * Check http[s]://host[:port][/path] and strip trailing slashes from the
 * path in place. No user info, query or fragment: the connector appends
 * its own paths and parameters.
 */
static int
check_url(char *s)
{
	char *p, *host, *end;
	long port = 0;

	if (strncmp(s, "https://", 8) == 0)
		p = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		p = s + 7;
	else
		return -EINVAL;
	host = p;
	if (*p == '[') {
		for (p++; isxdigit((unsigned char)*p) || *p == ':' ||
		    *p == '.'; p++)
			;
		if (*p != ']' || p == host + 1)
			return -EINVAL;
		p++;
	} else {
		for (; isalnum((unsigned char)*p) || *p == '.' || *p == '-';
		    p++)
			;
		if (p == host)
			return -EINVAL;
	}
	if (*p == ':') {
		if (!isdigit((unsigned char)p[1]))
			return -EINVAL;
		for (p++; isdigit((unsigned char)*p) && port <= 65535; p++)
			port = port * 10 + (*p - '0');
		if (port < 1 || port > 65535)
			return -EINVAL;
	}
	if (*p != '\0' && *p != '/')
		return -EINVAL;
	end = p;
	for (; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) &&
		    strchr("/-._~%!$&'()*+,;=:@", *p) == NULL)
			return -EINVAL;
	while (p > end && p[-1] == '/')
		*--p = '\0';
	return 0;
}

/* Index of s in a "a|b|c" list, or -1. */
static int
choice_index(const char *choices, const char *s)
{
	const char *c = choices, *bar;
	size_t len = strlen(s), n;
	int i;

	for (i = 0;; i++) {
		bar = strchr(c, '|');
		n = bar != NULL ? (size_t)(bar - c) : strlen(c);
		if (n == len && strncmp(c, s, n) == 0)
			return i;
		if (bar == NULL)
			return -1;
		c = bar + 1;
	}
}

static const struct config_key *
key_find(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

static void *
key_field(const struct config_key *k, struct config *cfg,
    struct account_conf *a)
{
	char *base = k->scope == SCOPE_GLOBAL ? (char *)cfg : (char *)a;

	return base + k->offset;
}

static int
key_is_string(const struct config_key *k)
{
	if (k->type == TYPE_ENUM)
		return !(k->flags & KEY_PLATFORM);
	return k->type == TYPE_STRING || k->type == TYPE_PATH ||
	    k->type == TYPE_URL;
}

/* Print a bound the way a user would write it: "5m", "64k", "300". */
static void
format_value(const struct config_key *k, int64_t v, char *buf, size_t len)
{
	static const struct {
		int64_t	 mult;
		char	 unit;
	} durs[] = { { DAY_S, 'd' }, { HOUR_S, 'h' }, { MIN_S, 'm' } },
	    sizes[] = { { GIB, 'G' }, { MIB, 'M' }, { KIB, 'k' } };
	size_t i;

	if (v != 0 && k->type == TYPE_DURATION) {
		for (i = 0; i < ARRAY_SIZE(durs); i++) {
			if (v % durs[i].mult == 0) {
				snprintf(buf, len, "%" PRId64 "%c",
				    v / durs[i].mult, durs[i].unit);
				return;
			}
		}
		snprintf(buf, len, "%" PRId64 "s", v);
		return;
	}
	if (v != 0 && k->type == TYPE_SIZE) {
		for (i = 0; i < ARRAY_SIZE(sizes); i++) {
			if (v % sizes[i].mult == 0) {
				snprintf(buf, len, "%" PRId64 "%c",
				    v / sizes[i].mult, sizes[i].unit);
				return;
			}
		}
	}
	snprintf(buf, len, "%" PRId64, v);
}

static void
format_bounds(const struct config_key *k, char *buf, size_t len)
{
	char lo[32], hi[32];

	switch (k->type) {
	case TYPE_ENUM:
		snprintf(buf, len, "%s", k->choices);
		break;
	case TYPE_BOOL:
		snprintf(buf, len, "yes|no");
		break;
	case TYPE_URL:
		snprintf(buf, len, "http[s]://host[:port][/path]");
		break;
	case TYPE_PATH:
		snprintf(buf, len, "%s", k->flags & KEY_ABSOLUTE ?
		    "absolute" : "-");
		break;
	case TYPE_STRING:
		if (k->check == check_api_version)
			snprintf(buf, len, "%s", k->choices);
		else
			snprintf(buf, len, "length:%" PRId64 "..%" PRId64,
			    k->min, k->max);
		break;
	default:
		format_value(k, k->min, lo, sizeof(lo));
		format_value(k, k->max, hi, sizeof(hi));
		snprintf(buf, len, "%s..%s", lo, hi);
		break;
	}
}

/*
 * Parse val for key k into its field. line is 0 when applying a default
 * (a failure then is a bug in the table, reported as such).
 */
static int
key_set(struct parser *p, const struct config_key *k, void *field,
    const char *val, int line)
{
	char bounds[64], *s;
	int64_t v;
	size_t len;
	int b, i, r;
	const char *what;

	switch (k->type) {
	case TYPE_DURATION:
	case TYPE_SIZE:
	case TYPE_INT:
		if (k->type == TYPE_DURATION) {
			what = "duration";
			r = util_parse_duration(val, &v);
		} else if (k->type == TYPE_SIZE) {
			what = "size";
			r = util_parse_size(val, &v);
		} else {
			what = "integer";
			r = util_parse_int(val, INT64_MIN, INT64_MAX, &v);
		}
		if (r == -EINVAL)
			return fail(p, line, -EINVAL,
			    "invalid %s '%s' for '%s'", what, val, k->name);
		if (r < 0 || v < k->min || v > k->max) {
			format_bounds(k, bounds, sizeof(bounds));
			return fail(p, line, -EINVAL, "value '%s' out of range "
			    "for '%s' (%s)", val, k->name, bounds);
		}
		*(int64_t *)field = v;
		return 0;
	case TYPE_BOOL:
		if (util_parse_bool(val, &b) < 0)
			return fail(p, line, -EINVAL, "invalid boolean '%s' "
			    "for '%s' (expected yes or no)", val, k->name);
		*(int *)field = b;
		return 0;
	case TYPE_ENUM:
		i = choice_index(k->choices, val);
		if (i < 0)
			return fail(p, line, -EINVAL, "invalid value '%s' for "
			    "'%s' (expected %s)", val, k->name, k->choices);
		if (k->flags & KEY_PLATFORM) {
			*(enum platform *)field = (enum platform)(i + 1);
			return 0;
		}
		break;
	case TYPE_URL:
		s = xstrdup(val);
		if (check_url(s) < 0) {
			free(s);
			return fail(p, line, -EINVAL, "invalid URL '%s' for "
			    "'%s' (expected http[s]://host[:port][/path])",
			    val, k->name);
		}
		free(*(char **)field);
		*(char **)field = s;
		return 0;
	case TYPE_STRING:
	case TYPE_PATH:
		len = strlen(val);
		if (len < (size_t)k->min || len > (size_t)k->max)
			return fail(p, line, -EINVAL, "value for '%s' must be "
			    "%" PRId64 "..%" PRId64 " characters long",
			    k->name, k->min, k->max);
		if (k->check != NULL && k->check(val) < 0)
			return fail(p, line, -EINVAL, "invalid value '%s' for "
			    "'%s' (expected %s)", val, k->name, k->choices);
		if ((k->flags & KEY_ABSOLUTE) && val[0] != '/')
			return fail(p, line, -EINVAL, "relative path '%s' for "
			    "'%s' (must be absolute)", val, k->name);
		break;
	}
	free(*(char **)field);
	*(char **)field = xstrdup(val);
	return 0;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static char *
skip_blank(char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

static int
check_account_name(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if (!isalnum((unsigned char)*s) && strchr("._-", *s) == NULL)
			return -EINVAL;
	return n >= 1 && n <= 64 ? 0 : -EINVAL;
}

/* "[account NAME]" with s at the '['. */
static int
parse_section(struct parser *p, char *s, int line)
{
	struct config *cfg = p->cfg;
	struct account_conf *a;
	char *name, *end;
	size_t i;

	s = skip_blank(s + 1);
	if (strncmp(s, "account", 7) != 0 || !is_blank(s[7]))
		goto malformed;
	name = skip_blank(s + 7);
	for (end = name; *end != '\0' && *end != ']' && !is_blank(*end); end++)
		;
	s = skip_blank(end);
	if (*s != ']')
		goto malformed;
	s = skip_blank(s + 1);
	if (*s != '\0' && *s != '#')
		goto malformed;
	*end = '\0';

	if (check_account_name(name) < 0)
		return fail(p, line, -EINVAL, "invalid account name '%s' "
		    "(expected 1..64 of [A-Za-z0-9._-])", name);
	for (i = 0; i < cfg->naccounts; i++)
		if (strcmp(cfg->accounts[i].name, name) == 0)
			return fail(p, line, -EINVAL, "duplicate account '%s' "
			    "(first at line %d)", name, cfg->accounts[i].line);
	if (cfg->naccounts >= CONFIG_MAX_ACCOUNTS)
		return fail(p, line, -EINVAL, "too many accounts (limit %d)",
		    CONFIG_MAX_ACCOUNTS);

	if (cfg->naccounts == p->acap) {
		p->acap = p->acap ? p->acap * 2 : 8;
		cfg->accounts = xreallocarray(cfg->accounts, p->acap,
		    sizeof(*cfg->accounts));
		p->aline = xreallocarray(p->aline, p->acap, sizeof(*p->aline));
	}
	a = &cfg->accounts[cfg->naccounts];
	memset(a, 0, sizeof(*a));
	memset(p->aline[cfg->naccounts], 0, sizeof(p->aline[0]));
	a->name = xstrdup(name);
	a->line = line;
	p->cur = a;
	p->curidx = (int)cfg->naccounts++;
	return 0;

malformed:
	return fail(p, line, -EINVAL, "malformed section header "
	    "(expected '[account NAME]')");
}

/*
 * Unquote or uncomment the value starting at s, in place. Quoted values
 * take \" and \\; unquoted ones end at a '#' that follows whitespace.
 */
static int
parse_value(struct parser *p, char *s, int line, const char *key,
    char **ret_val)
{
	char *in, *out;

	if (*s == '"') {
		for (in = s + 1, out = s; *in != '"'; in++) {
			if (*in == '\0')
				return fail(p, line, -EINVAL, "malformed line "
				    "(unterminated quote)");
			if (*in == '\\') {
				in++;
				if (*in != '"' && *in != '\\')
					return fail(p, line, -EINVAL,
					    "malformed line (unknown escape "
					    "in quoted value)");
			}
			*out++ = *in;
		}
		*out = '\0';
		in = skip_blank(in + 1);
		if (*in != '\0' && *in != '#')
			return fail(p, line, -EINVAL, "malformed line "
			    "(text after closing quote)");
		*ret_val = s;
		return 0;
	}
	for (in = s; *in != '\0'; in++) {
		if (*in == '#' && in > s && is_blank(in[-1])) {
			*in = '\0';
			break;
		}
	}
	while (in > s && is_blank(in[-1]))
		*--in = '\0';
	if (*s == '\0' || *s == '#')
		return fail(p, line, -EINVAL, "missing value for '%s'", key);
	*ret_val = s;
	return 0;
}

static int
is_key_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.';
}

static int
parse_line(struct parser *p, char *s, int line)
{
	const struct config_key *k;
	char *key, *val = NULL, *t;
	int *seen;
	int r;

	/* Trim; skip blank lines and whole-line comments. */
	for (t = s + strlen(s); t > s && isspace((unsigned char)t[-1]); t--)
		;
	*t = '\0';
	s = skip_blank(s);
	if (*s == '\0' || *s == '#')
		return 0;
	for (t = s; *t != '\0'; t++)
		if (((unsigned char)*t < 0x20 && *t != '\t') || *t == 0x7f)
			return fail(p, line, -EINVAL, "malformed line "
			    "(control character)");
	if (*s == '[')
		return parse_section(p, s, line);

	key = s;
	while (is_key_char((unsigned char)*s))
		s++;
	t = s;
	s = skip_blank(s);
	if (t == key || *s != '=')
		return fail(p, line, -EINVAL, "malformed line (expected "
		    "'key = value')");
	*t = '\0';
	s = skip_blank(s + 1);

	k = key_find(key);
	if (k == NULL)
		return fail(p, line, -EINVAL, "unknown key '%s'", key);
	if (k->scope == SCOPE_GLOBAL && p->cur != NULL)
		return fail(p, line, -EINVAL, "key '%s' is global and must "
		    "come before the first [account] section", key);
	if (k->scope == SCOPE_ACCOUNT && p->cur == NULL)
		return fail(p, line, -EINVAL, "key '%s' belongs in an "
		    "[account NAME] section", key);
	seen = p->cur != NULL ? p->aline[p->curidx] : p->gline;
	if (seen[k - config_keys] != 0)
		return fail(p, line, -EINVAL, "duplicate key '%s' (first set "
		    "at line %d)", key, seen[k - config_keys]);

	r = parse_value(p, s, line, key, &val);
	if (r < 0)
		return r;
	r = key_set(p, k, key_field(k, p->cfg, p->cur), val, line);
	if (r < 0)
		return r;
	seen[k - config_keys] = line;
	return 0;
}

/*
 * Read one line of at most CONFIG_MAX_LINE bytes (newline excluded) into
 * buf. Returns 1 for a line, 0 at end of file, or a negative errno.
 */
static int
read_line(FILE *f, char *buf, size_t size)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF) {
		if (c == '\n')
			break;
		if (c == '\0')
			return -EBADMSG;
		if (n + 1 >= size)
			return -E2BIG;
		buf[n++] = (char)c;
	}
	if (ferror(f))
		return -EIO;
	buf[n] = '\0';
	return c == EOF && n == 0 ? 0 : 1;
}

static int
parse_file(struct parser *p)
{
	char buf[CONFIG_MAX_LINE + 1];
	struct stat st;
	FILE *f;
	int line = 0, r;

	f = fopen(p->path, "re");
	if (f == NULL) {
		r = -errno;
		return fail(p, 0, r, "cannot open config file: %s",
		    strerror(-r));
	}
	if (fstat(fileno(f), &st) == -1) {
		r = -errno;
		fail(p, 0, r, "cannot stat config file: %s", strerror(-r));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		r = fail(p, 0, -EINVAL, "config file is not a regular file");
		goto out_close;
	}
	for (;;) {
		line++;
		r = read_line(f, buf, sizeof(buf));
		if (r == 0)
			break;
		if (r == -E2BIG) {
			r = fail(p, line, -EINVAL, "line too long (more than "
			    "%d bytes)", CONFIG_MAX_LINE);
			goto out_close;
		}
		if (r == -EBADMSG) {
			r = fail(p, line, -EINVAL, "malformed line (NUL byte)");
			goto out_close;
		}
		if (r < 0) {
			fail(p, line, r, "cannot read config file: %s",
			    strerror(-r));
			goto out_close;
		}
		r = parse_line(p, buf, line);
		if (r < 0)
			goto out_close;
	}
	r = 0;
out_close:
	fclose(f);
	return r;
}

/* Apply every default for an unset key of scope (a is NULL for global). */
static int
apply_defaults(struct parser *p, struct account_conf *a, const int *seen)
{
	const struct config_key *k;
	size_t i;
	int r;

	for (i = 0; i < NKEYS; i++) {
		k = &config_keys[i];
		if (k->scope != (a != NULL ? SCOPE_ACCOUNT : SCOPE_GLOBAL) ||
		    seen[i] != 0 || k->def == NULL)
			continue;
		if ((k->flags & KEY_FB_DEFAULT) &&
		    a->platform != PLATFORM_FACEBOOK)
			continue;
		r = key_set(p, k, key_field(k, p->cfg, a), k->def, 0);
		if (r < 0)
			return fail(p, 0, r, "internal error: bad default "
			    "for '%s'", k->name);
	}
	return 0;
}

/*
 * Resolve a relative secret file name: $CREDENTIALS_DIRECTORY/NAME under
 * systemd's LoadCredential=, else relative to the config file.
 */
static void
resolve_secret_path(struct parser *p, char **pathp)
{
	const char *credir, *slash;
	char *old = *pathp;

	if (old == NULL || old[0] == '/')
		return;
	credir = getenv("CREDENTIALS_DIRECTORY");
	if (credir != NULL && credir[0] != '\0') {
		*pathp = xasprintf("%s/%s", credir, old);
	} else {
		slash = strrchr(p->path, '/');
		if (slash == NULL)
			return;
		*pathp = xasprintf("%.*s/%s", (int)(slash - p->path),
		    p->path, old);
	}
	free(old);
}

static int
account_finish(struct parser *p, struct account_conf *a, const int *seen)
{
	struct config *cfg = p->cfg;
	const struct config_key *k;
	const struct account_conf *o;
	size_t i;
	int r;

	for (i = 0; i < NKEYS; i++) {
		k = &config_keys[i];
		if (k->scope != SCOPE_ACCOUNT)
			continue;
		if (seen[i] == 0 && ((k->flags & KEY_REQUIRED) ||
		    ((k->flags & KEY_FB_DEFAULT) && !(k->flags & KEY_FB_ONLY) &&
		    a->platform != PLATFORM_FACEBOOK)))
			return fail(p, a->line, -EINVAL, "account '%s': "
			    "missing required key '%s'", a->name, k->name);
		if (seen[i] != 0 && (k->flags & KEY_FB_ONLY) &&
		    a->platform != PLATFORM_FACEBOOK)
			return fail(p, seen[i], -EINVAL, "account '%s': '%s' "
			    "applies only to facebook accounts", a->name,
			    k->name);
	}
	r = apply_defaults(p, a, seen);
	if (r < 0)
		return r;
	resolve_secret_path(p, &a->token_file);
	resolve_secret_path(p, &a->app_secret_file);

	for (o = cfg->accounts; o < a; o++)
		if (o->platform == a->platform &&
		    strcmp(o->api_base, a->api_base) == 0 &&
		    strcmp(o->id, a->id) == 0)
			return fail(p, a->line, -EINVAL, "account '%s': same "
			    "platform, api_base and id as account '%s' "
			    "(line %d)", a->name, o->name, o->line);
	return 0;
}

/*
 * Read a secret file into *ret_secret. what names it in messages ("token
 * file"); the contents never appear in one.
 */
static int
secret_load(struct parser *p, int line, const char *what, const char *path,
    char **ret_secret)
{
	char buf[CONFIG_MAX_SECRET + 1];
	struct stat st;
	size_t len = 0, i;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK);
	if (fd == -1) {
		r = -errno;
		if (r == -ELOOP)
			return fail(p, line, r, "%s '%s' is a symbolic link; "
			    "name the file itself", what, path);
		return fail(p, line, r, "cannot read %s '%s': %s", what, path,
		    strerror(-r));
	}
	if (fstat(fd, &st) == -1) {
		r = -errno;
		fail(p, line, r, "cannot read %s '%s': %s", what, path,
		    strerror(-r));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		r = fail(p, line, -EINVAL, "%s '%s' is not a regular file",
		    what, path);
		goto out_close;
	}
	if ((st.st_mode & 077) != 0) {
		r = fail(p, line, -EINVAL, "%s '%s' is readable by group or "
		    "others (mode %04o); chmod 600 it", what, path,
		    (unsigned)(st.st_mode & 07777));
		goto out_close;
	}
	if (st.st_size > CONFIG_MAX_SECRET)
		goto too_large;
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = -errno;
			fail(p, line, r, "cannot read %s '%s': %s", what, path,
			    strerror(-r));
			goto out_wipe;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONFIG_MAX_SECRET)
		goto too_large;
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		len--;
	if (len == 0) {
		r = fail(p, line, -EINVAL, "%s '%s' is empty", what, path);
		goto out_wipe;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)buf[i] <= 0x20 || buf[i] == 0x7f) {
			r = fail(p, line, -EINVAL, "%s '%s' contains "
			    "whitespace or control characters", what, path);
			goto out_wipe;
		}
	}
	*ret_secret = xstrndup(buf, len);
	r = 0;
	goto out_wipe;

too_large:
	r = fail(p, line, -EFBIG, "%s '%s' is too large (limit %d bytes)",
	    what, path, CONFIG_MAX_SECRET);
out_wipe:
	explicit_bzero(buf, sizeof(buf));
out_close:
	close(fd);
	return r;
}

static int
account_load_secrets(struct parser *p, struct account_conf *a,
    const int *seen)
{
	int r;

	/* A disabled account is not polled; its token may be gone. */
	if (!a->enabled)
		return 0;
	r = secret_load(p, seen[key_find("token_file") - config_keys],
	    "token file", a->token_file, &a->token);
	if (r < 0 || a->app_secret_file == NULL)
		return r;
	return secret_load(p, seen[key_find("app_secret_file") - config_keys],
	    "app secret file", a->app_secret_file, &a->app_secret);
}

int
config_load(const char *path, unsigned flags, struct config *ret,
    char *err, size_t errlen)
{
	struct config cfg;
	struct parser p;
	size_t i;
	int r;

	memset(&cfg, 0, sizeof(cfg));
	memset(&p, 0, sizeof(p));
	p.path = path;
	p.err = err;
	p.errlen = errlen;
	p.cfg = &cfg;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	cfg.path = xstrdup(path);

	r = parse_file(&p);
	if (r < 0)
		goto out_release;
	r = apply_defaults(&p, NULL, p.gline);
	if (r < 0)
		goto out_release;
	if (cfg.tsa_url != NULL && cfg.tsa_ca_file == NULL) {
		r = fail(&p, p.gline[key_find("tsa_url") - config_keys],
		    -EINVAL, "'tsa_url' needs 'tsa_ca_file' (the CA that"
		    " issues the time-stamping authority's certificate)");
		goto out_release;
	}
	for (i = 0; i < cfg.naccounts; i++) {
		r = account_finish(&p, &cfg.accounts[i], p.aline[i]);
		if (r < 0)
			goto out_release;
	}
	if (!(flags & CONFIG_SKIP_SECRETS)) {
		for (i = 0; i < cfg.naccounts; i++) {
			r = account_load_secrets(&p, &cfg.accounts[i],
			    p.aline[i]);
			if (r < 0)
				goto out_release;
		}
	}
	free(p.aline);
	*ret = cfg;
	return 0;

out_release:
	free(p.aline);
	config_release(&cfg);
	return r;
}

static void
free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void
config_release(struct config *cfg)
{
	const struct config_key *k;
	struct account_conf *a;
	size_t i, j;

	if (cfg == NULL)
		return;
	for (j = 0; j < cfg->naccounts; j++) {
		a = &cfg->accounts[j];
		for (i = 0; i < NKEYS; i++) {
			k = &config_keys[i];
			if (k->scope == SCOPE_ACCOUNT && key_is_string(k))
				free(*(char **)key_field(k, cfg, a));
		}
		free(a->name);
		free_secret(a->token);
		free_secret(a->app_secret);
	}
	for (i = 0; i < NKEYS; i++) {
		k = &config_keys[i];
		if (k->scope == SCOPE_GLOBAL && key_is_string(k))
			free(*(char **)key_field(k, cfg, NULL));
	}
	free(cfg->accounts);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

const struct account_conf *
config_account(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->naccounts; i++)
		if (strcmp(cfg->accounts[i].name, name) == 0)
			return &cfg->accounts[i];
	return NULL;
}

const char *
config_platform_name(enum platform p)
{
	switch (p) {
	case PLATFORM_FACEBOOK:
		return "facebook";
	case PLATFORM_MASTODON:
		return "mastodon";
	}
	return "unknown";
}

void
config_dump_keys(FILE *out)
{
	const struct config_key *k;
	char bounds[128];
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		k = &config_keys[i];
		format_bounds(k, bounds, sizeof(bounds));
		fprintf(out, "%s %s %s ",
		    k->scope == SCOPE_GLOBAL ? "global" : "account", k->name,
		    type_names[k->type]);
		if (k->def == NULL)
			fprintf(out, "%s", k->flags & KEY_REQUIRED ?
			    "required" : "-");
		else if (k->flags & KEY_FB_DEFAULT)
			fprintf(out, "facebook:%s", k->def);
		else
			fprintf(out, "%s", k->def);
		fprintf(out, " %s\n", bounds);
	}
}
