/*
 * export.c - records-request response packages (see export.h for the
 * layout). One pass over the items of a search, thread by thread: each
 * version's archived record is read (pread, gunzip, WARC digests checked)
 * and becomes a JSON copy, a row of records.csv and a section of its
 * thread's HTML page; media bodies become files; the sequence numbers of
 * every original record involved are kept so that archive.warc.gz can be
 * assembled at the end from the segments' stored bytes, in archive
 * order. Tag files (bagit.txt, bag-info.txt, the manifests, the optional
 * RFC 3161 token) come last, when every payload digest is known.
 *
 * Files go into libarchive one at a time. A file whose size is not known
 * before it is complete (a thread page, records.csv, the WARC copy) is
 * built in an xfile: memory up to XF_SPILL bytes, then an unlinked
 * temporary file next to the package.
 *
 * Everything from the archive is untrusted text: HTML is escaped, CSV
 * quoted (RFC 4180), invalid UTF-8 and control characters replaced, and
 * path components made of [A-Za-z0-9._-] only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <sqlite3.h>

#include "buf.h"
#include "compress.h"
#include "export.h"
#include "hash.h"
#include "record.h"
#include "redact.h"
#include "segment.h"
#include "sysio.h"
#include "util.h"
#include "warc.h"
#include "xalloc.h"

#define XF_SPILL	(4u << 20)	/* xfile bytes kept in memory */
#define COPY_CHUNK	(256u * 1024)	/* read size for copies */
#define SEGFD_CACHE	16		/* segment files kept open */
#define NEST_MAX	8		/* reply levels shown nested */
#define EXCERPT_CHARS	160		/* thread title on the index page */
#define NAME_MAX_LEN	80		/* one sanitized path component */
#define SMALL_FILE_MAX	(256 * 1024)	/* ledger.pub, tsa-ca.pem */
#define TAG_MAX		12

enum {
	ST_ITEM, ST_VERSIONS, ST_MEDIA, ST_EVENTS, ST_REC, ST_REC_BY_ID,
	ST_WARCINFO, ST_COUNT
};

static const char *const ex_sql[ST_COUNT] = {
	[ST_ITEM] = "SELECT i.id, a.name, i.platform, i.platform_id, i.kind,"
	    " i.parent_id, i.root_id, i.author, i.url, i.state, i.hidden,"
	    " COALESCE(i.created, 0), i.first_seen, i.last_seen,"
	    " COALESCE(i.first_missing, 0), COALESCE(i.removed_at, 0),"
	    " i.nversions"
	    " FROM items i JOIN accounts a ON a.id = i.account_id"
	    " WHERE i.id = ?1",
	[ST_VERSIONS] = "SELECT v.seq, v.hash, v.captured,"
	    " COALESCE(v.platform_time, 0), COALESCE(v.source_seq, 0),"
	    " v.text FROM versions v WHERE v.item_id = ?1 ORDER BY v.id",
	[ST_MEDIA] = "SELECT m.id, m.media_key, COALESCE(m.seq, 0), m.sha256"
	    " FROM media m WHERE m.item_id = ?1 ORDER BY m.id",
	[ST_EVENTS] = "SELECT e.type, e.time, COALESCE(e.seq, 0), e.detail"
	    " FROM events e WHERE e.item_id = ?1 ORDER BY e.time, e.id",
	[ST_REC] = "SELECT r.seq, r.segment_id, s.name, r.offset, r.length,"
	    " r.sha256, r.type, r.record_id FROM records r"
	    " JOIN segments s ON s.id = r.segment_id WHERE r.seq = ?1",
	[ST_REC_BY_ID] = "SELECT seq FROM records WHERE record_id = ?1",
	[ST_WARCINFO] = "SELECT seq FROM records WHERE segment_id = ?1"
	    " AND type = 'warcinfo' ORDER BY offset LIMIT 1",
};

/* Inline style of every page: no url(), no external font. */
static const char ex_css[] =
    "body{font:15px/1.45 -apple-system,\"Segoe UI\",Helvetica,Arial,"
    "sans-serif;color:#1c1e21;background:#f0f2f5;margin:0;padding:1em}\n"
    "main{max-width:780px;margin:0 auto}\n"
    "h1{font-size:1.3em;margin:.2em 0}h2{font-size:1.1em}\n"
    ".pkg{font-size:12px;color:#555;margin-bottom:1em}\n"
    ".item{background:#fff;border:1px solid #dddfe2;border-radius:8px;"
    "padding:.7em 1em;margin:.6em 0}\n"
    ".replies{margin-left:1.2em;border-left:2px solid #dddfe2;"
    "padding-left:.7em}\n"
    ".meta{font-size:13px;color:#65676b}\n"
    ".author{font-weight:600;color:#050505}\n"
    ".text{white-space:pre-wrap;overflow-wrap:anywhere;margin:.35em 0}\n"
    ".empty{color:#888;font-style:italic}\n"
    ".version{border-top:1px dashed #ccd0d5;padding-top:.35em;"
    "margin-top:.35em}\n"
    ".vhead{font-size:12px;color:#65676b}\n"
    ".cw{font-size:13px;font-weight:600;color:#8a4b00}\n"
    ".banner{font-weight:700;padding:.35em .6em;border-radius:4px;"
    "margin:.35em 0}\n"
    ".banner.removed{background:#fde8e8;color:#9b1c1c;"
    "border:2px solid #9b1c1c}\n"
    ".banner.hidden{background:#fff4e5;color:#8a4b00;"
    "border:2px solid #8a4b00}\n"
    ".banner.restored{background:#e6f4ea;color:#1e6b34;"
    "border:2px solid #1e6b34}\n"
    ".banner.edited{background:#e7f0ff;color:#1d4ed8}\n"
    ".banner.redacted{background:#222;color:#fff}\n"
    ".item.removed{border:2px solid #9b1c1c}\n"
    ".item.context{background:#f7f8fa}\n"
    ".ctx{font-style:italic}\n"
    ".rec,.url,.events{font:11px/1.35 monospace;color:#65676b;"
    "overflow-wrap:anywhere}\n"
    "figure{margin:.4em 0}img,video{max-width:100%;height:auto}\n"
    "table{border-collapse:collapse;width:100%;background:#fff}\n"
    "td,th{border:1px solid #dddfe2;padding:.3em .4em;text-align:left;"
    "vertical-align:top;font-size:13px}\n"
    "pre{white-space:pre-wrap;background:#fff;padding:.6em;"
    "border:1px solid #dddfe2}\n"
    "@media print{body{background:#fff;font-size:10pt;padding:0}"
    "main{max-width:none}.item{border:1px solid #999;"
    "break-inside:avoid-page}.replies{margin-left:.8em}"
    "a{color:inherit;text-decoration:none}video,audio{display:none}"
    ".banner{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "}\n";

/* ---- a set of strings: names already produced ----------------------- */

struct strset {
	char	**slot;
	size_t	  cap;		/* a power of two, or 0 */
	size_t	  n;
};

static size_t
strset_slot(char *const *slot, size_t cap, const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */
	const char *p;
	size_t i;

	for (p = s; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	i = (size_t)h & (cap - 1);
	while (slot[i] != NULL && strcmp(slot[i], s) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

/* Add a copy of s: 1 if it is new, 0 if it was there. */
static int
strset_add(struct strset *set, const char *s)
{
	char **old = set->slot;
	size_t oldcap = set->cap, i;

	if (2 * (set->n + 1) > set->cap) {
		set->cap = set->cap ? 2 * set->cap : 256;
		set->slot = xcalloc(set->cap, sizeof(*set->slot));
		for (i = 0; i < oldcap; i++)
			if (old[i] != NULL)
				set->slot[strset_slot(set->slot, set->cap,
				    old[i])] = old[i];
		free(old);
	}
	i = strset_slot(set->slot, set->cap, s);
	if (set->slot[i] != NULL)
		return 0;
	set->slot[i] = xstrdup(s);
	set->n++;
	return 1;
}

static int
strset_has(const struct strset *set, const char *s)
{
	return set->cap > 0 &&
	    set->slot[strset_slot(set->slot, set->cap, s)] != NULL;
}

static void
strset_release(struct strset *set)
{
	size_t i;

	for (i = 0; i < set->cap; i++)
		free(set->slot[i]);
	free(set->slot);
	memset(set, 0, sizeof(*set));
}

/* ---- xfile: a produced file of unknown size ------------------------- */

struct xfile {
	struct buf	 mem;		/* pending bytes */
	int		 fd;		/* spill file, or -1 */
	uint64_t	 size;		/* bytes written */
	struct hash_ctx	 h;
	const char	*tmpdir;
	int		 err;		/* first error, negative errno */
};

static void
xf_init(struct xfile *xf, const char *tmpdir)
{
	memset(xf, 0, sizeof(*xf));
	buf_init(&xf->mem, 0);
	xf->fd = -1;
	xf->tmpdir = tmpdir;
	hash_init(&xf->h);
}

static void
xf_release(struct xfile *xf)
{
	unsigned char md[HASH_LEN];

	if (xf->h.md != NULL)
		hash_final(&xf->h, md);
	if (xf->fd >= 0)
		close(xf->fd);
	buf_release(&xf->mem);
	xf->fd = -1;
}

/* An unlinked temporary file in dir. */
static int
spill_open(const char *dir)
{
	char *path = xasprintf("%s/.sunarchive-export-XXXXXX", dir);
	int fd, r;

	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(path);
		return r;
	}
	unlink(path);
	free(path);
	return fd;
}

static void
xf_flush(struct xfile *xf)
{
	int r;

	if (xf->err != 0 || xf->mem.len == 0)
		return;
	if (xf->fd < 0) {
		xf->fd = spill_open(xf->tmpdir);
		if (xf->fd < 0) {
			xf->err = xf->fd;
			return;
		}
	}
	r = sysio_write_all(xf->fd, xf->mem.data, xf->mem.len);
	if (r < 0)
		xf->err = r;
	buf_reset(&xf->mem);
}

static void
xf_write(struct xfile *xf, const void *p, size_t n)
{
	if (xf->err != 0 || n == 0)
		return;
	hash_update(&xf->h, p, n);
	xf->size += n;
	buf_append(&xf->mem, p, n);
	if (xf->mem.len >= XF_SPILL)
		xf_flush(xf);
}

static void
xf_puts(struct xfile *xf, const char *s)
{
	xf_write(xf, s, strlen(s));
}

static void	xf_printf(struct xfile *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
xf_printf(struct xfile *xf, const char *fmt, ...)
{
	char small[512], *big;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		xf_write(xf, small, (size_t)n);
		return;
	}
	big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	xf_write(xf, big, (size_t)n);
	free(big);
}

/* Append what src holds (memory and spill file) to dst. 0 or -errno. */
static int
xf_append(struct xfile *dst, struct xfile *src)
{
	char *chunk;
	ssize_t got;
	off_t off = 0;

	if (src->err != 0)
		return src->err;
	if (src->fd >= 0) {
		chunk = xmalloc(COPY_CHUNK);
		for (;;) {
			got = pread(src->fd, chunk, COPY_CHUNK, off);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0) {
				free(chunk);
				return -errno;
			}
			if (got == 0)
				break;
			xf_write(dst, chunk, (size_t)got);
			off += got;
		}
		free(chunk);
	}
	xf_write(dst, src->mem.data, src->mem.len);
	return dst->err;
}

/* ---- text: UTF-8, HTML, CSV, names, times ---------------------------- */

/*
 * Length of the valid UTF-8 sequence at s (n bytes available) and its
 * code point; 0 if invalid, overlong, a surrogate or cut short.
 */
static size_t
u8_decode(const unsigned char *s, size_t n, uint32_t *ret_cp)
{
	uint32_t cp, min;
	size_t len, i;

	if (s[0] < 0x80) {
		*ret_cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return len;
}

enum textmode {
	TEXT_PLAIN,	/* valid UTF-8 only */
	TEXT_HTML,	/* and & < > " ' escaped */
	TEXT_LINE,	/* valid UTF-8, newlines and tabs become spaces */
};

/*
 * Write n bytes of s: invalid UTF-8, NUL and control characters other
 * than tab, newline and carriage return become U+FFFD; in HTML the five
 * special characters are escaped.
 */
static void
put_text(struct xfile *xf, const char *s, size_t n, enum textmode mode)
{
	const unsigned char *u = (const unsigned char *)s;
	const char *rep;
	size_t i, run = 0, len;
	uint32_t cp;

	for (i = 0; i < n; i += len) {
		rep = NULL;
		len = u8_decode(u + i, n - i, &cp);
		if (len == 0) {
			len = 1;
			rep = "\xef\xbf\xbd";
		} else if (mode == TEXT_LINE && (cp == '\n' || cp == '\r' ||
		    cp == '\t')) {
			rep = " ";
		} else if ((cp < 0x20 && cp != '\t' && cp != '\n' &&
		    cp != '\r') || cp == 0x7f) {
			rep = "\xef\xbf\xbd";
		} else if (mode == TEXT_HTML) {
			switch (cp) {
			case '&':
				rep = "&amp;";
				break;
			case '<':
				rep = "&lt;";
				break;
			case '>':
				rep = "&gt;";
				break;
			case '"':
				rep = "&quot;";
				break;
			case '\'':
				rep = "&#39;";
				break;
			default:
				break;
			}
		}
		if (rep == NULL) {
			run += len;
			continue;
		}
		xf_write(xf, s + i - run, run);
		run = 0;
		xf_puts(xf, rep);
	}
	xf_write(xf, s + n - run, run);
}

static void
put_html(struct xfile *xf, const char *s)
{
	if (s != NULL)
		put_text(xf, s, strlen(s), TEXT_HTML);
}

/* One CSV field (RFC 4180), quoted when it needs to be. */
static void
put_csv(struct xfile *xf, const char *s)
{
	const char *p;
	size_t n;

	if (s == NULL || s[0] == '\0')
		return;
	n = strlen(s);
	if (strpbrk(s, ",\"\r\n") == NULL && s[0] != ' ' &&
	    s[n - 1] != ' ') {
		put_text(xf, s, n, TEXT_PLAIN);
		return;
	}
	xf_puts(xf, "\"");
	while ((p = strchr(s, '"')) != NULL) {
		put_text(xf, s, (size_t)(p - s), TEXT_PLAIN);
		xf_puts(xf, "\"\"");
		s = p + 1;
	}
	put_text(xf, s, strlen(s), TEXT_PLAIN);
	xf_puts(xf, "\"");
}

static void
put_csv_int(struct xfile *xf, int64_t v)
{
	xf_printf(xf, "%lld", (long long)v);
}

/* A time for CSV (empty when unknown) or text ("unknown"). */
static const char *
tfmt(int64_t t, char *buf, size_t len, const char *unknown)
{
	if (t <= 0) {
		snprintf(buf, len, "%s", unknown);
		return buf;
	}
	return util_format_time(t, buf, len);
}

/* s as one path component of [A-Za-z0-9._-], not starting with '.'. */
static char *
sanitize(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0, i, o = 0;
	char *out = xmalloc(NAME_MAX_LEN + 2);

	for (i = 0; i < n && o < NAME_MAX_LEN; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    (c == '.' && o > 0))
			out[o++] = c;
		else
			out[o++] = '_';
	}
	if (o == 0)
		out[o++] = '_';
	out[o] = '\0';
	return out;
}

/* ---- the export ------------------------------------------------------ */

struct segfd {
	int64_t		 id;
	int		 fd;
	unsigned	 used;
};

/* A record's place in the archive (ST_REC). */
struct recloc {
	int64_t		 seq;
	int64_t		 segment_id;
	char		 segment[128];
	int64_t		 offset;
	int64_t		 length;
	char		 sha256[HASH_HEX_LEN];
	char		 type[16];
	char		 record_id[RECORD_ID_LEN + 8];
};

struct xitem {
	int64_t		 id;
	int		 context;
	char		*account;
	char		*platform;
	char		*platform_id;
	char		*kind;
	char		*parent_id;
	char		*root_id;
	char		*author;
	char		*url;
	char		*state;
	int		 hidden;
	int64_t		 created;
	int64_t		 first_seen;
	int64_t		 last_seen;
	int64_t		 first_missing;
	int64_t		 removed_at;
	int64_t		 nversions;
	const char	*root_key;	/* thread: root_id or platform_id */
	/* The thread tree, within its thread. */
	struct xitem	*parent;
	struct xitem	*first_child;
	struct xitem	*last_child;
	struct xitem	*next_sibling;
	int		 visited;
};

struct xthread {
	size_t		 first;		/* into the sorted items */
	size_t		 n;
	char		*file;		/* "data/threads/NAME.html" */
	int64_t		 created;
};

struct tagfile {
	char		 name[32];
	char		 sha256[HASH_HEX_LEN];
};

struct export {
	const struct export_opts *o;
	struct export_result	*res;
	sqlite3			*db;
	char			*err;
	size_t			 errlen;
	enum export_format	 fmt;
	char			*root;		/* top directory of the bag */
	char			*outdir;	/* directory of o->out */
	char			*tmp_path;	/* the package being written */
	int			 fd;
	struct archive		*a;
	char			*archive_dir;	/* STATE_DIR/archive */
	sqlite3_stmt		*st[ST_COUNT];
	struct segfd		 segs[SEGFD_CACHE];
	unsigned		 clock;
	struct buf		 stored;	/* one record's stored bytes */
	struct buf		 plain;		/* and decoded */
	struct xitem		*items;
	size_t			 nitems;
	struct xitem		**sorted;	/* items in thread order */
	struct xthread		*threads;
	size_t			 nthreads;
	struct strset		 names;		/* produced paths */
	struct strset		 accounts;	/* accounts of the items */
	struct xfile		 manifest;
	struct xfile		 csv;
	struct xfile		 redlog;
	struct xfile		 index_rows;	/* index.html thread rows */
	int64_t			*seqs;		/* records for the WARC copy */
	size_t			 nseqs;
	size_t			 capseqs;
	int64_t			 max_seq;
	int64_t			 period_from;
	int64_t			 period_to;
	int			 redacting;
	struct redact_rule	*rules;		/* one item's manual rules */
	size_t			 nrules;
	unsigned char		*manual_used;	/* per o->manual rule */
	/* The thread being written. */
	char			*excerpt;	/* its title on the index */
	int64_t			 t_items;
	int64_t			 t_context;
	int64_t			 t_versions;
	int64_t			 t_removed;
	int64_t			 t_hidden;
	int64_t			 t_edited;
	/* The last source response looked up (versions share them). */
	int64_t			 src_seq;
	char			 src_id[RECORD_ID_LEN + 8];
	int64_t			 n_edited;
	int64_t			 n_hidden;
	struct tagfile		 tags[TAG_MAX];
	size_t			 ntags;
	/* Checkpoint files produced (for the certificate, VERIFY.txt). */
	json_t			*checkpoints;
	int64_t			 leaves;	/* ledger leaves to cover */
	struct tsa_info		 token_info;
	int			 have_ca;
};

static int	ex_fail(struct export *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Keep the first message; return r. */
static int
ex_fail(struct export *ex, int r, const char *fmt, ...)
{
	va_list ap;

	if (ex->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(ex->err, ex->errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

static int
ex_db_fail(struct export *ex)
{
	return ex_fail(ex, -EIO, "cannot read the index: %s",
	    sqlite3_errmsg(ex->db));
}

static sqlite3_stmt *
ex_stmt(struct export *ex, int which)
{
	sqlite3_stmt *st = ex->st[which];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static const char *
col_str(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

static char *
col_dup(sqlite3_stmt *st, int col)
{
	const char *s = col_str(st, col);

	return s != NULL ? xstrdup(s) : NULL;
}

static void
ex_add_seq(struct export *ex, int64_t seq)
{
	if (seq <= 0)
		return;
	if (ex->nseqs == ex->capseqs) {
		ex->capseqs = ex->capseqs ? 2 * ex->capseqs : 1024;
		ex->seqs = xreallocarray(ex->seqs, ex->capseqs,
		    sizeof(*ex->seqs));
	}
	ex->seqs[ex->nseqs++] = seq;
	if (seq > ex->max_seq)
		ex->max_seq = seq;
}

/* ---- writing the package --------------------------------------------- */

static int
ex_archive_fail(struct export *ex, const char *name)
{
	return ex_fail(ex, -EIO, "cannot write '%s' into '%s': %s", name,
	    ex->o->out, archive_error_string(ex->a) != NULL ?
	    archive_error_string(ex->a) : "libarchive error");
}

/* Bookkeeping for a finished file: the manifests and Payload-Oxum. */
static void
ex_account(struct export *ex, const char *name, uint64_t size,
    const char *sha)
{
	struct tagfile *t;

	if (strncmp(name, "data/", 5) == 0) {
		xf_printf(&ex->manifest, "%s  %s\n", sha, name);
		ex->res->payload_files++;
		ex->res->payload_bytes += size;
	} else if (ex->ntags < TAG_MAX) {
		t = &ex->tags[ex->ntags++];
		snprintf(t->name, sizeof(t->name), "%s", name);
		memcpy(t->sha256, sha, HASH_HEX_LEN);
	}
}

static int
ex_header(struct export *ex, const char *name, uint64_t size, int store)
{
	struct archive_entry *e;
	char *path;
	int r;

	if (ex->fmt == EXPORT_ZIP) {
		r = store ? archive_write_zip_set_compression_store(ex->a) :
		    archive_write_zip_set_compression_deflate(ex->a);
		if (r != ARCHIVE_OK)
			return ex_archive_fail(ex, name);
	}
	path = xasprintf("%s/%s", ex->root, name);
	e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, (time_t)ex->o->now, 0);
	r = archive_write_header(ex->a, e);
	archive_entry_free(e);
	free(path);
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return ex_archive_fail(ex, name);
	return 0;
}

static int
ex_data(struct export *ex, const char *name, const void *p, size_t n)
{
	const char *c = p;
	la_ssize_t w;

	while (n > 0) {
		w = archive_write_data(ex->a, c, n);
		if (w <= 0)
			return ex_archive_fail(ex, name);
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Add a file held in memory. store: already compressed. */
static int
ex_put(struct export *ex, const char *name, const void *p, size_t n,
    int store)
{
	char sha[HASH_HEX_LEN];
	int r;

	hash_sha256_hex(p, n, sha);
	r = ex_header(ex, name, n, store);
	if (r == 0)
		r = ex_data(ex, name, p, n);
	if (r == 0)
		ex_account(ex, name, n, sha);
	return r;
}

static int
ex_put_str(struct export *ex, const char *name, const char *s)
{
	return ex_put(ex, name, s, strlen(s), 0);
}

/* Add a finished xfile (and release it); ret_sha may be NULL. */
static int
ex_put_xfile(struct export *ex, const char *name, struct xfile *xf,
    int store, char *ret_sha)
{
	unsigned char md[HASH_LEN];
	char sha[HASH_HEX_LEN];
	char *chunk;
	ssize_t got;
	int r;

	hash_final(&xf->h, md);
	util_hex(md, HASH_LEN, sha);
	if (xf->fd >= 0)
		xf_flush(xf);
	if (xf->err != 0) {
		r = ex_fail(ex, xf->err, "cannot write a temporary file in"
		    " '%s' for '%s': %s", xf->tmpdir, name,
		    strerror(-xf->err));
		xf_release(xf);
		return r;
	}
	r = ex_header(ex, name, xf->size, store);
	if (r == 0 && xf->fd < 0)
		r = ex_data(ex, name, xf->mem.data, xf->mem.len);
	if (r == 0 && xf->fd >= 0) {
		chunk = xmalloc(COPY_CHUNK);
		if (lseek(xf->fd, 0, SEEK_SET) < 0)
			r = ex_fail(ex, -errno, "cannot read back a temporary"
			    " file for '%s': %s", name, strerror(errno));
		while (r == 0) {
			got = read(xf->fd, chunk, COPY_CHUNK);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				r = ex_fail(ex, -errno, "cannot read back a"
				    " temporary file for '%s': %s", name,
				    strerror(errno));
			if (got <= 0)
				break;
			r = ex_data(ex, name, chunk, (size_t)got);
		}
		free(chunk);
	}
	if (r == 0)
		ex_account(ex, name, xf->size, sha);
	if (r == 0 && ret_sha != NULL)
		memcpy(ret_sha, sha, HASH_HEX_LEN);
	xf_release(xf);
	return r;
}

/* ---- reading the archive --------------------------------------------- */

static int
ex_loc(struct export *ex, int64_t seq, struct recloc *ret)
{
	sqlite3_stmt *st = ex_stmt(ex, ST_REC);
	struct recloc l;
	int rc;

	sqlite3_bind_int64(st, 1, seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return ex_fail(ex, -EBADMSG, "record %lld is not in the"
		    " index (run 'sunarchive check')", (long long)seq);
	if (rc != SQLITE_ROW)
		return ex_db_fail(ex);
	memset(&l, 0, sizeof(l));
	l.seq = sqlite3_column_int64(st, 0);
	l.segment_id = sqlite3_column_int64(st, 1);
	snprintf(l.segment, sizeof(l.segment), "%s", col_str(st, 2) ?
	    col_str(st, 2) : "");
	l.offset = sqlite3_column_int64(st, 3);
	l.length = sqlite3_column_int64(st, 4);
	snprintf(l.sha256, sizeof(l.sha256), "%s", col_str(st, 5) ?
	    col_str(st, 5) : "");
	snprintf(l.type, sizeof(l.type), "%s", col_str(st, 6) ?
	    col_str(st, 6) : "");
	snprintf(l.record_id, sizeof(l.record_id), "%s", col_str(st, 7) ?
	    col_str(st, 7) : "");
	sqlite3_reset(st);
	if (l.segment[0] == '\0' || strchr(l.segment, '/') != NULL ||
	    l.segment[0] == '.' || l.offset < 0 || l.length <= 0 ||
	    (uint64_t)l.length > EXPORT_RECORD_MAX)
		return ex_fail(ex, -EBADMSG, "record %lld has an impossible"
		    " location in the index", (long long)seq);
	*ret = l;
	return 0;
}

/* The segment's file, opened read-only (NAME, or NAME.open). */
static int
ex_segfd(struct export *ex, const struct recloc *l)
{
	struct segfd *s, *victim = &ex->segs[0];
	char *path;
	size_t i;
	int fd;

	for (i = 0; i < SEGFD_CACHE; i++) {
		s = &ex->segs[i];
		if (s->fd > 0 && s->id == l->segment_id) {
			s->used = ++ex->clock;
			return s->fd;
		}
		if (s->fd <= 0 || s->used < victim->used)
			victim = s;
	}
	/* The daemon may seal (rename) it meanwhile: look twice. */
	path = NULL;
	fd = -1;
	for (i = 0; fd < 0 && i < 4; i++) {
		free(path);
		path = xasprintf("%s/%s%s", ex->archive_dir, l->segment,
		    i % 2 == 0 ? "" : SEGMENT_SUFFIX_OPEN);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno != ENOENT)
			break;
	}
	if (fd < 0) {
		fd = ex_fail(ex, errno == ENOENT ? -EBADMSG : -errno,
		    "cannot open segment '%s': %s%s", path, strerror(errno),
		    errno == ENOENT ? " (run 'sunarchive check')" : "");
		free(path);
		return fd;
	}
	free(path);
	if (victim->fd > 0)
		close(victim->fd);
	victim->fd = fd;
	victim->id = l->segment_id;
	victim->used = ++ex->clock;
	return fd;
}

static int
ex_pread(struct export *ex, const struct recloc *l, int fd, char *p,
    size_t n, int64_t off)
{
	ssize_t got;

	while (n > 0) {
		got = pread(fd, p, n, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return ex_fail(ex, -errno, "cannot read segment '%s'"
			    " at %lld: %s", l->segment, (long long)off,
			    strerror(errno));
		if (got == 0)
			return ex_fail(ex, -EBADMSG, "segment '%s' ends"
			    " before the record at %lld (run 'sunarchive"
			    " check')", l->segment, (long long)l->offset);
		p += got;
		n -= (size_t)got;
		off += got;
	}
	return 0;
}

static int
ex_mismatch(struct export *ex, const struct recloc *l, const char *what)
{
	return ex_fail(ex, -EBADMSG, "record %s in segment '%s' at %lld %s"
	    " (run 'sunarchive check')", l->record_id, l->segment,
	    (long long)l->offset, what);
}

/*
 * Read one record: its stored bytes (checked against the index's
 * SHA-256), decoded, parsed (WARC digests checked) into *ret, whose
 * pointers point into ex->plain until the next read.
 */
static int
ex_read(struct export *ex, const struct recloc *l, struct warc_parsed *ret)
{
	char sha[HASH_HEX_LEN];
	const char *id;
	size_t used = 0, n;
	int fd, r;

	fd = ex_segfd(ex, l);
	if (fd < 0)
		return fd;
	buf_reset(&ex->stored);
	buf_reset(&ex->plain);
	if (buf_reserve(&ex->stored, (size_t)l->length) == NULL)
		return ex_fail(ex, -EFBIG, "record too large");
	r = ex_pread(ex, l, fd, ex->stored.data, (size_t)l->length,
	    l->offset);
	if (r < 0)
		return r;
	ex->stored.len = (size_t)l->length;
	hash_sha256_hex(ex->stored.data, ex->stored.len, sha);
	if (strcmp(sha, l->sha256) != 0)
		return ex_mismatch(ex, l, "does not match the SHA-256 in the"
		    " index");
	r = compress_gunzip_member(ex->stored.data, ex->stored.len,
	    &ex->plain, EXPORT_RECORD_MAX, &used);
	if (r < 0 || used != ex->stored.len)
		return ex_mismatch(ex, l, "is not one whole gzip member");
	r = warc_parse(ex->plain.data, ex->plain.len, ret);
	if (r < 0)
		return ex_mismatch(ex, l, "is not a valid WARC record or its"
		    " digest does not match");
	id = warc_get(ret, "WARC-Record-ID");
	n = id != NULL ? strlen(id) : 0;
	if (n < 2 || id[0] != '<' || id[n - 1] != '>' ||
	    n - 2 != strlen(l->record_id) ||
	    strncmp(id + 1, l->record_id, n - 2) != 0) {
		warc_parsed_release(ret);
		return ex_mismatch(ex, l, "has another WARC-Record-ID than"
		    " the index says");
	}
	return 0;
}

/* Append a record's stored bytes to xf, checking their SHA-256. */
static int
ex_copy_member(struct export *ex, const struct recloc *l, struct xfile *xf)
{
	struct hash_ctx h;
	unsigned char md[HASH_LEN];
	char sha[HASH_HEX_LEN], *chunk;
	int64_t done = 0;
	size_t n;
	int fd, r = 0;

	fd = ex_segfd(ex, l);
	if (fd < 0)
		return fd;
	chunk = xmalloc(COPY_CHUNK);
	hash_init(&h);
	while (r == 0 && done < l->length) {
		n = (size_t)(l->length - done) < COPY_CHUNK ?
		    (size_t)(l->length - done) : COPY_CHUNK;
		r = ex_pread(ex, l, fd, chunk, n, l->offset + done);
		if (r == 0) {
			hash_update(&h, chunk, n);
			xf_write(xf, chunk, n);
			done += (int64_t)n;
		}
	}
	hash_final(&h, md);
	free(chunk);
	if (r < 0)
		return r;
	util_hex(md, HASH_LEN, sha);
	if (strcmp(sha, l->sha256) != 0)
		return ex_mismatch(ex, l, "does not match the SHA-256 in the"
		    " index");
	return 0;
}

/* "<urn:uuid:...>" field value -> the seq of that record, or 0. */
static int64_t
ex_seq_of(struct export *ex, const char *field)
{
	sqlite3_stmt *st;
	size_t n = field != NULL ? strlen(field) : 0;
	int64_t seq = 0;

	if (n == 0)
		return 0;
	if (field[0] == '<' && field[n - 1] == '>' && n > 2) {
		field++;
		n -= 2;
	}
	st = ex_stmt(ex, ST_REC_BY_ID);
	sqlite3_bind_text(st, 1, field, (int)n, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		seq = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return seq;
}

/*
 * The request record of response l: written just before it (seq - 1)
 * and naming it in WARC-Concurrent-To; else the one the response names.
 * 0 when there is none.
 */
static int
ex_request_of(struct export *ex, const struct recloc *l, int64_t *ret_seq)
{
	struct warc_parsed p;
	struct recloc q;
	const char *c;
	size_t n;
	int64_t seq = 0;
	int r, had_err = ex->err[0] != '\0';

	if (l->seq > 1 && ex_loc(ex, l->seq - 1, &q) == 0 &&
	    strcmp(q.type, "request") == 0) {
		r = ex_read(ex, &q, &p);
		if (r < 0)
			return r;
		c = warc_get(&p, "WARC-Concurrent-To");
		n = c != NULL ? strlen(c) : 0;
		if (n > 2 && n - 2 == strlen(l->record_id) &&
		    strncmp(c + 1, l->record_id, n - 2) == 0)
			seq = q.seq;
		warc_parsed_release(&p);
	}
	if (!had_err)
		ex->err[0] = '\0';	/* a missing seq - 1 is no error */
	if (seq == 0) {
		r = ex_read(ex, l, &p);
		if (r < 0)
			return r;
		seq = ex_seq_of(ex, warc_get(&p, "WARC-Concurrent-To"));
		warc_parsed_release(&p);
	}
	*ret_seq = seq;
	return 0;
}

/* ---- the items --------------------------------------------------------- */

struct hit_id {
	int64_t		 id;
	int		 context;
};

static int
cmp_hit_id(const void *a, const void *b)
{
	const struct hit_id *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->context - y->context;
}

static void
xitem_release(struct xitem *it)
{
	free(it->account);
	free(it->platform);
	free(it->platform_id);
	free(it->kind);
	free(it->parent_id);
	free(it->root_id);
	free(it->author);
	free(it->url);
	free(it->state);
}

/* The items the filter covers, each once, with their columns. */
static int
ex_load_items(struct export *ex)
{
	struct query_order ord;
	char qerr[QUERY_ERR_LEN] = "";
	struct hit_id *hits = NULL;
	sqlite3_stmt *q, *st;
	struct xitem *it;
	size_t n = 0, cap = 0, i;
	int r, rc;

	memset(&ord, 0, sizeof(ord));
	ord.sort = QUERY_SORT_CREATED;
	r = query_prepare(ex->db, ex->o->filter, &ord, &q, qerr,
	    sizeof(qerr));
	if (r < 0)
		return ex_fail(ex, r == -EINVAL ? -EINVAL : -EIO,
		    "cannot search the index: %s", qerr);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			hits = xreallocarray(hits, cap, sizeof(*hits));
		}
		hits[n].id = sqlite3_column_int64(q, QUERY_COL_ID);
		hits[n].context = sqlite3_column_int(q, QUERY_COL_CONTEXT)
		    != 0;
		n++;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		free(hits);
		return ex_db_fail(ex);
	}
	if (n > 0)
		qsort(hits, n, sizeof(*hits), cmp_hit_id);
	ex->items = xcalloc(n > 0 ? n : 1, sizeof(*ex->items));
	for (i = 0; i < n; i++) {
		if (i > 0 && hits[i].id == hits[i - 1].id)
			continue;	/* a match beats context */
		st = ex_stmt(ex, ST_ITEM);
		sqlite3_bind_int64(st, 1, hits[i].id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			continue;
		if (rc != SQLITE_ROW) {
			free(hits);
			return ex_db_fail(ex);
		}
		it = &ex->items[ex->nitems++];
		it->id = sqlite3_column_int64(st, 0);
		it->context = hits[i].context;
		it->account = col_dup(st, 1);
		it->platform = col_dup(st, 2);
		it->platform_id = col_dup(st, 3);
		it->kind = col_dup(st, 4);
		it->parent_id = col_dup(st, 5);
		it->root_id = col_dup(st, 6);
		it->author = col_dup(st, 7);
		it->url = col_dup(st, 8);
		it->state = col_dup(st, 9);
		it->hidden = sqlite3_column_int(st, 10) != 0;
		it->created = sqlite3_column_int64(st, 11);
		it->first_seen = sqlite3_column_int64(st, 12);
		it->last_seen = sqlite3_column_int64(st, 13);
		it->first_missing = sqlite3_column_int64(st, 14);
		it->removed_at = sqlite3_column_int64(st, 15);
		it->nversions = sqlite3_column_int64(st, 16);
		if (it->account == NULL)
			it->account = xstrdup("");
		if (it->platform == NULL)
			it->platform = xstrdup("");
		if (it->platform_id == NULL)
			it->platform_id = xstrdup("");
		if (it->kind == NULL)
			it->kind = xstrdup("post");
		if (it->state == NULL)
			it->state = xstrdup("live");
		it->root_key = it->root_id != NULL && it->root_id[0] != '\0' ?
		    it->root_id : it->platform_id;
		sqlite3_reset(st);
	}
	free(hits);
	return 0;
}

static int
is_root(const struct xitem *it)
{
	return strcmp(it->platform_id, it->root_key) == 0;
}

/* Thread order: account, thread, its post first, then by creation. */
static int
cmp_thread_order(const void *a, const void *b)
{
	const struct xitem *x = *(struct xitem *const *)a;
	const struct xitem *y = *(struct xitem *const *)b;
	int c;

	c = strcmp(x->account, y->account);
	if (c == 0)
		c = strcmp(x->root_key, y->root_key);
	if (c == 0 && is_root(x) != is_root(y))
		c = is_root(x) ? -1 : 1;
	if (c == 0 && x->created != y->created)
		c = x->created < y->created ? -1 : 1;
	if (c == 0 && x->id != y->id)
		c = x->id < y->id ? -1 : 1;
	return c;
}

static int
cmp_threads(const void *a, const void *b)
{
	const struct xthread *x = a, *y = b;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* A produced name not used yet: base.ext, else base-N.ext. */
static char *
ex_unique(struct export *ex, const char *dir, const char *base,
    const char *ext, int64_t n)
{
	char *name = xasprintf("%s/%s%s", dir, base, ext);

	if (strset_add(&ex->names, name))
		return name;
	free(name);
	name = xasprintf("%s/%s-%lld%s", dir, base, (long long)n, ext);
	while (!strset_add(&ex->names, name)) {
		free(name);
		n = n < 0 ? 1 : n + 1;
		name = xasprintf("%s/%s-x%lld%s", dir, base, (long long)n,
		    ext);
	}
	return name;
}

/* Sort the items into threads and the threads by their first item. */
static void
ex_threads(struct export *ex)
{
	struct xthread *t = NULL;
	struct xitem *it;
	char *a, *b, *base;
	size_t i;

	ex->sorted = xcalloc(ex->nitems, sizeof(*ex->sorted));
	for (i = 0; i < ex->nitems; i++)
		ex->sorted[i] = &ex->items[i];
	qsort(ex->sorted, ex->nitems, sizeof(*ex->sorted), cmp_thread_order);
	ex->threads = xcalloc(ex->nitems, sizeof(*ex->threads));
	for (i = 0; i < ex->nitems; i++) {
		it = ex->sorted[i];
		strset_add(&ex->accounts, it->account);
		if (t != NULL) {
			const struct xitem *f = ex->sorted[t->first];

			if (strcmp(f->account, it->account) == 0 &&
			    strcmp(f->root_key, it->root_key) == 0) {
				t->n++;
				continue;
			}
		}
		t = &ex->threads[ex->nthreads++];
		t->first = i;
		t->n = 1;
		t->created = it->created;
	}
	for (i = 0; i < ex->nthreads; i++) {
		it = ex->sorted[ex->threads[i].first];
		a = sanitize(it->account);
		b = sanitize(it->root_key);
		base = xasprintf("%s-%s", a, b);
		ex->threads[i].file = ex_unique(ex, "data/threads", base,
		    ".html", it->id);
		free(base);
		free(a);
		free(b);
	}
	qsort(ex->threads, ex->nthreads, sizeof(*ex->threads), cmp_threads);
}

/* ---- redaction ---------------------------------------------------------- */

/* Platform-made values that only look like numbers to redact. */
static const char *const ex_skip_keys[] = {
	"id", "parent", "created", "url", NULL
};

/* The clerk's rules naming item it, into ex->rules. */
static void
ex_item_rules(struct export *ex, const struct xitem *it)
{
	const struct export_redaction *m;
	struct redact_rule *rule;
	char num[24];
	size_t i;

	ex->nrules = 0;
	snprintf(num, sizeof(num), "%lld", (long long)it->id);
	for (i = 0; i < ex->o->nmanual; i++) {
		m = &ex->o->manual[i];
		if (strcmp(m->item, num) != 0 &&
		    strcmp(m->item, it->platform_id) != 0)
			continue;
		ex->manual_used[i] = 1;
		rule = &ex->rules[ex->nrules++];
		memset(rule, 0, sizeof(*rule));
		if (strcmp(m->field, "*") == 0)
			rule->field = NULL;
		else if (strcmp(m->field, "author") == 0)
			rule->field = "author.name";
		else
			rule->field = m->field;
		rule->substring = m->text;
		rule->citation = m->citation;
	}
}

static void
ex_redact_opts(const struct export *ex, struct redact_opts *ro)
{
	memset(ro, 0, sizeof(*ro));
	ro->flags = ex->o->redact;
	ro->state = ex->o->law;
	ro->rules = ex->nrules > 0 ? ex->rules : NULL;
	ro->nrules = ex->nrules;
	ro->skip_keys = ex_skip_keys;
}

/*
 * s redacted as field of item it (a new string; a copy when nothing is
 * redacted). The hits are not logged: callers use this for values the
 * log already has from the version's JSON.
 */
static char *
ex_redact_str(struct export *ex, const char *field, const char *s,
    struct redact_hit **ret_hits, size_t *ret_n)
{
	struct redact_opts ro;
	struct redact_hit *hits = NULL;
	size_t n = 0;
	char *out = NULL;

	if (ret_hits != NULL) {
		*ret_hits = NULL;
		*ret_n = 0;
	}
	if (s == NULL)
		return NULL;
	if (!ex->redacting)
		return xstrdup(s);
	ex_redact_opts(ex, &ro);
	if (redact_field(s, strlen(s), field, &ro, &hits, &n, &out,
	    NULL) < 0)
		return xstrdup("[REDACTED]");	/* fail closed */
	if (ret_hits != NULL) {
		*ret_hits = hits;
		*ret_n = n;
	} else
		redact_hits_free(hits, n);
	return out;
}

/* Where a field of the content is shown. */
static const char *
ex_copies(const char *path)
{
	if (path == NULL)
		return "html, csv, json";
	if (strcmp(path, "text") == 0 || strcmp(path, "author.name") == 0)
		return "html, csv, json";
	if (strcmp(path, "spoiler_text") == 0 ||
	    (strncmp(path, "media[", 6) == 0 &&
	    strstr(path, "].description") != NULL))
		return "html, json";
	return "json";
}

/* One row of redactions.csv per hit. */
static void
ex_log_hits(struct export *ex, const struct xitem *it, int64_t version,
    const char *record_id, const struct redact_hit *hits, size_t n)
{
	struct xfile *x = &ex->redlog;
	size_t i;

	for (i = 0; i < n; i++) {
		put_csv(x, record_id);
		xf_puts(x, ",");
		put_csv(x, it->account);
		xf_puts(x, ",");
		put_csv(x, it->platform_id);
		xf_puts(x, ",");
		put_csv_int(x, it->id);
		xf_puts(x, ",");
		put_csv_int(x, version);
		xf_puts(x, ",");
		put_csv(x, hits[i].field != NULL ? hits[i].field : "text");
		xf_puts(x, ",");
		put_csv(x, redact_category_name(hits[i].category));
		xf_puts(x, ",");
		put_csv(x, hits[i].citation);
		xf_puts(x, ",");
		put_csv(x, hits[i].preview);
		xf_puts(x, ",");
		put_csv(x, ex_copies(hits[i].field));
		xf_puts(x, "\r\n");
		ex->res->redactions++;
	}
}

/* ---- rendering one item -------------------------------------------------- */

static const struct {
	const char	*type;
	const char	*ext;
	char		 show;		/* i(mage), v(ideo), a(udio), or 0 */
} ex_media_types[] = {
	{ "image/jpeg", ".jpg", 'i' }, { "image/png", ".png", 'i' },
	{ "image/gif", ".gif", 'i' }, { "image/webp", ".webp", 'i' },
	{ "image/heic", ".heic", 0 }, { "video/mp4", ".mp4", 'v' },
	{ "video/webm", ".webm", 'v' }, { "video/quicktime", ".mov", 'v' },
	{ "audio/mpeg", ".mp3", 'a' }, { "audio/mp4", ".m4a", 'a' },
	{ "audio/ogg", ".ogg", 'a' }, { "audio/wav", ".wav", 'a' },
};

/* The media type an HTTP head declares, else what the bytes look like. */
static size_t
ex_media_kind(const char *head, size_t hlen, const unsigned char *b,
    size_t n)
{
	const char *p = head, *end = head + hlen, *eol, *v;
	size_t i, len;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > 13 &&
		    strncasecmp(p, "content-type:", 13) == 0) {
			v = p + 13;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			len = strcspn(v, "; \t\r\n");
			for (i = 0; i < ARRAY_SIZE(ex_media_types); i++)
				if (strlen(ex_media_types[i].type) == len &&
				    strncasecmp(v, ex_media_types[i].type,
				    len) == 0)
					return i;
		}
		p = eol + 1;
	}
	if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
		return 1;
	if (n >= 3 && memcmp(b, "\xff\xd8\xff", 3) == 0)
		return 0;
	if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 ||
	    memcmp(b, "GIF89a", 6) == 0))
		return 2;
	if (n >= 12 && memcmp(b, "RIFF", 4) == 0 &&
	    memcmp(b + 8, "WEBP", 4) == 0)
		return 3;
	if (n >= 8 && memcmp(b + 4, "ftyp", 4) == 0)
		return 5;
	if (n >= 3 && memcmp(b, "ID3", 3) == 0)
		return 8;
	return ARRAY_SIZE(ex_media_types);
}

/*
 * The item's media files: each archived response's HTTP body, shown
 * after the versions; the response goes into the WARC copy.
 */
static int
ex_media(struct export *ex, struct xfile *pg, const struct xitem *it)
{
	sqlite3_stmt *st = ex_stmt(ex, ST_MEDIA);
	struct warc_parsed p;
	struct recloc l;
	const char *body, *key;
	char *base, *name;
	size_t hlen, n, k;
	int rc, r = 0;

	sqlite3_bind_int64(st, 1, it->id);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 2) <= 0)
			continue;
		r = ex_loc(ex, sqlite3_column_int64(st, 2), &l);
		if (r == 0)
			r = ex_read(ex, &l, &p);
		if (r < 0)
			break;
		key = col_str(st, 1) != NULL ? col_str(st, 1) : "media";
		body = memmem(p.block, p.block_len, "\r\n\r\n", 4);
		hlen = body != NULL ? (size_t)(body - p.block) : p.block_len;
		body = body != NULL ? body + 4 : p.block + p.block_len;
		n = p.block_len - (size_t)(body - p.block);
		k = ex_media_kind(p.block, hlen, (const unsigned char *)body,
		    n);
		base = sanitize(key);
		name = ex_unique(ex, "data/media", base,
		    k < ARRAY_SIZE(ex_media_types) ?
		    ex_media_types[k].ext : ".bin",
		    sqlite3_column_int64(st, 0));
		free(base);
		r = ex_put(ex, name, body, n, 1);
		warc_parsed_release(&p);
		if (r == 0) {
			const char *rel = name + strlen("data/");
			char show = k < ARRAY_SIZE(ex_media_types) ?
			    ex_media_types[k].show : 0;

			xf_puts(pg, "<figure>");
			if (show == 'i') {
				xf_puts(pg, "<img src=\"../");
				put_html(pg, rel);
				xf_puts(pg, "\" alt=\"media ");
				put_html(pg, key);
				xf_puts(pg, "\">");
			} else if (show == 'v' || show == 'a') {
				xf_puts(pg, show == 'v' ? "<video" : "<audio");
				xf_puts(pg, " controls preload=\"none\""
				    " src=\"../");
				put_html(pg, rel);
				xf_puts(pg, show == 'v' ? "\"></video>" :
				    "\"></audio>");
			}
			xf_puts(pg, "<figcaption class=\"rec\">media ");
			put_html(pg, key);
			xf_printf(pg, " &middot; %zu bytes &middot; <a href=\""
			    "../", n);
			put_html(pg, rel);
			xf_puts(pg, "\">");
			put_html(pg, rel + strlen("media/"));
			xf_puts(pg, "</a></figcaption></figure>\n");
			ex_add_seq(ex, l.seq);
			ex->res->media++;
		}
		free(name);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = ex_db_fail(ex);
	sqlite3_reset(st);
	return r;
}

/*
 * The item's events (hidden, removed, ...): one line for the page, into
 * line; the latest "hidden" time into *ret_hidden_at; their records and
 * the evidence a removal names go into the WARC copy.
 */
static int
ex_events(struct export *ex, const struct xitem *it, struct buf *line,
    int64_t *ret_hidden_at)
{
	sqlite3_stmt *st = ex_stmt(ex, ST_EVENTS);
	char t[32];
	const char *type;
	json_t *d;
	int rc;

	*ret_hidden_at = 0;
	sqlite3_bind_int64(st, 1, it->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		type = col_str(st, 0) != NULL ? col_str(st, 0) : "event";
		if (strcmp(type, "hidden") == 0)
			*ret_hidden_at = sqlite3_column_int64(st, 1);
		buf_printf(line, "%s%s %s", line->len > 0 ? "; " : "", type,
		    tfmt(sqlite3_column_int64(st, 1), t, sizeof(t), "?"));
		ex_add_seq(ex, sqlite3_column_int64(st, 2));
		d = col_str(st, 3) != NULL ? json_loads(col_str(st, 3), 0,
		    NULL) : NULL;
		ex_add_seq(ex, ex_seq_of(ex, json_string_value(
		    json_object_get(d, "evidence"))));
		json_decref(d);
		ex->res->events++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : ex_db_fail(ex);
}

/* The record id of a version's source response (cached). */
static const char *
ex_source_id(struct export *ex, int64_t seq)
{
	struct recloc l;

	if (seq <= 0)
		return "";
	if (seq != ex->src_seq) {
		int had_err = ex->err[0] != '\0';

		ex->src_seq = seq;
		ex->src_id[0] = '\0';
		if (ex_loc(ex, seq, &l) == 0)
			memcpy(ex->src_id, l.record_id, sizeof(ex->src_id));
		if (!had_err)
			ex->err[0] = '\0';	/* no source: no id */
	}
	return ex->src_id;
}

/* One version's row of records.csv. */
static void
ex_csv_row(struct export *ex, const struct xitem *it, int64_t k,
    int64_t captured, int64_t ptime, const char *hash,
    const struct recloc *l, const char *source, const char *file,
    const char *author, const char *text, int redacted)
{
	struct xfile *x = &ex->csv;
	char t[32];

	put_csv(x, it->platform);
	xf_puts(x, ",");
	put_csv(x, it->account);
	xf_puts(x, ",");
	put_csv(x, it->platform_id);
	xf_puts(x, ",");
	put_csv_int(x, it->id);
	xf_puts(x, ",");
	put_csv(x, it->kind);
	xf_puts(x, ",");
	put_csv(x, it->parent_id);
	xf_puts(x, ",");
	put_csv(x, it->root_id);
	xf_puts(x, ",");
	put_csv(x, author);
	xf_puts(x, ",");
	put_csv(x, tfmt(it->created, t, sizeof(t), ""));
	xf_puts(x, ",");
	put_csv(x, tfmt(captured, t, sizeof(t), ""));
	xf_puts(x, ",");
	put_csv(x, tfmt(ptime, t, sizeof(t), ""));
	xf_puts(x, ",");
	put_csv_int(x, k);
	xf_puts(x, ",");
	put_csv_int(x, it->nversions);
	xf_puts(x, ",");
	put_csv(x, it->state);
	xf_puts(x, it->hidden ? ",yes," : ",no,");
	put_csv(x, tfmt(it->last_seen, t, sizeof(t), ""));
	xf_puts(x, ",");
	put_csv(x, tfmt(it->first_missing, t, sizeof(t), ""));
	xf_puts(x, ",");
	put_csv(x, tfmt(it->removed_at, t, sizeof(t), ""));
	xf_puts(x, ",");
	put_csv(x, hash);
	xf_puts(x, ",");
	put_csv(x, l->record_id);
	xf_puts(x, ",");
	put_csv(x, l->segment);
	xf_printf(x, ",%lld,%lld,", (long long)l->offset,
	    (long long)l->length);
	put_csv(x, l->sha256);
	xf_puts(x, ",");
	put_csv(x, source);
	xf_puts(x, ",");
	put_csv(x, file);
	xf_puts(x, it->context ? ",context," : ",match,");
	xf_puts(x, redacted ? "yes," : "no,");
	put_csv(x, text);
	xf_puts(x, "\r\n");
}

/* The author a version's content names (borrowed), or NULL. */
static const char *
content_author(const json_t *content)
{
	const json_t *a = json_object_get(content, "author");
	const char *s = json_string_value(json_object_get(a, "name"));

	if (s == NULL || s[0] == '\0')
		s = json_string_value(json_object_get(a, "acct"));
	return s;
}

/* The media a version's content lists: "id (type) "description"". */
static void
ex_version_media(struct xfile *pg, const json_t *content)
{
	const json_t *media = json_object_get(content, "media"), *m;
	const char *s;
	size_t i;

	if (json_array_size(media) == 0)
		return;
	xf_puts(pg, "<div class=\"rec\">media in this version: ");
	json_array_foreach(media, i, m) {
		if (i > 0)
			xf_puts(pg, "; ");
		put_html(pg, json_string_value(json_object_get(m, "id")));
		s = json_string_value(json_object_get(m, "type"));
		if (s != NULL) {
			xf_puts(pg, " (");
			put_html(pg, s);
			xf_puts(pg, ")");
		}
		s = json_string_value(json_object_get(m, "description"));
		if (s != NULL && s[0] != '\0') {
			xf_puts(pg, " &ldquo;");
			put_html(pg, s);
			xf_puts(pg, "&rdquo;");
		}
	}
	xf_puts(pg, "</div>\n");
}

/*
 * Every version of it, oldest first: the JSON copy (as archived, or
 * redacted), a row of records.csv, a section of the page.
 */
static int
ex_versions(struct export *ex, struct xfile *pg, struct xitem *it,
    const char *dir)
{
	sqlite3_stmt *st = ex_stmt(ex, ST_VERSIONS);
	struct redact_hit *hits = NULL, *more = NULL;
	struct redact_opts ro;
	struct warc_parsed p;
	struct recloc l;
	json_t *content;
	const char *text, *author, *cw;
	char *json = NULL, *file, *xtext = NULL, t[32], hash[HASH_HEX_LEN];
	char bhash[HASH_HEX_LEN];
	size_t nhits = 0, nmore = 0;
	int64_t k = 0, captured, ptime, source;
	int rc, r = 0;

	sqlite3_bind_int64(st, 1, it->id);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		k++;
		snprintf(hash, sizeof(hash), "%s", col_str(st, 1) != NULL ?
		    col_str(st, 1) : "");
		captured = sqlite3_column_int64(st, 2);
		ptime = sqlite3_column_int64(st, 3);
		source = sqlite3_column_int64(st, 4);
		r = ex_loc(ex, sqlite3_column_int64(st, 0), &l);
		if (r == 0)
			r = ex_read(ex, &l, &p);
		if (r < 0)
			break;
		hash_sha256_hex(p.block, p.block_len, bhash);
		if (strcmp(bhash, hash) != 0) {
			warc_parsed_release(&p);
			r = ex_mismatch(ex, &l, "holds other content than its"
			    " version's hash in the index");
			break;
		}
		content = json_loadb(p.block, p.block_len,
		    JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(content)) {
			json_decref(content);
			warc_parsed_release(&p);
			r = ex_mismatch(ex, &l, "does not hold a JSON object");
			break;
		}
		if (ex->redacting) {
			ex_redact_opts(ex, &ro);
			r = redact_json(content, &ro, &hits, &nhits);
			if (r < 0) {
				json_decref(content);
				warc_parsed_release(&p);
				r = ex_fail(ex, r, "cannot redact record %s:"
				    " %s", l.record_id, strerror(-r));
				break;
			}
		}
		file = xasprintf("%s/v%lld.json", dir, (long long)k);
		if (nhits == 0) {
			r = ex_put(ex, file, p.block, p.block_len, 0);
		} else {
			json = json_dumps(content, JSON_COMPACT |
			    JSON_SORT_KEYS);
			r = json != NULL ? ex_put_str(ex, file, json) : -ENOMEM;
			free(json);
		}
		warc_parsed_release(&p);
		if (r < 0) {
			free(file);
			redact_hits_free(hits, nhits);
			json_decref(content);
			break;
		}
		text = json_string_value(json_object_get(content, "text"));
		if (text == NULL && col_str(st, 5) != NULL) {
			/* No text in the content: the index's, redacted. */
			xtext = ex_redact_str(ex, "text", col_str(st, 5),
			    &more, &nmore);
			text = xtext;
		}
		author = content_author(content);
		cw = json_string_value(json_object_get(content,
		    "spoiler_text"));
		ex_log_hits(ex, it, k, l.record_id, hits, nhits);
		ex_log_hits(ex, it, k, l.record_id, more, nmore);
		ex_csv_row(ex, it, k, captured, ptime, hash, &l,
		    ex_source_id(ex, source), file, author, text,
		    nhits + nmore > 0);

		xf_printf(pg, "<section class=\"version\" id=\"item-%lld-v%lld"
		    "\"><div class=\"vhead\">Version %lld of %lld%s &middot;"
		    " captured <time>%s</time>", (long long)it->id,
		    (long long)k, (long long)k, (long long)it->nversions,
		    k == it->nversions ? " (latest)" : "",
		    tfmt(captured, t, sizeof(t), "?"));
		if (ptime > 0)
			xf_printf(pg, " &middot; platform time <time>%s"
			    "</time>", tfmt(ptime, t, sizeof(t), "?"));
		xf_puts(pg, "</div>\n");
		if (nhits + nmore > 0)
			xf_printf(pg, "<div class=\"banner redacted\">%zu"
			    " redaction%s in this copy (see redactions.csv)"
			    "</div>\n", nhits + nmore,
			    nhits + nmore == 1 ? "" : "s");
		if (cw != NULL && cw[0] != '\0') {
			xf_puts(pg, "<div class=\"cw\">Content warning: ");
			put_html(pg, cw);
			xf_puts(pg, "</div>\n");
		}
		if (text != NULL && text[0] != '\0') {
			xf_puts(pg, "<div class=\"text\">");
			put_html(pg, text);
			xf_puts(pg, "</div>\n");
		} else
			xf_puts(pg, "<div class=\"text empty\">(no text)"
			    "</div>\n");
		ex_version_media(pg, content);
		xf_puts(pg, "<div class=\"rec\">content sha256 ");
		put_html(pg, hash);
		xf_puts(pg, " &middot; record ");
		put_html(pg, l.record_id);
		xf_puts(pg, " in ");
		put_html(pg, l.segment);
		xf_printf(pg, " at offset %lld (%lld bytes) &middot; <a"
		    " href=\"../", (long long)l.offset, (long long)l.length);
		put_html(pg, file + strlen("data/"));
		xf_printf(pg, "\">v%lld.json</a></div></section>\n",
		    (long long)k);

		if (is_root(it) || ex->excerpt == NULL) {
			free(ex->excerpt);
			ex->excerpt = xstrdup(text != NULL ? text : "");
		}
		ex_add_seq(ex, l.seq);
		ex_add_seq(ex, source);
		ex->res->versions++;
		ex->t_versions++;
		free(file);
		free(xtext);
		xtext = NULL;
		redact_hits_free(hits, nhits);
		redact_hits_free(more, nmore);
		hits = more = NULL;
		nhits = nmore = 0;
		json_decref(content);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = ex_db_fail(ex);
	sqlite3_reset(st);
	return r;
}

/* The item's header, banners, versions, media and events (left open). */
static int
ex_item(struct export *ex, struct xfile *pg, struct xitem *it)
{
	static const char *const kinds[] = { "post", "comment", "reply" };
	const char *kind = "other";
	struct buf events;
	char *a, *b, *dir, *author;
	char t1[32], t2[32], t3[32];
	int64_t hidden_at = 0;
	size_t i;
	int removed, r;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strcmp(it->kind, kinds[i]) == 0)
			kind = kinds[i];
	removed = strcmp(it->state, "removed") == 0;
	ex_item_rules(ex, it);
	buf_init(&events, 0);
	r = ex_events(ex, it, &events, &hidden_at);
	if (r < 0)
		goto out;

	xf_printf(pg, "<article class=\"item %s%s%s%s\" id=\"item-%lld\">\n",
	    kind, removed ? " removed" : "", it->hidden ? " hidden" : "",
	    it->context ? " context" : "", (long long)it->id);
	author = ex_redact_str(ex, "author.name", it->author, NULL, NULL);
	xf_puts(pg, "<div class=\"meta\"><span class=\"author\">");
	if (author != NULL && author[0] != '\0') {
		put_html(pg, author);
	} else if (strcmp(kind, "post") == 0) {
		put_html(pg, it->account);	/* the account's own post */
	} else
		xf_puts(pg, "(unknown author)");
	free(author);
	xf_printf(pg, "</span> &middot; %s &middot; created <time>%s</time>"
	    " &middot; item %lld &middot; id <code>", kind,
	    tfmt(it->created, t1, sizeof(t1), "unknown"), (long long)it->id);
	put_html(pg, it->platform_id);
	xf_puts(pg, "</code>");
	if (strcmp(kind, "post") != 0 && it->parent_id != NULL) {
		xf_puts(pg, " &middot; in reply to ");
		if (it->parent != NULL)
			xf_printf(pg, "<a href=\"#item-%lld\">item %lld</a> ",
			    (long long)it->parent->id,
			    (long long)it->parent->id);
		xf_puts(pg, "<code>");
		put_html(pg, it->parent_id);
		xf_puts(pg, "</code>");
		if (it->parent == NULL)
			xf_puts(pg, " (not in this package)");
	}
	if (it->context)
		xf_puts(pg, " &middot; <span class=\"ctx\">thread context:"
		    " does not itself match the search</span>");
	xf_puts(pg, "</div>\n");

	if (removed)
		xf_printf(pg, "<div class=\"banner removed\">REMOVED &mdash;"
		    " last seen %s, found missing %s, removal confirmed %s"
		    "</div>\n", tfmt(it->last_seen, t1, sizeof(t1),
		    "unknown"), tfmt(it->first_missing, t2, sizeof(t2),
		    "unknown"), tfmt(it->removed_at, t3, sizeof(t3),
		    "unknown"));
	else if (it->first_missing > 0)
		xf_printf(pg, "<div class=\"banner removed\">MISSING &mdash;"
		    " last seen %s, absent from listings since %s; removal"
		    " not confirmed</div>\n", tfmt(it->last_seen, t1,
		    sizeof(t1), "unknown"), tfmt(it->first_missing, t2,
		    sizeof(t2), "unknown"));
	if (strcmp(it->state, "restored") == 0)
		xf_printf(pg, "<div class=\"banner restored\">RESTORED &mdash;"
		    " was found removed%s%s, then seen again (last seen %s)"
		    "</div>\n", it->removed_at > 0 ? " (confirmed " : "",
		    it->removed_at > 0 ? tfmt(it->removed_at, t1, sizeof(t1),
		    "") : "", tfmt(it->last_seen, t2, sizeof(t2), "unknown"));
	if (it->hidden)
		xf_printf(pg, "<div class=\"banner hidden\">HIDDEN &mdash;"
		    " hidden from public view on the platform%s%s</div>\n",
		    hidden_at > 0 ? " since " : "", hidden_at > 0 ?
		    tfmt(hidden_at, t1, sizeof(t1), "") : "");
	if (it->nversions > 1)
		xf_printf(pg, "<div class=\"banner edited\">EDITED &mdash; %lld"
		    " versions, oldest first</div>\n",
		    (long long)it->nversions);

	a = sanitize(it->account);
	b = sanitize(it->platform_id);
	dir = xasprintf("data/records/%s", a);
	free(a);
	a = ex_unique(ex, dir, b, "", it->id);
	free(dir);
	free(b);
	r = ex_versions(ex, pg, it, a);
	free(a);
	if (r == 0)
		r = ex_media(ex, pg, it);
	if (r < 0)
		goto out;
	if (events.len > 0) {
		xf_puts(pg, "<div class=\"events\">events: ");
		put_html(pg, events.data);
		xf_puts(pg, "</div>\n");
	}
	if (it->url != NULL) {
		xf_puts(pg, "<div class=\"url\">original address (not a link):"
		    " ");
		put_html(pg, it->url);
		xf_puts(pg, "</div>\n");
	}
	ex->t_items++;
	ex->t_context += it->context;
	ex->t_removed += removed;
	ex->t_hidden += it->hidden;
	ex->t_edited += it->nversions > 1;
	ex->res->removed += removed;
	ex->n_hidden += it->hidden;
	ex->n_edited += it->nversions > 1;
out:
	buf_release(&events);
	return r;
}

/* ---- thread pages -------------------------------------------------------- */

static void
ex_page_head(struct export *ex, struct xfile *pg, const char *title,
    const char *up)
{
	char t[32];

	xf_puts(pg, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta"
	    " charset=\"utf-8\">\n<meta name=\"viewport\" content=\""
	    "width=device-width, initial-scale=1\">\n<meta name=\"referrer\""
	    " content=\"no-referrer\">\n<title>");
	put_html(pg, title);
	xf_puts(pg, "</title>\n<style>\n");
	xf_puts(pg, ex_css);
	xf_puts(pg, "</style></head>\n<body><main>\n<div class=\"pkg\">");
	put_html(pg, ex->o->organization != NULL ? ex->o->organization :
	    EXPORT_DEFAULT_ORG);
	if (ex->o->request_id != NULL) {
		xf_puts(pg, " &middot; records request ");
		put_html(pg, ex->o->request_id);
	}
	xf_printf(pg, " &middot; produced %s from the social media archive",
	    tfmt(ex->o->now, t, sizeof(t), "?"));
	if (up != NULL) {
		xf_puts(pg, " &middot; <a href=\"");
		put_html(pg, up);
		xf_puts(pg, "\">index of this package</a>");
	}
	xf_puts(pg, "</div>\n");
}

static void
ex_page_foot(struct xfile *pg)
{
	xf_puts(pg, "</main></body></html>\n");
}

struct frame {
	struct xitem	*it;
	struct xitem	*next;		/* next child to visit */
	int		 open;		/* its article encloses its replies */
};

/*
 * Render root and the replies under it, depth first without recursion:
 * up to NEST_MAX levels nested, deeper replies follow their parent at
 * the same level (each says what it replies to).
 */
static int
ex_tree(struct export *ex, struct xfile *pg, struct xitem *root,
    struct frame *stack)
{
	struct frame *f;
	struct xitem *c;
	size_t sp = 0;
	int depth = 0, r;

	c = root;
	for (;;) {
		if (c != NULL) {
			c->visited = 1;
			r = ex_item(ex, pg, c);
			if (r < 0)
				return r;
			if (c->first_child == NULL) {
				xf_puts(pg, "</article>\n");
			} else {
				f = &stack[sp++];
				f->it = c;
				f->next = c->first_child;
				f->open = depth < NEST_MAX;
				if (f->open) {
					xf_puts(pg, "<div class=\"replies\">"
					    "\n");
					depth++;
				} else
					xf_puts(pg, "</article>\n");
			}
		}
		if (sp == 0)
			return 0;
		f = &stack[sp - 1];
		c = f->next;
		if (c == NULL) {
			if (f->open) {
				xf_puts(pg, "</div></article>\n");
				depth--;
			}
			sp--;
			continue;
		}
		f->next = c->next_sibling;
		if (c->visited)
			c = NULL;
	}
}

static int
cmp_item_pid(const void *a, const void *b)
{
	const struct xitem *x = *(struct xitem *const *)a;
	const struct xitem *y = *(struct xitem *const *)b;

	return strcmp(x->platform_id, y->platform_id);
}

/* One thread's page, and its row on the index page. */
static int
ex_thread(struct export *ex, const struct xthread *t)
{
	struct xitem **items = ex->sorted + t->first, **byid, key, *kp, **hit;
	struct xitem *post = is_root(items[0]) ? items[0] : NULL;
	struct frame *stack;
	struct xfile pg, *row;
	char *title, tc[32];
	size_t i;
	int r = 0;

	/* The tree: each item under its parent when that is here too. */
	byid = xcalloc(t->n, sizeof(*byid));
	memcpy(byid, items, t->n * sizeof(*byid));
	qsort(byid, t->n, sizeof(*byid), cmp_item_pid);
	for (i = 0; i < t->n; i++) {
		struct xitem *it = items[i], *p = NULL;

		if (it != post && it->parent_id != NULL) {
			key.platform_id = it->parent_id;
			kp = &key;
			hit = bsearch(&kp, byid, t->n, sizeof(*byid),
			    cmp_item_pid);
			if (hit != NULL && *hit != it)
				p = *hit;
		}
		it->parent = p;
		if (p == NULL)
			continue;
		if (p->last_child == NULL)
			p->first_child = it;
		else
			p->last_child->next_sibling = it;
		p->last_child = it;
	}
	free(byid);

	ex->t_items = ex->t_context = ex->t_versions = 0;
	ex->t_removed = ex->t_hidden = ex->t_edited = 0;
	free(ex->excerpt);
	ex->excerpt = NULL;
	xf_init(&pg, ex->outdir);
	title = xasprintf("Thread %s %s", items[0]->account,
	    items[0]->root_key);
	ex_page_head(ex, &pg, title, "../index.html");
	free(title);
	xf_puts(&pg, "<h1>");
	put_html(&pg, items[0]->platform);
	xf_puts(&pg, " &middot; ");
	put_html(&pg, items[0]->account);
	xf_puts(&pg, " &middot; thread of post <code>");
	put_html(&pg, items[0]->root_key);
	xf_puts(&pg, "</code></h1>\n");
	if (post == NULL)
		xf_puts(&pg, "<p class=\"ctx\">The post this thread belongs to"
		    " is not part of this package (it does not match the"
		    " search); its comments and replies that do are shown"
		    " below.</p>\n");

	stack = xcalloc(t->n + 1, sizeof(*stack));
	for (i = 0; r == 0 && i < t->n; i++)
		if (items[i]->parent == NULL && !items[i]->visited)
			r = ex_tree(ex, &pg, items[i], stack);
	/* A loop of parents leaves items unreached: show them too. */
	for (i = 0; r == 0 && i < t->n; i++)
		if (!items[i]->visited)
			r = ex_tree(ex, &pg, items[i], stack);
	free(stack);
	ex_page_foot(&pg);
	if (r < 0) {
		xf_release(&pg);
		return r;
	}
	r = ex_put_xfile(ex, t->file, &pg, 0, NULL);
	if (r < 0)
		return r;

	row = &ex->index_rows;
	xf_puts(row, "<tr><td><a href=\"");
	put_html(row, t->file + strlen("data/"));
	xf_puts(row, "\">");
	put_html(row, items[0]->account);
	xf_puts(row, " &middot; ");
	put_html(row, items[0]->root_key);
	xf_puts(row, "</a></td><td>");
	put_html(row, items[0]->platform);
	xf_printf(row, "</td><td>%s</td><td>", tfmt(t->created, tc,
	    sizeof(tc), "unknown"));
	if (ex->excerpt != NULL) {
		size_t n = 0, c = 0, len, all = strlen(ex->excerpt);
		uint32_t cp;

		/* The first EXCERPT_CHARS characters. */
		while (n < all && c < EXCERPT_CHARS) {
			len = u8_decode((const unsigned char *)ex->excerpt + n,
			    all - n, &cp);
			n += len > 0 ? len : 1;
			c++;
		}
		put_text(row, ex->excerpt, n, TEXT_HTML);
		if (n < all)
			xf_puts(row, "&hellip;");
	}
	xf_printf(row, "</td><td>%lld", (long long)ex->t_items);
	if (ex->t_context > 0)
		xf_printf(row, " (%lld context)", (long long)ex->t_context);
	xf_printf(row, "</td><td>%lld</td><td>", (long long)ex->t_versions);
	if (ex->t_edited > 0)
		xf_printf(row, "%lld edited ", (long long)ex->t_edited);
	if (ex->t_removed > 0)
		xf_printf(row, "<strong>%lld removed</strong> ",
		    (long long)ex->t_removed);
	if (ex->t_hidden > 0)
		xf_printf(row, "%lld hidden", (long long)ex->t_hidden);
	xf_puts(row, "</td></tr>\n");
	ex->res->threads++;
	return 0;
}

/* ---- the WARC copy ------------------------------------------------------- */

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void
ex_sort_seqs(struct export *ex)
{
	size_t i, o = 0;

	if (ex->nseqs == 0)
		return;
	qsort(ex->seqs, ex->nseqs, sizeof(*ex->seqs), cmp_i64);
	for (i = 0; i < ex->nseqs; i++)
		if (o == 0 || ex->seqs[i] != ex->seqs[o - 1])
			ex->seqs[o++] = ex->seqs[i];
	ex->nseqs = o;
}

/*
 * data/archive.warc.gz: the stored gzip members of every record used,
 * byte for byte, in archive order - the versions' conversion records,
 * the responses they came from, media responses, events, the request
 * record of each response, and the warcinfo record of each segment.
 */
static int
ex_warc(struct export *ex)
{
	struct strset segs;
	struct xfile w;
	struct recloc l;
	sqlite3_stmt *st;
	char key[24];
	int64_t req;
	size_t i, n0;
	int r = 0;

	ex_sort_seqs(ex);
	memset(&segs, 0, sizeof(segs));
	n0 = ex->nseqs;
	for (i = 0; r == 0 && i < n0; i++) {
		r = ex_loc(ex, ex->seqs[i], &l);
		if (r == 0 && strcmp(l.type, "response") == 0) {
			r = ex_request_of(ex, &l, &req);
			if (r == 0)
				ex_add_seq(ex, req);
		}
		snprintf(key, sizeof(key), "%lld", (long long)l.segment_id);
		if (r == 0 && strset_add(&segs, key)) {
			st = ex_stmt(ex, ST_WARCINFO);
			sqlite3_bind_int64(st, 1, l.segment_id);
			if (sqlite3_step(st) == SQLITE_ROW)
				ex_add_seq(ex, sqlite3_column_int64(st, 0));
			sqlite3_reset(st);
		}
	}
	strset_release(&segs);
	if (r < 0)
		return r;
	ex_sort_seqs(ex);
	xf_init(&w, ex->outdir);
	for (i = 0; r == 0 && i < ex->nseqs; i++) {
		r = ex_loc(ex, ex->seqs[i], &l);
		if (r == 0)
			r = ex_copy_member(ex, &l, &w);
	}
	if (r < 0) {
		xf_release(&w);
		return r;
	}
	r = ex_put_xfile(ex, "data/archive.warc.gz", &w, 1, NULL);
	if (r == 0) {
		ex->res->warc_records = (int64_t)ex->nseqs;
		ex->res->originals = 1;
	}
	return r;
}

/* ---- gaps, checkpoints, search definition -------------------------------- */

static int
ex_gaps(struct export *ex, struct buf *lines)
{
	static const char sql[] = "SELECT a.name, a.platform, g.opened,"
	    " COALESCE(g.closed, 0), g.reason, g.detail FROM gaps g"
	    " JOIN accounts a ON a.id = g.account_id"
	    " WHERE g.opened <= ?2 AND (g.closed IS NULL OR g.closed >= ?1)"
	    " ORDER BY g.opened, g.id";
	sqlite3_stmt *st;
	struct xfile x;
	const char *acct, *msg;
	char t1[32], t2[32];
	json_t *d;
	int rc;

	if (sqlite3_prepare_v2(ex->db, sql, -1, &st, NULL) != SQLITE_OK)
		return ex_db_fail(ex);
	sqlite3_bind_int64(st, 1, ex->period_from);
	sqlite3_bind_int64(st, 2, ex->period_to);
	xf_init(&x, ex->outdir);
	xf_puts(&x, "account,platform,opened,closed,reason,detail\r\n");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		acct = col_str(st, 0) != NULL ? col_str(st, 0) : "";
		if (!strset_has(&ex->accounts, acct))
			continue;
		put_csv(&x, acct);
		xf_puts(&x, ",");
		put_csv(&x, col_str(st, 1));
		xf_puts(&x, ",");
		put_csv(&x, tfmt(sqlite3_column_int64(st, 2), t1, sizeof(t1),
		    ""));
		xf_puts(&x, ",");
		put_csv(&x, tfmt(sqlite3_column_int64(st, 3), t2, sizeof(t2),
		    ""));
		xf_puts(&x, ",");
		put_csv(&x, col_str(st, 4));
		xf_puts(&x, ",");
		put_csv(&x, col_str(st, 5));
		xf_puts(&x, "\r\n");
		d = col_str(st, 5) != NULL ? json_loads(col_str(st, 5), 0,
		    NULL) : NULL;
		msg = json_string_value(json_object_get(d, "detail"));
		buf_printf(lines, "  - %s: from %s to %s: %s%s%s\n", acct,
		    t1, sqlite3_column_int64(st, 3) > 0 ? t2 : "(still open)",
		    col_str(st, 4) != NULL ? col_str(st, 4) : "unknown",
		    msg != NULL ? " - " : "", msg != NULL ? msg : "");
		json_decref(d);
		ex->res->gaps++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		xf_release(&x);
		return ex_db_fail(ex);
	}
	return ex_put_xfile(ex, "data/gaps.csv", &x, 0, NULL);
}

/* A small regular file into *ret (0), or a negative errno. */
static int
read_small(const char *path, struct buf *ret)
{
	struct stat sb;
	char *p;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > SMALL_FILE_MAX) {
		close(fd);
		return -EINVAL;
	}
	buf_reset(ret);
	p = buf_reserve(ret, (size_t)sb.st_size);
	n = p != NULL ? read(fd, p, (size_t)sb.st_size) : -1;
	if (n != sb.st_size)
		r = -EIO;
	else
		ret->len = (size_t)n;
	close(fd);
	return r;
}

/*
 * The newest checkpoint covering every record used (ledger leaves up to
 * the largest seq), and the newest time-stamped one if that differs:
 * its signed note and token under data/checkpoint/, with the verifier
 * key the daemon publishes (STATE_DIR/ledger.pub, see anchor.h).
 */
static int
ex_checkpoints(struct export *ex)
{
	static const char *const sql[2] = {
		"SELECT size, root, time, note, signer, tsa_token"
		" FROM checkpoints WHERE size >= ?1"
		" ORDER BY size DESC LIMIT 1",
		"SELECT size, root, time, note, signer, tsa_token"
		" FROM checkpoints WHERE size >= ?1 AND tsa_token IS NOT NULL"
		" ORDER BY size DESC LIMIT 1",
	};
	sqlite3_stmt *st;
	struct buf pub;
	json_t *cp;
	char *name, t[32], *path;
	int64_t last = -1, size;
	int pass, r = 0;

	ex->checkpoints = json_array();
	if (sqlite3_prepare_v2(ex->db, "SELECT COUNT(*) FROM records"
	    " WHERE seq <= ?1", -1, &st, NULL) != SQLITE_OK)
		return ex_db_fail(ex);
	sqlite3_bind_int64(st, 1, ex->max_seq);
	if (sqlite3_step(st) == SQLITE_ROW)
		ex->leaves = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	for (pass = 0; r == 0 && pass < 2; pass++) {
		/* No checkpoints table: an index of schema 1. */
		if (sqlite3_prepare_v2(ex->db, sql[pass], -1, &st, NULL) !=
		    SQLITE_OK)
			break;
		sqlite3_bind_int64(st, 1, ex->leaves);
		if (sqlite3_step(st) != SQLITE_ROW ||
		    sqlite3_column_int64(st, 0) == last) {
			sqlite3_finalize(st);
			continue;
		}
		size = last = sqlite3_column_int64(st, 0);
		cp = json_object();
		json_object_set_new(cp, "size", json_integer(size));
		json_object_set_new(cp, "root", json_string(col_str(st, 1) ?
		    col_str(st, 1) : ""));
		json_object_set_new(cp, "time", json_string(tfmt(
		    sqlite3_column_int64(st, 2), t, sizeof(t), "")));
		json_object_set_new(cp, "signer", col_str(st, 4) != NULL ?
		    json_string(col_str(st, 4)) : json_null());
		name = xasprintf("data/checkpoint/checkpoint-%lld.note",
		    (long long)size);
		r = ex_put(ex, name, col_str(st, 3) != NULL ? col_str(st, 3) :
		    "", (size_t)sqlite3_column_bytes(st, 3), 0);
		json_object_set_new(cp, "note_file", json_string(name));
		free(name);
		if (r == 0 && sqlite3_column_type(st, 5) == SQLITE_BLOB &&
		    sqlite3_column_bytes(st, 5) > 0) {
			name = xasprintf("data/checkpoint/checkpoint-%lld.tsr",
			    (long long)size);
			r = ex_put(ex, name, sqlite3_column_blob(st, 5),
			    (size_t)sqlite3_column_bytes(st, 5), 1);
			json_object_set_new(cp, "token_file",
			    json_string(name));
			free(name);
		}
		json_array_append_new(ex->checkpoints, cp);
		sqlite3_finalize(st);
	}
	if (r < 0 || json_array_size(ex->checkpoints) == 0)
		return r;
	buf_init(&pub, 0);
	path = xasprintf("%s/ledger.pub", ex->o->state_dir);
	if (read_small(path, &pub) == 0)
		r = ex_put(ex, "data/checkpoint/ledger.pub", pub.data, pub.len,
		    0);
	free(path);
	buf_release(&pub);
	return r;
}

static const char *const ex_incl[] = {
	[QUERY_INCLUDE] = "include", [QUERY_EXCLUDE] = "exclude",
	[QUERY_ONLY] = "only",
};

static json_t *
jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
jtime(int has, int64_t t)
{
	char buf[32];

	return has ? json_string(util_format_time(t, buf, sizeof(buf))) :
	    json_null();
}

/* The filter as search.json says it. */
static json_t *
ex_filter_json(const struct query_filter *f)
{
	json_t *o = json_object(), *ids;
	size_t i;

	json_object_set_new(o, "account", jstr(f->account));
	json_object_set_new(o, "platform", jstr(f->platform));
	json_object_set_new(o, "from", jtime(f->has_from, f->from));
	json_object_set_new(o, "to", jtime(f->has_to, f->to));
	json_object_set_new(o, "text", jstr(f->text));
	json_object_set_new(o, "author", jstr(f->author));
	json_object_set_new(o, "state", jstr(f->state));
	json_object_set_new(o, "kind", jstr(f->kind));
	json_object_set_new(o, "removed", json_string(ex_incl[f->removed]));
	json_object_set_new(o, "hidden", json_string(ex_incl[f->hidden]));
	if (f->nids > 0) {
		ids = json_array();
		for (i = 0; i < f->nids; i++)
			json_array_append_new(ids, json_integer(f->ids[i]));
		json_object_set_new(o, "items", ids);
	} else
		json_object_set_new(o, "items", json_null());
	json_object_set_new(o, "with_thread", json_boolean(f->with_thread));
	return o;
}

static int64_t
ex_schema_version(struct export *ex)
{
	sqlite3_stmt *st;
	int64_t v = 0;

	if (sqlite3_prepare_v2(ex->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int
ex_search_json(struct export *ex)
{
	const struct export_opts *o = ex->o;
	json_t *s = json_object(), *red, *man, *c;
	char t[32], *text;
	size_t i;
	int r;

	json_object_set_new(s, "format", json_string("sunarchive-search/1"));
	json_object_set_new(s, "produced", json_string(tfmt(o->now, t,
	    sizeof(t), "")));
	c = json_object();
	json_object_set_new(c, "name", json_string("sunarchive"));
	json_object_set_new(c, "version", jstr(o->tool_version));
	json_object_set_new(c, "index_schema_version",
	    json_integer(ex_schema_version(ex)));
	json_object_set_new(s, "software", c);
	json_object_set_new(s, "request_id", jstr(o->request_id));
	json_object_set_new(s, "request", o->request != NULL ?
	    json_deep_copy(o->request) : json_null());
	json_object_set_new(s, "filter", ex_filter_json(o->filter));
	json_object_set_new(s, "order", json_string("threads by the"
	    " creation time of their first item; in a thread, the post,"
	    " then replies under what they reply to, by creation time"));
	json_object_set_new(s, "versions", json_string("every archived"
	    " version of every item, oldest first"));
	c = json_object();
	json_object_set_new(c, "from", json_string(tfmt(ex->period_from, t,
	    sizeof(t), "")));
	json_object_set_new(c, "to", json_string(tfmt(ex->period_to, t,
	    sizeof(t), "")));
	json_object_set_new(s, "period", c);
	red = json_object();
	c = json_array();
	if (o->redact & REDACT_F_SSN)
		json_array_append_new(c, json_string("SSN"));
	if (o->redact & REDACT_F_CARD)
		json_array_append_new(c, json_string("card number"));
	json_object_set_new(red, "automatic", c);
	json_object_set_new(red, "law", o->law != NULL ? json_string(o->law) :
	    json_string("FL and MO"));
	man = json_array();
	for (i = 0; i < o->nmanual; i++) {
		/* Never the text itself: it is what is withheld. */
		c = json_object();
		json_object_set_new(c, "item", json_string(o->manual[i].item));
		json_object_set_new(c, "field",
		    json_string(o->manual[i].field));
		json_object_set_new(c, "whole_field",
		    json_boolean(o->manual[i].text == NULL ||
		    o->manual[i].text[0] == '\0'));
		json_object_set_new(c, "citation",
		    json_string(o->manual[i].citation));
		json_array_append_new(man, c);
	}
	json_object_set_new(red, "manual", man);
	json_object_set_new(red, "originals_included",
	    json_boolean(ex->res->originals));
	json_object_set_new(s, "redaction", red);
	c = json_object();
	json_object_set_new(c, "items", json_integer(ex->res->items));
	json_object_set_new(c, "context_items",
	    json_integer(ex->res->context));
	json_object_set_new(c, "threads", json_integer(ex->res->threads));
	json_object_set_new(c, "versions", json_integer(ex->res->versions));
	json_object_set_new(c, "media", json_integer(ex->res->media));
	json_object_set_new(c, "events", json_integer(ex->res->events));
	json_object_set_new(c, "removed", json_integer(ex->res->removed));
	json_object_set_new(c, "edited", json_integer(ex->n_edited));
	json_object_set_new(c, "hidden", json_integer(ex->n_hidden));
	json_object_set_new(c, "redactions",
	    json_integer(ex->res->redactions));
	json_object_set_new(c, "gaps", json_integer(ex->res->gaps));
	json_object_set_new(c, "warc_records",
	    json_integer(ex->res->warc_records));
	json_object_set_new(s, "counts", c);
	text = json_dumps(s, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(s);
	if (text == NULL)
		return ex_fail(ex, -ENOMEM, "out of memory");
	r = ex_put(ex, "data/search.json", text, strlen(text), 0);
	free(text);
	return r;
}

/* ---- documents: certificate, index, README, VERIFY ----------------------- */

static const struct {
	const char	*path;
	const char	*what;
} ex_layout[] = {
	{ "data/index.html", "the threads of this package and what it holds"
	    " (start here)" },
	{ "data/threads/ACCOUNT-POST.html", "one page per thread, laid out"
	    " like the platform: the post, its comments and replies nested"
	    " under what they reply to; every version of an edited item,"
	    " oldest first, with its capture time; removed and hidden items"
	    " marked with their time bounds; media from data/media.  Self-"
	    "contained: no script, nothing loaded from the network; links"
	    " to the platform are shown as text" },
	{ "data/records.csv", "the inventory: one row per produced item"
	    " version (platform, account, item id, kind, parent, author,"
	    " created, captured, version, state, hidden, last seen, first"
	    " missing, removal confirmed, content SHA-256, WARC record id,"
	    " segment, offset, length, stored SHA-256, source response,"
	    " JSON file, match or thread context, redacted, text)" },
	{ "data/records/ACCOUNT/ITEM/vN.json", "each version's content as"
	    " archived: canonical JSON whose SHA-256 is the content SHA-256"
	    " in records.csv (a redacted copy where something was"
	    " redacted)" },
	{ "data/media/KEY.EXT", "media files: the bytes the platform served,"
	    " as archived" },
	{ "data/archive.warc.gz", "the original WARC 1.1 records, byte for"
	    " byte as stored: each version's conversion record, the API"
	    " response it came from and that request, media responses,"
	    " events, each segment's warcinfo (left out of a redacted"
	    " package unless asked for)" },
	{ "data/search.json", "the search definition and request this"
	    " package answers" },
	{ "data/gaps.csv", "capture gaps (the platform could not be read)"
	    " overlapping the requested period" },
	{ "data/checkpoint/", "the newest ledger checkpoint covering these"
	    " records: signed note, RFC 3161 token, verifier key" },
	{ "data/custodian-certificate.txt, .html", "the records custodian's"
	    " certificate, to be signed" },
	{ "data/redactions.csv", "every redaction made in this copy:"
	    " record, item, version, field, category, statutory citation,"
	    " masked preview (only when redacting)" },
	{ "manifest-sha256.txt", "SHA-256 of every file under data/" },
	{ "tagmanifest-sha256.txt", "SHA-256 of bagit.txt, bag-info.txt,"
	    " manifest-sha256.txt and README.txt" },
	{ "tagmanifest-sha256.txt.tsr", "RFC 3161 time-stamp token over the"
	    " tag manifest (when a time-stamping authority is configured)" },
	{ "bagit.txt, bag-info.txt", "the BagIt (RFC 8493) declaration and"
	    " the bag's metadata" },
	{ "VERIFY.txt", "the commands that verify this package" },
};

/* A document written twice: plain text and HTML. */
struct doc {
	struct xfile	 txt;
	struct xfile	 html;
};

/* Word-wrap s at 72 columns into the text version, indented. */
static void
doc_wrap(struct xfile *x, const char *s, const char *indent)
{
	size_t col = 0, w, ind = strlen(indent);

	while (*s != '\0') {
		while (*s == ' ')
			s++;
		w = strcspn(s, " \n");
		if (col > ind && col + 1 + w > 72) {
			xf_puts(x, "\n");
			col = 0;
		}
		if (col == 0) {
			xf_puts(x, indent);
			col = ind;
		} else {
			xf_puts(x, " ");
			col++;
		}
		put_text(x, s, w, TEXT_LINE);
		col += w;
		s += w;
		if (*s == '\n') {
			xf_puts(x, "\n");
			col = 0;
			s++;
		}
	}
	if (col > 0)
		xf_puts(x, "\n");
}

static void
doc_h(struct doc *d, const char *title)
{
	size_t i, n = strlen(title);

	xf_printf(&d->txt, "%s\n", title);
	for (i = 0; i < n; i++)
		xf_puts(&d->txt, "-");
	xf_puts(&d->txt, "\n");
	xf_puts(&d->html, "<h2>");
	put_html(&d->html, title);
	xf_puts(&d->html, "</h2>\n");
}

static void	doc_p(struct doc *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
doc_p(struct doc *d, const char *fmt, ...)
{
	char *s;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	s = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	doc_wrap(&d->txt, s, "");
	xf_puts(&d->txt, "\n");
	xf_puts(&d->html, "<p>");
	put_html(&d->html, s);
	xf_puts(&d->html, "</p>\n");
	free(s);
}

/* "label: value" lines, text and a table row. */
static void
doc_kv(struct doc *d, const char *label, const char *value)
{
	xf_printf(&d->txt, "  %-22s ", label);
	put_text(&d->txt, value != NULL ? value : "", value != NULL ?
	    strlen(value) : 0, TEXT_LINE);
	xf_puts(&d->txt, "\n");
	xf_puts(&d->html, "<tr><th>");
	put_html(&d->html, label);
	xf_puts(&d->html, "</th><td>");
	put_html(&d->html, value != NULL ? value : "");
	xf_puts(&d->html, "</td></tr>\n");
}

static void
doc_kv_begin(struct doc *d)
{
	xf_puts(&d->html, "<table>\n");
}

static void
doc_kv_end(struct doc *d)
{
	xf_puts(&d->html, "</table>\n");
	xf_puts(&d->txt, "\n");
}

/* The search, in words. */
static void
ex_describe_filter(struct export *ex, struct doc *d)
{
	const struct query_filter *f = ex->o->filter;
	char t[32], *s;
	size_t i;

	doc_kv_begin(d);
	doc_kv(d, "accounts", f->account != NULL ? f->account : "all");
	doc_kv(d, "platform", f->platform != NULL ? f->platform : "all");
	doc_kv(d, "created from", f->has_from ? util_format_time(f->from, t,
	    sizeof(t)) : "any time");
	doc_kv(d, "created until", f->has_to ? util_format_time(f->to, t,
	    sizeof(t)) : "any time");
	doc_kv(d, "words", f->text != NULL ? f->text : "(none)");
	doc_kv(d, "author", f->author != NULL ? f->author : "any");
	doc_kv(d, "current state", f->state != NULL ? f->state : "any");
	doc_kv(d, "kind", f->kind != NULL ? f->kind : "posts, comments and"
	    " replies");
	doc_kv(d, "removed items", f->removed == QUERY_INCLUDE ? "included" :
	    f->removed == QUERY_EXCLUDE ? "left out" : "only these");
	doc_kv(d, "hidden items", f->hidden == QUERY_INCLUDE ? "included" :
	    f->hidden == QUERY_EXCLUDE ? "left out" : "only these");
	doc_kv(d, "edited items", "every archived version");
	doc_kv(d, "thread context", f->with_thread ? "the whole thread of"
	    " each match" : "no (matching items only)");
	if (f->nids > 0) {
		struct buf b;

		buf_init(&b, 0);
		for (i = 0; i < f->nids && i < 50; i++)
			buf_printf(&b, "%s%lld", i > 0 ? ", " : "",
			    (long long)f->ids[i]);
		if (f->nids > 50)
			buf_printf(&b, ", ... (%zu in all)", f->nids);
		s = buf_steal(&b, NULL);
		doc_kv(d, "item numbers", s);
		free(s);
	}
	doc_kv_end(d);
}

static int
ex_certificate(struct export *ex, const char *gaps)
{
	const struct export_opts *o = ex->o;
	struct export_result *res = ex->res;
	const json_t *cp, *v;
	const char *key;
	struct doc d;
	char t[32], t2[32], *s;
	size_t i;
	int r;

	xf_init(&d.txt, ex->outdir);
	xf_init(&d.html, ex->outdir);
	xf_puts(&d.txt, "CUSTODIAN'S CERTIFICATE OF RECORDS PRODUCED FROM THE"
	    " SOCIAL MEDIA ARCHIVE\n\n");
	ex_page_head(ex, &d.html, "Custodian's certificate", "index.html");
	xf_puts(&d.html, "<h1>Custodian's certificate of records produced"
	    " from the social media archive</h1>\n");

	doc_h(&d, "1. Request");
	doc_kv_begin(&d);
	doc_kv(&d, "organization", o->organization != NULL ?
	    o->organization : EXPORT_DEFAULT_ORG);
	doc_kv(&d, "records request", o->request_id != NULL ?
	    o->request_id : "(none: produced by a search)");
	if (o->description != NULL)
		doc_kv(&d, "description", o->description);
	if (json_is_object(o->request)) {
		json_object_foreach((json_t *)o->request, key, v) {
			char num[32];

			if (json_is_string(v)) {
				doc_kv(&d, key, json_string_value(v));
			} else if (json_is_integer(v)) {
				snprintf(num, sizeof(num), "%lld",
				    (long long)json_integer_value(v));
				doc_kv(&d, key, num);
			}
		}
	}
	doc_kv(&d, "package produced", tfmt(o->now, t, sizeof(t), ""));
	s = xasprintf("sunarchive %s", o->tool_version != NULL ?
	    o->tool_version : "");
	doc_kv(&d, "software", s);
	free(s);
	doc_kv_end(&d);

	doc_h(&d, "2. What was searched");
	doc_p(&d, "The archive's index was searched for items (posts,"
	    " comments, replies) of the city's accounts as follows. The"
	    " definition is in data/search.json; the same search can be run"
	    " again with 'sunarchive search' or 'sunarchive export'.");
	ex_describe_filter(ex, &d);

	doc_h(&d, "3. What is produced");
	doc_p(&d, "%lld item%s (%lld of them thread context) in %lld"
	    " thread%s; %lld item version%s (every archived version of each"
	    " item); %lld media file%s; %lld event%s about these items."
	    " Removed from the platform: %lld item%s, whose content is"
	    " produced and marked REMOVED with the times it was last seen,"
	    " found missing and confirmed removed. Edited: %lld. Hidden on"
	    " the platform: %lld.",
	    (long long)res->items, res->items == 1 ? "" : "s",
	    (long long)res->context, (long long)res->threads,
	    res->threads == 1 ? "" : "s", (long long)res->versions,
	    res->versions == 1 ? "" : "s", (long long)res->media,
	    res->media == 1 ? "" : "s", (long long)res->events,
	    res->events == 1 ? "" : "s", (long long)res->removed,
	    res->removed == 1 ? "" : "s", (long long)ex->n_edited,
	    (long long)ex->n_hidden);
	if (ex->redacting)
		doc_p(&d, "Redactions: %lld, each listed in"
		    " data/redactions.csv with its statutory citation. They"
		    " were made in this copy only (HTML, records.csv and the"
		    " JSON copies); the archived originals are unaltered%s.",
		    (long long)res->redactions, res->originals ? " and"
		    " included as data/archive.warc.gz" : " and not"
		    " included in this package");
	else
		doc_p(&d, "Nothing was redacted. data/archive.warc.gz holds"
		    " %lld original archived records byte for byte.",
		    (long long)res->warc_records);

	doc_h(&d, "4. How the records were captured and hashed");
	doc_p(&d, "sunarchive polls each account through the platform's"
	    " API on a schedule and keeps every exchange as WARC 1.1 (ISO"
	    " 28500) records: the request (credentials removed) and the"
	    " response exactly as received. Each new version of an item"
	    " (a change of its content fields) is a WARC conversion record"
	    " holding the item's canonical content (JSON, keys sorted) and"
	    " naming the response it was taken from; the SHA-256 of that"
	    " content identifies the version (content_sha256 in"
	    " records.csv). Removals are recorded only when a complete"
	    " listing lacks the item and a direct lookup confirms it is"
	    " gone; hiding, restoring and failures to capture are recorded"
	    " as events. Every record is stored as its own gzip member; the"
	    " SHA-256 of the stored bytes is checked on every read and is a"
	    " leaf of an append-only Merkle tree (RFC 6962) in write order."
	    " Checkpoints of that tree are signed (Ed25519) and may carry an"
	    " RFC 3161 time-stamp. Every record in this package was read"
	    " back from the archive and its SHA-256 and WARC digests checked"
	    " when the package was made.");

	doc_h(&d, "5. Integrity checkpoint");
	cp = json_array_get(ex->checkpoints, 0);
	if (cp == NULL) {
		doc_p(&d, "No ledger checkpoint covers these records yet (the"
		    " records used are the first %lld leaves of the ledger)."
		    " 'sunarchive check' verifies the archive itself.",
		    (long long)ex->leaves);
	} else {
		doc_p(&d, "The records used are among the first %lld leaves of"
		    " the ledger. Checkpoints covering them:",
		    (long long)ex->leaves);
		json_array_foreach(ex->checkpoints, i, cp) {
			char num[32];

			doc_kv_begin(&d);
			snprintf(num, sizeof(num), "%lld", (long long)
			    json_integer_value(json_object_get(cp, "size")));
			doc_kv(&d, "tree size", num);
			doc_kv(&d, "root (SHA-256)", json_string_value(
			    json_object_get(cp, "root")));
			doc_kv(&d, "time", json_string_value(
			    json_object_get(cp, "time")));
			doc_kv(&d, "signed by", json_is_string(
			    json_object_get(cp, "signer")) ?
			    json_string_value(json_object_get(cp, "signer")) :
			    "(unsigned)");
			doc_kv(&d, "signed note", json_string_value(
			    json_object_get(cp, "note_file")));
			doc_kv(&d, "RFC 3161 token", json_is_string(
			    json_object_get(cp, "token_file")) ?
			    json_string_value(json_object_get(cp,
			    "token_file")) : "none");
			doc_kv_end(&d);
		}
	}
	if (o->timestamp != NULL)
		doc_p(&d, "This package's tag manifest is time-stamped by an"
		    " RFC 3161 authority when the TSA answers"
		    " (tagmanifest-sha256.txt.tsr; see VERIFY.txt).");

	doc_h(&d, "6. Known capture gaps");
	doc_p(&d, "Times when an account could not be fully read (API"
	    " errors, rate limits, expired tokens) that overlap the period"
	    " %s to %s (also in data/gaps.csv):",
	    tfmt(ex->period_from, t, sizeof(t), "the beginning"),
	    tfmt(ex->period_to, t2, sizeof(t2), "now"));
	if (gaps[0] == '\0')
		xf_puts(&d.txt, "  none recorded\n\n");
	else {
		xf_puts(&d.txt, gaps);
		xf_puts(&d.txt, "\n");
	}
	xf_puts(&d.html, "<pre>");
	put_html(&d.html, gaps[0] != '\0' ? gaps : "  none recorded\n");
	xf_puts(&d.html, "</pre>\n");

	doc_h(&d, "7. Certification");
	doc_p(&d, "I, the undersigned, am the custodian of the records of"
	    " the organization named above, or a person qualified to"
	    " certify them. The files in this package are true and accurate"
	    " copies of records kept in the regular course of its business"
	    " by the electronic process described in section 4, produced"
	    " by that process from the archive%s. Each file is identified"
	    " by its SHA-256 hash value in manifest-sha256.txt.",
	    ex->redacting ? ", except for the redactions listed in"
	    " data/redactions.csv" : "");
	xf_puts(&d.txt, "\n  Name:      ______________________________\n\n"
	    "  Title:     ______________________________\n\n"
	    "  Signature: ______________________________\n\n"
	    "  Date:      ______________________________\n");
	xf_puts(&d.html, "<table><tr><th>Name</th><td>&nbsp;</td></tr>"
	    "<tr><th>Title</th><td>&nbsp;</td></tr>"
	    "<tr><th>Signature</th><td><br><br></td></tr>"
	    "<tr><th>Date</th><td>&nbsp;</td></tr></table>\n");
	ex_page_foot(&d.html);

	r = ex_put_xfile(ex, "data/custodian-certificate.txt", &d.txt, 0,
	    NULL);
	if (r == 0)
		r = ex_put_xfile(ex, "data/custodian-certificate.html",
		    &d.html, 0, NULL);
	xf_release(&d.txt);
	xf_release(&d.html);
	return r;
}

static int
ex_index(struct export *ex)
{
	const struct export_opts *o = ex->o;
	struct export_result *res = ex->res;
	struct xfile pg;
	char t[32];
	size_t i;
	int r;

	xf_init(&pg, ex->outdir);
	ex_page_head(ex, &pg, "Public records response package", NULL);
	xf_puts(&pg, "<h1>Public records response package</h1>\n<table>\n");
	xf_puts(&pg, "<tr><th>records request</th><td>");
	put_html(&pg, o->request_id != NULL ? o->request_id : "(search)");
	xf_puts(&pg, "</td></tr>\n");
	if (o->description != NULL) {
		xf_puts(&pg, "<tr><th>description</th><td>");
		put_html(&pg, o->description);
		xf_puts(&pg, "</td></tr>\n");
	}
	xf_printf(&pg, "<tr><th>produced</th><td>%s</td></tr>\n",
	    tfmt(o->now, t, sizeof(t), ""));
	xf_printf(&pg, "<tr><th>contents</th><td>items: %lld (thread"
	    " context: %lld); threads: %lld; versions: %lld; media files:"
	    " %lld; removed items: %lld</td></tr>\n", (long long)res->items,
	    (long long)res->context, (long long)res->threads,
	    (long long)res->versions, (long long)res->media,
	    (long long)res->removed);
	if (ex->redacting)
		xf_printf(&pg, "<tr><th>redactions</th><td>%lld, listed in <a"
		    " href=\"redactions.csv\">redactions.csv</a></td></tr>\n",
		    (long long)res->redactions);
	xf_puts(&pg, "<tr><th>files</th><td><a href=\"records.csv\">"
	    "records.csv</a> &middot; <a href=\"search.json\">search.json"
	    "</a> &middot; <a href=\"gaps.csv\">gaps.csv</a> &middot; <a"
	    " href=\"custodian-certificate.html\">custodian's certificate"
	    "</a>");
	if (res->originals)
		xf_puts(&pg, " &middot; <a href=\"archive.warc.gz\">"
		    "archive.warc.gz</a>");
	xf_puts(&pg, "</td></tr>\n</table>\n<h2>Threads</h2>\n<table>\n"
	    "<tr><th>thread</th><th>platform</th><th>created</th>"
	    "<th>post</th><th>items</th><th>versions</th><th>marked</th>"
	    "</tr>\n");
	r = xf_append(&pg, &ex->index_rows);
	if (r < 0) {
		xf_release(&pg);
		return ex_fail(ex, r, "cannot read back a temporary file: %s",
		    strerror(-r));
	}
	xf_puts(&pg, "</table>\n<h2>What this package holds</h2>\n<p>A BagIt"
	    " bag (RFC 8493): the files below data/ are listed with their"
	    " SHA-256 in manifest-sha256.txt next to the data directory;"
	    " VERIFY.txt there gives the commands that check them.</p>\n"
	    "<table>\n");
	for (i = 0; i < ARRAY_SIZE(ex_layout); i++) {
		xf_puts(&pg, "<tr><th>");
		put_html(&pg, ex_layout[i].path);
		xf_puts(&pg, "</th><td>");
		put_html(&pg, ex_layout[i].what);
		xf_puts(&pg, "</td></tr>\n");
	}
	xf_puts(&pg, "</table>\n");
	ex_page_foot(&pg);
	return ex_put_xfile(ex, "data/index.html", &pg, 0, NULL);
}

static int
ex_readme(struct export *ex)
{
	struct xfile x;
	size_t i;

	xf_init(&x, ex->outdir);
	xf_puts(&x, "PUBLIC RECORDS RESPONSE PACKAGE\n\n");
	doc_wrap(&x, "Records from the city's social media archive,"
	    " produced by sunarchive. Open data/index.html in a web browser"
	    " to read them: one page per thread, laid out like the platform,"
	    " printable, loading nothing from the network. The package is a"
	    " BagIt bag (RFC 8493); VERIFY.txt says how to check that every"
	    " file is complete and unaltered.", "");
	xf_puts(&x, "\nLAYOUT\n\n");
	for (i = 0; i < ARRAY_SIZE(ex_layout); i++) {
		xf_printf(&x, "%s\n", ex_layout[i].path);
		doc_wrap(&x, ex_layout[i].what, "    ");
	}
	xf_puts(&x, "\nNOTES\n\n");
	doc_wrap(&x, "Times are UTC (RFC 3339). A version is a distinct"
	    " content of an item as captured; \"captured\" is when the"
	    " archive first saw it. \"last seen\", \"found missing\" and"
	    " \"removal confirmed\" bound when a removed item disappeared"
	    " from the platform. Redactions, when any, replace the exempt"
	    " text with a marker such as [REDACTED: SSN] in the HTML, CSV"
	    " and JSON copies only. records.csv is UTF-8 CSV (RFC 4180);"
	    " import it as text so that ids keep their digits.", "");
	return ex_put_xfile(ex, "README.txt", &x, 0, NULL);
}

static int
ex_verify_txt(struct export *ex)
{
	const struct export_opts *o = ex->o;
	const json_t *cp;
	struct xfile x;
	char t[32];
	size_t i;
	int step = 3;

	xf_init(&x, ex->outdir);
	xf_puts(&x, "HOW TO VERIFY THIS PACKAGE\n\n");
	doc_wrap(&x, "Run these commands in the package's top directory (the"
	    " one that holds bagit.txt). They need only sha256sum (GNU"
	    " coreutils) and OpenSSL; no sunarchive software.", "");
	xf_puts(&x, "\n1. Every payload file against its SHA-256:\n\n"
	    "    sha256sum -c manifest-sha256.txt\n\n"
	    "2. The tag files (bagit.txt, bag-info.txt, manifest-sha256.txt,"
	    "\n   README.txt) against theirs:\n\n"
	    "    sha256sum -c tagmanifest-sha256.txt\n\n");
	if (ex->res->timestamped) {
		xf_printf(&x, "%d. The RFC 3161 time-stamp over the tag"
		    " manifest", step++);
		if (o->tsa_url != NULL)
			xf_printf(&x, " (from %s", o->tsa_url);
		if (ex->token_info.gen_time > 0)
			xf_printf(&x, "%s%s", o->tsa_url != NULL ? ", " :
			    " (", tfmt(ex->token_info.gen_time, t, sizeof(t),
			    ""));
		if (o->tsa_url != NULL || ex->token_info.gen_time > 0)
			xf_puts(&x, ")");
		xf_printf(&x, ":\n\n    openssl ts -verify -data"
		    " tagmanifest-sha256.txt -in tagmanifest-sha256.txt.tsr"
		    " -token_in -CAfile %s\n\n", ex->have_ca ? "tsa-ca.pem" :
		    "TSA-CA.pem");
		doc_wrap(&x, ex->have_ca ? "tsa-ca.pem is a copy of the"
		    " time-stamping authority's CA certificates as the"
		    " archive is configured to trust them. To rely on the"
		    " time-stamp without trusting this package, use the CA"
		    " certificate the authority publishes instead. A good"
		    " time-stamp proves the tag manifest, and through the"
		    " manifests every file, existed unchanged at that time." :
		    "TSA-CA.pem stands for the time-stamping authority's CA"
		    " certificate, which the authority publishes. A good"
		    " time-stamp proves the tag manifest, and through the"
		    " manifests every file, existed unchanged at that time.",
		    "   ");
		xf_puts(&x, "\n");
	} else {
		doc_wrap(&x, "This package carries no RFC 3161 time-stamp (no"
		    " time-stamping authority was used when it was made).",
		    "");
		xf_puts(&x, "\n");
	}
	json_array_foreach(ex->checkpoints, i, cp) {
		const char *note = json_string_value(json_object_get(cp,
		    "note_file"));
		const char *tok = json_string_value(json_object_get(cp,
		    "token_file"));

		xf_printf(&x, "%d. Ledger checkpoint %lld (%s), a signed note"
		    " committing to the archive's\n   Merkle tree of records"
		    " (Go signed-note format; data/checkpoint/ledger.pub\n"
		    "   is the verifier key):\n\n    cat %s\n\n", step++,
		    (long long)json_integer_value(json_object_get(cp,
		    "size")), json_string_value(json_object_get(cp, "time")),
		    note);
		if (tok != NULL)
			xf_printf(&x, "   and its RFC 3161 time-stamp:\n\n"
			    "    openssl ts -verify -data %s -in %s -token_in"
			    " -CAfile %s\n\n", note, tok, ex->have_ca ?
			    "tsa-ca.pem" : "TSA-CA.pem");
	}
	if (ex->res->originals) {
		xf_printf(&x, "%d. The original records in"
		    " data/archive.warc.gz are WARC 1.1; each record's\n"
		    "   WARC-Block-Digest is its SHA-256 in base32. Any WARC"
		    " reader verifies them,\n   e.g. with warcio:\n\n"
		    "    warcio check data/archive.warc.gz\n\n", step++);
	}
	return ex_put_xfile(ex, "VERIFY.txt", &x, 0, NULL);
}

/* s as one line of valid UTF-8 (a bag-info.txt value). */
static char *
oneline(const char *s)
{
	struct xfile x;
	char *out;

	xf_init(&x, ".");
	put_text(&x, s, strlen(s), TEXT_LINE);
	out = xstrndup(x.mem.data != NULL ? x.mem.data : "", x.mem.len);
	xf_release(&x);
	return out;
}

/* bagit.txt, bag-info.txt, the manifests, the token, VERIFY.txt. */
static int
ex_tags(struct export *ex)
{
	const struct export_opts *o = ex->o;
	struct export_result *res = ex->res;
	struct tsa_info info;
	unsigned char md[HASH_LEN], *tok = NULL;
	struct buf b, ca;
	char t[32], size[32], terr[EXPORT_ERR_LEN] = "", *org, *desc;
	size_t i, toklen = 0;
	int r;

	r = ex_readme(ex);
	if (r == 0)
		r = ex_put_str(ex, "bagit.txt", "BagIt-Version: 1.0\n"
		    "Tag-File-Character-Encoding: UTF-8\n");
	if (r < 0)
		return r;
	org = oneline(o->organization != NULL ? o->organization :
	    EXPORT_DEFAULT_ORG);
	desc = o->description != NULL ? oneline(o->description) : NULL;
	buf_init(&b, 0);
	buf_printf(&b, "Source-Organization: %s\n", org);
	buf_puts(&b, "Organization-Address: \nContact-Name: \n"
	    "Contact-Phone: \nContact-Email: \n");
	buf_puts(&b, "External-Description: ");
	if (o->request_id != NULL)
		buf_printf(&b, "Response to records request %s%s",
		    o->request_id, desc != NULL ? ": " : "");
	else if (desc == NULL)
		buf_puts(&b, "Records from the social media archive, produced"
		    " by a search (data/search.json)");
	if (desc != NULL)
		buf_puts(&b, desc);
	buf_puts(&b, "\n");
	if (o->request_id != NULL)
		buf_printf(&b, "External-Identifier: records-request-%s\n",
		    o->request_id);
	buf_printf(&b, "Bagging-Date: %.10s\n", tfmt(o->now, t, sizeof(t),
	    ""));
	if (res->payload_bytes < 1024 * 1024)
		snprintf(size, sizeof(size), "%.1f KB",
		    (double)res->payload_bytes / 1024.0);
	else if (res->payload_bytes < 1024ULL * 1024 * 1024)
		snprintf(size, sizeof(size), "%.1f MB",
		    (double)res->payload_bytes / 1048576.0);
	else
		snprintf(size, sizeof(size), "%.2f GB",
		    (double)res->payload_bytes / 1073741824.0);
	buf_printf(&b, "Bag-Size: %s\n", size);
	buf_printf(&b, "Payload-Oxum: %llu.%llu\n",
	    (unsigned long long)res->payload_bytes,
	    (unsigned long long)res->payload_files);
	buf_printf(&b, "Bag-Software-Agent: sunarchive %s\n",
	    o->tool_version != NULL ? o->tool_version : "");
	free(org);
	free(desc);
	r = ex_put(ex, "bag-info.txt", b.data, b.len, 0);
	buf_release(&b);
	if (r == 0)
		r = ex_put_xfile(ex, "manifest-sha256.txt", &ex->manifest, 0,
		    NULL);
	if (r < 0)
		return r;

	buf_init(&b, 0);
	for (i = 0; i < ex->ntags; i++)
		buf_printf(&b, "%s  %s\n", ex->tags[i].sha256,
		    ex->tags[i].name);
	r = ex_put(ex, "tagmanifest-sha256.txt", b.data, b.len, 0);
	if (r < 0) {
		buf_release(&b);
		return r;
	}
	hash_sha256(b.data, b.len, md);
	util_hex(md, HASH_LEN, res->tagmanifest_sha256);
	buf_release(&b);

	if (o->timestamp != NULL) {
		memset(&info, 0, sizeof(info));
		r = o->timestamp(o->timestamp_arg, md, &tok, &toklen, &info,
		    terr, sizeof(terr));
		if (r < 0 && o->timestamp_required)
			return ex_fail(ex, r, "cannot time-stamp the package:"
			    " %s", terr[0] != '\0' ? terr : strerror(-r));
		if (r < 0) {
			snprintf(res->warning, sizeof(res->warning), "no"
			    " time-stamp in the package: %s", terr[0] != '\0' ?
			    terr : strerror(-r));
			r = 0;
		} else {
			ex->token_info = info;
			r = ex_put(ex, "tagmanifest-sha256.txt.tsr", tok,
			    toklen, 1);
			res->timestamped = r == 0;
		}
		free(tok);
	}
	if (r == 0 && o->tsa_ca_file != NULL && (res->timestamped ||
	    json_array_size(ex->checkpoints) > 0)) {
		buf_init(&ca, 0);
		if (read_small(o->tsa_ca_file, &ca) == 0) {
			r = ex_put(ex, "tsa-ca.pem", ca.data, ca.len, 0);
			ex->have_ca = r == 0;
		}
		buf_release(&ca);
	}
	if (r == 0)
		r = ex_verify_txt(ex);
	return r;
}

/* ---- the run ------------------------------------------------------------- */

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcasecmp(s + n - m, suffix) == 0;
}

int
export_format_of(const char *path, enum export_format *ret_fmt)
{
	const char *base;

	if (path == NULL)
		return -EINVAL;
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	if (ends_with(base, ".zip"))
		*ret_fmt = EXPORT_ZIP;
	else if (ends_with(base, ".tar.gz") || ends_with(base, ".tgz"))
		*ret_fmt = EXPORT_TAR_GZ;
	else
		return -EINVAL;
	return 0;
}

/* Check what the caller asked for before touching anything. */
static int
ex_check_opts(struct export *ex)
{
	const struct export_opts *o = ex->o;
	size_t i;

	if (export_format_of(o->out, &ex->fmt) < 0)
		return ex_fail(ex, -EINVAL, "cannot tell the package format"
		    " of '%s': name it FILE.zip or FILE.tar.gz", o->out);
	if (o->law != NULL && strcasecmp(o->law, "FL") != 0 &&
	    strcasecmp(o->law, "MO") != 0)
		return ex_fail(ex, -EINVAL, "unknown state '%s' for"
		    " citations (FL or MO)", o->law);
	if ((o->redact & ~(unsigned)REDACT_F_AUTO) != 0)
		return ex_fail(ex, -EINVAL, "unknown redaction detectors");
	for (i = 0; i < o->nmanual; i++) {
		const struct export_redaction *m = &o->manual[i];

		if (m->item == NULL || m->item[0] == '\0' ||
		    m->field == NULL || m->field[0] == '\0')
			return ex_fail(ex, -EINVAL, "a manual redaction needs"
			    " an item and a field");
		if (m->citation == NULL || m->citation[0] == '\0')
			return ex_fail(ex, -EINVAL, "the manual redaction of"
			    " item %s needs a citation", m->item);
	}
	if (o->filter == NULL || o->state_dir == NULL)
		return ex_fail(ex, -EINVAL, "nothing to export");
	return 0;
}

/* Directory and top-level bag name from o->out. */
static void
ex_names(struct export *ex)
{
	const char *out = ex->o->out, *slash = strrchr(out, '/');
	const char *base = slash != NULL ? slash + 1 : out;
	size_t n = strlen(base);
	char *stem;

	if (slash == NULL)
		ex->outdir = xstrdup(".");
	else if (slash == out)
		ex->outdir = xstrdup("/");
	else
		ex->outdir = xstrndup(out, (size_t)(slash - out));
	if (ends_with(base, ".tar.gz"))
		n -= 7;
	else if (ends_with(base, ".zip") || ends_with(base, ".tgz"))
		n -= 4;
	stem = xstrndup(base, n);
	ex->root = sanitize(stem);
	free(stem);
}

static int
ex_open_package(struct export *ex)
{
	const char *base = strrchr(ex->o->out, '/');
	int r;

	base = base != NULL ? base + 1 : ex->o->out;
	ex->tmp_path = xasprintf("%s/.%s.XXXXXX", ex->outdir, base);
	ex->fd = mkostemp(ex->tmp_path, O_CLOEXEC);
	if (ex->fd < 0) {
		r = ex_fail(ex, -errno, "cannot create a file in '%s': %s",
		    ex->outdir, strerror(errno));
		free(ex->tmp_path);
		ex->tmp_path = NULL;
		return r;
	}
	ex->a = archive_write_new();
	if (ex->a == NULL)
		return ex_fail(ex, -ENOMEM, "out of memory");
	if (ex->fmt == EXPORT_ZIP) {
		r = archive_write_set_format_zip(ex->a);
	} else {
		r = archive_write_set_format_pax_restricted(ex->a);
		if (r == ARCHIVE_OK)
			r = archive_write_add_filter_gzip(ex->a);
	}
	if (r == ARCHIVE_OK)
		r = archive_write_open_fd(ex->a, ex->fd);
	if (r != ARCHIVE_OK)
		return ex_archive_fail(ex, ex->o->out);
	return 0;
}

/* Close the archive, make it durable and put it in place. */
static int
ex_finish_package(struct export *ex)
{
	struct stat sb;
	int r;

	r = archive_write_close(ex->a);
	if (r != ARCHIVE_OK)
		return ex_archive_fail(ex, ex->o->out);
	archive_write_free(ex->a);
	ex->a = NULL;
	if (fchmod(ex->fd, 0644) < 0 || sysio.fsync(ex->fd) < 0)
		return ex_fail(ex, -errno, "cannot write '%s': %s",
		    ex->tmp_path, strerror(errno));
	if (fstat(ex->fd, &sb) == 0)
		ex->res->bytes = (uint64_t)sb.st_size;
	close(ex->fd);
	ex->fd = -1;
	/* Never replace a file that appeared meanwhile. */
	r = renameat2(AT_FDCWD, ex->tmp_path, AT_FDCWD, ex->o->out,
	    RENAME_NOREPLACE);
	if (r < 0 && (errno == EINVAL || errno == ENOSYS)) {
		r = link(ex->tmp_path, ex->o->out);
		if (r == 0)
			unlink(ex->tmp_path);
	}
	if (r < 0)
		return ex_fail(ex, errno == EEXIST ? -EEXIST : -errno,
		    "cannot create '%s': %s", ex->o->out, strerror(errno));
	free(ex->tmp_path);
	ex->tmp_path = NULL;
	r = sysio_fsync_dir(ex->outdir);
	if (r < 0)
		return ex_fail(ex, r, "cannot sync directory '%s': %s",
		    ex->outdir, strerror(-r));
	return 0;
}

/* Everything between opening the package and closing it. */
static int
ex_write(struct export *ex)
{
	const struct query_filter *f = ex->o->filter;
	struct buf gaps;
	size_t i;
	int r;

	xf_puts(&ex->csv, "platform,account,item_id,item_number,kind,"
	    "parent_id,root_id,author,created,captured,platform_time,"
	    "version,versions,state,hidden,last_seen,first_missing,"
	    "removed_at,content_sha256,record_id,warc_segment,warc_offset,"
	    "warc_length,record_sha256,source_record_id,json_file,match,"
	    "redacted,text\r\n");
	if (ex->redacting)
		xf_puts(&ex->redlog, "record_id,account,item_id,item_number,"
		    "version,field,category,citation,preview,copies\r\n");
	for (i = 0; i < ex->nthreads; i++) {
		r = ex_thread(ex, &ex->threads[i]);
		if (r < 0)
			return r;
	}
	r = ex_put_xfile(ex, "data/records.csv", &ex->csv, 0, NULL);
	if (r == 0 && ex->redacting)
		r = ex_put_xfile(ex, "data/redactions.csv", &ex->redlog, 0,
		    NULL);
	if (r == 0 && (!ex->redacting || ex->o->include_originals))
		r = ex_warc(ex);
	if (r < 0)
		return r;

	ex->period_from = f->has_from ? f->from : 0;
	if (!f->has_from)
		for (i = 0; i < ex->nitems; i++)
			if (ex->items[i].created > 0 && (ex->period_from == 0 ||
			    ex->items[i].created < ex->period_from))
				ex->period_from = ex->items[i].created;
	ex->period_to = f->has_to ? f->to : ex->o->now;
	buf_init(&gaps, 0);
	r = ex_gaps(ex, &gaps);
	if (r == 0)
		r = ex_checkpoints(ex);
	if (r == 0)
		r = ex_search_json(ex);
	if (r == 0)
		r = ex_certificate(ex, gaps.data != NULL ? gaps.data : "");
	buf_release(&gaps);
	if (r == 0)
		r = ex_index(ex);
	if (r == 0)
		r = ex_tags(ex);
	return r;
}

int
export_run(sqlite3 *db, const struct export_opts *o,
    struct export_result *ret, char *err, size_t errlen)
{
	struct export_result res;
	struct export ex;
	struct stat sb;
	size_t i;
	int r, began = 0, nomatch = 0;

	memset(&ex, 0, sizeof(ex));
	memset(&res, 0, sizeof(res));
	ex.o = o;
	ex.res = &res;
	ex.db = db;
	ex.err = err;
	ex.errlen = errlen;
	ex.fd = -1;
	err[0] = '\0';
	buf_init(&ex.stored, 0);
	buf_init(&ex.plain, 0);
	r = ex_check_opts(&ex);
	if (r < 0)
		return r;
	if (lstat(o->out, &sb) == 0)
		return ex_fail(&ex, -EEXIST, "'%s' exists; a package is never"
		    " written over a file", o->out);
	ex_names(&ex);
	ex.archive_dir = xasprintf("%s/archive", o->state_dir);
	ex.redacting = o->redact != 0 || o->nmanual > 0;
	res.redacted = ex.redacting;
	ex.rules = xcalloc(o->nmanual + 1, sizeof(*ex.rules));
	ex.manual_used = xcalloc(o->nmanual + 1, 1);
	xf_init(&ex.manifest, ex.outdir);
	xf_init(&ex.csv, ex.outdir);
	xf_init(&ex.redlog, ex.outdir);
	xf_init(&ex.index_rows, ex.outdir);

	/* One snapshot of a live index for the whole package. */
	if (sqlite3_get_autocommit(db)) {
		if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
			r = ex_db_fail(&ex);
			goto out;
		}
		began = 1;
	}
	for (i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v2(db, ex_sql[i], -1, &ex.st[i], NULL) !=
		    SQLITE_OK) {
			r = ex_db_fail(&ex);
			goto out;
		}
	}
	r = ex_load_items(&ex);
	if (r < 0)
		goto out;
	if (ex.nitems == 0) {
		r = ex_fail(&ex, -ENOENT, "no items match");
		nomatch = 1;
		goto out;
	}
	res.items = (int64_t)ex.nitems;
	for (i = 0; i < ex.nitems; i++)
		res.context += ex.items[i].context;
	ex_threads(&ex);
	r = ex_open_package(&ex);
	if (r == 0)
		r = ex_write(&ex);
	if (r == 0)
		r = ex_finish_package(&ex);
	if (r == 0) {
		for (i = 0; i < o->nmanual; i++)
			res.manual_unused += !ex.manual_used[i];
		*ret = res;
	}
out:
	if (ex.a != NULL)
		archive_write_free(ex.a);	/* closes into the temp file */
	if (ex.fd >= 0)
		close(ex.fd);
	if (ex.tmp_path != NULL) {
		unlink(ex.tmp_path);
		free(ex.tmp_path);
	}
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(ex.st[i]);
	if (began)
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	for (i = 0; i < SEGFD_CACHE; i++)
		if (ex.segs[i].fd > 0)
			close(ex.segs[i].fd);
	for (i = 0; i < ex.nitems; i++)
		xitem_release(&ex.items[i]);
	for (i = 0; i < ex.nthreads; i++)
		free(ex.threads[i].file);
	free(ex.items);
	free(ex.sorted);
	free(ex.threads);
	free(ex.seqs);
	free(ex.rules);
	free(ex.manual_used);
	free(ex.excerpt);
	free(ex.archive_dir);
	free(ex.outdir);
	free(ex.root);
	json_decref(ex.checkpoints);
	strset_release(&ex.names);
	strset_release(&ex.accounts);
	xf_release(&ex.manifest);
	xf_release(&ex.csv);
	xf_release(&ex.redlog);
	buf_release(&ex.stored);
	buf_release(&ex.plain);
	xf_release(&ex.index_rows);
	/* -ENOENT means "nothing matches"; a file not found is an I/O
	 * error (the message says which). */
	if (r == -ENOENT && !nomatch)
		r = -EIO;
	return r;
}
