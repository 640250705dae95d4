/*
 * checkpoint.c - "sunarchive checkpoint list|export": the ledger
 * checkpoints the daemon wrote (one metadata record each, indexed in the
 * checkpoints table), listed for a person or exported as one JSON file
 * for IT to keep away from the archive host. "sunarchive check --against
 * FILE" later proves the archive still matches that file, so the format
 * below is a contract:
 *
 *	{"format": "sunarchive-checkpoints/1",
 *	 "origin": <first line of the newest checkpoint's note, or null>,
 *	 "verifier": <STATE_DIR/ledger.pub without its newline, or null>,
 *	 "exported": <RFC 3339 now>,
 *	 "checkpoints": [{"record_id", "size", "root" (hex), "time",
 *	     "signer" (or null), "note", "tsa_token" (base64 DER, or null)},
 *	     ... ordered by size]}
 *
 * With --tokens DIR, each time-stamped checkpoint's note and token also
 * go to DIR as files "openssl ts -verify" reads. Subcommands are a table,
 * like the commands in ctl.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "anchor.h"
#include "checkpoint.h"
#include "ctl.h"
#include "sysio.h"
#include "tsa.h"
#include "util.h"
#include "xalloc.h"

#define CKPT_FORMAT		"sunarchive-checkpoints/1"
#define CKPT_ROOT_SHORT		16	/* hex digits of the root in list */
#define CKPT_PUB_MAX		4096	/* largest ledger.pub read */
#define CKPT_FILE_MODE		0644	/* nothing secret in an export */

/* One row of the checkpoints table; strings are new copies. */
struct ckpt_row {
	char		*record_id;	/* NULL if the record is not indexed */
	int64_t		 size;
	char		*root;		/* hex */
	int64_t		 time;
	char		*signer;	/* NULL: unsigned */
	char		*note;
	size_t		 note_len;
	unsigned char	*token;		/* DER, NULL if none */
	size_t		 token_len;
};

struct ckpt_rows {
	struct ckpt_row	*v;
	size_t		 n;
	char		*origin;	/* of the newest checkpoint, or NULL */
};

static const char ckpt_exists_sql[] =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
    " AND name = 'checkpoints'";

static const char ckpt_rows_sql[] =
    "SELECT r.record_id, c.size, c.root, c.time, c.signer, c.note,"
    " c.tsa_token FROM checkpoints c LEFT JOIN records r ON r.seq = c.seq"
    " WHERE c.time >= ?1 ORDER BY c.size, c.id";

static const char ckpt_newest_sql[] =
    "SELECT note FROM checkpoints ORDER BY size DESC, id DESC LIMIT 1";

static char *
ckpt_col_dup(sqlite3_stmt *st, int col, size_t *ret_len)
{
	const void *p;
	size_t n;
	char *s;

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	p = sqlite3_column_blob(st, col);
	n = (size_t)sqlite3_column_bytes(st, col);
	s = xmalloc(n + 1);
	if (n > 0)
		memcpy(s, p, n);
	s[n] = '\0';
	if (ret_len != NULL)
		*ret_len = n;
	return s;
}

static void
ckpt_rows_release(struct ckpt_rows *rows)
{
	size_t i;

	for (i = 0; i < rows->n; i++) {
		free(rows->v[i].record_id);
		free(rows->v[i].root);
		free(rows->v[i].signer);
		free(rows->v[i].note);
		free(rows->v[i].token);
	}
	free(rows->v);
	free(rows->origin);
	memset(rows, 0, sizeof(*rows));
}

/* Does the index have the checkpoints table (schema 2 and later)? */
static int
ckpt_table_exists(struct ctl *ctl, int *ret_exists)
{
	sqlite3_stmt *st;
	int r;

	r = ctl_prepare(ctl, ckpt_exists_sql, &st);
	if (r < 0)
		return r;
	if (sqlite3_step(st) != SQLITE_ROW) {
		r = ctl_db_error(ctl);
		goto out;
	}
	*ret_exists = sqlite3_column_int64(st, 0) > 0;
out:
	sqlite3_finalize(st);
	return r;
}

/* The origin line of the newest checkpoint into rows->origin. */
static int
ckpt_load_origin(struct ctl *ctl, struct ckpt_rows *rows)
{
	sqlite3_stmt *st;
	char *note;
	int rc, r;

	r = ctl_prepare(ctl, ckpt_newest_sql, &st);
	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		note = ckpt_col_dup(st, 0, NULL);
		if (note != NULL && note[0] != '\0' && note[0] != '\n')
			rows->origin = xstrndup(note, strcspn(note, "\n"));
		free(note);
	} else if (rc != SQLITE_DONE) {
		r = ctl_db_error(ctl);
	}
	sqlite3_finalize(st);
	return r;
}

/*
 * Every checkpoint written at or after since, ordered by size, and the
 * origin of the newest one overall. 0 or -EIO after the message.
 */
static int
ckpt_load(struct ctl *ctl, int64_t since, struct ckpt_rows *rows)
{
	struct ckpt_row *row;
	sqlite3_stmt *st;
	size_t cap = 0;
	int exists = 0, rc, r;

	memset(rows, 0, sizeof(*rows));
	r = ckpt_table_exists(ctl, &exists);
	if (r < 0 || !exists)
		return r;
	r = ckpt_load_origin(ctl, rows);
	if (r == 0)
		r = ctl_prepare(ctl, ckpt_rows_sql, &st);
	if (r < 0) {
		ckpt_rows_release(rows);
		return r;
	}
	sqlite3_bind_int64(st, 1, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (rows->n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			rows->v = xreallocarray(rows->v, cap, sizeof(*rows->v));
		}
		row = &rows->v[rows->n++];
		memset(row, 0, sizeof(*row));
		row->record_id = ckpt_col_dup(st, 0, NULL);
		row->size = sqlite3_column_int64(st, 1);
		row->root = ckpt_col_dup(st, 2, NULL);
		row->time = sqlite3_column_int64(st, 3);
		row->signer = ckpt_col_dup(st, 4, NULL);
		row->note = ckpt_col_dup(st, 5, &row->note_len);
		row->token = (unsigned char *)ckpt_col_dup(st, 6,
		    &row->token_len);
		if (row->root == NULL)
			row->root = xstrdup("");
		if (row->note == NULL)
			row->note = xstrdup("");
		if (row->token != NULL && row->token_len == 0) {
			free(row->token);
			row->token = NULL;
		}
	}
	if (rc != SQLITE_DONE)
		r = ctl_db_error(ctl);
	sqlite3_finalize(st);
	if (r < 0)
		ckpt_rows_release(rows);
	return r;
}

/* Parse --since; returns 0 or CTL_EXIT_USAGE after the message. */
static int
ckpt_since(struct ctl *ctl, const char *s, int64_t *ret_t)
{
	if (util_parse_time(s, ret_t) < 0)
		return ctl_usage(ctl, "invalid date '%s' for --since (use "
		    "YYYY-MM-DD or RFC 3339, e.g. 2026-03-02T14:05:09Z)", s);
	return 0;
}

static int
ckpt_none(int64_t since)
{
	char buf[CTL_TIME_LEN];

	if (since == INT64_MIN)
		return ctl_fail(CTL_EXIT_NOTFOUND, "no checkpoints in the index"
		    " yet (the daemon writes one after a cycle that archived"
		    " records)");
	return ctl_fail(CTL_EXIT_NOTFOUND, "no checkpoints written since %s",
	    ctl_fmt_time(since, buf, sizeof(buf)));
}

/* --- list ---------------------------------------------------------------- */

static int
ckpt_list(int argc, char **argv, struct ctl *ctl)
{
	static const struct option opts[] = {
		{ "since",	required_argument,	NULL,	's' },
		CTL_OPTIONS_COMMON
	};
	char tbuf[CTL_TIME_LEN];
	struct ckpt_rows rows;
	struct ckpt_row *row;
	int64_t since = INT64_MIN;
	json_t *a, *o;
	size_t i, n;
	int c, ex;

	while ((c = ctl_getopt(ctl, argc, argv, "s:h", opts)) != -1) {
		switch (c) {
		case 's':
			if (ckpt_since(ctl, optarg, &since) != 0)
				return CTL_EXIT_USAGE;
			break;
		case CTL_OPT_HELP:
			return ctl_help(ctl);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return ctl_usage(ctl, "unexpected argument '%s'", argv[optind]);
	if (ckpt_load(ctl, since, &rows) < 0)
		return CTL_EXIT_IO;
	if (ctl->json) {
		a = json_array();
		for (i = 0; i < rows.n; i++) {
			row = &rows.v[i];
			o = json_object();
			json_object_set_new(o, "record_id",
			    ctl_json_str(row->record_id));
			json_object_set_new(o, "size", json_integer(row->size));
			json_object_set_new(o, "root", ctl_json_str(row->root));
			json_object_set_new(o, "time", json_string(ctl_fmt_time(
			    row->time, tbuf, sizeof(tbuf))));
			json_object_set_new(o, "signer",
			    ctl_json_str(row->signer));
			json_object_set_new(o, "timestamped",
			    json_boolean(row->token != NULL));
			json_array_append_new(a, o);
		}
		ex = ctl_print_json(a);
		if (ex == CTL_EXIT_OK && rows.n == 0)
			ex = CTL_EXIT_NOTFOUND;
		goto out;
	}
	if (rows.n == 0) {
		ex = ckpt_none(since);
		goto out;
	}
	for (i = 0; i < rows.n; i++) {
		row = &rows.v[i];
		/* The index is data too: print only what is hex. */
		n = strspn(row->root, "0123456789abcdef");
		if (n > CKPT_ROOT_SHORT)
			n = CKPT_ROOT_SHORT;
		printf("%s  %10lld  %-*.*s  ", ctl_fmt_time(row->time, tbuf,
		    sizeof(tbuf)), (long long)row->size, CKPT_ROOT_SHORT,
		    (int)n, row->root);
		ctl_put_text(stdout, row->signer != NULL ? row->signer :
		    "unsigned", 0, CTL_TEXT_ONELINE);
		printf("%s\n", row->token != NULL ? "  timestamped" : "");
	}
	ex = CTL_EXIT_OK;
out:
	ckpt_rows_release(&rows);
	return ex;
}

/* --- export -------------------------------------------------------------- */

/*
 * Read a small file whole: a new NUL-terminated buffer in *ret_buf
 * (*ret_len bytes). 0, -EFBIG when it holds more than max bytes, or
 * -errno.
 */
static int
ckpt_read_file(const char *path, size_t max, char **ret_buf,
    size_t *ret_len)
{
	char *buf;
	size_t len = 0;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	buf = xmalloc(max + 2);
	for (;;) {
		n = read(fd, buf + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			r = -EFBIG;
			break;
		}
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

/*
 * The verifier key the daemon published (STATE_DIR/ledger.pub) without
 * its newline: a new string in *ret_text, or NULL when there is none.
 * 0, or -EIO after the message.
 */
static int
ckpt_verifier(struct ctl *ctl, char **ret_text)
{
	const char *dir;
	char *path, *buf = NULL;
	size_t len = 0;
	int r;

	r = ctl_state_dir(ctl, &dir);
	if (r < 0)
		return r;
	path = xasprintf("%s/%s", dir, ANCHOR_PUB_FILE);
	r = ckpt_read_file(path, CKPT_PUB_MAX, &buf, &len);
	if (r == -ENOENT) {
		*ret_text = NULL;
		r = 0;
		goto out;
	}
	if (r < 0) {
		r = ctl_fail(-EIO, "cannot read the verifier key '%s': %s",
		    path, strerror(-r));
		goto out;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (len == 0 || memchr(buf, '\n', len) != NULL ||
	    !util_is_printable(buf)) {
		free(buf);
		r = ctl_fail(-EIO, "'%s' is not a verifier key (one line of "
		    "text expected)", path);
		goto out;
	}
	*ret_text = buf;
out:
	free(path);
	return r;
}

static char *
ckpt_base64(const unsigned char *p, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* The export document (see the top of this file); a new reference. */
static json_t *
ckpt_document(const struct ckpt_rows *rows, const char *verifier,
    int64_t now)
{
	const struct ckpt_row *row;
	char tbuf[CTL_TIME_LEN], *tok;
	json_t *doc, *a, *o;
	size_t i;

	doc = json_object();
	json_object_set_new(doc, "format", json_string(CKPT_FORMAT));
	json_object_set_new(doc, "origin", ctl_json_str(rows->origin));
	json_object_set_new(doc, "verifier", ctl_json_str(verifier));
	json_object_set_new(doc, "exported", json_string(ctl_fmt_time(now,
	    tbuf, sizeof(tbuf))));
	a = json_array();
	json_object_set_new(doc, "checkpoints", a);
	for (i = 0; i < rows->n; i++) {
		row = &rows->v[i];
		o = json_object();
		json_object_set_new(o, "record_id",
		    ctl_json_str(row->record_id));
		json_object_set_new(o, "size", json_integer(row->size));
		json_object_set_new(o, "root", ctl_json_str(row->root));
		json_object_set_new(o, "time", json_string(ctl_fmt_time(
		    row->time, tbuf, sizeof(tbuf))));
		json_object_set_new(o, "signer", ctl_json_str(row->signer));
		json_object_set_new(o, "note", ctl_json_str(row->note));
		if (row->token != NULL) {
			tok = ckpt_base64(row->token, row->token_len);
			json_object_set_new(o, "tsa_token", json_string(tok));
			free(tok);
		} else {
			json_object_set_new(o, "tsa_token", json_null());
		}
		json_array_append_new(a, o);
	}
	return doc;
}

/*
 * Write p to path unless a file is there: one with the same bytes is
 * left alone (a second export into the same DIR), one with other bytes
 * is an error. Returns CTL_EXIT_* after any message.
 */
static int
ckpt_put_file(const char *path, const void *p, size_t n, size_t max)
{
	char *old = NULL;
	size_t oldlen = 0;
	int r;

	r = ckpt_read_file(path, max, &old, &oldlen);
	if (r == 0) {
		r = oldlen == n && memcmp(old, p, n) == 0;
		free(old);
		if (r)
			return CTL_EXIT_OK;
		return ctl_fail(CTL_EXIT_NOTFOUND, "'%s' already exists with "
		    "other contents; not overwriting it (choose another "
		    "--tokens DIR)", path);
	}
	if (r == -EFBIG)
		return ctl_fail(CTL_EXIT_NOTFOUND, "'%s' already exists with "
		    "other contents; not overwriting it (choose another "
		    "--tokens DIR)", path);
	if (r != -ENOENT)
		return ctl_fail(CTL_EXIT_IO, "cannot read '%s': %s", path,
		    strerror(-r));
	r = sysio_write_file(path, p, n, CKPT_FILE_MODE);
	if (r < 0)
		return ctl_fail(CTL_EXIT_IO, "cannot write '%s': %s", path,
		    strerror(-r));
	return CTL_EXIT_OK;
}

/*
 * DIR/checkpoint-SIZE.note and .tsr for every time-stamped checkpoint;
 * the number of checkpoints written in *ret_n. Returns CTL_EXIT_*.
 */
static int
ckpt_write_tokens(const struct ckpt_rows *rows, const char *dir,
    size_t *ret_n)
{
	const struct ckpt_row *row;
	struct stat sb;
	char *path;
	size_t i, n = 0;
	int ex = CTL_EXIT_OK;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return ctl_fail(CTL_EXIT_IO, "cannot create directory '%s': %s",
		    dir, strerror(errno));
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return ctl_fail(CTL_EXIT_IO, "'%s' is not a directory", dir);
	for (i = 0; i < rows->n && ex == CTL_EXIT_OK; i++) {
		row = &rows->v[i];
		if (row->token == NULL)
			continue;
		path = xasprintf("%s/checkpoint-%lld.note", dir,
		    (long long)row->size);
		ex = ckpt_put_file(path, row->note, row->note_len,
		    CHECKPOINT_NOTE_MAX);
		free(path);
		if (ex != CTL_EXIT_OK)
			break;
		path = xasprintf("%s/checkpoint-%lld.tsr", dir,
		    (long long)row->size);
		ex = ckpt_put_file(path, row->token, row->token_len,
		    TSA_MAX_DER);
		free(path);
		if (ex == CTL_EXIT_OK)
			n++;
	}
	*ret_n = n;
	return ex;
}

/*
 * Claim out with O_EXCL, so that an existing file is never replaced and
 * two exports cannot race for the name; sysio_write_file() then renames
 * the finished file over the empty one. Returns CTL_EXIT_*.
 */
static int
ckpt_claim(const char *out)
{
	struct stat sb;
	int fd, e;

	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    CKPT_FILE_MODE);
	if (fd >= 0) {
		close(fd);
		return CTL_EXIT_OK;
	}
	e = errno;
	if (e == EEXIST && lstat(out, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_size == 0)
		return ctl_fail(CTL_EXIT_NOTFOUND, "'%s' already exists (empty:"
		    " left by an interrupted export? remove it and run again);"
		    " not overwriting it", out);
	if (e == EEXIST)
		return ctl_fail(CTL_EXIT_NOTFOUND, "'%s' already exists; not "
		    "overwriting it (choose another --out)", out);
	return ctl_fail(CTL_EXIT_IO, "cannot create '%s': %s", out,
	    strerror(e));
}

static void
ckpt_export_print(struct ctl *ctl, const struct ckpt_rows *rows,
    const char *out, const char *tokens, size_t ntokens)
{
	const struct ckpt_row *last = &rows->v[rows->n - 1];
	char tbuf[CTL_TIME_LEN];
	json_t *o;

	ctl_fmt_time(last->time, tbuf, sizeof(tbuf));
	if (ctl->json) {
		o = json_object();
		json_object_set_new(o, "file", ctl_json_str(out));
		json_object_set_new(o, "checkpoints",
		    json_integer((json_int_t)rows->n));
		json_object_set_new(o, "newest_size",
		    json_integer(last->size));
		json_object_set_new(o, "newest_time", json_string(tbuf));
		json_object_set_new(o, "tokens_dir", ctl_json_str(tokens));
		json_object_set_new(o, "tokens",
		    json_integer((json_int_t)ntokens));
		ctl_print_json(o);
		return;
	}
	printf("exported %zu checkpoint(s), newest size %lld at %s, to %s; "
	    "keep this file off the archive host \xe2\x80\x94 'sunarchive "
	    "check --against %s' proves the archive still matches it\n",
	    rows->n, (long long)last->size, tbuf, out, out);
	if (tokens == NULL)
		return;
	if (ntokens == 0) {
		printf("no exported checkpoint has a time-stamp token; nothing "
		    "written to %s\n", tokens);
		return;
	}
	printf("wrote %zu time-stamp token(s) to %s; check one with\n"
	    "  openssl ts -verify -data %s/checkpoint-SIZE.note"
	    " -in %s/checkpoint-SIZE.tsr -token_in -CAfile TSA-CA.pem\n"
	    "where TSA-CA.pem holds the CA certificates that issue the "
	    "TSA's certificate (the daemon's tsa_ca_file)\n", ntokens,
	    tokens, tokens, tokens);
}

static int
ckpt_export(int argc, char **argv, struct ctl *ctl)
{
	static const struct option opts[] = {
		{ "out",	required_argument,	NULL,	'o' },
		{ "since",	required_argument,	NULL,	's' },
		{ "tokens",	required_argument,	NULL,	't' },
		CTL_OPTIONS_COMMON
	};
	const char *out = NULL, *tokens = NULL;
	struct ckpt_rows rows;
	int64_t since = INT64_MIN;
	char *verifier = NULL, *text = NULL;
	size_t ntokens = 0, len;
	json_t *doc;
	int c, r, ex;

	while ((c = ctl_getopt(ctl, argc, argv, "o:s:t:h", opts)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 's':
			if (ckpt_since(ctl, optarg, &since) != 0)
				return CTL_EXIT_USAGE;
			break;
		case 't':
			tokens = optarg;
			break;
		case CTL_OPT_HELP:
			return ctl_help(ctl);
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return ctl_usage(ctl, "unexpected argument '%s'", argv[optind]);
	if (out == NULL || out[0] == '\0')
		return ctl_usage(ctl, "where should the checkpoints go? give "
		    "--out FILE");
	if (tokens != NULL && tokens[0] == '\0')
		return ctl_usage(ctl, "--tokens needs a directory");

	if (ckpt_load(ctl, since, &rows) < 0)
		return CTL_EXIT_IO;
	if (rows.n == 0) {
		ex = ckpt_none(since);
		goto out_rows;
	}
	if (ckpt_verifier(ctl, &verifier) < 0) {
		ex = CTL_EXIT_IO;
		goto out_rows;
	}
	doc = ckpt_document(&rows, verifier, util_now());
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (text == NULL) {
		ex = ctl_fail(CTL_EXIT_IO, "cannot format the checkpoints as "
		    "JSON");
		goto out_rows;
	}
	ex = ckpt_claim(out);
	if (ex != CTL_EXIT_OK)
		goto out_rows;
	if (tokens != NULL) {
		ex = ckpt_write_tokens(&rows, tokens, &ntokens);
		if (ex != CTL_EXIT_OK)
			goto out_unclaim;
	}
	/* The document ends in a newline, like every text file. */
	len = strlen(text);
	text = xrealloc(text, len + 2);
	memcpy(text + len, "\n", 2);
	r = sysio_write_file(out, text, len + 1, CKPT_FILE_MODE);
	if (r < 0) {
		ex = ctl_fail(CTL_EXIT_IO, "cannot write '%s': %s", out,
		    strerror(-r));
		goto out_unclaim;
	}
	ckpt_export_print(ctl, &rows, out, tokens, ntokens);
	ex = CTL_EXIT_OK;
	goto out_rows;

out_unclaim:
	unlink(out);
out_rows:
	free(text);
	free(verifier);
	ckpt_rows_release(&rows);
	return ex;
}

/* --- the command --------------------------------------------------------- */

static const struct {
	const char	*name;
	int		(*fn)(int argc, char **argv, struct ctl *ctl);
} ckpt_subcommands[] = {
	{ "list",	ckpt_list },
	{ "export",	ckpt_export },
};

int
cmd_checkpoint(int argc, char **argv, struct ctl *ctl)
{
	size_t i;

	if (argc < 2)
		return ctl_usage(ctl, "which subcommand? 'list' or 'export'");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return ctl_help(ctl);
	for (i = 0; i < ARRAY_SIZE(ckpt_subcommands); i++) {
		if (strcmp(argv[1], ckpt_subcommands[i].name) != 0)
			continue;
		optind = 0;	/* getopt restarts on the subcommand's argv */
		return ckpt_subcommands[i].fn(argc - 1, argv + 1, ctl);
	}
	return ctl_usage(ctl, "unknown subcommand '%s' (use 'list' or "
	    "'export')", argv[1]);
}
