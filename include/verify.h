/*
 * verify.h - "sunarchive check": the integrity verifier an auditor relies
 * on. It reads the archive (WARC segments), the index (SQLite) and the
 * signed checkpoints, and returns findings; it never prints, never writes
 * and never repairs. The CLI (daemon/cmd/check.c) prints them; the daemon
 * may run it too (it opens its own read-only connection, or borrows one).
 *
 * Quick mode (the default):
 *   - SQLite "PRAGMA quick_check";
 *   - every sealed segment's SHA-256 and size against the segments table,
 *     its mode (0440), every file the table names exists, no unknown
 *     seg-* files in the archive directory;
 *   - the records of each segment tile it: offset 0, no holes, no
 *     overlaps, nothing past the end;
 *   - the ledger recomputed from the index's record hashes in seq order:
 *     for every checkpoint the root at its size equals its root, sizes
 *     never decrease, a checkpoint covers every record before its own
 *     (except the warcinfo that opened a new segment) and none after;
 *   - every checkpoint note parses, its signature verifies with the
 *     verifier key, and its size, root and time equal the row's;
 *   - stored RFC 3161 tokens: structure, imprint (SHA-256 of the note) and
 *     the signature by the certificate inside; with a CA file, the full
 *     tsa_verify().
 *
 * Full mode adds "PRAGMA integrity_check" and reads every segment member
 * by member (segment_scan(): gzip CRC and ISIZE, WARC Content-Length and
 * block digest) and checks: the SHA-256 of each member's stored bytes
 * against its index row (this catches the flips in gzip headers and
 * padding that decode to identical content), WARC-Payload-Digest,
 * WARC-Record-ID and WARC-Type against the row, the versions and events
 * rows derived from each record, archive -> index (members without a
 * row) and index -> archive (rows without their bytes), bytes that are
 * no record, checkpoint records in the archive against the checkpoints
 * table, and the ledger root recomputed from the ARCHIVE's member hashes
 * in archive order (segments by number, members in file order) against
 * every checkpoint, which catches records deleted or reordered with the
 * index edited to match. Segments are read by `jobs` threads; results are
 * merged in segment order; SQLite is used from the calling thread only.
 *
 * With `against`, every checkpoint of an exported list (the JSON that
 * "sunarchive checkpoint export" writes, kept off the archive host) must
 * still match the archive: its note verifies with `key` or the list's own
 * verifier (never STATE_DIR/ledger.pub, which an insider can rewrite),
 * and the ledger root at its size (from the archive in full mode, from
 * the index otherwise) equals its root.
 *
 * Finding codes (OCFL style: one code per invariant; E = error, W =
 * warning; the text after the code is its stable name):
 *
 *   E001 index-corrupt            SQLite quick_check/integrity_check
 *                                 fails, or the index cannot be read as
 *                                 a sunarchive index
 *   E002 segment-missing          a segment the index names is not there
 *   E003 segment-hash-mismatch    a sealed segment's SHA-256 or size is
 *                                 not what the index recorded at sealing
 *   E004 segment-unknown-file     a seg-* file the index does not know
 *   E010 record-bytes-missing     a record's bytes are past the end of
 *                                 its segment (truncated) or its row
 *                                 names no segment
 *   E011 record-hash-mismatch     the stored bytes at a row's offset do
 *                                 not hash to its sha256 (or no member
 *                                 starts there, or the row's sha256 is
 *                                 not a SHA-256)
 *   E012 record-undecodable       the bytes are as indexed but are not a
 *                                 valid gzip member holding one WARC
 *                                 record with matching digests
 *   E013 record-unindexed         a complete member with no row, in a
 *                                 sealed segment or before the last
 *                                 acknowledged record of the open one
 *   E014 record-id-mismatch       WARC-Record-ID or WARC-Type differs
 *                                 from the row
 *   E015 bytes-unaccounted        a hole or overlap between rows, bytes
 *                                 that are no record (garbage, torn) in
 *                                 a sealed segment or between records
 *   E016 index-derived-mismatch   a versions or events row disagrees
 *                                 with the record it was derived from,
 *                                 or is missing
 *   E020 checkpoint-signature     a note is malformed or its signature
 *                                 does not verify; the verifier key is
 *                                 missing, unreadable or differs from
 *                                 --key; an unsigned checkpoint after a
 *                                 signed one
 *   E021 checkpoint-root-mismatch the ledger root at a checkpoint's size
 *                                 differs from its root; a row differs
 *                                 from its note or from the checkpoint
 *                                 record in the archive
 *   E022 checkpoint-size          sizes decrease; a checkpoint covers
 *                                 more records than exist before it, or
 *                                 fewer than were written before it
 *   E023 against-mismatch         an exported checkpoint does not match
 *                                 the archive (or does not verify)
 *   E024 timestamp-invalid        an RFC 3161 token is malformed, not
 *                                 over its note, or does not verify
 *   W001 segment-writable         a sealed segment is not read-only
 *   W002 checkpoint-unsigned      checkpoints without a signature
 *   W003 segment-suspect          sealed suspect after a storage error
 *   W004 open-segment-unacknowledged-tail
 *                                 bytes after the last acknowledged
 *                                 record of the open segment (complete
 *                                 or torn), or an .open file the index
 *                                 does not know yet; sunarchived
 *                                 recovers them at start
 *   W005 no-checkpoints           records but no checkpoint at all
 *   W006 segment-seal-pending     sealed on disk, open in the index;
 *                                 sunarchived finishes sealing at start
 */
#ifndef SUNARCHIVE_VERIFY_H
#define SUNARCHIVE_VERIFY_H

#include <stddef.h>
#include <stdint.h>

struct sqlite3;

#define VERIFY_JOBS_DEFAULT	2
#define VERIFY_JOBS_MAX		64
#define VERIFY_PUB_FILE		"ledger.pub"	/* as ANCHOR_PUB_FILE */
#define VERIFY_AGAINST_FORMAT	"sunarchive-checkpoints/1"
#define VERIFY_MAX_ITEMS	20	/* item ids kept per finding */

enum verify_code {
	VERIFY_E001_INDEX_CORRUPT,
	VERIFY_E002_SEGMENT_MISSING,
	VERIFY_E003_SEGMENT_HASH,
	VERIFY_E004_SEGMENT_UNKNOWN,
	VERIFY_E010_RECORD_MISSING,
	VERIFY_E011_RECORD_HASH,
	VERIFY_E012_RECORD_UNDECODABLE,
	VERIFY_E013_RECORD_UNINDEXED,
	VERIFY_E014_RECORD_ID,
	VERIFY_E015_BYTES_UNACCOUNTED,
	VERIFY_E016_INDEX_DERIVED,
	VERIFY_E020_CHECKPOINT_SIGNATURE,
	VERIFY_E021_CHECKPOINT_ROOT,
	VERIFY_E022_CHECKPOINT_SIZE,
	VERIFY_E023_AGAINST,
	VERIFY_E024_TIMESTAMP,
	VERIFY_W001_SEGMENT_WRITABLE,
	VERIFY_W002_CHECKPOINT_UNSIGNED,
	VERIFY_W003_SEGMENT_SUSPECT,
	VERIFY_W004_OPEN_TAIL,
	VERIFY_W005_NO_CHECKPOINTS,
	VERIFY_W006_SEAL_PENDING,
	VERIFY_CODE_COUNT
};

enum verify_severity {
	VERIFY_ERROR = 1,
	VERIFY_WARNING,
};

/* "E011", "record-hash-mismatch", and the code's severity. */
const char *verify_code_id(enum verify_code code);
const char *verify_code_name(enum verify_code code);
enum verify_severity verify_code_severity(enum verify_code code);

/* One finding. Strings are owned by the report. */
struct verify_finding {
	enum verify_code code;
	char		*file;		/* "seg-000003.warc.gz", "index.sqlite",
					   "ledger.pub", the --against file;
					   NULL for none */
	int64_t		 offset;	/* byte offset in file, -1 for none */
	int64_t		 seq;		/* records.seq concerned, 0 for none */
	char		*record_id;	/* WARC-Record-ID, or NULL */
	char		*items[VERIFY_MAX_ITEMS];	/* affected items'
					   platform ids (versions, events,
					   media of the record) */
	size_t		 nitems;
	size_t		 more_items;	/* affected beyond those listed */
	char		*message;	/* lower-case, one line, no code */
};

struct verify_opts {
	const char	*state_dir;
	/*
	 * A read-only sqlite3 handle to borrow (used from the calling thread
	 * only), or NULL to open STATE_DIR/index.sqlite read-only.
	 */
	struct sqlite3	*db;
	int		 full;		/* full mode, see above */
	int64_t		 since;		/* > 0: full checks only for segments
					   sealed (mtime) at or after since,
					   and the open one */
	const char	*only_segment;	/* non-NULL: check this one segment
					   (file, mode, hash, its records;
					   in full mode read back both ways)
					   and nothing index-wide: no SQLite
					   pragma, ledger or checkpoints.
					   For a segment just sealed, or a
					   damaged one */
	const char	*key;		/* verifier key text or file; NULL:
					   STATE_DIR/ledger.pub */
	const char	*against;	/* exported checkpoint list, or NULL */
	const char	*tsa_ca;	/* CA file for tsa_verify(), or NULL */
	int		 jobs;		/* reader threads; 0: the default */
};

struct verify_report {
	struct verify_finding *findings;	/* in segment, then checkpoint
						   order */
	size_t		 nfindings;
	size_t		 errors;
	size_t		 warnings;
	uint64_t	 segments;	/* in the index */
	uint64_t	 records;	/* in the index */
	uint64_t	 checkpoints;	/* in the index */
	uint64_t	 uncovered;	/* records after the newest checkpoint,
					   not yet covered by any */
	uint64_t	 bytes;		/* segment bytes read and hashed */
	uint64_t	 members;	/* members decoded (full mode) */
	double		 seconds;	/* the whole run */
	double		 read_seconds;	/* reading segments: bytes / this is
					   the throughput */
};

/*
 * Run the checks in o. Returns 0 when the check ran (whatever it found)
 * and fills *ret (release it with verify_report_release()); -EINVAL when
 * an input named in o is unusable (the --key, --against or --tsa-ca
 * file), or another negative errno when the index or the archive
 * directory cannot be read at all (not found, no permission, I/O error);
 * a message goes to err either way. A corrupt index is a finding (E001),
 * not an error return.
 */
int	verify_run(const struct verify_opts *o, struct verify_report *ret,
	    char *err, size_t errlen);

void	verify_report_release(struct verify_report *r);

#endif
