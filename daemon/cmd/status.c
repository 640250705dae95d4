/*
 * status.c - "sunarchive status": capture health per account (polls,
 * pauses, item counts, open capture gaps) and the archive's segments,
 * records and size on disk, for IT to read at a glance and for monitoring
 * to read as JSON. Anything that needs a person becomes a warning line.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "util.h"
#include "xalloc.h"

#define STATUS_LABEL	16	/* width of the label column */

static const char status_accounts_sql[] =
    "SELECT a.id, a.name, a.platform, a.platform_id, a.status,"
    " a.status_detail, a.last_poll_ok, a.last_poll, a.paused_until,"
    " coalesce(it.n, 0), coalesce(vv.n, 0), coalesce(it.edited, 0),"
    " coalesce(it.removed, 0), coalesce(it.hidden, 0), coalesce(g.n, 0)"
    " FROM accounts a"
    " LEFT JOIN (SELECT account_id, count(*) AS n,"
    "  sum(nversions > 1) AS edited, sum(state = 'removed') AS removed,"
    "  sum(hidden != 0) AS hidden FROM items GROUP BY account_id) it"
    "  ON it.account_id = a.id"
    " LEFT JOIN (SELECT i.account_id, count(*) AS n FROM versions v"
    "  JOIN items i ON i.id = v.item_id GROUP BY i.account_id) vv"
    "  ON vv.account_id = a.id"
    " LEFT JOIN (SELECT account_id, count(*) AS n FROM gaps"
    "  WHERE closed IS NULL GROUP BY account_id) g"
    "  ON g.account_id = a.id"
    " ORDER BY a.name";

static const char status_gap_sql[] =
    "SELECT opened, reason, detail FROM gaps"
    " WHERE account_id = ?1 AND closed IS NULL"
    " ORDER BY opened, id LIMIT 1";

static const char status_archive_sql[] =
    "SELECT (SELECT count(*) FROM segments),"
    " (SELECT count(*) FROM segments WHERE sealed IS NOT NULL),"
    " (SELECT count(*) FROM segments WHERE sealed IS NULL),"
    " (SELECT count(*) FROM segments WHERE suspect != 0),"
    " (SELECT count(*) FROM records),"
    " (SELECT max(date) FROM records)";

static void
status_warn(json_t *warnings, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
status_warn(json_t *warnings, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (msg == NULL)
		msg = xstrdup("out of memory formatting a warning");
	json_array_append_new(warnings, ctl_json_str(msg));
	free(msg);
}

/* The oldest open gap of an account as an object, or null. */
static int
status_oldest_gap(struct ctl *ctl, sqlite3_stmt *st, int64_t account,
    json_t **ret_gap)
{
	json_t *gap;
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, account);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		*ret_gap = json_null();
		return 0;
	}
	if (rc != SQLITE_ROW)
		return ctl_db_error(ctl);
	gap = json_object();
	json_object_set_new(gap, "opened", ctl_col_time(st, 0));
	json_object_set_new(gap, "reason", ctl_col_str(st, 1));
	json_object_set_new(gap, "detail", ctl_col_json(st, 2));
	*ret_gap = gap;
	return 0;
}

static int
status_accounts(struct ctl *ctl, json_t *accounts, json_t *warnings)
{
	sqlite3_stmt *st, *gst;
	json_t *a, *gap = NULL;
	const char *name, *status, *detail;
	int64_t ngaps;
	int rc, r;

	r = ctl_prepare(ctl, status_accounts_sql, &st);
	if (r < 0)
		return r;
	r = ctl_prepare(ctl, status_gap_sql, &gst);
	if (r < 0)
		goto out_st;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		a = json_object();
		json_array_append_new(accounts, a);
		json_object_set_new(a, "name", ctl_col_str(st, 1));
		json_object_set_new(a, "platform", ctl_col_str(st, 2));
		json_object_set_new(a, "platform_id", ctl_col_str(st, 3));
		json_object_set_new(a, "status", ctl_col_str(st, 4));
		json_object_set_new(a, "status_detail", ctl_col_str(st, 5));
		json_object_set_new(a, "last_poll_ok", ctl_col_time(st, 6));
		json_object_set_new(a, "last_poll", ctl_col_time(st, 7));
		json_object_set_new(a, "paused_until", ctl_col_time(st, 8));
		json_object_set_new(a, "items", ctl_col_int(st, 9));
		json_object_set_new(a, "versions", ctl_col_int(st, 10));
		json_object_set_new(a, "edited", ctl_col_int(st, 11));
		json_object_set_new(a, "removed", ctl_col_int(st, 12));
		json_object_set_new(a, "hidden", ctl_col_int(st, 13));
		json_object_set_new(a, "open_gaps", ctl_col_int(st, 14));
		r = status_oldest_gap(ctl, gst, sqlite3_column_int64(st, 0),
		    &gap);
		if (r < 0)
			goto out_gst;
		json_object_set_new(a, "oldest_open_gap", gap);

		name = ctl_json_get_str(a, "name", "");
		status = ctl_json_get_str(a, "status", "");
		detail = ctl_json_get_str(a, "status_detail", NULL);
		if (strcmp(status, "ok") != 0)
			status_warn(warnings, "account '%s' status is %s%s%s",
			    name, status, detail != NULL ? ": " : "",
			    detail != NULL ? detail : "");
		ngaps = ctl_json_get_int(a, "open_gaps");
		if (ngaps > 0)
			status_warn(warnings, "account '%s' has %lld open "
			    "capture gap%s, oldest since %s (%s)", name,
			    (long long)ngaps, ngaps == 1 ? "" : "s",
			    ctl_json_get_str(gap, "opened", "?"),
			    ctl_json_get_str(gap, "reason", "?"));
	}
	if (rc != SQLITE_DONE)
		r = ctl_db_error(ctl);
out_gst:
	sqlite3_finalize(gst);
out_st:
	sqlite3_finalize(st);
	return r;
}

/* Count the regular files under dir and their bytes. */
static int
status_disk(const char *dir, int64_t *ret_files, int64_t *ret_bytes)
{
	DIR *d;
	struct dirent *de;
	struct stat sb;
	int64_t files = 0, bytes = 0;
	int r = 0;

	d = opendir(dir);
	if (d == NULL)
		return -errno;
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			r = -errno;
			break;
		}
		if (fstatat(dirfd(d), de->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue;	/* rotated meanwhile */
			r = -errno;
			break;
		}
		if (!S_ISREG(sb.st_mode))
			continue;
		files++;
		bytes += sb.st_size;
	}
	closedir(d);
	if (r < 0)
		return r;
	*ret_files = files;
	*ret_bytes = bytes;
	return 0;
}

static int
status_archive(struct ctl *ctl, json_t *archive, json_t *warnings)
{
	sqlite3_stmt *st;
	const char *state;
	char *dir, *msg;
	int64_t files = 0, bytes = 0, suspect;
	int r, rc, e;

	r = ctl_state_dir(ctl, &state);
	if (r < 0)
		return r;
	r = ctl_prepare(ctl, status_archive_sql, &st);
	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = ctl_db_error(ctl);
		goto out_st;
	}
	dir = xasprintf("%s/%s", state, CTL_ARCHIVE_DIR);
	json_object_set_new(archive, "dir", ctl_json_str(dir));
	json_object_set_new(archive, "segments", ctl_col_int(st, 0));
	json_object_set_new(archive, "sealed", ctl_col_int(st, 1));
	json_object_set_new(archive, "open", ctl_col_int(st, 2));
	json_object_set_new(archive, "suspect", ctl_col_int(st, 3));
	json_object_set_new(archive, "records", ctl_col_int(st, 4));
	json_object_set_new(archive, "last_record", ctl_col_time(st, 5));
	suspect = sqlite3_column_int64(st, 3);
	if (suspect > 0)
		status_warn(warnings, "%lld suspect segment%s: run "
		    "'sunarchive check'", (long long)suspect,
		    suspect == 1 ? "" : "s");

	/* Reported with the rest, and in the JSON, and in the exit code. */
	e = status_disk(dir, &files, &bytes);
	if (e < 0) {
		msg = xasprintf("cannot read archive directory '%s': %s", dir,
		    strerror(-e));
		json_object_set_new(archive, "error", ctl_json_str(msg));
		ctl_fail(0, "%s", msg);
		free(msg);
	}
	json_object_set_new(archive, "files", json_integer(files));
	json_object_set_new(archive, "bytes", json_integer(bytes));
	free(dir);
out_st:
	sqlite3_finalize(st);
	return r;
}

static void
status_label(const char *label)
{
	printf("  %-*s", STATUS_LABEL - 2, label);
}

/* "2026-03-02T14:05:09Z (5 min ago)", or the fallback for null. */
static void
status_put_time(const json_t *obj, const char *key, const char *none,
    int64_t now)
{
	const char *iso = ctl_json_get_str(obj, key, NULL);
	char age[32];
	int64_t t;

	if (iso == NULL || util_parse_time(iso, &t) < 0) {
		printf("%s\n", none);
		return;
	}
	printf("%s (%s)\n", iso, ctl_fmt_age(t, now, age, sizeof(age)));
}

static void
status_put_count(const char *label, const json_t *obj, const char *key)
{
	status_label(label);
	printf("%lld\n", (long long)ctl_json_get_int(obj, key));
}

static void
status_print_account(const json_t *a, int64_t now)
{
	const json_t *gap = json_object_get(a, "oldest_open_gap");
	const char *detail = ctl_json_get_str(a, "status_detail", NULL);
	int64_t ngaps = ctl_json_get_int(a, "open_gaps");

	ctl_put_text(stdout, ctl_json_get_str(a, "name", "?"), 0,
	    CTL_TEXT_ONELINE);
	fputs("  ", stdout);
	ctl_put_text(stdout, ctl_json_get_str(a, "platform", "?"), 0,
	    CTL_TEXT_ONELINE);
	fputc(' ', stdout);
	ctl_put_text(stdout, ctl_json_get_str(a, "platform_id", "?"), 0,
	    CTL_TEXT_ONELINE);
	fputc('\n', stdout);

	status_label("status");
	ctl_put_text(stdout, ctl_json_get_str(a, "status", "?"), 0,
	    CTL_TEXT_ONELINE);
	if (detail != NULL) {
		fputs(": ", stdout);
		ctl_put_text(stdout, detail, 0, CTL_TEXT_ONELINE);
	}
	fputc('\n', stdout);
	status_label("last ok poll");
	status_put_time(a, "last_poll_ok", "never", now);
	status_label("last attempt");
	status_put_time(a, "last_poll", "never", now);
	status_label("paused until");
	status_put_time(a, "paused_until", "-", now);
	status_put_count("items", a, "items");
	status_put_count("versions", a, "versions");
	status_put_count("edited", a, "edited");
	status_put_count("removed", a, "removed");
	status_put_count("hidden", a, "hidden");
	status_label("open gaps");
	printf("%lld", (long long)ngaps);
	if (ngaps > 0 && json_is_object(gap)) {
		printf(", oldest since %s (",
		    ctl_json_get_str(gap, "opened", "?"));
		ctl_put_text(stdout, ctl_json_get_str(gap, "reason", "?"), 0,
		    CTL_TEXT_ONELINE);
		fputc(')', stdout);
	}
	fputs("\n\n", stdout);
}

static void
status_print_archive(const json_t *ar, int64_t now)
{
	char size[32];

	fputs("archive ", stdout);
	ctl_put_text(stdout, ctl_json_get_str(ar, "dir", "?"), 0,
	    CTL_TEXT_ONELINE);
	fputc('\n', stdout);
	status_label("segments");
	printf("%lld (%lld sealed, %lld open, %lld suspect)\n",
	    (long long)ctl_json_get_int(ar, "segments"),
	    (long long)ctl_json_get_int(ar, "sealed"),
	    (long long)ctl_json_get_int(ar, "open"),
	    (long long)ctl_json_get_int(ar, "suspect"));
	status_put_count("records", ar, "records");
	status_label("last record");
	status_put_time(ar, "last_record", "-", now);
	status_label("on disk");
	printf("%lld files, %s (%lld bytes)\n",
	    (long long)ctl_json_get_int(ar, "files"),
	    ctl_fmt_size(ctl_json_get_int(ar, "bytes"), size, sizeof(size)),
	    (long long)ctl_json_get_int(ar, "bytes"));
}

static void
status_print(const json_t *root, int64_t now)
{
	const json_t *accounts = json_object_get(root, "accounts");
	const json_t *warnings = json_object_get(root, "warnings");
	size_t i;

	if (json_array_size(accounts) == 0)
		printf("no accounts in the index yet\n\n");
	for (i = 0; i < json_array_size(accounts); i++)
		status_print_account(json_array_get(accounts, i), now);
	status_print_archive(json_object_get(root, "archive"), now);
	if (json_array_size(warnings) > 0)
		fputc('\n', stdout);
	for (i = 0; i < json_array_size(warnings); i++) {
		fputs("warning: ", stdout);
		ctl_put_text(stdout,
		    json_string_value(json_array_get(warnings, i)), 0,
		    CTL_TEXT_ONELINE);
		fputc('\n', stdout);
	}
}

int
cmd_status(int argc, char **argv, struct ctl *ctl)
{
	static const struct option opts[] = { CTL_OPTIONS_COMMON };
	json_t *root, *accounts, *archive, *warnings;
	int c, r, ex;

	while ((c = ctl_getopt(ctl, argc, argv, "h", opts)) != -1) {
		if (c == CTL_OPT_HELP)
			return ctl_help(ctl);
		return CTL_EXIT_USAGE;
	}
	if (optind < argc)
		return ctl_usage(ctl, "unexpected argument '%s'",
		    argv[optind]);

	root = json_object();
	accounts = json_array();
	archive = json_object();
	warnings = json_array();
	json_object_set_new(root, "accounts", accounts);
	json_object_set_new(root, "archive", archive);
	json_object_set_new(root, "warnings", warnings);

	r = status_accounts(ctl, accounts, warnings);
	if (r == 0)
		r = status_archive(ctl, archive, warnings);
	if (r < 0) {
		json_decref(root);
		return CTL_EXIT_IO;
	}
	ex = json_object_get(archive, "error") != NULL ? CTL_EXIT_IO :
	    CTL_EXIT_OK;
	if (ctl->json) {
		r = ctl_print_json(root);
		return r != CTL_EXIT_OK ? r : ex;
	}
	status_print(root, ctl->now);
	json_decref(root);
	return ex;
}
