/*
 * test_hash.c - SHA-256 against the FIPS 180-2 vectors, incremental ==
 * one-shot at every split, HMAC-SHA256 (RFC 4231 and Facebook's
 * appsecret_proof), and the base32 form used in WARC digests (expected
 * values computed independently with Python's hashlib and base64).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "tap.h"
#include "util.h"

#define SHA_EMPTY \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC \
	"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_MILLION_A \
	"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
/* base64.b32encode(hashlib.sha256(b"abc").digest()).rstrip("=") */
#define B32_ABC		"XJ4BNP4PAHH6UQKBIDPF3LRCEOYAGYNDSYLXVHFUCD7WD4QACWWQ"
#define B32_EMPTY	"4OYMIQUY7QOBJGX36TEJS35ZEQT24QPEMSNZGTFESWMRW6CSXBKQ"

static void
test_sha256(void)
{
	unsigned char md[HASH_LEN];
	char hex[HASH_HEX_LEN];
	char *a;

	hash_sha256_hex("", 0, hex);
	is_str(hex, SHA_EMPTY, "sha256(\"\")");
	hash_sha256_hex("abc", 3, hex);
	is_str(hex, SHA_ABC, "sha256(\"abc\")");
	hash_sha256("abc", 3, md);
	util_hex(md, HASH_LEN, hex);
	is_str(hex, SHA_ABC, "sha256 raw bytes agree with the hex form");
	is_int(strlen(hex), HASH_HEX_LEN - 1, "hex is 64 characters");

	a = malloc(1000000);
	memset(a, 'a', 1000000);
	hash_sha256_hex(a, 1000000, hex);
	is_str(hex, SHA_MILLION_A, "sha256 of a million 'a'");
	free(a);
}

static void
test_incremental(void)
{
	unsigned char one[HASH_LEN], inc[HASH_LEN];
	struct hash_ctx h;
	unsigned char data[300];
	char hex[HASH_HEX_LEN];
	size_t i, split, bad = 0;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 3);
	hash_sha256(data, sizeof(data), one);
	for (split = 0; split <= sizeof(data); split++) {
		hash_init(&h);
		hash_update(&h, data, split);
		hash_update(&h, data + split, sizeof(data) - split);
		hash_final(&h, inc);
		if (memcmp(one, inc, HASH_LEN) != 0)
			bad++;
	}
	is_int(bad, 0, "incremental == one-shot at all %zu splits",
	    sizeof(data) + 1);

	hash_init(&h);
	for (i = 0; i < sizeof(data); i++)
		hash_update(&h, data + i, 1);
	hash_final(&h, inc);
	ok(memcmp(one, inc, HASH_LEN) == 0, "incremental byte by byte");
	ok(h.md == NULL, "final releases the context");

	hash_init(&h);
	hash_final(&h, inc);
	util_hex(inc, HASH_LEN, hex);
	is_str(hex, SHA_EMPTY, "incremental with no update is sha256(\"\")");

	hash_init(&h);
	hash_update(&h, "a", 1);
	hash_update(&h, "", 0);
	hash_update(&h, "bc", 2);
	hash_final(&h, inc);
	util_hex(inc, HASH_LEN, hex);
	is_str(hex, SHA_ABC, "incremental \"a\" + \"\" + \"bc\"");
}

static void
test_hmac(void)
{
	char hex[HASH_HEX_LEN];

	hash_hmac_sha256_hex("example-app-secret", "EAAB-example-page-token",
	    hex);
	is_str(hex, "3cc937fd2e866b797cb326e58ec9ccce"
	    "8d5b5f9024d7d5997735f91b3754480c", "appsecret_proof vector");
	/* RFC 4231 test case 2. */
	hash_hmac_sha256_hex("Jefe", "what do ya want for nothing?", hex);
	is_str(hex, "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843", "RFC 4231 case 2");
	hash_hmac_sha256_hex("EAAB-example-page-token", "example-app-secret",
	    hex);
	ok(strcmp(hex, "3cc937fd2e866b797cb326e58ec9ccce"
	    "8d5b5f9024d7d5997735f91b3754480c") != 0,
	    "key and message are not interchangeable");
}

static void
test_base32(void)
{
	unsigned char md[HASH_LEN];
	char b32[HASH_B32_LEN + 8];
	size_t i;
	int alpha = 1;

	memset(b32, 'x', sizeof(b32));
	hash_sha256("abc", 3, md);
	hash_base32(md, b32);
	is_str(b32, B32_ABC, "base32 of sha256(\"abc\")");
	is_int(strlen(b32), HASH_B32_LEN - 1, "base32 is 52 characters");
	hash_sha256("", 0, md);
	hash_base32(md, b32);
	is_str(b32, B32_EMPTY, "base32 of sha256(\"\")");

	memset(md, 0, sizeof(md));
	hash_base32(md, b32);
	for (i = 0; i < 52; i++)
		alpha &= b32[i] == 'A';
	ok(alpha && b32[52] == '\0', "base32 of zeros is 52 'A'");
	memset(md, 0xff, sizeof(md));
	hash_base32(md, b32);
	/* 256 bits = 51 full groups + 1 bit padded with zeros: '7'x51 'Q' */
	ok(strspn(b32, "7") == 51 && strcmp(b32 + 51, "Q") == 0,
	    "base32 of 0xff bytes: last group zero-padded ('%s')", b32);
}

int
main(void)
{
	test_sha256();
	test_incremental();
	test_hmac();
	test_base32();
	return tap_done();
}
