/*
 * ledger.h - the archive's append-only Merkle ledger (RFC 6962 hashing):
 * one leaf per archive record, the SHA-256 of the record's stored gzip
 * member, in write order (records.seq). Checkpoints commit to its size
 * and root; "sunarchive check" recomputes both.
 */
#ifndef SUNARCHIVE_LEDGER_H
#define SUNARCHIVE_LEDGER_H

#include <stdint.h>

#include "index.h"
#include "merkle.h"

struct ledger {
	struct merkle_range	 range;
	int64_t			 last_seq;	/* last record appended */
};

void	ledger_init(struct ledger *lg);
/* The leaf for a record whose stored bytes hash to sha256_hex. */
int	ledger_leaf(const char *sha256_hex, uint8_t out[MERKLE_HASH_LEN]);
/* Append every indexed record after last_seq, in seq order. */
int	ledger_sync(struct ledger *lg, struct index *ix);
void	ledger_root(const struct ledger *lg, uint8_t out[MERKLE_HASH_LEN]);

#endif
