/*
 * hash.h - SHA-256 (OpenSSL EVP), HMAC-SHA256 and the base32 form used in
 * WARC digests.
 */
#ifndef SUNARCHIVE_HASH_H
#define SUNARCHIVE_HASH_H

#include <stddef.h>

#define HASH_LEN	32
#define HASH_HEX_LEN	65	/* 64 hex digits + NUL */
#define HASH_B32_LEN	53	/* 52 base32 characters + NUL */

struct hash_ctx {
	void	*md;		/* EVP_MD_CTX */
};

void	hash_sha256(const void *p, size_t n, unsigned char out[HASH_LEN]);
void	hash_sha256_hex(const void *p, size_t n, char out[HASH_HEX_LEN]);

/* Incremental SHA-256. */
void	hash_init(struct hash_ctx *h);
void	hash_update(struct hash_ctx *h, const void *p, size_t n);
void	hash_final(struct hash_ctx *h, unsigned char out[HASH_LEN]);

/* Lower-case hex HMAC-SHA256(key, msg) (Facebook's appsecret_proof). */
void	hash_hmac_sha256_hex(const char *key, const char *msg,
	    char out[HASH_HEX_LEN]);

/* RFC 4648 base32 (upper case, no padding) of a SHA-256 value. */
void	hash_base32(const unsigned char in[HASH_LEN], char out[HASH_B32_LEN]);

#endif
