/*
 * hash.c - SHA-256 through OpenSSL's EVP interface. Nothing here is hand
 * written crypto: only encodings.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hash.h"
#include "util.h"

void
hash_sha256(const void *p, size_t n, unsigned char out[HASH_LEN])
{
	unsigned int len = HASH_LEN;

	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

void
hash_sha256_hex(const void *p, size_t n, char out[HASH_HEX_LEN])
{
	unsigned char md[HASH_LEN];

	hash_sha256(p, n, md);
	util_hex(md, HASH_LEN, out);
}

void
hash_init(struct hash_ctx *h)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (c == NULL)
		abort();
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	h->md = c;
}

void
hash_update(struct hash_ctx *h, const void *p, size_t n)
{
	EVP_DigestUpdate(h->md, p, n);
}

void
hash_final(struct hash_ctx *h, unsigned char out[HASH_LEN])
{
	unsigned int len = HASH_LEN;

	EVP_DigestFinal_ex(h->md, out, &len);
	EVP_MD_CTX_free(h->md);
	h->md = NULL;
}

void
hash_hmac_sha256_hex(const char *key, const char *msg, char out[HASH_HEX_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg,
	    strlen(msg), md, &len);
	util_hex(md, HASH_LEN, out);
}

void
hash_base32(const unsigned char in[HASH_LEN], char out[HASH_B32_LEN])
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned int acc = 0, bits = 0;
	size_t i, o = 0;

	for (i = 0; i < HASH_LEN; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = alpha[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = alpha[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}
