/*
 * spool.c - the tool -> daemon event queue (see spool.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"
#include "sysio.h"
#include "util.h"
#include "xalloc.h"

#define UUID_LEN	36

int
spool_write(const char *state_dir, json_t *event, char *ret_id, size_t idlen)
{
	char urn[RECORD_ID_LEN], now[32], *dir, *path, *text;
	int r;

	if (!json_is_string(json_object_get(event, "event")))
		return -EINVAL;
	if (json_object_get(event, "time") == NULL)
		json_object_set_new(event, "time", json_string(
		    util_format_time(util_now(), now, sizeof(now))));
	text = json_dumps(event, JSON_COMPACT | JSON_SORT_KEYS);
	if (text == NULL)
		return -ENOMEM;
	if (strlen(text) > SPOOL_MAX) {
		free(text);
		return -EFBIG;
	}
	util_uuid_urn(urn, sizeof(urn));
	dir = xasprintf("%s/%s", state_dir, SPOOL_DIR);
	if (mkdir(dir, 0770) < 0 && errno != EEXIST) {
		r = -errno;
		free(dir);
		free(text);
		return r;
	}
	path = xasprintf("%s/%s.json", dir, urn + strlen("urn:uuid:"));
	r = sysio_write_file(path, text, strlen(text), 0640);
	if (r == 0 && ret_id != NULL)
		snprintf(ret_id, idlen, "%s", urn);
	free(path);
	free(dir);
	free(text);
	return r;
}

static int
valid_name(const char *name)
{
	size_t i;

	if (strlen(name) != UUID_LEN + 5 ||
	    strcmp(name + UUID_LEN, ".json") != 0)
		return 0;
	for (i = 0; i < UUID_LEN; i++) {
		char c = name[i];

		if ((i == 8 || i == 13 || i == 18 || i == 23) ? c != '-' :
		    !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
valid_event_name(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > 32)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || *s == '-'))
			return 0;
	return 1;
}

/* Read and check one spool file; the caller frees *ret_text. */
static int
read_event(const char *path, char **ret_text, size_t *ret_len, json_t **ret)
{
	struct stat sb;
	char *text;
	ssize_t n;
	json_t *j;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > SPOOL_MAX) {
		close(fd);
		return -EBADMSG;
	}
	text = xmalloc((size_t)sb.st_size + 1);
	n = read(fd, text, (size_t)sb.st_size);
	close(fd);
	if (n != sb.st_size) {
		free(text);
		return -EIO;
	}
	text[n] = '\0';
	j = json_loadb(text, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j) || !valid_event_name(json_string_value(
	    json_object_get(j, "event")))) {
		json_decref(j);
		free(text);
		return -EBADMSG;
	}
	*ret_text = text;
	*ret_len = (size_t)n;
	*ret = j;
	return 0;
}

static int
ingest_one(struct store *st, const char *dir, const char *name,
    struct spool_result *res)
{
	struct rec_meta m;
	char *path, *text = NULL, *bad;
	size_t len = 0;
	json_t *j = NULL;
	int r;

	path = xasprintf("%s/%s", dir, name);
	r = read_event(path, &text, &len, &j);
	if (r == -EBADMSG) {
		/* Keep it for a person to look at, out of the queue. */
		bad = xasprintf("%s/%s.rejected", st->quarantine_dir, name);
		if (rename(path, bad) == 0)
			res->rejected++;
		free(bad);
		free(path);
		return 0;
	}
	if (r < 0)
		goto out;
	record_meta_init(&m, REC_EVENT);
	snprintf(m.record_id, sizeof(m.record_id), "urn:uuid:%.*s",
	    UUID_LEN, name);
	m.event = json_string_value(json_object_get(j, "event"));
	m.account = json_string_value(json_object_get(j, "account"));
	m.item_id = json_string_value(json_object_get(j, "item"));
	r = index_has_record(&st->ix, m.record_id);
	if (r == 0) {
		r = store_add(st, &m, "application/json", text, len, -1);
		if (r == 0)
			r = store_commit(st);
		if (r == 0)
			res->ingested++;
	}
	if (r >= 0) {
		/* Archived (now or before a crash): dequeue. */
		if (unlink(path) < 0)
			r = -errno;
		else
			r = sysio_fsync_dir(dir);
	}
out:
	json_decref(j);
	free(text);
	free(path);
	return r;
}

int
spool_ingest(struct store *st, struct spool_result *ret)
{
	struct dirent *de;
	char *dir, **names = NULL;
	size_t n = 0, i;
	DIR *d;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	dir = xasprintf("%s/%s", st->state_dir, SPOOL_DIR);
	d = opendir(dir);
	if (d == NULL) {
		r = errno == ENOENT ? 0 : -errno;
		free(dir);
		return r;
	}
	while ((de = readdir(d)) != NULL) {
		if (!valid_name(de->d_name))
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		if (r == 0)
			r = ingest_one(st, dir, names[i], ret);
		free(names[i]);
	}
	free(names);
	free(dir);
	return r;
}
