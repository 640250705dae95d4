/*
 * record.h - what sunarchive writes: the description of one archive record
 * (struct rec_meta), its mapping to and from WARC header fields, canonical
 * item content, and secret redaction. The mapping is the single place
 * that defines how the index can be rebuilt from the archive.
 */
#ifndef SUNARCHIVE_RECORD_H
#define SUNARCHIVE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "buf.h"
#include "hash.h"
#include "warc.h"

#define RECORD_ID_LEN	48
#define RECORD_MAX_SECRETS 4

enum rec_kind {
	REC_WARCINFO = 1,
	REC_REQUEST,
	REC_RESPONSE,
	REC_VERSION,		/* WARC conversion record: an item version */
	REC_EVENT,		/* WARC metadata record */
};

/*
 * One record. Strings are borrowed; fields unused by a kind stay NULL/0.
 * For REC_VERSION the block is the canonical content JSON; for REC_EVENT
 * the block is the event's JSON detail.
 */
struct rec_meta {
	enum rec_kind	 kind;
	char		 record_id[RECORD_ID_LEN];
	int64_t		 date;		/* capture time (our clock) */
	const char	*account;	/* config account name */
	const char	*target_uri;	/* redacted URL */
	const char	*refers_to;	/* record id this one derives from */
	const char	*concurrent_to;	/* request <-> response */
	/* Items (versions, events about items, media). */
	const char	*platform;
	const char	*item_id;	/* platform id */
	const char	*item_kind;	/* post | comment | reply */
	const char	*parent_id;
	const char	*root_id;
	const char	*author;
	const char	*author_id;
	int64_t		 created;
	const char	*url;
	char		 content_hash[HASH_HEX_LEN];
	int64_t		 platform_time;	/* platform's time of this version */
	const char	*edit_marker;
	/* Events. */
	const char	*event;		/* removed | hidden | unhidden | ... */
	/* Media responses. */
	const char	*media_key;
	/* Derived, for the index (not a WARC field): */
	const char	*text;		/* from the canonical content */
	const char	*detail;	/* event block */
	int		 hidden;
};

/* Fill in a fresh record id and date. */
void	record_meta_init(struct rec_meta *m, enum rec_kind kind);

/* WARC-Type for a kind ("conversion", "metadata", ...). */
const char *record_warc_type(enum rec_kind kind);

/*
 * Serialize m plus block into a WARC record in out. scratch holds the
 * formatted numbers and must live until out is used.
 */
int	record_to_warc(const struct rec_meta *m, const char *content_type,
	    const void *block, size_t block_len, long payload_off,
	    struct buf *out);

/*
 * Rebuild the meta of a parsed WARC record (crash recovery, reindex).
 * Borrowed pointers point into p and into *ret_owned (a JSON value the
 * caller frees with json_decref; may be NULL). 0 or -EBADMSG.
 */
int	record_from_warc(const struct warc_parsed *p, struct rec_meta *ret,
	    json_t **ret_owned);

/*
 * Canonical content: compact JSON with sorted keys; its SHA-256 (hex) is
 * the version identity. Caller frees the returned string.
 */
char	*record_canonical(const json_t *content, char ret_hash[HASH_HEX_LEN]);

/*
 * Redact secrets in place: every occurrence of each secret's value, and
 * the values of the query parameters access_token, appsecret_proof,
 * client_secret, and of Authorization header lines. Returns how many
 * were replaced.
 */
size_t	record_redact(struct buf *b, const char *const *secrets,
	    size_t nsecrets);
/* Redacted copy of a URL (query parameters above). Caller frees. */
char	*record_redact_url(const char *url);

#endif
