/*
 * test_warc.c - WARC records: what warc_build() writes parses back with
 * warc_parse() (fields, block, Content-Length, the CRLFCRLF trailer), the
 * block and payload digests are sha256 base32 of the right bytes, a
 * changed block byte is -EBADMSG, any truncation is -ENODATA, CR or LF in
 * a field is refused, and malformed headers are -EBADMSG, never a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hash.h"
#include "tap.h"
#include "util.h"
#include "warc.h"

#define ID	"urn:uuid:0b1e2a3c-4d5e-4f60-8a7b-1c2d3e4f5a6b"
#define OTHER	"<urn:uuid:11111111-2222-4333-8444-555555555555>"
#define T	1772460309LL	/* 2026-03-02T14:05:09Z */
#define HTTP_HEAD "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"
#define HTTP_BODY "{\"data\":[{\"id\":\"1_2\",\"message\":\"hi\"}]}"

static void
sha_b32(const void *p, size_t n, char *out, size_t len)
{
	unsigned char md[HASH_LEN];
	char b32[HASH_B32_LEN];

	hash_sha256(p, n, md);
	hash_base32(md, b32);
	snprintf(out, len, "sha256:%s", b32);
}

static void
response_record(struct warc_record *r, const char *block, long payload_off)
{
	memset(r, 0, sizeof(*r));
	r->type = "response";
	r->record_id = ID;
	r->date = T;
	r->content_type = "application/http; msgtype=response";
	r->target_uri = "https://graph.facebook.com/v25.0/1/posts?"
	    "access_token=REDACTED";
	r->block = block;
	r->block_len = strlen(block);
	r->payload_off = payload_off;
	warc_add(r, "WARC-Concurrent-To", OTHER);
	warc_add(r, "X-Sunarchive-Account", "city-facebook");
}

static void
test_build_parse(void)
{
	const char *block = HTTP_HEAD HTTP_BODY;
	struct warc_record r;
	struct warc_parsed p;
	struct buf out;
	char want[128], cl[32];
	const char *hdr_end;
	int rc;

	response_record(&r, block, (long)strlen(HTTP_HEAD));
	buf_init(&out, 0);
	is_int(warc_build(&r, &out), 0, "build a response record");
	ok(strncmp(out.data, "WARC/1.1\r\n", 10) == 0, "version line WARC/1.1");
	ok(out.len > 4 && memcmp(out.data + out.len - 4, "\r\n\r\n", 4) == 0,
	    "ends with the CRLFCRLF trailer");
	ok(memcmp(out.data + out.len - 4 - strlen(block), block,
	    strlen(block)) == 0, "block is just before the trailer");
	snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n\r\n", strlen(block));
	hdr_end = out.data + out.len - 4 - strlen(block) - strlen(cl);
	ok(hdr_end > out.data && memcmp(hdr_end, cl, strlen(cl)) == 0,
	    "Content-Length: %zu is the last field", strlen(block));

	memset(&p, 0, sizeof(p));
	rc = warc_parse(out.data, out.len, &p);
	is_int(rc, 0, "parse what was built");
	if (rc != 0)
		return;
	is_int(p.total_len, out.len, "total_len covers the whole record");
	is_int(p.block_len, strlen(block), "block_len");
	ok(p.block == out.data + out.len - 4 - strlen(block),
	    "block points into the input");
	ok(memcmp(p.block, block, p.block_len) == 0, "block bytes");
	is_str(warc_get(&p, "WARC-Type"), "response", "WARC-Type");
	is_str(warc_get(&p, "WARC-Record-ID"), "<" ID ">",
	    "WARC-Record-ID in angle brackets");
	is_str(warc_get(&p, "WARC-Date"), "2026-03-02T14:05:09Z", "WARC-Date");
	is_str(warc_get(&p, "WARC-Target-URI"), r.target_uri,
	    "WARC-Target-URI");
	is_str(warc_get(&p, "Content-Type"), r.content_type, "Content-Type");
	snprintf(cl, sizeof(cl), "%zu", strlen(block));
	is_str(warc_get(&p, "Content-Length"), cl, "Content-Length value");
	is_str(warc_get(&p, "WARC-Concurrent-To"), OTHER, "extra field");
	is_str(warc_get(&p, "x-sunarchive-account"), "city-facebook",
	    "field names are case-insensitive");
	ok(warc_get(&p, "X-Not-There") == NULL, "absent field is NULL");
	sha_b32(block, strlen(block), want, sizeof(want));
	is_str(warc_get(&p, "WARC-Block-Digest"), want,
	    "block digest = sha256 base32 of the block");
	sha_b32(HTTP_BODY, strlen(HTTP_BODY), want, sizeof(want));
	is_str(warc_get(&p, "WARC-Payload-Digest"), want,
	    "payload digest = sha256 base32 of the body after payload_off");
	warc_parsed_release(&p);
	ok(p.header == NULL && p.nfields == 0, "release clears");

	/* Trailing bytes (the next record) are left alone. */
	buf_puts(&out, "WARC/1.1\r\n...next");
	is_int(warc_parse(out.data, out.len, &p), 0,
	    "parse with the next record following");
	is_int(p.total_len, out.len - strlen("WARC/1.1\r\n...next"),
	    "total_len stops at this record's trailer");
	warc_parsed_release(&p);
	buf_release(&out);
}

static void
test_payload_digest(void)
{
	struct warc_record r;
	struct warc_parsed p;
	struct buf out;
	char want[128];

	buf_init(&out, 0);
	response_record(&r, "no payload here", -1);
	warc_build(&r, &out);
	is_int(warc_parse(out.data, out.len, &p), 0, "parse, payload_off -1");
	ok(warc_get(&p, "WARC-Payload-Digest") == NULL,
	    "no payload digest when payload_off < 0");
	ok(warc_get(&p, "WARC-Block-Digest") != NULL,
	    "block digest is always there");
	warc_parsed_release(&p);

	buf_reset(&out);
	response_record(&r, "whole block is payload", 0);
	warc_build(&r, &out);
	warc_parse(out.data, out.len, &p);
	sha_b32("whole block is payload", 22, want, sizeof(want));
	is_str(warc_get(&p, "WARC-Payload-Digest"), want,
	    "payload_off 0: payload digest == block digest");
	is_str(warc_get(&p, "WARC-Block-Digest"), want, "block digest");
	warc_parsed_release(&p);

	buf_reset(&out);
	response_record(&r, "abc", 3);
	warc_build(&r, &out);
	warc_parse(out.data, out.len, &p);
	sha_b32("", 0, want, sizeof(want));
	is_str(warc_get(&p, "WARC-Payload-Digest"), want,
	    "payload_off == block_len: digest of an empty payload");
	warc_parsed_release(&p);
	buf_release(&out);
}

static void
test_empty_block(void)
{
	struct warc_record r;
	struct warc_parsed p;
	struct buf out;

	memset(&r, 0, sizeof(r));
	r.type = "metadata";
	r.record_id = ID;
	r.date = 0;
	r.block = "";
	r.payload_off = -1;
	buf_init(&out, 0);
	is_int(warc_build(&r, &out), 0, "build with an empty block");
	is_int(warc_parse(out.data, out.len, &p), 0, "parse it");
	is_int(p.block_len, 0, "empty block");
	is_str(warc_get(&p, "Content-Length"), "0", "Content-Length: 0");
	is_str(warc_get(&p, "WARC-Date"), "1970-01-01T00:00:00Z",
	    "date 0 is the epoch");
	ok(warc_get(&p, "Content-Type") == NULL &&
	    warc_get(&p, "WARC-Target-URI") == NULL,
	    "no Content-Type or Target-URI when NULL");
	warc_parsed_release(&p);
	buf_release(&out);
}

static void
test_corrupt(void)
{
	struct warc_record r;
	struct warc_parsed p;
	struct buf out;
	size_t i, cut, bad = 0, start;
	const char *block = HTTP_HEAD HTTP_BODY;

	response_record(&r, block, (long)strlen(HTTP_HEAD));
	buf_init(&out, 0);
	warc_build(&r, &out);
	start = out.len - 4 - strlen(block);
	for (i = 0; i < strlen(block); i++) {
		out.data[start + i] ^= 0x20;
		if (warc_parse(out.data, out.len, &p) != -EBADMSG)
			bad++;
		out.data[start + i] ^= 0x20;
	}
	is_int(bad, 0, "any changed block byte: -EBADMSG (block digest)");
	out.data[out.len - 1] = 'X';
	is_int(warc_parse(out.data, out.len, &p), -EBADMSG,
	    "broken trailer: -EBADMSG");
	out.data[out.len - 1] = '\n';
	is_int(warc_parse(out.data, out.len, &p), 0, "restored: parses");
	warc_parsed_release(&p);

	bad = 0;
	for (cut = 0; cut < out.len; cut++) {
		int rc = warc_parse(out.data, cut, &p);

		if (rc != -ENODATA) {
			if (bad++ == 0)
				printf("# cut at %zu of %zu: %d\n", cut,
				    out.len, rc);
			if (rc == 0)
				warc_parsed_release(&p);
		}
	}
	is_int(bad, 0, "every truncation (0..%zu bytes): -ENODATA",
	    out.len - 1);
	buf_release(&out);
}

static void
test_field_values(void)
{
	static const char *evil[] = { "a\r\nWARC-Type: resource", "a\nb",
	    "a\rb", "\r\n" };
	struct warc_record r;
	struct buf out;
	size_t i;

	buf_init(&out, 0);
	buf_puts(&out, "kept");
	for (i = 0; i < ARRAY_SIZE(evil); i++) {
		response_record(&r, "x", -1);
		warc_add(&r, "X-Evil", evil[i]);
		is_int(warc_build(&r, &out), -EINVAL,
		    "CR/LF in a field value (%zu): -EINVAL", i);
		response_record(&r, "x", -1);
		r.target_uri = evil[i];
		is_int(warc_build(&r, &out), -EINVAL,
		    "CR/LF in the target URI (%zu): -EINVAL", i);
	}
	response_record(&r, "x", -1);
	r.content_type = "text/plain\r\nX-Injected: 1";
	is_int(warc_build(&r, &out), -EINVAL, "CR/LF in Content-Type");
	response_record(&r, "x", -1);
	warc_add(&r, "X-Bad\r\nName", "v");
	is_int(warc_build(&r, &out), -EINVAL, "CR/LF in a field name");
	response_record(&r, "x", -1);
	r.record_id = ID "\n";
	is_int(warc_build(&r, &out), -EINVAL, "LF in the record id");
	is_str(out.data, "kept", "refused builds write nothing");
	buf_release(&out);

	/* warc_add: NULL values are skipped, the table is bounded. */
	response_record(&r, "x", -1);
	i = r.nfields;
	warc_add(&r, "X-Null", NULL);
	is_int(r.nfields, i, "warc_add skips a NULL value");
	for (i = 0; i < WARC_MAX_FIELDS + 5; i++)
		warc_add(&r, "X-Many", "v");
	is_int(r.nfields, WARC_MAX_FIELDS, "warc_add stops at the maximum");
}

/* Parse a hand-written record; returns the result (releases on 0). */
static int
parse_text(const char *s)
{
	struct warc_parsed p;
	int rc;

	memset(&p, 0, sizeof(p));
	rc = warc_parse(s, strlen(s), &p);
	if (rc == 0)
		warc_parsed_release(&p);
	return rc;
}

#define MANDATORY "WARC-Type: resource\r\nWARC-Record-ID: <" ID ">\r\n" \
	"WARC-Date: 2026-03-02T14:05:09Z\r\n"

static void
test_malformed(void)
{
	struct buf big;
	size_t i;

	is_int(parse_text("WARC/1.1\r\n" MANDATORY
	    "Content-Length: 3\r\n\r\nabc\r\n\r\n"), 0,
	    "hand-written record without digests parses");
	is_int(parse_text("WARC/1.0\r\n" MANDATORY
	    "Content-Length: 3\r\n\r\nabc\r\n\r\n"), 0, "WARC/1.0 accepted");
	is_int(parse_text("WARC/1.1\r\n\r\n\r\n\r\n"), -EBADMSG,
	    "version line and no fields: -EBADMSG");
	is_int(parse_text("WARC/1.1\r\n\r\nabcdefgh"), -EBADMSG,
	    "empty header, data after it: -EBADMSG");
	is_int(parse_text("HTTP/1.1 200 OK\r\n" MANDATORY
	    "Content-Length: 3\r\n\r\nabc\r\n\r\n"), -EBADMSG,
	    "not a WARC version line: -EBADMSG");
	is_int(parse_text("WARC/1.1\r\n" MANDATORY "\r\nabc\r\n\r\n"),
	    -EBADMSG, "no Content-Length: -EBADMSG");
	is_int(parse_text("WARC/1.1\r\n" MANDATORY
	    "Content-Length: three\r\n\r\nabc\r\n\r\n"), -EBADMSG,
	    "Content-Length not a number: -EBADMSG");
	is_int(parse_text("WARC/1.1\r\n" MANDATORY
	    "Content-Length: -3\r\n\r\nabc\r\n\r\n"), -EBADMSG,
	    "negative Content-Length: -EBADMSG");
	is_int(parse_text("WARC/1.1\r\n" MANDATORY
	    "Content-Length: 2\r\n\r\nabc\r\n\r\n"), -EBADMSG,
	    "Content-Length too small (trailer mismatch): -EBADMSG");
	is_int(parse_text("WARC/1.1\r\n" MANDATORY
	    "Content-Length: 99\r\n\r\nabc\r\n\r\n"), -ENODATA,
	    "Content-Length past the input: -ENODATA");
	is_int(parse_text("WARC/1.1\r\nWARC-Record-ID: <" ID ">\r\n"
	    "WARC-Date: 2026-03-02T14:05:09Z\r\n"
	    "Content-Length: 3\r\n\r\nabc\r\n\r\n"), -EBADMSG,
	    "no WARC-Type: -EBADMSG");
	is_int(parse_text("WARC/1.1\r\nWARC-Type: resource\r\n"
	    "WARC-Date: 2026-03-02T14:05:09Z\r\n"
	    "Content-Length: 3\r\n\r\nabc\r\n\r\n"), -EBADMSG,
	    "no WARC-Record-ID: -EBADMSG");
	is_int(parse_text("WARC/1.1\r\nWARC-Type: resource\r\n"
	    "WARC-Record-ID: <" ID ">\r\n"
	    "Content-Length: 3\r\n\r\nabc\r\n\r\n"), -EBADMSG,
	    "no WARC-Date: -EBADMSG");
	is_int(parse_text("WARC/1.1\r\n" MANDATORY "no colon here\r\n"
	    "Content-Length: 3\r\n\r\nabc\r\n\r\n"), -EBADMSG,
	    "field line without a colon: -EBADMSG");
	is_int(parse_text("WARC/1.1\r\n" MANDATORY "WARC-Block-Digest: "
	    "sha256:AAAA\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n"), -EBADMSG,
	    "wrong block digest: -EBADMSG");
	is_int(warc_parse("WARC/1.1\r\nX: a\0b\r\n\r\n", 20, &(struct
	    warc_parsed){ 0 }), -EBADMSG, "NUL inside the header: -EBADMSG");
	is_int(parse_text(""), -ENODATA, "empty input: -ENODATA");

	/* No end of header within WARC_MAX_HEADER: malformed, not "more". */
	buf_init(&big, 0);
	buf_puts(&big, "WARC/1.1\r\n" MANDATORY);
	for (i = 0; big.len < WARC_MAX_HEADER + 100; i++)
		buf_printf(&big, "X-Filler-%zu: %0100d\r\n", i, 0);
	is_int(warc_parse(big.data, big.len, &(struct warc_parsed){ 0 }),
	    -EBADMSG, "header over %d bytes: -EBADMSG", WARC_MAX_HEADER);
	buf_reset(&big);
	buf_puts(&big, "WARC/1.1\r\n" MANDATORY);
	for (i = 0; i < 2 * WARC_MAX_FIELDS + 1; i++)
		buf_printf(&big, "X-F%zu: v\r\n", i);
	buf_puts(&big, "Content-Length: 0\r\n\r\n\r\n\r\n");
	is_int(warc_parse(big.data, big.len, &(struct warc_parsed){ 0 }),
	    -EBADMSG, "more fields than the table holds: -EBADMSG");
	buf_release(&big);
}

static void
test_date(void)
{
	char buf[32];

	is_str(warc_date(T, buf, sizeof(buf)), "2026-03-02T14:05:09Z",
	    "warc_date format");
}

int
main(void)
{
	test_build_parse();
	test_payload_digest();
	test_empty_block();
	test_corrupt();
	test_field_values();
	test_malformed();
	test_date();
	return tap_done();
}
