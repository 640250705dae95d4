/*
 * verify.c - the integrity verifier behind "sunarchive check" (see
 * verify.h for what is checked and the finding codes).
 *
 * The calling thread owns the SQLite handle and does everything that
 * reads the index, inside one read transaction so that every query sees
 * the same snapshot. Segment files are read by a small pool of threads:
 * the calling thread loads a segment's rows, hands the segment to the
 * pool, and merges finished segments strictly in segment order, so the
 * archive's ledger is rebuilt in archive order and findings come out in
 * a stable order whatever the number of threads. A worker touches only
 * its own struct vseg.
 *
 * Nothing here prints or writes: findings are values.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include "buf.h"
#include "checkpoint.h"
#include "hash.h"
#include "index.h"
#include "ledger.h"
#include "merkle.h"
#include "segment.h"
#include "store.h"
#include "tsa.h"
#include "util.h"
#include "verify.h"
#include "xalloc.h"

#define VERIFY_PUB_MAX		4096	/* bytes of a verifier key file */
#define VERIFY_ORPHANS_MAX	100	/* rows without a segment listed */
#define VERIFY_ROOT_SHORT	12	/* hex digits of a root in messages */
#define SHA256_PREFIX		"sha256:"
#define EM_DASH_LINE		"\n\n\xe2\x80\x94 "	/* blank line, sig */

/* --- codes ---------------------------------------------------------------- */

static const struct {
	const char	*id;
	const char	*name;
} codes[VERIFY_CODE_COUNT] = {
	[VERIFY_E001_INDEX_CORRUPT] = { "E001", "index-corrupt" },
	[VERIFY_E002_SEGMENT_MISSING] = { "E002", "segment-missing" },
	[VERIFY_E003_SEGMENT_HASH] = { "E003", "segment-hash-mismatch" },
	[VERIFY_E004_SEGMENT_UNKNOWN] = { "E004", "segment-unknown-file" },
	[VERIFY_E010_RECORD_MISSING] = { "E010", "record-bytes-missing" },
	[VERIFY_E011_RECORD_HASH] = { "E011", "record-hash-mismatch" },
	[VERIFY_E012_RECORD_UNDECODABLE] = { "E012", "record-undecodable" },
	[VERIFY_E013_RECORD_UNINDEXED] = { "E013", "record-unindexed" },
	[VERIFY_E014_RECORD_ID] = { "E014", "record-id-mismatch" },
	[VERIFY_E015_BYTES_UNACCOUNTED] = { "E015", "bytes-unaccounted" },
	[VERIFY_E016_INDEX_DERIVED] = { "E016", "index-derived-mismatch" },
	[VERIFY_E020_CHECKPOINT_SIGNATURE] = { "E020",
	    "checkpoint-signature" },
	[VERIFY_E021_CHECKPOINT_ROOT] = { "E021",
	    "checkpoint-root-mismatch" },
	[VERIFY_E022_CHECKPOINT_SIZE] = { "E022", "checkpoint-size" },
	[VERIFY_E023_AGAINST] = { "E023", "against-mismatch" },
	[VERIFY_E024_TIMESTAMP] = { "E024", "timestamp-invalid" },
	[VERIFY_W001_SEGMENT_WRITABLE] = { "W001", "segment-writable" },
	[VERIFY_W002_CHECKPOINT_UNSIGNED] = { "W002",
	    "checkpoint-unsigned" },
	[VERIFY_W003_SEGMENT_SUSPECT] = { "W003", "segment-suspect" },
	[VERIFY_W004_OPEN_TAIL] = { "W004",
	    "open-segment-unacknowledged-tail" },
	[VERIFY_W005_NO_CHECKPOINTS] = { "W005", "no-checkpoints" },
	[VERIFY_W006_SEAL_PENDING] = { "W006", "segment-seal-pending" },
};

const char *
verify_code_id(enum verify_code code)
{
	return (unsigned)code < VERIFY_CODE_COUNT ? codes[code].id : "E000";
}

const char *
verify_code_name(enum verify_code code)
{
	return (unsigned)code < VERIFY_CODE_COUNT ? codes[code].name :
	    "unknown";
}

enum verify_severity
verify_code_severity(enum verify_code code)
{
	return verify_code_id(code)[0] == 'W' ? VERIFY_WARNING : VERIFY_ERROR;
}

/* --- finding lists -------------------------------------------------------- */

struct flist {
	struct verify_finding	*v;
	size_t			 n;
	size_t			 cap;
};

static void
finding_release(struct verify_finding *f)
{
	size_t i;

	free(f->file);
	free(f->record_id);
	free(f->message);
	for (i = 0; i < f->nitems; i++)
		free(f->items[i]);
	memset(f, 0, sizeof(*f));
}

static void
flist_release(struct flist *fl)
{
	size_t i;

	for (i = 0; i < fl->n; i++)
		finding_release(&fl->v[i]);
	free(fl->v);
	memset(fl, 0, sizeof(*fl));
}

/* Move every finding of from to the end of to; from is left empty. */
static void
flist_take(struct flist *to, struct flist *from)
{
	if (from->n > 0) {
		if (to->n + from->n > to->cap) {
			to->cap = to->n + from->n + 16;
			to->v = xreallocarray(to->v, to->cap, sizeof(*to->v));
		}
		memcpy(to->v + to->n, from->v, from->n * sizeof(*from->v));
		to->n += from->n;
	}
	free(from->v);
	memset(from, 0, sizeof(*from));
}

static struct verify_finding *
flist_vadd(struct flist *fl, enum verify_code code, const char *file,
    int64_t offset, int64_t seq, const char *record_id, const char *fmt,
    va_list ap) __attribute__((format(printf, 7, 0)));

static struct verify_finding *
flist_vadd(struct flist *fl, enum verify_code code, const char *file,
    int64_t offset, int64_t seq, const char *record_id, const char *fmt,
    va_list ap)
{
	struct verify_finding *f;
	char *msg;

	if (fl->n == fl->cap) {
		fl->cap = fl->cap ? 2 * fl->cap : 16;
		fl->v = xreallocarray(fl->v, fl->cap, sizeof(*fl->v));
	}
	f = &fl->v[fl->n++];
	memset(f, 0, sizeof(*f));
	f->code = code;
	f->file = file != NULL ? xstrdup(file) : NULL;
	f->offset = offset;
	f->seq = seq;
	f->record_id = record_id != NULL && record_id[0] != '\0' ?
	    xstrdup(record_id) : NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup("(out of memory formatting the message)");
	f->message = msg;
	return f;
}

static struct verify_finding *
flist_add(struct flist *fl, enum verify_code code, const char *file,
    int64_t offset, int64_t seq, const char *record_id, const char *fmt,
    ...) __attribute__((format(printf, 7, 8)));

static struct verify_finding *
flist_add(struct flist *fl, enum verify_code code, const char *file,
    int64_t offset, int64_t seq, const char *record_id, const char *fmt,
    ...)
{
	struct verify_finding *f;
	va_list ap;

	va_start(ap, fmt);
	f = flist_vadd(fl, code, file, offset, seq, record_id, fmt, ap);
	va_end(ap);
	return f;
}

static void
finding_add_item(struct verify_finding *f, const char *item)
{
	size_t i;

	if (item == NULL || item[0] == '\0')
		return;
	for (i = 0; i < f->nitems; i++)
		if (strcmp(f->items[i], item) == 0)
			return;
	if (f->nitems == VERIFY_MAX_ITEMS) {
		f->more_items++;
		return;
	}
	f->items[f->nitems++] = xstrdup(item);
}

/* Sort by offset (none first), keeping the order of equal offsets. */
static int
by_offset(const void *a, const void *b)
{
	const struct verify_finding *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* --- small helpers -------------------------------------------------------- */

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
unhex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* 64 lower-case hex digits into 32 bytes. */
static int
hex32(const char *s, uint8_t out[HASH_LEN])
{
	size_t i;

	if (s == NULL || strlen(s) != 2 * HASH_LEN)
		return -EINVAL;
	for (i = 0; i < HASH_LEN; i++) {
		int hi = unhex(s[2 * i]), lo = unhex(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Standard base64 with padding; a new buffer in *ret (*ret_len bytes). */
static int
b64_decode(const char *s, size_t n, unsigned char **ret, size_t *ret_len)
{
	unsigned char *out;
	size_t i, pad;
	int len;

	if (n == 0 || n % 4 != 0 || n > TSA_MAX_DER * 2)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/')
			continue;
		if (ch == '=' && (i == n - 1 || (i == n - 2 &&
		    s[n - 1] == '=')))
			continue;
		return -EINVAL;
	}
	pad = (s[n - 1] == '=') + (s[n - 2] == '=');
	out = xmalloc(n / 4 * 3 + 1);
	len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (len < 0 || (size_t)len < pad) {
		free(out);
		return -EINVAL;
	}
	*ret = out;
	*ret_len = (size_t)len - pad;
	return 0;
}

/* The first VERIFY_ROOT_SHORT hex digits of a 32-byte hash. */
static char *
short_hex(const uint8_t h[HASH_LEN], char *buf, size_t len)
{
	char hex[HASH_HEX_LEN];

	util_hex(h, HASH_LEN, hex);
	snprintf(buf, len, "%.*s", VERIFY_ROOT_SHORT, hex);
	return buf;
}

/* off + len <= size without overflow. */
static int
fits(uint64_t off, uint64_t len, uint64_t size)
{
	return len <= size && off <= size - len;
}

/* Read a small file whole (at most max bytes); a new NUL-ended string. */
static int
read_small(const char *path, size_t max, char **ret, size_t *ret_len)
{
	struct stat sb;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		r = S_ISREG(sb.st_mode) ? -errno : -EINVAL;
		close(fd);
		return r;
	}
	if ((uint64_t)sb.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (got < (size_t)sb.st_size) {
		n = read(fd, buf + got, (size_t)sb.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[got] = '\0';
	*ret = buf;
	if (ret_len != NULL)
		*ret_len = got;
	return 0;
}

/* Drop trailing newlines and blanks, as checkpoint_verifier_load(). */
static void
rtrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
	    s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

/* --- Merkle roots at chosen sizes, computed while leaves stream by -------- */

struct roots {
	uint64_t		*sizes;		/* sorted, unique */
	uint8_t			(*root)[MERKLE_HASH_LEN];
	unsigned char		*have;
	size_t			 n;
	size_t			 next;
	struct merkle_range	 range;
};

static int
by_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
roots_take(struct roots *t)
{
	while (t->next < t->n && t->sizes[t->next] == t->range.size) {
		merkle_range_root(&t->range, t->root[t->next]);
		t->have[t->next] = 1;
		t->next++;
	}
}

static void
roots_init(struct roots *t, const uint64_t *sizes, size_t n)
{
	size_t i, k = 0;

	memset(t, 0, sizeof(*t));
	merkle_range_init(&t->range);
	if (n == 0)
		return;
	t->sizes = xreallocarray(NULL, n, sizeof(*t->sizes));
	memcpy(t->sizes, sizes, n * sizeof(*sizes));
	qsort(t->sizes, n, sizeof(*t->sizes), by_u64);
	for (i = 0; i < n; i++)
		if (k == 0 || t->sizes[k - 1] != t->sizes[i])
			t->sizes[k++] = t->sizes[i];
	t->n = k;
	t->root = xcalloc(k, sizeof(*t->root));
	t->have = xcalloc(k, 1);
	roots_take(t);		/* size 0: the empty tree */
}

static void
roots_add(struct roots *t, const uint8_t leaf[MERKLE_HASH_LEN])
{
	if (merkle_range_append(&t->range, leaf) == 0)
		roots_take(t);
}

/* The root of the first size leaves, or NULL if there were fewer. */
static const uint8_t *
roots_get(const struct roots *t, uint64_t size)
{
	uint64_t *p;
	size_t i;

	p = bsearch(&size, t->sizes, t->n, sizeof(*t->sizes), by_u64);
	if (p == NULL)
		return NULL;
	i = (size_t)(p - t->sizes);
	return t->have[i] ? t->root[i] : NULL;
}

static void
roots_release(struct roots *t)
{
	free(t->sizes);
	free(t->root);
	free(t->have);
	memset(t, 0, sizeof(*t));
}

/* --- what is checked: rows, segments, checkpoints ------------------------- */

/* One records row of a segment. */
struct vrow {
	int64_t		 seq;
	uint64_t	 offset;
	uint64_t	 length;
	char		 sha[HASH_HEX_LEN];
	char		*record_id;
	char		 type[16];
	/* Full mode: what the index derived from the record. */
	int		 has_version;
	char		*v_hash;
	char		*v_text;	/* NULL for SQL NULL */
	char		*v_item;
	int		 has_event;
	char		*e_type;
	char		*e_detail;
	size_t		 e_detail_len;
	int		 matched;	/* a member was found at its offset */
};

/* A checkpoint or timestamp record met in the archive (full mode). */
struct acp {
	int		 timestamp;	/* a "timestamp" event */
	char		*record_id;
	char		*detail;	/* the record's JSON block */
	uint64_t	 offset;
	char		*file;
};

struct vseg {
	int64_t		 id;
	unsigned	 num;		/* from the name; UINT32_MAX if odd */
	char		*name;
	int		 sealed;	/* sealed in the index */
	int64_t		 sealed_time;
	int		 have_size;
	uint64_t	 size;
	char		 sha[HASH_HEX_LEN];
	int		 suspect;
	/* Decided by the calling thread before the worker runs. */
	int		 present;	/* there is a file to read */
	int		 read_open;	/* it is NAME.open */
	int		 check;		/* hash, mode, tiling */
	int		 scan;		/* full: member by member */
	int		 leaves_from_rows;	/* full, not scanned */
	struct vrow	*rows;
	size_t		 nrows;
	/* Results, written by the worker. */
	struct flist	 found;
	uint8_t		(*leaves)[MERKLE_HASH_LEN];
	size_t		 nleaves;
	size_t		 capleaves;
	struct acp	*acps;
	size_t		 nacps;
	uint64_t	 bytes;
	uint64_t	 members;
	int		 io_err;
	char		 io_msg[256];
	int		 done;
};

struct vcp {
	int64_t		 id;
	int64_t		 seq;		/* 0 for NULL */
	int64_t		 size;
	char		*root;		/* hex, as stored */
	int64_t		 time;
	char		*note;
	size_t		 note_len;
	char		*signer;	/* NULL: unsigned */
	unsigned char	*token;
	size_t		 token_len;
	char		*record_id;	/* NULL: no such record */
	char		*file;		/* segment of the record */
	int64_t		 offset;
	int64_t		 pos;		/* leaf index of its record, -1 */
	int64_t		 last_other;	/* last non-warcinfo leaf before */
	int		 signed_note;
	int		 token_archived;	/* its timestamp record seen */
	int		 note_ok;	/* parsed (and verified if signed) */
	struct checkpoint cp;		/* from the note, when note_ok */
};

/* One checkpoint of the --against list. */
struct vag {
	char		*record_id;
	uint64_t	 size;
	char		*root;
	char		*note;
	char		*token64;
};

struct vctx {
	const struct verify_opts *o;
	struct verify_report	*rep;
	char			*err;
	size_t			 errlen;
	sqlite3			*db;
	int			 own_db;
	int			 in_txn;
	int			 index_bad;	/* unreadable: stop using it */
	int			 schema;
	char			*index_path;
	char			*archive_dir;
	struct flist		 fl;		/* findings, in report order */
	struct flist		 ledger_fl;	/* from the index's ledger */
	struct vseg		*segs;
	size_t			 nsegs;
	struct vcp		*cps;
	size_t			 ncps;
	struct vag		*ag;
	size_t			 nag;
	char			*ag_file;	/* basename for findings */
	struct checkpoint_verifier *ag_v;
	struct checkpoint_verifier *v;	/* for the index's checkpoints */
	char			*v_name;
	char			*v_text;
	int			 v_missing;	/* E020 reported for it */
	struct roots		 iroots;	/* over the index */
	struct roots		 aroots;	/* over the archive */
	uint64_t		 ileaves;
	uint64_t		 aleaves;
	struct acp		*acps;		/* met in the archive */
	size_t			 nacps;
};

static void
row_release(struct vrow *r)
{
	free(r->record_id);
	free(r->v_hash);
	free(r->v_text);
	free(r->v_item);
	free(r->e_type);
	free(r->e_detail);
}

static void
seg_release_rows(struct vseg *s)
{
	size_t i;

	for (i = 0; i < s->nrows; i++)
		row_release(&s->rows[i]);
	free(s->rows);
	s->rows = NULL;
	s->nrows = 0;
}

static void
seg_release(struct vseg *s)
{
	size_t i;

	seg_release_rows(s);
	flist_release(&s->found);
	free(s->leaves);
	for (i = 0; i < s->nacps; i++) {
		free(s->acps[i].record_id);
		free(s->acps[i].detail);
		free(s->acps[i].file);
	}
	free(s->acps);
	free(s->name);
}

static void
seg_leaf(struct vseg *s, const char *sha_hex)
{
	uint8_t leaf[MERKLE_HASH_LEN];

	if (ledger_leaf(sha_hex, leaf) < 0)
		memset(leaf, 0, sizeof(leaf));	/* cannot match anything */
	if (s->nleaves == s->capleaves) {
		s->capleaves = s->capleaves ? 2 * s->capleaves : 64;
		s->leaves = xreallocarray(s->leaves, s->capleaves,
		    sizeof(*s->leaves));
	}
	memcpy(s->leaves[s->nleaves++], leaf, MERKLE_HASH_LEN);
}

/* --- the worker: one segment file ----------------------------------------- */

/* What a worker needs besides its segment; read-only. */
struct wenv {
	const char	*archive_dir;
};

struct scan_ctx {
	struct vseg		*s;
	const char		*file;
	const unsigned char	*map;
	uint64_t		 size;
	size_t			 ri;		/* next row, by offset */
	uint64_t		 last_end;	/* end of the last row */
	uint64_t		 tail_n;	/* unacknowledged members */
	uint64_t		 tail_bytes;
	uint64_t		 tail_first;
};

/* "urn:uuid:..." of "<urn:uuid:...>" into buf. */
static const char *
record_id_of(const struct warc_parsed *p, char *buf, size_t len)
{
	const char *v = warc_get(p, "WARC-Record-ID");
	size_t n;

	if (v == NULL)
		return "";
	n = strlen(v);
	if (n >= 2 && v[0] == '<' && v[n - 1] == '>')
		snprintf(buf, len, "%.*s", (int)(n - 2), v + 1);
	else
		snprintf(buf, len, "%s", v);
	return buf;
}

static int
same_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* WARC-Payload-Digest of a response: the HTTP body after its head. */
static int
payload_ok(const struct warc_parsed *p)
{
	const char *want = warc_get(p, "WARC-Payload-Digest"), *body;
	unsigned char md[HASH_LEN];
	char b32[HASH_B32_LEN], got[sizeof(SHA256_PREFIX) + HASH_B32_LEN];
	size_t n;

	if (want == NULL || strncmp(want, SHA256_PREFIX,
	    strlen(SHA256_PREFIX)) != 0)
		return 1;	/* none, or an algorithm we do not write */
	body = memmem(p->block, p->block_len, "\r\n\r\n", 4);
	if (body != NULL) {
		body += 4;
		n = p->block_len - (size_t)(body - p->block);
	} else {
		body = p->block;
		n = p->block_len;
	}
	hash_sha256(body, n, md);
	hash_base32(md, b32);
	snprintf(got, sizeof(got), "%s%s", SHA256_PREFIX, b32);
	return strcmp(got, want) == 0;
}

/* Full mode: the index rows derived from a record agree with it. */
static void
check_derived(struct scan_ctx *sc, const struct segment_member *m,
    struct vrow *row)
{
	struct vseg *s = sc->s;
	const char *type = warc_get(&m->rec, "WARC-Type");
	const char *event = warc_get(&m->rec, "X-Sunarchive-Event");
	struct warc_parsed *p = (struct warc_parsed *)&m->rec;
	struct rec_meta meta;
	json_t *owned = NULL;

	if (strcmp(type, "conversion") == 0) {
		if (record_from_warc(p, &meta, &owned) < 0) {
			flist_add(&s->found, VERIFY_E012_RECORD_UNDECODABLE,
			    sc->file, (int64_t)m->offset, row->seq,
			    row->record_id, "the conversion record lacks the"
			    " fields of an item version");
			return;
		}
		if (!row->has_version)
			flist_add(&s->found, VERIFY_E016_INDEX_DERIVED,
			    sc->file, (int64_t)m->offset, row->seq,
			    row->record_id, "the index has no version for"
			    " this item version record (item %s)",
			    meta.item_id);
		else if (!same_text(row->v_hash, meta.content_hash))
			flist_add(&s->found, VERIFY_E016_INDEX_DERIVED,
			    sc->file, (int64_t)m->offset, row->seq,
			    row->record_id, "the index's content hash of this"
			    " version differs from the record's");
		else if (!same_text(row->v_item, meta.item_id))
			flist_add(&s->found, VERIFY_E016_INDEX_DERIVED,
			    sc->file, (int64_t)m->offset, row->seq,
			    row->record_id, "the index files this version"
			    " under item %s, the record says %s",
			    row->v_item != NULL ? row->v_item : "(none)",
			    meta.item_id);
		else if (!same_text(row->v_text, meta.text))
			flist_add(&s->found, VERIFY_E016_INDEX_DERIVED,
			    sc->file, (int64_t)m->offset, row->seq,
			    row->record_id, "the index's text of this"
			    " version differs from the archived content");
		json_decref(owned);
		if (row->has_event)
			flist_add(&s->found, VERIFY_E016_INDEX_DERIVED,
			    sc->file, (int64_t)m->offset, row->seq,
			    row->record_id, "an event row points at this"
			    " item version record");
		return;
	}
	if (row->has_version)
		flist_add(&s->found, VERIFY_E016_INDEX_DERIVED, sc->file,
		    (int64_t)m->offset, row->seq, row->record_id, "a version"
		    " row points at this %s record", type);
	if (strcmp(type, "metadata") != 0 || event == NULL) {
		if (row->has_event)
			flist_add(&s->found, VERIFY_E016_INDEX_DERIVED,
			    sc->file, (int64_t)m->offset, row->seq,
			    row->record_id, "an event row points at this"
			    " %s record", type);
		return;
	}
	if (!row->has_event)
		flist_add(&s->found, VERIFY_E016_INDEX_DERIVED, sc->file,
		    (int64_t)m->offset, row->seq, row->record_id, "the index"
		    " has no event row for this '%s' event", event);
	else if (!same_text(row->e_type, event))
		flist_add(&s->found, VERIFY_E016_INDEX_DERIVED, sc->file,
		    (int64_t)m->offset, row->seq, row->record_id, "the index"
		    " calls this '%s' event '%s'", event, row->e_type != NULL ?
		    row->e_type : "(none)");
	else if (row->e_detail == NULL ||
	    row->e_detail_len != m->rec.block_len ||
	    memcmp(row->e_detail, m->rec.block, m->rec.block_len) != 0)
		flist_add(&s->found, VERIFY_E016_INDEX_DERIVED, sc->file,
		    (int64_t)m->offset, row->seq, row->record_id, "the"
		    " index's detail of this '%s' event differs from the"
		    " record", event);
}

/* Remember a checkpoint or timestamp record for the calling thread. */
static void
note_checkpoint(struct scan_ctx *sc, const struct segment_member *m,
    const char *record_id)
{
	const char *event = warc_get(&m->rec, "X-Sunarchive-Event");
	const char *type = warc_get(&m->rec, "WARC-Type");
	struct vseg *s = sc->s;
	struct acp *a;

	if (event == NULL || strcmp(type, "metadata") != 0 ||
	    (strcmp(event, "checkpoint") != 0 &&
	    strcmp(event, "timestamp") != 0))
		return;
	s->acps = xreallocarray(s->acps, s->nacps + 1, sizeof(*s->acps));
	a = &s->acps[s->nacps++];
	a->timestamp = strcmp(event, "timestamp") == 0;
	a->record_id = xstrdup(record_id);
	a->detail = xstrndup(m->rec.block, m->rec.block_len);
	a->offset = m->offset;
	a->file = xstrdup(sc->file);
}

static int
scan_member(const struct segment_member *m, void *arg)
{
	struct scan_ctx *sc = arg;
	struct vseg *s = sc->s;
	struct vrow *row = NULL;
	char rid[256];
	const char *id, *type, *item;

	if (!fits(m->offset, m->length, sc->size))
		return 1;	/* written after we looked: not ours to judge */
	while (sc->ri < s->nrows && s->rows[sc->ri].offset < m->offset)
		sc->ri++;
	if (sc->ri < s->nrows && s->rows[sc->ri].offset == m->offset)
		row = &s->rows[sc->ri++];
	s->members++;
	id = record_id_of(&m->rec, rid, sizeof(rid));
	if (row == NULL) {
		item = warc_get(&m->rec, "X-Sunarchive-Item-Id");
		if (sc->s->read_open && m->offset >= sc->last_end) {
			if (sc->tail_n++ == 0)
				sc->tail_first = m->offset;
			sc->tail_bytes += m->length;
		} else {
			struct verify_finding *f;

			f = flist_add(&s->found, VERIFY_E013_RECORD_UNINDEXED,
			    sc->file, (int64_t)m->offset, 0, id, "a complete"
			    " %s record (%zu bytes) that the index does not"
			    " know", warc_get(&m->rec, "WARC-Type"),
			    m->length);
			finding_add_item(f, item);
		}
		note_checkpoint(sc, m, id);
		seg_leaf(s, m->sha256);
		return 0;
	}
	row->matched = 1;
	note_checkpoint(sc, m, id);
	seg_leaf(s, m->sha256);
	if (m->length != row->length || strcmp(m->sha256, row->sha) != 0) {
		flist_add(&s->found, VERIFY_E011_RECORD_HASH, sc->file,
		    (int64_t)m->offset, row->seq, row->record_id, "stored"
		    " bytes do not match the index (%zu bytes, SHA-256"
		    " %.12s...; the index says %llu bytes, %.12s...)",
		    m->length, m->sha256, (unsigned long long)row->length,
		    row->sha);
		return 0;
	}
	type = warc_get(&m->rec, "WARC-Type");
	if (strcmp(id, row->record_id) != 0 || strcmp(type, row->type) != 0) {
		flist_add(&s->found, VERIFY_E014_RECORD_ID, sc->file,
		    (int64_t)m->offset, row->seq, row->record_id, "the record"
		    " here is %s %s; the index says %s %s", type, id,
		    row->type, row->record_id);
		return 0;
	}
	if (!payload_ok(&m->rec)) {
		flist_add(&s->found, VERIFY_E012_RECORD_UNDECODABLE, sc->file,
		    (int64_t)m->offset, row->seq, row->record_id,
		    "WARC-Payload-Digest does not match the payload");
		return 0;
	}
	check_derived(sc, m, row);
	return 0;
}

/*
 * Bytes at sc->pos that do not decode: an indexed record whose bytes are
 * bad, or bytes that are no record. Returns where to scan on from.
 */
static uint64_t
scan_resync(struct scan_ctx *sc, uint64_t at)
{
	struct vseg *s = sc->s;
	struct vrow *row;
	char sha[HASH_HEX_LEN];
	uint64_t next;

	while (sc->ri < s->nrows && s->rows[sc->ri].offset < at)
		sc->ri++;
	if (sc->ri < s->nrows && s->rows[sc->ri].offset == at) {
		row = &s->rows[sc->ri++];
		row->matched = 1;
		if (!fits(row->offset, row->length, sc->size)) {
			flist_add(&s->found, VERIFY_E010_RECORD_MISSING,
			    sc->file, (int64_t)at, row->seq, row->record_id,
			    "the record's bytes are cut off: it needs %llu"
			    " bytes, the file ends %llu bytes after its start",
			    (unsigned long long)row->length,
			    (unsigned long long)(sc->size - at));
			return sc->size;
		}
		hash_sha256_hex(sc->map + at, (size_t)row->length, sha);
		seg_leaf(s, sha);
		if (strcmp(sha, row->sha) != 0)
			flist_add(&s->found, VERIFY_E011_RECORD_HASH,
			    sc->file, (int64_t)at, row->seq, row->record_id,
			    "stored bytes do not match the index and do not"
			    " decode (SHA-256 %.12s...; the index says"
			    " %.12s...)", sha, row->sha);
		else
			flist_add(&s->found, VERIFY_E012_RECORD_UNDECODABLE,
			    sc->file, (int64_t)at, row->seq, row->record_id,
			    "the bytes are as indexed but are not a gzip member"
			    " holding one valid WARC record (CRC, length,"
			    " Content-Length or WARC-Block-Digest)");
		return row->offset + row->length;
	}
	if (sc->ri < s->nrows) {
		next = s->rows[sc->ri].offset;
		flist_add(&s->found, VERIFY_E015_BYTES_UNACCOUNTED, sc->file,
		    (int64_t)at, 0, NULL, "%llu bytes before the next record"
		    " are no record", (unsigned long long)(next - at));
		return next;
	}
	if (s->read_open && at >= sc->last_end)
		flist_add(&s->found, VERIFY_W004_OPEN_TAIL, sc->file,
		    (int64_t)at, 0, NULL, "%llu bytes of torn tail after the"
		    " last complete record; sunarchived quarantines them at"
		    " start (unless they were written after this check read"
		    " the index)", (unsigned long long)(sc->size - at));
	else
		flist_add(&s->found, VERIFY_E015_BYTES_UNACCOUNTED, sc->file,
		    (int64_t)at, 0, NULL, "%llu bytes after the last record do"
		    " not decode (torn, appended or overwritten bytes)",
		    (unsigned long long)(sc->size - at));
	return sc->size;
}

/* Full mode: read the segment member by member. */
static void
seg_scan(struct vseg *s, const char *path, int fd, const char *file,
    const unsigned char *map, uint64_t size)
{
	char fdpath[64];
	struct scan_ctx sc;
	uint64_t pos = 0, good = 0;
	size_t i;
	int r;

	memset(&sc, 0, sizeof(sc));
	sc.s = s;
	sc.file = file;
	sc.map = map;
	sc.size = size;
	for (i = 0; i < s->nrows; i++)
		if (s->rows[i].offset + s->rows[i].length > sc.last_end)
			sc.last_end = s->rows[i].offset + s->rows[i].length;
	/*
	 * segment_scan() opens by name: give it the file this worker holds
	 * open, so that a rename by sunarchived (sealing) cannot get in
	 * between. Without /proc, the name itself.
	 */
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	while (pos < size) {
		r = segment_scan(access(fdpath, R_OK) == 0 ? fdpath : path, pos,
		    scan_member, &sc, &good);
		if (r < 0) {
			s->io_err = r;
			snprintf(s->io_msg, sizeof(s->io_msg), "cannot read"
			    " '%s': %s", path, strerror(-r));
			return;
		}
		if (good >= size)
			break;
		pos = scan_resync(&sc, good);
	}
	if (sc.tail_n > 0)
		flist_add(&s->found, VERIFY_W004_OPEN_TAIL, file,
		    (int64_t)sc.tail_first, 0, NULL, "%llu complete record(s)"
		    " (%llu bytes) after the last acknowledged one:"
		    " unacknowledged tail, sunarchived recovers it at start"
		    " (or written after this check read the index)",
		    (unsigned long long)sc.tail_n,
		    (unsigned long long)sc.tail_bytes);
	/* Index -> archive: rows no member answered. */
	for (i = 0; i < s->nrows; i++) {
		struct vrow *row = &s->rows[i];

		if (row->matched)
			continue;
		if (!fits(row->offset, row->length, size))
			flist_add(&s->found, VERIFY_E010_RECORD_MISSING, file,
			    (int64_t)row->offset, row->seq, row->record_id,
			    "the record's bytes are missing: it ends at %llu,"
			    " the file has %llu bytes",
			    (unsigned long long)(row->offset + row->length),
			    (unsigned long long)size);
		else
			flist_add(&s->found, VERIFY_E011_RECORD_HASH, file,
			    (int64_t)row->offset, row->seq, row->record_id,
			    "no record starts at the offset the index gives"
			    " (%llu bytes, SHA-256 %.12s...)",
			    (unsigned long long)row->length, row->sha);
	}
}

/* Quick mode: the rows tile the file. */
static void
seg_tiling(struct vseg *s, const char *file, uint64_t size)
{
	uint64_t end = 0;
	size_t i;

	for (i = 0; i < s->nrows; i++) {
		struct vrow *row = &s->rows[i];

		if (row->offset > end)
			flist_add(&s->found, VERIFY_E015_BYTES_UNACCOUNTED,
			    file, (int64_t)end, 0, NULL, "%llu bytes before"
			    " the next record are not covered by any record",
			    (unsigned long long)(row->offset - end));
		else if (row->offset < end)
			flist_add(&s->found, VERIFY_E015_BYTES_UNACCOUNTED,
			    file, (int64_t)row->offset, row->seq,
			    row->record_id, "the record overlaps the one"
			    " before it, which ends at %llu",
			    (unsigned long long)end);
		if (!fits(row->offset, row->length, size))
			flist_add(&s->found, VERIFY_E010_RECORD_MISSING, file,
			    (int64_t)row->offset, row->seq, row->record_id,
			    "the record's bytes are missing: it ends at %llu,"
			    " the file has %llu bytes",
			    (unsigned long long)(row->offset + row->length),
			    (unsigned long long)size);
		if (row->offset + row->length > end &&
		    row->offset + row->length >= row->offset)
			end = row->offset + row->length;
	}
	if (end >= size)
		return;
	if (s->read_open)
		flist_add(&s->found, VERIFY_W004_OPEN_TAIL, file,
		    (int64_t)end, 0, NULL, "%llu bytes after the last"
		    " acknowledged record: unacknowledged tail, sunarchived"
		    " recovers it at start (or written after this check read"
		    " the index)",
		    (unsigned long long)(size - end));
	else
		flist_add(&s->found, VERIFY_E015_BYTES_UNACCOUNTED, file,
		    (int64_t)end, 0, NULL, "%llu bytes after the last record",
		    (unsigned long long)(size - end));
}

static void
seg_work(const struct wenv *env, struct vseg *s)
{
	char *path, *file, sha[HASH_HEX_LEN];
	unsigned char *map = NULL;
	struct stat sb;
	uint64_t size;
	size_t i;
	int fd;

	if (!s->check || !s->present) {
		if (s->leaves_from_rows)
			for (i = 0; i < s->nrows; i++)
				seg_leaf(s, s->rows[i].sha);
		return;
	}
	path = segment_path(env->archive_dir, s->name, s->read_open);
	file = xasprintf("%s%s", s->name, s->read_open ?
	    SEGMENT_SUFFIX_OPEN : "");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT && s->read_open) {
		/* Sealed (renamed) by sunarchived since the listing. */
		free(path);
		free(file);
		s->read_open = 0;
		path = segment_path(env->archive_dir, s->name, 0);
		file = xstrdup(s->name);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0)
			flist_add(&s->found, VERIFY_W006_SEAL_PENDING, file, -1,
			    0, NULL, "sealed while this check ran");
	}
	if (fd < 0 && (errno == ENOENT || errno == ELOOP)) {
		flist_add(&s->found, VERIFY_E002_SEGMENT_MISSING, file, -1, 0,
		    NULL, "the segment file %s (%zu records)", errno == ELOOP ?
		    "is a symbolic link" : "disappeared", s->nrows);
		goto out;
	}
	if (fd < 0 || fstat(fd, &sb) < 0) {
		s->io_err = -errno;
		snprintf(s->io_msg, sizeof(s->io_msg), "cannot read '%s': %s",
		    path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(sb.st_mode)) {
		flist_add(&s->found, VERIFY_E002_SEGMENT_MISSING, file, -1, 0,
		    NULL, "the segment is not a regular file");
		goto out_close;
	}
	size = (uint64_t)sb.st_size;
	if (size > 0) {
		map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			map = NULL;
			s->io_err = -errno;
			snprintf(s->io_msg, sizeof(s->io_msg), "cannot map"
			    " '%s': %s", path, strerror(errno));
			goto out_close;
		}
		madvise(map, (size_t)size, MADV_SEQUENTIAL);
	}
	if ((s->sealed && !s->read_open) || s->scan)
		s->bytes = size;	/* what was hashed or read back */
	if (s->sealed && !s->read_open) {
		if ((sb.st_mode & 0222) != 0)
			flist_add(&s->found, VERIFY_W001_SEGMENT_WRITABLE, file,
			    -1, 0, NULL, "a sealed segment is writable (mode"
			    " %04o, want 0440)",
			    (unsigned)(sb.st_mode & 07777));
		hash_sha256_hex(map != NULL ? (const void *)map : "",
		    (size_t)size, sha);
		if (!s->have_size || s->sha[0] == '\0')
			flist_add(&s->found, VERIFY_E003_SEGMENT_HASH, file,
			    -1, 0, NULL, "the index has no SHA-256 or size for"
			    " this sealed segment");
		else if (size != s->size || strcmp(sha, s->sha) != 0)
			flist_add(&s->found, VERIFY_E003_SEGMENT_HASH, file,
			    -1, 0, NULL, "the file (%llu bytes, SHA-256"
			    " %.12s...) is not the segment sealed (%llu bytes,"
			    " SHA-256 %.12s...)", (unsigned long long)size, sha,
			    (unsigned long long)s->size, s->sha);
	}
	if (s->scan)
		seg_scan(s, path, fd, file, map, size);
	else {
		seg_tiling(s, file, size);
		if (s->leaves_from_rows)
			for (i = 0; i < s->nrows; i++)
				seg_leaf(s, s->rows[i].sha);
	}
	if (map != NULL)
		munmap(map, (size_t)size);
out_close:
	if (fd >= 0)
		close(fd);
out:
	if (s->found.n > 1)
		qsort(s->found.v, s->found.n, sizeof(*s->found.v), by_offset);
	free(file);
	free(path);
}

/* --- the reader threads --------------------------------------------------- */

struct pool {
	pthread_mutex_t	 mu;
	pthread_cond_t	 work;
	pthread_cond_t	 done;
	struct vseg	*segs;
	size_t		 submitted;
	size_t		 taken;
	int		 closing;
	struct wenv	 env;
};

static void *
pool_thread(void *arg)
{
	struct pool *p = arg;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->taken == p->submitted && !p->closing)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->taken == p->submitted) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		i = p->taken++;
		pthread_mutex_unlock(&p->mu);
		seg_work(&p->env, &p->segs[i]);
		pthread_mutex_lock(&p->mu);
		p->segs[i].done = 1;
		pthread_cond_broadcast(&p->done);
		pthread_mutex_unlock(&p->mu);
	}
}

static void
pool_wait(struct pool *p, size_t i)
{
	pthread_mutex_lock(&p->mu);
	while (!p->segs[i].done)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

static void
pool_submit(struct pool *p, size_t n)
{
	pthread_mutex_lock(&p->mu);
	p->submitted = n;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
}

static void
pool_close(struct pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->closing = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
}

/* --- the index ------------------------------------------------------------ */

static int
corrupt_rc(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB ||
	    rc == SQLITE_FORMAT || rc == SQLITE_ERROR ||
	    rc == SQLITE_MISMATCH || rc == SQLITE_SCHEMA ||
	    rc == SQLITE_RANGE || rc == SQLITE_TOOBIG;
}

/*
 * A failed SQLite call. A damaged index is a finding (E001) and the
 * checks that need it stop (-EBADMSG); anything else (I/O, locking,
 * permissions) means the check cannot run (-EIO, message in err).
 */
static int
sql_fail(struct vctx *c, int rc, const char *what)
{
	const char *msg = c->db != NULL ? sqlite3_errmsg(c->db) :
	    sqlite3_errstr(rc);

	if (corrupt_rc(rc)) {
		if (!c->index_bad)
			flist_add(&c->fl, VERIFY_E001_INDEX_CORRUPT,
			    INDEX_FILE, -1, 0, NULL, "cannot read the index"
			    " (%s): %s", what, msg);
		c->index_bad = 1;
		return -EBADMSG;
	}
	snprintf(c->err, c->errlen, "cannot read index '%s' (%s): %s",
	    c->index_path, what, msg);
	return -EIO;
}

static int
sql_prepare(struct vctx *c, const char *sql, sqlite3_stmt **ret,
    const char *what)
{
	int rc;

	*ret = NULL;
	rc = sqlite3_prepare_v2(c->db, sql, -1, ret, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(*ret);
		*ret = NULL;
		return sql_fail(c, rc, what);
	}
	return 0;
}

/* A column as a new string (its bytes up to a NUL), NULL for NULL. */
static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s;

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	s = sqlite3_column_text(st, i);
	if (s == NULL)
		return xstrdup("");
	return xstrndup((const char *)s, (size_t)sqlite3_column_bytes(st,
	    i));
}

static void
col_copy(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	size_t n = s != NULL ? (size_t)sqlite3_column_bytes(st, i) : 0;

	if (n >= len)
		n = len - 1;
	if (n > 0)
		memcpy(buf, s, n);
	buf[n] = '\0';
}

static int
vindex_open(struct vctx *c)
{
	sqlite3_stmt *st;
	struct stat sb;
	int64_t app = 0;
	int rc, r;

	if (c->o->db != NULL) {
		c->db = c->o->db;
	} else {
		if (stat(c->index_path, &sb) < 0) {
			r = -errno;
			snprintf(c->err, c->errlen, "cannot open index '%s':"
			    " %s", c->index_path, strerror(errno));
			return r;
		}
		rc = sqlite3_open_v2(c->index_path, &c->db,
		    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
		c->own_db = 1;
		if (rc != SQLITE_OK)
			return sql_fail(c, rc, "open");
		sqlite3_busy_timeout(c->db, 5000);
	}
	r = sql_prepare(c, "PRAGMA user_version", &st, "schema version");
	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		c->schema = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return sql_fail(c, rc, "schema version");
	r = sql_prepare(c, "PRAGMA application_id", &st, "application id");
	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		app = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return sql_fail(c, rc, "application id");
	if (c->schema < 1 || c->schema > INDEX_SCHEMA_VERSION ||
	    app != 0x53554e41) {
		flist_add(&c->fl, VERIFY_E001_INDEX_CORRUPT, INDEX_FILE, -1,
		    0, NULL, "not a sunarchive index this program reads"
		    " (application_id %#llx, schema version %d)",
		    (unsigned long long)app, c->schema);
		c->index_bad = 1;
		return -EBADMSG;
	}
	return 0;
}

/* PRAGMA quick_check (integrity_check in full mode). */
static int
vindex_pragma(struct vctx *c)
{
	const char *what = c->o->full ? "integrity_check" : "quick_check";
	struct buf msgs;
	sqlite3_stmt *st;
	char sql[64];
	int rc, r, bad = 0;

	snprintf(sql, sizeof(sql), "PRAGMA %s(20)", what);
	r = sql_prepare(c, sql, &st, what);
	if (r < 0)
		return r;
	buf_init(&msgs, 2048);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);

		if (s != NULL && strcmp(s, "ok") == 0)
			continue;
		if (bad++ > 0)
			buf_puts(&msgs, "; ");
		buf_puts(&msgs, s != NULL ? s : "?");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		buf_release(&msgs);
		return sql_fail(c, rc, what);
	}
	if (bad > 0)
		flist_add(&c->fl, VERIFY_E001_INDEX_CORRUPT, INDEX_FILE, -1,
		    0, NULL, "PRAGMA %s: %s", what, msgs.data != NULL ?
		    msgs.data : "failed");
	buf_release(&msgs);
	return 0;
}

static int
by_segnum(const void *a, const void *b)
{
	const struct vseg *x = a, *y = b;

	if (x->num != y->num)
		return x->num < y->num ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int
vsegments_load(struct vctx *c)
{
	sqlite3_stmt *st;
	struct vseg *s;
	size_t cap = 0;
	unsigned num;
	int rc, r, used;

	r = sql_prepare(c, "SELECT id, name, sealed, size, sha256, suspect"
	    " FROM segments", &st, "segments");
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char *canon;

		if (c->nsegs == cap) {
			cap = cap ? 2 * cap : 16;
			c->segs = xreallocarray(c->segs, cap,
			    sizeof(*c->segs));
		}
		s = &c->segs[c->nsegs++];
		memset(s, 0, sizeof(*s));
		s->id = sqlite3_column_int64(st, 0);
		s->name = col_dup(st, 1);
		if (s->name == NULL)
			s->name = xstrdup("");
		s->num = UINT32_MAX;
		used = 0;
		if (sscanf(s->name, "seg-%u.warc.gz%n", &num, &used) == 1 &&
		    used > 0 && s->name[used] == '\0') {
			canon = segment_name(num);
			if (strcmp(canon, s->name) == 0)
				s->num = num;
			free(canon);
		}
		s->sealed = sqlite3_column_type(st, 2) != SQLITE_NULL;
		s->sealed_time = sqlite3_column_int64(st, 2);
		s->have_size = sqlite3_column_type(st, 3) != SQLITE_NULL;
		s->size = (uint64_t)sqlite3_column_int64(st, 3);
		col_copy(st, 4, s->sha, sizeof(s->sha));
		s->suspect = sqlite3_column_int(st, 5) != 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sql_fail(c, rc, "segments");
	qsort(c->segs, c->nsegs, sizeof(*c->segs), by_segnum);
	c->rep->segments = c->nsegs;
	return 0;
}

static int
by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Index of name in the sorted names, or -1. */
static long
find_name(char **names, size_t n, const char *name)
{
	char **p = bsearch(&name, names, n, sizeof(*names), by_str);

	return p != NULL ? (long)(p - names) : -1;
}

/*
 * The archive directory against the segments table: every segment's file
 * is there (under the name its state says), nothing else named seg-*.
 * Decides what each segment's worker reads.
 */
static int
vsegments_files(struct vctx *c)
{
	char **names = NULL, *open_name, *n2;
	unsigned char *used = NULL;
	size_t n = 0, cap = 0, i;
	unsigned maxnum = 0, num;
	struct dirent *de;
	struct stat sb;
	long k, ko;
	DIR *d;
	int r = 0;

	d = opendir(c->archive_dir);
	if (d == NULL) {
		r = -errno;
		snprintf(c->err, c->errlen, "cannot read the archive directory"
		    " '%s': %s", c->archive_dir, strerror(errno));
		return r;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "seg-", 4) != 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_str);
	used = xcalloc(n + 1, 1);
	for (i = 0; i < c->nsegs; i++) {
		struct vseg *s = &c->segs[i];

		if (s->num != UINT32_MAX && s->num > maxnum)
			maxnum = s->num;
		open_name = xasprintf("%s%s", s->name, SEGMENT_SUFFIX_OPEN);
		k = find_name(names, n, s->name);
		ko = find_name(names, n, open_name);
		if (s->sealed) {
			if (k >= 0) {
				used[k] = 1;
				s->present = 1;
			} else
				flist_add(&s->found,
				    VERIFY_E002_SEGMENT_MISSING, s->name, -1,
				    0, NULL, "the sealed segment's"
				    " file is missing%s", ko >= 0 ? " (only"
				    " its .open file is there)" : "");
		} else if (ko >= 0) {
			used[ko] = 1;
			s->present = 1;
			s->read_open = 1;
		} else if (k >= 0) {
			used[k] = 1;
			s->present = 1;
			flist_add(&s->found, VERIFY_W006_SEAL_PENDING, s->name,
			    -1, 0, NULL, "sealed on disk but open in the index;"
			    " sunarchived finishes sealing it at start (or it"
			    " was sealed after this check read the index)");
		} else
			flist_add(&s->found, VERIFY_E002_SEGMENT_MISSING,
			    open_name, -1, 0, NULL, "the open segment's file is"
			    " missing");
		if (s->sealed && s->suspect)
			flist_add(&s->found, VERIFY_W003_SEGMENT_SUSPECT,
			    s->name, -1, 0, NULL, "sealed suspect after a"
			    " storage error; its acknowledged records are"
			    " checked");
		if (s->present && c->o->since > 0) {
			n2 = segment_path(c->archive_dir, s->name,
			    s->read_open);
			if (stat(n2, &sb) == 0 && sb.st_mtime >= c->o->since)
				s->sealed_time = sb.st_mtime;
			free(n2);
		}
		free(open_name);
	}
	for (i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		int is_open = len > strlen(SEGMENT_SUFFIX_OPEN) &&
		    strcmp(names[i] + len - strlen(SEGMENT_SUFFIX_OPEN),
		    SEGMENT_SUFFIX_OPEN) == 0;

		if (used[i] || c->o->only_segment != NULL)
			continue;
		if (is_open && sscanf(names[i], "seg-%u", &num) == 1 &&
		    num > maxnum)
			flist_add(&c->fl, VERIFY_W004_OPEN_TAIL, names[i], -1,
			    0, NULL, "an open segment the index does not know"
			    " (newer than this check's view of the index, or"
			    " a stray that sunarchived adopts at start)");
		else
			flist_add(&c->fl, VERIFY_E004_SEGMENT_UNKNOWN,
			    names[i], -1, 0, NULL, "a segment file the index"
			    " does not know");
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(used);
	return r;
}

/* Rows of segment s, by offset (with what was derived in full mode). */
static int
vsegment_rows(struct vctx *c, struct vseg *s)
{
	static const char light[] = "SELECT seq, record_id, offset, length,"
	    " sha256, type FROM records WHERE segment_id = ?1"
	    " ORDER BY offset, seq";
	static const char full[] = "SELECT r.seq, r.record_id, r.offset,"
	    " r.length, r.sha256, r.type, v.id IS NOT NULL, v.hash, v.text,"
	    " i.platform_id, e.id IS NOT NULL, e.type, e.detail"
	    " FROM records r LEFT JOIN versions v ON v.seq = r.seq"
	    " LEFT JOIN items i ON i.id = v.item_id"
	    " LEFT JOIN events e ON e.seq = r.seq"
	    " WHERE r.segment_id = ?1 ORDER BY r.offset, r.seq";
	int derived = c->o->full && s->scan;
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc, r;

	r = sql_prepare(c, derived ? full : light, &st, "records");
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, s->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vrow *row;

		if (s->nrows == cap) {
			cap = cap ? 2 * cap : 256;
			s->rows = xreallocarray(s->rows, cap,
			    sizeof(*s->rows));
		}
		row = &s->rows[s->nrows++];
		memset(row, 0, sizeof(*row));
		row->seq = sqlite3_column_int64(st, 0);
		row->record_id = col_dup(st, 1);
		if (row->record_id == NULL)
			row->record_id = xstrdup("");
		row->offset = (uint64_t)sqlite3_column_int64(st, 2);
		row->length = (uint64_t)sqlite3_column_int64(st, 3);
		col_copy(st, 4, row->sha, sizeof(row->sha));
		col_copy(st, 5, row->type, sizeof(row->type));
		if (!derived)
			continue;
		row->has_version = sqlite3_column_int(st, 6);
		row->v_hash = col_dup(st, 7);
		row->v_text = col_dup(st, 8);
		row->v_item = col_dup(st, 9);
		row->has_event = sqlite3_column_int(st, 10);
		row->e_type = col_dup(st, 11);
		if (sqlite3_column_type(st, 12) != SQLITE_NULL) {
			const void *p = sqlite3_column_blob(st, 12);

			row->e_detail_len = (size_t)sqlite3_column_bytes(st,
			    12);
			row->e_detail = xmalloc(row->e_detail_len + 1);
			if (row->e_detail_len > 0)
				memcpy(row->e_detail, p, row->e_detail_len);
			row->e_detail[row->e_detail_len] = '\0';
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sql_fail(c, rc, "records");
	return 0;
}

/* Rows whose segment_id names no segment (foreign keys were off). */
static int
vrecords_orphans(struct vctx *c)
{
	sqlite3_stmt *st;
	int rc, r;

	r = sql_prepare(c, "SELECT r.seq, r.record_id, r.segment_id FROM"
	    " records r LEFT JOIN segments s ON s.id = r.segment_id"
	    " WHERE s.id IS NULL ORDER BY r.seq LIMIT 100", &st, "records");
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		flist_add(&c->ledger_fl, VERIFY_E010_RECORD_MISSING, INDEX_FILE,
		    -1, sqlite3_column_int64(st, 0),
		    (const char *)sqlite3_column_text(st, 1), "the record's"
		    " segment (id %lld) is not in the index",
		    (long long)sqlite3_column_int64(st, 2));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sql_fail(c, rc, "records");
}

static int
vcheckpoints_load(struct vctx *c)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc, r;

	if (c->schema < 2)
		return 0;
	r = sql_prepare(c, "SELECT c.id, c.seq, c.size, c.root, c.time,"
	    " c.note, c.signer, c.tsa_token, r.record_id, s.name ||"
	    " CASE WHEN s.sealed IS NULL THEN '.open' ELSE '' END, r.offset"
	    " FROM checkpoints c LEFT JOIN records r ON r.seq = c.seq"
	    " LEFT JOIN segments s ON s.id = r.segment_id"
	    " ORDER BY c.seq, c.id", &st, "checkpoints");
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vcp *cp;

		if (c->ncps == cap) {
			cap = cap ? 2 * cap : 64;
			c->cps = xreallocarray(c->cps, cap, sizeof(*c->cps));
		}
		cp = &c->cps[c->ncps++];
		memset(cp, 0, sizeof(*cp));
		cp->id = sqlite3_column_int64(st, 0);
		cp->seq = sqlite3_column_int64(st, 1);
		cp->size = sqlite3_column_int64(st, 2);
		cp->root = col_dup(st, 3);
		cp->time = sqlite3_column_int64(st, 4);
		cp->note = col_dup(st, 5);
		if (cp->note == NULL)
			cp->note = xstrdup("");
		cp->note_len = (size_t)sqlite3_column_bytes(st, 5);
		if (cp->note_len != strlen(cp->note))
			cp->note_len = strlen(cp->note);
		cp->signer = col_dup(st, 6);
		if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
			const void *p = sqlite3_column_blob(st, 7);

			cp->token_len = (size_t)sqlite3_column_bytes(st, 7);
			cp->token = xmalloc(cp->token_len + 1);
			if (cp->token_len > 0)
				memcpy(cp->token, p, cp->token_len);
		}
		cp->record_id = col_dup(st, 8);
		cp->file = col_dup(st, 9);
		if (cp->file == NULL)
			cp->file = xstrdup(INDEX_FILE);
		cp->offset = sqlite3_column_type(st, 10) == SQLITE_NULL ? -1 :
		    sqlite3_column_int64(st, 10);
		cp->pos = -1;
		cp->last_other = -1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sql_fail(c, rc, "checkpoints");
	c->rep->checkpoints = c->ncps;
	return 0;
}

/*
 * The ledger from the index: every record's hash in seq order. Marks where
 * each checkpoint's own record sits and what precedes it.
 */
static int
vindex_ledger(struct vctx *c)
{
	uint8_t leaf[MERKLE_HASH_LEN];
	sqlite3_stmt *st;
	int64_t pos = 0, last_other = -1, seq;
	size_t k = 0;
	char sha[HASH_HEX_LEN], type[16];
	int rc, r;

	r = sql_prepare(c, "SELECT seq, sha256, type, record_id FROM records"
	    " ORDER BY seq", &st, "records");
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0);
		while (k < c->ncps && c->cps[k].seq < seq)
			k++;
		if (k < c->ncps && c->cps[k].seq == seq) {
			c->cps[k].pos = pos;
			c->cps[k].last_other = last_other;
			k++;
		}
		col_copy(st, 1, sha, sizeof(sha));
		col_copy(st, 2, type, sizeof(type));
		if (ledger_leaf(sha, leaf) < 0) {
			memset(leaf, 0, sizeof(leaf));
			flist_add(&c->ledger_fl, VERIFY_E011_RECORD_HASH,
			    INDEX_FILE, -1, seq,
			    (const char *)sqlite3_column_text(st, 3), "the"
			    " index's sha256 of this record is not a SHA-256"
			    " value");
		}
		roots_add(&c->iroots, leaf);
		if (strcmp(type, "warcinfo") != 0)
			last_other = pos;
		pos++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sql_fail(c, rc, "records");
	c->ileaves = (uint64_t)pos;
	c->rep->records = (uint64_t)pos;
	return 0;
}

/* --- reading the segments ------------------------------------------------- */

static void
vsegment_merge(struct vctx *c, struct vseg *s)
{
	size_t i;

	if (s->check)
		flist_take(&c->fl, &s->found);
	else
		flist_release(&s->found);
	if (c->o->only_segment != NULL && s->check)
		c->rep->records += s->nrows;
	if (c->o->full)
		for (i = 0; i < s->nleaves; i++) {
			roots_add(&c->aroots, s->leaves[i]);
			c->aleaves++;
		}
	if (s->nacps > 0) {
		c->acps = xreallocarray(c->acps, c->nacps + s->nacps,
		    sizeof(*c->acps));
		memcpy(c->acps + c->nacps, s->acps, s->nacps *
		    sizeof(*s->acps));
		c->nacps += s->nacps;
		free(s->acps);
		s->acps = NULL;
		s->nacps = 0;
	}
	c->rep->bytes += s->bytes;
	c->rep->members += s->members;
	free(s->leaves);
	s->leaves = NULL;
	s->nleaves = s->capleaves = 0;
	seg_release_rows(s);
}

/* Decide what the worker does with segment s. */
static void
vsegment_plan(struct vctx *c, struct vseg *s)
{
	const char *only = c->o->only_segment;

	s->check = only == NULL || strcmp(only, s->name) == 0 ||
	    (strncmp(only, s->name, strlen(s->name)) == 0 &&
	    strcmp(only + strlen(s->name), SEGMENT_SUFFIX_OPEN) == 0);
	s->scan = c->o->full && s->check && s->present &&
	    (c->o->since <= 0 || s->read_open || !s->sealed ||
	    s->sealed_time >= c->o->since);
	/* The archive's ledger is rebuilt when every segment is in view. */
	s->leaves_from_rows = c->o->full && only == NULL && s->present &&
	    !s->scan;
}

static int
vsegments_run(struct vctx *c)
{
	struct pool p;
	pthread_t *threads;
	size_t i, merged = 0, window, nthreads = 0;
	int jobs = c->o->jobs > 0 ? c->o->jobs : VERIFY_JOBS_DEFAULT;
	double t0 = mono_now();
	int r = 0;

	if (jobs > VERIFY_JOBS_MAX)
		jobs = VERIFY_JOBS_MAX;
	memset(&p, 0, sizeof(p));
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.work, NULL);
	pthread_cond_init(&p.done, NULL);
	p.segs = c->segs;
	p.env.archive_dir = c->archive_dir;
	threads = xcalloc((size_t)jobs, sizeof(*threads));
	for (i = 0; i < (size_t)jobs; i++) {
		if (pthread_create(&threads[nthreads], NULL, pool_thread,
		    &p) != 0)
			break;
		nthreads++;
	}
	window = nthreads > 0 ? 2 * nthreads : 1;
	for (i = 0; i < c->nsegs; i++) {
		struct vseg *s = &c->segs[i];

		while (i - merged >= window) {
			pool_wait(&p, merged);
			vsegment_merge(c, &c->segs[merged++]);
		}
		vsegment_plan(c, s);
		if (s->check || s->leaves_from_rows) {
			r = vsegment_rows(c, s);
			if (r < 0)
				break;
		}
		if (nthreads == 0) {
			seg_work(&p.env, s);
			s->done = 1;
		}
		pool_submit(&p, i + 1);
	}
	pool_close(&p);
	while (merged < p.submitted) {
		pool_wait(&p, merged);
		vsegment_merge(c, &c->segs[merged++]);
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	pthread_cond_destroy(&p.done);
	pthread_cond_destroy(&p.work);
	pthread_mutex_destroy(&p.mu);
	c->rep->read_seconds = mono_now() - t0;
	if (r < 0)
		return r;
	for (i = 0; i < c->nsegs; i++)
		if (c->segs[i].io_err < 0) {
			snprintf(c->err, c->errlen, "%s", c->segs[i].io_msg);
			return c->segs[i].io_err;
		}
	return 0;
}

/* --- checkpoints ---------------------------------------------------------- */

/*
 * An unsigned checkpoint: the body alone, exactly as anchor_body() writes
 * it ("origin\nsize\nbase64 root\ntime T\n").
 */
static int
body_parse(const char *s, size_t n, struct checkpoint *ret)
{
	const char *line[4];
	size_t len[4], i, k = 0, start = 0;
	struct checkpoint cp;
	unsigned char *root = NULL;
	size_t rlen = 0;
	char tbuf[40], fmt[40];
	uint64_t size = 0;

	for (i = 0; i < n && k < 4; i++)
		if (s[i] == '\n') {
			line[k] = s + start;
			len[k] = i - start;
			k++;
			start = i + 1;
		}
	if (k != 4 || start != n)
		return -EBADMSG;
	memset(&cp, 0, sizeof(cp));
	if (len[0] == 0 || len[0] >= sizeof(cp.origin))
		return -EBADMSG;
	memcpy(cp.origin, line[0], len[0]);
	if (!checkpoint_name_valid(cp.origin))
		return -EBADMSG;
	if (len[1] == 0 || len[1] > 19 || (len[1] > 1 && line[1][0] == '0'))
		return -EBADMSG;
	for (i = 0; i < len[1]; i++) {
		if (line[1][i] < '0' || line[1][i] > '9')
			return -EBADMSG;
		size = size * 10 + (uint64_t)(line[1][i] - '0');
	}
	cp.size = size;
	if (b64_decode(line[2], len[2], &root, &rlen) < 0)
		return -EBADMSG;
	if (rlen != CHECKPOINT_HASH_LEN) {
		free(root);
		return -EBADMSG;
	}
	memcpy(cp.root, root, rlen);
	free(root);
	if (len[3] <= 5 || len[3] - 5 >= sizeof(tbuf) ||
	    memcmp(line[3], "time ", 5) != 0)
		return -EBADMSG;
	memcpy(tbuf, line[3] + 5, len[3] - 5);
	tbuf[len[3] - 5] = '\0';
	if (util_parse_time(tbuf, &cp.time) < 0 ||
	    strcmp(util_format_time(cp.time, fmt, sizeof(fmt)), tbuf) != 0)
		return -EBADMSG;
	*ret = cp;
	return 0;
}

static int
note_is_signed(const char *note, size_t len)
{
	return memmem(note, len, EM_DASH_LINE, strlen(EM_DASH_LINE)) != NULL;
}

/*
 * An RFC 3161 token without a trusted CA: it must be a DER TimeStampToken
 * over SHA-256(note) whose one signature verifies with the certificate it
 * carries. Who that TSA is takes the CA (tsa_verify()).
 */
static int
tsa_selfcheck(const unsigned char *der, size_t len,
    const unsigned char digest[HASH_LEN], char *why, size_t whylen)
{
	const unsigned char *p = der;
	STACK_OF(PKCS7_SIGNER_INFO) *sis;
	STACK_OF(X509) *signers = NULL;
	const ASN1_OBJECT *obj = NULL;
	const X509_ALGOR *alg;
	const ASN1_OCTET_STRING *h;
	PKCS7_SIGNER_INFO *si;
	ESS_SIGNING_CERT *ss1 = NULL;
	ESS_SIGNING_CERT_V2 *ss2 = NULL;
	ASN1_TYPE *attr;
	TS_MSG_IMPRINT *mi;
	TS_TST_INFO *tst = NULL;
	PKCS7 *p7;
	BIO *bio = NULL;
	char sink[4096];
	int r = -EBADMSG;

	if (len == 0 || len > TSA_MAX_DER) {
		snprintf(why, whylen, "the token is empty or too large");
		return -EBADMSG;
	}
	p7 = d2i_PKCS7(NULL, &p, (long)len);
	if (p7 == NULL || p != der + len || !PKCS7_type_is_signed(p7)) {
		snprintf(why, whylen, "not a DER time-stamp token");
		goto out;
	}
	tst = PKCS7_to_TS_TST_INFO(p7);
	if (tst == NULL) {
		snprintf(why, whylen, "the token holds no TSTInfo");
		goto out;
	}
	mi = TS_TST_INFO_get_msg_imprint(tst);
	alg = TS_MSG_IMPRINT_get_algo(mi);
	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	h = TS_MSG_IMPRINT_get_msg(mi);
	if (OBJ_obj2nid(obj) != NID_sha256 || h == NULL ||
	    ASN1_STRING_length(h) != HASH_LEN ||
	    memcmp(ASN1_STRING_get0_data(h), digest, HASH_LEN) != 0) {
		snprintf(why, whylen, "the token is not over SHA-256 of the"
		    " checkpoint note");
		goto out;
	}
	sis = PKCS7_get_signer_info(p7);
	if (sis == NULL || sk_PKCS7_SIGNER_INFO_num(sis) != 1) {
		snprintf(why, whylen, "the token does not have exactly one"
		    " signer");
		goto out;
	}
	signers = PKCS7_get0_signers(p7, NULL, 0);
	if (signers == NULL || sk_X509_num(signers) != 1) {
		r = 0;		/* no certificate inside: needs the CA */
		goto out;
	}
	bio = PKCS7_dataInit(p7, NULL);
	if (bio == NULL) {
		snprintf(why, whylen, "cannot read the token's content");
		goto out;
	}
	while (BIO_read(bio, sink, sizeof(sink)) > 0)
		continue;
	si = sk_PKCS7_SIGNER_INFO_value(sis, 0);
	if (PKCS7_signatureVerify(bio, p7, si, sk_X509_value(signers,
	    0)) <= 0) {
		snprintf(why, whylen, "the token's signature does not verify");
		goto out;
	}
	/* The signed ESS attribute pins the certificate that signed. */
	attr = PKCS7_get_signed_attribute(si,
	    NID_id_smime_aa_signingCertificateV2);
	if (attr != NULL && attr->type == V_ASN1_SEQUENCE) {
		p = attr->value.sequence->data;
		ss2 = d2i_ESS_SIGNING_CERT_V2(NULL, &p,
		    attr->value.sequence->length);
	}
	attr = PKCS7_get_signed_attribute(si,
	    NID_id_smime_aa_signingCertificate);
	if (attr != NULL && attr->type == V_ASN1_SEQUENCE) {
		p = attr->value.sequence->data;
		ss1 = d2i_ESS_SIGNING_CERT(NULL, &p,
		    attr->value.sequence->length);
	}
	if ((ss1 == NULL && ss2 == NULL) ||
	    OSSL_ESS_check_signing_certs(ss1, ss2, signers, 1) <= 0) {
		snprintf(why, whylen, "the token's certificate is not the one"
		    " its signature names");
		goto out;
	}
	r = 0;
out:
	ESS_SIGNING_CERT_free(ss1);
	ESS_SIGNING_CERT_V2_free(ss2);
	ERR_clear_error();
	BIO_free_all(bio);
	sk_X509_free(signers);
	TS_TST_INFO_free(tst);
	PKCS7_free(p7);
	return r;
}

/* A token for note: 0, or -1 after adding an E024 finding. */
static int
check_token(struct vctx *c, const unsigned char *der, size_t len,
    const char *note, size_t note_len, const char *file, int64_t offset,
    const char *record_id, uint64_t size)
{
	unsigned char digest[HASH_LEN];
	char why[512] = "";
	int r;

	hash_sha256(note, note_len, digest);
	r = tsa_selfcheck(der, len, digest, why, sizeof(why));
	if (r == 0 && c->o->tsa_ca != NULL)
		r = tsa_verify(der, len, NULL, digest, sizeof(digest),
		    c->o->tsa_ca, NULL, NULL, why, sizeof(why));
	if (r == 0)
		return 0;
	flist_add(&c->fl, VERIFY_E024_TIMESTAMP, file, offset, 0, record_id,
	    "the RFC 3161 token of checkpoint %llu is invalid: %s",
	    (unsigned long long)size, why);
	return -1;
}

/*
 * A verifier key as text: a file's first line, or arg itself when it is
 * no file. 0, or -errno with a reason in why.
 */
static int
key_text(const char *arg, char **ret_text, char *why, size_t whylen)
{
	struct stat sb;
	char *text;
	int r;

	if (stat(arg, &sb) < 0) {
		*ret_text = xstrdup(arg);
		return 0;
	}
	r = read_small(arg, VERIFY_PUB_MAX, &text, NULL);
	if (r < 0) {
		snprintf(why, whylen, "cannot read '%s': %s", arg,
		    strerror(-r));
		return r;
	}
	rtrim(text);
	*ret_text = text;
	return 0;
}

/*
 * 1 if a verifier key text is in the form checkpoint_keygen() writes: the
 * key hash in lower-case hex. The parser also takes upper case, so a
 * flipped case bit would otherwise pass unnoticed.
 */
static int
key_canonical(const char *text)
{
	const char *p = strchr(text, '+');
	size_t i;

	if (p == NULL)
		return 0;
	for (i = 1; i <= 8; i++)
		if (unhex(p[i]) < 0)
			return 0;
	return p[9] == '+';
}

/* The name part ("<name>+<hash>+<key>") of a verifier key text. */
static char *
key_name(const char *text)
{
	const char *plus = strchr(text, '+');

	return xstrndup(text, plus != NULL ? (size_t)(plus - text) :
	    strlen(text));
}

/*
 * The verifier for the index's checkpoints: --key, else the one the
 * daemon published. A bad --key stops the run (-EINVAL); a bad or
 * missing ledger.pub is a finding.
 */
static int
vverifier_load(struct vctx *c)
{
	char why[512] = "", *pub = NULL, *path;
	size_t i, nsigned = 0;
	int r;

	path = xasprintf("%s/%s", c->o->state_dir, VERIFY_PUB_FILE);
	r = read_small(path, VERIFY_PUB_MAX, &pub, NULL);
	free(path);
	if (r == 0)
		rtrim(pub);
	for (i = 0; i < c->ncps; i++)
		nsigned += note_is_signed(c->cps[i].note, c->cps[i].note_len);
	if (c->o->key != NULL) {
		if (key_text(c->o->key, &c->v_text, why, sizeof(why)) < 0 ||
		    checkpoint_verifier_load(c->v_text, &c->v, why,
		    sizeof(why)) < 0) {
			snprintf(c->err, c->errlen, "unusable verifier key"
			    " '%s': %s", c->o->key, why);
			free(pub);
			return -EINVAL;
		}
		c->v_name = key_name(c->v_text);
		if (pub != NULL && strcmp(pub, c->v_text) != 0)
			flist_add(&c->fl, VERIFY_E020_CHECKPOINT_SIGNATURE,
			    VERIFY_PUB_FILE, -1, 0, NULL, "the published"
			    " verifier key differs from the one given with"
			    " --key (replaced?)");
		free(pub);
		return 0;
	}
	if (r == -ENOENT) {
		if (nsigned > 0)
			flist_add(&c->fl, VERIFY_E020_CHECKPOINT_SIGNATURE,
			    VERIFY_PUB_FILE, -1, 0, NULL, "the verifier key is"
			    " missing: %zu signed checkpoint(s) cannot be"
			    " verified (give --key)", nsigned);
		c->v_missing = 1;
		return 0;
	}
	if (r == 0)
		r = checkpoint_verifier_load(pub, &c->v, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "%s", strerror(-r));
	if (r < 0) {
		flist_add(&c->fl, VERIFY_E020_CHECKPOINT_SIGNATURE,
		    VERIFY_PUB_FILE, -1, 0, NULL, "the verifier key is"
		    " unusable (%s): %zu signed checkpoint(s) cannot be"
		    " verified", why, nsigned);
		c->v_missing = 1;
		free(pub);
		return 0;
	}
	c->v_text = pub;
	c->v_name = key_name(pub);
	if (!key_canonical(pub))
		flist_add(&c->fl, VERIFY_E020_CHECKPOINT_SIGNATURE,
		    VERIFY_PUB_FILE, -1, 0, NULL, "the verifier key is not"
		    " in the form sunarchived writes (altered?)");
	return 0;
}

/* Parse and verify every checkpoint's note (before the ledgers run). */
static void
vcheckpoints_parse(struct vctx *c)
{
	size_t i, unsigned_n = 0, first_unsigned = 0;
	int seen_signed = 0, r;

	for (i = 0; i < c->ncps; i++) {
		struct vcp *cp = &c->cps[i];

		cp->signed_note = note_is_signed(cp->note, cp->note_len);
		if (cp->signed_note) {
			seen_signed = 1;
			if (c->v == NULL)
				continue;	/* reported once */
			r = checkpoint_parse_note(cp->note, cp->note_len,
			    c->v, &cp->cp);
			if (r < 0) {
				flist_add(&c->fl,
				    VERIFY_E020_CHECKPOINT_SIGNATURE, cp->file,
				    cp->offset, cp->seq, cp->record_id,
				    "checkpoint %lld: %s", (long long)cp->size,
				    r == -EPERM ? "the signature does not"
				    " verify with the verifier key" : "the"
				    " signed note is malformed");
				continue;
			}
			cp->note_ok = 1;
			if (cp->signer == NULL ||
			    strcmp(cp->signer, c->v_name) != 0)
				flist_add(&c->fl,
				    VERIFY_E020_CHECKPOINT_SIGNATURE, cp->file,
				    cp->offset, cp->seq, cp->record_id,
				    "checkpoint %lld: the index names signer"
				    " '%s', the note is signed by '%s'",
				    (long long)cp->size, cp->signer != NULL ?
				    cp->signer : "(none)", c->v_name);
			continue;
		}
		if (body_parse(cp->note, cp->note_len, &cp->cp) < 0) {
			flist_add(&c->fl, VERIFY_E020_CHECKPOINT_SIGNATURE,
			    cp->file, cp->offset, cp->seq, cp->record_id,
			    "checkpoint %lld: the note is neither a signed"
			    " note nor a checkpoint body", (long long)cp->size);
			continue;
		}
		cp->note_ok = 1;
		if (cp->signer != NULL)
			flist_add(&c->fl, VERIFY_E020_CHECKPOINT_SIGNATURE,
			    cp->file, cp->offset, cp->seq, cp->record_id,
			    "checkpoint %lld: the index names signer '%s' but"
			    " the note carries no signature",
			    (long long)cp->size, cp->signer);
		else if (seen_signed)
			flist_add(&c->fl, VERIFY_E020_CHECKPOINT_SIGNATURE,
			    cp->file, cp->offset, cp->seq, cp->record_id,
			    "checkpoint %lld is unsigned after signed ones"
			    " (signature removed?)", (long long)cp->size);
		else if (unsigned_n++ == 0)
			first_unsigned = i;
	}
	if (unsigned_n > 0) {
		struct vcp *cp = &c->cps[first_unsigned];

		flist_add(&c->fl, VERIFY_W002_CHECKPOINT_UNSIGNED, cp->file,
		    cp->offset, cp->seq, cp->record_id, "%zu checkpoint(s)"
		    " are unsigned (no signing key was configured); they"
		    " prove nothing once the archive host is not trusted",
		    unsigned_n);
	}
}

/* The size and root a checkpoint commits to: its note's, else its row's. */
static int
cp_commit(const struct vcp *cp, uint64_t *ret_size, uint8_t *ret_root)
{
	if (cp->note_ok) {
		*ret_size = cp->cp.size;
		memcpy(ret_root, cp->cp.root, HASH_LEN);
		return 0;
	}
	if (cp->size < 0 || hex32(cp->root, ret_root) < 0)
		return -EINVAL;
	*ret_size = (uint64_t)cp->size;
	return 0;
}

/*
 * E021 for checkpoints whose root does not match the ledger in t (fail[k]
 * set), one finding per run of failures: it names the first checkpoint of
 * the run, where the ledger last matched, and how many follow.
 */
static void
root_runs(struct vctx *c, const unsigned char *fail, const struct roots *t,
    const char *which)
{
	uint8_t want[HASH_LEN], pw[HASH_LEN];
	const uint8_t *got;
	char g[32], w[32], since[160];
	uint64_t size, prev;
	size_t k, j;

	for (k = 0; k < c->ncps; k++) {
		struct vcp *cp = &c->cps[k];

		if (!fail[k] || (k > 0 && fail[k - 1]))
			continue;
		for (j = k + 1; j < c->ncps && fail[j]; j++)
			continue;
		if (cp_commit(cp, &size, want) < 0)
			continue;
		got = roots_get(t, size);
		if (got == NULL)
			continue;
		since[0] = '\0';
		if (k > 0 && cp_commit(&c->cps[k - 1], &prev, pw) == 0 &&
		    prev < size)
			snprintf(since, sizeof(since), " (it matched at %llu:"
			    " records %llu to %llu changed)",
			    (unsigned long long)prev,
			    (unsigned long long)prev + 1,
			    (unsigned long long)size);
		flist_add(&c->fl, VERIFY_E021_CHECKPOINT_ROOT, cp->file,
		    cp->offset, cp->seq, cp->record_id, "checkpoint %llu: the"
		    " %s's ledger root at that size is %s..., the checkpoint"
		    " says %s...%s; %llu later checkpoint(s) fail too",
		    (unsigned long long)size, which,
		    short_hex(got, g, sizeof(g)), short_hex(want, w,
		    sizeof(w)), since, (unsigned long long)(j - k - 1));
	}
}

static int
by_record_id(const void *a, const void *b)
{
	const struct vcp *x = *(const struct vcp *const *)a;
	const struct vcp *y = *(const struct vcp *const *)b;

	return strcmp(x->record_id != NULL ? x->record_id : "",
	    y->record_id != NULL ? y->record_id : "");
}

/*
 * A timestamp record in the archive: the index's copy of the token (in
 * checkpoints.tsa_token) must be the archived one, byte for byte. The
 * archived record is covered by the ledger; the index column is not.
 */
static void
archived_token(struct vctx *c, const struct acp *a, struct vcp **byid)
{
	struct vcp key, *kp = &key, **hit;
	unsigned char *der = NULL;
	size_t dlen = 0;
	const char *cpid, *tok;
	json_t *d;

	d = json_loadb(a->detail, strlen(a->detail), 0, NULL);
	cpid = json_string_value(json_object_get(d, "checkpoint"));
	tok = json_string_value(json_object_get(d, "token"));
	memset(&key, 0, sizeof(key));
	key.record_id = (char *)cpid;
	hit = cpid != NULL ? bsearch(&kp, byid, c->ncps, sizeof(*byid),
	    by_record_id) : NULL;
	if (hit == NULL || tok == NULL ||
	    b64_decode(tok, strlen(tok), &der, &dlen) < 0) {
		flist_add(&c->fl, VERIFY_E024_TIMESTAMP, a->file,
		    (int64_t)a->offset, 0, a->record_id, "a time-stamp record"
		    " whose checkpoint or token cannot be found");
		goto out;
	}
	(*hit)->token_archived = 1;
	if ((*hit)->token == NULL || (*hit)->token_len != dlen ||
	    memcmp((*hit)->token, der, dlen) != 0)
		flist_add(&c->fl, VERIFY_E024_TIMESTAMP, (*hit)->file,
		    (*hit)->offset, (*hit)->seq, (*hit)->record_id, "the"
		    " index's time-stamp token of checkpoint %lld differs from"
		    " the archived one", (long long)(*hit)->size);
out:
	free(der);
	json_decref(d);
}

/* Full mode: checkpoint records in the archive against the table. */
static void
varchive_checkpoints(struct vctx *c)
{
	struct vcp **byid, key, *kp = &key, **hit;
	size_t i;

	byid = xcalloc(c->ncps + 1, sizeof(*byid));
	for (i = 0; i < c->ncps; i++)
		byid[i] = &c->cps[i];
	qsort(byid, c->ncps, sizeof(*byid), by_record_id);
	for (i = 0; i < c->nacps; i++) {
		struct acp *a = &c->acps[i];
		json_t *d;
		const char *note, *root;
		int same;

		if (a->timestamp) {
			archived_token(c, a, byid);
			continue;
		}
		memset(&key, 0, sizeof(key));
		key.record_id = a->record_id;
		hit = bsearch(&kp, byid, c->ncps, sizeof(*byid),
		    by_record_id);
		if (hit == NULL) {
			flist_add(&c->fl, VERIFY_E021_CHECKPOINT_ROOT, a->file,
			    (int64_t)a->offset, 0, a->record_id, "the archive"
			    " holds a checkpoint record the index's checkpoints"
			    " table lacks");
			continue;
		}
		d = json_loadb(a->detail, strlen(a->detail), 0, NULL);
		note = json_string_value(json_object_get(d, "note"));
		root = json_string_value(json_object_get(d, "root"));
		same = note != NULL && root != NULL && json_is_integer(
		    json_object_get(d, "size")) && json_integer_value(
		    json_object_get(d, "size")) == (*hit)->size &&
		    (*hit)->root != NULL && strcmp(root, (*hit)->root) == 0 &&
		    strcmp(note, (*hit)->note) == 0;
		json_decref(d);
		if (!same)
			flist_add(&c->fl, VERIFY_E021_CHECKPOINT_ROOT, a->file,
			    (int64_t)a->offset, (*hit)->seq, a->record_id,
			    "the index's checkpoint row differs from the"
			    " checkpoint record in the archive");
	}
	for (i = 0; i < c->ncps; i++) {
		struct vcp *cp = &c->cps[i];

		if (cp->token != NULL && !cp->token_archived)
			flist_add(&c->fl, VERIFY_E024_TIMESTAMP, cp->file,
			    cp->offset, cp->seq, cp->record_id, "the index"
			    " holds a time-stamp token for checkpoint %lld"
			    " that the archive does not",
			    (long long)cp->size);
	}
	free(byid);
}

/* Everything about the index's checkpoints, once the ledgers are known. */
static void
vcheckpoints_check(struct vctx *c)
{
	unsigned char *ifail, *afail;
	uint8_t want[HASH_LEN], rowroot[HASH_LEN];
	char hex[HASH_HEX_LEN];
	const uint8_t *got;
	uint64_t size, prev = 0;
	size_t k;

	if (c->ncps == 0) {
		if (c->ileaves > 0)
			flist_add(&c->fl, VERIFY_W005_NO_CHECKPOINTS,
			    INDEX_FILE, -1, 0, NULL, "%llu records and no"
			    " checkpoint: nothing outside the archive host"
			    " vouches for them",
			    (unsigned long long)c->ileaves);
		c->rep->uncovered = c->ileaves;
		return;
	}
	ifail = xcalloc(c->ncps, 1);
	afail = xcalloc(c->ncps, 1);
	for (k = 0; k < c->ncps; k++) {
		struct vcp *cp = &c->cps[k];

		if (cp->note_ok) {
			util_hex(cp->cp.root, HASH_LEN, hex);
			if ((int64_t)cp->cp.size != cp->size ||
			    cp->root == NULL || strcmp(hex, cp->root) != 0 ||
			    cp->cp.time != cp->time)
				flist_add(&c->fl, VERIFY_E021_CHECKPOINT_ROOT,
				    cp->file, cp->offset, cp->seq,
				    cp->record_id, "checkpoint %llu: the"
				    " index's row (size %lld, root %.12s...,"
				    " time %lld) differs from its note",
				    (unsigned long long)cp->cp.size,
				    (long long)cp->size, cp->root != NULL ?
				    cp->root : "", (long long)cp->time);
		} else if (cp->root == NULL || hex32(cp->root, rowroot) < 0)
			flist_add(&c->fl, VERIFY_E021_CHECKPOINT_ROOT,
			    cp->file, cp->offset, cp->seq, cp->record_id,
			    "checkpoint %lld: the index's root is not a"
			    " SHA-256 value", (long long)cp->size);
		if (cp->pos < 0) {
			flist_add(&c->fl, VERIFY_E021_CHECKPOINT_ROOT, cp->file,
			    cp->offset, cp->seq, cp->record_id, "checkpoint"
			    " %lld points at no record (seq %lld)",
			    (long long)cp->size, (long long)cp->seq);
		}
		if (cp_commit(cp, &size, want) < 0) {
			if (cp->size < 0)
				flist_add(&c->fl, VERIFY_E022_CHECKPOINT_SIZE,
				    cp->file, cp->offset, cp->seq,
				    cp->record_id, "checkpoint size %lld is"
				    " negative", (long long)cp->size);
			continue;
		}
		if (size < prev)
			flist_add(&c->fl, VERIFY_E022_CHECKPOINT_SIZE,
			    cp->file, cp->offset, cp->seq, cp->record_id,
			    "checkpoint %llu is smaller than the one before it"
			    " (%llu): the ledger cannot shrink",
			    (unsigned long long)size,
			    (unsigned long long)prev);
		prev = size;
		if (size > c->ileaves)
			flist_add(&c->fl, VERIFY_E022_CHECKPOINT_SIZE,
			    cp->file, cp->offset, cp->seq, cp->record_id,
			    "checkpoint %llu covers more records than the"
			    " index has (%llu)", (unsigned long long)size,
			    (unsigned long long)c->ileaves);
		else if (cp->pos >= 0 && size > (uint64_t)cp->pos)
			flist_add(&c->fl, VERIFY_E022_CHECKPOINT_SIZE,
			    cp->file, cp->offset, cp->seq, cp->record_id,
			    "checkpoint %llu is record %lld itself: it cannot"
			    " cover itself or later records",
			    (unsigned long long)size, (long long)cp->pos + 1);
		else if (cp->pos >= 0 && cp->last_other >= 0 &&
		    (uint64_t)cp->last_other >= size)
			flist_add(&c->fl, VERIFY_E022_CHECKPOINT_SIZE,
			    cp->file, cp->offset, cp->seq, cp->record_id,
			    "checkpoint %llu does not cover record %lld,"
			    " written before it", (unsigned long long)size,
			    (long long)cp->last_other + 1);
		got = roots_get(&c->iroots, size);
		if (got != NULL && memcmp(got, want, HASH_LEN) != 0)
			ifail[k] = 1;
		if (c->o->full && c->o->only_segment == NULL) {
			got = roots_get(&c->aroots, size);
			if (got != NULL && memcmp(got, want, HASH_LEN) != 0)
				afail[k] = 1;
		}
		if (cp->token != NULL)
			check_token(c, cp->token, cp->token_len, cp->note,
			    cp->note_len, cp->file, cp->offset,
			    cp->record_id, size);
	}
	root_runs(c, ifail, &c->iroots, "index");
	if (c->o->full && c->o->only_segment == NULL)
		root_runs(c, afail, &c->aroots, "archive");
	if (c->o->full && c->o->only_segment == NULL)
		varchive_checkpoints(c);
	if (cp_commit(&c->cps[c->ncps - 1], &size, want) == 0 &&
	    size <= c->ileaves)
		c->rep->uncovered = c->ileaves - size;
	free(ifail);
	free(afail);
}

/* --- an exported checkpoint list (--against) ------------------------------ */

static int
ag_fail(struct vctx *c, const char *why, size_t i)
{
	if (i == (size_t)-1)
		snprintf(c->err, c->errlen, "'%s' is not a checkpoint list"
		    " (%s): %s", c->o->against, VERIFY_AGAINST_FORMAT, why);
	else
		snprintf(c->err, c->errlen, "'%s': checkpoint %zu: %s",
		    c->o->against, i + 1, why);
	return -EINVAL;
}

static int
vagainst_load(struct vctx *c)
{
	json_error_t jerr;
	json_t *doc, *list, *e, *v;
	const char *fmt, *vtext, *slash;
	char why[512] = "";
	size_t i;
	int r = 0;

	slash = strrchr(c->o->against, '/');
	c->ag_file = xstrdup(slash != NULL ? slash + 1 : c->o->against);
	doc = json_load_file(c->o->against, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL) {
		snprintf(c->err, c->errlen, "cannot read '%s': %s (line %d)",
		    c->o->against, jerr.text, jerr.line);
		return -EINVAL;
	}
	fmt = json_string_value(json_object_get(doc, "format"));
	list = json_object_get(doc, "checkpoints");
	v = json_object_get(doc, "verifier");
	if (fmt == NULL || strcmp(fmt, VERIFY_AGAINST_FORMAT) != 0 ||
	    !json_is_array(list) || (v != NULL && !json_is_string(v) &&
	    !json_is_null(v))) {
		r = ag_fail(c, "format, verifier or checkpoints missing", -1);
		goto out;
	}
	vtext = json_string_value(v);
	if (c->o->key != NULL)
		c->ag_v = NULL;		/* c->v, from --key, is used */
	else if (vtext != NULL && checkpoint_verifier_load(vtext, &c->ag_v,
	    why, sizeof(why)) < 0) {
		r = ag_fail(c, why, -1);
		goto out;
	}
	c->nag = json_array_size(list);
	c->ag = xcalloc(c->nag + 1, sizeof(*c->ag));
	json_array_foreach(list, i, e) {
		struct vag *a = &c->ag[i];
		json_t *sz = json_object_get(e, "size");
		json_t *rid = json_object_get(e, "record_id");
		json_t *tok = json_object_get(e, "tsa_token");
		const char *root = json_string_value(json_object_get(e,
		    "root"));
		const char *note = json_string_value(json_object_get(e,
		    "note"));
		uint8_t raw[HASH_LEN];

		if (!json_is_integer(sz) || json_integer_value(sz) < 0 ||
		    root == NULL || hex32(root, raw) < 0 || note == NULL ||
		    (rid != NULL && !json_is_string(rid) &&
		    !json_is_null(rid)) || (tok != NULL &&
		    !json_is_string(tok) && !json_is_null(tok))) {
			r = ag_fail(c, "needs size, root (hex), note,"
			    " record_id and tsa_token (string or null)", i);
			goto out;
		}
		a->size = (uint64_t)json_integer_value(sz);
		a->root = xstrdup(root);
		a->note = xstrdup(note);
		a->record_id = json_is_string(rid) ?
		    xstrdup(json_string_value(rid)) : NULL;
		a->token64 = json_is_string(tok) ?
		    xstrdup(json_string_value(tok)) : NULL;
	}
out:
	json_decref(doc);
	return r;
}

/* Every exported checkpoint must still match the archive. */
static int
vagainst_check(struct vctx *c)
{
	const struct checkpoint_verifier *v = c->o->key != NULL ? c->v :
	    c->ag_v;
	int archive = c->o->full && c->o->only_segment == NULL;
	const struct roots *t = archive ? &c->aroots : &c->iroots;
	uint64_t leaves = archive ? c->aleaves : c->ileaves;
	struct checkpoint cp;
	sqlite3_stmt *st = NULL;
	uint8_t want[HASH_LEN];
	const uint8_t *got;
	char g[32], w[32], hex[HASH_HEX_LEN];
	size_t i, unsigned_n = 0;
	int rc, r, ok;

	if (!c->index_bad) {
		r = sql_prepare(c, "SELECT c.note FROM records r LEFT JOIN"
		    " checkpoints c ON c.seq = r.seq WHERE r.record_id = ?1",
		    &st, "records");
		if (r < 0)
			return r;
	}
	for (i = 0; i < c->nag; i++) {
		struct vag *a = &c->ag[i];
		size_t nlen = strlen(a->note);

		hex32(a->root, want);
		ok = 0;
		if (note_is_signed(a->note, nlen)) {
			if (v == NULL)
				flist_add(&c->fl, VERIFY_E023_AGAINST,
				    c->ag_file, -1, 0, a->record_id, "exported"
				    " checkpoint %llu is signed but there is no"
				    " verifier key to check it (give --key)",
				    (unsigned long long)a->size);
			else if (checkpoint_parse_note(a->note, nlen, v,
			    &cp) < 0)
				flist_add(&c->fl, VERIFY_E023_AGAINST,
				    c->ag_file, -1, 0, a->record_id, "exported"
				    " checkpoint %llu does not verify with the"
				    " verifier key",
				    (unsigned long long)a->size);
			else
				ok = 1;
		} else if (body_parse(a->note, nlen, &cp) < 0)
			flist_add(&c->fl, VERIFY_E023_AGAINST, c->ag_file, -1,
			    0, a->record_id, "exported checkpoint %llu has a"
			    " malformed note", (unsigned long long)a->size);
		else {
			ok = 1;
			unsigned_n++;
		}
		if (ok) {
			util_hex(cp.root, HASH_LEN, hex);
			if (cp.size != a->size || strcmp(hex, a->root) != 0)
				flist_add(&c->fl, VERIFY_E023_AGAINST,
				    c->ag_file, -1, 0, a->record_id, "exported"
				    " checkpoint %llu: size or root differ from"
				    " its note", (unsigned long long)a->size);
			a->size = cp.size;
			memcpy(want, cp.root, HASH_LEN);
		}
		got = roots_get(t, a->size);
		if (a->size > leaves)
			flist_add(&c->fl, VERIFY_E023_AGAINST, c->ag_file, -1,
			    0, a->record_id, "exported checkpoint %llu covers"
			    " more records than the %s now has (%llu):"
			    " records were removed",
			    (unsigned long long)a->size, archive ?
			    "archive" : "index", (unsigned long long)leaves);
		else if (got != NULL && memcmp(got, want, HASH_LEN) != 0)
			flist_add(&c->fl, VERIFY_E023_AGAINST, c->ag_file, -1,
			    0, a->record_id, "exported checkpoint %llu: the"
			    " %s's ledger root at that size is %s..., the"
			    " export says %s...: history was rewritten after"
			    " it was exported", (unsigned long long)a->size,
			    archive ? "archive" : "index",
			    short_hex(got, g, sizeof(g)), short_hex(want, w,
			    sizeof(w)));
		if (st != NULL && a->record_id != NULL) {
			const char *note;

			sqlite3_reset(st);
			sqlite3_bind_text(st, 1, a->record_id, -1,
			    SQLITE_TRANSIENT);
			rc = sqlite3_step(st);
			if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
				sqlite3_finalize(st);
				return sql_fail(c, rc, "records");
			}
			note = rc == SQLITE_ROW ? (const char *)
			    sqlite3_column_text(st, 0) : NULL;
			if (rc == SQLITE_DONE)
				flist_add(&c->fl, VERIFY_E023_AGAINST,
				    c->ag_file, -1, 0, a->record_id, "exported"
				    " checkpoint %llu: its record is no longer"
				    " in the archive's index",
				    (unsigned long long)a->size);
			else if (note == NULL || strcmp(note, a->note) != 0)
				flist_add(&c->fl, VERIFY_E023_AGAINST,
				    c->ag_file, -1, 0, a->record_id, "exported"
				    " checkpoint %llu: the index holds a"
				    " different note for it (rewritten?)",
				    (unsigned long long)a->size);
		}
		if (a->token64 != NULL) {
			unsigned char *der = NULL;
			size_t dlen = 0;

			if (b64_decode(a->token64, strlen(a->token64), &der,
			    &dlen) < 0)
				flist_add(&c->fl, VERIFY_E024_TIMESTAMP,
				    c->ag_file, -1, 0, a->record_id, "exported"
				    " checkpoint %llu: the token is not base64",
				    (unsigned long long)a->size);
			else
				check_token(c, der, dlen, a->note, nlen,
				    c->ag_file, -1, a->record_id, a->size);
			free(der);
		}
	}
	sqlite3_finalize(st);
	if (unsigned_n > 0)
		flist_add(&c->fl, VERIFY_W002_CHECKPOINT_UNSIGNED, c->ag_file,
		    -1, 0, NULL, "%zu exported checkpoint(s) are unsigned:"
		    " they show what the archive held, not who vouched for it",
		    unsigned_n);
	return 0;
}

/* --- affected items ------------------------------------------------------- */

struct seqitem {
	int64_t		 seq;
	struct verify_finding **f;
	size_t		 nf;
};

static int
by_seqitem(const void *a, const void *b)
{
	const struct seqitem *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
items_hit(struct seqitem *v, size_t n, int64_t seq, const char *item)
{
	struct seqitem key, *hit;
	size_t i;

	if (item == NULL)
		return;
	key.seq = seq;
	hit = bsearch(&key, v, n, sizeof(*v), by_seqitem);
	if (hit == NULL)
		return;
	for (i = 0; i < hit->nf; i++)
		finding_add_item(hit->f[i], item);
}

/*
 * The items each finding's record concerns: versions it holds or that
 * were read from it, events and media about items. One pass per table.
 */
static int
vitems(struct vctx *c)
{
	static const char *const sqls[] = {
		"SELECT v.seq, v.source_seq, i.platform_id FROM versions v"
		" JOIN items i ON i.id = v.item_id",
		"SELECT e.seq, NULL, i.platform_id FROM events e"
		" JOIN items i ON i.id = e.item_id",
		"SELECT m.seq, NULL, i.platform_id FROM media m"
		" JOIN items i ON i.id = m.item_id WHERE m.seq IS NOT NULL",
	};
	struct seqitem *v = NULL;
	sqlite3_stmt *st;
	size_t n = 0, i, k, q;
	int rc, r = 0;

	for (i = 0; i < c->fl.n; i++) {
		struct verify_finding *f = &c->fl.v[i];

		if (f->seq <= 0 || f->nitems > 0)
			continue;
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n].seq = f->seq;
		v[n].f = NULL;
		v[n].nf = 0;
		n++;
	}
	if (n == 0 || c->index_bad) {
		free(v);
		return 0;
	}
	qsort(v, n, sizeof(*v), by_seqitem);
	for (i = 0, k = 0; i < n; i++)
		if (k == 0 || v[k - 1].seq != v[i].seq)
			v[k++] = v[i];
	n = k;
	for (i = 0; i < c->fl.n; i++) {
		struct verify_finding *f = &c->fl.v[i];
		struct seqitem key, *hit;

		if (f->seq <= 0 || f->nitems > 0)
			continue;
		key.seq = f->seq;
		hit = bsearch(&key, v, n, sizeof(*v), by_seqitem);
		hit->f = xreallocarray(hit->f, hit->nf + 1, sizeof(*hit->f));
		hit->f[hit->nf++] = f;
	}
	for (q = 0; q < ARRAY_SIZE(sqls) && r == 0; q++) {
		r = sql_prepare(c, sqls[q], &st, "items");
		if (r < 0)
			break;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *item = (const char *)sqlite3_column_text(
			    st, 2);

			items_hit(v, n, sqlite3_column_int64(st, 0), item);
			if (sqlite3_column_type(st, 1) != SQLITE_NULL)
				items_hit(v, n, sqlite3_column_int64(st, 1),
				    item);
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			r = sql_fail(c, rc, "items");
	}
	for (i = 0; i < n; i++)
		free(v[i].f);
	free(v);
	return r;
}

/* --- the run -------------------------------------------------------------- */

static void
vctx_release(struct vctx *c)
{
	size_t i;

	if (c->in_txn)
		sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
	if (c->own_db && c->db != NULL)
		sqlite3_close(c->db);
	for (i = 0; i < c->nsegs; i++)
		seg_release(&c->segs[i]);
	free(c->segs);
	for (i = 0; i < c->ncps; i++) {
		struct vcp *cp = &c->cps[i];

		free(cp->root);
		free(cp->note);
		free(cp->signer);
		free(cp->token);
		free(cp->record_id);
		free(cp->file);
	}
	free(c->cps);
	for (i = 0; i < c->nag; i++) {
		free(c->ag[i].record_id);
		free(c->ag[i].root);
		free(c->ag[i].note);
		free(c->ag[i].token64);
	}
	free(c->ag);
	free(c->ag_file);
	for (i = 0; i < c->nacps; i++) {
		free(c->acps[i].record_id);
		free(c->acps[i].detail);
		free(c->acps[i].file);
	}
	free(c->acps);
	checkpoint_verifier_free(c->ag_v);
	checkpoint_verifier_free(c->v);
	free(c->v_name);
	free(c->v_text);
	roots_release(&c->iroots);
	roots_release(&c->aroots);
	flist_release(&c->fl);
	flist_release(&c->ledger_fl);
	free(c->index_path);
	free(c->archive_dir);
}

/* Every size a root is needed at: checkpoints (row and note), exports. */
static void
vroots_init(struct vctx *c)
{
	uint64_t *sizes = xcalloc(2 * c->ncps + c->nag + 1, sizeof(*sizes));
	uint8_t root[HASH_LEN];
	size_t n = 0, i;

	for (i = 0; i < c->ncps; i++) {
		if (c->cps[i].size >= 0)
			sizes[n++] = (uint64_t)c->cps[i].size;
		if (cp_commit(&c->cps[i], &sizes[n], root) == 0)
			n++;
	}
	for (i = 0; i < c->nag; i++) {
		struct checkpoint cp;
		size_t len = strlen(c->ag[i].note);

		sizes[n++] = c->ag[i].size;
		if (!note_is_signed(c->ag[i].note, len) &&
		    body_parse(c->ag[i].note, len, &cp) == 0)
			sizes[n++] = cp.size;
	}
	roots_init(&c->iroots, sizes, n);
	roots_init(&c->aroots, sizes, n);
	free(sizes);
}

int
verify_run(const struct verify_opts *o, struct verify_report *ret, char *err,
    size_t errlen)
{
	struct verify_report rep;
	struct vctx c;
	double t0 = mono_now();
	size_t i;
	int r;

	memset(&rep, 0, sizeof(rep));
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.rep = &rep;
	c.err = err;
	c.errlen = errlen;
	c.index_path = xasprintf("%s/%s", o->state_dir, INDEX_FILE);
	c.archive_dir = xasprintf("%s/%s", o->state_dir, STORE_ARCHIVE_DIR);
	if (o->tsa_ca != NULL && access(o->tsa_ca, R_OK) < 0) {
		snprintf(err, errlen, "cannot read the TSA CA file '%s': %s",
		    o->tsa_ca, strerror(errno));
		r = -EINVAL;
		goto out;
	}
	if (o->against != NULL && o->only_segment != NULL) {
		snprintf(err, errlen, "checking against a checkpoint list needs"
		    " the whole archive, not one segment");
		r = -EINVAL;
		goto out;
	}
	if (o->against != NULL) {
		r = vagainst_load(&c);
		if (r < 0)
			goto out;
	}
	r = vindex_open(&c);
	if (r == 0 && o->only_segment == NULL)
		r = vindex_pragma(&c);
	if (r == 0 && sqlite3_get_autocommit(c.db)) {
		/* One snapshot for every query below. */
		if (sqlite3_exec(c.db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK)
			c.in_txn = 1;
	}
	if (r == 0)
		r = vsegments_load(&c);
	if (r == 0)
		r = vsegments_files(&c);
	if (r == 0 && o->only_segment == NULL) {
		/* The index-wide checks: ledger and checkpoints. */
		r = vcheckpoints_load(&c);
		if (r == 0)
			r = vverifier_load(&c);
		if (r == 0) {
			vcheckpoints_parse(&c);
			vroots_init(&c);
			r = vindex_ledger(&c);
		}
		if (r == 0)
			r = vrecords_orphans(&c);
	}
	if (r == 0)
		r = vsegments_run(&c);
	if (r == 0 && o->only_segment == NULL) {
		/* Segments first, then what the index's ledger said. */
		flist_take(&c.fl, &c.ledger_fl);
		vcheckpoints_check(&c);
		if (o->against != NULL)
			r = vagainst_check(&c);
	}
	if (r == 0)
		r = vitems(&c);
	if (r == -EBADMSG)
		r = 0;		/* the index is damaged: that is the report */
	if (r < 0)
		goto out;
	if (c.ledger_fl.n > 0)
		flist_take(&c.fl, &c.ledger_fl);
	for (i = 0; i < c.fl.n; i++) {
		if (verify_code_severity(c.fl.v[i].code) == VERIFY_ERROR)
			rep.errors++;
		else
			rep.warnings++;
	}
	rep.findings = c.fl.v;
	rep.nfindings = c.fl.n;
	memset(&c.fl, 0, sizeof(c.fl));
	rep.seconds = mono_now() - t0;
	*ret = rep;
out:
	vctx_release(&c);
	return r;
}

void
verify_report_release(struct verify_report *r)
{
	struct flist fl;

	fl.v = r->findings;
	fl.n = r->nfindings;
	fl.cap = r->nfindings;
	flist_release(&fl);
	memset(r, 0, sizeof(*r));
}
