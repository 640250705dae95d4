/*
 * test_buf.c - bounded buffers: appends up to max and -EFBIG past it with
 * the buffer unchanged, printf past the 512-byte fast path, reserve,
 * reset, steal, and replace_all (several hits, overlapping-looking text,
 * short needles ignored).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"

static void
test_append_bounded(void)
{
	struct buf b;
	char *before;

	buf_init(&b, 8);
	ok(b.data == NULL && b.len == 0, "init: empty, no memory");
	is_int(buf_append(&b, "hello", 5), 0, "append 5 of max 8");
	is_int(buf_append(&b, "WORLD", 4), -EFBIG, "append past max: -EFBIG");
	is_int(b.len, 5, "failed append leaves len");
	is_str(b.data, "hello", "failed append leaves the content");
	is_int(buf_append(&b, "abc", 3), 0, "append up to exactly max");
	is_str(b.data, "helloabc", "content at max");
	is_int(b.len, 8, "len at max");
	before = b.data;
	is_int(buf_append(&b, "x", 1), -EFBIG, "one byte past max: -EFBIG");
	is_int(buf_append(&b, "x", SIZE_MAX), -EFBIG,
	    "SIZE_MAX bytes: -EFBIG, no overflow");
	is_int(buf_puts(&b, "y"), -EFBIG, "puts past max: -EFBIG");
	is_int(buf_printf(&b, "%d", 1), -EFBIG, "printf past max: -EFBIG");
	ok(b.data == before && b.len == 8 && memcmp(b.data, "helloabc", 9) == 0,
	    "buffer unchanged after every refused append");
	is_int(buf_append(&b, "", 0), 0, "empty append at max is fine");
	buf_release(&b);
	ok(b.data == NULL && b.len == 0 && b.cap == 0, "release empties");

	buf_init(&b, 0);
	is_int(buf_append(&b, "", 0), 0, "empty append to a fresh buffer");
	ok(b.data != NULL && b.data[0] == '\0',
	    "and the data is an empty string");
	is_int(buf_append(&b, "a\0b", 3), 0, "binary append");
	ok(b.len == 3 && memcmp(b.data, "a\0b", 4) == 0,
	    "binary content kept, NUL-terminated");
	buf_release(&b);
}

static void
test_growth(void)
{
	struct buf b;
	char big[3000], want[7000];
	size_t i;
	int good = 1;

	for (i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + i % 26);
	big[sizeof(big) - 1] = '\0';

	buf_init(&b, 0);
	for (i = 0; i < 1000; i++)
		if (buf_append(&b, "0123456789", 10) != 0)
			good = 0;
	ok(good && b.len == 10000 && b.cap > b.len,
	    "unbounded growth to 10000 bytes");
	for (i = 0; i < 10000 && good; i++)
		good = b.data[i] == (char)('0' + i % 10);
	ok(good && b.data[10000] == '\0', "content intact after growth");
	buf_release(&b);

	buf_init(&b, 0);
	is_int(buf_printf(&b, "<%s>", "short"), 0, "printf: short");
	is_int(buf_printf(&b, "[%s|%d]", big, 42), 0,
	    "printf: %zu bytes, past the 512-byte fast path", sizeof(big) + 4);
	snprintf(want, sizeof(want), "<short>[%s|42]", big);
	is_int(b.len, strlen(want), "printf: length");
	is_str(b.data, want, "printf: content");
	is_int(buf_printf(&b, "%s", ""), 0, "printf: empty");
	is_int(b.len, strlen(want), "printf: empty adds nothing");
	buf_release(&b);

	/* Exactly 511 and 512 bytes: either side of the stack buffer. */
	buf_init(&b, 0);
	big[511] = '\0';
	buf_printf(&b, "%s", big);
	is_int(b.len, 511, "printf: 511 bytes");
	big[511] = 'x';
	big[512] = '\0';
	buf_reset(&b);
	buf_printf(&b, "%s", big);
	is_int(b.len, 512, "printf: 512 bytes");
	ok(memcmp(b.data, big, 513) == 0, "printf: 512 bytes content");
	buf_release(&b);

	buf_init(&b, 1000);
	is_int(buf_puts(&b, "head:"), 0, "bounded printf: prefix");
	is_int(buf_printf(&b, "%s", big), 0, "bounded printf: 512 fits 1000");
	is_int(buf_printf(&b, "%s", big), -EFBIG,
	    "bounded printf: large printf past max");
	is_int(b.len, 5 + 512, "bounded printf: unchanged after -EFBIG");
	buf_release(&b);
}

static void
test_reserve_reset(void)
{
	struct buf b;
	size_t cap;
	char *p, *data;

	buf_init(&b, 64);
	buf_puts(&b, "abc");
	p = buf_reserve(&b, 10);
	ok(p != NULL && p == b.data + 3, "reserve: points past the content");
	ok(b.cap >= 3 + 10 + 1, "reserve: room for n bytes and the NUL");
	memcpy(p, "defgh", 5);
	b.len += 5;
	b.data[b.len] = '\0';
	is_int(buf_append(&b, "ij", 2), 0, "reserve: append after it");
	is_str(b.data, "abcdefghij", "reserve: content");
	ok(buf_reserve(&b, 55) == NULL, "reserve: past max is NULL");
	is_int(b.len, 10, "reserve: refused reserve leaves len");
	ok(buf_reserve(&b, 54) != NULL, "reserve: up to exactly max");
	is_str(b.data, "abcdefghij", "reserve: content untouched");

	cap = b.cap;
	data = b.data;
	buf_reset(&b);
	ok(b.len == 0 && b.cap == cap && b.data == data && b.data[0] == '\0',
	    "reset: empty, memory kept");
	is_int(b.max, 64, "reset: max kept");
	buf_release(&b);

	buf_init(&b, 0);
	buf_reset(&b);
	ok(b.data == NULL && b.len == 0, "reset of a fresh buffer");
	buf_release(&b);
}

static void
test_steal(void)
{
	struct buf b;
	size_t len = 99;
	char *p;

	buf_init(&b, 100);
	buf_puts(&b, "owned text");
	p = buf_steal(&b, &len);
	is_str(p, "owned text", "steal: content");
	is_int(len, 10, "steal: length");
	ok(b.data == NULL && b.len == 0 && b.cap == 0,
	    "steal: buffer left empty");
	is_int(buf_puts(&b, "again"), 0, "steal: buffer usable afterwards");
	is_str(b.data, "again", "steal: new content");
	ok(b.data != p, "steal: new memory");
	free(p);
	buf_release(&b);

	buf_init(&b, 0);
	len = 99;
	p = buf_steal(&b, &len);
	ok(p != NULL, "steal: fresh buffer gives a string");
	ok(p != NULL && p[0] == '\0', "steal: fresh buffer gives \"\"");
	is_int(len, 0, "steal: fresh buffer length 0");
	free(p);

	buf_init(&b, 0);
	buf_puts(&b, "abc");
	buf_reset(&b);
	p = buf_steal(&b, NULL);
	ok(p != NULL && p[0] == '\0', "steal: after reset gives \"\"");
	free(p);
}

static void
test_replace_all(void)
{
	struct buf b;
	char *data;

	buf_init(&b, 0);
	buf_puts(&b, "TOKEN at start, TOKEN in the middle, at the end TOKEN");
	is_int(buf_replace_all(&b, "TOKEN", "X"), 3, "replace: three hits");
	is_str(b.data, "X at start, X in the middle, at the end X",
	    "replace: content");
	is_int(b.len, strlen(b.data), "replace: len matches");
	buf_release(&b);

	buf_init(&b, 0);
	buf_puts(&b, "aaaaaaaaa");
	is_int(buf_replace_all(&b, "aaaa", "b"), 2,
	    "replace: non-overlapping, left to right");
	is_str(b.data, "bba", "replace: 'aaaaaaaaa' -> 'bba'");
	buf_release(&b);

	buf_init(&b, 0);
	buf_puts(&b, "abababab");
	is_int(buf_replace_all(&b, "abab", "Z"), 2, "replace: abab twice");
	is_str(b.data, "ZZ", "replace: 'abababab' -> 'ZZ'");
	buf_release(&b);

	buf_init(&b, 0);
	buf_puts(&b, "x SECRET y");
	is_int(buf_replace_all(&b, "SECRET", "[SECRET]"), 1,
	    "replace: replacement containing the needle");
	is_str(b.data, "x [SECRET] y", "replace: not rescanned");
	buf_release(&b);

	buf_init(&b, 0);
	buf_puts(&b, "abc abc abc");
	data = b.data;
	is_int(buf_replace_all(&b, "abc", "X"), 0,
	    "replace: 3-byte needle ignored");
	is_int(buf_replace_all(&b, "", "X"), 0, "replace: empty needle");
	ok(b.data == data && strcmp(b.data, "abc abc abc") == 0,
	    "replace: short needles leave the buffer alone");
	is_int(buf_replace_all(&b, "zzzz", "X"), 0, "replace: no hit");
	ok(b.data == data && b.len == 11, "replace: no hit, no change");
	buf_release(&b);

	buf_init(&b, 0);
	is_int(buf_replace_all(&b, "abcd", "X"), 0, "replace: empty buffer");
	buf_release(&b);

	buf_init(&b, 4096);
	buf_puts(&b, "k=LONGNEEDLE;k=LONGNEEDLE");
	is_int(buf_replace_all(&b, "LONGNEEDLE", "R"), 2,
	    "replace: shrinking");
	is_str(b.data, "k=R;k=R", "replace: shrunk content");
	is_int(b.max, 4096, "replace: max kept");
	is_int(buf_replace_all(&b, "k=R;", "a much longer replacement;"), 1,
	    "replace: growing");
	is_str(b.data, "a much longer replacement;k=R", "replace: grown");
	buf_release(&b);

	buf_init(&b, 0);
	buf_append(&b, "\0\0NEEDLE\0NEEDLE", 15);
	is_int(buf_replace_all(&b, "NEEDLE", "n"), 2,
	    "replace: binary data with NULs");
	ok(b.len == 5 && memcmp(b.data, "\0\0n\0n", 6) == 0,
	    "replace: binary content");
	buf_release(&b);
}

int
main(void)
{
	test_append_bounded();
	test_growth();
	test_reserve_reset();
	test_steal();
	test_replace_all();
	return tap_done();
}
