/*
 * export.h - a records-request response package: what a search or a
 * records request covers, read from the archive and written with
 * libarchive as one BagIt bag (RFC 8493), zipped (.zip) or as a gzipped
 * pax tar (.tar.gz). The archive is only read: the index through the
 * caller's read-only connection, the WARC segments by pread().
 *
 * Layout of the bag (one top-level directory named after the file):
 *
 *	bagit.txt, bag-info.txt, README.txt
 *	manifest-sha256.txt		every payload file
 *	tagmanifest-sha256.txt		bagit.txt, bag-info.txt, README.txt,
 *					manifest-sha256.txt
 *	tagmanifest-sha256.txt.tsr	RFC 3161 token over the tag manifest
 *	tsa-ca.pem			(with a token and a TSA CA file)
 *	VERIFY.txt			the sha256sum / openssl commands
 *	data/index.html			the threads, the package, its layout
 *	data/threads/ACCOUNT-POST.html	one self-contained page per thread
 *	data/records.csv		one row per produced item version
 *	data/records/ACCOUNT/ITEM/vN.json  each version's content: as
 *					archived, or redacted
 *	data/media/KEY.EXT		media bytes (HTTP body as archived)
 *	data/archive.warc.gz		the original records, byte for byte
 *					(left out of a redacted package
 *					unless include_originals)
 *	data/search.json		the search definition and request
 *	data/gaps.csv			capture gaps overlapping the period
 *	data/checkpoint/		newest checkpoint(s) covering the
 *					records: signed note, token, key
 *	data/custodian-certificate.txt, .html
 *	data/redactions.csv		(when redacting) every redaction
 *
 * Redaction (redact.h) applies to the produced copies only: the HTML,
 * records.csv and the JSON copies. The WARC copy is the archive's bytes.
 *
 * The package is written to a temporary file next to the output, fsynced
 * and renamed into place without replacing anything (RENAME_NOREPLACE,
 * else link()); an existing file is never written over. Records and
 * media are read one at a time (memory: the largest single record, plus
 * an entry of ids and thread keys per item); produced files whose size
 * is known only at their end (records.csv, the WARC copy, thread pages,
 * the index) spill to unlinked temporary files beside the package past
 * 4 MiB. This module does not print or log; errors are a negative errno
 * with a message in the caller's buffer.
 */
#ifndef SUNARCHIVE_EXPORT_H
#define SUNARCHIVE_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "hash.h"
#include "query.h"
#include "tsa.h"

#define EXPORT_ERR_LEN		512
#define EXPORT_DEFAULT_ORG	"City records custodian"
/* Largest single archived record read (stored or decoded bytes). */
#define EXPORT_RECORD_MAX	((size_t)4 << 30)

enum export_format {
	EXPORT_ZIP = 1,		/* FILE.zip: deflate, stored for .gz/media */
	EXPORT_TAR_GZ,		/* FILE.tar.gz or FILE.tgz: pax + gzip */
};

/*
 * A clerk's manual redaction. item is an item number (items.id) or a
 * platform id; field is a JSON path of the version content ("text",
 * "author.name", "media[0].description"; "author" means "author.name",
 * "*" every field); text the exact bytes to redact, or NULL for the
 * whole field; citation is required. Strings are borrowed.
 */
struct export_redaction {
	const char	*item;
	const char	*field;
	const char	*text;
	const char	*citation;
};

/*
 * Get an RFC 3161 token over digest (SHA-256 of tagmanifest-sha256.txt):
 * 0 and a new DER TimeStampToken in *ret_token (*ret_len bytes; the
 * caller frees), with what it says in *ret_info (zeroed when the token
 * was not verified), or a negative errno with the reason in err.
 */
typedef int (*export_timestamp_fn)(void *arg,
	    const unsigned char digest[TSA_DIGEST_LEN],
	    unsigned char **ret_token, size_t *ret_len,
	    struct tsa_info *ret_info, char *err, size_t errlen);

/* What to export and how. Pointers are borrowed. */
struct export_opts {
	const char		*state_dir;	/* STATE_DIR (archive/ in it) */
	const char		*out;		/* FILE.zip or FILE.tar.gz */
	const struct query_filter *filter;	/* which items */
	/* The records request as search.json shows it, or NULL. */
	const json_t		*request;
	const char		*request_id;	/* or NULL */
	const char		*description;	/* External-Description */
	const char		*organization;	/* NULL: EXPORT_DEFAULT_ORG */
	unsigned		 redact;	/* REDACT_F_* detectors */
	const char		*law;		/* "FL", "MO", NULL: both */
	const struct export_redaction *manual;
	size_t			 nmanual;
	int			 include_originals;
	/* Time-stamp the tag manifest when not NULL; when required is 0
	 * a failure is a warning (in the result), else the export fails. */
	export_timestamp_fn	 timestamp;
	void			*timestamp_arg;
	int			 timestamp_required;
	const char		*tsa_url;	/* for VERIFY.txt */
	const char		*tsa_ca_file;	/* copied as tsa-ca.pem */
	const char		*tool_version;	/* "0.1.0" */
	int64_t			 now;		/* export time, unix s */
};

struct export_result {
	int64_t		 items;		/* items produced */
	int64_t		 context;	/* of which thread context */
	int64_t		 threads;	/* thread pages */
	int64_t		 versions;	/* rows of records.csv */
	int64_t		 media;		/* media files */
	int64_t		 events;	/* events about the items */
	int64_t		 warc_records;	/* members in archive.warc.gz */
	int64_t		 redactions;	/* rows of redactions.csv */
	int64_t		 gaps;		/* rows of gaps.csv */
	int64_t		 removed;	/* items in state removed */
	int64_t		 manual_unused;	/* manual rules matching no item */
	uint64_t	 payload_files;	/* Payload-Oxum */
	uint64_t	 payload_bytes;
	uint64_t	 bytes;		/* size of the package file */
	int		 redacted;	/* any redaction was asked for */
	int		 originals;	/* archive.warc.gz is in it */
	int		 timestamped;	/* tagmanifest-sha256.txt.tsr */
	char		 tagmanifest_sha256[HASH_HEX_LEN];
	char		 warning[EXPORT_ERR_LEN];	/* "" or why no token */
};

/*
 * The format the file name asks for: 0, or -EINVAL for any other
 * extension than .zip, .tar.gz or .tgz (case-insensitive).
 */
int	export_format_of(const char *path, enum export_format *ret_fmt);

/*
 * Write the package o describes, reading the index through db (opened
 * read-only; one read transaction is held for a consistent snapshot).
 * Returns 0 and fills *ret; -ENOENT when nothing matches (nothing is
 * written); -EEXIST when o->out exists; -EINVAL for bad options (format,
 * law, a manual rule, the filter); -EBADMSG when an archived record does
 * not match the index (run 'sunarchive check'); -EPERM and the like from
 * the timestamp callback when required; other negative errno values for
 * I/O. err gets one line saying what and where.
 */
int	export_run(sqlite3 *db, const struct export_opts *o,
	    struct export_result *ret, char *err, size_t errlen);

#endif
