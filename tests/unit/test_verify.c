/*
 * test_verify.c - the integrity verifier (daemon/verify.c) against small
 * archives written by the real writers: store_open/store_add/store_commit
 * /store_rotate for segments and index, anchor_init/anchor_checkpoint for
 * signed checkpoints and ledger.pub, exactly as sunarchived writes them.
 *
 *   - a good archive: quick and full find nothing; --key, --against its
 *     own export, --since and --segment find nothing either;
 *   - I8: one tampered copy per finding code, each giving exactly that
 *     code (E001..E024, W001..W006), plus a few more (unsigned after
 *     signed, records reordered with the index edited to match, an
 *     incremental run);
 *   - I1: every single-bit flip of a whole sealed segment (gzip headers,
 *     MTIME, XFL, OS, FTEXT, deflate padding of the final byte and all)
 *     is an error in full mode, naming the file and an offset at or
 *     before the flipped byte; the flips that decode to the very same
 *     content are counted;
 *   - I2: truncation at every member boundary of that segment.
 *
 * With "--hook STATE PLAN" it is instead the in-process engine of
 * tests/e2e/test_check.py: it applies each operation of PLAN to the
 * archive in STATE (a copy), runs verify_run(), undoes the operation and
 * prints one JSON line per operation with the findings:
 *
 *	flip FILE BYTE BIT quick|full[:SEGMENT]	 flip a bit of STATE/FILE
 *	trunc FILE LENGTH quick|full[:SEGMENT]	 truncate STATE/FILE
 *	cpflip ID COLUMN BYTE BIT		 flip a bit of a value in
 *						 the checkpoints table
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "anchor.h"
#include "buf.h"
#include "checkpoint.h"
#include "compress.h"
#include "config.h"
#include "hash.h"
#include "log.h"
#include "record.h"
#include "segment.h"
#include "store.h"
#include "tap.h"
#include "util.h"
#include "verify.h"
#include "xalloc.h"

#define ACCOUNT		"city-facebook"
#define KEYNAME		"unit-test"
#define WARCINFO	"software: sunarchive test\r\nformat: WARC File " \
			"Format 1.1\r\n"
#define BIG		((uint64_t)1 << 40)
#define FOREVER		((int64_t)1 << 40)

static char root[] = "/tmp/sunarchive-test-verify.XXXXXX";
static char keypath[PATH_MAX], tmpl[PATH_MAX], tmpl_unsigned[PATH_MAX];
static char err[1024];
static int copies;

/* Record seqs of the template (see build()). */
enum {
	SEQ_V1 = 2, SEQ_EV1 = 3, SEQ_RESP1 = 4, SEQ_CP1 = 5,
	SEQ_V2 = 7, SEQ_RESP2 = 8, SEQ_CP2 = 9, SEQ_V3 = 10, SEQ_CP3 = 11,
	SEQ_V4 = 13, SEQ_CP4 = 14, SEQ_V5 = 15, SEQ_EV2 = 16, SEQ_V6 = 17,
	SEQ_LAST = 17
};

#define SEG1	"seg-000001.warc.gz"
#define SEG2	"seg-000002.warc.gz"
#define SEG3	"seg-000003.warc.gz"

/* --- files ---------------------------------------------------------- */

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void
rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void die(const char *, const char *) __attribute__((noreturn));

static void
die(const char *what, const char *path)
{
	printf("Bail out! %s '%s': %s\n", what, path, strerror(errno));
	exit(1);
}

static void
copy_file(const char *from, const char *to, mode_t mode)
{
	char chunk[65536];
	ssize_t n;
	int in, out;

	in = open(from, O_RDONLY | O_CLOEXEC);
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (in < 0 || out < 0)
		die("cannot copy", from);
	while ((n = read(in, chunk, sizeof(chunk))) > 0)
		if (write(out, chunk, (size_t)n) != n)
			die("cannot write", to);
	close(in);
	close(out);
	chmod(to, mode);
}

static void
copy_tree(const char *from, const char *to)
{
	struct dirent *de;
	struct stat sb;
	char a[PATH_MAX], b[PATH_MAX];
	DIR *d;

	if (mkdir(to, 0750) < 0 && errno != EEXIST)
		die("cannot create", to);
	d = opendir(from);
	if (d == NULL)
		die("cannot read", from);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(a, sizeof(a), "%s/%s", from, de->d_name);
		snprintf(b, sizeof(b), "%s/%s", to, de->d_name);
		if (lstat(a, &sb) < 0)
			die("cannot stat", a);
		if (S_ISDIR(sb.st_mode))
			copy_tree(a, b);
		else if (S_ISREG(sb.st_mode))
			copy_file(a, b, sb.st_mode & 07777);
	}
	closedir(d);
}

/* A fresh copy of a template; static buffer. */
static const char *
copy_of(const char *tpl)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/copy-%d", root, ++copies);
	copy_tree(tpl, path);
	return path;
}

static void
path_of(char *buf, size_t len, const char *state, const char *rel)
{
	if (snprintf(buf, len, "%s/%s", state, rel) >= (int)len)
		die("path too long", rel);
}

static uint64_t
size_of(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/* Flip one bit of a file in place, keeping its mode. */
static void
flip_bit(const char *path, uint64_t off, int bit)
{
	struct stat sb;
	unsigned char b;
	int fd;

	if (stat(path, &sb) < 0)
		die("cannot stat", path);
	chmod(path, 0600);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || pread(fd, &b, 1, (off_t)off) != 1)
		die("cannot read", path);
	b ^= (unsigned char)(1u << bit);
	if (pwrite(fd, &b, 1, (off_t)off) != 1)
		die("cannot write", path);
	close(fd);
	chmod(path, sb.st_mode & 07777);
}

static void
write_at(const char *path, uint64_t off, const void *p, size_t n)
{
	struct stat sb;
	int fd;

	if (stat(path, &sb) < 0)
		die("cannot stat", path);
	chmod(path, 0600);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || pwrite(fd, p, n, (off_t)off) != (ssize_t)n)
		die("cannot write", path);
	close(fd);
	chmod(path, sb.st_mode & 07777);
}

static void
truncate_to(const char *path, uint64_t len)
{
	struct stat sb;

	if (stat(path, &sb) < 0)
		die("cannot stat", path);
	chmod(path, 0600);
	if (truncate(path, (off_t)len) < 0)
		die("cannot truncate", path);
	chmod(path, sb.st_mode & 07777);
}

static void
append_to(const char *path, const void *p, size_t n)
{
	write_at(path, size_of(path), p, n);
}

static int
read_file(const char *path, struct buf *out)
{
	char chunk[65536];
	ssize_t n;
	int fd;

	buf_reset(out);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(out, chunk, (size_t)n);
	close(fd);
	return 0;
}

/* --- the index, read-write, behind the verifier's back -------------- */

static sqlite3 *
db_open(const char *state)
{
	char path[PATH_MAX];
	sqlite3 *db = NULL;

	path_of(path, sizeof(path), state, INDEX_FILE);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		die("cannot open", path);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void __attribute__((format(printf, 2, 3)))
sql(const char *state, const char *fmt, ...)
{
	char *text = NULL, *msg = NULL;
	sqlite3 *db;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	db = db_open(state);
	if (text == NULL || sqlite3_exec(db, text, NULL, NULL, &msg) !=
	    SQLITE_OK)
		printf("# sql %s: %s\n", text != NULL ? text : "?",
		    msg != NULL ? msg : "?");
	sqlite3_free(msg);
	sqlite3_close(db);
	free(text);
}

static int64_t __attribute__((format(printf, 2, 3)))
sql_int(const char *state, const char *fmt, ...)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	char *text = NULL;
	int64_t v = -999;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	db = db_open(state);
	if (text != NULL && sqlite3_prepare_v2(db, text, -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	} else
		printf("# sql %s: %s\n", text != NULL ? text : "?",
		    sqlite3_errmsg(db));
	sqlite3_close(db);
	free(text);
	return v;
}

/* A text value into a static buffer. */
static const char * __attribute__((format(printf, 2, 3)))
sql_text(const char *state, const char *fmt, ...)
{
	static char out[8192];
	sqlite3_stmt *st;
	sqlite3 *db;
	char *text = NULL;
	va_list ap;

	out[0] = '\0';
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	db = db_open(state);
	if (text != NULL && sqlite3_prepare_v2(db, text, -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_text(st, 0) != NULL)
			snprintf(out, sizeof(out), "%s",
			    (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	free(text);
	return out;
}

/* --- building archives the way sunarchived does ----------------------- */

static void
add_version(struct store *st, const char *item_id, const char *text)
{
	struct rec_meta m;
	char hash[HASH_HEX_LEN], *canon;
	json_t *c;

	c = json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", item_id, "text",
	    text, "author", "name", "City of Sunnyvale", "id", "1001");
	canon = record_canonical(c, hash);
	record_meta_init(&m, REC_VERSION);
	m.account = ACCOUNT;
	m.platform = "facebook";
	m.item_id = item_id;
	m.item_kind = "post";
	m.author = "City of Sunnyvale";
	m.author_id = "1001";
	m.text = json_string_value(json_object_get(c, "text"));
	memcpy(m.content_hash, hash, sizeof(hash));
	if (store_add(st, &m, "application/json", canon, strlen(canon), -1) < 0)
		die("cannot add a version to", st->state_dir);
	free(canon);
	json_decref(c);
}

static void
add_event(struct store *st, const char *event, const char *item_id)
{
	struct rec_meta m;
	char *block;
	json_t *d;

	d = json_pack("{s:s, s:s}", "event", event, "item", item_id);
	block = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	record_meta_init(&m, REC_EVENT);
	m.account = ACCOUNT;
	m.platform = "facebook";
	m.item_id = item_id;
	m.event = event;
	if (store_add(st, &m, "application/json", block, strlen(block),
	    -1) < 0)
		die("cannot add an event to", st->state_dir);
	free(block);
	json_decref(d);
}

static void
add_response(struct store *st, const char *body)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type:"
	    " application/json\r\n\r\n";
	struct rec_meta m;
	struct buf blk;

	buf_init(&blk, 0);
	buf_puts(&blk, head);
	buf_puts(&blk, body);
	record_meta_init(&m, REC_RESPONSE);
	m.account = ACCOUNT;
	m.target_uri = "https://graph.facebook.com/v25.0/1001/posts";
	if (store_add(st, &m, "application/http; msgtype=response", blk.data,
	    blk.len, (long)strlen(head)) < 0)
		die("cannot add a response to", st->state_dir);
	buf_release(&blk);
}

static void
commit_and_checkpoint(struct store *st, struct anchor *an,
    const struct config *cfg, int checkpoint)
{
	if (store_commit(st) < 0)
		die("cannot commit", st->state_dir);
	if (checkpoint && anchor_checkpoint(an, cfg, st) < 0)
		die("cannot checkpoint", st->state_dir);
}

/*
 * The template: seq 1-5 in a sealed seg 1 (warcinfo, version, event,
 * response, checkpoint of 4), 6-11 in a sealed seg 2 (warcinfo, version,
 * response, checkpoint of 8, version, checkpoint of 10), 12-17 in the
 * open seg 3 (warcinfo, version, checkpoint of 13, then three records no
 * checkpoint covers yet).
 */
static void
build(const char *state, int sign)
{
	struct store_recovery rec;
	struct store st;
	struct anchor an;
	struct config cfg;

	memset(&cfg, 0, sizeof(cfg));
	if (sign) {
		cfg.signing_key_file = keypath;
		cfg.signing_key_name = (char *)KEYNAME;
	}
	if (store_open(&st, state, BIG, FOREVER, WARCINFO, &rec, err,
	    sizeof(err)) < 0 || anchor_init(&an, &cfg, &st, err,
	    sizeof(err)) < 0) {
		printf("Bail out! %s\n", err);
		exit(1);
	}
	add_version(&st, "1001_1", "Road closure on Main Street");
	add_event(&st, "hidden", "1001_1");
	add_response(&st, "{\"data\":[{\"id\":\"1001_1\"}]}");
	commit_and_checkpoint(&st, &an, &cfg, 1);
	store_rotate(&st);
	add_version(&st, "1001_2", "Library hours extended");
	add_response(&st, "{\"data\":[{\"id\":\"1001_2\"}]}");
	commit_and_checkpoint(&st, &an, &cfg, 1);
	add_version(&st, "1001_3", "Council meeting tonight");
	commit_and_checkpoint(&st, &an, &cfg, 1);
	store_rotate(&st);
	add_version(&st, "1001_4", "Pool opens Saturday");
	commit_and_checkpoint(&st, &an, &cfg, 1);
	add_version(&st, "1001_5", "Parade route announced");
	add_event(&st, "removed", "1001_4");
	add_version(&st, "1001_6", "Farmers market moves indoors");
	commit_and_checkpoint(&st, &an, &cfg, 0);
	anchor_release(&an);
	store_close(&st);
}

/* --- running the verifier ---------------------------------------------- */

struct run {
	int		 full;
	int64_t		 since;
	const char	*only;
	const char	*key;
	const char	*against;
	int		 jobs;
	sqlite3		*db;		/* borrowed, or NULL */
};

static int
verify(const char *state, const struct run *how, struct verify_report *rep)
{
	struct verify_opts o;
	int r;

	memset(&o, 0, sizeof(o));
	o.state_dir = state;
	if (how != NULL) {
		o.full = how->full;
		o.since = how->since;
		o.only_segment = how->only;
		o.key = how->key;
		o.against = how->against;
		o.jobs = how->jobs;
		o.db = how->db;
	}
	r = verify_run(&o, rep, err, sizeof(err));
	if (r < 0)
		printf("# verify_run: %s\n", err);
	return r;
}

/* The distinct codes of a report, sorted, comma-separated. */
static const char *
codes_of(const struct verify_report *rep)
{
	static char out[256];
	int seen[VERIFY_CODE_COUNT];
	size_t i, o = 0;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < rep->nfindings; i++)
		seen[rep->findings[i].code] = 1;
	out[0] = '\0';
	for (i = 0; i < VERIFY_CODE_COUNT; i++)
		if (seen[i])
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s",
			    o > 0 ? "," : "", verify_code_id(
			    (enum verify_code)i));
	return out;
}

static void
show(const struct verify_report *rep)
{
	size_t i, k;

	for (i = 0; i < rep->nfindings && i < 12; i++) {
		const struct verify_finding *f = &rep->findings[i];

		printf("#   %s %s @%lld: %s [", verify_code_id(f->code),
		    f->file != NULL ? f->file : "-", (long long)f->offset,
		    f->message);
		for (k = 0; k < f->nitems; k++)
			printf("%s%s", k > 0 ? " " : "", f->items[k]);
		printf("]\n");
	}
}

/* Run and compare the set of codes with want ("" for none). */
static void
expect(const char *state, const struct run *how, const char *want,
    const char *what)
{
	struct verify_report rep;

	memset(&rep, 0, sizeof(rep));
	if (verify(state, how, &rep) < 0) {
		ok(0, "%s: verify_run failed", what);
		return;
	}
	is_str(codes_of(&rep), want, "%s: %s", what, *want ? want :
	    "no findings");
	if (strcmp(codes_of(&rep), want) != 0)
		show(&rep);
	verify_report_release(&rep);
}

/* Findings of one code. */
static const struct verify_finding *
find_code(const struct verify_report *rep, const char *code)
{
	size_t i;

	for (i = 0; i < rep->nfindings; i++)
		if (strcmp(verify_code_id(rep->findings[i].code), code) == 0)
			return &rep->findings[i];
	return NULL;
}

/* Offset and length of a record in its segment. */
static void
record_at(const char *state, int seq, uint64_t *off, uint64_t *len)
{
	*off = (uint64_t)sql_int(state, "SELECT offset FROM records WHERE"
	    " seq = %d", seq);
	*len = (uint64_t)sql_int(state, "SELECT length FROM records WHERE"
	    " seq = %d", seq);
}

/* A well-formed member that no index knows. */
static void
forged_member(struct buf *out)
{
	struct rec_meta m;
	struct buf rec;
	static const char block[] = "{\"id\":\"1001_9\",\"text\":\"forged\"}";
	char hash[HASH_HEX_LEN];

	hash_sha256_hex(block, strlen(block), hash);
	record_meta_init(&m, REC_VERSION);
	m.account = ACCOUNT;
	m.platform = "facebook";
	m.item_id = "1001_9";
	memcpy(m.content_hash, hash, sizeof(hash));
	buf_init(&rec, 0);
	record_to_warc(&m, "application/json", block, strlen(block), -1,
	    &rec);
	compress_gzip(rec.data, rec.len, out);
	buf_release(&rec);
}

/* --- the checks ------------------------------------------------------- */

static void
test_codes_api(void)
{
	is_str(verify_code_id(VERIFY_E011_RECORD_HASH), "E011", "code id");
	is_str(verify_code_name(VERIFY_E011_RECORD_HASH),
	    "record-hash-mismatch", "code name");
	ok(verify_code_severity(VERIFY_W004_OPEN_TAIL) == VERIFY_WARNING &&
	    verify_code_severity(VERIFY_E024_TIMESTAMP) == VERIFY_ERROR,
	    "severities follow the letter");
}

static void
test_good(void)
{
	struct verify_report rep;
	struct run how;
	char pub[PATH_MAX];
	int j;

	memset(&how, 0, sizeof(how));
	memset(&rep, 0, sizeof(rep));
	ok(verify(tmpl, &how, &rep) == 0, "quick check of a good archive"
	    " runs");
	is_str(codes_of(&rep), "", "good archive: quick finds nothing");
	is_int(rep.records, SEQ_LAST, "records counted");
	is_int(rep.segments, 3, "segments counted");
	is_int(rep.checkpoints, 4, "checkpoints counted");
	is_int(rep.uncovered, SEQ_LAST - 13, "records after the newest"
	    " checkpoint");
	verify_report_release(&rep);
	for (j = 1; j <= 3; j++) {
		how.full = 1;
		how.jobs = j;
		memset(&rep, 0, sizeof(rep));
		ok(verify(tmpl, &how, &rep) == 0 && rep.nfindings == 0,
		    "good archive: full with %d thread(s) finds nothing", j);
		if (rep.nfindings > 0)
			show(&rep);
		is_int(rep.members, SEQ_LAST, "full mode read every member"
		    " (%d thread(s))", j);
		ok(rep.bytes > 0, "bytes counted");
		verify_report_release(&rep);
	}
	if (snprintf(pub, sizeof(pub), "%s.pub", keypath) >= (int)sizeof(pub))
		die("path too long", keypath);
	memset(&how, 0, sizeof(how));
	how.key = pub;
	how.full = 1;
	expect(tmpl, &how, "", "good archive, --key FILE");
	expect(tmpl_unsigned, NULL, "W002", "W002: unsigned checkpoints"
	    " (no signing key configured)");
}

/* One fixture per code: a copy of the template, one tamper, exact codes. */
static void
test_fixtures(void)
{
	struct run quick, full;
	struct verify_report rep;
	const struct verify_finding *f;
	char path[PATH_MAX], other[PATH_MAX], sha[HASH_HEX_LEN];
	const char *s;
	struct buf b;
	uint64_t off, len, off2, len2;
	int64_t page, psize;

	memset(&quick, 0, sizeof(quick));
	memset(&full, 0, sizeof(full));
	full.full = 1;
	buf_init(&b, 0);

	/* E001: the header, then one page of a table. */
	s = copy_of(tmpl);
	path_of(path, sizeof(path), s, INDEX_FILE);
	write_at(path, 0, "this is no SQLite database at all", 33);
	expect(s, &quick, "E001", "E001: index header overwritten");
	s = copy_of(tmpl);
	page = sql_int(s, "SELECT rootpage FROM sqlite_master WHERE name ="
	    " 'accounts'");
	psize = sql_int(s, "PRAGMA page_size");
	path_of(path, sizeof(path), s, INDEX_FILE);
	buf_reset(&b);
	while (b.len < (size_t)psize)
		buf_puts(&b, "garbage!");
	write_at(path, (uint64_t)(page - 1) * (uint64_t)psize, b.data,
	    (size_t)psize);
	expect(s, &quick, "E001", "E001: a page of the index overwritten");

	/* E002, E003, E004. */
	s = copy_of(tmpl);
	path_of(path, sizeof(path), s, "archive/" SEG2);
	unlink(path);
	expect(s, &quick, "E002", "E002: sealed segment deleted");
	s = copy_of(tmpl);
	record_at(s, SEQ_V1, &off, &len);
	path_of(path, sizeof(path), s, "archive/" SEG1);
	flip_bit(path, off + 4, 0);
	expect(s, &quick, "E003", "E003: MTIME bit of a sealed member");
	s = copy_of(tmpl);
	path_of(path, sizeof(path), s, "archive/seg-000099.warc.gz");
	close(open(path, O_WRONLY | O_CREAT, 0440));
	expect(s, &quick, "E004", "E004: a segment file the index lacks");

	/* E010..E016 in records no checkpoint covers yet. */
	s = copy_of(tmpl);
	path_of(path, sizeof(path), s, "archive/" SEG3 ".open");
	truncate_to(path, size_of(path) - 10);
	expect(s, &quick, "E010", "E010: open segment cut short");
	s = copy_of(tmpl);
	record_at(s, SEQ_V6, &off, &len);
	path_of(path, sizeof(path), s, "archive/" SEG3 ".open");
	flip_bit(path, off + 5, 2);
	expect(s, &quick, "", "E011 fixture: quick does not read open"
	    " segments member by member");
	memset(&rep, 0, sizeof(rep));
	verify(s, &full, &rep);
	is_str(codes_of(&rep), "E011", "E011: MTIME bit of the last record,"
	    " full mode");
	f = find_code(&rep, "E011");
	ok(f != NULL && f->offset == (int64_t)off && f->file != NULL &&
	    strcmp(f->file, SEG3 ".open") == 0 && f->record_id != NULL &&
	    f->nitems == 1 && strcmp(f->items[0], "1001_6") == 0,
	    "E011 names file, offset, record and item");
	verify_report_release(&rep);
	s = copy_of(tmpl);
	record_at(s, SEQ_V6, &off, &len);
	path_of(path, sizeof(path), s, "archive/" SEG3 ".open");
	write_at(path, off + len - 8, "\0\0\0\0\0\0\0\0", 8);
	read_file(path, &b);
	hash_sha256_hex(b.data + off, (size_t)len, sha);
	sql(s, "UPDATE records SET sha256 = '%s' WHERE seq = %d", sha,
	    SEQ_V6);
	expect(s, &full, "E012", "E012: CRC zeroed and the index edited"
	    " to match");
	s = copy_of(tmpl);
	sql(s, "DELETE FROM records WHERE seq = %d", SEQ_V5);
	expect(s, &full, "E013", "E013: a record's row deleted");
	s = copy_of(tmpl);
	sql(s, "UPDATE records SET record_id = 'urn:uuid:00000000-0000-7000-"
	    "8000-000000000000' WHERE seq = %d", SEQ_V6);
	expect(s, &full, "E014", "E014: a row's record id changed");
	s = copy_of(tmpl);
	sql(s, "UPDATE records SET type = 'resource' WHERE seq = %d", SEQ_V6);
	expect(s, &full, "E014", "E014: a row's type changed");
	s = copy_of(tmpl);
	sql(s, "UPDATE records SET length = length + 1 WHERE seq = %d",
	    SEQ_V5);
	expect(s, &quick, "E015", "E015: two rows overlap");
	s = copy_of(tmpl);
	sql(s, "UPDATE versions SET text = 'edited by an insider' WHERE"
	    " seq = %d", SEQ_V5);
	expect(s, &full, "E016", "E016: a version's text edited");
	s = copy_of(tmpl);
	sql(s, "DELETE FROM events WHERE seq = %d", SEQ_EV2);
	expect(s, &full, "E016", "E016: an event row deleted");

	/* E020..E024: checkpoints. */
	s = copy_of(tmpl);
	snprintf(other, sizeof(other), "%s/other.key", root);
	if (access(other, F_OK) < 0)
		checkpoint_keygen(other, KEYNAME);
	snprintf(other, sizeof(other), "%s/other.key.pub", root);
	path_of(path, sizeof(path), s, VERIFY_PUB_FILE);
	unlink(path);
	copy_file(other, path, 0644);
	expect(s, &quick, "E020", "E020: ledger.pub replaced");
	s = copy_of(tmpl);
	sql(s, "UPDATE checkpoints SET root = (SELECT root FROM checkpoints"
	    " WHERE seq = %d) WHERE seq = %d", SEQ_CP1, SEQ_CP2);
	expect(s, &quick, "E021", "E021: a checkpoint row's root changed");
	s = copy_of(tmpl);
	{
		struct checkpoint_key *key = NULL;
		struct checkpoint cp;
		char *note = NULL, hex[HASH_HEX_LEN];

		/* A validly signed checkpoint 3 that commits to size 8 only. */
		memset(&cp, 0, sizeof(cp));
		snprintf(cp.origin, sizeof(cp.origin), "%s", KEYNAME);
		cp.size = 8;
		snprintf(hex, sizeof(hex), "%s", sql_text(s, "SELECT root FROM"
		    " checkpoints WHERE seq = %d", SEQ_CP2));
		for (len = 0; len < HASH_LEN; len++) {
			unsigned v = 0;

			sscanf(hex + 2 * len, "%2x", &v);
			cp.root[len] = (uint8_t)v;
		}
		cp.time = sql_int(s, "SELECT time FROM checkpoints WHERE"
		    " seq = %d", SEQ_CP3);
		if (checkpoint_key_load(keypath, KEYNAME, &key, err,
		    sizeof(err)) == 0 && checkpoint_format_note(&cp, key,
		    &note) == 0) {
			sqlite3 *db = db_open(s);
			sqlite3_stmt *st;

			sqlite3_prepare_v2(db, "UPDATE checkpoints SET size = 8,"
			    " root = ?1, note = ?2 WHERE seq = ?3", -1, &st,
			    NULL);
			sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, note, -1, SQLITE_STATIC);
			sqlite3_bind_int(st, 3, SEQ_CP3);
			sqlite3_step(st);
			sqlite3_finalize(st);
			sqlite3_close(db);
		}
		free(note);
		checkpoint_key_free(key);
	}
	expect(s, &quick, "E022", "E022: a signed checkpoint that leaves"
	    " out records written before it");
	s = copy_of(tmpl);
	sql(s, "UPDATE checkpoints SET tsa_token = x'3082000a0201' WHERE"
	    " seq = %d", SEQ_CP1);
	expect(s, &quick, "E024", "E024: a malformed time-stamp token");
	expect(s, &full, "E024", "E024: and one the archive never held");
	s = copy_of(tmpl);
	{
		/* Checkpoint 4 unsigned after signed ones: the body only. */
		uint8_t raw[HASH_LEN];
		char hex[HASH_HEX_LEN], *body;
		sqlite3 *db;
		sqlite3_stmt *st;

		snprintf(hex, sizeof(hex), "%s", sql_text(s, "SELECT root FROM"
		    " checkpoints WHERE seq = %d", SEQ_CP4));
		for (len = 0; len < HASH_LEN; len++) {
			unsigned v = 0;

			sscanf(hex + 2 * len, "%2x", &v);
			raw[len] = (uint8_t)v;
		}
		body = anchor_body(KEYNAME, 13, raw, sql_int(s, "SELECT time"
		    " FROM checkpoints WHERE seq = %d", SEQ_CP4));
		db = db_open(s);
		sqlite3_prepare_v2(db, "UPDATE checkpoints SET note = ?1,"
		    " signer = NULL WHERE seq = ?2", -1, &st, NULL);
		sqlite3_bind_text(st, 1, body, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, SEQ_CP4);
		sqlite3_step(st);
		sqlite3_finalize(st);
		sqlite3_close(db);
		free(body);
	}
	expect(s, &quick, "E020", "E020: signature stripped from the newest"
	    " checkpoint");

	/* Warnings. */
	s = copy_of(tmpl);
	path_of(path, sizeof(path), s, "archive/" SEG1);
	chmod(path, 0640);
	expect(s, &quick, "W001", "W001: sealed segment writable");
	s = copy_of(tmpl);
	sql(s, "UPDATE segments SET suspect = 1 WHERE name = '%s'", SEG2);
	expect(s, &full, "W003", "W003: segment sealed suspect");
	s = copy_of(tmpl);
	path_of(path, sizeof(path), s, "archive/" SEG3 ".open");
	buf_reset(&b);
	forged_member(&b);
	append_to(path, b.data, b.len);
	expect(s, &quick, "W004", "W004: unacknowledged tail (quick)");
	expect(s, &full, "W004", "W004: unacknowledged complete record"
	    " (full)");
	append_to(path, "torn", 4);
	expect(s, &full, "W004", "W004: and a torn tail (full)");
	s = copy_of(tmpl);
	path_of(path, sizeof(path), s, "archive/seg-000004.warc.gz.open");
	close(open(path, O_WRONLY | O_CREAT, 0640));
	expect(s, &quick, "W004", "W004: an open segment the index does not"
	    " know yet");
	s = copy_of(tmpl);
	sql(s, "DELETE FROM checkpoints");
	expect(s, &quick, "W005", "W005: no checkpoints");
	s = copy_of(tmpl);
	path_of(path, sizeof(path), s, "archive/" SEG3 ".open");
	path_of(other, sizeof(other), s, "archive/" SEG3);
	rename(path, other);
	expect(s, &full, "W006", "W006: sealed on disk, open in the index");

	/* I2: truncation and appended bytes in a sealed segment. */
	s = copy_of(tmpl);
	path_of(path, sizeof(path), s, "archive/" SEG2);
	buf_reset(&b);
	forged_member(&b);
	append_to(path, b.data, b.len);
	expect(s, &quick, "E003,E015", "appended forged member (quick)");
	expect(s, &full, "E003,E013,E021", "appended forged member (full):"
	    " the archive's ledger no longer matches later checkpoints");

	/* I3: reorder two records of a sealed segment, index edited. */
	s = copy_of(tmpl);
	record_at(s, SEQ_V2, &off, &len);
	record_at(s, SEQ_RESP2, &off2, &len2);
	path_of(path, sizeof(path), s, "archive/" SEG2);
	read_file(path, &b);
	{
		char *swap = xmalloc(len + len2);

		memcpy(swap, b.data + off2, len2);
		memcpy(swap + len2, b.data + off, len);
		write_at(path, off, swap, len + len2);
		free(swap);
	}
	read_file(path, &b);
	hash_sha256_hex(b.data, b.len, sha);
	sql(s, "UPDATE records SET offset = %llu WHERE seq = %d;"
	    " UPDATE records SET offset = %llu WHERE seq = %d;"
	    " UPDATE segments SET sha256 = '%s' WHERE name = '%s'",
	    (unsigned long long)(off + len2), SEQ_V2,
	    (unsigned long long)off, SEQ_RESP2, sha, SEG2);
	expect(s, &quick, "", "records reordered, index edited: quick cannot"
	    " tell");
	expect(s, &full, "E021", "records reordered, index edited: the"
	    " archive's ledger does not match the signed checkpoints");

	/* --since: old sealed segments are hashed, not read back. */
	s = copy_of(tmpl);
	record_at(s, SEQ_V1, &off, &len);
	path_of(path, sizeof(path), s, "archive/" SEG1);
	flip_bit(path, off + 8, 1);		/* XFL */
	full.since = util_now() + 86400;
	expect(s, &full, "E003", "--since: an old segment is only hashed");
	full.since = 0;
	expect(s, &full, "E003,E011,E021", "without --since it is read back");
	full.only = SEG1;
	expect(s, &full, "E003,E011", "--segment: that segment is read"
	    " back");
	full.only = SEG2;
	expect(s, &full, "", "--segment: other segments are not looked at");
	full.only = NULL;
	buf_release(&b);
}

/* --against: an export taken before an insider rewrote the tail. */
static void
test_against(void)
{
	struct run how;
	sqlite3 *db;
	sqlite3_stmt *st;
	json_t *doc, *list;
	char path[PATH_MAX], pubpath[PATH_MAX], *pub = NULL;
	struct buf b;
	const char *s;
	uint64_t off, len;

	/* The export, in the documented form, from the template. */
	buf_init(&b, 0);
	path_of(pubpath, sizeof(pubpath), tmpl, VERIFY_PUB_FILE);
	read_file(pubpath, &b);
	pub = xstrndup(b.data, strcspn(b.data, "\n"));
	list = json_array();
	db = db_open(tmpl);
	sqlite3_prepare_v2(db, "SELECT r.record_id, c.size, c.root, c.time,"
	    " c.signer, c.note FROM checkpoints c JOIN records r ON r.seq ="
	    " c.seq ORDER BY c.size", -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char t[32];

		json_array_append_new(list, json_pack("{s:s, s:I, s:s, s:s,"
		    " s:s, s:s, s:n}", "record_id", sqlite3_column_text(st, 0),
		    "size", (json_int_t)sqlite3_column_int64(st, 1), "root",
		    sqlite3_column_text(st, 2), "time", util_format_time(
		    sqlite3_column_int64(st, 3), t, sizeof(t)), "signer",
		    sqlite3_column_text(st, 4), "note",
		    sqlite3_column_text(st, 5), "tsa_token"));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	doc = json_pack("{s:s, s:s, s:s, s:o}", "format",
	    VERIFY_AGAINST_FORMAT, "origin", KEYNAME, "verifier", pub,
	    "checkpoints", list);
	snprintf(path, sizeof(path), "%s/export.json", root);
	json_dump_file(doc, path, JSON_INDENT(1));
	json_decref(doc);

	memset(&how, 0, sizeof(how));
	how.against = path;
	expect(tmpl, &how, "", "--against its own export: nothing");
	how.full = 1;
	expect(tmpl, &how, "", "--against its own export, full: nothing");

	/* The insider drops checkpoint 4 and what follows, index and all. */
	s = copy_of(tmpl);
	record_at(s, SEQ_CP4, &off, &len);
	path_of(pubpath, sizeof(pubpath), s, "archive/" SEG3 ".open");
	truncate_to(pubpath, off);
	sql(s, "DELETE FROM checkpoints WHERE seq >= %d; DELETE FROM records"
	    " WHERE seq >= %d", SEQ_CP4, SEQ_CP4);
	memset(&how, 0, sizeof(how));
	expect(s, &how, "", "tail rewritten: consistent in itself");
	how.full = 1;
	expect(s, &how, "", "tail rewritten: consistent in itself (full)");
	how.against = path;
	expect(s, &how, "E023", "E023: --against the export catches it"
	    " (full)");
	how.full = 0;
	expect(s, &how, "E023", "E023: --against the export catches it"
	    " (quick)");
	{
		struct verify_report rep;

		memset(&rep, 0, sizeof(rep));
		ok(verify_run(&(struct verify_opts){ .state_dir = s,
		    .against = "/nonexistent/export.json" }, &rep, err,
		    sizeof(err)) == -EINVAL, "an unreadable --against file is"
		    " a usage error");
		ok(verify_run(&(struct verify_opts){ .state_dir = s,
		    .key = "not-a-key" }, &rep, err, sizeof(err)) == -EINVAL,
		    "an unusable --key is a usage error");
		ok(verify_run(&(struct verify_opts){ .state_dir =
		    "/nonexistent/state" }, &rep, err, sizeof(err)) < 0 &&
		    strstr(err, "index") != NULL, "a missing index is an"
		    " I/O error: %s", err);
	}
	free(pub);
	buf_release(&b);
}

/*
 * I1 and I2 on a whole sealed segment: every bit flipped in turn, every
 * member boundary truncated. Full mode, the flipped segment only.
 */
static void
test_every_bit(void)
{
	struct verify_report rep;
	struct run how;
	char path[PATH_MAX], from[PATH_MAX];
	const char *s;
	uint64_t size, pos, misses = 0, unnamed = 0, silent_decodes = 0;
	uint64_t boundaries = 0, tmiss = 0;
	unsigned char byte;
	int bit, i, fd;

	s = copy_of(tmpl);
	path_of(path, sizeof(path), s, "archive/" SEG1);
	size = size_of(path);
	memset(&how, 0, sizeof(how));
	how.full = 1;
	how.only = SEG1;
	how.jobs = 1;
	path_of(from, sizeof(from), s, INDEX_FILE);
	if (sqlite3_open_v2(from, &how.db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		die("cannot open", from);
	/* One descriptor for all flips; the file itself stays 0440. */
	chmod(path, 0600);
	fd = open(path, O_RDWR | O_CLOEXEC);
	chmod(path, 0440);
	if (fd < 0)
		die("cannot open", path);
	for (pos = 0; pos < size; pos++) {
		if (pread(fd, &byte, 1, (off_t)pos) != 1)
			die("cannot read", path);
		for (bit = 0; bit < 8; bit++) {
			const struct verify_finding *f;
			unsigned char flipped = byte ^ (unsigned char)(1 << bit);
			int named = 0;
			size_t k;

			if (pwrite(fd, &flipped, 1, (off_t)pos) != 1)
				die("cannot write", path);
			memset(&rep, 0, sizeof(rep));
			verify(s, &how, &rep);
			if (rep.errors == 0)
				misses++;
			for (k = 0; k < rep.nfindings; k++) {
				f = &rep.findings[k];
				if (f->file != NULL && strcmp(f->file,
				    SEG1) == 0 && f->offset >= 0 &&
				    (uint64_t)f->offset <= pos)
					named = 1;
			}
			if (!named)
				unnamed++;
			f = find_code(&rep, "E011");
			if (f != NULL && strstr(f->message, "do not decode") ==
			    NULL && find_code(&rep, "E012") == NULL)
				silent_decodes++;
			verify_report_release(&rep);
		}
		if (pwrite(fd, &byte, 1, (off_t)pos) != 1)
			die("cannot write", path);
	}
	close(fd);
	sqlite3_close(how.db);
	how.db = NULL;
	is_int(misses, 0, "I1: all %llu single-bit flips of %s (%llu bytes)"
	    " detected", (unsigned long long)size * 8, SEG1,
	    (unsigned long long)size);
	is_int(unnamed, 0, "I1: every report names the file and an offset at"
	    " or before the flip");
	ok(silent_decodes > 0, "I1: %llu flips decode to the same content"
	    " and are caught by the stored-bytes hash alone",
	    (unsigned long long)silent_decodes);
	expect(s, &how, "", "I1: the segment is whole again");
	/* I2: every member boundary, and the middle of every member. */
	path_of(from, sizeof(from), tmpl, "archive/" SEG1);
	how.only = NULL;
	for (i = 1; i <= SEQ_CP1; i++) {
		uint64_t off, len;

		record_at(s, i, &off, &len);
		for (bit = 0; bit < 2; bit++) {
			truncate_to(path, bit == 0 ? off : off + len / 2);
			memset(&rep, 0, sizeof(rep));
			verify(s, &how, &rep);
			if (rep.errors == 0 || find_code(&rep, "E010") == NULL)
				tmiss++;
			boundaries += bit == 0;
			verify_report_release(&rep);
			unlink(path);
			copy_file(from, path, 0440);
		}
	}
	is_int(tmiss, 0, "I2: truncation at each of %llu member boundaries"
	    " and inside each member: E010", (unsigned long long)boundaries);
}

/* --- the e2e engine ----------------------------------------------------- */

/* One read-only connection for every run, one read-write for edits. */
static sqlite3 *hook_ro, *hook_rw;

static void
hook_run(const char *state, const char *mode, const char *op, int line)
{
	struct verify_report rep;
	struct verify_opts o;
	json_t *out, *list;
	size_t i;
	int r;

	memset(&o, 0, sizeof(o));
	o.state_dir = state;
	o.full = strncmp(mode, "full", 4) == 0;
	o.only_segment = strchr(mode, ':') != NULL ? strchr(mode, ':') + 1 :
	    NULL;
	o.jobs = 1;
	o.db = hook_ro;
	memset(&rep, 0, sizeof(rep));
	r = verify_run(&o, &rep, err, sizeof(err));
	list = json_array();
	for (i = 0; r == 0 && i < rep.nfindings; i++)
		json_array_append_new(list, json_pack("[s, s?, I]",
		    verify_code_id(rep.findings[i].code),
		    rep.findings[i].file, (json_int_t)rep.findings[i].offset));
	out = json_pack("{s:i, s:s, s:i, s:I, s:o, s:s}", "line", line, "op",
	    op, "rc", r, "errors", (json_int_t)rep.errors, "findings", list,
	    "err", r < 0 ? err : "");
	json_dumpf(out, stdout, JSON_COMPACT);
	putchar('\n');
	fflush(stdout);
	json_decref(out);
	if (r == 0)
		verify_report_release(&rep);
}

/* Flip one bit of a checkpoint row's value, run, put it back. */
static void
hook_cpflip(const char *state, int64_t id, const char *col, long byte,
    int bit, const char *op, int line)
{
	sqlite3 *db = hook_rw;
	sqlite3_stmt *st;
	char q[256];
	int type;
	int64_t iv = 0;
	char *tv = NULL;
	size_t tn = 0;

	snprintf(q, sizeof(q), "SELECT %s FROM checkpoints WHERE id = ?1",
	    col);
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		die("cannot read checkpoints of", state);
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW)
		die("no such checkpoint in", state);
	type = sqlite3_column_type(st, 0);
	if (type == SQLITE_INTEGER)
		iv = sqlite3_column_int64(st, 0);
	else if (type == SQLITE_TEXT) {
		tn = (size_t)sqlite3_column_bytes(st, 0);
		tv = xstrndup((const char *)sqlite3_column_text(st, 0), tn);
	}
	sqlite3_finalize(st);
	snprintf(q, sizeof(q), "UPDATE checkpoints SET %s = ?1 WHERE id = ?2",
	    col);
	sqlite3_prepare_v2(db, q, -1, &st, NULL);
	if (type == SQLITE_INTEGER) {
		int k, done = 0;

		/* A flip the constraints refuse (UNIQUE seq): the next bit. */
		for (k = 0; k < 64 && !done; k++) {
			sqlite3_reset(st);
			sqlite3_bind_int64(st, 2, id);
			sqlite3_bind_int64(st, 1, (int64_t)((uint64_t)iv ^
			    ((uint64_t)1 << ((byte + k) % 64))));
			done = sqlite3_step(st) == SQLITE_DONE &&
			    sqlite3_changes(db) == 1;
		}
		if (!done)
			type = SQLITE_NULL;
	} else if (type == SQLITE_TEXT && tn > 0) {
		sqlite3_bind_int64(st, 2, id);
		tv[(size_t)byte % tn] ^= (char)(1 << bit);
		sqlite3_bind_text(st, 1, tv, (int)tn, SQLITE_STATIC);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (type != SQLITE_INTEGER && (type != SQLITE_TEXT || tn == 0)) {
		/* NULL, or nothing could change: say so, count nothing. */
		printf("{\"line\": %d, \"skipped\": true}\n", line);
		fflush(stdout);
		free(tv);
		return;
	}
	hook_run(state, "quick", op, line);
	/* Put it back. */
	sqlite3_prepare_v2(db, q, -1, &st, NULL);
	sqlite3_bind_int64(st, 2, id);
	if (type == SQLITE_INTEGER)
		sqlite3_bind_int64(st, 1, iv);
	else if (type == SQLITE_TEXT && tn > 0) {
		tv[(size_t)byte % tn] ^= (char)(1 << bit);
		sqlite3_bind_text(st, 1, tv, (int)tn, SQLITE_STATIC);
	}
	sqlite3_step(st);
	sqlite3_finalize(st);
	free(tv);
}

static int
hook(const char *state, const char *plan)
{
	char line[1024], file[512], mode[600], col[64], path[PATH_MAX];
	struct buf saved;
	unsigned long long a;
	long long id;
	int bit, n = 0;
	FILE *fp;

	fp = fopen(plan, "r");
	if (fp == NULL)
		die("cannot read", plan);
	hook_rw = db_open(state);
	path_of(path, sizeof(path), state, INDEX_FILE);
	if (sqlite3_open_v2(path, &hook_ro, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		die("cannot open", path);
	sqlite3_busy_timeout(hook_ro, 5000);
	buf_init(&saved, 0);
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		n++;
		if (sscanf(line, "flip %511s %llu %d %599s", file, &a, &bit,
		    mode) == 4) {
			path_of(path, sizeof(path), state, file);
			flip_bit(path, a, bit);
			hook_run(state, mode, line, n);
			flip_bit(path, a, bit);
		} else if (sscanf(line, "trunc %511s %llu %599s", file, &a,
		    mode) == 3) {
			struct stat sb;

			path_of(path, sizeof(path), state, file);
			if (stat(path, &sb) < 0 || read_file(path, &saved) < 0)
				die("cannot read", path);
			truncate_to(path, a);
			hook_run(state, mode, line, n);
			write_at(path, 0, saved.data, saved.len);
		} else if (sscanf(line, "cpflip %lld %63s %llu %d", &id, col,
		    &a, &bit) == 4) {
			hook_cpflip(state, id, col, (long)a, bit, line, n);
		} else if (line[0] != '\0' && line[0] != '#') {
			fprintf(stderr, "test_verify: bad plan line %d: %s\n",
			    n, line);
			return 2;
		}
	}
	fclose(fp);
	buf_release(&saved);
	sqlite3_close(hook_ro);
	sqlite3_close(hook_rw);
	return 0;
}

int
main(int argc, char *argv[])
{
	char path[PATH_MAX];

	log_set_level(LOG_PRI_WARNING);
	if (argc == 4 && strcmp(argv[1], "--hook") == 0)
		return hook(argv[2], argv[3]);
	umask(022);
	if (mkdtemp(root) == NULL)
		die("cannot create", root);
	snprintf(keypath, sizeof(keypath), "%s/ledger.key", root);
	if (checkpoint_keygen(keypath, KEYNAME) < 0)
		die("cannot make a key in", root);
	snprintf(tmpl, sizeof(tmpl), "%s/template", root);
	snprintf(tmpl_unsigned, sizeof(tmpl_unsigned), "%s/unsigned", root);
	build(tmpl, 1);
	build(tmpl_unsigned, 0);
	path_of(path, sizeof(path), tmpl, INDEX_FILE "-wal");
	ok(access(path, F_OK) < 0, "the template's index has no WAL left");

	test_codes_api();
	test_good();
	test_fixtures();
	test_against();
	test_every_bit();

	if (getenv("SUNARCHIVE_KEEP") == NULL)
		rm_rf(root);
	else
		printf("# kept %s\n", root);
	return tap_done();
}
