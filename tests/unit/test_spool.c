/*
 * test_spool.c - events queued by the tool reach the archive exactly once:
 * spool_write leaves one UUID.json; spool_ingest archives it as a metadata
 * record with that UUID as its record id, indexes the event, and removes
 * the file; a file already archived (crash before the unlink) is only
 * removed; a malformed file is moved to quarantine, not archived.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "spool.h"
#include "store.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static char root[] = "/tmp/sunarchive-test-spool.XXXXXX";

static int
count_dir(const char *dir, const char *suffix)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name), s = strlen(suffix);

		if (l > s && strcmp(de->d_name + l - s, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static int
rm_entry(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)type;
	(void)f;
	return remove(path);
}

static long long
qint(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	long long v = -1;

	if (sqlite3_prepare_v2(st->ix.db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

int
main(void)
{
	struct store_recovery rec;
	struct spool_result res;
	struct store st;
	char err[512], id[RECORD_ID_LEN], *spool, *quar, *copy, *bad;
	json_t *ev;
	FILE *f;

	if (mkdtemp(root) == NULL)
		return 1;
	spool = xasprintf("%s/%s", root, SPOOL_DIR);
	quar = xasprintf("%s/quarantine", root);
	is_int(store_open(&st, root, 1 << 30, 86400, "software: test\r\n",
	    &rec, err, sizeof(err)), 0, "store opens");

	ev = json_pack("{s:s, s:s}", "event", "fixity", "result", "ok");
	is_int(spool_write(root, ev, id, sizeof(id)), 0, "spool_write");
	json_decref(ev);
	ok(strncmp(id, "urn:uuid:", 9) == 0, "record id to come: %s", id);
	is_int(count_dir(spool, ".json"), 1, "one file queued");
	ev = json_pack("{s:s}", "result", "no event name");
	is_int(spool_write(root, ev, NULL, 0), -EINVAL,
	    "an event without a name is refused");
	json_decref(ev);

	is_int(spool_ingest(&st, &res), 0, "ingest");
	is_int(res.ingested, 1, "one event archived");
	is_int(count_dir(spool, ".json"), 0, "and dequeued");
	{
		char sql[256];

		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM records r"
		    " JOIN events e ON e.seq = r.seq WHERE r.record_id = '%s'"
		    " AND e.type = 'fixity' AND r.type = 'metadata'", id);
		is_int(qint(&st, sql), 1, "indexed as a metadata record and"
		    " a fixity event, with the spool's id");
	}

	/* A crash after archiving but before the unlink: file reappears. */
	ev = json_pack("{s:s}", "event", "fixity");
	spool_write(root, ev, id, sizeof(id));
	json_decref(ev);
	spool_ingest(&st, &res);
	copy = xasprintf("%s/%s.json", spool, id + 9);
	f = fopen(copy, "w");
	fputs("{\"event\":\"fixity\"}", f);
	fclose(f);
	is_int(spool_ingest(&st, &res), 0, "re-ingest after a crash");
	is_int(res.ingested, 0, "nothing archived twice");
	is_int(count_dir(spool, ".json"), 0, "the leftover file is removed");
	is_int(qint(&st, "SELECT COUNT(*) FROM events WHERE type ="
	    " 'fixity'"), 2, "two fixity events in all");

	/* Malformed: quarantined, not archived. */
	bad = xasprintf("%s/01234567-89ab-7def-8123-456789abcdef.json", spool);
	f = fopen(bad, "w");
	fputs("{\"event\": 42", f);
	fclose(f);
	is_int(spool_ingest(&st, &res), 0, "ingest with a bad file");
	is_int(res.rejected, 1, "one rejected");
	is_int(count_dir(quar, ".rejected"), 1, "kept in quarantine");
	is_int(count_dir(spool, ".json"), 0, "out of the queue");
	is_int(qint(&st, "SELECT COUNT(*) FROM events"), 2,
	    "no event from it");

	store_close(&st);
	free(spool);
	free(quar);
	free(copy);
	free(bad);
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
