/*
 * segment.h - WARC segment files: one writer appends gzip members to the
 * open segment (NAME.open), makes them durable with fdatasync, and seals
 * the file read-only (0440) under its final name when it is rotated.
 * Recovery scans an open segment's tail and quarantines torn bytes.
 */
#ifndef SUNARCHIVE_SEGMENT_H
#define SUNARCHIVE_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "warc.h"

#define SEGMENT_SUFFIX_OPEN	".open"

struct segment {
	char		*dir;		/* archive directory */
	char		*name;		/* final name, "seg-000001.warc.gz" */
	int		 fd;		/* -1 when closed */
	int64_t		 id;		/* row in the index's segments table */
	int64_t		 created;
	uint64_t	 size;		/* bytes appended */
	uint64_t	 synced;	/* bytes known durable */
	int		 failed;	/* a write or sync failed: never reuse */
};

/* "seg-%06u.warc.gz" for num. Caller frees. */
char	*segment_name(unsigned num);
/* dir/name[.open]; caller frees. */
char	*segment_path(const char *dir, const char *name, int open);

/* Create dir/name.open exclusively and fsync the directory. */
int	segment_create(struct segment *s, const char *dir, const char *name);
/* Reopen dir/name.open for appending after recovery; size = its length. */
int	segment_reopen(struct segment *s, const char *dir, const char *name);
/* Append n bytes; *ret_off = where they start. Marks failed on error. */
int	segment_append(struct segment *s, const void *p, size_t n,
	    uint64_t *ret_off);
/* fdatasync; on failure the segment is failed and must be sealed suspect. */
int	segment_sync(struct segment *s);
/*
 * Seal: fsync, fchmod 0440, rename NAME.open -> NAME, fsync(dir), and
 * return the file's SHA-256 and size. Closes the fd.
 */
int	segment_seal(struct segment *s, char ret_sha[HASH_HEX_LEN],
	    uint64_t *ret_size);
/* Close without sealing (shutdown, or after a failure). */
void	segment_close(struct segment *s);
void	segment_release(struct segment *s);

/* SHA-256 and size of a whole file. */
int	segment_file_hash(const char *path, char ret_sha[HASH_HEX_LEN],
	    uint64_t *ret_size);

/* One complete member found by segment_scan(). */
struct segment_member {
	uint64_t	 offset;
	size_t		 length;	/* stored (compressed) length */
	const unsigned char *stored;	/* the member's stored bytes */
	char		 sha256[HASH_HEX_LEN];	/* of the stored bytes */
	struct warc_parsed rec;		/* the WARC record inside */
};

typedef int (*segment_scan_fn)(const struct segment_member *m, void *arg);

/*
 * Decode members of the file at path from offset `from`, calling fn for
 * each complete and valid one (gzip CRC and length, WARC Content-Length
 * and block digest). Stops at the end of the file or at the first
 * incomplete or invalid byte, whose offset is returned in *ret_good_end.
 * fn returns 0 to go on, > 0 to stop before this member (it becomes the
 * good end), or a negative errno to abort the scan with that error.
 */
int	segment_scan(const char *path, uint64_t from, segment_scan_fn fn,
	    void *arg, uint64_t *ret_good_end);

/*
 * Move the bytes of path past good_end into qdir/NAME.torn-TIMESTAMP
 * (fsynced, with its directory), then truncate path to good_end and
 * fsync it. *ret_torn (caller frees) is NULL when there was nothing.
 */
int	segment_quarantine(const char *path, uint64_t good_end,
	    const char *qdir, char **ret_torn);

#endif
