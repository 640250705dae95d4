/*
 * store.h - the archive as one unit: WARC segments plus the SQLite index,
 * kept in step by the durability rule: a batch's bytes are fdatasynced
 * before the index transaction that points at them commits. A record is
 * acknowledged once store_commit() has returned 0 for its batch.
 */
#ifndef SUNARCHIVE_STORE_H
#define SUNARCHIVE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "index.h"
#include "record.h"
#include "segment.h"

#define STORE_ARCHIVE_DIR	"archive"
#define STORE_QUARANTINE_DIR	"quarantine"

struct store {
	char		*state_dir;
	char		*archive_dir;
	char		*quarantine_dir;
	struct index	 ix;
	struct segment	 seg;		/* seg.fd < 0: none open */
	uint64_t	 max_size;
	int64_t		 max_age;
	char		*warcinfo;	/* block of each segment's warcinfo */
	int		 failed;	/* storage error: recover before use */
	int		 err;		/* the negative errno that failed it */
	uint64_t	 acked;		/* records acknowledged by this process */
	uint64_t	 batch;		/* records in the open batch */
	struct buf	 rec;		/* scratch: one WARC record */
	struct buf	 member;	/* scratch: its gzip member */
};

/* What crash recovery found (for the log and tests). */
struct store_recovery {
	uint64_t	 recovered;	/* complete unindexed records indexed */
	uint64_t	 torn_bytes;	/* bytes moved to quarantine */
	char		*torn_path;	/* quarantine file or NULL; caller frees */
	int		 sealed;	/* segments sealed during recovery */
};

/*
 * Open the archive under state_dir (creating archive/ and quarantine/,
 * mode 0750), open the index and run recovery. warcinfo is the block
 * written at the start of every segment (copied).
 */
int	store_open(struct store *st, const char *state_dir, uint64_t max_size,
	    int64_t max_age, const char *warcinfo, struct store_recovery *ret,
	    char *err, size_t errlen);
void	store_close(struct store *st);

/*
 * Append one record to the current batch: build the WARC record, gzip it
 * as one member, append it to the open segment (opening a new one if
 * needed) and index it inside the batch transaction. Not acknowledged
 * until store_commit(). On a storage error the store is failed.
 */
int	store_add(struct store *st, struct rec_meta *m, const char *ctype,
	    const void *block, size_t len, long payload_off);

/*
 * Make the batch durable (fdatasync) and then commit its index
 * transaction; rotate the segment when it is due. On failure the batch is
 * not acknowledged and the store is failed.
 */
int	store_commit(struct store *st);
/* Drop an uncommitted batch (bytes stay; recovery accounts for them). */
void	store_abandon(struct store *st);

/*
 * Bring a failed store back (and the start-up path): roll back, seal a
 * failed segment as suspect after quarantining its unacknowledged tail,
 * re-index complete records a crash left unindexed, quarantine torn
 * bytes, seal stray open segments.
 */
int	store_recover(struct store *st, struct store_recovery *ret);

/* Seal the open segment now (rotation, shutdown with --seal). */
int	store_rotate(struct store *st);

#endif
