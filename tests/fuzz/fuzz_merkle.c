/*
 * fuzz_merkle.c - the Merkle proof verifiers (RFC 9162 2.1.3.2 and
 * 2.1.4.2), which `check` and outside verifiers run on proofs they are
 * handed, on arbitrary sizes, indices, hashes and proofs.
 *
 * Input layout (short inputs are padded with zeros):
 *
 *	bytes  0..7	a: leaf index / first tree size (little-endian)
 *	bytes  8..15	b: tree size / second tree size
 *	bytes 16..47	h1: leaf hash / first root
 *	bytes 48..79	h2: root / second root
 *	bytes 80..	the proof, 32 bytes a hash (a partial hash dropped)
 *
 * Both verifiers must return 0, -EBADMSG or -EINVAL and never crash, for
 * any proof length. Then a small tree of 1 + a % 70 leaves made from h1
 * checks the generators against the verifiers: every proof they make
 * verifies, and flipping the proof bit b selects makes it fail.
 */
#include <errno.h>
#include <string.h>

#include "merkle.h"

#include "fuzz.h"

#define HDR_LEN		(2 * 8 + 2 * MERKLE_HASH_LEN)
#define SMALL_TREE	70

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
arbitrary(uint64_t a, uint64_t b, const uint8_t *h1, const uint8_t *h2,
    const uint8_t (*proof)[MERKLE_HASH_LEN], size_t n)
{
	int r;

	r = merkle_verify_inclusion(a, b, h1, proof, n, h2);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EINVAL);
	if (a >= b)
		FUZZ_CHECK(r == -EINVAL);
	r = merkle_verify_consistency(a, b, proof, n, h1, h2);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EINVAL);
	if (a == 0 || a > b)
		FUZZ_CHECK(r == -EINVAL);
	/* The same with no proof at all. */
	r = merkle_verify_inclusion(a, b, h1, NULL, 0, h2);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EINVAL);
	r = merkle_verify_consistency(a, b, NULL, 0, h1, h2);
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EINVAL);
}

static void
small_tree(uint64_t a, uint64_t b, const uint8_t *seed)
{
	static uint8_t leaves[SMALL_TREE][MERKLE_HASH_LEN];
	uint8_t proof[MERKLE_PROOF_MAX][MERKLE_HASH_LEN];
	uint8_t root[MERKLE_HASH_LEN], sub[MERKLE_HASH_LEN];
	struct merkle_range range;
	uint64_t n = 1 + a % SMALL_TREE, i, idx, m;
	uint8_t buf[MERKLE_HASH_LEN + 8];
	size_t len, bit;

	merkle_range_init(&range);
	memcpy(buf, seed, MERKLE_HASH_LEN);
	for (i = 0; i < n; i++) {
		memcpy(buf + MERKLE_HASH_LEN, &i, 8);
		merkle_leaf_hash(buf, sizeof(buf), leaves[i]);
		FUZZ_CHECK(merkle_range_append(&range, leaves[i]) == 0);
	}
	merkle_root(leaves, n, root);
	merkle_range_root(&range, sub);
	FUZZ_CHECK(memcmp(root, sub, MERKLE_HASH_LEN) == 0);

	idx = b % n;
	FUZZ_CHECK(merkle_inclusion_proof(leaves, n, idx, proof, &len) == 0);
	FUZZ_CHECK(merkle_verify_inclusion(idx, n, leaves[idx], proof, len,
	    root) == 0);
	if (len > 0) {
		bit = (size_t)(b >> 8) % (len * MERKLE_HASH_LEN * 8);
		proof[bit / 256][bit / 8 % MERKLE_HASH_LEN] ^= 1u << bit % 8;
		FUZZ_CHECK(merkle_verify_inclusion(idx, n, leaves[idx], proof,
		    len, root) == -EBADMSG);
	}

	m = 1 + (b >> 16) % n;
	merkle_root(leaves, m, sub);
	FUZZ_CHECK(merkle_consistency_proof(leaves, n, m, proof, &len) == 0);
	FUZZ_CHECK(merkle_verify_consistency(m, n, proof, len, sub, root) ==
	    0);
	if (len > 0) {
		bit = (size_t)(b >> 24) % (len * MERKLE_HASH_LEN * 8);
		proof[bit / 256][bit / 8 % MERKLE_HASH_LEN] ^= 1u << bit % 8;
		FUZZ_CHECK(merkle_verify_consistency(m, n, proof, len, sub,
		    root) == -EBADMSG);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hdr[HDR_LEN];
	const uint8_t (*proof)[MERKLE_HASH_LEN] = NULL;
	uint8_t *copy = NULL;
	uint64_t a, b;
	size_t n = 0;

	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, data, size < HDR_LEN ? size : HDR_LEN);
	a = le64(hdr);
	b = le64(hdr + 8);
	if (size > HDR_LEN) {
		/* An exact-size copy, so reading past the proof is seen. */
		n = (size - HDR_LEN) / MERKLE_HASH_LEN;
		if (n > 0) {
			copy = malloc(n * MERKLE_HASH_LEN);
			FUZZ_CHECK(copy != NULL);
			memcpy(copy, data + HDR_LEN, n * MERKLE_HASH_LEN);
			proof = (const uint8_t (*)[MERKLE_HASH_LEN])copy;
		}
	}
	arbitrary(a, b, hdr + 16, hdr + 48, proof, n);
	small_tree(a, b, hdr + 16);
	free(copy);
	return 0;
}
