/*
 * test_segment.c - the segment writer and the open-segment scan: create,
 * append, sync and seal (0440, NAME.open renamed to NAME, file hash); the
 * scan's callbacks (offsets, lengths, SHA-256 of the stored bytes); every
 * truncation of the last member and appended garbage stop the scan at the
 * last good member; quarantine moves exactly the torn bytes; injected
 * fdatasync and write failures fail the segment for good.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "compress.h"
#include "hash.h"
#include "segment.h"
#include "sysio.h"
#include "tap.h"
#include "util.h"
#include "warc.h"

#define NMEMBERS	3

static char dir[] = "/tmp/sunarchive-test-segment.XXXXXX";
static char qdir[128];

/* One gzip member holding a WARC resource record with `text`. */
static void
member(struct buf *out, const char *id, const char *text)
{
	struct warc_record r;
	struct buf rec;

	memset(&r, 0, sizeof(r));
	r.type = "resource";
	r.record_id = id;
	r.date = 1772460309;
	r.content_type = "text/plain";
	r.block = text;
	r.block_len = strlen(text);
	r.payload_off = -1;
	buf_init(&rec, 0);
	if (warc_build(&r, &rec) != 0 || compress_gzip(rec.data, rec.len,
	    out) != 0) {
		fprintf(stderr, "cannot build a member\n");
		exit(1);
	}
	buf_release(&rec);
}

static int
read_file(const char *path, struct buf *out)
{
	char chunk[4096];
	ssize_t n;
	int fd;

	buf_reset(out);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(out, chunk, (size_t)n);
	close(fd);
	return n < 0 ? -EIO : 0;
}

static void
write_file(const char *path, const void *p, size_t n)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n) {
		perror(path);
		exit(1);
	}
	close(fd);
}

static int
file_mode(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
}

/* What the scan callback saw. */
struct seen {
	int		 n;
	uint64_t	 offset[16];
	size_t		 length[16];
	char		 sha[16][HASH_HEX_LEN];
	char		 id[16][64];
	int		 stored_ok;	/* m->stored == the file's bytes */
	const struct buf *file;
	int		 stop_at;	/* > 0: return 1 at this member */
	int		 fail_at;	/* > 0: return -EIO at this member */
};

static int
on_member(const struct segment_member *m, void *arg)
{
	struct seen *s = arg;
	const char *id;

	if (s->stop_at > 0 && s->n + 1 == s->stop_at)
		return 1;
	if (s->fail_at > 0 && s->n + 1 == s->fail_at)
		return -EIO;
	if (s->n == 16)
		return -E2BIG;
	s->offset[s->n] = m->offset;
	s->length[s->n] = m->length;
	memcpy(s->sha[s->n], m->sha256, HASH_HEX_LEN);
	id = warc_get(&m->rec, "WARC-Record-ID");
	snprintf(s->id[s->n], sizeof(s->id[s->n]), "%s", id ? id : "");
	if (s->file != NULL && (m->offset + m->length > s->file->len ||
	    memcmp(m->stored, s->file->data + m->offset, m->length) != 0))
		s->stored_ok = 0;
	s->n++;
	return 0;
}

static int
scan(const char *path, uint64_t from, struct seen *s, uint64_t *good)
{
	int stop = s->stop_at, fail = s->fail_at;
	const struct buf *file = s->file;

	memset(s, 0, sizeof(*s));
	s->stop_at = stop;
	s->fail_at = fail;
	s->file = file;
	s->stored_ok = 1;
	*good = 0xdeadbeef;
	return segment_scan(path, from, on_member, s, good);
}

static const char *ids[NMEMBERS] = {
	"urn:uuid:00000000-0000-4000-8000-000000000001",
	"urn:uuid:00000000-0000-4000-8000-000000000002",
	"urn:uuid:00000000-0000-4000-8000-000000000003",
};
static uint64_t offs[NMEMBERS + 1];
static struct buf members;	/* all three, as written */

static void
test_names(void)
{
	char *n, *p;

	n = segment_name(1);
	is_str(n, "seg-000001.warc.gz", "segment_name(1)");
	free(n);
	n = segment_name(1234567);
	is_str(n, "seg-1234567.warc.gz", "segment_name past six digits");
	free(n);
	p = segment_path("/a/b", "seg-000002.warc.gz", 1);
	is_str(p, "/a/b/seg-000002.warc.gz.open", "segment_path open");
	free(p);
	p = segment_path("/a/b", "seg-000002.warc.gz", 0);
	is_str(p, "/a/b/seg-000002.warc.gz", "segment_path sealed");
	free(p);
}

static void
test_write_seal(void)
{
	static const char *texts[NMEMBERS] = { "first record",
	    "second record, a little longer than the first",
	    "third and last record" };
	struct segment s, again;
	struct buf one, file;
	char sha[HASH_HEX_LEN], fsha[HASH_HEX_LEN], want[HASH_HEX_LEN];
	char *open_path, *sealed_path;
	uint64_t off = 99, size = 0, fsize = 0;
	struct seen seen;
	uint64_t good;
	int i, r;

	buf_init(&one, 0);
	buf_init(&file, 0);
	buf_init(&members, 0);
	open_path = segment_path(dir, "seg-000001.warc.gz", 1);
	sealed_path = segment_path(dir, "seg-000001.warc.gz", 0);

	is_int(segment_create(&s, dir, "seg-000001.warc.gz"), 0, "create");
	ok(s.fd >= 0 && s.size == 0 && !s.failed, "create: open, empty");
	is_int(file_mode(open_path), 0640, "create: NAME.open, mode 0640");
	ok(access(sealed_path, F_OK) != 0, "create: no final name yet");
	ok(fcntl(s.fd, F_GETFD) & FD_CLOEXEC, "create: O_CLOEXEC");
	is_int(segment_create(&again, dir, "seg-000001.warc.gz"), -EEXIST,
	    "create: an existing segment is never reused (-EEXIST)");
	segment_release(&again);

	for (i = 0; i < NMEMBERS; i++) {
		buf_reset(&one);
		member(&one, ids[i], texts[i]);
		r = segment_append(&s, one.data, one.len, &off);
		is_int(r, 0, "append member %d", i + 1);
		is_int(off, members.len, "append %d: offset = size before",
		    i + 1);
		offs[i] = off;
		buf_append(&members, one.data, one.len);
	}
	offs[NMEMBERS] = members.len;
	is_int(s.size, members.len, "size counts every byte appended");
	ok(s.synced < s.size, "not yet synced");
	is_int(segment_sync(&s), 0, "sync");
	is_int(s.synced, s.size, "synced == size");
	is_int(segment_sync(&s), 0, "sync with nothing new");
	read_file(open_path, &file);
	ok(file.len == members.len && memcmp(file.data, members.data,
	    file.len) == 0, "the file holds exactly the appended bytes");

	is_int(segment_seal(&s, sha, &size), 0, "seal");
	is_int(s.fd, -1, "seal closes the fd");
	ok(access(open_path, F_OK) != 0, "seal: NAME.open is gone");
	is_int(file_mode(sealed_path), 0440, "seal: NAME exists, mode 0440");
	is_int(size, members.len, "seal: size");
	hash_sha256_hex(members.data, members.len, want);
	is_str(sha, want, "seal: sha256 of the file's bytes");
	is_int(segment_file_hash(sealed_path, fsha, &fsize), 0, "file_hash");
	is_str(fsha, want, "file_hash: same sha256");
	is_int(fsize, members.len, "file_hash: size");
	is_int(segment_file_hash(open_path, fsha, &fsize), -ENOENT,
	    "file_hash of a missing file: -ENOENT");
	is_int(segment_append(&s, "x", 1, &off), -EIO,
	    "append after seal refused");
	segment_release(&s);

	/* Scan the sealed file. */
	read_file(sealed_path, &file);
	memset(&seen, 0, sizeof(seen));
	seen.file = &file;
	is_int(scan(sealed_path, 0, &seen, &good), 0, "scan");
	is_int(seen.n, NMEMBERS, "scan: one callback per member");
	is_int(good, members.len, "scan: good_end = end of file");
	for (i = 0; i < NMEMBERS && i < seen.n; i++) {
		hash_sha256_hex(members.data + offs[i], offs[i + 1] - offs[i],
		    want);
		ok(seen.offset[i] == offs[i] &&
		    seen.length[i] == offs[i + 1] - offs[i],
		    "scan: member %d at %llu, %llu bytes", i + 1,
		    (unsigned long long)offs[i],
		    (unsigned long long)(offs[i + 1] - offs[i]));
		is_str(seen.sha[i], want,
		    "scan: member %d sha256 of the stored bytes", i + 1);
		ok(strstr(seen.id[i], ids[i]) != NULL,
		    "scan: member %d record inside", i + 1);
	}
	ok(seen.stored_ok, "scan: stored points at the member's bytes");

	is_int(scan(sealed_path, offs[1], &seen, &good), 0, "scan from #2");
	ok(seen.n == 2 && seen.offset[0] == offs[1], "scan from #2: 2 members");
	seen.stop_at = 2;
	is_int(scan(sealed_path, 0, &seen, &good), 0, "scan, stop at #2");
	ok(seen.n == 1 && good == offs[1],
	    "callback > 0 stops before the member: good_end = its offset");
	seen.stop_at = 0;
	seen.fail_at = 3;
	is_int(scan(sealed_path, 0, &seen, &good), -EIO,
	    "callback < 0 aborts the scan with that error");
	ok(good == 0xdeadbeef, "aborted scan leaves good_end alone");
	seen.fail_at = 0;
	is_int(segment_scan(sealed_path, 0, NULL, NULL, &good), 0,
	    "scan without a callback");
	is_int(good, members.len, "scan without a callback: good_end");
	is_int(segment_scan("/nonexistent/seg", 0, NULL, NULL, &good), -ENOENT,
	    "scan of a missing file: -ENOENT");

	free(open_path);
	free(sealed_path);
	buf_release(&one);
	buf_release(&file);
}

static void
test_torn(void)
{
	struct buf tmp, one;
	struct seen seen;
	uint64_t good, cut;
	char path[256];
	int bad_good = 0, bad_n = 0, fd;

	snprintf(path, sizeof(path), "%s/torn.warc.gz", dir);
	buf_init(&tmp, 0);
	buf_init(&one, 0);

	/* Every cut inside the last member: stop at its start. */
	write_file(path, members.data, members.len);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	for (cut = members.len - 1; cut >= offs[NMEMBERS - 1]; cut--) {
		if (ftruncate(fd, (off_t)cut) != 0)
			break;
		memset(&seen, 0, sizeof(seen));
		if (scan(path, 0, &seen, &good) != 0 ||
		    good != offs[NMEMBERS - 1])
			bad_good++;
		if (seen.n != NMEMBERS - 1)
			bad_n++;
	}
	close(fd);
	is_int(bad_good, 0, "every cut in the last member (%llu cuts):"
	    " good_end = its start", (unsigned long long)(members.len -
	    offs[NMEMBERS - 1]));
	is_int(bad_n, 0, "every cut: only the complete members called back");

	/* Garbage after the last member. */
	buf_reset(&tmp);
	buf_append(&tmp, members.data, members.len);
	buf_puts(&tmp, "garbage after the last member");
	write_file(path, tmp.data, tmp.len);
	is_int(scan(path, 0, &seen, &good), 0, "garbage: scan");
	ok(seen.n == NMEMBERS && good == members.len,
	    "garbage: stops at the end of the last good member");

	/* Zeros (inode size grew, data never written). */
	buf_reset(&tmp);
	buf_append(&tmp, members.data, offs[2]);
	buf_append(&tmp, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	buf_append(&tmp, members.data + offs[2], members.len - offs[2]);
	write_file(path, tmp.data, tmp.len);
	scan(path, 0, &seen, &good);
	ok(seen.n == 2 && good == offs[2],
	    "zeros in the middle: stops before them, nothing after is used");

	/* A valid gzip member that is not a WARC record. */
	buf_reset(&tmp);
	buf_append(&tmp, members.data, offs[1]);
	compress_gzip("not a warc record", 17, &tmp);
	buf_append(&tmp, members.data + offs[1], members.len - offs[1]);
	write_file(path, tmp.data, tmp.len);
	scan(path, 0, &seen, &good);
	ok(seen.n == 1 && good == offs[1],
	    "gzip of non-WARC content: stops before it");

	/* A WARC record whose block digest is wrong. */
	buf_reset(&one);
	member(&one, ids[0], "x");	/* plain text, then corrupt it */
	buf_reset(&tmp);
	buf_append(&tmp, members.data, offs[1]);
	{
		struct buf plain, z;
		size_t used;

		buf_init(&plain, 0);
		buf_init(&z, 0);
		compress_gunzip_member(one.data, one.len, &plain, 1 << 20,
		    &used);
		plain.data[plain.len - 5] = 'y';	/* the block "x" */
		compress_gzip(plain.data, plain.len, &z);
		buf_append(&tmp, z.data, z.len);
		buf_release(&plain);
		buf_release(&z);
	}
	write_file(path, tmp.data, tmp.len);
	scan(path, 0, &seen, &good);
	ok(seen.n == 1 && good == offs[1],
	    "WARC block digest mismatch: stops before it");

	/* One member holding two WARC records is not one record. */
	buf_reset(&one);
	{
		struct warc_record r;

		memset(&r, 0, sizeof(r));
		r.type = "resource";
		r.record_id = ids[0];
		r.block = "a";
		r.block_len = 1;
		r.payload_off = -1;
		warc_build(&r, &one);
		warc_build(&r, &one);
	}
	buf_reset(&tmp);
	compress_gzip(one.data, one.len, &tmp);
	write_file(path, tmp.data, tmp.len);
	scan(path, 0, &seen, &good);
	ok(seen.n == 0 && good == 0, "two records in one member: rejected");

	/* Empty file. */
	write_file(path, "", 0);
	is_int(scan(path, 0, &seen, &good), 0, "empty file: scan");
	ok(seen.n == 0 && good == 0, "empty file: good_end 0");
	unlink(path);
	buf_release(&tmp);
	buf_release(&one);
}

static int
count_torn(const char *name, char *found, size_t len)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir(qdir);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, name, strlen(name)) == 0 &&
		    strstr(de->d_name, ".torn-") != NULL) {
			n++;
			snprintf(found, len, "%s/%s", qdir, de->d_name);
		}
	}
	closedir(d);
	return n;
}

static void
test_quarantine(void)
{
	static const char tail_garbage[] = "\x1f\x8b\x08 torn";
	struct buf file, tail, q;
	struct seen seen;
	char path[256], found[512], *torn = NULL;
	uint64_t good;
	size_t half;

	buf_init(&file, 0);
	buf_init(&tail, 0);
	buf_init(&q, 0);
	snprintf(path, sizeof(path), "%s/seg-000009.warc.gz.open", dir);

	/* Two good members, half of the third, then junk. */
	half = (offs[3] - offs[2]) / 2;
	buf_append(&file, members.data, offs[2] + half);
	buf_append(&file, tail_garbage, sizeof(tail_garbage) - 1);
	buf_append(&tail, file.data + offs[2], file.len - offs[2]);
	write_file(path, file.data, file.len);

	scan(path, 0, &seen, &good);
	is_int(good, offs[2], "torn segment: good_end after member 2");
	is_int(segment_quarantine(path, good, qdir, &torn), 0, "quarantine");
	ok(torn != NULL && strncmp(torn, qdir, strlen(qdir)) == 0 &&
	    strstr(torn, "/seg-000009.warc.gz.open.torn-") != NULL,
	    "quarantine: QDIR/NAME.torn-*: %s", torn ? torn : "(null)");
	is_int(count_torn("seg-000009", found, sizeof(found)), 1,
	    "quarantine: exactly one torn file");
	if (torn != NULL) {
		read_file(torn, &q);
		ok(q.len == tail.len && memcmp(q.data, tail.data, q.len) == 0,
		    "quarantine: the torn bytes, byte for byte (%zu)", q.len);
		is_int(file_mode(torn), 0440, "quarantine: mode 0440");
	}
	read_file(path, &q);
	ok(q.len == offs[2] && memcmp(q.data, members.data, q.len) == 0,
	    "quarantine: segment truncated to good_end, prefix intact");
	scan(path, 0, &seen, &good);
	ok(seen.n == 2 && good == offs[2], "quarantine: scans clean after");
	free(torn);
	torn = (char *)"unchanged";
	is_int(segment_quarantine(path, offs[2], qdir, &torn), 0,
	    "quarantine with nothing past good_end");
	ok(torn == NULL, "nothing to quarantine: ret_torn NULL");
	is_int(count_torn("seg-000009", found, sizeof(found)), 1,
	    "nothing to quarantine: no new file");
	unlink(found);
	unlink(path);
	buf_release(&file);
	buf_release(&tail);
	buf_release(&q);
}

static void
test_faults(void)
{
	struct segment s;
	struct buf one, file;
	char sha[HASH_HEX_LEN], *p;
	uint64_t off = 0, size;

	buf_init(&one, 0);
	buf_init(&file, 0);
	member(&one, ids[0], "fault test");

	setenv("SUNARCHIVE_TEST_FAULTS", "fdatasync:1:eio", 1);
	is_int(sysio_init(), 0, "faults: fdatasync:1:eio accepted");
	is_int(segment_create(&s, dir, "seg-000010.warc.gz"), 0,
	    "faults: create");
	is_int(segment_append(&s, one.data, one.len, &off), 0,
	    "faults: append");
	is_int(segment_sync(&s), -EIO, "faults: fdatasync fails: -EIO");
	ok(s.failed, "faults: the segment is failed");
	is_int(s.synced, 0, "faults: nothing counted durable");
	is_int(segment_append(&s, one.data, one.len, &off), -EIO,
	    "faults: a failed segment refuses appends");
	is_int(s.size, one.len, "faults: refused append adds nothing");
	is_int(segment_sync(&s), -EIO, "faults: and refuses to sync again");
	unsetenv("SUNARCHIVE_TEST_FAULTS");
	sysio_init();
	is_int(segment_append(&s, one.data, one.len, &off), -EIO,
	    "faults: still refused once the fault is gone");
	is_int(segment_seal(&s, sha, &size), 0,
	    "faults: a failed segment can still be sealed (as suspect)");
	is_int(size, one.len, "faults: sealed with its bytes");
	segment_release(&s);

	setenv("SUNARCHIVE_TEST_FAULTS", "write:*:enospc", 1);
	sysio_init();
	is_int(segment_create(&s, dir, "seg-000011.warc.gz"), 0,
	    "faults: create (write fault armed)");
	is_int(segment_append(&s, one.data, one.len, &off), -ENOSPC,
	    "faults: write fails: -ENOSPC");
	ok(s.failed && s.size == 0, "faults: failed, size unchanged");
	is_int(segment_sync(&s), -EIO, "faults: no sync after a failed write");
	unsetenv("SUNARCHIVE_TEST_FAULTS");
	sysio_init();
	segment_release(&s);

	setenv("SUNARCHIVE_TEST_FAULTS", "fsync:*:eio", 1);
	sysio_init();
	is_int(segment_create(&s, dir, "seg-000012.warc.gz"), -EIO,
	    "faults: directory fsync fails: create fails");
	segment_release(&s);
	unsetenv("SUNARCHIVE_TEST_FAULTS");
	sysio_init();
	p = segment_path(dir, "seg-000012.warc.gz", 1);
	unlink(p);
	free(p);

	is_int(segment_create(&s, dir, "seg-000013.warc.gz"), 0,
	    "faults: create for a failing seal");
	segment_append(&s, one.data, one.len, &off);
	setenv("SUNARCHIVE_TEST_FAULTS", "fsync:1:eio", 1);
	sysio_init();
	is_int(segment_seal(&s, sha, &size), -EIO, "faults: seal fsync fails");
	unsetenv("SUNARCHIVE_TEST_FAULTS");
	sysio_init();
	p = segment_path(dir, "seg-000013.warc.gz", 1);
	is_int(file_mode(p), 0640, "faults: not renamed or made read-only");
	free(p);
	segment_release(&s);

	setenv("SUNARCHIVE_TEST_FAULTS", "fdatasync:x:eio", 1);
	is_int(sysio_init(), -EINVAL, "faults: bad spec: -EINVAL");
	setenv("SUNARCHIVE_TEST_FAULTS", "fdatasync:1:explode", 1);
	is_int(sysio_init(), -EINVAL, "faults: bad action: -EINVAL");
	unsetenv("SUNARCHIVE_TEST_FAULTS");
	is_int(sysio_init(), 0, "faults: reset");
	buf_release(&one);
	buf_release(&file);
}

static void
test_reopen(void)
{
	struct segment s;
	struct buf one;
	uint64_t off = 0;

	buf_init(&one, 0);
	member(&one, ids[1], "reopen");
	is_int(segment_create(&s, dir, "seg-000020.warc.gz"), 0,
	    "reopen: create");
	segment_append(&s, one.data, one.len, &off);
	segment_sync(&s);
	segment_release(&s);
	is_int(segment_reopen(&s, dir, "seg-000020.warc.gz"), 0, "reopen");
	ok(s.size == one.len && s.synced == one.len,
	    "reopen: size = file length");
	is_int(segment_append(&s, one.data, one.len, &off), 0,
	    "reopen: append");
	is_int(off, one.len, "reopen: appends after the existing bytes");
	segment_release(&s);
	is_int(segment_reopen(&s, dir, "seg-999999.warc.gz"), -ENOENT,
	    "reopen of a missing segment: -ENOENT");
	segment_release(&s);
	buf_release(&one);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(path);
}

int
main(void)
{
	umask(022);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(qdir, sizeof(qdir), "%s/quarantine", dir);
	mkdir(qdir, 0750);
	unsetenv("SUNARCHIVE_TEST_FAULTS");
	unsetenv("SUNARCHIVE_TEST_FAULT_FILE");
	sysio_init();
	test_names();
	test_write_seal();
	test_torn();
	test_quarantine();
	test_faults();
	test_reopen();
	buf_release(&members);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
