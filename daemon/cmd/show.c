/*
 * show.c - "sunarchive show ITEM": everything the archive holds about one
 * item: where it sits in its thread, its state and the time bounds of its
 * removal, every version oldest first with its content hash, the WARC
 * record that holds it and its full text, its media, and its events.
 *
 * ITEM is the item number search prints, a platform id, or
 * ACCOUNT:PLATFORM_ID; a platform id that several accounts share is
 * listed back to the user rather than guessed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "util.h"
#include "xalloc.h"

#define SHOW_LABEL	20	/* width of the label column */

/*
 * Candidates for ITEM: ?1 account name or NULL, ?2 platform id, ?3 item
 * number or NULL. Accounts drive the join so the (account_id,
 * platform_id) index answers the platform id lookup.
 */
static const char show_find_sql[] =
    "SELECT i.id, a.name, i.platform_id, i.kind, i.created"
    " FROM accounts a CROSS JOIN items i ON i.account_id = a.id"
    " WHERE i.platform_id = ?2 AND (?1 IS NULL OR a.name = ?1)"
    " UNION"
    " SELECT i.id, a.name, i.platform_id, i.kind, i.created"
    " FROM items i JOIN accounts a ON a.id = i.account_id"
    " WHERE ?1 IS NULL AND i.id = ?3"
    " ORDER BY 1";

static const char show_item_sql[] =
    "SELECT " CTL_ITEM_COLUMNS ","
    " (SELECT p.id FROM items p WHERE p.account_id = i.account_id"
    "  AND p.platform_id = i.parent_id),"
    " (SELECT p.id FROM items p WHERE p.account_id = i.account_id"
    "  AND p.platform_id = i.root_id)"
    " FROM items i JOIN accounts a ON a.id = i.account_id"
    " WHERE i.id = ?1";

static const char show_versions_sql[] =
    "SELECT v.hash, v.captured, v.platform_time, v.seq, r.record_id,"
    " s.name, r.offset, r.length, r.sha256, v.source_seq, v.text"
    " FROM versions v LEFT JOIN records r ON r.seq = v.seq"
    " LEFT JOIN segments s ON s.id = r.segment_id"
    " WHERE v.item_id = ?1 ORDER BY v.id";

static const char show_media_sql[] =
    "SELECT media_key, content_type, size, sha256, seq FROM media"
    " WHERE item_id = ?1 ORDER BY id";

static const char show_events_sql[] =
    "SELECT type, time, detail, seq FROM events"
    " WHERE item_id = ?1 ORDER BY time, id";

/* The candidates for ITEM as a list on stderr. */
static void
show_list_ambiguous(const char *arg, const json_t *found)
{
	const json_t *o;
	size_t i;

	ctl_fail(0, "'%s' matches %zu items; name one by its ID or as "
	    "ACCOUNT:PLATFORM_ID:", arg, json_array_size(found));
	fprintf(stderr, "  %-8s %s\n", "ID", "ACCOUNT:PLATFORM_ID");
	for (i = 0; i < json_array_size(found); i++) {
		o = json_array_get(found, i);
		fprintf(stderr, "  %-8lld ",
		    (long long)ctl_json_get_int(o, "id"));
		ctl_put_text(stderr, ctl_json_get_str(o, "account", "?"), 0,
		    CTL_TEXT_ONELINE);
		fputc(':', stderr);
		ctl_put_text(stderr, ctl_json_get_str(o, "platform_id", "?"), 0,
		    CTL_TEXT_ONELINE);
		fprintf(stderr, "  %s %s\n", ctl_json_get_str(o, "kind", "?"),
		    ctl_json_get_str(o, "created", "-"));
	}
}

/*
 * Resolve ITEM to an item number. Returns 0, -ENOENT (not found),
 * -EEXIST (several, listed), -EINVAL (malformed) or -EIO, each error
 * after printing its message.
 */
static int
show_find(struct ctl *ctl, const char *arg, int64_t *ret_id)
{
	sqlite3_stmt *st;
	const char *colon, *pid = arg;
	char *account = NULL;
	json_t *found, *o;
	int64_t num;
	int r, rc;

	colon = strchr(arg, ':');
	if (colon != NULL) {
		if (colon == arg || colon[1] == '\0') {
			ctl_usage(ctl, "invalid item '%s' (use ID, "
			    "PLATFORM_ID or ACCOUNT:PLATFORM_ID)", arg);
			return -EINVAL;
		}
		account = xstrndup(arg, (size_t)(colon - arg));
		pid = colon + 1;
	}
	r = ctl_prepare(ctl, show_find_sql, &st);
	if (r < 0)
		goto out_account;
	if (account != NULL)
		sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, pid, -1, SQLITE_STATIC);
	if (account == NULL && util_parse_int(arg, 1, INT64_MAX, &num) == 0)
		sqlite3_bind_int64(st, 3, num);

	found = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		o = json_object();
		json_object_set_new(o, "id", ctl_col_int(st, 0));
		json_object_set_new(o, "account", ctl_col_str(st, 1));
		json_object_set_new(o, "platform_id", ctl_col_str(st, 2));
		json_object_set_new(o, "kind", ctl_col_str(st, 3));
		json_object_set_new(o, "created", ctl_col_time(st, 4));
		json_array_append_new(found, o);
	}
	if (rc != SQLITE_DONE) {
		r = ctl_db_error(ctl);
	} else if (json_array_size(found) == 0) {
		r = ctl_fail(-ENOENT, "no item '%s' in the index", arg);
	} else if (json_array_size(found) > 1) {
		show_list_ambiguous(arg, found);
		r = -EEXIST;
	} else {
		*ret_id = ctl_json_get_int(json_array_get(found, 0), "id");
		r = 0;
	}
	json_decref(found);
	sqlite3_finalize(st);
out_account:
	free(account);
	return r;
}

/* Run st (its ?1 bound to the item) and add each row made by fn to arr. */
static int
show_rows(struct ctl *ctl, sqlite3_stmt *st, json_t *arr,
    json_t *(*fn)(sqlite3_stmt *, size_t))
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(arr, fn(st, json_array_size(arr)));
	return rc == SQLITE_DONE ? 0 : ctl_db_error(ctl);
}

static json_t *
show_version(sqlite3_stmt *st, size_t i)
{
	json_t *v = json_object(), *rec = json_object();

	json_object_set_new(v, "number", json_integer((json_int_t)i + 1));
	json_object_set_new(v, "captured", ctl_col_time(st, 1));
	json_object_set_new(v, "platform_time", ctl_col_time(st, 2));
	json_object_set_new(v, "hash", ctl_col_str(st, 0));
	json_object_set_new(rec, "seq", ctl_col_int(st, 3));
	json_object_set_new(rec, "record_id", ctl_col_str(st, 4));
	json_object_set_new(rec, "segment", ctl_col_str(st, 5));
	json_object_set_new(rec, "offset", ctl_col_int(st, 6));
	json_object_set_new(rec, "length", ctl_col_int(st, 7));
	json_object_set_new(rec, "sha256", ctl_col_str(st, 8));
	json_object_set_new(v, "record", rec);
	json_object_set_new(v, "source_seq", ctl_col_int(st, 9));
	json_object_set_new(v, "text", ctl_col_str(st, 10));
	return v;
}

static json_t *
show_medium(sqlite3_stmt *st, size_t i)
{
	json_t *m = json_object();

	(void)i;
	json_object_set_new(m, "media_key", ctl_col_str(st, 0));
	json_object_set_new(m, "content_type", ctl_col_str(st, 1));
	json_object_set_new(m, "size", ctl_col_int(st, 2));
	json_object_set_new(m, "sha256", ctl_col_str(st, 3));
	json_object_set_new(m, "seq", ctl_col_int(st, 4));
	return m;
}

static json_t *
show_event(sqlite3_stmt *st, size_t i)
{
	json_t *e = json_object();

	(void)i;
	json_object_set_new(e, "type", ctl_col_str(st, 0));
	json_object_set_new(e, "time", ctl_col_time(st, 1));
	json_object_set_new(e, "detail", ctl_col_json(st, 2));
	json_object_set_new(e, "seq", ctl_col_int(st, 3));
	return e;
}

/* Build the whole item; ret_item gets a new reference. */
static int
show_load(struct ctl *ctl, int64_t id, json_t **ret_item)
{
	static const struct {
		const char	*key;
		const char	*sql;
		json_t		*(*fn)(sqlite3_stmt *, size_t);
	} parts[] = {
		{ "versions",		show_versions_sql,	show_version },
		{ "media",		show_media_sql,		show_medium },
		{ "events",		show_events_sql,	show_event },
	};
	sqlite3_stmt *st;
	json_t *item, *arr;
	size_t i;
	int r, rc;

	r = ctl_prepare(ctl, show_item_sql, &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? ctl_fail(-ENOENT, "item %lld vanished "
		    "from the index", (long long)id) : ctl_db_error(ctl);
		sqlite3_finalize(st);
		return r;
	}
	item = ctl_item_json(st);
	json_object_set_new(item, "parent_item",
	    ctl_col_int(st, CTL_ITEM_NCOLS));
	json_object_set_new(item, "root_item",
	    ctl_col_int(st, CTL_ITEM_NCOLS + 1));
	sqlite3_finalize(st);

	for (i = 0; i < ARRAY_SIZE(parts); i++) {
		r = ctl_prepare(ctl, parts[i].sql, &st);
		if (r < 0)
			break;
		sqlite3_bind_int64(st, 1, id);
		arr = json_array();
		r = show_rows(ctl, st, arr, parts[i].fn);
		sqlite3_finalize(st);
		json_object_set_new(item, parts[i].key, arr);
		if (r < 0)
			break;
	}
	if (r < 0) {
		json_decref(item);
		return r;
	}
	*ret_item = item;
	return 0;
}

static void
show_label(const char *label)
{
	printf("  %-*s", SHOW_LABEL - 2, label);
}

/* "label  value" with the value made terminal-safe; "-" for null. */
static void
show_field(const char *label, const json_t *obj, const char *key)
{
	show_label(label);
	ctl_put_text(stdout, ctl_json_get_str(obj, key, "-"), 0,
	    CTL_TEXT_ONELINE);
	fputc('\n', stdout);
}

/* A platform id with the item number it has here, if archived. */
static void
show_ref(const char *label, const json_t *item, const char *key,
    const char *item_key)
{
	const json_t *n = json_object_get(item, item_key);

	show_label(label);
	ctl_put_text(stdout, ctl_json_get_str(item, key, "-"), 0,
	    CTL_TEXT_ONELINE);
	if (json_is_integer(n))
		printf(" (item %lld)", (long long)json_integer_value(n));
	fputc('\n', stdout);
}

static void
show_print_item(const json_t *item)
{
	const char *author_id = ctl_json_get_str(item, "author_id", NULL);

	printf("item %lld\n", (long long)ctl_json_get_int(item, "id"));
	show_field("platform", item, "platform");
	show_field("account", item, "account");
	show_field("kind", item, "kind");
	show_field("platform id", item, "platform_id");
	show_ref("parent", item, "parent_id", "parent_item");
	show_ref("thread root", item, "root_id", "root_item");
	show_label("author");
	ctl_put_text(stdout, ctl_json_get_str(item, "author", "-"), 0,
	    CTL_TEXT_ONELINE);
	if (author_id != NULL) {
		fputs(" (id ", stdout);
		ctl_put_text(stdout, author_id, 0, CTL_TEXT_ONELINE);
		fputc(')', stdout);
	}
	fputc('\n', stdout);
	show_field("created", item, "created");
	show_field("url", item, "url");
	show_field("state", item, "state");
	show_label("hidden");
	printf("%s\n", json_is_true(json_object_get(item, "hidden")) ?
	    "yes" : "no");
	show_field("first seen", item, "first_seen");
	show_field("last seen", item, "last_seen");
	show_field("first missing", item, "first_missing");
	show_field("removal confirmed", item, "removed_at");
}

static void
show_print_version(const json_t *v, size_t n)
{
	const json_t *rec = json_object_get(v, "record");
	const char *text = ctl_json_get_str(v, "text", NULL);

	printf("\nversion %lld of %zu\n",
	    (long long)ctl_json_get_int(v, "number"), n);
	show_field("captured", v, "captured");
	show_field("platform time", v, "platform_time");
	show_field("sha256", v, "hash");
	show_label("record");
	if (json_is_string(json_object_get(rec, "segment"))) {
		ctl_put_text(stdout, ctl_json_get_str(rec, "segment", "?"), 0,
		    CTL_TEXT_ONELINE);
		printf(" offset %lld length %lld\n",
		    (long long)ctl_json_get_int(rec, "offset"),
		    (long long)ctl_json_get_int(rec, "length"));
		show_field("record id", rec, "record_id");
	} else
		printf("not in the index (seq %lld)\n",
		    (long long)ctl_json_get_int(rec, "seq"));
	if (text == NULL || text[0] == '\0') {
		show_label("text");
		printf("(none)\n");
		return;
	}
	printf("  text\n");
	ctl_put_block(stdout, text, "    ");
}

static void
show_print_media(const json_t *media)
{
	const json_t *m;
	size_t i;

	if (json_array_size(media) == 0)
		return;
	printf("\nmedia\n");
	for (i = 0; i < json_array_size(media); i++) {
		m = json_array_get(media, i);
		fputs("  ", stdout);
		ctl_put_text(stdout, ctl_json_get_str(m, "media_key", "?"), 0,
		    CTL_TEXT_ONELINE);
		fputs("  ", stdout);
		ctl_put_text(stdout, ctl_json_get_str(m, "content_type", "-"),
		    0, CTL_TEXT_ONELINE);
		printf("  %lld bytes  sha256 %s\n",
		    (long long)ctl_json_get_int(m, "size"),
		    ctl_json_get_str(m, "sha256", "-"));
	}
}

static void
show_print_events(const json_t *events)
{
	const json_t *e, *detail;
	char *s;
	size_t i;

	printf("\nevents\n");
	if (json_array_size(events) == 0)
		printf("  (none)\n");
	for (i = 0; i < json_array_size(events); i++) {
		e = json_array_get(events, i);
		printf("  %-20s ", ctl_json_get_str(e, "time", "-"));
		ctl_put_cell(stdout, ctl_json_get_str(e, "type", "?"), 10);
		detail = json_object_get(e, "detail");
		s = NULL;
		if (json_is_string(detail))
			s = xstrdup(json_string_value(detail));
		else if (detail != NULL && !json_is_null(detail))
			s = json_dumps(detail, JSON_COMPACT |
			    JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
		if (s != NULL) {
			fputc(' ', stdout);
			ctl_put_text(stdout, s, 0, CTL_TEXT_ONELINE);
		}
		free(s);
		fputc('\n', stdout);
	}
}

static void
show_print(const json_t *item)
{
	const json_t *versions = json_object_get(item, "versions");
	size_t i;

	show_print_item(item);
	for (i = 0; i < json_array_size(versions); i++)
		show_print_version(json_array_get(versions, i),
		    json_array_size(versions));
	if (json_array_size(versions) == 0)
		printf("\nno versions archived\n");
	show_print_media(json_object_get(item, "media"));
	show_print_events(json_object_get(item, "events"));
}

int
cmd_show(int argc, char **argv, struct ctl *ctl)
{
	static const struct option opts[] = { CTL_OPTIONS_COMMON };
	json_t *item = NULL;
	int64_t id = 0;
	int c, r;

	while ((c = ctl_getopt(ctl, argc, argv, "h", opts)) != -1) {
		if (c == CTL_OPT_HELP)
			return ctl_help(ctl);
		return CTL_EXIT_USAGE;
	}
	if (optind >= argc)
		return ctl_usage(ctl, "which item? give ITEM");
	if (argc - optind > 1)
		return ctl_usage(ctl, "unexpected argument '%s'",
		    argv[optind + 1]);

	r = show_find(ctl, argv[optind], &id);
	if (r == 0)
		r = show_load(ctl, id, &item);
	switch (r) {
	case 0:
		break;
	case -ENOENT:
		return CTL_EXIT_NOTFOUND;
	case -EEXIST:
	case -EINVAL:
		return CTL_EXIT_USAGE;
	default:
		return CTL_EXIT_IO;
	}
	if (ctl->json)
		return ctl_print_json(item);
	show_print(item);
	json_decref(item);
	return CTL_EXIT_OK;
}
