/*
 * merkle.h - the archive's append-only ledger: an RFC 6962 / RFC 9162
 * section 2.1 Merkle tree over SHA-256. A leaf is the SHA-256 of one
 * record's stored gzip member, in write order across segments.
 *
 *   leaf hash   SHA-256(0x00 || data)
 *   node hash   SHA-256(0x01 || left || right)
 *   empty tree  SHA-256("")
 *
 * A tree of n > 1 leaves splits at k, the largest power of two strictly
 * below n: MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n])).
 *
 * Hashes are fixed-size arrays of MERKLE_HASH_LEN bytes; a list of leaf
 * hashes is an array `const uint8_t leaves[n][MERKLE_HASH_LEN]`. Sizes and
 * indices are uint64_t. Functions that can fail return 0 or a negative
 * errno and write their ret_* arguments only on success.
 */
#ifndef SUNARCHIVE_MERKLE_H
#define SUNARCHIVE_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#define MERKLE_HASH_LEN		HASH_LEN
/* Height of a tree of up to UINT64_MAX leaves. */
#define MERKLE_MAX_HEIGHT	64
/*
 * Room for any proof this module generates or accepts: an inclusion proof
 * has at most 64 hashes, a consistency proof at most 65.
 */
#define MERKLE_PROOF_MAX	(2 * MERKLE_MAX_HEIGHT)

/* SHA-256(0x00 || data): the hash of a leaf whose content is data. */
void	merkle_leaf_hash(const void *data, size_t len,
	    uint8_t out[MERKLE_HASH_LEN]);
/* SHA-256(0x01 || left || right): the hash of an interior node. */
void	merkle_node_hash(const uint8_t left[MERKLE_HASH_LEN],
	    const uint8_t right[MERKLE_HASH_LEN], uint8_t out[MERKLE_HASH_LEN]);

/*
 * MTH(D[n]), computed from the recursive definition: O(n) hashing,
 * O(log n) stack. n == 0 gives SHA-256(""); leaves may then be NULL.
 */
void	merkle_root(const uint8_t (*leaves)[MERKLE_HASH_LEN], uint64_t n,
	    uint8_t out[MERKLE_HASH_LEN]);

/*
 * A compact range [0, size): the roots of the perfect subtrees that cover
 * the first `size` leaves, one per set bit of size, the largest (leftmost)
 * first. It is how the ledger appends in O(log n) memory. The caller owns
 * the struct; nothing is allocated, so there is nothing to release.
 */
struct merkle_range {
	uint64_t	size;		/* leaves appended so far */
	uint8_t		nodes[MERKLE_MAX_HEIGHT][MERKLE_HASH_LEN];
};

/* Fill r with the empty range (size 0). */
void	merkle_range_init(struct merkle_range *r);
/*
 * Append one leaf hash (not the leaf's content: pass merkle_leaf_hash's
 * output). 0, or -EOVERFLOW when the range already holds UINT64_MAX leaves
 * (r is then unchanged).
 */
int	merkle_range_append(struct merkle_range *r,
	    const uint8_t leaf_hash[MERKLE_HASH_LEN]);
/* The root of the tree of r->size leaves; SHA-256("") when empty. */
void	merkle_range_root(const struct merkle_range *r,
	    uint8_t out[MERKLE_HASH_LEN]);

/*
 * Proof generation (RFC 9162 2.1.3.1 and 2.1.4.1) over the array of all n
 * leaf hashes. Each costs O(n) hashing (every sibling subtree is hashed
 * afresh; nothing is cached) and O(log n) stack.
 *
 * ret_proof is a caller-owned array of at least MERKLE_PROOF_MAX hashes;
 * on success the proof is in ret_proof[0 .. *ret_len - 1], lowest level
 * first. Nothing is allocated.
 *
 * merkle_inclusion_proof: PATH(index, D[n]). -EINVAL unless index < n.
 * merkle_consistency_proof: PROOF(m, D[n]) for 0 < m < n; m == n gives
 * the empty proof. -EINVAL unless 0 < m <= n.
 */
int	merkle_inclusion_proof(const uint8_t (*leaves)[MERKLE_HASH_LEN],
	    uint64_t n, uint64_t index, uint8_t (*ret_proof)[MERKLE_HASH_LEN],
	    size_t *ret_len);
int	merkle_consistency_proof(const uint8_t (*leaves)[MERKLE_HASH_LEN],
	    uint64_t n, uint64_t m, uint8_t (*ret_proof)[MERKLE_HASH_LEN],
	    size_t *ret_len);

/*
 * Verification, exactly the algorithms of RFC 9162 2.1.3.2 and 2.1.4.2.
 * Safe on any input: sizes up to UINT64_MAX, any proof_len (proof must
 * hold proof_len hashes; it may be NULL when proof_len is 0; at most 65
 * of them are read). Returns 0 when the proof holds, -EBADMSG when the
 * proof or a hash is wrong, -EINVAL when the sizes or the index cannot
 * describe a proof at all (or a required pointer is NULL).
 *
 * merkle_verify_inclusion: leaf_hash is at index in the tree of the given
 * size whose root is root. -EINVAL unless index < size.
 *
 * merkle_verify_consistency: the tree of size1 leaves with root1 is a
 * prefix of the tree of size2 leaves with root2. -EINVAL unless
 * 0 < size1 <= size2 (a proof from the empty tree proves nothing; the
 * RFC defines proofs for 0 < size1 < size2). size1 == size2 holds iff
 * the proof is empty and root1 == root2, as in Certificate Transparency
 * clients and transparency-dev/merkle; otherwise the RFC algorithm runs.
 */
int	merkle_verify_inclusion(uint64_t index, uint64_t size,
	    const uint8_t leaf_hash[MERKLE_HASH_LEN],
	    const uint8_t (*proof)[MERKLE_HASH_LEN], size_t proof_len,
	    const uint8_t root[MERKLE_HASH_LEN]);
int	merkle_verify_consistency(uint64_t size1, uint64_t size2,
	    const uint8_t (*proof)[MERKLE_HASH_LEN], size_t proof_len,
	    const uint8_t root1[MERKLE_HASH_LEN],
	    const uint8_t root2[MERKLE_HASH_LEN]);

#endif
