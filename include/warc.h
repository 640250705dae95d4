/*
 * warc.h - WARC 1.1 records: building a record (header block, content
 * block, digests) and parsing one back. Digests are "sha256:" + base32,
 * declared in each segment's warcinfo record.
 */
#ifndef SUNARCHIVE_WARC_H
#define SUNARCHIVE_WARC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define WARC_MAX_FIELDS	40
#define WARC_MAX_HEADER	(64 * 1024)

struct warc_field {
	const char	*name;
	const char	*value;
};

/* A record to build. Pointers are borrowed. */
struct warc_record {
	const char	*type;		/* warcinfo, request, response, ... */
	const char	*record_id;	/* "urn:uuid:..." */
	int64_t		 date;		/* unix seconds, UTC */
	const char	*content_type;
	const char	*target_uri;	/* may be NULL */
	const void	*block;
	size_t		 block_len;
	/* Offset of the payload inside block (HTTP body), or -1 for none. */
	long		 payload_off;
	struct warc_field fields[WARC_MAX_FIELDS];	/* extra named fields */
	size_t		 nfields;
};

/* Add an extra field (e.g. "WARC-Refers-To"); value borrowed. */
void	warc_add(struct warc_record *r, const char *name, const char *value);

/*
 * Serialize r (header, block, "\r\n\r\n") into out, computing
 * WARC-Block-Digest and, when payload_off >= 0, WARC-Payload-Digest.
 * Field values must not contain CR or LF (-EINVAL).
 */
int	warc_build(const struct warc_record *r, struct buf *out);

/* A parsed record: fields point into the caller's buffer (copied). */
struct warc_parsed {
	char		*header;	/* owned copy of the header block */
	struct warc_field fields[WARC_MAX_FIELDS * 2];
	size_t		 nfields;
	const char	*block;		/* borrowed from the input */
	size_t		 block_len;
	size_t		 total_len;	/* header + block + trailing CRLFCRLF */
};

/*
 * Parse one record at the start of in (uncompressed). Checks the version
 * line, Content-Length, the trailer and WARC-Block-Digest when present.
 * 0, -ENODATA (incomplete) or -EBADMSG (malformed or digest mismatch).
 */
int	warc_parse(const char *in, size_t len, struct warc_parsed *ret);
/* Value of a field (case-insensitive name) or NULL; borrowed. */
const char *warc_get(const struct warc_parsed *p, const char *name);
void	warc_parsed_release(struct warc_parsed *p);

/* "WARC-Date" form, "2026-03-02T14:05:09Z". */
char	*warc_date(int64_t t, char *buf, size_t len);

#endif
