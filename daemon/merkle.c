/*
 * merkle.c - RFC 6962 / RFC 9162 section 2.1 Merkle tree hashing, compact
 * ranges for appending to the ledger, and inclusion and consistency
 * proofs. Generation follows the recursive definitions (PATH, SUBPROOF);
 * verification is the iterative algorithm of RFC 9162 2.1.3.2 / 2.1.4.2,
 * step for step, so the code can be checked against the text.
 *
 * SHA-256 comes from hash.c (OpenSSL). Nothing here allocates or logs.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "hash.h"
#include "merkle.h"

/* A consistency proof has at most this many hashes. */
#define CONSISTENCY_MAX	(MERKLE_MAX_HEIGHT + 1)

void
merkle_leaf_hash(const void *data, size_t len, uint8_t out[MERKLE_HASH_LEN])
{
	static const uint8_t prefix = 0x00;
	struct hash_ctx h;

	hash_init(&h);
	hash_update(&h, &prefix, 1);
	if (len > 0)
		hash_update(&h, data, len);
	hash_final(&h, out);
}

void
merkle_node_hash(const uint8_t left[MERKLE_HASH_LEN],
    const uint8_t right[MERKLE_HASH_LEN], uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t buf[1 + 2 * MERKLE_HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, left, MERKLE_HASH_LEN);
	memcpy(buf + 1 + MERKLE_HASH_LEN, right, MERKLE_HASH_LEN);
	hash_sha256(buf, sizeof(buf), out);
}

/* The largest power of two strictly below n; n >= 2. */
static uint64_t
split_point(uint64_t n)
{
	return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

static int
is_power_of_two(uint64_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

void
merkle_root(const uint8_t (*leaves)[MERKLE_HASH_LEN], uint64_t n,
    uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t left[MERKLE_HASH_LEN], right[MERKLE_HASH_LEN];
	uint64_t k;

	if (n == 0) {
		hash_sha256("", 0, out);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[0], MERKLE_HASH_LEN);
		return;
	}
	k = split_point(n);
	merkle_root(leaves, k, left);
	merkle_root(leaves + k, n - k, right);
	merkle_node_hash(left, right, out);
}

/*
 * Compact range. nodes[0 .. popcount(size) - 1] are the perfect subtrees
 * left to right, so the smallest one (the lowest set bit of size) is on
 * top of the stack. Appending a leaf merges it with the top while the
 * subtree sizes match, exactly like incrementing a binary counter.
 */
void
merkle_range_init(struct merkle_range *r)
{
	memset(r, 0, sizeof(*r));
}

int
merkle_range_append(struct merkle_range *r,
    const uint8_t leaf_hash[MERKLE_HASH_LEN])
{
	uint8_t h[MERKLE_HASH_LEN];
	unsigned int top;
	uint64_t s;

	if (r->size == UINT64_MAX)
		return -EOVERFLOW;
	top = (unsigned int)__builtin_popcountll(r->size);
	memcpy(h, leaf_hash, MERKLE_HASH_LEN);
	for (s = r->size; s & 1; s >>= 1) {
		top--;
		merkle_node_hash(r->nodes[top], h, h);
	}
	memcpy(r->nodes[top], h, MERKLE_HASH_LEN);
	r->size++;
	return 0;
}

void
merkle_range_root(const struct merkle_range *r, uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t h[MERKLE_HASH_LEN];
	unsigned int i;

	if (r->size == 0) {
		hash_sha256("", 0, out);
		return;
	}
	/* Fold right to left: node(n0, node(n1, ... node(n[i-2], n[i-1]))). */
	i = (unsigned int)__builtin_popcountll(r->size) - 1;
	memcpy(h, r->nodes[i], MERKLE_HASH_LEN);
	while (i-- > 0)
		merkle_node_hash(r->nodes[i], h, h);
	memcpy(out, h, MERKLE_HASH_LEN);
}

/*
 * PATH(m, D[n]) (RFC 9162 2.1.3.1), appended to proof[*len ...]:
 *   n == 1: {}
 *   m < k:  PATH(m, D[0:k]) : MTH(D[k:n])
 *   m >= k: PATH(m - k, D[k:n]) : MTH(D[0:k])
 */
static void
inclusion_path(const uint8_t (*d)[MERKLE_HASH_LEN], uint64_t n, uint64_t m,
    uint8_t (*proof)[MERKLE_HASH_LEN], size_t *len)
{
	uint64_t k;

	if (n <= 1)
		return;
	k = split_point(n);
	if (m < k) {
		inclusion_path(d, k, m, proof, len);
		merkle_root(d + k, n - k, proof[(*len)++]);
	} else {
		inclusion_path(d + k, n - k, m - k, proof, len);
		merkle_root(d, k, proof[(*len)++]);
	}
}

/*
 * SUBPROOF(m, D[n], b) (RFC 9162 2.1.4.1), appended to proof[*len ...]:
 *   m == n: {} if b, else {MTH(D[n])}
 *   m <= k: SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
 *   m > k:  SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
 */
static void
subproof(const uint8_t (*d)[MERKLE_HASH_LEN], uint64_t n, uint64_t m, int b,
    uint8_t (*proof)[MERKLE_HASH_LEN], size_t *len)
{
	uint64_t k;

	if (m == n) {
		if (!b)
			merkle_root(d, n, proof[(*len)++]);
		return;
	}
	k = split_point(n);
	if (m <= k) {
		subproof(d, k, m, b, proof, len);
		merkle_root(d + k, n - k, proof[(*len)++]);
	} else {
		subproof(d + k, n - k, m - k, 0, proof, len);
		merkle_root(d, k, proof[(*len)++]);
	}
}

int
merkle_inclusion_proof(const uint8_t (*leaves)[MERKLE_HASH_LEN], uint64_t n,
    uint64_t index, uint8_t (*ret_proof)[MERKLE_HASH_LEN], size_t *ret_len)
{
	size_t len = 0;

	if (leaves == NULL || ret_proof == NULL || ret_len == NULL ||
	    index >= n)
		return -EINVAL;
	inclusion_path(leaves, n, index, ret_proof, &len);
	*ret_len = len;
	return 0;
}

int
merkle_consistency_proof(const uint8_t (*leaves)[MERKLE_HASH_LEN],
    uint64_t n, uint64_t m, uint8_t (*ret_proof)[MERKLE_HASH_LEN],
    size_t *ret_len)
{
	size_t len = 0;

	if (leaves == NULL || ret_proof == NULL || ret_len == NULL ||
	    m == 0 || m > n)
		return -EINVAL;
	subproof(leaves, n, m, 1, ret_proof, &len);
	*ret_len = len;
	return 0;
}

static int
hash_equal(const uint8_t a[MERKLE_HASH_LEN], const uint8_t b[MERKLE_HASH_LEN])
{
	return memcmp(a, b, MERKLE_HASH_LEN) == 0;
}

/* RFC 9162 2.1.3.2; the numbered comments are the RFC's steps. */
int
merkle_verify_inclusion(uint64_t index, uint64_t size,
    const uint8_t leaf_hash[MERKLE_HASH_LEN],
    const uint8_t (*proof)[MERKLE_HASH_LEN], size_t proof_len,
    const uint8_t root[MERKLE_HASH_LEN])
{
	uint8_t r[MERKLE_HASH_LEN];
	uint64_t fn, sn;
	size_t i;

	if (leaf_hash == NULL || root == NULL ||
	    (proof == NULL && proof_len > 0))
		return -EINVAL;
	/* 1. leaf_index >= tree_size: fail. */
	if (index >= size)
		return -EINVAL;
	/*
	 * Not a step of the RFC, and it changes no verdict: each iteration
	 * of step 4 shifts sn, so a path longer than 64 always fails 4.a.
	 */
	if (proof_len > MERKLE_MAX_HEIGHT)
		return -EBADMSG;
	/* 2. */
	fn = index;
	sn = size - 1;
	/* 3. */
	memcpy(r, leaf_hash, MERKLE_HASH_LEN);
	/* 4. */
	for (i = 0; i < proof_len; i++) {
		/* a. */
		if (sn == 0)
			return -EBADMSG;
		/* b. */
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof[i], r, r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node_hash(r, proof[i], r);
		}
		/* c. */
		fn >>= 1;
		sn >>= 1;
	}
	/* 5. */
	if (sn != 0 || !hash_equal(r, root))
		return -EBADMSG;
	return 0;
}

/* RFC 9162 2.1.4.2; the numbered comments are the RFC's steps. */
int
merkle_verify_consistency(uint64_t size1, uint64_t size2,
    const uint8_t (*proof)[MERKLE_HASH_LEN], size_t proof_len,
    const uint8_t root1[MERKLE_HASH_LEN], const uint8_t root2[MERKLE_HASH_LEN])
{
	uint8_t fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
	const uint8_t *c;
	uint64_t fn, sn;
	size_t i, start;

	if (root1 == NULL || root2 == NULL ||
	    (proof == NULL && proof_len > 0))
		return -EINVAL;
	if (size1 == 0 || size1 > size2)
		return -EINVAL;
	if (size1 == size2) {
		if (proof_len != 0 || !hash_equal(root1, root2))
			return -EBADMSG;
		return 0;
	}
	/* 1. */
	if (proof_len == 0)
		return -EBADMSG;
	/* As in merkle_verify_inclusion: longer paths always fail 6.a. */
	if (proof_len > CONSISTENCY_MAX)
		return -EBADMSG;
	/*
	 * 2. If first is a power of two, first_hash is prepended to the
	 * path: start the walk at it instead of copying the array.
	 */
	start = is_power_of_two(size1) ? 0 : 1;
	/* 3. */
	fn = size1 - 1;
	sn = size2 - 1;
	/* 4. */
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	/* 5. */
	c = start == 0 ? root1 : proof[0];
	memcpy(fr, c, MERKLE_HASH_LEN);
	memcpy(sr, c, MERKLE_HASH_LEN);
	/* 6. */
	for (i = start; i < proof_len; i++) {
		c = proof[i];
		/* a. */
		if (sn == 0)
			return -EBADMSG;
		/* b. */
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(c, fr, fr);
			merkle_node_hash(c, sr, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node_hash(sr, c, sr);
		}
		/* c. */
		fn >>= 1;
		sn >>= 1;
	}
	/* 7. */
	if (!hash_equal(fr, root1) || !hash_equal(sr, root2) || sn != 0)
		return -EBADMSG;
	return 0;
}
