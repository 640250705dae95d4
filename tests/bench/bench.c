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
 * Always exits 0 once it has run: targets are reported "ok" or "MISSED".
 */
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "compress.h"
#include "hash.h"
#include "index.h"
#include "ledger.h"
#include "record.h"
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

	if (keep) {
		printf("kept %s\n", state);
	} else {
		nftw(state, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	}
	state_dir = NULL;
	free(state);
	return 0;
}
