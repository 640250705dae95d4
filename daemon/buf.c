/*
 * buf.c - bounded growable byte buffers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

static void
buf_grow(struct buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;

	while (cap < need + 1)
		cap *= 2;
	if (cap != b->cap) {
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->max != 0 && (n > b->max || b->len > b->max - n))
		return -EFBIG;
	buf_grow(b, b->len + n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

char *
buf_reserve(struct buf *b, size_t n)
{
	if (b->max != 0 && (n > b->max || b->len > b->max - n))
		return NULL;
	buf_grow(b, b->len + n);
	return b->data + b->len;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[512], *big;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, n);
	big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	r = buf_append(b, big, n);
	free(big);
	return r;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *
buf_steal(struct buf *b, size_t *ret_len)
{
	char *p;

	buf_grow(b, b->len);
	b->data[b->len] = '\0';	/* a fresh buffer has no NUL yet */
	p = b->data;
	if (ret_len != NULL)
		*ret_len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

size_t
buf_replace_all(struct buf *b, const char *needle, const char *repl)
{
	size_t nlen = strlen(needle), rlen = strlen(repl), count = 0, off = 0;
	struct buf out;
	char *hit;

	if (nlen < 4 || b->len == 0)
		return 0;
	if (memmem(b->data, b->len, needle, nlen) == NULL)
		return 0;
	buf_init(&out, 0);
	while ((hit = memmem(b->data + off, b->len - off, needle, nlen))
	    != NULL) {
		buf_append(&out, b->data + off, hit - (b->data + off));
		buf_append(&out, repl, rlen);
		off = hit - b->data + nlen;
		count++;
	}
	buf_append(&out, b->data + off, b->len - off);
	buf_release(b);
	out.max = b->max;
	*b = out;
	return count;
}
