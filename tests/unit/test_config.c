/*
 * test_config.c - config_load(): every key parsed and defaulted, each kind
 * of error with its exact "FILE:LINE: message", token file permissions
 * and lookup ($CREDENTIALS_DIRECTORY), CONFIG_SKIP_SECRETS, quoting and
 * comments, secrets kept out of messages, and the example file documenting
 * every key. Runs with cwd = the repository root.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

#define EXAMPLE		"conf/sunarchive.conf.example"
#define TOKEN		"EAAB-test-token-Zq7xK9"
#define SECRET		"appsecret-5f3c9e1d"

static char dir[] = "/tmp/sunarchive-test-config.XXXXXX";
static char conf[256];
static char err[1024];

static void
path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* Write dir/NAME with mode; tokens are written with a trailing newline. */
static void
write_in(const char *name, const char *text, mode_t mode)
{
	char path[512];

	path_in(path, sizeof(path), name);
	write_file(path, text, mode);
}

static int
load(const char *text, unsigned flags, struct config *cfg)
{
	write_file(conf, text, 0644);
	memset(err, 0, sizeof(err));
	return config_load(conf, flags, cfg, err, sizeof(err));
}

/* Expect config_load to fail with r and "CONF:LINE: msg". */
static void
expect_err(const char *text, unsigned flags, int r, int line,
    const char *msg, const char *what)
{
	struct config cfg;
	char want[1024];
	int got;

	memset(&cfg, 0xa5, sizeof(cfg));
	got = load(text, flags, &cfg);
	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: %s", conf, line, msg);
	else
		snprintf(want, sizeof(want), "%s: %s", conf, msg);
	if (got == 0)
		config_release(&cfg);
	is_int(got, r, "%s: fails", what);
	is_str(err, want, "%s: message", what);
}

/* Prefixes shared by the error tests: one valid account. */
#define FB_HEAD	"[account fb]\nplatform = facebook\nid = 1\n" \
		"token_file = fb.token\n"

static void
test_full(void)
{
	static const char text[] =
	    "# global settings\n"
	    "state_dir = /srv/archive\n"
	    "log_level = debug\n"
	    "user_agent = \"City of Example records archiver/1.0\"\n"
	    "segment_max_size = 1G\n"
	    "segment_max_age = 12h\n"
	    "request_timeout = 30s\n"
	    "max_response_size = 8M\n"
	    "max_media_size = 0\n"
	    "retry_attempts = 5\n"
	    "retry_base = 0\n"
	    "pages_per_cycle = 7\n"
	    "recheck_day = 10m\n"
	    "recheck_week = 2h\n"
	    "recheck_month = 12h\n"
	    "recheck_older = 7d\n"
	    "full_scan_interval = 2d\n"
	    "\n"
	    "[account city-fb]\n"
	    "platform = facebook\n"
	    "id = 100000000000001\n"
	    "token_file = fb.token\n"
	    "app_secret_file = fb.secret\n"
	    "api_base = http://127.0.0.1:8080/graph/\n"
	    "api_version = v26.0\n"
	    "edge = feed\n"
	    "poll_interval = 90\n"
	    "request_budget = 200\n"
	    "budget_window = 30m\n"
	    "media = no\n"
	    "enabled = yes\n"
	    "\n"
	    "[account city.masto_2]\n"
	    "platform = mastodon\n"
	    "id = 109000000000000001\n"
	    "token_file = masto.token\n"
	    "api_base = https://social.example.gov\n";
	struct config cfg;
	const struct account_conf *a;
	char path[512];
	int r;

	r = load(text, 0, &cfg);
	is_int(r, 0, "full config loads");
	if (r != 0) {
		printf("# %s\n", err);
		return;
	}
	is_str(cfg.path, conf, "path kept");
	is_str(cfg.state_dir, "/srv/archive", "state_dir");
	is_str(cfg.log_level, "debug", "log_level");
	is_str(cfg.user_agent, "City of Example records archiver/1.0",
	    "user_agent (quoted, with spaces)");
	is_int(cfg.segment_max_size, 1024LL * 1024 * 1024, "segment_max_size");
	is_int(cfg.segment_max_age, 12 * 3600, "segment_max_age");
	is_int(cfg.request_timeout, 30, "request_timeout");
	is_int(cfg.max_response_size, 8 * 1024 * 1024, "max_response_size");
	is_int(cfg.max_media_size, 0, "max_media_size 0 allowed");
	is_int(cfg.retry_attempts, 5, "retry_attempts");
	is_int(cfg.retry_base, 0, "retry_base 0 allowed");
	is_int(cfg.pages_per_cycle, 7, "pages_per_cycle");
	is_int(cfg.recheck_day, 600, "recheck_day");
	is_int(cfg.recheck_week, 7200, "recheck_week");
	is_int(cfg.recheck_month, 43200, "recheck_month");
	is_int(cfg.recheck_older, 7 * 86400, "recheck_older");
	is_int(cfg.full_scan_interval, 2 * 86400, "full_scan_interval");
	is_int(cfg.naccounts, 2, "two accounts");

	a = &cfg.accounts[0];
	is_str(a->name, "city-fb", "fb: name");
	is_int(a->line, 19, "fb: line of the [account] header");
	is_int(a->platform, PLATFORM_FACEBOOK, "fb: platform");
	is_str(a->id, "100000000000001", "fb: id");
	path_in(path, sizeof(path), "fb.token");
	is_str(a->token_file, path, "fb: token_file relative to config dir");
	is_str(a->token, TOKEN, "fb: token loaded, newline trimmed");
	path_in(path, sizeof(path), "fb.secret");
	is_str(a->app_secret_file, path, "fb: app_secret_file resolved");
	is_str(a->app_secret, SECRET, "fb: app secret loaded");
	is_str(a->api_base, "http://127.0.0.1:8080/graph",
	    "fb: api_base with port and path, trailing / stripped");
	is_str(a->api_version, "v26.0", "fb: api_version");
	is_str(a->edge, "feed", "fb: edge");
	is_int(a->poll_interval, 90, "fb: poll_interval (bare seconds)");
	is_int(a->request_budget, 200, "fb: request_budget");
	is_int(a->budget_window, 1800, "fb: budget_window");
	is_int(a->media, 0, "fb: media");
	is_int(a->enabled, 1, "fb: enabled");

	a = &cfg.accounts[1];
	is_str(a->name, "city.masto_2", "masto: name");
	is_int(a->platform, PLATFORM_MASTODON, "masto: platform");
	is_str(a->id, "109000000000000001", "masto: id");
	is_str(a->token, "masto-token", "masto: token");
	is_str(a->api_base, "https://social.example.gov", "masto: api_base");
	ok(a->app_secret_file == NULL && a->app_secret == NULL &&
	    a->api_version == NULL && a->edge == NULL,
	    "masto: no facebook-only fields");
	is_int(a->poll_interval, 300, "masto: poll_interval default 5m");

	ok(config_account(&cfg, "city.masto_2") == &cfg.accounts[1],
	    "config_account finds by name");
	ok(config_account(&cfg, "nope") == NULL,
	    "config_account returns NULL for unknown names");
	config_release(&cfg);
	ok(cfg.accounts == NULL && cfg.naccounts == 0 && cfg.path == NULL,
	    "config_release zeroes the struct");
	config_release(&cfg);
	ok(1, "config_release accepts a released struct");
}

static void
test_defaults(void)
{
	struct config cfg;
	const struct account_conf *a;
	int r;

	r = load("", 0, &cfg);
	is_int(r, 0, "empty file is valid");
	is_int(cfg.naccounts, 0, "empty file: no accounts");
	is_str(err, "", "empty file: no message");
	is_str(cfg.state_dir, "/var/lib/sunarchive", "default state_dir");
	is_str(cfg.log_level, "info", "default log_level");
	ok(cfg.user_agent != NULL &&
	    strncmp(cfg.user_agent, "sunarchive/", 11) == 0 &&
	    cfg.user_agent[11] != '\0', "default user_agent sunarchive/VER");
	is_int(cfg.segment_max_size, 256LL * 1024 * 1024, "default 256M");
	is_int(cfg.segment_max_age, 86400, "default segment_max_age 1d");
	is_int(cfg.request_timeout, 60, "default request_timeout 60s");
	is_int(cfg.max_response_size, 16 * 1024 * 1024, "default 16M");
	is_int(cfg.max_media_size, 100 * 1024 * 1024, "default 100M");
	is_int(cfg.retry_attempts, 3, "default retry_attempts");
	is_int(cfg.retry_base, 2, "default retry_base");
	is_int(cfg.pages_per_cycle, 50, "default pages_per_cycle");
	is_int(cfg.recheck_day, 0, "default recheck_day");
	is_int(cfg.recheck_week, 3600, "default recheck_week");
	is_int(cfg.recheck_month, 6 * 3600, "default recheck_month");
	is_int(cfg.recheck_older, 86400, "default recheck_older");
	is_int(cfg.full_scan_interval, 86400, "default full_scan_interval");
	config_release(&cfg);

	r = load("[account fb]\nplatform = facebook\nid = 42\n"
	    "token_file = fb.token\n", 0, &cfg);
	is_int(r, 0, "minimal facebook account loads");
	if (r != 0)
		return;
	a = &cfg.accounts[0];
	is_str(a->api_base, "https://graph.facebook.com", "default api_base");
	is_str(a->api_version, "v25.0", "default api_version");
	is_str(a->edge, "posts", "default edge");
	is_int(a->poll_interval, 300, "default poll_interval");
	is_int(a->request_budget, 300, "default request_budget");
	is_int(a->budget_window, 3600, "default budget_window");
	is_int(a->media, 1, "default media");
	is_int(a->enabled, 1, "default enabled");
	ok(a->app_secret_file == NULL && a->app_secret == NULL,
	    "app_secret_file optional");
	is_str(config_platform_name(a->platform), "facebook",
	    "config_platform_name(facebook)");
	is_str(config_platform_name(PLATFORM_MASTODON), "mastodon",
	    "config_platform_name(mastodon)");
	config_release(&cfg);
}

static void
test_syntax(void)
{
	struct config cfg;
	int r;

	r = load("# comment\n"
	    "   # indented comment\n"
	    "\t\n"
	    "log_level = warning   # trailing comment\n"
	    "user_agent = \"ua # not a comment\"\t# but this is\n"
	    "state_dir=/srv/a#b\n"
	    "\n"
	    "[account  q-1 ]   # a comment after the header\n"
	    "platform = \"facebook\"\n"
	    "id = \"x@y.z\"\n"
	    "token_file = \"my \\\"token\\\" file\"\n"
	    "api_base = \"https://graph.facebook.com/\"\r\n",
	    CONFIG_SKIP_SECRETS, &cfg);
	is_int(r, 0, "comments, quotes and spacing parse");
	if (r != 0) {
		printf("# %s\n", err);
		return;
	}
	is_str(cfg.log_level, "warning", "trailing comment stripped");
	is_str(cfg.user_agent, "ua # not a comment", "'#' kept inside quotes");
	is_str(cfg.state_dir, "/srv/a#b", "'#' not after whitespace kept");
	is_str(cfg.accounts[0].name, "q-1", "section name with spaces around");
	is_str(cfg.accounts[0].id, "x@y.z", "quoted id");
	ok(cfg.accounts[0].token_file != NULL &&
	    strstr(cfg.accounts[0].token_file, "/my \"token\" file") != NULL,
	    "escaped quotes in a quoted value");
	is_str(cfg.accounts[0].api_base, "https://graph.facebook.com",
	    "CRLF line ending and trailing slash");
	config_release(&cfg);
}

static void
test_errors(void)
{
	char line[CONFIG_MAX_LINE + 8], *text;
	struct config cfg;
	size_t i, n;
	int r;

	expect_err("log_level = info\nfoo = 1\n", 0, -EINVAL, 2,
	    "unknown key 'foo'", "unknown key");
	expect_err("poll_interval = 5m\n", 0, -EINVAL, 1,
	    "key 'poll_interval' belongs in an [account NAME] section",
	    "account key in global scope");
	expect_err(FB_HEAD "state_dir = /x\n", 0, -EINVAL, 5,
	    "key 'state_dir' is global and must come before the first "
	    "[account] section", "global key in an account");
	expect_err("log_level = info\nlog_level = debug\n", 0, -EINVAL, 2,
	    "duplicate key 'log_level' (first set at line 1)",
	    "duplicate global key");
	expect_err(FB_HEAD "id = 2\n", CONFIG_SKIP_SECRETS, -EINVAL, 5,
	    "duplicate key 'id' (first set at line 3)",
	    "duplicate account key");
	expect_err(FB_HEAD "poll_interval = x\n", 0, -EINVAL, 5,
	    "invalid duration 'x' for 'poll_interval'", "bad duration");
	expect_err(FB_HEAD "poll_interval = 0\n", 0, -EINVAL, 5,
	    "value '0' out of range for 'poll_interval' (1s..1d)",
	    "duration below range");
	expect_err("segment_max_age = 31d\n", 0, -EINVAL, 1,
	    "value '31d' out of range for 'segment_max_age' (1m..30d)",
	    "duration above range");
	expect_err("segment_max_size = 512k\n", 0, -EINVAL, 1,
	    "value '512k' out of range for 'segment_max_size' (1M..64G)",
	    "size below range");
	expect_err("max_response_size = 16MB\n", 0, -EINVAL, 1,
	    "invalid size '16MB' for 'max_response_size'", "bad size");
	expect_err("retry_attempts = 11\n", 0, -EINVAL, 1,
	    "value '11' out of range for 'retry_attempts' (0..10)",
	    "int above range");
	expect_err("retry_attempts = three\n", 0, -EINVAL, 1,
	    "invalid integer 'three' for 'retry_attempts'", "bad int");
	expect_err("retry_base = -1s\n", 0, -EINVAL, 1,
	    "value '-1s' out of range for 'retry_base' (0..5m)",
	    "negative duration");
	expect_err("log_level = loud\n", 0, -EINVAL, 1,
	    "invalid value 'loud' for 'log_level' (expected "
	    "err|warning|notice|info|debug)", "bad enum");
	expect_err(FB_HEAD "media = maybe\n", 0, -EINVAL, 5,
	    "invalid boolean 'maybe' for 'media' (expected yes or no)",
	    "bad bool");
	expect_err(FB_HEAD "api_base = ftp://x\n", 0, -EINVAL, 5,
	    "invalid URL 'ftp://x' for 'api_base' (expected "
	    "http[s]://host[:port][/path])", "bad URL scheme");
	expect_err(FB_HEAD "api_base = https://h:99999\n", 0, -EINVAL, 5,
	    "invalid URL 'https://h:99999' for 'api_base' (expected "
	    "http[s]://host[:port][/path])", "bad URL port");
	expect_err(FB_HEAD "api_base = https://h/x?y=1\n", 0, -EINVAL, 5,
	    "invalid URL 'https://h/x?y=1' for 'api_base' (expected "
	    "http[s]://host[:port][/path])", "URL with a query");
	expect_err(FB_HEAD "api_version = 25.0\n", 0, -EINVAL, 5,
	    "invalid value '25.0' for 'api_version' (expected "
	    "v<major>.<minor>)", "bad api_version");
	expect_err(FB_HEAD "edge = photos\n", 0, -EINVAL, 5,
	    "invalid value 'photos' for 'edge' (expected posts|feed)",
	    "bad edge");
	expect_err("[account fb]\nplatform = facebook\nid = a/b\n", 0,
	    -EINVAL, 3, "invalid value 'a/b' for 'id' (expected "
	    "[A-Za-z0-9_.@-])", "bad id characters");
	memset(line, '7', 129);
	line[129] = '\0';
	if (asprintf(&text, "[account fb]\nid = %s\n", line) < 0)
		exit(1);
	expect_err(text, 0, -EINVAL, 2,
	    "value for 'id' must be 1..128 characters long", "id too long");
	free(text);
	expect_err("state_dir = var/lib\n", 0, -EINVAL, 1,
	    "relative path 'var/lib' for 'state_dir' (must be absolute)",
	    "relative state_dir");
	expect_err("log_level info\n", 0, -EINVAL, 1,
	    "malformed line (expected 'key = value')", "line without '='");
	expect_err("= info\n", 0, -EINVAL, 1,
	    "malformed line (expected 'key = value')", "line without key");
	expect_err("log_level =\n", 0, -EINVAL, 1,
	    "missing value for 'log_level'", "missing value");
	expect_err("user_agent = \"abc\n", 0, -EINVAL, 1,
	    "malformed line (unterminated quote)", "unterminated quote");
	expect_err("user_agent = \"abc\" def\n", 0, -EINVAL, 1,
	    "malformed line (text after closing quote)",
	    "text after closing quote");
	expect_err("\n[accounts fb]\n", 0, -EINVAL, 2,
	    "malformed section header (expected '[account NAME]')",
	    "bad section keyword");
	expect_err("[account fb\n", 0, -EINVAL, 1,
	    "malformed section header (expected '[account NAME]')",
	    "unclosed section header");
	expect_err("[account a b]\n", 0, -EINVAL, 1,
	    "malformed section header (expected '[account NAME]')",
	    "section name with a space");
	expect_err("[account fb/x]\n", 0, -EINVAL, 1,
	    "invalid account name 'fb/x' (expected 1..64 of [A-Za-z0-9._-])",
	    "bad section name");
	expect_err(FB_HEAD "[account fb]\n", CONFIG_SKIP_SECRETS, -EINVAL, 5,
	    "duplicate account 'fb' (first at line 1)", "duplicate section");
	expect_err("[account fb]\nid = 1\nplatform = facebook\n", 0, -EINVAL,
	    1, "account 'fb': missing required key 'token_file'",
	    "missing token_file, reported at the header");
	expect_err("\n[account fb]\ntoken_file = t\nplatform = facebook\n", 0,
	    -EINVAL, 2, "account 'fb': missing required key 'id'",
	    "missing id");
	expect_err("[account fb]\ntoken_file = t\nid = 1\n", 0, -EINVAL, 1,
	    "account 'fb': missing required key 'platform'",
	    "missing platform");
	expect_err("[account m]\nplatform = mastodon\nid = 1\n"
	    "token_file = t\n", 0, -EINVAL, 1,
	    "account 'm': missing required key 'api_base'",
	    "mastodon needs api_base");
	expect_err("[account m]\nplatform = mastodon\nid = 1\n"
	    "token_file = t\napi_base = https://m.example\n"
	    "app_secret_file = s\n", 0, -EINVAL, 6,
	    "account 'm': 'app_secret_file' applies only to facebook accounts",
	    "app_secret_file on mastodon");
	expect_err("[account m]\nplatform = mastodon\nid = 1\n"
	    "token_file = t\napi_base = https://m.example\nedge = feed\n", 0,
	    -EINVAL, 6, "account 'm': 'edge' applies only to facebook accounts",
	    "edge on mastodon");
	expect_err(FB_HEAD "[account fb2]\nplatform = facebook\nid = 1\n"
	    "token_file = fb.token\n", CONFIG_SKIP_SECRETS, -EINVAL, 5,
	    "account 'fb2': same platform, api_base and id as account 'fb' "
	    "(line 1)", "same page archived twice");
	expect_err("log_level = info\nuser_agent = a\001b\n", 0, -EINVAL, 2,
	    "malformed line (control character)", "control character");

	/* Line length: CONFIG_MAX_LINE bytes is fine, one more is not. */
	memset(line, ' ', CONFIG_MAX_LINE);
	line[0] = '#';
	line[CONFIG_MAX_LINE] = '\n';
	line[CONFIG_MAX_LINE + 1] = '\0';
	r = load(line, 0, &cfg);
	is_int(r, 0, "a line of exactly CONFIG_MAX_LINE bytes is accepted");
	if (r == 0)
		config_release(&cfg);
	memset(line, ' ', CONFIG_MAX_LINE + 1);
	line[0] = '#';
	line[CONFIG_MAX_LINE + 1] = '\n';
	line[CONFIG_MAX_LINE + 2] = '\0';
	if (asprintf(&text, "log_level = info\n%s", line) < 0)
		exit(1);
	expect_err(text, 0, -EINVAL, 2, "line too long (more than 4096 bytes)",
	    "line longer than CONFIG_MAX_LINE");
	free(text);

	/* CONFIG_MAX_ACCOUNTS sections are fine, one more is not. */
	n = 0;
	text = malloc(80 * (CONFIG_MAX_ACCOUNTS + 1));
	if (text == NULL)
		exit(1);
	for (i = 0; i < CONFIG_MAX_ACCOUNTS; i++)
		n += (size_t)snprintf(text + n, 80, "[account a%zu]\n"
		    "platform = facebook\nid = %zu\ntoken_file = t\n", i, i);
	r = load(text, CONFIG_SKIP_SECRETS, &cfg);
	is_int(r, 0, "CONFIG_MAX_ACCOUNTS accounts are accepted");
	if (r == 0) {
		is_int(cfg.naccounts, CONFIG_MAX_ACCOUNTS, "... all of them");
		config_release(&cfg);
	} else {
		printf("# %s\n", err);
	}
	snprintf(text + n, 80, "[account a%d]\n", CONFIG_MAX_ACCOUNTS);
	expect_err(text, CONFIG_SKIP_SECRETS, -EINVAL,
	    CONFIG_MAX_ACCOUNTS * 4 + 1, "too many accounts (limit 256)",
	    "more than CONFIG_MAX_ACCOUNTS accounts");
	free(text);

	/* The config file itself. */
	memset(&cfg, 0, sizeof(cfg));
	r = config_load("/nonexistent/sunarchive.conf", 0, &cfg, err,
	    sizeof(err));
	is_int(r, -ENOENT, "missing config file: -ENOENT");
	is_str(err, "/nonexistent/sunarchive.conf: cannot open config file: "
	    "No such file or directory", "missing config file: message");
	r = config_load(dir, 0, &cfg, err, sizeof(err));
	is_int(r, -EINVAL, "a directory is not a config file");
}

/* A config whose single facebook account reads token_file = NAME. */
static int
load_token(const char *name, unsigned flags, struct config *cfg)
{
	char text[1024];

	snprintf(text, sizeof(text), "log_level = info\n"
	    "[account fb]\nplatform = facebook\nid = 1\n"
	    "token_file = %s\n", name);
	return load(text, flags, cfg);
}

static void
test_secrets(void)
{
	char path[512], want[1024], credir[512], big[CONFIG_MAX_SECRET + 2];
	struct config cfg;
	int r;

	/* Permissions. */
	write_in("loose.token", TOKEN "\n", 0644);
	path_in(path, sizeof(path), "loose.token");
	memset(&cfg, 0x5a, sizeof(cfg));
	r = load_token("loose.token", 0, &cfg);
	is_int(r, -EINVAL, "token file mode 0644 rejected");
	snprintf(want, sizeof(want), "%s:5: token file '%s' is readable by "
	    "group or others (mode 0644); chmod 600 it", conf, path);
	is_str(err, want, "mode 0644: message names file, line and mode");
	ok(strstr(err, TOKEN) == NULL, "mode 0644: token not in message");
	ok(((unsigned char *)&cfg)[0] == 0x5a && cfg.naccounts != 0,
	    "*ret untouched on failure");
	chmod(path, 0640);
	r = load_token("loose.token", 0, &cfg);
	snprintf(want, sizeof(want), "%s:5: token file '%s' is readable by "
	    "group or others (mode 0640); chmod 600 it", conf, path);
	is_str(err, want, "mode 0640 rejected");
	chmod(path, 0602);
	r = load_token("loose.token", 0, &cfg);
	is_int(r, -EINVAL, "mode 0602 (writable by others) rejected");
	chmod(path, 0600);
	r = load_token("loose.token", 0, &cfg);
	is_int(r, 0, "token file mode 0600 accepted");
	if (r == 0) {
		is_str(cfg.accounts[0].token, TOKEN, "token loaded");
		config_release(&cfg);
	}
	chmod(path, 0400);
	r = load_token("loose.token", 0, &cfg);
	is_int(r, 0, "token file mode 0400 accepted");
	if (r == 0)
		config_release(&cfg);

	/* Missing, absolute, symlinked, empty, oversized, malformed. */
	path_in(path, sizeof(path), "missing.token");
	r = load_token("missing.token", 0, &cfg);
	is_int(r, -ENOENT, "missing token file: -ENOENT");
	snprintf(want, sizeof(want), "%s:5: cannot read token file '%s': "
	    "No such file or directory", conf, path);
	is_str(err, want, "missing token file: message");

	path_in(path, sizeof(path), "fb.token");
	r = load_token(path, 0, &cfg);
	is_int(r, 0, "absolute token_file");
	if (r == 0) {
		is_str(cfg.accounts[0].token_file, path, "absolute path kept");
		config_release(&cfg);
	}

	path_in(path, sizeof(path), "link.token");
	unlink(path);
	if (symlink("fb.token", path) == -1)
		perror("symlink");
	r = load_token("link.token", 0, &cfg);
	is_int(r, -ELOOP, "symlinked token file rejected");
	snprintf(want, sizeof(want), "%s:5: token file '%s' is a symbolic "
	    "link; name the file itself", conf, path);
	is_str(err, want, "symlink: message");

	write_in("empty.token", " \n\n", 0600);
	path_in(path, sizeof(path), "empty.token");
	r = load_token("empty.token", 0, &cfg);
	snprintf(want, sizeof(want), "%s:5: token file '%s' is empty", conf,
	    path);
	is_str(err, want, "whitespace-only token file rejected");

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	write_in("big.token", big, 0600);
	path_in(path, sizeof(path), "big.token");
	r = load_token("big.token", 0, &cfg);
	is_int(r, -EFBIG, "oversized token file rejected");
	snprintf(want, sizeof(want), "%s:5: token file '%s' is too large "
	    "(limit 8192 bytes)", conf, path);
	is_str(err, want, "oversized: message");

	write_in("split.token", TOKEN " " TOKEN "\n", 0600);
	r = load_token("split.token", 0, &cfg);
	is_int(r, -EINVAL, "token with inner whitespace rejected");
	ok(strstr(err, "contains whitespace") != NULL &&
	    strstr(err, TOKEN) == NULL,
	    "inner whitespace: message without the token");

	r = load_token(".", 0, &cfg);
	ok(r < 0 && strstr(err, "is not a regular file") != NULL,
	    "a directory is not a token file");

	/* The app secret file: same rules, its own line. */
	write_in("loose.secret", SECRET "\n", 0640);
	path_in(path, sizeof(path), "loose.secret");
	r = load("[account fb]\nplatform = facebook\nid = 1\n"
	    "token_file = fb.token\n\napp_secret_file = loose.secret\n", 0,
	    &cfg);
	is_int(r, -EINVAL, "app secret file mode 0640 rejected");
	snprintf(want, sizeof(want), "%s:6: app secret file '%s' is readable "
	    "by group or others (mode 0640); chmod 600 it", conf, path);
	is_str(err, want, "app secret: message at its own line");
	ok(strstr(err, SECRET) == NULL, "app secret not in message");

	/* $CREDENTIALS_DIRECTORY. */
	path_in(credir, sizeof(credir), "creds");
	mkdir(credir, 0700);
	write_in("creds/fb-cred", "credential-token\n", 0400);
	setenv("CREDENTIALS_DIRECTORY", credir, 1);
	r = load_token("fb-cred", 0, &cfg);
	is_int(r, 0, "token found in $CREDENTIALS_DIRECTORY");
	if (r == 0) {
		snprintf(want, sizeof(want), "%s/fb-cred", credir);
		is_str(cfg.accounts[0].token_file, want,
		    "token_file resolved in $CREDENTIALS_DIRECTORY");
		is_str(cfg.accounts[0].token, "credential-token",
		    "credential token loaded");
		config_release(&cfg);
	}
	r = load_token("fb.token", 0, &cfg);
	snprintf(want, sizeof(want), "%s:5: cannot read token file "
	    "'%s/fb.token': No such file or directory", conf, credir);
	is_str(err, want, "with $CREDENTIALS_DIRECTORY, no fallback to the "
	    "config dir");
	path_in(path, sizeof(path), "fb.token");
	r = load_token(path, 0, &cfg);
	is_int(r, 0, "absolute token_file ignores $CREDENTIALS_DIRECTORY");
	if (r == 0)
		config_release(&cfg);
	unsetenv("CREDENTIALS_DIRECTORY");

	/* CONFIG_SKIP_SECRETS opens nothing. */
	r = load_token("missing.token", CONFIG_SKIP_SECRETS, &cfg);
	is_int(r, 0, "CONFIG_SKIP_SECRETS: missing token file is fine");
	if (r == 0) {
		ok(cfg.accounts[0].token == NULL, "... and no token loaded");
		path_in(path, sizeof(path), "missing.token");
		is_str(cfg.accounts[0].token_file, path,
		    "... but the path is resolved");
		config_release(&cfg);
	}
	path_in(path, sizeof(path), "loose.token");
	chmod(path, 0644);
	r = load_token("loose.token", CONFIG_SKIP_SECRETS, &cfg);
	is_int(r, 0, "CONFIG_SKIP_SECRETS: mode 0644 file is not opened");
	if (r == 0)
		config_release(&cfg);

	/* A disabled account's token is not read. */
	r = load("[account fb]\nplatform = facebook\nid = 1\n"
	    "token_file = missing.token\nenabled = no\n", 0, &cfg);
	is_int(r, 0, "disabled account: token file not read");
	if (r == 0) {
		ok(cfg.accounts[0].enabled == 0 &&
		    cfg.accounts[0].token == NULL, "... and enabled = 0");
		config_release(&cfg);
	}
}

static void
test_example(void)
{
	struct config cfg;
	char *dump = NULL, *line, *next, *text;
	size_t len = 0, tlen;
	FILE *f;
	int r, nkeys = 0, missing = 0;

	r = config_load(EXAMPLE, CONFIG_SKIP_SECRETS, &cfg, err, sizeof(err));
	is_int(r, 0, "example config parses with CONFIG_SKIP_SECRETS");
	if (r != 0) {
		printf("# %s\n", err);
	} else {
		is_int(cfg.naccounts, 2, "example has two accounts");
		ok(cfg.naccounts == 2 &&
		    cfg.accounts[0].platform == PLATFORM_FACEBOOK &&
		    cfg.accounts[0].app_secret_file != NULL &&
		    cfg.accounts[1].platform == PLATFORM_MASTODON,
		    "example: a facebook page with app secret and a mastodon "
		    "account");
		config_release(&cfg);
	}

	f = open_memstream(&dump, &len);
	config_dump_keys(f);
	fclose(f);
	f = fopen(EXAMPLE, "r");
	if (f == NULL) {
		ok(0, "open %s", EXAMPLE);
		free(dump);
		return;
	}
	text = NULL;
	tlen = 0;
	if (getdelim(&text, &tlen, '\0', f) < 0) {
		free(text);
		text = NULL;
	}
	fclose(f);
	for (line = dump; line != NULL && *line != '\0'; line = next) {
		char scope[16], name[64], type[16], def[128], bounds[128];
		char pat1[80], pat2[80];

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (sscanf(line, "%15s %63s %15s %127s %127s", scope, name,
		    type, def, bounds) != 5) {
			ok(0, "dump line has 5 fields: '%s'", line);
			continue;
		}
		nkeys++;
		snprintf(pat1, sizeof(pat1), "\n#%s = ", name);
		snprintf(pat2, sizeof(pat2), "\n%s = ", name);
		if (text == NULL || (strstr(text, pat1) == NULL &&
		    strstr(text, pat2) == NULL)) {
			printf("# key '%s' not documented in %s\n", name,
			    EXAMPLE);
			missing++;
		}
	}
	ok(nkeys >= 28, "config_dump_keys lists every key (%d)", nkeys);
	is_int(missing, 0, "every key appears in %s", EXAMPLE);
	free(text);
	free(dump);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	unsetenv("CREDENTIALS_DIRECTORY");
	path_in(conf, sizeof(conf), "test.conf");
	write_in("fb.token", TOKEN "\n", 0600);
	write_in("fb.secret", SECRET "\r\n", 0600);
	write_in("masto.token", "masto-token", 0600);

	test_full();
	test_defaults();
	test_syntax();
	test_errors();
	test_secrets();
	test_example();

	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
