/*
 * test_compress.c - one gzip member per record: round trips (empty, one
 * byte, 1 MiB of random bytes), concatenated members decoded one at a
 * time by their stored length, every truncation -> -ENODATA, flipped
 * bytes never decode to different content, the output cap -> -EFBIG, and
 * zlib's own gzread() reading what we wrote.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "buf.h"
#include "compress.h"
#include "tap.h"
#include "util.h"

#define MIB	(1024 * 1024)

static char dir[] = "/tmp/sunarchive-test-compress.XXXXXX";

static void
fill_random(unsigned char *p, size_t n)
{
	uint32_t x = 2463534242u;	/* xorshift32: reproducible */
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
}

/* Compress in[0..n), decode it back, compare. */
static void
round_trip(const void *in, size_t n, const char *what)
{
	struct buf z, out;
	size_t used = 0;

	buf_init(&z, 0);
	buf_init(&out, 0);
	is_int(compress_gzip(in, n, &z), 0, "%s: compress", what);
	ok(z.len >= 18 && (unsigned char)z.data[0] == 0x1f &&
	    (unsigned char)z.data[1] == 0x8b && z.data[2] == 8,
	    "%s: gzip magic and deflate method", what);
	is_int(compress_gunzip_member(z.data, z.len, &out, n, &used), 0,
	    "%s: decode", what);
	is_int(used, z.len, "%s: used = the member's length", what);
	ok(out.len == n && (n == 0 || memcmp(out.data, in, n) == 0),
	    "%s: same %zu bytes back", what, n);
	buf_release(&z);
	buf_release(&out);
}

static void
test_round_trip(void)
{
	unsigned char *rnd;
	struct buf z;

	round_trip("", 0, "empty");
	round_trip("x", 1, "1 byte");
	round_trip("hello, hello, hello, hello, hello", 33, "repetitive");
	rnd = malloc(MIB);
	fill_random(rnd, MIB);
	round_trip(rnd, MIB, "1 MiB random");
	free(rnd);

	/* compress_gzip appends: what was in the buffer stays. */
	buf_init(&z, 0);
	buf_puts(&z, "PREFIX");
	is_int(compress_gzip("abc", 3, &z), 0, "append after existing bytes");
	ok(memcmp(z.data, "PREFIX", 6) == 0 &&
	    (unsigned char)z.data[6] == 0x1f, "existing bytes kept");
	buf_release(&z);

	buf_init(&z, 10);
	is_int(compress_gzip("abc", 3, &z), -EFBIG,
	    "compress into a too-small bounded buffer: -EFBIG");
	is_int(z.len, 0, "nothing appended");
	buf_release(&z);
}

static void
test_concatenated(void)
{
	struct buf z, out;
	size_t used = 0, len1;
	const char *a = "first record", *b = "second, longer record ......";

	buf_init(&z, 0);
	buf_init(&out, 0);
	compress_gzip(a, strlen(a), &z);
	len1 = z.len;
	compress_gzip(b, strlen(b), &z);
	compress_gzip("", 0, &z);

	is_int(compress_gunzip_member(z.data, z.len, &out, 1024, &used), 0,
	    "member 1 of 3");
	is_int(used, len1, "member 1: ret_used stops at its end");
	is_str(out.data, a, "member 1: only its own content");
	buf_reset(&out);
	is_int(compress_gunzip_member(z.data + len1, z.len - len1, &out, 1024,
	    &used), 0, "member 2 of 3");
	is_str(out.data, b, "member 2: content");
	len1 += used;
	buf_reset(&out);
	is_int(compress_gunzip_member(z.data + len1, z.len - len1, &out, 1024,
	    &used), 0, "member 3 (empty)");
	is_int(out.len, 0, "member 3: no content");
	is_int(len1 + used, z.len, "three members account for every byte");

	/* Decoding appends to what is already in out. */
	buf_reset(&out);
	buf_puts(&out, "pre:");
	compress_gunzip_member(z.data, z.len, &out, 1024, &used);
	is_str(out.data, "pre:first record", "decode appends to out");
	buf_release(&z);
	buf_release(&out);
}

static void
test_truncated(void)
{
	unsigned char text[2000];
	struct buf z, out;
	size_t cut, used, bad = 0, changed = 0;
	int r;

	fill_random(text, sizeof(text));
	memset(text + 500, 'q', 1000);	/* some compressible content */
	buf_init(&z, 0);
	buf_init(&out, 0);
	compress_gzip(text, sizeof(text), &z);
	for (cut = 0; cut < z.len; cut++) {
		buf_reset(&out);
		buf_puts(&out, "keep");
		used = 12345;
		r = compress_gunzip_member(z.data, cut, &out, sizeof(text),
		    &used);
		if (r != -ENODATA) {
			if (bad++ == 0)
				printf("# cut at %zu of %zu: %d\n", cut, z.len,
				    r);
		}
		if (out.len != 4 || strcmp(out.data, "keep") != 0 ||
		    used != 12345)
			changed++;
	}
	is_int(bad, 0, "every truncation (0..%zu) is -ENODATA", z.len - 1);
	is_int(changed, 0, "a failed decode leaves out and ret_used alone");
	buf_release(&z);
	buf_release(&out);
}

static void
test_flipped(void)
{
	unsigned char text[4000];
	struct buf z, out;
	size_t i, used, silent = 0, wrong = 0, errors = 0, other = 0;
	int bit, r;

	fill_random(text, sizeof(text));
	memset(text + 1000, 'z', 2000);
	buf_init(&z, 0);
	buf_init(&out, 0);
	compress_gzip(text, sizeof(text), &z);
	/* Deflate data: after the 10-byte header, before the 8-byte trailer;
	 * then the trailer itself (CRC32 and ISIZE). */
	for (i = 10; i < z.len; i++) {
		for (bit = 0; bit < 8; bit++) {
			z.data[i] ^= (char)(1 << bit);
			buf_reset(&out);
			r = compress_gunzip_member(z.data, z.len, &out,
			    sizeof(text) * 2, &used);
			z.data[i] ^= (char)(1 << bit);
			if (r == 0 && out.len == sizeof(text) &&
			    memcmp(out.data, text, sizeof(text)) == 0)
				silent++;	/* e.g. padding bits */
			else if (r == 0)
				wrong++;
			else if (r == -EBADMSG || r == -ENODATA)
				errors++;
			else
				other++;
		}
	}
	is_int(wrong, 0, "no flip decodes to different content");
	is_int(other, 0, "flips fail with -EBADMSG or -ENODATA only");
	/* Padding bits (stored-block alignment, the last byte) are not
	 * covered by the CRC; that is why the stored bytes are hashed. */
	ok(errors > 0 && silent * 100 < errors,
	    "%zu flips detected, %zu invisible (padding bits)", errors, silent);

	/* A bad header is -EBADMSG. */
	z.data[0] ^= 0x01;
	is_int(compress_gunzip_member(z.data, z.len, &out, sizeof(text), &used),
	    -EBADMSG, "bad magic: -EBADMSG");
	z.data[0] ^= 0x01;
	z.data[z.len - 8] ^= 0x10;	/* CRC32 */
	is_int(compress_gunzip_member(z.data, z.len, &out, sizeof(text), &used),
	    -EBADMSG, "bad CRC32: -EBADMSG");
	z.data[z.len - 8] ^= 0x10;
	z.data[z.len - 1] ^= 0x01;	/* ISIZE */
	is_int(compress_gunzip_member(z.data, z.len, &out, sizeof(text), &used),
	    -EBADMSG, "bad ISIZE: -EBADMSG");
	z.data[z.len - 1] ^= 0x01;
	is_int(compress_gunzip_member("not gzip at all", 15, &out, 100, &used),
	    -EBADMSG, "plain text: -EBADMSG");
	buf_release(&z);
	buf_release(&out);
}

static void
test_max_out(void)
{
	unsigned char *big;
	struct buf z, out;
	size_t used = 7;

	big = malloc(100000);
	fill_random(big, 100000);
	buf_init(&z, 0);
	buf_init(&out, 0);
	compress_gzip(big, 100000, &z);
	is_int(compress_gunzip_member(z.data, z.len, &out, 100000, &used), 0,
	    "max_out equal to the content: fine");
	buf_reset(&out);
	buf_puts(&out, "pre");
	used = 7;
	is_int(compress_gunzip_member(z.data, z.len, &out, 99999, &used),
	    -EFBIG, "max_out one byte short: -EFBIG");
	ok(out.len == 3 && strcmp(out.data, "pre") == 0 && used == 7,
	    "-EFBIG leaves out and ret_used alone");
	is_int(compress_gunzip_member(z.data, z.len, &out, 0, &used), -EFBIG,
	    "max_out 0: -EFBIG");
	buf_reset(&out);
	is_int(compress_gunzip_member(z.data, z.len, &out, 1 << 30, &used), 0,
	    "max_out counts this member only, not what out held");

	/* A small member that inflates hugely (a "zip bomb"). */
	memset(big, 0, 100000);
	buf_reset(&z);
	compress_gzip(big, 100000, &z);
	ok(z.len < 1000, "100000 zeros compress to %zu bytes", z.len);
	buf_reset(&out);
	is_int(compress_gunzip_member(z.data, z.len, &out, 4096, &used),
	    -EFBIG, "bomb capped at 4096 bytes");
	free(big);
	buf_release(&z);
	buf_release(&out);
}

static void
test_zlib_reads_it(void)
{
	unsigned char *rnd, *back;
	char path[128];
	struct buf z;
	gzFile gz;
	int fd, n = -1, total = 0;

	rnd = malloc(300000);
	back = malloc(300000 + 16);
	fill_random(rnd, 300000);
	buf_init(&z, 0);
	/* Three members, like a segment: one gzip stream to other readers. */
	compress_gzip(rnd, 100000, &z);
	compress_gzip(rnd + 100000, 100000, &z);
	compress_gzip(rnd + 200000, 100000, &z);
	snprintf(path, sizeof(path), "%s/three.gz", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ok(fd >= 0 && write(fd, z.data, z.len) == (ssize_t)z.len,
	    "wrote %zu bytes to %s", z.len, path);
	if (fd >= 0)
		close(fd);
	gz = gzopen(path, "rb");
	ok(gz != NULL, "gzopen");
	while (gz != NULL && (n = gzread(gz, back + total,
	    300000 + 16 - (unsigned)total)) > 0)
		total += n;
	ok(gz != NULL && n == 0, "gzread reaches the end without error");
	if (gz != NULL)
		gzclose(gz);
	is_int(total, 300000, "gzread: all three members' bytes");
	ok(memcmp(back, rnd, 300000) == 0, "gzread: same content");
	unlink(path);
	buf_release(&z);
	free(rnd);
	free(back);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_round_trip();
	test_concatenated();
	test_truncated();
	test_flipped();
	test_max_out();
	test_zlib_reads_it();
	rmdir(dir);
	return tap_done();
}
