/*
 * compress.h - one gzip member per WARC record (zlib).
 */
#ifndef SUNARCHIVE_COMPRESS_H
#define SUNARCHIVE_COMPRESS_H

#include <stddef.h>

#include "buf.h"

/* Append one complete gzip member holding in[0..n) to out. 0 or -errno. */
int	compress_gzip(const void *in, size_t n, struct buf *out);

/*
 * Decode exactly one gzip member starting at in. On success appends the
 * content to out (at most max_out bytes, else -EFBIG), sets *ret_used to
 * the member's stored length and returns 0. A member cut short returns
 * -ENODATA; corrupt bytes (bad header, CRC or length) return -EBADMSG.
 */
int	compress_gunzip_member(const void *in, size_t avail, struct buf *out,
	    size_t max_out, size_t *ret_used);

#endif
