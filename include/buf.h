/*
 * buf.h - bounded growable byte buffers (curl's dynbuf). Everything read
 * from the network lands in one of these, with a maximum size.
 */
#ifndef SUNARCHIVE_BUF_H
#define SUNARCHIVE_BUF_H

#include <stddef.h>

struct buf {
	char	*data;		/* always NUL-terminated when non-NULL */
	size_t	 len;
	size_t	 cap;
	size_t	 max;		/* 0 = unbounded */
};

void	buf_init(struct buf *b, size_t max);
/* Append n bytes; -EFBIG (nothing appended) if that would pass max. */
int	buf_append(struct buf *b, const void *p, size_t n);
int	buf_puts(struct buf *b, const char *s);
int	buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * Make room for n more bytes and return where they go; the caller writes
 * up to n bytes there and then adds what it wrote to len. NULL (-EFBIG)
 * if that would pass max.
 */
char	*buf_reserve(struct buf *b, size_t n);
/* Empty the buffer, keeping its memory. */
void	buf_reset(struct buf *b);
/* Free the contents; the struct may be reused after buf_init(). */
void	buf_release(struct buf *b);
/* Detach the contents (caller frees); the buffer becomes empty. */
char	*buf_steal(struct buf *b, size_t *ret_len);
/* Replace every occurrence of needle (len >= 4) with repl; returns count. */
size_t	buf_replace_all(struct buf *b, const char *needle, const char *repl);

#endif
