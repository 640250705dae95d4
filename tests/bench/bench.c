/*
 * bench.c - archiving throughput and memory, against the bare cost of the
 * same bytes.
 *
 *	bench [-n N] [-p PAGE] [-d DIR] [--keep]
 *
 * N synthetic item versions (default 100000; Facebook-comment-like JSON:
 * text of 50-400 characters, author {id, name}, created, parent, media)
 * come from a seeded PRNG, so every run and both passes below see exactly
 * the same items. Generation (building the JSON with Jansson and
 * record_canonical()) is done CHUNK versions at a time with the clock
 * stopped, so neither pass measures it, and only one chunk of canonical
 * strings is in memory at any time.
 *
 * Pass 1, bare: SHA-256 (hash_sha256) plus one gzip member
 * (compress_gzip, into a reused buffer) of each canonical string.
 * Pass 1b (breakdown only, not a target): the same versions turned into
 * WARC members as store_add() does, without the write or the index.
 *
 * Pass 2, archive: the real path of capture_item() for a new item, on a
 * fresh store in a mkdtemp directory under DIR (default $TMPDIR or /tmp):
 * index_item_get (unknown), the content hash of the canonical JSON (the
 * SHA-256 record_canonical() computes), record_meta_init(REC_VERSION) and
 * its fields, store_add (WARC record, gzip member, append, index in the
 * batch transaction), index_item_get again for the new row, and
 * index_item_seen. Every PAGE versions (one API page; default 25, the
 * Graph API's default page size) store_commit makes
 * the batch durable: one fdatasync of the segment, then one index
 * transaction commit (WAL, synchronous=FULL). The timed loop includes the
 * final commit. Not included: the request/response records the daemon
 * also writes for each page, media downloads, events.
 *
 * Peak RSS is getrusage(RUSAGE_SELF).ru_maxrss: the high-water mark of
 * the whole process, nothing subtracted. It is read before the archive
 * pass (generator + one chunk + zlib/OpenSSL) and after it
 * (that plus the store: SQLite page cache, WAL index, prepared
 * statements, scratch buffers); the target applies to the latter.
 *
 * Search (run_search() below): p50/p95 of "sunarchive search" through the
 * query module on a synthetic index of a million items, target p95 under
 * 100 ms.
 *
 * Always exits 0 once it has run: targets are reported "ok" or "MISSED".
 */
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "buf.h"
#include "compress.h"
#include "export.h"
#include "hash.h"
#include "index.h"
#include "ledger.h"
#include "query.h"
#include "record.h"
#include "redact.h"
#include "store.h"
#include "util.h"
#include "xalloc.h"

#define DEFAULT_N	100000L
#define DEFAULT_PAGE	25	/* versions per API page = per batch */
#define CHUNK		1000	/* versions generated per untimed step */
#define SEED		0x53554e4142454e43ULL	/* "SUNABENC" */
#define NAUTHORS	4096
#define ACCOUNT		"bench-city"
#define PLATFORM	"facebook"
#define PAGE_ID		"104857600123"
#define TARGET_RATIO	50.0	/* percent of bare throughput */
#define TARGET_RSS_MIB	64.0
#define TARGET_READY_S	5.0	/* restart-to-ready, 1 GiB open segment */
#define MEDIA_BLOCK	(64 * 1024)

static long page = DEFAULT_PAGE;

/* ---- deterministic synthetic items ---------------------------------- */

struct gen {
	uint64_t	 s;		/* splitmix64 state */
	uint64_t	 post;		/* current post number */
	uint64_t	 comment;	/* comment counter */
	char		 post_id[40];
	char		 last_comment[40];	/* "" = none yet in this post */
	int64_t		 clock;
	char		 author_id[NAUTHORS][24];
	char		 author_name[NAUTHORS][40];
};

struct item {
	char		 id[40];
	char		 parent[40];
	char		 root[40];
	char		 url[96];
	const char	*kind;
	const char	*author;	/* into struct gen */
	const char	*author_id;
	int64_t		 created;
	char		*text;		/* m.text, as capture takes it */
	char		*canon;		/* canonical content JSON */
	size_t		 canon_len;
};

static const char *first_names[] = {
	"Maria", "James", "Aiyana", "Chen", "Fatima", "Olu", "Sofia",
	"Liam", "Noa", "Dmitri", "Priya", "Jos\xc3\xa9", "Ngozi", "Emma",
	"Hiroshi", "Zo\xc3\xab", "Mateo", "Anika", "Kwame", "Ingrid",
	"Luis", "Mei", "Tom\xc3\xa1s", "Sam",
};

static const char *last_names[] = {
	"Garcia", "Smith", "Begay", "Nguyen", "Okafor", "Kowalski",
	"Johansson", "M\xc3\xbcller", "Patel", "O'Brien", "Rossi", "Tanaka",
	"Haddad", "Ivanova", "Dubois", "Mendoza", "Walker", "Lee",
	"Silva", "Novak",
};

static const char *words[] = {
	"the", "city", "council", "meeting", "tonight", "about", "parking",
	"on", "Main", "Street", "is", "a", "disgrace", "thank", "you",
	"for", "fixing", "pothole", "near", "library", "when", "will",
	"buses", "run", "again", "snow", "removal", "budget", "park",
	"water", "main", "break", "mayor", "please", "answer", "why",
	"trash", "pickup", "delayed", "great", "job", "crews", "road",
	"closure", "detour", "permit", "zoning", "hearing", "public",
	"comment", "agenda", "item", "vote", "neighborhood", "sidewalk",
	"bike", "lane", "school", "crossing", "guard", "festival",
	"fireworks", "noise", "complaint", "311", "report", "online",
	"form", "broken", "streetlight", "tree", "permit", "fee", "tax",
	"increase", "\"unacceptable\"", "caf\xc3\xa9", "recycling", "bin",
	"downtown", "development", "affordable", "housing", "rent",
	"\xf0\x9f\x91\x8d", "\xf0\x9f\x98\xa1", "@CityHall", "#budget2026",
	"https://example.org/agenda", "and", "or", "but", "not", "this",
	"that", "we", "they", "our", "my", "every", "year", "again!",
	"really?", "(see", "attached)", "3rd", "Ave", "&", "5th", "St.",
};

static uint64_t
gen_next(struct gen *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform-enough integer in [0, n). */
static uint32_t
gen_below(struct gen *g, uint32_t n)
{
	return (uint32_t)((gen_next(g) >> 32) % n);
}

static void
gen_init(struct gen *g)
{
	size_t i;

	memset(g, 0, sizeof(*g));
	g->s = SEED;
	g->clock = 1767225600;	/* 2026-01-01T00:00:00Z */
	for (i = 0; i < NAUTHORS; i++) {
		snprintf(g->author_id[i], sizeof(g->author_id[i]), "10%013llu",
		    (unsigned long long)(gen_next(g) % 10000000000000ULL));
		snprintf(g->author_name[i], sizeof(g->author_name[i]), "%s %s",
		    first_names[gen_below(g, ARRAY_SIZE(first_names))],
		    last_names[gen_below(g, ARRAY_SIZE(last_names))]);
	}
}

/* Text of 50..400 bytes of words, sometimes with line breaks. */
static char *
gen_text(struct gen *g)
{
	size_t target = 50 + gen_below(g, 351);
	struct buf b;

	buf_init(&b, 0);
	while (b.len < target) {
		const char *w = words[gen_below(g, ARRAY_SIZE(words))];
		size_t n = strlen(w);

		if (b.len > 0 && b.len + 1 + n > 400)
			break;
		if (b.len > 0)
			buf_append(&b, gen_below(g, 40) == 0 ? "\n" : " ", 1);
		buf_append(&b, w, n);
	}
	return buf_steal(&b, NULL);
}

/* The next item: about 1 in 40 is a post, then comments and replies. */
static void
gen_item(struct gen *g, struct item *it)
{
	char created[32], hash[HASH_HEX_LEN];
	uint32_t a = gen_below(g, NAUTHORS), nmedia, i;
	json_t *c, *media;

	memset(it, 0, sizeof(*it));
	g->clock += 1 + gen_below(g, 60);
	if (g->post == 0 || gen_below(g, 40) == 0) {
		g->post++;
		snprintf(g->post_id, sizeof(g->post_id), "%s_%llu", PAGE_ID,
		    (unsigned long long)(900000000000000ULL + g->post));
		g->last_comment[0] = '\0';
		it->kind = "post";
		snprintf(it->id, sizeof(it->id), "%s", g->post_id);
	} else {
		g->comment++;
		snprintf(it->id, sizeof(it->id), "%llu_%llu",
		    (unsigned long long)(900000000000000ULL + g->post),
		    (unsigned long long)(1200000000000000ULL + g->comment));
		snprintf(it->root, sizeof(it->root), "%s", g->post_id);
		if (g->last_comment[0] != '\0' && gen_below(g, 10) < 3) {
			it->kind = "reply";
			snprintf(it->parent, sizeof(it->parent), "%s",
			    g->last_comment);
		} else {
			it->kind = "comment";
			snprintf(it->parent, sizeof(it->parent), "%s",
			    g->post_id);
			snprintf(g->last_comment, sizeof(g->last_comment),
			    "%s", it->id);
		}
	}
	snprintf(it->url, sizeof(it->url), "https://www.facebook.com/%s",
	    it->id);
	it->author = g->author_name[a];
	it->author_id = g->author_id[a];
	it->created = g->clock;
	it->text = gen_text(g);

	media = json_array();
	nmedia = gen_below(g, 5) == 0 ? 1 + gen_below(g, 3) : 0;
	for (i = 0; i < nmedia; i++) {
		char key[32], url[160];
		uint64_t k = gen_next(g) % 100000000000000ULL;

		snprintf(key, sizeof(key), "%llu", (unsigned long long)k);
		snprintf(url, sizeof(url), "https://scontent.example.net/v/"
		    "t39.30808-6/%llu_n.jpg?_nc_cat=1&oh=00_%016llx",
		    (unsigned long long)k,
		    (unsigned long long)gen_next(g));
		json_array_append_new(media, json_pack("{s:s, s:s, s:s}",
		    "key", key, "type", "photo", "url", url));
	}
	c = json_pack("{s:s, s:{s:s, s:s}, s:s, s:o, s:o}",
	    "text", it->text,
	    "author", "id", it->author_id, "name", it->author,
	    "created", util_format_time(it->created, created,
	    sizeof(created)),
	    "parent", it->parent[0] != '\0' ? json_string(it->parent) :
	    json_null(),
	    "media", media);
	if (c == NULL) {
		fprintf(stderr, "bench: cannot build item JSON\n");
		exit(70);
	}
	it->canon = record_canonical(c, hash);
	if (it->canon == NULL) {
		fprintf(stderr, "bench: record_canonical failed\n");
		exit(70);
	}
	it->canon_len = strlen(it->canon);
	json_decref(c);
}

static void
item_free(struct item *it)
{
	free(it->text);
	free(it->canon);
	it->text = it->canon = NULL;
}

/* ---- measuring ------------------------------------------------------ */

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* User + system CPU seconds of the process so far. */
static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double
peak_rss_mib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0;	/* KiB on Linux */
}

static double
secs(int64_t ns)
{
	return (double)ns / 1e9;
}

static const char *state_dir;	/* for the message when we die */

static void
die(const char *what, int r)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(r < 0 ? -r : r));
	if (state_dir != NULL)
		fprintf(stderr, "bench: state left in %s\n", state_dir);
	exit(1);
}

/* ---- pass 1: bare SHA-256 + gzip ------------------------------------ */

struct result {
	int64_t		 ns;		/* timed wall clock */
	double		 cpu;		/* CPU seconds, generation included */
	uint64_t	 json_bytes;
	uint64_t	 out_bytes;	/* gzip output (bare) */
	/* archive pass breakdown */
	int64_t		 ns_lookup;	/* index_item_get x2 + item_seen */
	int64_t		 ns_hash;	/* content hash */
	int64_t		 ns_add;	/* record_meta_init + store_add */
	int64_t		 ns_sync;	/* segment fdatasync */
	int64_t		 ns_commit;	/* store_commit after it */
	uint64_t	 commits;	/* batches made durable */
	uint64_t	 records;	/* WARC records written */
};

static void
run_bare(long n, struct item *chunk, struct result *res)
{
	unsigned char md[HASH_LEN];
	struct gen *g = xmalloc(sizeof(*g));
	struct buf out;
	long done = 0, k, i;
	double c0 = cpu_s();
	int r;

	memset(res, 0, sizeof(*res));
	buf_init(&out, 0);
	gen_init(g);
	while (done < n) {
		k = n - done < CHUNK ? n - done : CHUNK;
		for (i = 0; i < k; i++)
			gen_item(g, &chunk[i]);
		int64_t t0 = mono_ns();
		for (i = 0; i < k; i++) {
			hash_sha256(chunk[i].canon, chunk[i].canon_len, md);
			buf_reset(&out);
			r = compress_gzip(chunk[i].canon, chunk[i].canon_len,
			    &out);
			if (r < 0)
				die("compress_gzip", r);
			res->out_bytes += out.len;
		}
		res->ns += mono_ns() - t0;
		for (i = 0; i < k; i++) {
			res->json_bytes += chunk[i].canon_len;
			item_free(&chunk[i]);
		}
		done += k;
	}
	res->cpu = cpu_s() - c0;
	buf_release(&out);
	free(g);
}

/*
 * Pass 1b, for the breakdown only: what store_add() does to the bytes,
 * without the write or the index - content hash, record_meta_init,
 * record_to_warc (with its WARC-Block-Digest), gzip member, SHA-256 of
 * the member.
 */
static void
run_members(long n, struct item *chunk, struct result *res)
{
	char hash[HASH_HEX_LEN], sha[HASH_HEX_LEN], source[RECORD_ID_LEN];
	struct gen *g = xmalloc(sizeof(*g));
	struct rec_meta m;
	struct buf rec, member;
	long done = 0, k, i;
	double c0 = cpu_s();
	int r;

	memset(res, 0, sizeof(*res));
	buf_init(&rec, 0);
	buf_init(&member, 0);
	gen_init(g);
	util_uuid_urn(source, sizeof(source));
	while (done < n) {
		k = n - done < CHUNK ? n - done : CHUNK;
		for (i = 0; i < k; i++)
			gen_item(g, &chunk[i]);
		int64_t t0 = mono_ns();
		for (i = 0; i < k; i++) {
			const struct item *it = &chunk[i];

			hash_sha256_hex(it->canon, it->canon_len, hash);
			record_meta_init(&m, REC_VERSION);
			m.account = ACCOUNT;
			m.platform = PLATFORM;
			m.item_id = it->id;
			m.item_kind = it->kind;
			m.parent_id = it->parent[0] != '\0' ? it->parent : NULL;
			m.root_id = it->root[0] != '\0' ? it->root : NULL;
			m.author = it->author;
			m.author_id = it->author_id;
			m.created = it->created;
			m.url = it->url;
			m.refers_to = source;
			memcpy(m.content_hash, hash, sizeof(hash));
			buf_reset(&rec);
			buf_reset(&member);
			r = record_to_warc(&m, "application/json", it->canon,
			    it->canon_len, -1, &rec);
			if (r == 0)
				r = compress_gzip(rec.data, rec.len, &member);
			if (r < 0)
				die("record_to_warc/compress_gzip", r);
			hash_sha256_hex(member.data, member.len, sha);
			res->out_bytes += member.len;
			res->json_bytes += rec.len;	/* WARC record bytes */
		}
		res->ns += mono_ns() - t0;
		for (i = 0; i < k; i++)
			item_free(&chunk[i]);
		done += k;
	}
	res->cpu = cpu_s() - c0;
	buf_release(&rec);
	buf_release(&member);
	free(g);
}

/* ---- pass 2: the archive path --------------------------------------- */

static void
archive_one(struct store *st, int64_t acct, const struct item *it,
    const char *source, struct result *res)
{
	struct index_item known;
	struct rec_meta m;
	char hash[HASH_HEX_LEN];
	int64_t t0, t1, t2, t3, t4;
	int r;

	/* capture_known(): a new item. */
	t0 = mono_ns();
	r = index_item_get(&st->ix, acct, it->id, &known);
	if (r != -ENOENT)
		die("index_item_get (expected a new item)", r < 0 ? r : EEXIST);
	/* The content hash record_canonical() computes. */
	t1 = mono_ns();
	hash_sha256_hex(it->canon, it->canon_len, hash);
	t2 = mono_ns();
	record_meta_init(&m, REC_VERSION);
	m.account = ACCOUNT;
	m.platform = PLATFORM;
	m.item_id = it->id;
	m.item_kind = it->kind;
	m.parent_id = it->parent[0] != '\0' ? it->parent : NULL;
	m.root_id = it->root[0] != '\0' ? it->root : NULL;
	m.author = it->author;
	m.author_id = it->author_id;
	m.created = it->created;
	m.url = it->url;
	m.refers_to = source;
	m.text = it->text;
	memcpy(m.content_hash, hash, sizeof(hash));
	r = store_add(st, &m, "application/json", it->canon,
	    strlen(it->canon), -1);
	if (r < 0)
		die("store_add", r);
	t3 = mono_ns();
	/* Re-read for the new row's id, then last-seen bookkeeping. */
	r = index_item_get(&st->ix, acct, it->id, &known);
	if (r < 0)
		die("index_item_get", r);
	r = index_item_seen(&st->ix, known.id, util_now(), NULL);
	if (r < 0)
		die("index_item_seen", r);
	t4 = mono_ns();
	res->ns_lookup += (t1 - t0) + (t4 - t3);
	res->ns_hash += t2 - t1;
	res->ns_add += t3 - t2;
	res->records++;
}

/*
 * store_commit() = segment_sync() then index_commit() (then rotation when
 * due). To split the two in the report the segment is synced first here;
 * store_commit() then finds nothing new to sync and commits. Same calls,
 * same order.
 */
static void
commit_page(struct store *st, struct result *res)
{
	int64_t t0, t1;
	int r;

	if (st->batch == 0)
		return;
	t0 = mono_ns();
	r = st->seg.fd >= 0 ? segment_sync(&st->seg) : 0;
	if (r < 0)
		die("segment_sync", r);
	t1 = mono_ns();
	r = store_commit(st);
	if (r < 0)
		die("store_commit", r);
	res->ns_sync += t1 - t0;
	res->ns_commit += mono_ns() - t1;
	res->commits++;
}

static void
run_archive(long n, const char *state, struct item *chunk,
    struct result *res)
{
	struct store_recovery rec;
	struct store st;
	struct gen *g = xmalloc(sizeof(*g));
	char err[512], source[RECORD_ID_LEN];
	int64_t acct;
	long done = 0, k, i;
	double c0;
	int r;

	memset(res, 0, sizeof(*res));
	r = store_open(&st, state, 1024ULL * 1024 * 1024, 86400,
	    "software: sunarchive-bench\r\nformat: WARC File Format 1.1\r\n"
	    "conformsTo: http://iipc.github.io/warc-specifications/"
	    "specifications/warc-format/warc-1.1/\r\n", &rec, err,
	    sizeof(err));
	if (r < 0) {
		fprintf(stderr, "bench: %s\n", err);
		die("store_open", r);
	}
	free(rec.torn_path);
	r = index_account(&st.ix, ACCOUNT, PLATFORM, PAGE_ID, &acct);
	if (r < 0)
		die("index_account", r);
	gen_init(g);
	c0 = cpu_s();
	while (done < n) {
		k = n - done < CHUNK ? n - done : CHUNK;
		for (i = 0; i < k; i++)
			gen_item(g, &chunk[i]);
		int64_t t0 = mono_ns();
		for (i = 0; i < k; i++) {
			/*
			 * Versions refer to the page's response record; the
			 * bench writes none, so the id resolves to no row,
			 * but the WARC field and the lookup are there.
			 */
			if ((done + i) % page == 0)
				util_uuid_urn(source, sizeof(source));
			archive_one(&st, acct, &chunk[i], source, res);
			if ((done + i + 1) % page == 0)
				commit_page(&st, res);
		}
		if (done + k == n)
			commit_page(&st, res);	/* the last, short page */
		res->ns += mono_ns() - t0;
		for (i = 0; i < k; i++) {
			res->json_bytes += chunk[i].canon_len;
			item_free(&chunk[i]);
		}
		done += k;
	}
	res->cpu = cpu_s() - c0;
	res->records++;		/* the segment's warcinfo */
	store_close(&st);
	free(g);
}

/* ---- sizes, cleanup, report ----------------------------------------- */

static uint64_t du_total;

static int
du_cb(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	(void)path;
	(void)f;
	if (type == FTW_F)
		du_total += (uint64_t)sb->st_size;
	return 0;
}

static uint64_t
tree_bytes(const char *dir)
{
	du_total = 0;
	nftw(dir, du_cb, 16, FTW_PHYS);
	return du_total;
}

static uint64_t
file_bytes(const char *dir, const char *name)
{
	struct stat sb;
	char *p = xasprintf("%s/%s", dir, name);
	uint64_t n = stat(p, &sb) == 0 ? (uint64_t)sb.st_size : 0;

	free(p);
	return n;
}

static int
rm_cb(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)type;
	(void)f;
	if (remove(path) < 0)
		fprintf(stderr, "bench: cannot remove %s: %s\n", path,
		    strerror(errno));
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench [-n N] [-p PAGE] [-d DIR] [--keep]\n");
	exit(2);
}

static double
mib(uint64_t n)
{
	return (double)n / (1024.0 * 1024.0);
}

static double
rate(double count, int64_t ns)
{
	return ns > 0 ? count / secs(ns) : 0.0;
}

static void
row(const char *name, const char *value, const char *target,
    const char *result)
{
	printf("%-40s %-16s %-10s %s\n", name, value, target, result);
}

/* ---- restart-to-ready with a large open segment ---------------------- */

/*
 * R2 (integrity.md): a 1 GiB open segment, the last commit at the start
 * of a cycle (a cycle's worth of records written but not committed), then
 * what sunarchived does before READY=1: open the index, recover the open
 * segment's tail (re-index complete records, quarantine torn bytes) and
 * load the Merkle ledger. The records are 64 KiB media-like blocks of
 * incompressible bytes so the segment reaches its size quickly.
 */
static double
run_restart(const char *parent, uint64_t mib_target, uint64_t *ret_size,
    uint64_t *ret_recovered)
{
	struct store_recovery rec;
	struct store st;
	struct ledger lg;
	struct rec_meta m;
	char err[512], *dir;
	unsigned char *block;
	uint64_t rng = SEED, written = 0;
	int64_t t0, acct;
	long i, k;

	dir = xasprintf("%s/sunarchive-bench-restart.XXXXXX", parent);
	if (mkdtemp(dir) == NULL)
		die(dir, errno);
	block = xmalloc(MEDIA_BLOCK);
	if (store_open(&st, dir, (uint64_t)16 << 30, 30 * 86400,
	    "software: sunarchive bench\r\n", &rec, err, sizeof(err)) < 0)
		die(err, EIO);
	index_account(&st.ix, ACCOUNT, PLATFORM, PAGE_ID, &acct);
	for (i = 0; written < mib_target << 20; i++) {
		for (k = 0; k < MEDIA_BLOCK; k += 8) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			memcpy(block + k, &rng, 8);
		}
		record_meta_init(&m, REC_RESPONSE);
		m.account = ACCOUNT;
		if (store_add(&st, &m, "application/http; msgtype=response",
		    block, MEDIA_BLOCK, 0) < 0)
			die("store_add", st.err);
		written += MEDIA_BLOCK;
		/* One cycle of 16 records per batch; the last 64 records
		 * (4 MiB) are never committed: the crash. */
		if (i % 16 == 15 && written + (uint64_t)64 * MEDIA_BLOCK <
		    mib_target << 20 && store_commit(&st) < 0)
			die("store_commit", st.err);
	}
	*ret_size = st.seg.size;
	store_close(&st);		/* rolls the last batches back */
	t0 = mono_ns();
	if (store_open(&st, dir, (uint64_t)16 << 30, 30 * 86400,
	    "software: sunarchive bench\r\n", &rec, err, sizeof(err)) < 0)
		die(err, EIO);
	ledger_init(&lg);
	if (ledger_sync(&lg, &st.ix) < 0)
		die("ledger_sync", EIO);
	t0 = mono_ns() - t0;
	*ret_recovered = rec.recovered;
	free(rec.torn_path);
	store_close(&st);
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
	free(block);
	return secs(t0);
}

/* ---- search: the query module on an index of a million items ------- */

/*
 * A synthetic index of SEARCH_ITEMS items (BENCH_SEARCH_ITEMS to change,
 * 0 to skip) is written straight into the real schema (index_open makes
 * and migrates it) in a few large transactions: six accounts, posts with
 * threads of comments and replies over two years, text drawn from a
 * Zipf-distributed vocabulary of SEARCH_VOCAB words, so that a word has
 * a realistic number of matches (the commonest are in most items; the
 * words searched for, of rank 50 to 5000, in 0.1% to 10%), a second or
 * third version for some, some removed, hidden and restored. Then each
 * query shape runs SEARCH_RUNS times (BENCH_SEARCH_RUNS) with varied
 * terms, each run as "sunarchive search" does it: a fresh read-only
 * connection, one read transaction, query_prepare() and every row of the
 * page (whose rows carry the total) with the item's columns and latest
 * text, query_count() only when the page is empty. Reported per shape:
 * p50, p95 and max of the wall time, p95 of the CPU time (the machine
 * may be shared), the median number of matching items; and p50/p95 over
 * all runs, against the p95 target. Never fails. With --keep the index
 * is kept; BENCH_SEARCH_DIR=DIR runs the queries again on one kept
 * before (the same generator is replayed, nothing is written).
 */
#define SEARCH_ITEMS		1000000L
#define SEARCH_RUNS		200
#define SEARCH_PAGE		100
#define SEARCH_TARGET_MS	100.0
#define SEARCH_VOCAB		20000
#define SEARCH_RESIDENTS	40000
#define SEARCH_RING		64	/* recent posts per account */
#define SEARCH_BATCH		100000	/* items per build transaction */
#define SEARCH_SEED		0x5345415243484e47ULL	/* "SEARCHNG" */
#define SEARCH_T0		1704067200	/* 2024-01-01T00:00:00Z */
#define SEARCH_DAY		86400

static const struct {
	const char	*name;
	const char	*platform;
	const char	*display;
	unsigned	 weight;	/* share of the items, percent */
} search_accounts[] = {
	{ "city-facebook", "facebook", "City of Springfield", 35 },
	{ "police-facebook", "facebook", "Springfield Police", 20 },
	{ "parks-facebook", "facebook", "Springfield Parks", 10 },
	{ "city-mastodon", "mastodon", "city", 20 },
	{ "library-mastodon", "mastodon", "library", 10 },
	{ "fire-mastodon", "mastodon", "fire", 5 },
};

/* The commonest words first, then city words; the rest are made up. */
static const char *search_common[] = {
	"the", "to", "and", "a", "of", "is", "in", "for", "on", "this",
	"you", "it", "we", "that", "be", "are", "with", "at", "not", "our",
	"will", "have", "please", "city", "thank", "they", "from", "what",
	"when", "can", "there", "why", "so", "just", "all", "about", "who",
	"more", "no", "get", "park", "road", "street", "council", "meeting",
	"parking", "water", "police", "people", "traffic", "tonight", "today",
	"snow", "trash", "pickup", "library", "school", "mayor", "budget",
	"tax", "permit", "zoning", "hearing", "public", "agenda", "vote",
	"neighborhood", "sidewalk", "bike", "lane", "crossing", "festival",
	"fireworks", "noise", "complaint", "report", "online", "broken",
	"streetlight", "tree", "fee", "increase", "recycling", "downtown",
	"development", "affordable", "housing", "rent", "pothole", "closure",
	"detour", "bus", "route", "schedule", "storm", "flood", "power",
	"outage", "repair", "crews", "bridge", "construction", "garage",
	"playground", "pool", "summer", "winter", "holiday", "parade",
	"election", "ballot", "candidate", "ordinance", "resolution",
	"contract", "audit", "salary", "overtime", "grant", "federal",
	"county", "state", "emergency", "shelter", "warming", "center",
	"hydrant", "sewer", "drainage", "curb", "crosswalk", "signal",
	"speed", "camera", "ticket", "fine", "towing", "lot", "meter",
	"transparency", "records", "request", "lawsuit", "settlement",
	"caf\xc3\xa9", "na\xc3\xafve", "r\xc3\xa9sum\xc3\xa9",
};

static const char *search_syll[] = {
	"ka", "lo", "mer", "ti", "san", "do", "ra", "vel", "qui", "no",
	"bar", "es", "un", "dor", "pi", "ta", "lin", "ko", "su", "ver",
	"ma", "ne", "ol", "gra", "fi", "ze", "hu", "ban", "tor", "ly",
};

static const char *search_first[] = {
	"Maria", "James", "Aiyana", "Chen", "Fatima", "Olu", "Sofia", "Liam",
	"Noa", "Dmitri", "Priya", "Jos\xc3\xa9", "Ngozi", "Emma", "Hiroshi",
	"Zo\xc3\xab", "Mateo", "Anika", "Kwame", "Ingrid", "Luis", "Mei",
	"Tom\xc3\xa1s", "Sam", "Grace", "Omar", "Lucia", "Ethan", "Amara",
	"Yusuf", "Hana", "Diego", "Keiko", "Nora", "Pavel", "Rosa", "Tariq",
	"Vera", "Wen", "Zara", "Ada", "Ben", "Cleo", "Dev", "Eli", "Fern",
	"Gus", "Ivy", "Jon", "Kai", "Lena", "Milo", "Nia", "Otto", "Pia",
	"Quinn", "Raj", "Sue", "Ty", "Uma",
};

static const char *search_last[] = {
	"Garcia", "Smith", "Begay", "Nguyen", "Okafor", "Kowalski",
	"Johansson", "M\xc3\xbcller", "Patel", "O'Brien", "Rossi", "Tanaka",
	"Haddad", "Ivanova", "Dubois", "Mendoza", "Walker", "Lee", "Silva",
	"Novak", "Brown", "Jones", "Miller", "Davis", "Wilson", "Moore",
	"Taylor", "Anderson", "Thomas", "Jackson", "White", "Harris",
	"Martin", "Thompson", "Clark", "Lewis", "Robinson", "Young", "Allen",
	"King", "Wright", "Scott", "Torres", "Hill", "Green", "Adams",
	"Baker", "Nelson", "Carter", "Mitchell", "Perez", "Roberts", "Turner",
	"Phillips", "Campbell", "Parker", "Evans", "Edwards", "Collins",
	"Stewart",
};

static const char *search_instances[] = {
	"social.example", "town.example", "mastodon.example",
	"civic.example", "fediverse.example",
};

struct search_post {
	char		 id[40];
	char		 last_comment[40];	/* "" = none yet */
};

struct search_gen {
	struct gen	 g;		/* splitmix64 state and helpers above */
	char		*vocab[SEARCH_VOCAB];
	double		 cdf[SEARCH_VOCAB];
	struct search_post ring[ARRAY_SIZE(search_accounts)][SEARCH_RING];
	unsigned	 nring[ARRAY_SIZE(search_accounts)];
	uint64_t	 serial;
	int64_t		 clock;
	char		*bigrams[1024];	/* phrases taken from real texts */
	size_t		 nbigrams;
};

static void
search_gen_init(struct search_gen *sg)
{
	size_t i, k, nsyll;
	double sum = 0.0;
	struct buf b;

	memset(sg, 0, sizeof(*sg));
	sg->g.s = SEARCH_SEED;
	sg->clock = SEARCH_T0;
	for (i = 0; i < SEARCH_VOCAB; i++) {
		if (i < ARRAY_SIZE(search_common)) {
			sg->vocab[i] = xstrdup(search_common[i]);
		} else {
			buf_init(&b, 0);
			nsyll = 2 + gen_below(&sg->g, 3);
			for (k = 0; k < nsyll; k++)
				buf_puts(&b, search_syll[gen_below(&sg->g,
				    ARRAY_SIZE(search_syll))]);
			sg->vocab[i] = buf_steal(&b, NULL);
		}
		sum += 1.0 / (double)(i + 1);
		sg->cdf[i] = sum;
	}
	for (i = 0; i < SEARCH_VOCAB; i++)
		sg->cdf[i] /= sum;
}

static void
search_gen_free(struct search_gen *sg)
{
	size_t i;

	for (i = 0; i < SEARCH_VOCAB; i++)
		free(sg->vocab[i]);
	for (i = 0; i < sg->nbigrams; i++)
		free(sg->bigrams[i]);
}

/* A word index drawn with Zipf's law (s = 1). */
static size_t
search_zipf(struct search_gen *sg)
{
	double u = (double)(gen_next(&sg->g) >> 11) / 9007199254740992.0;
	size_t lo = 0, hi = SEARCH_VOCAB - 1, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (sg->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A word of rank 50..5000, log-uniform: what a clerk searches for. */
static const char *
search_term(struct search_gen *sg)
{
	double u = (double)gen_below(&sg->g, 1000000) / 1e6;
	size_t rank = (size_t)(50.0 * pow(100.0, u));

	return sg->vocab[rank < SEARCH_VOCAB ? rank : SEARCH_VOCAB - 1];
}

/* 5..60 words, some punctuation and line breaks. */
static char *
search_text(struct search_gen *sg)
{
	size_t n = 5 + gen_below(&sg->g, 56), i, w, prev = 0;
	struct buf b;

	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		w = search_zipf(sg);
		if (i > 0)
			buf_puts(&b, gen_below(&sg->g, 30) == 0 ? ".\n" :
			    gen_below(&sg->g, 12) == 0 ? ", " : " ");
		buf_puts(&b, sg->vocab[w]);
		if (i > 0 && prev >= 20 && w >= 20 &&
		    sg->nbigrams < ARRAY_SIZE(sg->bigrams) &&
		    gen_below(&sg->g, 500) == 0)
			sg->bigrams[sg->nbigrams++] = xasprintf("\"%s %s\"",
			    sg->vocab[prev], sg->vocab[w]);
		prev = w;
	}
	if (gen_below(&sg->g, 8) == 0)
		buf_puts(&b, gen_below(&sg->g, 2) ? "!" : "?");
	return buf_steal(&b, NULL);
}

static void
search_resident(struct search_gen *sg, int mastodon, char *buf, size_t len)
{
	uint32_t r = gen_below(&sg->g, 10) < 3 ? gen_below(&sg->g, 500) :
	    gen_below(&sg->g, SEARCH_RESIDENTS);
	const char *first = search_first[r % ARRAY_SIZE(search_first)];
	const char *last = search_last[(r / ARRAY_SIZE(search_first)) %
	    ARRAY_SIZE(search_last)];

	if (mastodon)
		snprintf(buf, len, "%c%s%u@%s", first[0] | 0x20, last, r,
		    search_instances[r % ARRAY_SIZE(search_instances)]);
	else
		snprintf(buf, len, "%s %s", first, last);
}

static void
search_die_sql(sqlite3 *db, const char *what)
{
	fprintf(stderr, "bench: search: %s: %s\n", what, sqlite3_errmsg(db));
	exit(1);
}

static sqlite3_stmt *
search_stmt(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		search_die_sql(db, sql);
	return st;
}

static void
search_step(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		search_die_sql(db, what);
	sqlite3_reset(st);
}

static void
search_exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		search_die_sql(db, sql);
}

/* The generator calls of the version loop below, without the index. */
static void
search_dry_versions(struct search_gen *sg, unsigned nv, int64_t *seq,
    char **text)
{
	unsigned v;
	char *edit;

	for (v = 0; v < nv; v++) {
		(*seq)++;
		if (v > 0) {
			edit = xasprintf("%s %s (edited)", *text,
			    sg->vocab[search_zipf(sg)]);
			free(*text);
			*text = edit;
		}
		(void)gen_next(&sg->g);
	}
}

/*
 * Write n items into the index at path (made and migrated by index_open)
 * and return the versions written; with dry, an index written before by
 * the same generator is only migrated, and the generator replayed.
 */
static int64_t
search_build(const char *path, long n, struct search_gen *sg, int dry)
{
	struct index ix;
	sqlite3 *db;
	sqlite3_stmt *st_item, *st_rec, *st_ver, *st_fts;
	char err[512], pid[40], parent[40], root[40], author[80], url[128];
	char rid[64];
	const char *kind, *state;
	int64_t seq = 0, created, first_seen, last_seen, removed_at;
	long i;
	size_t a, k;
	unsigned w, nv, v, hidden;
	int r;
	char *text, *edit;
	struct search_post *post;

	r = index_open(&ix, path, 0, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "bench: search: %s\n", err);
		exit(1);
	}
	db = ix.db;
	st_item = st_rec = st_ver = st_fts = NULL;
	if (dry)
		goto generate;
	search_exec(db, "PRAGMA cache_size = -262144");
	search_exec(db, "BEGIN");
	for (a = 0; a < ARRAY_SIZE(search_accounts); a++) {
		char sql[256];

		snprintf(sql, sizeof(sql), "INSERT INTO accounts(id, name,"
		    " platform, platform_id) VALUES (%zu, '%s', '%s', '%zu')",
		    a + 1, search_accounts[a].name,
		    search_accounts[a].platform, 100000000000 + a);
		search_exec(db, sql);
	}
	search_exec(db, "INSERT INTO segments(id, name, created)"
	    " VALUES (1, 'seg-000001.warc.gz', 1704067200)");
	st_item = search_stmt(db, "INSERT INTO items(id, account_id,"
	    " platform, platform_id, kind, parent_id, root_id, author,"
	    " author_id, created, url, state, hidden, first_seen, last_seen,"
	    " first_missing, removed_at, nversions) VALUES (?1, ?2, ?3, ?4,"
	    " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16,"
	    " ?17)");
	st_rec = search_stmt(db, "INSERT INTO records(seq, record_id,"
	    " segment_id, offset, length, sha256, type, date, account_id)"
	    " VALUES (?1, ?2, 1, ?3, 1200, ?4, 'conversion', ?5, ?6)");
	st_ver = search_stmt(db, "INSERT INTO versions(id, item_id, seq,"
	    " hash, captured, platform_time, text) VALUES (?1, ?2, ?1, ?3,"
	    " ?4, ?5, ?6)");
	st_fts = search_stmt(db, "INSERT INTO versions_fts(rowid, text,"
	    " author) VALUES (?1, ?2, ?3)");
generate:
	for (i = 1; i <= n; i++) {
		w = gen_below(&sg->g, 100);
		for (a = 0; a < ARRAY_SIZE(search_accounts) - 1; a++) {
			if (w < search_accounts[a].weight)
				break;
			w -= search_accounts[a].weight;
		}
		sg->clock += 1 + gen_below(&sg->g, 120);
		created = sg->clock;
		sg->serial++;
		parent[0] = root[0] = '\0';
		if (sg->nring[a] == 0 || gen_below(&sg->g, 25) == 0) {
			kind = "post";
			post = &sg->ring[a][sg->nring[a] % SEARCH_RING];
			sg->nring[a]++;
			if (strcmp(search_accounts[a].platform, "facebook") ==
			    0)
				snprintf(pid, sizeof(pid), "%zu_%llu",
				    100000000000 + a,
				    (unsigned long long)(200000000000000 +
				    sg->serial));
			else
				snprintf(pid, sizeof(pid), "%llu",
				    (unsigned long long)(110000000000000000 +
				    sg->serial));
			snprintf(post->id, sizeof(post->id), "%s", pid);
			post->last_comment[0] = '\0';
			snprintf(author, sizeof(author), "%s",
			    search_accounts[a].display);
		} else {
			/* Mostly the newest posts get the comments. */
			k = gen_below(&sg->g, SEARCH_RING);
			k = k * k / SEARCH_RING;
			if (k >= sg->nring[a])
				k = 0;
			post = &sg->ring[a][(sg->nring[a] - 1 - k) %
			    SEARCH_RING];
			snprintf(root, sizeof(root), "%s", post->id);
			if (post->last_comment[0] != '\0' &&
			    gen_below(&sg->g, 3) == 0) {
				kind = "reply";
				snprintf(parent, sizeof(parent), "%s",
				    post->last_comment);
			} else {
				kind = "comment";
				snprintf(parent, sizeof(parent), "%s",
				    post->id);
			}
			snprintf(pid, sizeof(pid), "%llu_%llu",
			    (unsigned long long)(200000000000000 +
			    sg->serial / 25), (unsigned long long)(300000000000000
			    + sg->serial));
			if (strcmp(kind, "comment") == 0)
				snprintf(post->last_comment,
				    sizeof(post->last_comment), "%s", pid);
			search_resident(sg, strcmp(search_accounts[a].platform,
			    "mastodon") == 0, author, sizeof(author));
		}
		snprintf(url, sizeof(url), "https://%s.example/%s",
		    search_accounts[a].platform, pid);
		w = gen_below(&sg->g, 1000);
		nv = w < 20 ? 3 : w < 120 ? 2 : 1;
		w = gen_below(&sg->g, 1000);
		hidden = 0;
		removed_at = 0;
		if (w < 20) {
			state = "removed";
			removed_at = created + SEARCH_DAY + gen_below(&sg->g,
			    30 * SEARCH_DAY);
		} else if (w < 30 && strcmp(kind, "post") != 0) {
			state = "hidden";
			hidden = 1;
		} else if (w < 32) {
			state = "restored";
		} else {
			state = nv > 1 ? "edited" : "live";
		}
		first_seen = created + 60 + gen_below(&sg->g, 3600);
		last_seen = first_seen + gen_below(&sg->g, 60 * SEARCH_DAY);
		text = search_text(sg);
		if (dry) {
			search_dry_versions(sg, nv, &seq, &text);
			free(text);
			continue;
		}

		sqlite3_reset(st_item);
		sqlite3_bind_int64(st_item, 1, i);
		sqlite3_bind_int64(st_item, 2, (int64_t)a + 1);
		sqlite3_bind_text(st_item, 3, search_accounts[a].platform, -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st_item, 4, pid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st_item, 5, kind, -1, SQLITE_STATIC);
		if (parent[0] != '\0')
			sqlite3_bind_text(st_item, 6, parent, -1,
			    SQLITE_STATIC);
		else
			sqlite3_bind_null(st_item, 6);
		if (root[0] != '\0')
			sqlite3_bind_text(st_item, 7, root, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st_item, 7);
		sqlite3_bind_text(st_item, 8, author, -1, SQLITE_STATIC);
		sqlite3_bind_text(st_item, 9, author, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st_item, 10, created);
		sqlite3_bind_text(st_item, 11, url, -1, SQLITE_STATIC);
		sqlite3_bind_text(st_item, 12, state, -1, SQLITE_STATIC);
		sqlite3_bind_int(st_item, 13, (int)hidden);
		sqlite3_bind_int64(st_item, 14, first_seen);
		sqlite3_bind_int64(st_item, 15, last_seen);
		if (removed_at != 0)
			sqlite3_bind_int64(st_item, 16, removed_at);
		else
			sqlite3_bind_null(st_item, 16);
		sqlite3_bind_int(st_item, 17, (int)nv);
		search_step(db, st_item, "insert item");

		for (v = 0; v < nv; v++) {
			char hash[HASH_HEX_LEN];

			seq++;
			if (v > 0) {
				edit = xasprintf("%s %s (edited)", text,
				    sg->vocab[search_zipf(sg)]);
				free(text);
				text = edit;
			}
			snprintf(hash, sizeof(hash), "%016llx%016llx"
			    "%016llx%016llx", (unsigned long long)gen_next(
			    &sg->g), (unsigned long long)seq,
			    (unsigned long long)i, (unsigned long long)v);
			snprintf(rid, sizeof(rid), "urn:uuid:%08llx-0000-7000"
			    "-8000-%012llx", (unsigned long long)(seq >> 16),
			    (unsigned long long)seq);
			sqlite3_reset(st_rec);
			sqlite3_bind_int64(st_rec, 1, seq);
			sqlite3_bind_text(st_rec, 2, rid, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st_rec, 3, seq * 1200);
			sqlite3_bind_text(st_rec, 4, hash, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st_rec, 5, first_seen + v * 3600);
			sqlite3_bind_int64(st_rec, 6, (int64_t)a + 1);
			search_step(db, st_rec, "insert record");
			sqlite3_reset(st_ver);
			sqlite3_bind_int64(st_ver, 1, seq);
			sqlite3_bind_int64(st_ver, 2, i);
			sqlite3_bind_text(st_ver, 3, hash, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st_ver, 4, first_seen + v * 3600);
			sqlite3_bind_int64(st_ver, 5, created + v * 600);
			sqlite3_bind_text(st_ver, 6, text, -1, SQLITE_STATIC);
			search_step(db, st_ver, "insert version");
			sqlite3_reset(st_fts);
			sqlite3_bind_int64(st_fts, 1, seq);
			sqlite3_bind_text(st_fts, 2, text, -1, SQLITE_STATIC);
			sqlite3_bind_text(st_fts, 3, author, -1,
			    SQLITE_STATIC);
			search_step(db, st_fts, "insert fts");
		}
		free(text);
		if (i % SEARCH_BATCH == 0) {
			search_exec(db, "COMMIT");
			search_exec(db, "BEGIN");
		}
	}
	if (dry) {
		index_close(&ix);
		return seq;
	}
	search_exec(db, "COMMIT");
	sqlite3_finalize(st_item);
	sqlite3_finalize(st_rec);
	sqlite3_finalize(st_ver);
	sqlite3_finalize(st_fts);
	search_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	index_close(&ix);
	return seq;
}

enum {
	SHAPE_WORD, SHAPE_PHRASE, SHAPE_PREFIX, SHAPE_OR, SHAPE_TEXT_ACCOUNT,
	SHAPE_AUTHOR, SHAPE_REMOVED, SHAPE_KIND_DATE, SHAPE_THREAD,
	SHAPE_RELEVANCE, SHAPE_LIST, SHAPE_COUNT,
};

static const char *const search_shape_names[SHAPE_COUNT] = {
	[SHAPE_WORD] = "text: one word",
	[SHAPE_PHRASE] = "text: \"a phrase\"",
	[SHAPE_PREFIX] = "text: prefix*",
	[SHAPE_OR] = "text: w1 OR w2",
	[SHAPE_TEXT_ACCOUNT] = "text + account + 90 days",
	[SHAPE_AUTHOR] = "author",
	[SHAPE_REMOVED] = "only removed (+ page)",
	[SHAPE_KIND_DATE] = "kind + 30 days",
	[SHAPE_THREAD] = "comment text --with-thread",
	[SHAPE_RELEVANCE] = "text, sort relevance",
	[SHAPE_LIST] = "everything, newest first",
};

/* The item columns search.c prints, for each row of the page. */
static const char search_detail_sql[] =
    "SELECT i.id, i.platform, a.name, i.kind, i.platform_id, i.parent_id,"
    " i.root_id, i.author, i.author_id, i.created, i.url, i.state,"
    " i.hidden, i.nversions, i.first_seen, i.last_seen, i.first_missing,"
    " i.removed_at, (SELECT v.text FROM versions v WHERE v.item_id = i.id"
    " ORDER BY v.id DESC LIMIT 1) FROM items i JOIN accounts a"
    " ON a.id = i.account_id WHERE i.id = ?1";

/* Fill the filter and order of run `run` of shape s. */
static void
search_shape(struct search_gen *sg, int s, int run, struct query_filter *f,
    struct query_order *o, char *text, size_t textlen, char *author,
    size_t authorlen)
{
	const char *w;
	int64_t span = (int64_t)(sg->clock - SEARCH_T0);
	uint32_t r;

	query_filter_init(f);
	memset(o, 0, sizeof(*o));
	o->limit = SEARCH_PAGE;
	switch (s) {
	case SHAPE_WORD:
	case SHAPE_RELEVANCE:
		snprintf(text, textlen, "%s", search_term(sg));
		f->text = text;
		if (s == SHAPE_RELEVANCE) {
			o->sort = QUERY_SORT_RELEVANCE;
			o->desc = 1;
		}
		break;
	case SHAPE_PHRASE:
		snprintf(text, textlen, "%s", sg->nbigrams > 0 ?
		    sg->bigrams[(size_t)run % sg->nbigrams] :
		    "\"council meeting\"");
		f->text = text;
		break;
	case SHAPE_PREFIX:
		do {
			w = search_term(sg);
		} while (strlen(w) < 5);
		snprintf(text, textlen, "%.4s*", w);
		f->text = text;
		break;
	case SHAPE_OR:
		w = search_term(sg);
		snprintf(text, textlen, "%s OR %s", w, search_term(sg));
		f->text = text;
		break;
	case SHAPE_TEXT_ACCOUNT:
		snprintf(text, textlen, "%s", search_term(sg));
		f->text = text;
		f->account = search_accounts[(size_t)run %
		    ARRAY_SIZE(search_accounts)].name;
		f->from = SEARCH_T0 + (int64_t)gen_below(&sg->g,
		    (uint32_t)(span - 90 * SEARCH_DAY));
		f->to = f->from + 90 * SEARCH_DAY;
		f->has_from = f->has_to = 1;
		break;
	case SHAPE_AUTHOR:
		r = gen_below(&sg->g, SEARCH_RESIDENTS);
		if (run % 2 == 0)
			snprintf(author, authorlen, "%s %s",
			    search_first[r % ARRAY_SIZE(search_first)],
			    search_last[(r / ARRAY_SIZE(search_first)) %
			    ARRAY_SIZE(search_last)]);
		else
			snprintf(author, authorlen, "%s%u@",
			    search_last[(r / ARRAY_SIZE(search_first)) %
			    ARRAY_SIZE(search_last)], r);
		f->author = author;
		break;
	case SHAPE_REMOVED:
		f->removed = QUERY_ONLY;
		if (run % 2 == 0)
			f->account = search_accounts[(size_t)run / 2 %
			    ARRAY_SIZE(search_accounts)].name;
		o->offset = (int64_t)(run % 5) * SEARCH_PAGE;
		o->desc = run % 3 == 0;
		break;
	case SHAPE_KIND_DATE:
		f->kind = (const char *[]){ "post", "comment",
		    "reply" }[run % 3];
		f->from = SEARCH_T0 + (int64_t)gen_below(&sg->g,
		    (uint32_t)(span - 30 * SEARCH_DAY));
		f->to = f->from + 30 * SEARCH_DAY;
		f->has_from = f->has_to = 1;
		break;
	case SHAPE_THREAD:
		snprintf(text, textlen, "%s", search_term(sg));
		f->text = text;
		f->kind = "comment";
		f->with_thread = 1;
		o->limit = 20;
		break;
	case SHAPE_LIST:
		o->desc = 1;
		o->offset = (int64_t)(run % 10) * SEARCH_PAGE;
		break;
	}
}

static int
search_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
search_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static double
search_pct(double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0.0;
	qsort(v, n, sizeof(*v), search_cmp_double);
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

/* One search as the CLI runs it; returns the matches counted. */
static int64_t
search_once(const char *path, const struct query_filter *f,
    const struct query_order *o, int64_t *ret_rows)
{
	struct query_counts c;
	sqlite3 *db = NULL;
	sqlite3_stmt *st, *det;
	char err[QUERY_ERR_LEN];
	int64_t rows = 0, total = -1;
	int r;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		search_die_sql(db, path);
	sqlite3_busy_timeout(db, 5000);
	search_exec(db, "BEGIN");
	r = query_prepare(db, f, o, &st, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "bench: search: %s (text '%s')\n", err,
		    f->text != NULL ? f->text : "");
		exit(1);
	}
	det = search_stmt(db, search_detail_sql);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		total = sqlite3_column_int64(st, QUERY_COL_TOTAL);
		sqlite3_reset(det);
		sqlite3_bind_int64(det, 1, sqlite3_column_int64(st,
		    QUERY_COL_ID));
		if (sqlite3_step(det) != SQLITE_ROW)
			search_die_sql(db, "item details");
		rows++;
	}
	if (r != SQLITE_DONE)
		search_die_sql(db, "search");
	sqlite3_finalize(det);
	sqlite3_finalize(st);
	/* An empty page: no match, or past the end (as search.c does). */
	if (total < 0) {
		if (query_count(db, f, &c, err, sizeof(err)) < 0) {
			fprintf(stderr, "bench: search: %s\n", err);
			exit(1);
		}
		total = c.items;
	}
	search_exec(db, "COMMIT");
	sqlite3_close(db);
	*ret_rows = rows;
	return total;
}

static void
run_search(const char *parent, int keep)
{
	struct search_gen *sg;
	struct query_filter f;
	struct query_order o;
	const char *e, *reuse;
	char *dir, *path, text[256], author[96], v[64], label[64];
	double *all, *ms, *cpu, build_s, t_all, c0;
	int64_t n = SEARCH_ITEMS, runs = SEARCH_RUNS, nver, t0, matches, rows;
	int64_t *nmatch;
	size_t nall = 0;
	int s, i;

	e = getenv("BENCH_SEARCH_ITEMS");
	if (e != NULL && util_parse_int(e, 0, 100000000, &n) < 0)
		usage();
	e = getenv("BENCH_SEARCH_RUNS");
	if (e != NULL && util_parse_int(e, 1, 100000, &runs) < 0)
		usage();
	if (n == 0)
		return;
	reuse = getenv("BENCH_SEARCH_DIR");
	if (reuse != NULL && reuse[0] != '\0') {
		dir = xstrdup(reuse);
		keep = 1;
	} else {
		reuse = NULL;
		dir = xasprintf("%s/sunarchive-bench-search.XXXXXX", parent);
		if (mkdtemp(dir) == NULL)
			die(dir, errno);
	}
	path = xasprintf("%s/%s", dir, INDEX_FILE);
	sg = xcalloc(1, sizeof(*sg));
	search_gen_init(sg);

	t0 = mono_ns();
	nver = search_build(path, (long)n, sg, reuse != NULL);
	build_s = secs(mono_ns() - t0);

	all = xcalloc((size_t)(runs * SHAPE_COUNT), sizeof(*all));
	ms = xcalloc((size_t)runs, sizeof(*ms));
	cpu = xcalloc((size_t)runs, sizeof(*cpu));
	nmatch = xcalloc((size_t)runs, sizeof(*nmatch));
	printf("\nsearch: %lld items (%lld versions), index %.0f MiB, %s"
	    " %.1f s; %lld runs per shape, each a fresh read-only"
	    " connection: page of %d (with counts) and its items\n",
	    (long long)n, (long long)nver, mib(file_bytes(dir, INDEX_FILE)),
	    reuse != NULL ? "reused (BENCH_SEARCH_DIR), replayed in" :
	    "built in", build_s, (long long)runs, SEARCH_PAGE);
	printf("%-28s %7s %7s %7s %8s %8s  %-9s %s\n", "shape", "p50 ms",
	    "p95 ms", "max ms", "cpu p95", "matches", "target", "result");
	t_all = 0.0;
	for (s = 0; s < SHAPE_COUNT; s++) {
		for (i = 0; i < runs; i++) {
			search_shape(sg, s, i, &f, &o, text, sizeof(text),
			    author, sizeof(author));
			t0 = mono_ns();
			c0 = cpu_s();
			matches = search_once(path, &f, &o, &rows);
			ms[i] = (double)(mono_ns() - t0) / 1e6;
			cpu[i] = (cpu_s() - c0) * 1e3;
			all[nall++] = ms[i];
			nmatch[i] = matches;
			t_all += ms[i];
		}
		{
			double p50, p95, mx;
			int64_t med;

			p50 = search_pct(ms, (size_t)runs, 0.50);
			p95 = search_pct(ms, (size_t)runs, 0.95);
			mx = ms[runs - 1];
			qsort(nmatch, (size_t)runs, sizeof(*nmatch),
			    search_cmp_i64);
			med = nmatch[runs / 2];
			snprintf(v, sizeof(v), "%lld", (long long)med);
			printf("%-28s %7.1f %7.1f %7.1f %8.1f %8s  %-9s %s\n",
			    search_shape_names[s], p50, p95, mx,
			    search_pct(cpu, (size_t)runs, 0.95), v,
			    "p95 < 100", p95 < SEARCH_TARGET_MS ? "ok" :
			    "MISSED");
		}
	}
	snprintf(label, sizeof(label), "all shapes (%zu runs)", nall);
	{
		double p50 = search_pct(all, nall, 0.50);
		double p95 = search_pct(all, nall, 0.95);

		printf("%-28s %7.1f %7.1f %7.1f %8s %8s  %-9s %s\n", label,
		    p50, p95, all[nall - 1], "", "", "p95 < 100",
		    p95 < SEARCH_TARGET_MS ? "ok" : "MISSED");
	}
	printf("  (matches: median items matching per run; total search time"
	    " %.1f s)\n", t_all / 1e3);
	free(all);
	free(ms);
	free(cpu);
	free(nmatch);
	search_gen_free(sg);
	free(sg);
	if (keep)
		printf("kept %s\n", dir);
	else
		nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(path);
	free(dir);
}

/* ---- export: a 10,000-version request package ------------------------- */

/*
 * An archive of EXPORT_VERSIONS item versions written through the store
 * API as capture writes them: per page of `page` items a request and
 * response record (the page's JSON), each item's version referring to
 * that response, one in five items edited (a second version), a media
 * download (request and response) every EXPORT_MEDIA_EVERY items, a
 * removal event every EXPORT_REMOVED_EVERY items. Then the whole of it
 * is exported as one package (export_run(), as 'sunarchive export --all'
 * does), timed from the call to the renamed file: .zip, then redacted
 * as .tar.gz for comparison.
 */
#define EXPORT_VERSIONS		10000
#define EXPORT_MEDIA_EVERY	50
#define EXPORT_MEDIA_BYTES	(24 * 1024)
#define EXPORT_REMOVED_EVERY	97
#define TARGET_EXPORT_S		10.0

static void
export_version(struct store *st, const struct item *it, const char *canon,
    const char *text, const char *source)
{
	struct rec_meta m;
	char hash[HASH_HEX_LEN];
	int r;

	hash_sha256_hex(canon, strlen(canon), hash);
	record_meta_init(&m, REC_VERSION);
	m.account = ACCOUNT;
	m.platform = PLATFORM;
	m.item_id = it->id;
	m.item_kind = it->kind;
	m.parent_id = it->parent[0] != '\0' ? it->parent : NULL;
	m.root_id = it->root[0] != '\0' ? it->root : NULL;
	m.author = it->author;
	m.author_id = it->author_id;
	m.created = it->created;
	m.url = it->url;
	m.refers_to = source;
	m.text = text;
	memcpy(m.content_hash, hash, sizeof(hash));
	r = store_add(st, &m, "application/json", canon, strlen(canon), -1);
	if (r < 0)
		die("store_add (version)", r);
}

/* A request and response pair; the response's record id to ret_id. */
static void
export_exchange(struct store *st, const char *url, const char *ctype,
    const void *body, size_t n, const char *media_key, const char *item_id,
    char ret_id[RECORD_ID_LEN])
{
	struct rec_meta req, res;
	struct buf head, blk;
	int r;

	record_meta_init(&req, REC_REQUEST);
	record_meta_init(&res, REC_RESPONSE);
	req.account = res.account = ACCOUNT;
	req.target_uri = res.target_uri = url;
	req.concurrent_to = res.record_id;
	res.concurrent_to = req.record_id;
	res.media_key = media_key;
	res.item_id = media_key != NULL ? item_id : NULL;
	res.platform = media_key != NULL ? PLATFORM : NULL;
	buf_init(&head, 0);
	buf_printf(&head, "GET %s HTTP/1.1\r\nHost: graph.facebook.com\r\n"
	    "User-Agent: sunarchive-bench\r\n\r\n", url);
	r = store_add(st, &req, "application/http; msgtype=request",
	    head.data, head.len, -1);
	if (r < 0)
		die("store_add (request)", r);
	buf_reset(&head);
	buf_printf(&head, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n\r\n", ctype, n);
	buf_init(&blk, 0);
	buf_append(&blk, head.data, head.len);
	buf_append(&blk, body, n);
	r = store_add(st, &res, "application/http; msgtype=response",
	    blk.data, blk.len, (long)head.len);
	if (r < 0)
		die("store_add (response)", r);
	memcpy(ret_id, res.record_id, RECORD_ID_LEN);
	buf_release(&head);
	buf_release(&blk);
}

static void
export_removed(struct store *st, const struct item *it)
{
	struct rec_meta m;
	char t[32], *block;
	int r;

	record_meta_init(&m, REC_EVENT);
	m.account = ACCOUNT;
	m.platform = PLATFORM;
	m.event = "removed";
	m.item_id = it->id;
	m.item_kind = it->kind;
	util_format_time(m.date - 60, t, sizeof(t));
	block = xasprintf("{\"account\":\"%s\",\"event\":\"removed\","
	    "\"first_missing\":\"%s\",\"item\":\"%s\",\"last_seen\":\"%s\"}",
	    ACCOUNT, t, it->id, t);
	r = store_add(st, &m, "application/json", block, strlen(block), -1);
	free(block);
	if (r < 0)
		die("store_add (event)", r);
}

/* Build the archive in dir; the numbers of what it holds. */
static void
export_build(const char *dir, struct item *chunk, long *ret_items,
    long *ret_media, long *ret_removed)
{
	struct store_recovery rec;
	struct store st;
	struct gen *g = xmalloc(sizeof(*g));
	struct buf body;
	unsigned char *media = xmalloc(EXPORT_MEDIA_BYTES);
	char err[512], source[RECORD_ID_LEN], mid[RECORD_ID_LEN], url[128];
	char key[32], hash[HASH_HEX_LEN], *edit;
	long versions = 0, items = 0, nmedia = 0, removed = 0, k, i, j;
	int64_t acct;
	json_t *c;

	if (store_open(&st, dir, 1024ULL * 1024 * 1024, 86400,
	    "software: sunarchive-bench\r\n", &rec, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench: %s\n", err);
		die("store_open", EIO);
	}
	free(rec.torn_path);
	if (index_account(&st.ix, ACCOUNT, PLATFORM, PAGE_ID, &acct) < 0)
		die("index_account", EIO);
	for (j = 0; j < EXPORT_MEDIA_BYTES; j++)
		media[j] = (unsigned char)(j * 131 + (j >> 7));
	memcpy(media, "\xff\xd8\xff\xe0", 4);	/* a JPEG to the eye */
	gen_init(g);
	buf_init(&body, 0);
	while (versions < EXPORT_VERSIONS) {
		k = page < CHUNK ? page : CHUNK;
		for (i = 0; i < k; i++)
			gen_item(g, &chunk[i]);
		buf_reset(&body);
		buf_puts(&body, "{\"data\":[");
		for (i = 0; i < k; i++) {
			if (i > 0)
				buf_puts(&body, ",");
			buf_append(&body, chunk[i].canon, chunk[i].canon_len);
		}
		buf_puts(&body, "]}");
		snprintf(url, sizeof(url), "https://graph.facebook.com/v25.0/"
		    "%s/feed?after=%ld", PAGE_ID, items);
		export_exchange(&st, url, "application/json", body.data,
		    body.len, NULL, NULL, source);
		for (i = 0; i < k && versions < EXPORT_VERSIONS; i++) {
			export_version(&st, &chunk[i], chunk[i].canon,
			    chunk[i].text, source);
			versions++;
			items++;
			if (versions < EXPORT_VERSIONS && gen_below(g, 5) == 0) {
				/* An edit: the text changes. */
				c = json_loads(chunk[i].canon, 0, NULL);
				json_object_set_new(c, "text", json_pack(
				    "s++", chunk[i].text, " ", "(edited)"));
				edit = record_canonical(c, hash);
				export_version(&st, &chunk[i], edit,
				    json_string_value(json_object_get(c,
				    "text")), source);
				json_decref(c);
				free(edit);
				versions++;
			}
			if (items % EXPORT_MEDIA_EVERY == 0) {
				snprintf(key, sizeof(key), "9%09ld", items);
				snprintf(url, sizeof(url), "https://scontent."
				    "example.net/v/%s_n.jpg", key);
				export_exchange(&st, url, "image/jpeg", media,
				    EXPORT_MEDIA_BYTES, key, chunk[i].id, mid);
				nmedia++;
			}
			if (items % EXPORT_REMOVED_EVERY == 0) {
				export_removed(&st, &chunk[i]);
				removed++;
			}
		}
		if (store_commit(&st) < 0)
			die("store_commit", st.err);
		for (i = 0; i < k; i++)
			item_free(&chunk[i]);
	}
	store_close(&st);
	buf_release(&body);
	free(media);
	free(g);
	*ret_items = items;
	*ret_media = nmedia;
	*ret_removed = removed;
}

/* Export everything in dir to out; the seconds it took. */
static double
export_time(const char *dir, const char *out, unsigned redact,
    struct export_result *res)
{
	struct query_filter f;
	struct export_opts o;
	sqlite3 *db;
	char *path, err[EXPORT_ERR_LEN];
	int64_t t0;
	int r;

	path = xasprintf("%s/%s", dir, INDEX_FILE);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		die(path, EIO);
	free(path);
	query_filter_init(&f);
	memset(&o, 0, sizeof(o));
	o.state_dir = dir;
	o.out = out;
	o.filter = &f;
	o.request_id = "PRR-2026-0001";
	o.description = "bench: every archived item";
	o.redact = redact;
	o.tool_version = "bench";
	o.now = util_now();
	t0 = mono_ns();
	r = export_run(db, &o, res, err, sizeof(err));
	t0 = mono_ns() - t0;
	sqlite3_close(db);
	if (r < 0) {
		fprintf(stderr, "bench: export: %s\n", err);
		die("export_run", r);
	}
	return secs(t0);
}

static void
run_export(const char *parent, int keep)
{
	struct export_result zip, tgz;
	struct item *chunk = xcalloc(CHUNK, sizeof(*chunk));
	char *dir, *out, v[64];
	long items = 0, nmedia = 0, removed = 0;
	double t_zip, t_tgz;

	dir = xasprintf("%s/sunarchive-bench-export.XXXXXX", parent);
	if (mkdtemp(dir) == NULL)
		die(dir, errno);
	export_build(dir, chunk, &items, &nmedia, &removed);
	free(chunk);
	out = xasprintf("%s/request.zip", dir);
	t_zip = export_time(dir, out, 0, &zip);
	free(out);
	out = xasprintf("%s/request-redacted.tar.gz", dir);
	t_tgz = export_time(dir, out, REDACT_F_AUTO, &tgz);
	free(out);

	printf("\nexport: %d versions of %ld items (%lld threads), %ld media,"
	    " %ld removed, archive and index %.1f MiB\n", EXPORT_VERSIONS, items,
	    (long long)zip.threads, nmedia, removed, mib(tree_bytes(dir) -
	    zip.bytes - tgz.bytes));
	row("benchmark", "value", "target", "result");
	snprintf(v, sizeof(v), "%.2f s", t_zip);
	row("export 10,000-version package (.zip)", v, "< 10 s",
	    t_zip < TARGET_EXPORT_S ? "ok" : "MISSED");
	snprintf(v, sizeof(v), "%.1f MiB", mib(zip.bytes));
	row("  package size", v, "", "");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)
	    zip.payload_files);
	row("  payload files", v, "", "");
	snprintf(v, sizeof(v), "%lld", (long long)zip.warc_records);
	row("  WARC records copied", v, "", "");
	snprintf(v, sizeof(v), "%.2f s", t_tgz);
	row("  same, --redact, .tar.gz", v, "", "");
	if (keep)
		printf("kept %s\n", dir);
	else
		nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

int
main(int argc, char **argv)
{
	struct result bare, memb, arch;
	struct item *chunk;
	const char *parent = getenv("TMPDIR");
	char *state, v[64];
	double rss_bare, rss, ratio, vps_bare, vps_arch;
	uint64_t archive_bytes, index_bytes, wal_bytes;
	long n = DEFAULT_N;
	int keep = 0, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--keep") == 0) {
			keep = 1;
		} else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			int64_t x;

			if (util_parse_int(argv[++i], 1, 100000000, &x) < 0)
				usage();
			n = (long)x;
		} else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
			int64_t x;

			if (util_parse_int(argv[++i], 1, 100000, &x) < 0)
				usage();
			page = (long)x;
		} else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			parent = argv[++i];
		} else {
			usage();
		}
	}
	if (parent == NULL || parent[0] == '\0')
		parent = "/tmp";
	state = xasprintf("%s/sunarchive-bench.XXXXXX", parent);
	if (mkdtemp(state) == NULL)
		die(state, errno);
	state_dir = state;
	chunk = xcalloc(CHUNK, sizeof(*chunk));

	run_bare(n, chunk, &bare);
	run_members(n, chunk, &memb);
	rss_bare = peak_rss_mib();
	run_archive(n, state, chunk, &arch);
	rss = peak_rss_mib();
	free(chunk);

	archive_bytes = tree_bytes(state) - file_bytes(state, INDEX_FILE) -
	    file_bytes(state, INDEX_FILE "-wal") -
	    file_bytes(state, INDEX_FILE "-shm");
	index_bytes = file_bytes(state, INDEX_FILE);
	wal_bytes = file_bytes(state, INDEX_FILE "-wal");

	vps_bare = rate((double)n, bare.ns);
	vps_arch = rate((double)n, arch.ns);
	ratio = vps_bare > 0 ? 100.0 * vps_arch / vps_bare : 0.0;

	printf("sunarchive bench: %ld versions, %ld per page (one fdatasync +"
	    " one transaction), state dir %s\n", n, page, state);
	printf("canonical JSON: %.0f bytes/version average, %.1f MiB"
	    " total\n\n", (double)bare.json_bytes / (double)n,
	    mib(bare.json_bytes));
	row("benchmark", "value", "target", "result");
	snprintf(v, sizeof(v), "%.0f", vps_bare);
	row("bare sha256+gzip (versions/s)", v, "", "");
	snprintf(v, sizeof(v), "%.1f", rate(mib(bare.json_bytes), bare.ns));
	row("bare sha256+gzip (MiB/s of JSON)", v, "", "");
	snprintf(v, sizeof(v), "%.0f", vps_arch);
	row("archive path (versions/s)", v, "", "");
	snprintf(v, sizeof(v), "%.1f", rate(mib(arch.json_bytes), arch.ns));
	row("archive path (MiB/s of JSON)", v, "", "");
	snprintf(v, sizeof(v), "%.0f", rate((double)arch.records, arch.ns));
	row("archive path (records/s)", v, "", "");
	snprintf(v, sizeof(v), "%.1f%%", ratio);
	row("archive / bare", v, ">= 50%", ratio >= TARGET_RATIO ? "ok" :
	    "MISSED");
	snprintf(v, sizeof(v), "%.1f MiB", rss);
	row("peak RSS (after archive pass)", v, "< 64 MiB",
	    rss < TARGET_RSS_MIB ? "ok" : "MISSED");
	snprintf(v, sizeof(v), "%.1f MiB", rss_bare);
	row("  peak RSS before archive pass", v, "", "");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)arch.commits);
	row("batches (segment fdatasync + COMMIT)", v, "", "");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)arch.records);
	row("records written (+ warcinfo)", v, "", "");
	snprintf(v, sizeof(v), "%.1f MiB", mib(archive_bytes));
	row("archive on disk", v, "", "");
	snprintf(v, sizeof(v), "%.0f", (double)archive_bytes / (double)n);
	row("  bytes per version", v, "", "");
	snprintf(v, sizeof(v), "%.1f MiB", mib(index_bytes));
	row("index on disk (index.sqlite)", v, "", "");
	snprintf(v, sizeof(v), "%.0f", (double)index_bytes / (double)n);
	row("  bytes per version", v, "", "");
	if (wal_bytes > 0) {
		snprintf(v, sizeof(v), "%.1f MiB", mib(wal_bytes));
		row("  index WAL left after close", v, "", "");
	}

	printf("\nwhere the archive path's %.2f s went (wall clock):\n",
	    secs(arch.ns));
	{
		const struct {
			const char	*name;
			int64_t		 ns;
		} parts[] = {
			{ "content hash (SHA-256 of JSON)", arch.ns_hash },
			{ "store_add (WARC, gzip, write, index)", arch.ns_add },
			{ "item lookups + index_item_seen", arch.ns_lookup },
			{ "segment fdatasync (store_commit)", arch.ns_sync },
			{ "index COMMIT (store_commit)", arch.ns_commit },
		};
		int64_t rest = arch.ns;
		size_t p;

		for (p = 0; p < ARRAY_SIZE(parts); p++) {
			snprintf(v, sizeof(v), "%.3f s", secs(parts[p].ns));
			printf("  %-38s %-16s %5.1f%%  %7.1f us/version\n",
			    parts[p].name, v, 100.0 * (double)parts[p].ns /
			    (double)arch.ns, (double)parts[p].ns / 1e3 /
			    (double)n);
			rest -= parts[p].ns;
		}
		snprintf(v, sizeof(v), "%.3f s", secs(rest));
		printf("  %-38s %-16s %5.1f%%\n", "other (loop, clock reads)", v,
		    100.0 * (double)rest / (double)arch.ns);
		printf("  per page of %ld: fdatasync %.2f ms, COMMIT %.2f ms\n",
		    page, arch.commits > 0 ? (double)arch.ns_sync / 1e6 /
		    (double)arch.commits : 0.0, arch.commits > 0 ?
		    (double)arch.ns_commit / 1e6 / (double)arch.commits : 0.0);
	}
	printf("for comparison, WARC members without write or index"
	    " (content hash, record_to_warc,\n  gzip, SHA-256 of member):"
	    " %.1f us/version, %.0f versions/s, %.0f bytes of WARC record"
	    " each\n", (double)memb.ns / 1e3 / (double)n,
	    rate((double)n, memb.ns), (double)memb.json_bytes / (double)n);
	printf("CPU (user+sys, generation included): bare pass %.2f s,"
	    " archive pass %.2f s; timed wall: bare %.2f s, archive %.2f s\n",
	    bare.cpu, arch.cpu, secs(bare.ns), secs(arch.ns));

	{
		const char *e = getenv("BENCH_OPEN_MIB");
		int64_t target = 1024;
		uint64_t size = 0, recovered = 0;
		double t;

		if (e != NULL && util_parse_int(e, 1, 1 << 20, &target) < 0)
			usage();
		t = run_restart(parent, (uint64_t)target, &size, &recovered);
		printf("\n");
		row("benchmark", "value", "target", "result");
		snprintf(v, sizeof(v), "%.2f s", t);
		{
			char label[64];

			snprintf(label, sizeof(label), "restart-to-ready,"
			    " %.0f MiB open segment", mib(size));
			row(label, v, "<= 5 s", t <= TARGET_READY_S ? "ok" :
			    "MISSED");
		}
		printf("  (open segment %.0f MiB, %llu complete unacknowledged"
		    " record(s) recovered at start)\n", mib(size),
		    (unsigned long long)recovered);
	}

	run_search(parent, keep);
	run_export(parent, keep);

	if (keep) {
		printf("kept %s\n", state);
	} else {
		nftw(state, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	}
	state_dir = NULL;
	free(state);
	return 0;
}
