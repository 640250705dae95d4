/*
 * record.c - rec_meta <-> WARC fields, canonical content and redaction.
 *
 * Every fact the index holds about a version or an event is written into
 * the record itself (X-Sunarchive-* fields and the JSON block), so the
 * index can be rebuilt from the archive alone; record_from_warc() is the
 * inverse of record_to_warc().
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "record.h"
#include "util.h"
#include "xalloc.h"

#define REDACTED	"REDACTED"

static const struct {
	enum rec_kind	 kind;
	const char	*warc;
} kinds[] = {
	{ REC_WARCINFO,	"warcinfo" },
	{ REC_REQUEST,	"request" },
	{ REC_RESPONSE,	"response" },
	{ REC_VERSION,	"conversion" },
	{ REC_EVENT,	"metadata" },
};

static const char *secret_params[] = { "access_token", "appsecret_proof",
    "client_secret", "input_token" };

void
record_meta_init(struct rec_meta *m, enum rec_kind kind)
{
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	util_uuid_urn(m->record_id, sizeof(m->record_id));
	m->date = util_now();
}

const char *
record_warc_type(enum rec_kind kind)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (kinds[i].kind == kind)
			return kinds[i].warc;
	return "resource";
}

int
record_to_warc(const struct rec_meta *m, const char *content_type,
    const void *block, size_t block_len, long payload_off, struct buf *out)
{
	struct warc_record w;
	char refers[RECORD_ID_LEN + 2], concur[RECORD_ID_LEN + 2];
	char created[32], ptime[32];

	memset(&w, 0, sizeof(w));
	w.type = record_warc_type(m->kind);
	w.record_id = m->record_id;
	w.date = m->date;
	w.content_type = content_type;
	w.target_uri = m->target_uri;
	w.block = block;
	w.block_len = block_len;
	w.payload_off = payload_off;
	if (m->refers_to != NULL) {
		snprintf(refers, sizeof(refers), "<%s>", m->refers_to);
		warc_add(&w, "WARC-Refers-To", refers);
	}
	if (m->concurrent_to != NULL) {
		snprintf(concur, sizeof(concur), "<%s>", m->concurrent_to);
		warc_add(&w, "WARC-Concurrent-To", concur);
	}
	warc_add(&w, "X-Sunarchive-Account", m->account);
	warc_add(&w, "X-Sunarchive-Platform", m->platform);
	warc_add(&w, "X-Sunarchive-Item-Id", m->item_id);
	warc_add(&w, "X-Sunarchive-Item-Kind", m->item_kind);
	warc_add(&w, "X-Sunarchive-Parent-Id", m->parent_id);
	warc_add(&w, "X-Sunarchive-Root-Id", m->root_id);
	warc_add(&w, "X-Sunarchive-Item-Url", m->url);
	if (m->created != 0)
		warc_add(&w, "X-Sunarchive-Created",
		    util_format_time(m->created, created, sizeof(created)));
	if (m->content_hash[0] != '\0')
		warc_add(&w, "X-Sunarchive-Content-Hash", m->content_hash);
	if (m->platform_time != 0)
		warc_add(&w, "X-Sunarchive-Platform-Time",
		    util_format_time(m->platform_time, ptime, sizeof(ptime)));
	warc_add(&w, "X-Sunarchive-Edit-Marker", m->edit_marker);
	warc_add(&w, "X-Sunarchive-Event", m->event);
	warc_add(&w, "X-Sunarchive-Media-Key", m->media_key);
	if (m->kind == REC_VERSION && m->hidden)
		warc_add(&w, "X-Sunarchive-Hidden", "1");
	return warc_build(&w, out);
}

/* "<urn:uuid:...>" -> "urn:uuid:..." in place (the field's copy). */
static const char *
strip_angle(const char *v)
{
	size_t n;

	if (v == NULL || v[0] != '<')
		return v;
	n = strlen(v);
	if (n < 2 || v[n - 1] != '>')
		return v;
	((char *)v)[n - 1] = '\0';
	return v + 1;
}

int
record_from_warc(const struct warc_parsed *p, struct rec_meta *ret,
    json_t **ret_owned)
{
	struct rec_meta m;
	const char *type, *v;
	json_t *j = NULL;
	size_t i;

	memset(&m, 0, sizeof(m));
	type = warc_get(p, "WARC-Type");
	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strcmp(kinds[i].warc, type) == 0)
			m.kind = kinds[i].kind;
	if (m.kind == 0)
		return -EBADMSG;
	v = strip_angle(warc_get(p, "WARC-Record-ID"));
	if (v == NULL || strlen(v) >= sizeof(m.record_id))
		return -EBADMSG;
	memcpy(m.record_id, v, strlen(v) + 1);
	if (util_parse_time(warc_get(p, "WARC-Date"), &m.date) < 0)
		return -EBADMSG;
	m.target_uri = warc_get(p, "WARC-Target-URI");
	m.refers_to = strip_angle(warc_get(p, "WARC-Refers-To"));
	m.concurrent_to = strip_angle(warc_get(p, "WARC-Concurrent-To"));
	m.account = warc_get(p, "X-Sunarchive-Account");
	m.platform = warc_get(p, "X-Sunarchive-Platform");
	m.item_id = warc_get(p, "X-Sunarchive-Item-Id");
	m.item_kind = warc_get(p, "X-Sunarchive-Item-Kind");
	m.parent_id = warc_get(p, "X-Sunarchive-Parent-Id");
	m.root_id = warc_get(p, "X-Sunarchive-Root-Id");
	m.url = warc_get(p, "X-Sunarchive-Item-Url");
	m.edit_marker = warc_get(p, "X-Sunarchive-Edit-Marker");
	m.event = warc_get(p, "X-Sunarchive-Event");
	m.media_key = warc_get(p, "X-Sunarchive-Media-Key");
	v = warc_get(p, "X-Sunarchive-Hidden");
	m.hidden = v != NULL && strcmp(v, "1") == 0;
	v = warc_get(p, "X-Sunarchive-Created");
	if (v != NULL && util_parse_time(v, &m.created) < 0)
		return -EBADMSG;
	v = warc_get(p, "X-Sunarchive-Platform-Time");
	if (v != NULL && util_parse_time(v, &m.platform_time) < 0)
		return -EBADMSG;
	v = warc_get(p, "X-Sunarchive-Content-Hash");
	if (v != NULL) {
		if (strlen(v) != HASH_HEX_LEN - 1)
			return -EBADMSG;
		memcpy(m.content_hash, v, HASH_HEX_LEN);
	}
	if (m.kind == REC_VERSION || m.kind == REC_EVENT) {
		j = json_loadb(p->block, p->block_len, JSON_REJECT_DUPLICATES,
		    NULL);
		if (!json_is_object(j)) {
			json_decref(j);
			return -EBADMSG;
		}
	}
	if (m.kind == REC_VERSION) {
		json_t *a = json_object_get(j, "author");

		if (m.item_id == NULL || m.account == NULL ||
		    m.content_hash[0] == '\0') {
			json_decref(j);
			return -EBADMSG;
		}
		m.text = json_string_value(json_object_get(j, "text"));
		m.author = json_string_value(json_object_get(a, "name"));
		m.author_id = json_string_value(json_object_get(a, "id"));
	} else if (m.kind == REC_EVENT) {
		m.detail = NULL;	/* the caller has the block */
	}
	*ret = m;
	*ret_owned = j;
	return 0;
}

char *
record_canonical(const json_t *content, char ret_hash[HASH_HEX_LEN])
{
	char *s;

	s = json_dumps(content, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY);
	if (s == NULL)
		return NULL;
	hash_sha256_hex(s, strlen(s), ret_hash);
	return s;
}

static int
is_param_end(char c)
{
	return c == '\0' || c == '&' || c == '#' || c == '"' || c == '\'' ||
	    c == '\\' || c == '<' || c == '>' || isspace((unsigned char)c);
}

/* Redact NAME=VALUE query parameters after '?' or '&'. */
static size_t
redact_params(struct buf *b)
{
	size_t count = 0, i, k;
	struct buf out;
	size_t start = 0;

	buf_init(&out, 0);
	for (i = 0; i < b->len; i++) {
		if (b->data[i] != '?' && b->data[i] != '&')
			continue;
		for (k = 0; k < ARRAY_SIZE(secret_params); k++) {
			size_t n = strlen(secret_params[k]);
			size_t j = i + 1 + n;

			if (j < b->len && b->data[j] == '=' &&
			    strncmp(b->data + i + 1, secret_params[k], n) == 0) {
				size_t e = j + 1;

				while (e < b->len && !is_param_end(b->data[e]))
					e++;
				if (e == j + 1 || (e - j - 1 ==
				    strlen(REDACTED) && strncmp(b->data + j + 1,
				    REDACTED, e - j - 1) == 0))
					break;	/* empty or already redacted */
				buf_append(&out, b->data + start, j + 1 - start);
				buf_puts(&out, REDACTED);
				start = e;
				i = e - 1;
				count++;
				break;
			}
		}
	}
	if (count > 0) {
		buf_append(&out, b->data + start, b->len - start);
		out.max = b->max;
		buf_release(b);
		*b = out;
	} else {
		buf_release(&out);
	}
	return count;
}

/* "Authorization: anything" header lines. */
static size_t
redact_auth_headers(struct buf *b)
{
	static const char hdr[] = "authorization:";
	size_t count = 0, i, start = 0, n = sizeof(hdr) - 1;
	struct buf out;

	buf_init(&out, 0);
	for (i = 0; i + n <= b->len; i++) {
		size_t e;

		if ((i != 0 && b->data[i - 1] != '\n') ||
		    strncasecmp(b->data + i, hdr, n) != 0)
			continue;
		e = i + n;
		while (e < b->len && b->data[e] != '\r' && b->data[e] != '\n')
			e++;
		if (e - (i + n) == strlen(" " REDACTED) &&
		    strncmp(b->data + i + n, " " REDACTED, e - i - n) == 0)
			continue;
		buf_append(&out, b->data + start, i + n - start);
		buf_puts(&out, " " REDACTED);
		start = e;
		i = e - 1;
		count++;
	}
	if (count > 0) {
		buf_append(&out, b->data + start, b->len - start);
		out.max = b->max;
		buf_release(b);
		*b = out;
	} else {
		buf_release(&out);
	}
	return count;
}

size_t
record_redact(struct buf *b, const char *const *secrets, size_t nsecrets)
{
	size_t count = 0, i;

	if (b->len == 0)
		return 0;
	for (i = 0; i < nsecrets; i++) {
		size_t pass, n;

		if (secrets[i] == NULL || strlen(secrets[i]) < 4)
			continue;
		/*
		 * Again until nothing is left: the marker spliced next to a
		 * secret's own tail can form the secret anew. Each pass
		 * shortens the text when the secret is longer than the
		 * marker; the bound covers shorter ones.
		 */
		for (pass = 0; pass < 16; pass++) {
			n = buf_replace_all(b, secrets[i], REDACTED);
			count += n;
			if (n == 0)
				break;
		}
	}
	count += redact_params(b);
	count += redact_auth_headers(b);
	return count;
}

char *
record_redact_url(const char *url)
{
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, url);
	redact_params(&b);
	return buf_steal(&b, NULL);
}
