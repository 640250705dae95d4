/*
 * warc.c - WARC 1.1 record serialization and parsing. The format is
 * simple enough that no library is needed to write it; libarchive's WARC
 * reader is used by the tests to prove standard readers accept our files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hash.h"
#include "util.h"
#include "warc.h"
#include "xalloc.h"

void
warc_add(struct warc_record *r, const char *name, const char *value)
{
	if (value == NULL || r->nfields == WARC_MAX_FIELDS)
		return;
	r->fields[r->nfields].name = name;
	r->fields[r->nfields].value = value;
	r->nfields++;
}

char *
warc_date(int64_t t, char *buf, size_t len)
{
	return util_format_time(t, buf, len);
}

static int
field_ok(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

static void
digest(const void *p, size_t n, char out[8 + HASH_B32_LEN])
{
	unsigned char md[HASH_LEN];
	char b32[HASH_B32_LEN];

	hash_sha256(p, n, md);
	hash_base32(md, b32);
	snprintf(out, 8 + HASH_B32_LEN, "sha256:%s", b32);
}

int
warc_build(const struct warc_record *r, struct buf *out)
{
	char date[32], bd[8 + HASH_B32_LEN], pd[8 + HASH_B32_LEN];
	size_t i;

	if (!field_ok(r->type) || !field_ok(r->record_id) ||
	    (r->target_uri != NULL && !field_ok(r->target_uri)) ||
	    (r->content_type != NULL && !field_ok(r->content_type)))
		return -EINVAL;
	for (i = 0; i < r->nfields; i++)
		if (!field_ok(r->fields[i].name) || !field_ok(r->fields[i].value))
			return -EINVAL;
	digest(r->block, r->block_len, bd);
	buf_printf(out, "WARC/1.1\r\nWARC-Type: %s\r\nWARC-Record-ID: <%s>\r\n"
	    "WARC-Date: %s\r\n", r->type, r->record_id,
	    warc_date(r->date, date, sizeof(date)));
	if (r->target_uri != NULL)
		buf_printf(out, "WARC-Target-URI: %s\r\n", r->target_uri);
	for (i = 0; i < r->nfields; i++)
		buf_printf(out, "%s: %s\r\n", r->fields[i].name,
		    r->fields[i].value);
	buf_printf(out, "WARC-Block-Digest: %s\r\n", bd);
	if (r->payload_off >= 0 && (size_t)r->payload_off <= r->block_len) {
		digest((const char *)r->block + r->payload_off,
		    r->block_len - r->payload_off, pd);
		buf_printf(out, "WARC-Payload-Digest: %s\r\n", pd);
	}
	if (r->content_type != NULL)
		buf_printf(out, "Content-Type: %s\r\n", r->content_type);
	buf_printf(out, "Content-Length: %zu\r\n\r\n", r->block_len);
	buf_append(out, r->block, r->block_len);
	buf_append(out, "\r\n\r\n", 4);
	return 0;
}

const char *
warc_get(const struct warc_parsed *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nfields; i++)
		if (strcasecmp(p->fields[i].name, name) == 0)
			return p->fields[i].value;
	return NULL;
}

void
warc_parsed_release(struct warc_parsed *p)
{
	free(p->header);
	memset(p, 0, sizeof(*p));
}

int
warc_parse(const char *in, size_t len, struct warc_parsed *ret)
{
	struct warc_parsed p;
	const char *end, *cl, *bd;
	char *line, *next, *colon;
	int64_t clen;
	size_t hlen;

	memset(&p, 0, sizeof(p));
	end = memmem(in, len < WARC_MAX_HEADER ? len : WARC_MAX_HEADER,
	    "\r\n\r\n", 4);
	if (end == NULL)
		return len < WARC_MAX_HEADER ? -ENODATA : -EBADMSG;
	if (len < 10 || memcmp(in, "WARC/1.", 7) != 0)
		return -EBADMSG;
	hlen = end - in;
	p.header = xstrndup(in, hlen);
	if (strlen(p.header) != hlen)
		goto bad;		/* NUL inside the header */
	line = strstr(p.header, "\r\n");
	if (line == NULL)
		goto bad;		/* a version line and no fields */
	for (line = line + 2; line != NULL && *line != '\0'; line = next) {
		next = strstr(line, "\r\n");
		if (next != NULL) {
			*next = '\0';
			next += 2;
		}
		colon = strchr(line, ':');
		if (colon == NULL || p.nfields == ARRAY_SIZE(p.fields))
			goto bad;
		*colon++ = '\0';
		while (*colon == ' ' || *colon == '\t')
			colon++;
		p.fields[p.nfields].name = line;
		p.fields[p.nfields].value = colon;
		p.nfields++;
	}
	cl = warc_get(&p, "Content-Length");
	if (cl == NULL || util_parse_int(cl, 0, INT64_MAX, &clen) < 0)
		goto bad;
	if (warc_get(&p, "WARC-Type") == NULL ||
	    warc_get(&p, "WARC-Record-ID") == NULL ||
	    warc_get(&p, "WARC-Date") == NULL)
		goto bad;
	if ((uint64_t)clen > len - hlen - 4 ||
	    len - hlen - 4 - (size_t)clen < 4) {
		warc_parsed_release(&p);
		return -ENODATA;
	}
	p.block = end + 4;
	p.block_len = (size_t)clen;
	if (memcmp(p.block + p.block_len, "\r\n\r\n", 4) != 0)
		goto bad;
	p.total_len = hlen + 4 + p.block_len + 4;
	bd = warc_get(&p, "WARC-Block-Digest");
	if (bd != NULL) {
		char want[8 + HASH_B32_LEN];

		digest(p.block, p.block_len, want);
		if (strcmp(want, bd) != 0)
			goto bad;
	}
	*ret = p;
	return 0;
bad:
	warc_parsed_release(&p);
	return -EBADMSG;
}
