/*
 * test_merkle.c - the ledger's Merkle tree against RFC 6962 / RFC 9162:
 * the Certificate Transparency reference tree (8 leaves, roots of sizes
 * 1..8 from transparency-dev/merkle testonly/constants.go, checked with an
 * independent Python implementation of the RFC definitions); compact
 * ranges against the recursive root for every size up to 300; the
 * conformance vectors of transparency-dev/merkle committed in
 * tests/data/merkle/ (each must get its verdict, and every happy path is
 * mutated here - every bit of every proof hash, indices, sizes, garbage,
 * roots - and each mutation must be rejected); every inclusion and
 * consistency proof of seeded random trees up to 1000 leaves with their
 * mutations; and hostile input (sizes near UINT64_MAX, huge proof_len,
 * random proofs) that must be refused without a crash.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash.h"
#include "merkle.h"
#include "tap.h"
#include "util.h"

#define HLEN		MERKLE_HASH_LEN
#define DATA_DIR	"tests/data/merkle/"
#define VEC_PROOF_MAX	8		/* longest proof in the data files */
#define RAND_LEAVES	1000
#define CONS_ALL	300		/* every consistency proof up to here */
#define CONS_SAMPLE	100		/* then about this many per tree */
#define SEED		UINT64_C(0x5eed5a7c4a1e0001)

/* transparency-dev/merkle's sha256SomeHash: the "random" garbage hash. */
#define SOME_HASH \
	"abacaba000000000000000000000000000000000000000000060061e00123456"

/* The RFC 6962 test leaves used by Certificate Transparency. */
static const char *ref_leaf_hex[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};
/* Their leaf hashes (constants.go NodeHashes()[0]). */
static const char *ref_leaf_hash[8] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	"0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
	"07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
	"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	"4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
	"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
	"46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
};
/* MTH of the first n leaves, n = 0..8 (constants.go RootHashes()). */
static const char *ref_root[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static uint8_t ref_leaves[8][HLEN];
static uint8_t ref_roots[9][HLEN];
static uint8_t some_hash[HLEN];

/* Mutations generated in this file: how many, and how many got through. */
static long mut_count, mut_accepted;

/* xorshift64*: a fixed sequence for a fixed seed. */
static uint64_t rng_state = SEED;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode slen hex digits into out (room for max bytes); -1 on junk. */
static int
unhex(const char *s, size_t slen, uint8_t *out, size_t max, size_t *ret_len)
{
	size_t i;
	int hi, lo;

	if (slen % 2 != 0 || slen / 2 > max)
		return -1;
	for (i = 0; i < slen / 2; i++) {
		hi = hexval((unsigned char)s[2 * i]);
		lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*ret_len = slen / 2;
	return 0;
}

static void
unhex32(const char *s, uint8_t out[HLEN])
{
	size_t len = 0;

	if (unhex(s, strlen(s), out, HLEN, &len) != 0 || len != HLEN)
		abort();
}

static const char *
tohex(const uint8_t h[HLEN])
{
	static char buf[2 * HLEN + 1];

	util_hex(h, HLEN, buf);
	return buf;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Record a generated mutation; it must have been refused. */
static void
mutant(int rc, const char *what, const char *where)
{
	mut_count++;
	if (rc == -EBADMSG || rc == -EINVAL)
		return;
	if (mut_accepted++ < 10)
		printf("# mutation accepted (rc %d): %s of %s\n", rc, what,
		    where);
}

/* ---- reference tree ---------------------------------------------- */

static void
setup_reference(void)
{
	uint8_t data[16];
	size_t len;
	int i;

	for (i = 0; i < 8; i++) {
		if (unhex(ref_leaf_hex[i], strlen(ref_leaf_hex[i]), data,
		    sizeof(data), &len) != 0)
			abort();
		merkle_leaf_hash(data, len, ref_leaves[i]);
	}
	for (i = 0; i <= 8; i++)
		unhex32(ref_root[i], ref_roots[i]);
	unhex32(SOME_HASH, some_hash);
}

static void
test_reference_tree(void)
{
	struct merkle_range r;
	uint8_t h[HLEN], l[HLEN];
	int i;

	for (i = 0; i < 8; i++)
		is_str(tohex(ref_leaves[i]), ref_leaf_hash[i],
		    "leaf hash of RFC 6962 test leaf %d ('%s')", i,
		    ref_leaf_hex[i]);
	merkle_root(NULL, 0, h);
	is_str(tohex(h), ref_root[0], "empty tree root is SHA-256(\"\")");
	merkle_range_init(&r);
	merkle_range_root(&r, h);
	is_str(tohex(h), ref_root[0], "empty range root is SHA-256(\"\")");
	for (i = 1; i <= 8; i++) {
		merkle_root(ref_leaves, (uint64_t)i, h);
		is_str(tohex(h), ref_root[i], "reference root, size %d", i);
		is_int(merkle_range_append(&r, ref_leaves[i - 1]), 0,
		    "range append, size %d", i);
		merkle_range_root(&r, h);
		is_str(tohex(h), ref_root[i], "range root, size %d", i);
	}
	is_int(r.size, 8, "range size after 8 appends");

	/* node hash = SHA-256(0x01 || l || r): root of 2 from its leaves */
	merkle_node_hash(ref_leaves[0], ref_leaves[1], h);
	is_str(tohex(h), ref_root[2], "node(leaf 0, leaf 1) is the root of 2");
	/* leaf hash of "" is SHA-256(0x00) */
	merkle_leaf_hash(NULL, 0, l);
	hash_sha256("\0", 1, h);
	ok(memcmp(h, l, HLEN) == 0, "leaf hash of empty data is SHA-256(00)");
}

/* ---- compact ranges ----------------------------------------------- */

static void
test_range(void)
{
	uint8_t leaves[300][HLEN], a[HLEN], b[HLEN];
	struct merkle_range r, saved;
	uint64_t n;
	size_t bad = 0;

	for (n = 0; n < 300; n++)
		hash_sha256(&n, sizeof(n), leaves[n]);
	merkle_range_init(&r);
	for (n = 0; n <= 300; n++) {
		merkle_range_root(&r, a);
		merkle_root(leaves, n, b);
		if (memcmp(a, b, HLEN) != 0 || r.size != n) {
			if (bad++ < 5)
				printf("# range root differs at n = %" PRIu64
				    "\n", n);
		}
		if (n < 300 && merkle_range_append(&r, leaves[n]) != 0)
			bad++;
	}
	is_int(bad, 0, "merkle_range root == merkle_root for n = 0..300");

	/* The range is full at UINT64_MAX leaves; appending must refuse. */
	memset(&r, 0xab, sizeof(r));
	r.size = UINT64_MAX;
	saved = r;
	is_int(merkle_range_append(&r, leaves[0]), -EOVERFLOW,
	    "append to a range of UINT64_MAX leaves: -EOVERFLOW");
	ok(memcmp(&r, &saved, sizeof(r)) == 0, "full range left unchanged");
	/* Its root folds the 64 subtree roots right to left. */
	merkle_range_root(&r, a);
	memcpy(b, r.nodes[63], HLEN);
	for (n = 63; n-- > 0;)
		merkle_node_hash(r.nodes[n], b, b);
	ok(memcmp(a, b, HLEN) == 0, "root of a range of UINT64_MAX leaves");
}

/* ---- committed conformance vectors -------------------------------- */

/*
 * One line of tests/data/merkle/{inclusion,consistency}.txt. a, b are
 * (leaf index, tree size) or (size1, size2); h1, h2 are (leaf hash, root)
 * or (root1, root2), with their decoded lengths.
 */
struct vec {
	int	want_ok;
	uint64_t	a, b;
	uint8_t	h1[HLEN], h2[HLEN];
	size_t	h1len, h2len;
	uint8_t	proof[VEC_PROOF_MAX][HLEN];
	size_t	plen[VEC_PROOF_MAX];
	size_t	nproof;
	char	name[128];
};

static int
parse_u64(const char *s, size_t len, uint64_t *ret_v)
{
	char buf[32], *end;
	unsigned long long v;

	if (len == 0 || len >= sizeof(buf) || s[0] < '0' || s[0] > '9')
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*ret_v = v;
	return 0;
}

/*
 * A value that is not 32 bytes ("", "WrongRoot", "don't care 1") is kept
 * as raw bytes, right-padded with zeros (see README.md).
 */
static int
parse_hash(const char *s, size_t len, uint8_t out[HLEN], size_t *ret_len)
{
	memset(out, 0, HLEN);
	return unhex(s, len, out, HLEN, ret_len);
}

/* Parse "want|a|b|h1|h2|nproof|p0,p1,...|name"; -1 on a malformed line. */
static int
parse_vec(const char *line, struct vec *v)
{
	const char *f[8], *p, *e;
	size_t fl[8], i, n;
	uint64_t np;

	p = line;
	for (i = 0; i < 8; i++) {
		e = strchr(p, i == 7 ? '\n' : '|');
		if (e == NULL && i == 7)
			e = p + strlen(p);
		if (e == NULL)
			return -1;
		f[i] = p;
		fl[i] = (size_t)(e - p);
		p = e + 1;
	}
	memset(v, 0, sizeof(*v));
	if (fl[0] == 2 && strncmp(f[0], "ok", 2) == 0)
		v->want_ok = 1;
	else if (!(fl[0] == 3 && strncmp(f[0], "err", 3) == 0))
		return -1;
	if (parse_u64(f[1], fl[1], &v->a) != 0 ||
	    parse_u64(f[2], fl[2], &v->b) != 0 ||
	    parse_hash(f[3], fl[3], v->h1, &v->h1len) != 0 ||
	    parse_hash(f[4], fl[4], v->h2, &v->h2len) != 0 ||
	    parse_u64(f[5], fl[5], &np) != 0 || np > VEC_PROOF_MAX ||
	    fl[7] == 0 || fl[7] >= sizeof(v->name))
		return -1;
	v->nproof = (size_t)np;
	p = f[6];
	for (i = 0; i < v->nproof; i++) {
		e = memchr(p, ',', (size_t)(f[6] + fl[6] - p));
		n = e != NULL ? (size_t)(e - p) : (size_t)(f[6] + fl[6] - p);
		if ((e == NULL) != (i == v->nproof - 1) ||
		    parse_hash(p, n, v->proof[i], &v->plen[i]) != 0)
			return -1;
		p += n + 1;
	}
	if (v->nproof == 0 && fl[6] != 0)
		return -1;
	memcpy(v->name, f[7], fl[7]);
	return 0;
}

static int
vec_inclusion(const struct vec *v, const uint8_t (*proof)[HLEN], size_t len)
{
	return merkle_verify_inclusion(v->a, v->b, v->h1, proof, len, v->h2);
}

static int
vec_consistency(const struct vec *v, const uint8_t (*proof)[HLEN],
    size_t len)
{
	return merkle_verify_consistency(v->a, v->b, proof, len, v->h1,
	    v->h2);
}

/*
 * Mutate a happy path every way that must fail: every bit of every proof
 * hash, each component removed, a garbage hash inserted at every
 * position, the roots and the leaf wrong, the indices and sizes wrong.
 */
static void
mutate_inclusion(const struct vec *v)
{
	/* (index, size): index - 1, + 1, ^ 2; size * 2, / 2 */
	const uint64_t as[] = { v->a - 1, v->a + 1, v->a ^ 2, v->a, v->a };
	const uint64_t bs[] = { v->b, v->b, v->b, v->b * 2, v->b / 2 };
	uint8_t p[VEC_PROOF_MAX + 1][HLEN], leaf[HLEN], root[HLEN];
	struct vec w;
	size_t i, j, bit;

	memcpy(p, v->proof, v->nproof * HLEN);
	for (i = 0; i < v->nproof; i++)
		for (bit = 0; bit < 8 * HLEN; bit++) {
			p[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
			mutant(vec_inclusion(v, p, v->nproof), "bit flip",
			    v->name);
			p[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
	for (i = 0; i < v->nproof; i++) {	/* remove component i */
		memcpy(p, v->proof, i * HLEN);
		memcpy(p[i], v->proof[i + 1], (v->nproof - i - 1) * HLEN);
		mutant(vec_inclusion(v, p, v->nproof - 1), "removed",
		    v->name);
	}
	for (i = 0; i <= v->nproof; i++) {	/* insert garbage at i */
		for (j = 0; j < v->nproof; j++)
			memcpy(p[j < i ? j : j + 1], v->proof[j], HLEN);
		memcpy(p[i], some_hash, HLEN);
		mutant(vec_inclusion(v, p, v->nproof + 1), "inserted",
		    v->name);
		memcpy(p[i], v->h2, HLEN);	/* the root as a component */
		mutant(vec_inclusion(v, p, v->nproof + 1), "inserted root",
		    v->name);
	}
	memcpy(leaf, v->h1, HLEN);
	leaf[HLEN - 1] ^= 1;
	mutant(merkle_verify_inclusion(v->a, v->b, leaf, v->proof, v->nproof,
	    v->h2), "wrong leaf", v->name);
	memcpy(root, v->h2, HLEN);
	root[0] ^= 0x80;
	mutant(merkle_verify_inclusion(v->a, v->b, v->h1, v->proof,
	    v->nproof, root), "wrong root", v->name);
	mutant(merkle_verify_inclusion(v->a, v->b, v->h1, v->proof,
	    v->nproof, ref_roots[0]), "empty root", v->name);
	mutant(merkle_verify_inclusion(v->a, v->b, v->h1, v->proof,
	    v->nproof, some_hash), "random root", v->name);
	w = *v;
	for (i = 0; i < ARRAY_SIZE(as); i++) {
		w.a = as[i];
		w.b = bs[i];
		mutant(vec_inclusion(&w, w.proof, w.nproof), "index/size",
		    v->name);
	}
}

static void
mutate_consistency(const struct vec *v)
{
	/* (size1, size2): size1 - 1, + 1, ^ 2; size2 * 2, / 2 */
	const uint64_t as[] = { v->a - 1, v->a + 1, v->a ^ 2, v->a, v->a };
	const uint64_t bs[] = { v->b, v->b, v->b, v->b * 2, v->b / 2 };
	uint8_t p[VEC_PROOF_MAX + 1][HLEN];
	struct vec w;
	size_t i, j, bit;

	memcpy(p, v->proof, v->nproof * HLEN);
	for (i = 0; i < v->nproof; i++)
		for (bit = 0; bit < 8 * HLEN; bit++) {
			p[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
			mutant(vec_consistency(v, p, v->nproof), "bit flip",
			    v->name);
			p[i][bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
	for (i = 0; i < v->nproof; i++) {
		memcpy(p, v->proof, i * HLEN);
		memcpy(p[i], v->proof[i + 1], (v->nproof - i - 1) * HLEN);
		mutant(vec_consistency(v, p, v->nproof - 1), "removed",
		    v->name);
	}
	for (i = 0; i <= v->nproof; i++) {
		for (j = 0; j < v->nproof; j++)
			memcpy(p[j < i ? j : j + 1], v->proof[j], HLEN);
		memcpy(p[i], some_hash, HLEN);
		mutant(vec_consistency(v, p, v->nproof + 1), "inserted",
		    v->name);
		memcpy(p[i], v->h1, HLEN);
		mutant(vec_consistency(v, p, v->nproof + 1), "inserted root1",
		    v->name);
		memcpy(p[i], v->h2, HLEN);
		mutant(vec_consistency(v, p, v->nproof + 1), "inserted root2",
		    v->name);
	}
	w = *v;
	w.h1[0] ^= 1;
	mutant(vec_consistency(&w, w.proof, w.nproof), "wrong root1",
	    v->name);
	w = *v;
	w.h2[HLEN - 1] ^= 0x40;
	mutant(vec_consistency(&w, w.proof, w.nproof), "wrong root2",
	    v->name);
	if (memcmp(v->h1, v->h2, HLEN) != 0) {
		w = *v;
		memcpy(w.h1, v->h2, HLEN);
		memcpy(w.h2, v->h1, HLEN);
		mutant(vec_consistency(&w, w.proof, w.nproof), "swapped roots",
		    v->name);
	}
	if (v->nproof > 0)
		mutant(vec_consistency(v, NULL, 0), "empty proof", v->name);
	w = *v;
	for (i = 0; i < ARRAY_SIZE(as); i++) {
		w.a = as[i];
		w.b = bs[i];
		mutant(vec_consistency(&w, w.proof, w.nproof), "size",
		    v->name);
	}
}

/*
 * A happy path of the reference tree must also be what this module
 * generates: same hashes, same order.
 */
static void
regenerate(int inclusion, const struct vec *v)
{
	uint8_t proof[MERKLE_PROOF_MAX][HLEN];
	size_t len = 0;
	int rc;

	if (v->b > 8 || memcmp(v->h2, ref_roots[v->b], HLEN) != 0)
		return;
	if (inclusion)
		rc = merkle_inclusion_proof(ref_leaves, v->b, v->a, proof,
		    &len);
	else
		rc = merkle_consistency_proof(ref_leaves, v->b, v->a, proof,
		    &len);
	ok(rc == 0 && len == v->nproof &&
	    memcmp(proof, v->proof, len * HLEN) == 0,
	    "%s: generated proof equals the vector's", v->name);
}

static void
test_vectors(int inclusion)
{
	const char *path = inclusion ? DATA_DIR "inclusion.txt" :
	    DATA_DIR "consistency.txt";
	long total = 0, good = 0, bad = 0, decode_rejects = 0, m0;
	char *line = NULL;
	size_t cap = 0, i;
	struct vec v;
	FILE *f;
	int rc;

	f = fopen(path, "re");
	ok(f != NULL, "open %s", path);
	if (f == NULL)
		return;
	m0 = mut_count;
	while (getline(&line, &cap, f) > 0) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (parse_vec(line, &v) != 0) {
			ok(0, "parse %s line: %s", path, line);
			continue;
		}
		total++;
		if (v.want_ok)
			good++;
		else
			bad++;
		/*
		 * The leaf hash must be exactly 32 bytes (the Go verifier
		 * refuses it otherwise; here the type cannot carry it):
		 * such a vector is refused while decoding.
		 */
		if (inclusion && v.h1len != HLEN) {
			decode_rejects++;
			ok(!v.want_ok, "%s: refused (leaf hash is %zu bytes)",
			    v.name, v.h1len);
			continue;
		}
		rc = inclusion ? vec_inclusion(&v, v.proof, v.nproof) :
		    vec_consistency(&v, v.proof, v.nproof);
		if (v.want_ok)
			is_int(rc, 0, "%s: verifies", v.name);
		else
			ok(rc == -EBADMSG || rc == -EINVAL,
			    "%s: refused (rc %d)", v.name, rc);
		if (!v.want_ok)
			continue;
		/* happy paths are well formed */
		for (i = 0; i < v.nproof; i++)
			if (v.plen[i] != HLEN)
				abort();
		if (inclusion)
			mutate_inclusion(&v);
		else
			mutate_consistency(&v);
		regenerate(inclusion, &v);
	}
	free(line);
	fclose(f);
	printf("# %s: %ld committed vectors (%ld valid, %ld invalid, %ld of "
	    "them refused when decoding); %ld mutations generated\n", path,
	    total, good, bad, decode_rejects, mut_count - m0);
	is_int(total, 98, "%s: all 98 vectors read", path);
	is_int(good, 6, "%s: 6 valid vectors", path);
}

/* ---- random trees -------------------------------------------------- */

static size_t
bitlen(uint64_t x)
{
	return x == 0 ? 0 : 64 - (size_t)__builtin_clzll(x);
}

/* Length of PATH(i, D[n]) (transparency-dev/merkle decompInclProof). */
static size_t
inclusion_len(uint64_t i, uint64_t n)
{
	size_t inner = bitlen(i ^ (n - 1));

	return inner + (size_t)__builtin_popcountll(inner >= 64 ? 0 :
	    i >> inner);
}

/* Flip one random bit. */
static void
flip(uint8_t h[HLEN])
{
	uint64_t bit = rng() % (8 * HLEN);

	h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

static void
random_inclusion(const uint8_t (*leaves)[HLEN], const uint8_t (*roots)[HLEN],
    uint64_t n, long *proofs, long *failures)
{
	uint8_t proof[MERKLE_PROOF_MAX][HLEN], p[MERKLE_PROOF_MAX][HLEN];
	uint8_t leaf[HLEN];
	char where[64];
	size_t len = 0, k;
	uint64_t i;
	int rc;

	for (i = 0; i < n; i++) {
		snprintf(where, sizeof(where), "inclusion %" PRIu64 " in %"
		    PRIu64, i, n);
		rc = merkle_inclusion_proof(leaves, n, i, proof, &len);
		(*proofs)++;
		if (rc != 0 || len != inclusion_len(i, n) ||
		    merkle_verify_inclusion(i, n, leaves[i], proof, len,
		    roots[n]) != 0) {
			if ((*failures)++ < 5)
				printf("# %s: rc %d len %zu\n", where, rc, len);
			continue;
		}
		for (k = 0; k < len; k++) {
			memcpy(p, proof, len * HLEN);
			flip(p[k]);
			mutant(merkle_verify_inclusion(i, n, leaves[i], p, len,
			    roots[n]), "bit flip", where);
		}
		memcpy(leaf, leaves[i], HLEN);
		flip(leaf);
		mutant(merkle_verify_inclusion(i, n, leaf, proof, len,
		    roots[n]), "wrong leaf", where);
		mutant(merkle_verify_inclusion(i, n, leaves[i], proof, len,
		    roots[n - 1]), "previous root", where);
		mutant(merkle_verify_inclusion(i - 1, n, leaves[i], proof, len,
		    roots[n]), "index - 1", where);
		mutant(merkle_verify_inclusion(i + 1, n, leaves[i], proof, len,
		    roots[n]), "index + 1", where);
		mutant(merkle_verify_inclusion(i ^ 2, n, leaves[i], proof, len,
		    roots[n]), "index ^ 2", where);
		mutant(merkle_verify_inclusion(i, n * 2, leaves[i], proof, len,
		    roots[n]), "size * 2", where);
		mutant(merkle_verify_inclusion(i, n / 2, leaves[i], proof, len,
		    roots[n]), "size / 2", where);
		if (len > 0)
			mutant(merkle_verify_inclusion(i, n, leaves[i], proof,
			    len - 1, roots[n]), "truncated", where);
		memcpy(proof[len], some_hash, HLEN);
		mutant(merkle_verify_inclusion(i, n, leaves[i], proof, len + 1,
		    roots[n]), "trailing garbage", where);
		memcpy(p[0], some_hash, HLEN);
		memcpy(p[1], proof, len * HLEN);
		mutant(merkle_verify_inclusion(i, n, leaves[i], p, len + 1,
		    roots[n]), "preceding garbage", where);
	}
}

/*
 * Which old sizes m to prove consistent with n: all of them up to
 * CONS_ALL leaves; beyond, the first and last few, every power of two and
 * CONS_SAMPLE seeded ones (each proof costs O(n) hashing).
 */
static int
pick_m(uint64_t m, uint64_t n)
{
	if (n <= CONS_ALL || m <= 8 || m + 8 >= n || (m & (m - 1)) == 0)
		return 1;
	return rng() % (n - 16) < CONS_SAMPLE;
}

static void
random_consistency(const uint8_t (*leaves)[HLEN],
    const uint8_t (*roots)[HLEN], uint64_t n, long *proofs, long *failures)
{
	uint8_t proof[MERKLE_PROOF_MAX][HLEN], p[MERKLE_PROOF_MAX][HLEN];
	uint8_t root[HLEN];
	char where[64];
	size_t len = 0, k;
	uint64_t m;
	int rc;

	for (m = 1; m <= n; m++) {
		if (!pick_m(m, n))
			continue;
		snprintf(where, sizeof(where), "consistency %" PRIu64 " -> %"
		    PRIu64, m, n);
		rc = merkle_consistency_proof(leaves, n, m, proof, &len);
		(*proofs)++;
		if (rc != 0 || (m == n && len != 0) ||
		    merkle_verify_consistency(m, n, proof, len, roots[m],
		    roots[n]) != 0) {
			if ((*failures)++ < 5)
				printf("# %s: rc %d len %zu\n", where, rc, len);
			continue;
		}
		memcpy(root, roots[m], HLEN);
		flip(root);
		mutant(merkle_verify_consistency(m, n, proof, len, root,
		    roots[n]), "wrong root1", where);
		memcpy(root, roots[n], HLEN);
		flip(root);
		mutant(merkle_verify_consistency(m, n, proof, len, roots[m],
		    root), "wrong root2", where);
		memcpy(proof[len], some_hash, HLEN);
		mutant(merkle_verify_consistency(m, n, proof, len + 1,
		    roots[m], roots[n]), "trailing garbage", where);
		if (m == n)
			continue;
		for (k = 0; k < len; k++) {
			memcpy(p, proof, len * HLEN);
			flip(p[k]);
			mutant(merkle_verify_consistency(m, n, p, len,
			    roots[m], roots[n]), "bit flip", where);
		}
		mutant(merkle_verify_consistency(m, n, proof, len, roots[n],
		    roots[m]), "swapped roots", where);
		mutant(merkle_verify_consistency(m - 1, n, proof, len,
		    roots[m], roots[n]), "size1 - 1", where);
		mutant(merkle_verify_consistency(m + 1, n, proof, len,
		    roots[m], roots[n]), "size1 + 1", where);
		mutant(merkle_verify_consistency(m ^ 2, n, proof, len,
		    roots[m], roots[n]), "size1 ^ 2", where);
		mutant(merkle_verify_consistency(m, n * 2, proof, len,
		    roots[m], roots[n]), "size2 * 2", where);
		mutant(merkle_verify_consistency(m, n / 2, proof, len,
		    roots[m], roots[n]), "size2 / 2", where);
		mutant(merkle_verify_consistency(m, n, proof, len - 1,
		    roots[m], roots[n]), "truncated", where);
		mutant(merkle_verify_consistency(m, n, NULL, 0, roots[m],
		    roots[n]), "empty proof", where);
		memcpy(p[0], proof[0], HLEN);
		memcpy(p[1], proof, len * HLEN);
		mutant(merkle_verify_consistency(m, n, p, len + 1, roots[m],
		    roots[n]), "preceding proof[0]", where);
		memcpy(p[0], roots[m], HLEN);
		mutant(merkle_verify_consistency(m, n, p, len + 1, roots[m],
		    roots[n]), "preceding root1", where);
	}
}

static void
test_random_trees(void)
{
	static uint8_t leaves[RAND_LEAVES][HLEN];
	static uint8_t roots[RAND_LEAVES + 1][HLEN];
	uint64_t sizes[80], v, n;
	size_t nsizes = 0, i;
	long incl = 0, cons = 0, fail = 0, m0 = mut_count;
	struct merkle_range r;
	uint8_t h[HLEN];
	double t0 = now();

	for (i = 0; i < RAND_LEAVES; i++) {
		v = rng();
		merkle_leaf_hash(&v, sizeof(v), leaves[i]);
	}
	merkle_range_init(&r);
	merkle_range_root(&r, roots[0]);
	for (i = 0; i < RAND_LEAVES; i++) {
		merkle_range_append(&r, leaves[i]);
		merkle_range_root(&r, roots[i + 1]);
	}
	merkle_root(leaves, RAND_LEAVES, h);
	ok(memcmp(h, roots[RAND_LEAVES], HLEN) == 0,
	    "random tree: merkle_root == range root at %d leaves",
	    RAND_LEAVES);

	/*
	 * Every size up to 64, 255..257 around a power of two, 1000, and a
	 * few seeded sizes in between; every inclusion proof of each.
	 */
	for (n = 1; n <= 64; n++)
		sizes[nsizes++] = n;
	sizes[nsizes++] = 255;
	sizes[nsizes++] = 256;
	sizes[nsizes++] = 257;
	sizes[nsizes++] = RAND_LEAVES;
	for (i = 0; i < 3; i++)
		sizes[nsizes++] = 65 + rng() % (700 - 65);

	for (i = 0; i < nsizes; i++) {
		random_inclusion(leaves, roots, sizes[i], &incl, &fail);
		random_consistency(leaves, roots, sizes[i], &cons, &fail);
	}
	printf("# random trees: %zu sizes (1..64, 255..257, %d, and %" PRIu64
	    ", %" PRIu64 ", %" PRIu64 "), %ld inclusion and %ld consistency "
	    "proofs, %ld mutations, %.2f s\n", nsizes, RAND_LEAVES,
	    sizes[nsizes - 3], sizes[nsizes - 2], sizes[nsizes - 1], incl, cons,
	    mut_count - m0, now() - t0);
	is_int(fail, 0, "random trees: every generated proof verifies "
	    "(%ld inclusion, %ld consistency)", incl, cons);
}

/* ---- hostile input ------------------------------------------------- */

static int
random_verify(uint8_t (*proof)[HLEN], size_t cap)
{
	static const uint64_t edge[] = { 0, 1, 2, 3, 7, 8, 9,
	    UINT64_C(1) << 32, (UINT64_C(1) << 63) - 1, UINT64_C(1) << 63,
	    (UINT64_C(1) << 63) + 1, UINT64_MAX - 2, UINT64_MAX - 1,
	    UINT64_MAX };
	uint64_t	a, b;
	size_t len, i;

	a = rng() % 3 == 0 ? edge[rng() % ARRAY_SIZE(edge)] : rng() >>
	    (rng() % 64);
	b = rng() % 3 == 0 ? edge[rng() % ARRAY_SIZE(edge)] : rng() >>
	    (rng() % 64);
	len = rng() % 4 == 0 ? cap : (size_t)(rng() % 70);
	for (i = 0; i < len && i < 70; i++)
		hash_sha256(&a, sizeof(a) - i % 8, proof[i]);
	if (rng() & 1)
		return merkle_verify_inclusion(a, b, proof[1], proof, len,
		    proof[0]);
	return merkle_verify_consistency(a, b, proof, len, proof[0],
	    proof[1]);
}

static void
test_hostile(void)
{
	enum { BIG = 100000 };
	uint8_t (*big)[HLEN];
	uint8_t proof[MERKLE_PROOF_MAX][HLEN], h[HLEN];
	size_t len, i, other = 0, accepted = 0;
	int rc;

	big = calloc(BIG, HLEN);
	if (big == NULL)
		abort();
	for (i = 0; i < MERKLE_PROOF_MAX; i++)
		hash_sha256(&i, sizeof(i), proof[i]);
	memcpy(h, proof[0], HLEN);

	/* sizes at the top of the range */
	is_int(merkle_verify_inclusion(UINT64_MAX - 1, UINT64_MAX, h, proof,
	    64, h), -EBADMSG, "inclusion: last leaf of UINT64_MAX, junk");
	is_int(merkle_verify_inclusion(0, UINT64_MAX, h, proof, 64, h),
	    -EBADMSG, "inclusion: first leaf of UINT64_MAX, junk");
	is_int(merkle_verify_inclusion(UINT64_MAX, UINT64_MAX, h, proof, 64,
	    h), -EINVAL, "inclusion: index == size == UINT64_MAX");
	is_int(merkle_verify_consistency(UINT64_MAX - 1, UINT64_MAX, proof,
	    65, h, h), -EBADMSG, "consistency: UINT64_MAX - 1 -> max, junk");
	is_int(merkle_verify_consistency(UINT64_C(1) << 63, UINT64_MAX, proof,
	    64, h, h), -EBADMSG, "consistency: 2^63 -> max, junk");
	is_int(merkle_verify_consistency(UINT64_MAX, UINT64_MAX, NULL, 0, h,
	    h), 0, "consistency: max -> max, empty proof, same root");
	is_int(merkle_verify_consistency(UINT64_MAX, UINT64_MAX - 1, NULL, 0,
	    h, h), -EINVAL, "consistency: size1 > size2");
	is_int(merkle_verify_consistency(0, 0, NULL, 0, ref_roots[0],
	    ref_roots[0]), -EINVAL, "consistency: from the empty tree");

	/* proof_len far beyond any real proof */
	memset(big, 0x5a, (size_t)BIG * HLEN);
	is_int(merkle_verify_inclusion(0, UINT64_MAX, h, big, BIG, h),
	    -EBADMSG, "inclusion: proof_len %d", BIG);
	is_int(merkle_verify_inclusion(3, 4, h, big, SIZE_MAX, h), -EBADMSG,
	    "inclusion: proof_len SIZE_MAX");
	is_int(merkle_verify_consistency(1, UINT64_MAX, big, BIG, h, h),
	    -EBADMSG, "consistency: proof_len %d", BIG);
	is_int(merkle_verify_consistency(3, 4, big, SIZE_MAX, h, h), -EBADMSG,
	    "consistency: proof_len SIZE_MAX");
	is_int(merkle_verify_consistency(3, 4, big, 66, h, h), -EBADMSG,
	    "consistency: proof_len 66");
	free(big);

	/* NULL where a hash is required */
	is_int(merkle_verify_inclusion(0, 1, h, NULL, 1, h), -EINVAL,
	    "inclusion: NULL proof with proof_len 1");
	is_int(merkle_verify_inclusion(0, 1, NULL, NULL, 0, h), -EINVAL,
	    "inclusion: NULL leaf hash");
	is_int(merkle_verify_inclusion(0, 1, h, NULL, 0, h), 0,
	    "inclusion: NULL proof with proof_len 0 (single leaf)");
	is_int(merkle_verify_consistency(1, 2, NULL, 3, h, h), -EINVAL,
	    "consistency: NULL proof with proof_len 3");
	is_int(merkle_verify_consistency(1, 2, proof, 1, NULL, h), -EINVAL,
	    "consistency: NULL root1");

	/* generation refuses impossible requests and leaves *ret_len */
	len = 777;
	is_int(merkle_inclusion_proof(ref_leaves, 8, 8, proof, &len), -EINVAL,
	    "generate inclusion: index == n");
	is_int(merkle_inclusion_proof(ref_leaves, 0, 0, proof, &len), -EINVAL,
	    "generate inclusion: empty tree");
	is_int(merkle_consistency_proof(ref_leaves, 8, 0, proof, &len),
	    -EINVAL, "generate consistency: m == 0");
	is_int(merkle_consistency_proof(ref_leaves, 7, 8, proof, &len),
	    -EINVAL, "generate consistency: m > n");
	is_int(len, 777, "ret_len untouched on error");
	is_int(merkle_consistency_proof(ref_leaves, 8, 8, proof, &len), 0,
	    "generate consistency: m == n");
	is_int(len, 0, "m == n: empty proof");

	/* random junk: never accepted, only -EBADMSG or -EINVAL */
	for (i = 0; i < 20000; i++) {
		rc = random_verify(proof, MERKLE_PROOF_MAX);
		if (rc == 0)
			accepted++;
		else if (rc != -EBADMSG && rc != -EINVAL)
			other++;
	}
	is_int(accepted, 0, "random proofs: none of 20000 accepted");
	is_int(other, 0, "random proofs: only -EBADMSG / -EINVAL");
}

int
main(void)
{
	double t0 = now();

	setup_reference();
	test_reference_tree();
	test_range();
	test_vectors(1);
	test_vectors(0);
	test_random_trees();
	test_hostile();
	printf("# %ld generated mutations, %ld accepted\n", mut_count,
	    mut_accepted);
	is_int(mut_accepted, 0, "every generated mutation refused (%ld)",
	    mut_count);
	printf("# total %.2f s\n", now() - t0);
	return tap_done();
}
