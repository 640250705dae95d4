/*
 * compress.c - gzip members with zlib. Each WARC record is its own member
 * (the web-archiving convention) so any record can be read from its
 * offset alone, and a torn tail loses at most the record being written.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <zlib.h>

#include "compress.h"

int
compress_gzip(const void *in, size_t n, struct buf *out)
{
	z_stream zs;
	size_t bound;
	char *dst;
	int r;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	bound = deflateBound(&zs, n) + 32;
	dst = buf_reserve(out, bound);
	if (dst == NULL) {
		deflateEnd(&zs);
		return -EFBIG;
	}
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = (Bytef *)dst;
	zs.avail_out = (uInt)bound;
	r = deflate(&zs, Z_FINISH);
	deflateEnd(&zs);
	if (r != Z_STREAM_END)
		return -EIO;
	out->len += zs.total_out;
	out->data[out->len] = '\0';
	return 0;
}

int
compress_gunzip_member(const void *in, size_t avail, struct buf *out,
    size_t max_out, size_t *ret_used)
{
	unsigned char chunk[16384];
	size_t start = out->len;
	z_stream zs;
	int r, ret = 0;

	memset(&zs, 0, sizeof(zs));
	/* 15 + 16: gzip only, one member; inflate stops at its end. */
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = avail > UINT32_MAX ? UINT32_MAX : (uInt)avail;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		r = inflate(&zs, Z_NO_FLUSH);
		if (r == Z_NEED_DICT || r == Z_DATA_ERROR || r == Z_MEM_ERROR ||
		    r == Z_STREAM_ERROR) {
			ret = -EBADMSG;
			break;
		}
		if (out->len - start + (sizeof(chunk) - zs.avail_out) > max_out) {
			ret = -EFBIG;
			break;
		}
		buf_append(out, chunk, sizeof(chunk) - zs.avail_out);
		if (r == Z_BUF_ERROR && zs.avail_in == 0) {
			ret = -ENODATA;
			break;
		}
	} while (r != Z_STREAM_END);
	if (ret == 0)
		*ret_used = zs.total_in;
	else
		out->len = start;
	if (out->data != NULL)
		out->data[out->len] = '\0';
	inflateEnd(&zs);
	return ret;
}
