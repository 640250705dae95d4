/*
 * ctl.c - sunarchive, the command-line tool the clerk and IT use on the
 * archive: global options, the commands[] table (one row per command, the
 * code in daemon/cmd/NAME.c), and the helpers commands share to open the
 * index read-only, parse options, and print JSON or terminal-safe text.
 *
 * Exit codes: 0 ok, 1 nothing found, 2 usage error, 3 config, I/O or
 * database error. Every failure is reported once, on stderr, naming the
 * file it concerns.
 */
#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "config.h"
#include "ctl.h"
#include "util.h"
#include "xalloc.h"

#ifndef SUNARCHIVE_VERSION
#define SUNARCHIVE_VERSION	"0.1.0"
#endif

#define CTL_PROGNAME		"sunarchive"
#define CTL_DEFAULT_WIDTH	120

static int	ctl_cmd_help(int, char **, struct ctl *);

static const struct command commands[] = {
	{ "status", cmd_status,
	    "capture health per account and the archive's size",
	    "status [--json]",
	    "  Per account: status, last successful poll, last attempt, pause,\n"
	    "  items, versions, edited, removed, hidden, open capture gaps.\n"
	    "  Archive: segments (sealed, open, suspect), records, files and\n"
	    "  bytes on disk. A warning line for anything that needs a look.\n"
	    "  --json              {\"accounts\": [...], \"archive\": {...},\n"
	    "                      \"warnings\": [...]}\n" },
	{ "search", cmd_search,
	    "find archived items by account, date, text, author, state",
	    "search [--account NAME] [--platform facebook|mastodon]\n"
	    "\t[--from DATE] [--to DATE] [--text WORDS] [--author NAME]\n"
	    "\t[--state STATE] [--kind post|comment|reply] [--limit N]"
	    " [--json]",
	    "  --account NAME      items of this account (its config name)\n"
	    "  --platform NAME     facebook or mastodon\n"
	    "  --from DATE         created at or after DATE (YYYY-MM-DD or\n"
	    "                      RFC 3339, UTC)\n"
	    "  --to DATE           created at or before DATE; a bare date\n"
	    "                      includes that whole day\n"
	    "  --text WORDS        every word appears in some version's text\n"
	    "                      or author, edited-away versions included\n"
	    "  --author NAME       author contains NAME (case-insensitive)\n"
	    "  --state STATE       current state: live, edited, hidden,\n"
	    "                      removed or restored\n"
	    "  --kind KIND         post, comment or reply\n"
	    "  --limit N           at most N items (default 100)\n"
	    "  --json              an array of objects with the full text\n" },
	{ "show", cmd_show,
	    "one item with every version, its record locations and events",
	    "show [--json] ITEM",
	    "  ITEM is the item number shown by search, a platform id, or\n"
	    "  ACCOUNT:PLATFORM_ID when several accounts share the id.\n" },
	{ "keygen", cmd_keygen,
	    "make the key the daemon signs ledger checkpoints with",
	    "keygen [--name NAME] --out FILE [--json]",
	    "  --out FILE          the private key (PEM, mode 0600); the\n"
	    "                      verifier key goes to FILE.pub (0644).\n"
	    "                      Existing files are never overwritten.\n"
	    "  --name NAME         the key's name in signatures (default\n"
	    "                      sunarchive-HOSTNAME)\n"
	    "  --json              {\"name\", \"private_key_file\",\n"
	    "                      \"verifier_key_file\", \"verifier_key\"}\n"
	    "  Needs no configuration or index. Exit 1 if FILE or FILE.pub\n"
	    "  exists.\n" },
	{ "reindex", cmd_reindex,
	    "rebuild the index from the archive into a new file",
	    "reindex --out NEW.sqlite [--json]",
	    "  Reads every WARC segment in order and builds a new index at\n"
	    "  NEW.sqlite (which must not exist) from the records alone; the\n"
	    "  live index is not touched. Exit 1 if some bytes are not whole\n"
	    "  records (see 'check --full'), 3 on I/O errors.\n" },
	{ "checkpoint", cmd_checkpoint,
	    "list the signed ledger checkpoints, or export them for IT",
	    "checkpoint list [--since DATE] [--json]\n"
	    "       sunarchive checkpoint export --out FILE [--since DATE]\n"
	    "\t[--tokens DIR] [--json]",
	    "  list                one line per checkpoint: time, size,\n"
	    "                      root (short), signer or 'unsigned',\n"
	    "                      'timestamped' if an RFC 3161 token is\n"
	    "                      stored\n"
	    "  export              write the checkpoints, by size, to FILE\n"
	    "                      as JSON (\"sunarchive-checkpoints/1\":\n"
	    "                      origin, verifier key, and per\n"
	    "                      checkpoint record id, size, root, time,\n"
	    "                      signer, signed note, base64 token).\n"
	    "                      Keep FILE off the archive host:\n"
	    "                      'sunarchive check --against FILE'\n"
	    "                      proves the archive still matches it.\n"
	    "  --out FILE          the export, written atomically (0644);\n"
	    "                      an existing FILE is never overwritten\n"
	    "  --since DATE        only checkpoints written at or after\n"
	    "                      DATE (YYYY-MM-DD or RFC 3339, UTC)\n"
	    "  --tokens DIR        also write each time-stamped\n"
	    "                      checkpoint's note to\n"
	    "                      DIR/checkpoint-SIZE.note and its token\n"
	    "                      (DER) to DIR/checkpoint-SIZE.tsr; with\n"
	    "                      TSA-CA.pem the CA certificates of the\n"
	    "                      TSA (the daemon's tsa_ca_file), anyone\n"
	    "                      can check one with\n"
	    "  openssl ts -verify -data DIR/checkpoint-SIZE.note"
	    " -in DIR/checkpoint-SIZE.tsr -token_in -CAfile TSA-CA.pem\n"
	    "  --json              list: an array of objects; export: a\n"
	    "                      summary object\n"
	    "  Exit 1 if there is no checkpoint (since DATE) or FILE (or a\n"
	    "  different file in DIR) exists.\n" },
	{ "check", cmd_check,
	    "verify the archive: segments, records, ledger, checkpoints",
	    "check [--full] [--since DATE] [--against FILE] [--key VERIFIER]\n"
	    "\t[--tsa-ca FILE] [--jobs N] [--segment NAME] [--json]",
	    "  Quick (default): SQLite quick_check; each sealed segment's\n"
	    "  SHA-256, size and mode; no missing or unknown segment files;\n"
	    "  records tile their segments; the Merkle ledger from the\n"
	    "  index against every checkpoint; every checkpoint's signature;\n"
	    "  RFC 3161 tokens.\n"
	    "  --full              also SQLite integrity_check and every\n"
	    "                      record read back: stored-bytes SHA-256,\n"
	    "                      gzip, WARC digests, record id and type,\n"
	    "                      index <-> archive both ways, the ledger\n"
	    "                      rebuilt from the archive's own bytes\n"
	    "  --since DATE        full checks only for segments sealed at\n"
	    "                      or after DATE, and the open one\n"
	    "  --against FILE      a list from 'checkpoint export' kept off\n"
	    "                      the archive host: every checkpoint in it\n"
	    "                      must still match the archive\n"
	    "  --key VERIFIER      verifier key (text or file) held\n"
	    "                      elsewhere, instead of STATE_DIR/ledger.pub\n"
	    "  --tsa-ca FILE       verify time-stamp tokens against these CA\n"
	    "                      certificates (else structure, imprint and\n"
	    "                      signature only)\n"
	    "  --jobs N            segments read in parallel (default 2)\n"
	    "  --segment NAME      check this one segment and its records\n"
	    "                      only (no ledger or checkpoint checks)\n"
	    "  --json              {\"result\", \"mode\", \"findings\":\n"
	    "                      [{\"code\", \"severity\", \"file\",\n"
	    "                      \"offset\", \"record_id\", \"items\",\n"
	    "                      \"message\"}],\n"
	    "                      \"segments\", \"records\", \"bytes\",\n"
	    "                      \"checkpoints\", \"seconds\", ...}\n"
	    "  Codes: E001-E024 errors, W001-W006 warnings (see\n"
	    "  include/verify.h). Each run is queued as a fixity event for\n"
	    "  sunarchived to archive. Exit 0 no errors (warnings allowed),\n"
	    "  1 integrity errors, 2 usage, 3 index or archive unreadable.\n" },
	{ "request", cmd_request,
	    "log public records requests: deadlines, holds, fee estimates",
	    "request open --requester NAME --received DATE --state FL|MO\n"
	    "\t--description TEXT [--acknowledged DATE] [--holidays FILE]\n"
	    "\t[SEARCH FILTERS] [--json]\n"
	    "       sunarchive request list [--all] [--json]\n"
	    "       sunarchive request show ID [--json]\n"
	    "       sunarchive request close ID --disposition"
	    " fulfilled|partial|no-records|denied\n"
	    "\t[--note TEXT] [--json]",
	    "  open                log a request; prints its id PRR-YYYY-NNNN\n"
	    "                      (numbered per year of receipt) and places\n"
	    "                      a legal hold on every item it matches now\n"
	    "  --received DATE     when the custodian received it: YYYY-MM-DD\n"
	    "                      (local time) or RFC 3339\n"
	    "  --state MO          deadline: the end (23:59:59 local) of the\n"
	    "                      3rd business day after the day of receipt\n"
	    "                      (RSMo 610.023.3), skipping weekends and the\n"
	    "                      dates in holidays_file (or --holidays FILE)\n"
	    "  --state FL          no fixed deadline (F.S. 119.07): records the\n"
	    "                      acknowledgment, now or --acknowledged DATE\n"
	    "  SEARCH FILTERS      what the request covers, as in search:\n"
	    "                      --account NAME, --platform NAME, --from\n"
	    "                      DATE, --to DATE (UTC), --text QUERY,\n"
	    "                      --author NAME, --item-state STATE, --kind\n"
	    "                      KIND, --include-removed (default)\n"
	    "                      | --exclude-removed | --only-removed,\n"
	    "                      --hidden include|exclude|only,\n"
	    "                      --with-thread (hold whole threads)\n"
	    "  list                open requests, soonest deadline first, with\n"
	    "                      age in days and OVERDUE past the deadline;\n"
	    "                      --all adds closed ones\n"
	    "  show ID             the request, its holds and the effort:\n"
	    "                      items, records (versions), media, bytes and\n"
	    "                      printed pages (3 records a page), for fees\n"
	    "                      under F.S. 119.07(4) or RSMo 610.026\n"
	    "  close ID            record the disposition; partial and denied\n"
	    "                      need --note with the grounds. Holds stay:\n"
	    "                      release them with 'hold release'\n"
	    "  Every change is queued as an event for sunarchived to archive\n"
	    "  and applied to the index at once (needs write access to both).\n"
	    "  Exit 1 if there is nothing to list or no such request, 2 for\n"
	    "  usage errors, 3 for config, I/O or database errors.\n" },
	{ "hold", cmd_hold,
	    "place, list and release legal holds on archived items",
	    "hold add ITEM... --reason TEXT [--request ID] [--json]\n"
	    "       sunarchive hold list [HOLD-ID | --request ID] [--all]"
	    " [--json]\n"
	    "       sunarchive hold release HOLD-ID | --request ID --note TEXT"
	    " [--json]",
	    "  add                 hold the items (number, platform id or\n"
	    "                      ACCOUNT:PLATFORM_ID) under a new hold\n"
	    "                      HOLD-YYYY-NNNN, or under a request's hold\n"
	    "                      with --request ID\n"
	    "  list                one line per hold with items held and\n"
	    "                      released; with HOLD-ID or --request ID one\n"
	    "                      line per item; --all includes released\n"
	    "  release             end a hold, with a --note saying why; the\n"
	    "                      holds of an open request cannot be released\n"
	    "  A held item cannot be disposed of until every hold on it is\n"
	    "  released. Exit 1 if nothing is held or the release is refused.\n" },
	{ "export", cmd_export,
	    "write a records request's response package (BagIt, zip/tar.gz)",
	    "export (--request ID | SEARCH FILTERS | --all)\n"
	    "\t--out FILE.zip|FILE.tar.gz [--redact] [--state FL|MO]\n"
	    "\t[--redact-item ITEM:FIELD[:TEXT]... --citation TEXT]...\n"
	    "\t[--include-originals] [--with-thread | --no-thread]\n"
	    "\t[--tsa | --no-tsa] [--description TEXT]"
	    " [--organization NAME] [--json]",
	    "  --request ID        what request ID covers (its search, state\n"
	    "                      and description)\n"
	    "  SEARCH FILTERS      as in search: --account NAME, --platform\n"
	    "                      NAME, --from DATE, --to DATE (UTC), --text\n"
	    "                      QUERY, --author NAME, --item-state STATE,\n"
	    "                      --kind KIND, --include-removed (default) |\n"
	    "                      --exclude-removed | --only-removed,\n"
	    "                      --hidden include|exclude|only, --item N\n"
	    "                      (repeatable)\n"
	    "  --all               every archived item\n"
	    "  --out FILE          FILE.zip, or FILE.tar.gz (pax, gzip);\n"
	    "                      never written over: exit 1 if it exists\n"
	    "  --with-thread       also each match's whole thread, marked as\n"
	    "                      context (default: as the request's search\n"
	    "                      says; off for filters); --no-thread: not\n"
	    "  --redact            replace Social Security and payment card\n"
	    "                      numbers (Luhn-checked) in the HTML, CSV\n"
	    "                      and JSON copies; data/redactions.csv logs\n"
	    "                      each\n"
	    "  --state FL|MO       the statute cited (default: the request's;\n"
	    "                      else both)\n"
	    "  --redact-item ITEM:FIELD[:TEXT]\n"
	    "                      the clerk's redaction: item number or\n"
	    "                      platform id; field text, author, a JSON\n"
	    "                      path (media[0].description) or *; TEXT\n"
	    "                      exactly, else the whole field\n"
	    "  --citation TEXT     the statute for the --redact-item rules\n"
	    "                      before it (required)\n"
	    "  --include-originals keep data/archive.warc.gz (the unaltered\n"
	    "                      archived records) in a redacted package\n"
	    "  --tsa               time-stamp the tag manifest (RFC 3161) at\n"
	    "                      the configured tsa_url or fail; by default\n"
	    "                      done when tsa_url is set, a warning if the\n"
	    "                      TSA does not answer; --no-tsa: never\n"
	    "  --description TEXT  External-Description (default: the\n"
	    "                      request's)\n"
	    "  --organization NAME Source-Organization (default \"City\n"
	    "                      records custodian\")\n"
	    "  --json              a summary object\n"
	    "  The package is a BagIt bag: data/index.html (start there), one\n"
	    "  HTML page per thread, records.csv (one row per version), each\n"
	    "  version's JSON, media, archive.warc.gz (original records byte\n"
	    "  for byte), search.json, gaps.csv, the custodian's certificate,\n"
	    "  manifests, VERIFY.txt (see include/export.h). The archive is\n"
	    "  only read; an export event is queued for sunarchived. Exit 1\n"
	    "  if nothing matches, FILE exists or a record does not match the\n"
	    "  index, 2 usage, 3 I/O.\n" },
	{ "help", ctl_cmd_help,
	    "help on a command",
	    "help [COMMAND]",
	    NULL },
};

static const char ctl_global_usage[] =
    "usage: " CTL_PROGNAME " [-f CONFIG] [-s STATE_DIR] [--json] COMMAND"
    " [ARGS]\n"
    "       " CTL_PROGNAME " --help | --version\n";

static const struct command *
ctl_find(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
ctl_print_usage(FILE *fp, const struct command *cmd)
{
	if (cmd == NULL)
		fputs(ctl_global_usage, fp);
	else
		fprintf(fp, "usage: %s %s\n", CTL_PROGNAME, cmd->usage);
}

static void
ctl_global_help(void)
{
	size_t i;

	ctl_print_usage(stdout, NULL);
	printf("\nThe read-only tool for the sunarchive records archive.\n\n"
	    "options:\n"
	    "  -f, --config FILE     configuration file\n"
	    "                        (default %s)\n"
	    "  -s, --state-dir DIR   state directory; the config is not read\n"
	    "      --json            machine-readable output\n"
	    "\ncommands:\n", CONFIG_DEFAULT_PATH);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].summary);
	printf("\nexit status: 0 ok, 1 nothing found, 2 usage error, "
	    "3 config, I/O or database error\n"
	    "See '%s help COMMAND' for a command's options.\n", CTL_PROGNAME);
}

static void	ctl_vmessage(const char *, va_list)
		    __attribute__((format(printf, 1, 0)));

static void
ctl_vmessage(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", CTL_PROGNAME);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int
ctl_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vmessage(fmt, ap);
	va_end(ap);
	return code;
}

int
ctl_usage(struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vmessage(fmt, ap);
	va_end(ap);
	ctl_print_usage(stderr, ctl->cmd);
	return CTL_EXIT_USAGE;
}

int
ctl_help(struct ctl *ctl)
{
	const struct command *cmd = ctl->cmd;

	if (cmd == NULL) {
		ctl_global_help();
		return CTL_EXIT_OK;
	}
	ctl_print_usage(stdout, cmd);
	printf("\n%s.\n", cmd->summary);
	if (cmd->help != NULL)
		printf("\n%s", cmd->help);
	return CTL_EXIT_OK;
}

static int
ctl_cmd_help(int argc, char **argv, struct ctl *ctl)
{
	static const struct option opts[] = { CTL_OPTIONS_COMMON };
	const struct command *cmd;
	int c;

	while ((c = ctl_getopt(ctl, argc, argv, "h", opts)) != -1) {
		if (c != CTL_OPT_HELP)
			return CTL_EXIT_USAGE;
	}
	if (argc - optind > 1)
		return ctl_usage(ctl, "too many arguments");
	if (argc - optind == 0) {
		ctl->cmd = NULL;
		return ctl_help(ctl);
	}
	cmd = ctl_find(argv[optind]);
	if (cmd == NULL)
		return ctl_usage(ctl, "unknown command '%s'", argv[optind]);
	ctl->cmd = cmd;
	return ctl_help(ctl);
}

int
ctl_getopt(struct ctl *ctl, int argc, char **argv, const char *shortopts,
    const struct option *longopts)
{
	char optstr[128], name[64];
	const char *arg;
	int c, plus, islong;

	/* A leading ':' makes getopt tell a missing value from a bad option. */
	plus = shortopts[0] == '+';
	snprintf(optstr, sizeof(optstr), "%s:%s", plus ? "+" : "",
	    shortopts + plus);
	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, optstr, longopts, NULL);
		if (c != CTL_OPT_JSON)
			break;
		ctl->json = 1;
	}
	if (c != '?' && c != ':')
		return c;

	/*
	 * Name the option as typed. After a long option getopt has moved past
	 * it, so it is argv[optind - 1]; optopt is 0 when it is unknown.
	 */
	arg = optind > 0 && optind <= argc ? argv[optind - 1] : NULL;
	islong = arg != NULL && strncmp(arg, "--", 2) == 0;
	if (islong)
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(arg, "="),
		    arg);
	else
		snprintf(name, sizeof(name), "-%c", optopt);
	if (c == ':')
		ctl_usage(ctl, "option '%s' needs a value", name);
	else if (islong && optopt != 0)
		ctl_usage(ctl, "option '%s' takes no value", name);
	else
		ctl_usage(ctl, "unknown option '%s'", name);
	return '?';
}

int
ctl_state_dir(struct ctl *ctl, const char **ret_dir)
{
	struct config cfg;
	char err[512];
	int r;

	if (ctl->state_dir == NULL) {
		memset(&cfg, 0, sizeof(cfg));
		r = config_load(ctl->config_path, CONFIG_SKIP_SECRETS, &cfg,
		    err, sizeof(err));
		if (r < 0)
			return ctl_fail(-EIO, "%s", err);
		if (cfg.state_dir == NULL || cfg.state_dir[0] == '\0') {
			config_release(&cfg);
			return ctl_fail(-EIO, "%s: no state_dir set",
			    ctl->config_path);
		}
		ctl->state_dir = xstrdup(cfg.state_dir);
		config_release(&cfg);
	}
	*ret_dir = ctl->state_dir;
	return 0;
}

int
ctl_db(struct ctl *ctl, sqlite3 **ret_db)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct stat sb;
	const char *dir;
	int r, rc, version;

	if (ctl->db != NULL) {
		*ret_db = ctl->db;
		return 0;
	}
	r = ctl_state_dir(ctl, &dir);
	if (r < 0)
		return r;
	free(ctl->index_path);
	ctl->index_path = xasprintf("%s/%s", dir, CTL_INDEX_NAME);

	/* SQLite's "unable to open database file" does not say why. */
	if (stat(ctl->index_path, &sb) == -1)
		return ctl_fail(-EIO, "cannot open index '%s': %s",
		    ctl->index_path, strerror(errno));
	rc = sqlite3_open_v2(ctl->index_path, &db, SQLITE_OPEN_READONLY,
	    NULL);
	if (rc != SQLITE_OK) {
		ctl_fail(0, "cannot open index '%s': %s", ctl->index_path,
		    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto out_close;
	}
	sqlite3_busy_timeout(db, CTL_BUSY_TIMEOUT_MS);
	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		/* WAL index, no -shm yet, and its directory is not writable. */
		ctl_fail(0, "cannot open index '%s': %s%s", ctl->index_path,
		    sqlite3_errmsg(db),
		    sqlite3_errcode(db) == SQLITE_READONLY ?
		    " (while sunarchived is stopped, reading the index needs "
		    "write access to its directory)" : "");
		goto out_finalize;
	}
	version = sqlite3_column_int(st, 0);
	if (version < CTL_SCHEMA_MIN || version > CTL_SCHEMA_VERSION) {
		ctl_fail(0, "index '%s' has schema version %d, "
		    "expected %d to %d", ctl->index_path, version,
		    CTL_SCHEMA_MIN, CTL_SCHEMA_VERSION);
		goto out_finalize;
	}
	sqlite3_finalize(st);
	ctl->db = db;
	*ret_db = db;
	return 0;

out_finalize:
	sqlite3_finalize(st);
out_close:
	sqlite3_close(db);
	return -EIO;
}

int
ctl_prepare(struct ctl *ctl, const char *sql, sqlite3_stmt **ret_st)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int r;

	r = ctl_db(ctl, &db);
	if (r < 0)
		return r;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return ctl_db_error(ctl);
	*ret_st = st;
	return 0;
}

int
ctl_db_error(struct ctl *ctl)
{
	return ctl_fail(-EIO, "cannot read index '%s': %s",
	    ctl->index_path != NULL ? ctl->index_path : "(none)",
	    ctl->db != NULL ? sqlite3_errmsg(ctl->db) : "not open");
}

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), storing its
 * code point; 0 for an invalid, overlong, surrogate or truncated one.
 */
static size_t
ctl_utf8_decode(const unsigned char *s, size_t n, uint32_t *ret_cp)
{
	uint32_t cp, min;
	size_t len, i;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return len;
}

static json_t *
ctl_json_strn(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	json_t *v;
	char *buf;
	size_t i, o, len;
	uint32_t cp;

	v = json_stringn(s, n);
	if (v != NULL)
		return v;
	/* Invalid UTF-8 (or a NUL): keep what is valid, mark the rest. */
	buf = xmalloc(n * 3 + 1);
	for (i = 0, o = 0; i < n; i += len) {
		len = ctl_utf8_decode(u + i, n - i, &cp);
		if (len == 0 || cp == 0) {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			len = 1;
		} else {
			memcpy(buf + o, s + i, len);
			o += len;
		}
	}
	v = json_stringn(buf, o);
	free(buf);
	return v != NULL ? v : json_string("");
}

json_t *
ctl_json_str(const char *s)
{
	return s == NULL ? json_null() : ctl_json_strn(s, strlen(s));
}

json_t *
ctl_col_str(sqlite3_stmt *st, int col)
{
	const unsigned char *s;

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	s = sqlite3_column_text(st, col);
	if (s == NULL)
		return json_null();
	return ctl_json_strn((const char *)s,
	    (size_t)sqlite3_column_bytes(st, col));
}

json_t *
ctl_col_int(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	return json_integer(sqlite3_column_int64(st, col));
}

json_t *
ctl_col_time(sqlite3_stmt *st, int col)
{
	char buf[CTL_TIME_LEN];

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	return json_string(ctl_fmt_time(sqlite3_column_int64(st, col), buf,
	    sizeof(buf)));
}

json_t *
ctl_col_bool(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	return json_boolean(sqlite3_column_int64(st, col) != 0);
}

json_t *
ctl_col_json(sqlite3_stmt *st, int col)
{
	const char *s;
	json_t *v;

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	s = (const char *)sqlite3_column_text(st, col);
	v = s != NULL ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
	return v != NULL ? v : ctl_col_str(st, col);
}

json_t *
ctl_item_json(sqlite3_stmt *st)
{
	static const struct {
		const char	*key;
		json_t		*(*get)(sqlite3_stmt *, int);
	} cols[CTL_ITEM_NCOLS] = {
		{ "id",			ctl_col_int },
		{ "platform",		ctl_col_str },
		{ "account",		ctl_col_str },
		{ "kind",		ctl_col_str },
		{ "platform_id",	ctl_col_str },
		{ "parent_id",		ctl_col_str },
		{ "root_id",		ctl_col_str },
		{ "author",		ctl_col_str },
		{ "author_id",		ctl_col_str },
		{ "created",		ctl_col_time },
		{ "url",		ctl_col_str },
		{ "state",		ctl_col_str },
		{ "hidden",		ctl_col_bool },
		{ "nversions",		ctl_col_int },
		{ "first_seen",		ctl_col_time },
		{ "last_seen",		ctl_col_time },
		{ "first_missing",	ctl_col_time },
		{ "removed_at",		ctl_col_time },
	};
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cols); i++)
		json_object_set_new(o, cols[i].key, cols[i].get(st, (int)i));
	return o;
}

const char *
ctl_json_get_str(const json_t *obj, const char *key, const char *dflt)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : dflt;
}

int64_t
ctl_json_get_int(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

int
ctl_print_json(json_t *v)
{
	int r;

	r = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(v);
	if (r < 0 || putchar('\n') == EOF)
		return ctl_fail(CTL_EXIT_IO, "cannot write to standard output:"
		    " %s", strerror(errno));
	return CTL_EXIT_OK;
}

char *
ctl_fmt_time(int64_t t, char *buf, size_t len)
{
	return util_format_time(t, buf, len);
}

char *
ctl_fmt_age(int64_t t, int64_t now, char *buf, size_t len)
{
	int64_t d = now - t, a = d < 0 ? -d : d;
	const char *unit;

	if (a < 60) {
		snprintf(buf, len, "just now");
		return buf;
	}
	if (a < 120 * 60) {
		a /= 60;
		unit = "min";
	} else if (a < 48 * 3600) {
		a /= 3600;
		unit = "h";
	} else {
		a /= 86400;
		unit = "d";
	}
	if (d < 0)
		snprintf(buf, len, "in %lld %s", (long long)a, unit);
	else
		snprintf(buf, len, "%lld %s ago", (long long)a, unit);
	return buf;
}

char *
ctl_fmt_size(int64_t bytes, char *buf, size_t len)
{
	static const char *units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	size_t i;

	if (bytes < 1024) {
		snprintf(buf, len, "%lld B", (long long)bytes);
		return buf;
	}
	for (i = 0; i < ARRAY_SIZE(units) - 1 && v >= 1024.0 * 1024.0; i++)
		v /= 1024.0;
	snprintf(buf, len, "%.1f %s", v / 1024.0, units[i]);
	return buf;
}

/*
 * Walk n bytes of s as terminal text (see ctl_put_text()), writing to fp
 * unless fp is NULL, stopping before the limit of columns (0 = none) would
 * be passed. Returns the columns written.
 */
static size_t
ctl_text_walk(FILE *fp, const char *s, size_t n, size_t limit,
    unsigned flags)
{
	const unsigned char *u = (const unsigned char *)s;
	char out[16];
	size_t i, len, cols = 0, w, olen;
	uint32_t cp;
	int space = 0, cw;

	for (i = 0; i < n; i += len) {
		len = ctl_utf8_decode(u + i, n - i, &cp);
		if ((flags & CTL_TEXT_ONELINE) && len == 1 &&
		    (cp == '\n' || cp == '\r' || cp == '\t')) {
			if (space)
				continue;
			space = 1;
			cp = ' ';
		} else
			space = 0;
		if (len == 0) {
			len = 1;
			olen = (size_t)snprintf(out, sizeof(out), "\\x%02x",
			    u[i]);
			w = olen;
		} else if (cp == '\n' || cp == '\t') {
			out[0] = (char)cp;
			olen = 1;
			w = cp == '\t' ? 1 : 0;
		} else if (cp < 0x20 || cp == 0x7f) {
			olen = (size_t)snprintf(out, sizeof(out), "\\x%02x",
			    (unsigned)cp);
			w = olen;
		} else if ((cp >= 0x80 && cp <= 0x9f) ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069)) {
			/* C1 controls and bidi overrides. */
			olen = (size_t)snprintf(out, sizeof(out), "\\u%04x",
			    (unsigned)cp);
			w = olen;
		} else if (cp < 0x80) {
			out[0] = (char)cp;	/* ' ' for a folded newline */
			olen = 1;
			w = 1;
		} else {
			memcpy(out, s + i, len);
			olen = len;
			cw = wcwidth((wchar_t)cp);
			w = cw < 0 ? 1 : (size_t)cw;
		}
		if (limit != 0 && cols + w > limit)
			break;
		if (fp != NULL)
			fwrite(out, 1, olen, fp);
		cols += w;
	}
	return cols;
}

size_t
ctl_put_text(FILE *fp, const char *s, size_t maxcols, unsigned flags)
{
	size_t n = strlen(s), cols;

	if (maxcols == 0 || ctl_text_walk(NULL, s, n, 0, flags) <= maxcols)
		return ctl_text_walk(fp, s, n, 0, flags);
	if (maxcols <= 3) {
		fprintf(fp, "%.*s", (int)maxcols, "...");
		return maxcols;
	}
	cols = ctl_text_walk(fp, s, n, maxcols - 3, flags);
	fputs("...", fp);
	return cols + 3;
}

size_t
ctl_text_width(const char *s, unsigned flags)
{
	return ctl_text_walk(NULL, s, strlen(s), 0, flags);
}

void
ctl_put_cell(FILE *fp, const char *s, size_t width)
{
	size_t cols;

	cols = ctl_put_text(fp, s, width, CTL_TEXT_ONELINE);
	for (; cols < width; cols++)
		fputc(' ', fp);
}

void
ctl_put_block(FILE *fp, const char *s, const char *prefix)
{
	size_t n;

	do {
		n = strcspn(s, "\n");
		fputs(prefix, fp);
		ctl_text_walk(fp, s, n, 0, 0);
		fputc('\n', fp);
		s += n;
	} while (*s++ != '\0');
}

size_t
ctl_term_width(void)
{
	struct winsize ws;
	const char *env;
	int64_t v;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ,
	    &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	env = getenv("COLUMNS");
	if (env != NULL && util_parse_int(env, 20, 1000, &v) == 0)
		return (size_t)v;
	return CTL_DEFAULT_WIDTH;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config",	required_argument,	NULL,	'f' },
		{ "state-dir",	required_argument,	NULL,	's' },
		{ "version",	no_argument,		NULL,	'V' },
		CTL_OPTIONS_COMMON
	};
	struct ctl ctl;
	const struct command *cmd;
	int c, ex, cargc;
	char **cargv;

	setlocale(LC_CTYPE, "");
	memset(&ctl, 0, sizeof(ctl));
	ctl.config_path = CONFIG_DEFAULT_PATH;
	ctl.now = util_now();

	while ((c = ctl_getopt(&ctl, argc, argv, "+f:s:hV", opts)) != -1) {
		switch (c) {
		case 'f':
			ctl.config_path = optarg;
			break;
		case 's':
			free(ctl.state_dir);
			ctl.state_dir = xstrdup(optarg);
			break;
		case 'V':
			printf("%s %s\n", CTL_PROGNAME, SUNARCHIVE_VERSION);
			ex = CTL_EXIT_OK;
			goto out;
		case CTL_OPT_HELP:
			ex = ctl_help(&ctl);
			goto out;
		default:
			ex = CTL_EXIT_USAGE;
			goto out;
		}
	}
	if (optind >= argc) {
		ex = ctl_usage(&ctl, "no command given; see '%s --help'",
		    CTL_PROGNAME);
		goto out;
	}
	cmd = ctl_find(argv[optind]);
	if (cmd == NULL) {
		ex = ctl_usage(&ctl, "unknown command '%s'; see '%s --help'",
		    argv[optind], CTL_PROGNAME);
		goto out;
	}
	ctl.cmd = cmd;
	cargc = argc - optind;
	cargv = argv + optind;
	optind = 0;		/* getopt restarts on the command's argv */
	ex = cmd->fn(cargc, cargv, &ctl);

out:
	if (ctl.db != NULL)
		sqlite3_close(ctl.db);
	free(ctl.index_path);
	free(ctl.state_dir);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		ctl_fail(0, "cannot write to standard output: %s",
		    strerror(errno));
		if (ex == CTL_EXIT_OK || ex == CTL_EXIT_NOTFOUND)
			ex = CTL_EXIT_IO;
	}
	return ex;
}
