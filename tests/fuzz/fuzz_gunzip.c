/*
 * fuzz_gunzip.c - the gzip member decoder and the segment scan (crash
 * recovery, `check`, `reindex`) on arbitrary bytes, the way they meet a
 * torn or damaged segment.
 *
 * Each input is (1) decoded as one gzip member with a bounded output;
 * (2) scanned as a whole segment file; (3) gzipped by our writer into
 * one member, written twice and scanned again, which must yield both
 * members exactly when warc_parse() takes the input as one whole record,
 * and nothing otherwise (random bytes seldom pass a gzip CRC, so this is
 * how the fuzzer reaches the record checks of the scan).
 */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "compress.h"
#include "hash.h"
#include "segment.h"
#include "warc.h"

#include "fuzz.h"

#define MAX_OUT		(1024 * 1024)	/* decoded bytes per member */

struct scan {
	uint64_t	size;		/* of the file */
	uint64_t	end;		/* where the last member ended */
	size_t		n;		/* members seen */
};

static int	seg_fd = -1;
static char	seg_path[64];

/* Members come in order, back to back, inside the file, hashed right. */
static int
on_member(const struct segment_member *m, void *arg)
{
	struct scan *s = arg;
	char sha[HASH_HEX_LEN];

	FUZZ_CHECK(m->offset == s->end);
	FUZZ_CHECK(m->length > 0 && m->length <= s->size - m->offset);
	hash_sha256_hex(m->stored, m->length, sha);
	FUZZ_CHECK(strcmp(sha, m->sha256) == 0);
	FUZZ_CHECK(m->rec.total_len > 0 && m->rec.nfields > 0);
	FUZZ_CHECK(warc_get(&m->rec, "WARC-Type") != NULL);
	s->end = m->offset + m->length;
	s->n++;
	return 0;
}

static void
scan(const void *data, size_t size, struct scan *s)
{
	uint64_t good_end = UINT64_MAX;
	int r;

	memset(s, 0, sizeof(*s));
	s->size = size;
	fuzz_memfd_set(seg_fd, data, size);
	r = segment_scan(seg_path, 0, on_member, s, &good_end);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(good_end == s->end);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	seg_fd = fuzz_memfd("fuzz-segment", seg_path, sizeof(seg_path));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct warc_parsed p;
	struct buf out, z;
	struct scan s;
	size_t used = 0;
	int r, whole;

	/* (1) One member, bounded. */
	buf_init(&out, 0);
	r = compress_gunzip_member(data, size, &out, MAX_OUT, &used);
	if (r == 0)
		FUZZ_CHECK(used > 0 && used <= size && out.len <= MAX_OUT);
	else
		FUZZ_CHECK(out.len == 0 && (r == -EBADMSG ||
		    r == -ENODATA || r == -EFBIG));
	buf_release(&out);

	/* (2) The bytes as a segment file. */
	scan(data, size, &s);
	FUZZ_CHECK(s.end <= size);

	/* (3) The bytes as a record, gzipped twice by our writer. */
	buf_init(&z, 0);
	FUZZ_CHECK(compress_gzip(data, size, &z) == 0);
	used = z.len;
	FUZZ_CHECK(compress_gzip(data, size, &z) == 0);
	FUZZ_CHECK(z.len == 2 * used);
	memset(&p, 0, sizeof(p));
	whole = warc_parse((const char *)data, size, &p) == 0 &&
	    p.total_len == size;
	warc_parsed_release(&p);
	scan(z.data, z.len, &s);
	if (whole)
		FUZZ_CHECK(s.n == 2 && s.end == z.len);
	else
		FUZZ_CHECK(s.n == 0 && s.end == 0);
	buf_release(&z);
	return 0;
}
