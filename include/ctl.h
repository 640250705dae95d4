/*
 * ctl.h - the sunarchive CLI: the state every command shares and the
 * helpers commands use to reach the index and print results.
 *
 * A command lives in daemon/cmd/NAME.c, exports cmd_NAME() below and has
 * one row in the commands[] table in daemon/ctl.c. It parses its options
 * with ctl_getopt(), reads the index through ctl_prepare(), builds its
 * result as a Jansson value and prints it with ctl_print_json() under
 * --json or as text otherwise, and returns one of the CTL_EXIT_* codes.
 * Helpers that can fail print their one message themselves and return a
 * negative errno; the command then only picks the exit code.
 */
#ifndef SUNARCHIVE_CTL_H
#define SUNARCHIVE_CTL_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <sqlite3.h>

#include "index.h"

#include "config.h"

/* Exit codes of every command. */
#define CTL_EXIT_OK		0	/* done */
#define CTL_EXIT_NOTFOUND	1	/* nothing found / integrity problem */
#define CTL_EXIT_USAGE		2	/* bad command line */
#define CTL_EXIT_IO		3	/* config, I/O or database error */

#define CTL_INDEX_NAME		"index.sqlite"
#define CTL_ARCHIVE_DIR		"archive"
/* Index schema versions this tool reads (see include/index.h). */
#define CTL_SCHEMA_MIN		1
#define CTL_SCHEMA_VERSION	INDEX_SCHEMA_VERSION
#define CTL_BUSY_TIMEOUT_MS	5000
#define CTL_TIME_LEN		32	/* buffer for ctl_fmt_time() */

struct ctl;

/* One row of the commands[] table. */
struct command {
	const char	*name;
	int		(*fn)(int argc, char **argv, struct ctl *ctl);
	const char	*summary;	/* one line for "sunarchive --help" */
	const char	*usage;		/* synopsis after "usage: sunarchive" */
	const char	*help;		/* options for "help NAME", or NULL */
};

/* What every command shares; filled by main() in ctl.c. */
struct ctl {
	const struct command *cmd;	/* the command running */
	const char	*config_path;	/* -f, or CONFIG_DEFAULT_PATH */
	char		*state_dir;	/* -s, or from the config; see below */
	char		*index_path;	/* STATE_DIR/index.sqlite once opened */
	sqlite3		*db;		/* opened lazily by ctl_db() */
	int		 json;		/* --json */
	int64_t		 now;		/* wall clock at start, unix s */
};

/*
 * Commands. argv[0] is the command name; options follow. Each returns a
 * CTL_EXIT_* code.
 */
int	cmd_status(int argc, char **argv, struct ctl *ctl);
int	cmd_search(int argc, char **argv, struct ctl *ctl);
int	cmd_show(int argc, char **argv, struct ctl *ctl);
int	cmd_reindex(int argc, char **argv, struct ctl *ctl);
int	cmd_keygen(int argc, char **argv, struct ctl *ctl);
int	cmd_checkpoint(int argc, char **argv, struct ctl *ctl);
int	cmd_check(int argc, char **argv, struct ctl *ctl);
int	cmd_request(int argc, char **argv, struct ctl *ctl);
int	cmd_hold(int argc, char **argv, struct ctl *ctl);
int	cmd_export(int argc, char **argv, struct ctl *ctl);

/*
 * Options. Every command's long option array ends with CTL_OPTIONS_COMMON
 * (--json, --help) and its terminating zero row. ctl_getopt() works like
 * getopt_long(3) but sets ctl->json itself for --json, returns CTL_OPT_HELP
 * for -h/--help (answer with "return ctl_help(ctl);"), and for an unknown
 * option or a missing value prints the message and the command's usage
 * and returns '?' (answer with "return CTL_EXIT_USAGE;"). main() resets
 * optind before it calls the command.
 */
#define CTL_OPT_HELP		'h'
#define CTL_OPT_JSON		0x100
#define CTL_OPTIONS_COMMON						\
	{ "json",	no_argument,	NULL,	CTL_OPT_JSON },		\
	{ "help",	no_argument,	NULL,	CTL_OPT_HELP },		\
	{ NULL,		0,		NULL,	0 }

int	ctl_getopt(struct ctl *ctl, int argc, char **argv,
	    const char *shortopts, const struct option *longopts);

/* Print the running command's usage and help to stdout; returns 0. */
int	ctl_help(struct ctl *ctl);

/*
 * Print "sunarchive: MESSAGE" and the running command's usage to stderr;
 * returns CTL_EXIT_USAGE.
 */
int	ctl_usage(struct ctl *ctl, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Print "sunarchive: MESSAGE" to stderr; returns code. */
int	ctl_fail(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * The state directory: -s, else state_dir from the config file, which is
 * loaded on first use without reading any token file. Borrowed pointer.
 * Returns 0, or -EIO after printing the config error.
 */
int	ctl_state_dir(struct ctl *ctl, const char **ret_dir);

/*
 * The index, opened read-only on first use (busy timeout, schema version
 * checked). Borrowed handle, closed by main(). Returns 0, or -EIO after
 * printing a message naming the file.
 */
int	ctl_db(struct ctl *ctl, sqlite3 **ret_db);

/*
 * Prepare sql on the index (opening it if needed). The caller finalizes
 * *ret_st. Returns 0, or -EIO after printing the message.
 */
int	ctl_prepare(struct ctl *ctl, const char *sql, sqlite3_stmt **ret_st);

/*
 * Print "cannot read index 'PATH': <sqlite error>" for a failed prepare or
 * step; returns -EIO.
 */
int	ctl_db_error(struct ctl *ctl);

/*
 * Result columns as new JSON references: a string (invalid UTF-8 replaced
 * by U+FFFD), an integer, a UTC time string "2026-03-02T14:05:09Z", or
 * JSON null for SQL NULL.
 */
json_t	*ctl_col_str(sqlite3_stmt *st, int col);
json_t	*ctl_col_int(sqlite3_stmt *st, int col);
json_t	*ctl_col_time(sqlite3_stmt *st, int col);
json_t	*ctl_col_bool(sqlite3_stmt *st, int col);
/* A column holding JSON text as that value; a string if it is not JSON. */
json_t	*ctl_col_json(sqlite3_stmt *st, int col);

/*
 * The item columns every item listing selects, from "items i JOIN
 * accounts a", and the object ctl_item_json() makes of them (keys id,
 * platform, account, kind, platform_id, parent_id, root_id, author,
 * author_id, created, url, state, hidden, nversions, first_seen, last_seen,
 * first_missing, removed_at). Further columns start at CTL_ITEM_NCOLS.
 */
#define CTL_ITEM_COLUMNS						\
	"i.id, i.platform, a.name, i.kind, i.platform_id, i.parent_id,"	\
	" i.root_id, i.author, i.author_id, i.created, i.url, i.state,"	\
	" i.hidden, i.nversions, i.first_seen, i.last_seen,"		\
	" i.first_missing, i.removed_at"
#define CTL_ITEM_NCOLS		18

/* New object of the CTL_ITEM_COLUMNS of the current row. */
json_t	*ctl_item_json(sqlite3_stmt *st);

/* A new JSON string of s (invalid UTF-8 replaced), or null for NULL. */
json_t	*ctl_json_str(const char *s);

/* The string under key in obj, or dflt when missing or not a string. */
const char *ctl_json_get_str(const json_t *obj, const char *key,
	    const char *dflt);
/* The integer under key in obj, or 0. */
int64_t	ctl_json_get_int(const json_t *obj, const char *key);

/*
 * Print v to stdout as indented JSON (keys in insertion order) and a
 * newline. Steals the reference to v. Returns CTL_EXIT_OK.
 */
int	ctl_print_json(json_t *v);

/* "2026-03-02T14:05:09Z" into buf (CTL_TIME_LEN bytes). */
char	*ctl_fmt_time(int64_t t, char *buf, size_t len);
/* "just now", "5 min ago", "3 h ago", "2 d ago" or "in 4 min". */
char	*ctl_fmt_age(int64_t t, int64_t now, char *buf, size_t len);
/* "12.3 MiB" (or "512 B") into buf. */
char	*ctl_fmt_size(int64_t bytes, char *buf, size_t len);

/*
 * Terminal-safe text. Archived text comes from the network: control
 * characters (C0, DEL, C1) and invalid UTF-8 bytes are written as "\xNN"
 * or "\uNNNN" so they cannot drive the terminal. With CTL_TEXT_ONELINE,
 * runs of newlines, tabs and carriage returns become one space.
 * ctl_put_text() writes at most maxcols display columns (0 = no limit),
 * ending in "..." when it had to cut, and returns the columns written.
 * ctl_put_cell() does the same on one line and pads to exactly width.
 * ctl_put_block() writes every line of s preceded by prefix.
 */
#define CTL_TEXT_ONELINE	0x1

size_t	ctl_put_text(FILE *fp, const char *s, size_t maxcols,
	    unsigned flags);
void	ctl_put_cell(FILE *fp, const char *s, size_t width);
/* The columns ctl_put_text(fp, s, 0, flags) would write. */
size_t	ctl_text_width(const char *s, unsigned flags);
void	ctl_put_block(FILE *fp, const char *s, const char *prefix);

/* Display columns for the text column of wide output (tty width or 120). */
size_t	ctl_term_width(void);

#endif
