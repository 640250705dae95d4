/*
 * test_record.c - the record mapping that reindex and crash recovery rely
 * on: record_to_warc -> warc_parse -> record_from_warc gives back every
 * field of a version and of an event; canonical content is independent of
 * key order and hashed as compact sorted JSON; redaction removes tokens,
 * secret query parameters (also inside a Facebook paging.next URL) and
 * Authorization lines, and leaves redacted text alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "hash.h"
#include "record.h"
#include "tap.h"
#include "util.h"
#include "warc.h"

#define SOURCE_ID	"urn:uuid:5e1f0c4a-9b7d-4e2a-8f3c-6d1b2a3c4d5e"
#define CONCUR_ID	"urn:uuid:00000000-1111-4222-8333-444444444444"
#define CANON_WANT	"{\"attachments\":[{\"type\":\"photo\",\"url\":" \
	"\"https://x/y.jpg\"}],\"author\":{\"id\":\"1001\",\"name\":" \
	"\"City of Sunnyvale\"},\"created\":\"2026-03-02T14:05:09+0000\"," \
	"\"id\":\"1_2\",\"text\":\"Road closure on Main St. " \
	"\xc3\xa9t\xc3\xa9\"}"
/* hashlib.sha256(CANON_WANT).hexdigest() */
#define CANON_SHA	\
	"ee01e12ec67dcad18f30d11d1586d6c6da490cacbc8c3a20847c8777239222cb"
#define TOKEN		"EAABwzLixnjYBO7example0page0token0ZD"
#define CITY		"City of Sunnyvale"
#define PHOTO		"https://x/y.jpg"
#define SECRET		"0f1e2d3c4b5a69788796a5b4c3d2e1f0"

/* The same content built with keys in two different orders. */
static json_t *
content(int reversed)
{
	json_t *c = json_object(), *a = json_object(), *att = json_array();
	json_t *photo = json_object();

	if (!reversed) {
		json_object_set_new(a, "name", json_string(CITY));
		json_object_set_new(a, "id", json_string("1001"));
		json_object_set_new(photo, "url", json_string(PHOTO));
		json_object_set_new(photo, "type", json_string("photo"));
		json_array_append_new(att, photo);
		json_object_set_new(c, "text",
		    json_string("Road closure on Main St. \xc3\xa9t\xc3\xa9"));
		json_object_set_new(c, "author", a);
		json_object_set_new(c, "created",
		    json_string("2026-03-02T14:05:09+0000"));
		json_object_set_new(c, "id", json_string("1_2"));
		json_object_set_new(c, "attachments", att);
	} else {
		json_object_set_new(photo, "type", json_string("photo"));
		json_object_set_new(photo, "url", json_string(PHOTO));
		json_array_append_new(att, photo);
		json_object_set_new(c, "attachments", att);
		json_object_set_new(c, "id", json_string("1_2"));
		json_object_set_new(c, "created",
		    json_string("2026-03-02T14:05:09+0000"));
		json_object_set_new(a, "id", json_string("1001"));
		json_object_set_new(a, "name", json_string(CITY));
		json_object_set_new(c, "author", a);
		json_object_set_new(c, "text",
		    json_string("Road closure on Main St. \xc3\xa9t\xc3\xa9"));
	}
	return c;
}

static void
test_canonical(void)
{
	char h1[HASH_HEX_LEN], h2[HASH_HEX_LEN], want[HASH_HEX_LEN];
	json_t *a = content(0), *b = content(1), *c;
	char *s1, *s2, *s3;

	s1 = record_canonical(a, h1);
	s2 = record_canonical(b, h2);
	is_str(s1, CANON_WANT, "canonical: compact JSON, keys sorted");
	is_str(s2, s1, "canonical: independent of key order");
	is_str(h1, CANON_SHA, "canonical: hash (computed with Python)");
	is_str(h2, h1, "canonical: same hash for either order");
	hash_sha256_hex(s1, strlen(s1), want);
	is_str(h1, want, "canonical: hash is sha256 of the returned string");

	c = json_deep_copy(a);
	json_object_set_new(c, "text", json_string("Road closure on Main St."
	    " (updated)"));
	s3 = record_canonical(c, want);
	ok(s3 != NULL && strcmp(want, h1) != 0,
	    "canonical: a changed text changes the hash");
	free(s3);
	json_decref(c);
	free(s1);
	free(s2);
	json_decref(a);
	json_decref(b);

	c = json_string("just a string");
	s1 = record_canonical(c, h1);
	is_str(s1, "\"just a string\"", "canonical: any JSON value");
	free(s1);
	json_decref(c);
}

/* Build, parse, rebuild: *p and *owned are the caller's to release. */
static int
round_trip(const struct rec_meta *m, const char *ctype, const char *block,
    struct buf *out, struct warc_parsed *p, struct rec_meta *back,
    json_t **owned)
{
	int r;

	buf_reset(out);
	r = record_to_warc(m, ctype, block, strlen(block), -1, out);
	if (r < 0)
		return r;
	r = warc_parse(out->data, out->len, p);
	if (r < 0)
		return r;
	r = record_from_warc(p, back, owned);
	if (r < 0)
		warc_parsed_release(p);
	return r;
}

static void
test_version_round_trip(void)
{
	struct rec_meta m, back;
	struct warc_parsed p;
	struct buf out;
	json_t *c = content(0), *owned = NULL;
	char hash[HASH_HEX_LEN], *canon;
	int64_t before = util_now();
	int r;

	canon = record_canonical(c, hash);
	record_meta_init(&m, REC_VERSION);
	is_int(m.kind, REC_VERSION, "meta_init: kind");
	ok(strncmp(m.record_id, "urn:uuid:", 9) == 0 &&
	    strlen(m.record_id) == 45, "meta_init: urn:uuid record id");
	ok(m.date >= before && m.date <= util_now() + 1, "meta_init: date now");
	ok(m.account == NULL && m.text == NULL && m.content_hash[0] == '\0' &&
	    m.created == 0 && m.hidden == 0, "meta_init: the rest zeroed");
	m.date = 1772460400;
	m.account = "city-facebook";
	m.target_uri = "https://graph.facebook.com/v25.0/1_2";
	m.refers_to = SOURCE_ID;
	m.concurrent_to = CONCUR_ID;
	m.platform = "facebook";
	m.item_id = "1_2";
	m.item_kind = "comment";
	m.parent_id = "1_1";
	m.root_id = "1_0";
	m.author = "ignored: comes from the block";
	m.url = "https://www.facebook.com/1/posts/2";
	m.created = 1772460309;
	memcpy(m.content_hash, hash, sizeof(hash));
	m.platform_time = 1772460350;
	m.edit_marker = "2026-03-02T14:05:50+0000";
	m.hidden = 1;

	buf_init(&out, 0);
	r = round_trip(&m, "application/json", canon, &out, &p, &back, &owned);
	is_int(r, 0, "version: build, parse, rebuild");
	if (r != 0)
		goto out;
	is_str(warc_get(&p, "WARC-Type"), "conversion",
	    "version: WARC-Type conversion");
	is_int(back.kind, REC_VERSION, "version: kind");
	is_str(back.record_id, m.record_id, "version: record id");
	is_int(back.date, m.date, "version: date");
	is_str(back.account, m.account, "version: X-Sunarchive-Account");
	is_str(back.target_uri, m.target_uri, "version: target URI");
	is_str(back.refers_to, SOURCE_ID, "version: refers-to, no brackets");
	is_str(back.concurrent_to, CONCUR_ID,
	    "version: concurrent-to, no brackets");
	is_str(back.platform, "facebook", "version: X-Sunarchive-Platform");
	is_str(back.item_id, "1_2", "version: X-Sunarchive-Item-Id");
	is_str(back.item_kind, "comment", "version: X-Sunarchive-Item-Kind");
	is_str(back.parent_id, "1_1", "version: X-Sunarchive-Parent-Id");
	is_str(back.root_id, "1_0", "version: X-Sunarchive-Root-Id");
	is_str(back.url, m.url, "version: X-Sunarchive-Item-Url");
	is_int(back.created, m.created, "version: X-Sunarchive-Created");
	is_str(back.content_hash, hash, "version: X-Sunarchive-Content-Hash");
	is_int(back.platform_time, m.platform_time,
	    "version: X-Sunarchive-Platform-Time");
	is_str(back.edit_marker, m.edit_marker,
	    "version: X-Sunarchive-Edit-Marker");
	is_int(back.hidden, 1, "version: X-Sunarchive-Hidden");
	ok(back.event == NULL && back.media_key == NULL,
	    "version: no event or media key");
	is_str(back.text, "Road closure on Main St. \xc3\xa9t\xc3\xa9",
	    "version: text from the JSON block");
	is_str(back.author, "City of Sunnyvale",
	    "version: author from the JSON block");
	is_str(back.author_id, "1001", "version: author id from the block");
	ok(owned != NULL, "version: owned JSON returned");
	ok(p.block_len == strlen(canon) &&
	    memcmp(p.block, canon, p.block_len) == 0,
	    "version: block is the canonical content");
	json_decref(owned);
	warc_parsed_release(&p);

	/* Minimal version: unset fields stay unset. */
	m.refers_to = m.concurrent_to = m.parent_id = m.root_id = NULL;
	m.url = m.edit_marker = m.target_uri = m.item_kind = NULL;
	m.created = m.platform_time = 0;
	m.hidden = 0;
	r = round_trip(&m, "application/json", "{\"text\":null}", &out, &p,
	    &back, &owned);
	is_int(r, 0, "minimal version round trip");
	if (r == 0) {
		ok(back.refers_to == NULL && back.parent_id == NULL &&
		    back.url == NULL && back.edit_marker == NULL &&
		    back.target_uri == NULL && back.item_kind == NULL,
		    "minimal: absent fields are NULL");
		ok(back.created == 0 && back.platform_time == 0 &&
		    back.hidden == 0, "minimal: absent numbers are 0");
		ok(back.text == NULL && back.author == NULL,
		    "minimal: no text or author");
		ok(warc_get(&p, "X-Sunarchive-Hidden") == NULL,
		    "minimal: no Hidden field when not hidden");
		json_decref(owned);
		warc_parsed_release(&p);
	}
out:
	buf_release(&out);
	free(canon);
	json_decref(c);
}

static void
test_event_round_trip(void)
{
	struct rec_meta m, back;
	struct warc_parsed p;
	struct buf out;
	json_t *owned = NULL;
	const char *block = "{\"account\":\"city-facebook\","
	    "\"event\":\"removed\","
	    "\"first_missing\":\"2026-03-02T15:00:00Z\",\"item\":\"1_2\"}";
	int r;

	record_meta_init(&m, REC_EVENT);
	m.account = "city-facebook";
	m.platform = "facebook";
	m.event = "removed";
	m.item_id = "1_2";
	m.item_kind = "post";
	m.refers_to = SOURCE_ID;
	m.hidden = 1;		/* only versions carry it */
	buf_init(&out, 0);
	r = round_trip(&m, "application/json", block, &out, &p, &back, &owned);
	is_int(r, 0, "event: build, parse, rebuild");
	if (r == 0) {
		is_str(warc_get(&p, "WARC-Type"), "metadata",
		    "event: WARC-Type metadata");
		is_int(back.kind, REC_EVENT, "event: kind");
		is_str(back.record_id, m.record_id, "event: record id");
		is_int(back.date, m.date, "event: date");
		is_str(back.event, "removed", "event: X-Sunarchive-Event");
		is_str(back.account, "city-facebook", "event: account");
		is_str(back.platform, "facebook", "event: platform");
		is_str(back.item_id, "1_2", "event: item id");
		is_str(back.item_kind, "post", "event: item kind");
		is_str(back.refers_to, SOURCE_ID, "event: refers-to");
		is_int(back.hidden, 0, "event: no Hidden field on events");
		ok(back.text == NULL && back.content_hash[0] == '\0',
		    "event: no text or content hash");
		ok(json_is_object(owned), "event: block parsed as JSON");
		ok(p.block_len == strlen(block) &&
		    memcmp(p.block, block, p.block_len) == 0,
		    "event: block is the detail");
		json_decref(owned);
		warc_parsed_release(&p);
	}

	/* An archive-level event (a gap) with no item. */
	record_meta_init(&m, REC_EVENT);
	m.account = "city-facebook";
	m.event = "gap";
	r = round_trip(&m, "application/json", "{\"reason\":\"timeout\"}",
	    &out, &p, &back, &owned);
	is_int(r, 0, "gap event round trip");
	if (r == 0) {
		ok(back.item_id == NULL && strcmp(back.event, "gap") == 0,
		    "gap event: no item");
		json_decref(owned);
		warc_parsed_release(&p);
	}
	buf_release(&out);
}

static void
test_from_warc_rejects(void)
{
	struct rec_meta m, back;
	struct warc_parsed p;
	struct buf out;
	json_t *owned = NULL;
	int r;

	buf_init(&out, 0);
	record_meta_init(&m, REC_VERSION);
	m.account = "a";
	m.item_id = "1";
	r = round_trip(&m, "application/json", "{}", &out, &p, &back, &owned);
	is_int(r, -EBADMSG, "version without a content hash: -EBADMSG");

	memcpy(m.content_hash, CANON_SHA, sizeof(m.content_hash));
	r = round_trip(&m, "application/json", "not json", &out, &p, &back,
	    &owned);
	is_int(r, -EBADMSG, "version whose block is not JSON: -EBADMSG");
	r = round_trip(&m, "application/json", "[1,2]", &out, &p, &back,
	    &owned);
	is_int(r, -EBADMSG, "version whose block is not an object: -EBADMSG");
	r = round_trip(&m, "application/json", "{\"a\":1,\"a\":2}", &out, &p,
	    &back, &owned);
	is_int(r, -EBADMSG, "duplicate keys: -EBADMSG");
	m.item_id = NULL;
	r = round_trip(&m, "application/json", "{}", &out, &p, &back, &owned);
	is_int(r, -EBADMSG, "version without an item id: -EBADMSG");
	m.item_id = "1";
	m.account = NULL;
	r = round_trip(&m, "application/json", "{}", &out, &p, &back, &owned);
	is_int(r, -EBADMSG, "version without an account: -EBADMSG");

	/* Hand-made headers: bad times, bad hash, unknown type. */
	buf_reset(&out);
	buf_puts(&out, "WARC/1.1\r\nWARC-Type: conversion\r\nWARC-Record-ID: "
	    "<urn:uuid:x>\r\nWARC-Date: 2026-03-02T14:05:09Z\r\n"
	    "X-Sunarchive-Account: a\r\nX-Sunarchive-Item-Id: 1\r\n"
	    "X-Sunarchive-Content-Hash: abc\r\n"
	    "Content-Length: 2\r\n\r\n{}\r\n\r\n");
	is_int(warc_parse(out.data, out.len, &p), 0, "short hash: parses");
	is_int(record_from_warc(&p, &back, &owned), -EBADMSG,
	    "short content hash: -EBADMSG");
	warc_parsed_release(&p);
	buf_reset(&out);
	buf_puts(&out, "WARC/1.1\r\nWARC-Type: metadata\r\nWARC-Record-ID: "
	    "<urn:uuid:x>\r\nWARC-Date: 2026-03-02T14:05:09Z\r\n"
	    "X-Sunarchive-Created: yesterday\r\n"
	    "Content-Length: 2\r\n\r\n{}\r\n\r\n");
	warc_parse(out.data, out.len, &p);
	is_int(record_from_warc(&p, &back, &owned), -EBADMSG,
	    "bad X-Sunarchive-Created: -EBADMSG");
	warc_parsed_release(&p);
	buf_reset(&out);
	buf_puts(&out, "WARC/1.1\r\nWARC-Type: metadata\r\nWARC-Record-ID: "
	    "<urn:uuid:x>\r\nWARC-Date: 2026-13-02T14:05:09Z\r\n"
	    "Content-Length: 2\r\n\r\n{}\r\n\r\n");
	warc_parse(out.data, out.len, &p);
	is_int(record_from_warc(&p, &back, &owned), -EBADMSG,
	    "bad WARC-Date: -EBADMSG");
	warc_parsed_release(&p);
	buf_reset(&out);
	buf_puts(&out, "WARC/1.1\r\nWARC-Type: continuation\r\nWARC-Record-ID:"
	    " <urn:uuid:x>\r\nWARC-Date: 2026-03-02T14:05:09Z\r\n"
	    "Content-Length: 2\r\n\r\n{}\r\n\r\n");
	warc_parse(out.data, out.len, &p);
	is_int(record_from_warc(&p, &back, &owned), -EBADMSG,
	    "unknown WARC-Type: -EBADMSG");
	warc_parsed_release(&p);
	buf_release(&out);

	is_str(record_warc_type(REC_WARCINFO), "warcinfo", "type: warcinfo");
	is_str(record_warc_type(REC_REQUEST), "request", "type: request");
	is_str(record_warc_type(REC_RESPONSE), "response", "type: response");
	is_str(record_warc_type(REC_VERSION), "conversion", "type: version");
	is_str(record_warc_type(REC_EVENT), "metadata", "type: event");
}

/* Redact a copy of in; check the result and the count. */
static void
redact_is(const char *in, const char *const *secrets, size_t ns,
    const char *want, size_t want_count, const char *what)
{
	struct buf b;
	size_t n, again;
	char *first;

	buf_init(&b, 0);
	buf_puts(&b, in);
	n = record_redact(&b, secrets, ns);
	is_str(b.data, want, "redact: %s", what);
	is_int(n, want_count, "redact: %s: count", what);
	first = strdup(b.data);
	again = record_redact(&b, secrets, ns);
	ok(again == 0 && strcmp(b.data, first) == 0,
	    "redact: %s: idempotent", what);
	free(first);
	buf_release(&b);
}

static void
test_redact(void)
{
	const char *secrets[] = { TOKEN, SECRET, NULL, "abc" };
	char longval[6000], in[6200], want[6200];
	struct buf b;

	redact_is("token " TOKEN " here and " TOKEN "\n", secrets, 2,
	    "token REDACTED here and REDACTED\n", 2, "token value anywhere");
	redact_is("{\"secret\":\"" SECRET "\"}", secrets, 4,
	    "{\"secret\":\"REDACTED\"}", 1,
	    "app secret value; NULL and short secrets skipped");
	redact_is("abc is too short to be a secret", secrets, 4,
	    "abc is too short to be a secret", 0, "secrets under 4 bytes");

	/* Facebook paging.next with a token redaction does not know. */
	redact_is("{\"paging\":{\"next\":\"https://graph.facebook.com/v25.0/1/"
	    "posts?access_token=EAABunknownTOKENvalue&after=X\"}}", NULL, 0,
	    "{\"paging\":{\"next\":\"https://graph.facebook.com/v25.0/1/"
	    "posts?access_token=REDACTED&after=X\"}}", 1,
	    "access_token in paging.next");
	redact_is("{\"paging\":{\"next\":\"https:\\/\\/graph.facebook.com\\/"
	    "v25.0\\/1\\/posts?limit=25&access_token=EAABxyz&appsecret_proof="
	    "3cc937fd2e866b797cb326e58ec9ccce8d5b5f9024d7d5997735f91b3754480c"
	    "&after=QVFIU\"}}", NULL, 0,
	    "{\"paging\":{\"next\":\"https:\\/\\/graph.facebook.com\\/"
	    "v25.0\\/1\\/posts?limit=25&access_token=REDACTED&appsecret_proof="
	    "REDACTED&after=QVFIU\"}}", 2,
	    "escaped slashes, access_token and appsecret_proof");
	redact_is("GET /v25.0/1/posts?access_token=" TOKEN "&appsecret_proof="
	    "abcdef HTTP/1.1\r\n", secrets, 2,
	    "GET /v25.0/1/posts?access_token=REDACTED&appsecret_proof="
	    "REDACTED HTTP/1.1\r\n", 2, "known token inside a request line");
	redact_is("a?client_secret=s3cr3t#frag b?input_token=t0k3n'", NULL, 0,
	    "a?client_secret=REDACTED#frag b?input_token=REDACTED'", 2,
	    "client_secret and input_token, ended by # and '");
	redact_is("https://h/p?access_token=tok", NULL, 0,
	    "https://h/p?access_token=REDACTED", 1, "parameter at the end");
	redact_is("https://h/p?access_token=&x=1", NULL, 0,
	    "https://h/p?access_token=&x=1", 0, "empty parameter");
	redact_is("the access_token=abc is not a query", NULL, 0,
	    "the access_token=abc is not a query", 0,
	    "not after ? or &: left alone");

	/* Authorization header lines. */
	redact_is("GET /api/v1/timelines HTTP/1.1\r\nHost: m.example\r\n"
	    "Authorization: Bearer x\r\nAccept: */*\r\n\r\n", NULL, 0,
	    "GET /api/v1/timelines HTTP/1.1\r\nHost: m.example\r\n"
	    "Authorization: REDACTED\r\nAccept: */*\r\n\r\n", 1,
	    "Authorization: Bearer x (short)");
	redact_is("authorization: bearer abc\nAUTHORIZATION: OAuth q\n",
	    NULL, 0, "authorization: REDACTED\nAUTHORIZATION: REDACTED\n", 2,
	    "header names in any case, at the start, LF only");
	redact_is("Authorization:Bearer nospace\r\n", NULL, 0,
	    "Authorization: REDACTED\r\n", 1, "no space after the colon");
	redact_is("Authorization: Bearer " TOKEN "\r\n", secrets, 2,
	    "Authorization: REDACTED\r\n", 2, "header holding a known token");
	memset(longval, 'Z', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	snprintf(in, sizeof(in), "Host: x\r\nAuthorization: Bearer %s\r\n"
	    "Accept: */*\r\n", longval);
	snprintf(want, sizeof(want), "Host: x\r\nAuthorization: REDACTED\r\n"
	    "Accept: */*\r\n");
	redact_is(in, NULL, 0, want, 1, "Authorization with a 6000-byte value");

	/* Already redacted text is left byte for byte. */
	redact_is("GET /x?access_token=REDACTED&appsecret_proof=REDACTED "
	    "HTTP/1.1\r\nAuthorization: REDACTED\r\n\r\n", secrets, 2,
	    "GET /x?access_token=REDACTED&appsecret_proof=REDACTED "
	    "HTTP/1.1\r\nAuthorization: REDACTED\r\n\r\n", 0,
	    "already redacted text unchanged");
	redact_is("nothing secret here", secrets, 2, "nothing secret here", 0,
	    "plain text unchanged");

	buf_init(&b, 0);
	is_int(record_redact(&b, secrets, 2), 0, "redact: empty buffer");
	buf_release(&b);
}

static void
test_redact_url(void)
{
	char *u;

	u = record_redact_url("https://graph.facebook.com/v25.0/1/posts?"
	    "fields=id,message&access_token=" TOKEN "&appsecret_proof=" SECRET
	    "&limit=25#top");
	is_str(u, "https://graph.facebook.com/v25.0/1/posts?fields=id,message"
	    "&access_token=REDACTED&appsecret_proof=REDACTED&limit=25#top",
	    "redact_url: secret parameters only");
	free(u);
	u = record_redact_url("https://mastodon.example/api/v1/accounts/1/"
	    "statuses?limit=40");
	is_str(u, "https://mastodon.example/api/v1/accounts/1/statuses?"
	    "limit=40", "redact_url: nothing to redact");
	free(u);
	u = record_redact_url("");
	is_str(u, "", "redact_url: empty");
	free(u);
}

/* The marker spliced next to the secret's tail must not rebuild it. */
static void
test_redact_overlap(void)
{
	const char *secret = "Dq3xT9vLmN4pR8sK2wY6";
	const char *secrets[] = { secret };
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "Dq3xT9vLmN4pR8sK2wY6q3xT9vLmN4pR8sK2wY6");
	record_redact(&b, secrets, 1);
	ok(strstr(b.data, secret) == NULL, "redact: no secret rebuilt by"
	    " the marker: %s", b.data);
	buf_release(&b);
}

int
main(void)
{
	test_canonical();
	test_version_round_trip();
	test_event_round_trip();
	test_from_warc_rejects();
	test_redact();
	test_redact_url();
	test_redact_overlap();
	return tap_done();
}
