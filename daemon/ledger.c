/*
 * ledger.c - the Merkle ledger over the index's records, kept as a compact
 * range (O(log n) memory) and brought up to date from the index.
 */
#include <errno.h>
#include <string.h>

#include "ledger.h"

void
ledger_init(struct ledger *lg)
{
	merkle_range_init(&lg->range);
	lg->last_seq = 0;
}

static int
unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
ledger_leaf(const char *sha256_hex, uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t raw[HASH_LEN];
	size_t i;

	if (sha256_hex == NULL || strlen(sha256_hex) != 2 * HASH_LEN)
		return -EINVAL;
	for (i = 0; i < HASH_LEN; i++) {
		int hi = unhex(sha256_hex[2 * i]), lo = unhex(sha256_hex[2 * i +
		    1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		raw[i] = (uint8_t)(hi << 4 | lo);
	}
	merkle_leaf_hash(raw, sizeof(raw), out);
	return 0;
}

static int
append_record(int64_t seq, const char *sha256_hex, void *arg)
{
	struct ledger *lg = arg;
	uint8_t leaf[MERKLE_HASH_LEN];
	int r;

	r = ledger_leaf(sha256_hex, leaf);
	if (r == 0)
		r = merkle_range_append(&lg->range, leaf);
	if (r == 0)
		lg->last_seq = seq;
	return r;
}

int
ledger_sync(struct ledger *lg, struct index *ix)
{
	return index_records_after(ix, lg->last_seq, append_record, lg);
}

void
ledger_root(const struct ledger *lg, uint8_t out[MERKLE_HASH_LEN])
{
	merkle_range_root(&lg->range, out);
}
