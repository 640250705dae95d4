/*
 * test_checkpoint.c - Ed25519 keys and signed checkpoints: keygen files
 * and modes, key loading rules, Go's published signed-note vectors
 * (golang.org/x/mod/sumdb/note note_test.go: the PeterNeumann key, its
 * signature and Go's malformed notes), a fixed checkpoint note whose
 * expected text was computed independently with Python's cryptography
 * package, the strict body rules, and that no single-byte change, bit
 * flip, deletion, insertion or truncation of a signed note is accepted.
 * Every parse of a changed note reads from a heap copy of exactly its
 * length, so a sanitizer build catches any read past the end.
 *
 * Also a helper for tests/e2e/test_keygen.py, which checks notes signed
 * here with the openssl CLI and notes signed there with this parser:
 *	test_checkpoint sign KEYFILE NAME ORIGIN SIZE ROOTHEX TIME
 *	test_checkpoint verify VERIFIER < NOTE
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "checkpoint.h"
#include "sysio.h"
#include "tap.h"
#include "util.h"

/* Go's vectors (note_test.go). */
#define GO_VKEY		"PeterNeumann+c74f20a3+" \
			"ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define GO_ENOCH_VKEY	"EnochRoot+af0cfe78+" \
			"ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
/* The seed of "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEK...KDFz" as PKCS#8. */
#define GO_PEM		"-----BEGIN PRIVATE KEY-----\n" \
	"MC4CAQAwBQYDK2VwBCIEIIEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n" \
	"-----END PRIVATE KEY-----\n"
#define GO_TEXT		"If you think cryptography is the answer to your " \
			"problem,\nthen you don't know what your problem is.\n"
#define GO_PETER_SIG	"\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/Sffcv" \
	"IAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6Ryy" \
	"BwJnAM=\n"
#define GO_ENOCH_SIG	"\xe2\x80\x94 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDck" \
	"ykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+" \
	"QQ=\n"

/*
 * A fixed key (seed 00 01 .. 1f) named "sunarchive-test" and the note
 * it makes of FIXED_* below, from Python:
 *   k = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
 *   body = b"city.example.gov/sunarchive\n1234567\n" +
 *       base64.b64encode(bytes(range(0xa0, 0xc0))) +
 *       b"\ntime 2026-11-22T02:12:00Z\n"
 *   h = sha256(b"sunarchive-test\n\x01" + pub)[:4]
 *   note = body + b"\n\xe2\x80\x94 sunarchive-test " +
 *       base64.b64encode(h + k.sign(body)) + b"\n"
 */
#define FIX_PEM		"-----BEGIN PRIVATE KEY-----\n" \
	"MC4CAQAwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f\n" \
	"-----END PRIVATE KEY-----\n"
#define FIX_NAME	"sunarchive-test"
#define FIX_VKEY	"sunarchive-test+be4701e9+" \
			"AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
#define FIX_ORIGIN	"city.example.gov/sunarchive"
#define FIX_SIZE	1234567
#define FIX_TIME	1795313520	/* 2026-11-22T02:12:00Z */
#define FIX_BODY	"city.example.gov/sunarchive\n" \
			"1234567\n" \
			"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8=\n" \
			"time 2026-11-22T02:12:00Z\n"
#define FIX_NOTE	FIX_BODY "\n" \
	"\xe2\x80\x94 sunarchive-test vkcB6b/NPkpDf1qXbgqVMMub2TzcuqXcV98omx8" \
	"Qp7IUXdoyO9VAYT74jrF8szMC2k2N10fSGPb9YEvOz9bjKmcR0gY=\n"

#define EM_DASH		"\xe2\x80\x94 "

static char tmpdir[] = "/tmp/sunarchive-checkpoint-XXXXXX";

/* tmpdir/name in a rotating static buffer. */
static const char *
tpath(const char *name)
{
	static char bufs[4][PATH_MAX];
	static int n;
	char *b = bufs[n++ % 4];

	snprintf(b, PATH_MAX, "%s/%s", tmpdir, name);
	return b;
}

static void
write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n || fchmod(fd, mode) < 0) {
		perror(path);
		exit(2);
	}
	close(fd);
}

/* The file's contents as a new string (NULL if unreadable). */
static char *
read_file(const char *path)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *fp = fopen(path, "re");

	if (fp == NULL)
		return NULL;
	buf = calloc(1, 1 << 16);
	if (buf != NULL)
		n = fread(buf, 1, (1 << 16) - 1, fp);
	fclose(fp);
	if (buf != NULL)
		buf[n] = '\0';
	return buf;
}

static int
mode_of(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return -1;
	return (int)(st.st_mode & 07777);
}

/* The number of entries in tmpdir (., .. excluded). */
static int
dir_entries(void)
{
	struct dirent *de;
	DIR *d = opendir(tmpdir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
clean_dir(void)
{
	struct dirent *de;
	DIR *d = opendir(tmpdir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			unlink(tpath(de->d_name));
	closedir(d);
}

static struct checkpoint_key *
load_pem(const char *pem, const char *name)
{
	struct checkpoint_key *key = NULL;
	char err[256];

	write_file(tpath("fixed.pem"), pem, strlen(pem), 0600);
	if (checkpoint_key_load(tpath("fixed.pem"), name, &key, err,
	    sizeof(err)) < 0) {
		printf("# %s\n", err);
		return NULL;
	}
	return key;
}

static struct checkpoint_verifier *
verifier(const char *text)
{
	struct checkpoint_verifier *v = NULL;
	char err[256];

	if (checkpoint_verifier_load(text, &v, err, sizeof(err)) < 0)
		printf("# %s\n", err);
	return v;
}

/* Parse n bytes from a heap copy of exactly n bytes. */
static int
parse_exact(const char *p, size_t n, const struct checkpoint_verifier *v,
    struct checkpoint *cp)
{
	char *copy = malloc(n ? n : 1);
	int r;

	memcpy(copy, p, n);
	r = checkpoint_parse_note(copy, n, v, cp);
	free(copy);
	return r;
}

static int
open_str(const char *note, const struct checkpoint_verifier *v)
{
	size_t textlen;

	return checkpoint_note_open(note, strlen(note), v, &textlen);
}

static void
test_keygen(void)
{
	char k[PATH_MAX], pub[PATH_MAX];
	char *pem, *vk, *pem2, *vk2, hexhash[9];
	const char *p;
	mode_t old;
	int r;

	snprintf(k, sizeof(k), "%s", tpath("k"));
	snprintf(pub, sizeof(pub), "%s", tpath("k.pub"));
	clean_dir();
	is_int(checkpoint_keygen(k, FIX_NAME), 0, "keygen");
	is_int(mode_of(k), 0600, "private key mode 0600");
	is_int(mode_of(pub), 0644, "verifier key mode 0644");
	is_int(dir_entries(), 2, "no temporary files left");
	pem = read_file(k);
	vk = read_file(pub);
	ok(pem != NULL && strncmp(pem, "-----BEGIN PRIVATE KEY-----\n",
	    28) == 0 && strstr(pem, "-----END PRIVATE KEY-----\n") != NULL,
	    "private key is a PKCS#8 PEM");
	p = vk != NULL ? vk : "";
	ok(strncmp(p, FIX_NAME "+", strlen(FIX_NAME) + 1) == 0 &&
	    strlen(p) == strlen(FIX_NAME) + 1 + 8 + 1 + 44 + 1 &&
	    p[strlen(FIX_NAME) + 9] == '+' && p[strlen(p) - 1] == '\n',
	    "verifier key is NAME+HASH+BASE64 and a newline");
	snprintf(hexhash, sizeof(hexhash), "%.8s", p + strlen(FIX_NAME) + 1);
	ok(strspn(hexhash, "0123456789abcdef") == 8,
	    "key hash is 8 lower-case hex digits");
	ok(strncmp(p + strlen(FIX_NAME) + 10, "A", 1) == 0,
	    "verifier key starts with algorithm byte 0x01");

	is_int(checkpoint_keygen(k, FIX_NAME), -EEXIST,
	    "keygen refuses to overwrite");
	pem2 = read_file(k);
	vk2 = read_file(pub);
	ok(pem2 && vk2 && strcmp(pem, pem2) == 0 && strcmp(vk, vk2) == 0,
	    "existing key untouched");
	free(pem2);
	free(vk2);
	unlink(k);
	is_int(checkpoint_keygen(k, FIX_NAME), -EEXIST,
	    "keygen refuses when only NAME.pub exists");
	ok(mode_of(k) == -1, "... and leaves no private key behind");
	vk2 = read_file(pub);
	ok(vk2 != NULL && strcmp(vk, vk2) == 0, "... nor changes the .pub");
	free(vk2);
	free(pem);
	free(vk);

	clean_dir();
	is_int(checkpoint_keygen(k, ""), -EINVAL, "empty name rejected");
	is_int(checkpoint_keygen(k, "a b"), -EINVAL, "name with space");
	is_int(checkpoint_keygen(k, "a+b"), -EINVAL, "name with plus");
	is_int(checkpoint_keygen(k, "a\nb"), -EINVAL, "name with newline");
	is_int(checkpoint_keygen(k, "a\xc2\xa0" "b"), -EINVAL,
	    "name with U+00A0 no-break space");
	is_int(checkpoint_keygen(k, "a\xe3\x80\x80" "b"), -EINVAL,
	    "name with U+3000 ideographic space");
	is_int(checkpoint_keygen(k, "a\xff"), -EINVAL, "name not UTF-8");
	is_int(dir_entries(), 0, "rejected names create nothing");
	is_int(checkpoint_keygen(tpath("missing/k"), FIX_NAME), -ENOENT,
	    "missing directory: -ENOENT");
	is_int(checkpoint_keygen(k, "stadt.example/\xc3\xa4rchiv"), 0,
	    "UTF-8 name accepted");

	/* A strict umask must not make the public key private. */
	clean_dir();
	old = umask(077);
	r = checkpoint_keygen(k, FIX_NAME);
	umask(old);
	is_int(r, 0, "keygen under umask 077");
	is_int(mode_of(pub), 0644, "... .pub still 0644");
	is_int(mode_of(k), 0600, "... key still 0600");

	/* Failures remove what keygen created (sysio fault injection). */
	clean_dir();
	setenv("SUNARCHIVE_TEST_FAULTS", "rename:2:eio", 1);
	sysio_init();
	r = checkpoint_keygen(k, FIX_NAME);
	unsetenv("SUNARCHIVE_TEST_FAULTS");
	sysio_init();
	is_int(r, -EIO, "failed rename of the .pub: -EIO");
	is_int(dir_entries(), 0, "... and both files removed");
	setenv("SUNARCHIVE_TEST_FAULTS", "fsync:1:eio", 1);
	sysio_init();
	r = checkpoint_keygen(k, FIX_NAME);
	unsetenv("SUNARCHIVE_TEST_FAULTS");
	sysio_init();
	is_int(r, -EIO, "failed fsync of the key: -EIO");
	is_int(dir_entries(), 0, "... and nothing left");
}

static void
test_key_load(void)
{
	char k[PATH_MAX], pub[PATH_MAX];
	struct checkpoint_key *key = NULL;
	char err[512], *vk, *text = NULL, cwd[PATH_MAX], big[20000];
	EVP_PKEY *ec;
	BIO *bio;
	char *data;
	long n;

	snprintf(k, sizeof(k), "%s", tpath("k"));
	snprintf(pub, sizeof(pub), "%s", tpath("k.pub"));
	clean_dir();
	checkpoint_keygen(k, FIX_NAME);
	is_int(checkpoint_key_load(k, FIX_NAME, &key, err, sizeof(err)), 0,
	    "load the new key");
	vk = read_file(pub);
	if (key != NULL && checkpoint_key_verifier(key, &text) == 0 &&
	    vk != NULL)
		vk[strcspn(vk, "\n")] = '\0';
	is_str(text, vk, "its verifier text matches the .pub");
	free(text);
	free(vk);
	checkpoint_key_free(key);
	checkpoint_key_free(NULL);

	chmod(k, 0640);
	key = NULL;
	err[0] = '\0';
	is_int(checkpoint_key_load(k, FIX_NAME, &key, err, sizeof(err)),
	    -EPERM, "group-readable key rejected");
	ok(key == NULL, "... *ret_key untouched");
	ok(strstr(err, "0640") != NULL && strstr(err, "chmod 600") != NULL &&
	    strstr(err, k) != NULL, "... message names file, mode, fix: %s",
	    err);
	chmod(k, 0604);
	is_int(checkpoint_key_load(k, FIX_NAME, &key, err, sizeof(err)),
	    -EPERM, "other-readable key rejected");
	chmod(k, 0620);
	is_int(checkpoint_key_load(k, FIX_NAME, &key, err, sizeof(err)),
	    -EPERM, "group-writable key rejected");
	chmod(k, 0400);
	is_int(checkpoint_key_load(k, FIX_NAME, &key, err, sizeof(err)), 0,
	    "mode 0400 accepted");
	checkpoint_key_free(key);
	key = NULL;
	chmod(k, 0600);

	is_int(checkpoint_key_load(k, "a b", &key, err, sizeof(err)), -EINVAL,
	    "invalid name rejected");
	is_int(checkpoint_key_load(tpath("nope"), FIX_NAME, &key, err,
	    sizeof(err)), -ENOENT, "missing file: -ENOENT");
	ok(strstr(err, "nope") != NULL, "... message names it: %s", err);
	ok(symlink(k, tpath("link")) == 0, "symlink");
	is_int(checkpoint_key_load(tpath("link"), FIX_NAME, &key, err,
	    sizeof(err)), -ELOOP, "symbolic link rejected");
	mkdir(tpath("dir"), 0700);
	is_int(checkpoint_key_load(tpath("dir"), FIX_NAME, &key, err,
	    sizeof(err)), -EINVAL, "directory rejected");
	rmdir(tpath("dir"));
	write_file(tpath("junk"), "hello\n", 6, 0600);
	is_int(checkpoint_key_load(tpath("junk"), FIX_NAME, &key, err,
	    sizeof(err)), -EINVAL, "not PEM rejected");
	memset(big, 'A', sizeof(big));
	write_file(tpath("big"), big, sizeof(big), 0600);
	is_int(checkpoint_key_load(tpath("big"), FIX_NAME, &key, err,
	    sizeof(err)), -EFBIG, "oversized file rejected");
	is_int(checkpoint_key_load(k, FIX_NAME, &key, NULL, 0), 0,
	    "err buffer may be NULL");
	checkpoint_key_free(key);
	key = NULL;

	/* An EC key and an encrypted Ed25519 key. */
	ec = EVP_EC_gen("P-256");
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PKCS8PrivateKey(bio, ec, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(bio, &data);
	write_file(tpath("ec"), data, (size_t)n, 0600);
	BIO_free(bio);
	EVP_PKEY_free(ec);
	is_int(checkpoint_key_load(tpath("ec"), FIX_NAME, &key, err,
	    sizeof(err)), -EINVAL, "EC key rejected");
	ok(strstr(err, "Ed25519") != NULL, "... as not Ed25519: %s", err);
	bio = BIO_new_mem_buf(FIX_PEM, -1);
	ec = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PKCS8PrivateKey(bio, ec, EVP_aes_256_cbc(), NULL, 0,
	    NULL, (void *)"secret");
	n = BIO_get_mem_data(bio, &data);
	write_file(tpath("enc"), data, (size_t)n, 0600);
	BIO_free(bio);
	EVP_PKEY_free(ec);
	is_int(checkpoint_key_load(tpath("enc"), FIX_NAME, &key, err,
	    sizeof(err)), -EINVAL, "encrypted key rejected without a prompt");

	/* Relative names: $CREDENTIALS_DIRECTORY, else the working dir. */
	setenv("CREDENTIALS_DIRECTORY", tmpdir, 1);
	is_int(checkpoint_key_load("k", FIX_NAME, &key, err, sizeof(err)), 0,
	    "relative path found in $CREDENTIALS_DIRECTORY");
	checkpoint_key_free(key);
	key = NULL;
	is_int(checkpoint_key_load("missing", FIX_NAME, &key, err,
	    sizeof(err)), -ENOENT, "... and only there");
	ok(strstr(err, tmpdir) != NULL, "... message has the full path: %s",
	    err);
	unsetenv("CREDENTIALS_DIRECTORY");
	if (getcwd(cwd, sizeof(cwd)) != NULL && chdir(tmpdir) == 0) {
		is_int(checkpoint_key_load("k", FIX_NAME, &key, err,
		    sizeof(err)), 0, "relative path without it: working dir");
		checkpoint_key_free(key);
		key = NULL;
		if (chdir(cwd) != 0)
			perror(cwd);
	} else {
		ok(0, "chdir");
	}
}

static void
test_verifier(void)
{
	struct checkpoint_verifier *v = NULL;
	char err[512], buf[128], sub[128];
	size_t i, j, n = strlen(GO_VKEY), bad = 0, tried = 0;

	clean_dir();
	checkpoint_keygen(tpath("k"), FIX_NAME);
	is_int(checkpoint_verifier_load(tpath("k.pub"), &v, err, sizeof(err)),
	    0, "verifier from the .pub file");
	checkpoint_verifier_free(v);
	v = NULL;
	is_int(checkpoint_verifier_load(GO_VKEY, &v, err, sizeof(err)), 0,
	    "verifier from Go's PeterNeumann key text");
	checkpoint_verifier_free(v);
	v = NULL;
	write_file(tpath("go.pub"), GO_VKEY "\r\n", strlen(GO_VKEY) + 2, 0644);
	is_int(checkpoint_verifier_load(tpath("go.pub"), &v, err,
	    sizeof(err)), 0, "verifier file with CRLF");
	checkpoint_verifier_free(v);
	v = NULL;
	checkpoint_verifier_free(NULL);
	write_file(tpath("two.pub"), GO_VKEY "\n" GO_VKEY "\n",
	    2 * strlen(GO_VKEY) + 2, 0644);
	is_int(checkpoint_verifier_load(tpath("two.pub"), &v, err,
	    sizeof(err)), -EINVAL, "two lines rejected");
	is_int(checkpoint_verifier_load(tpath("k"), &v, err, sizeof(err)),
	    -EINVAL, "a private key is not a verifier key");
	ok(strstr(err, "NAME+HASH+KEY") != NULL, "... says what it wants: %s",
	    err);
	is_int(checkpoint_verifier_load("x+12345678+AAAA", &v, err,
	    sizeof(err)), -EINVAL, "garbage key text rejected");
	ok(strstr(err, "neither") != NULL, "... message: %s", err);

	/* Go's TestNewVerifier manglings: every substring, every byte + 1. */
	for (i = 0; i <= n; i++) {
		for (j = i + 1; j <= n; j++) {
			if (i == 0 && j == n)
				continue;
			snprintf(sub, sizeof(sub), "%.*s", (int)(j - i),
			    GO_VKEY + i);
			tried++;
			if (checkpoint_verifier_load(sub, &v, NULL, 0) == 0) {
				bad++;
				checkpoint_verifier_free(v);
			}
		}
	}
	snprintf(buf, sizeof(buf), "%s", GO_VKEY);
	for (i = 0; i < n; i++) {
		buf[i]++;
		tried++;
		if (checkpoint_verifier_load(buf, &v, NULL, 0) == 0) {
			bad++;
			checkpoint_verifier_free(v);
		}
		buf[i]--;
	}
	is_int(bad, 0, "all %zu manglings of Go's verifier key rejected",
	    tried);
	is_int(checkpoint_verifier_load("PeterNeumann+cc469956+ARpc2QcUPDhMQe"
	    "gwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", &v, NULL, 0), -EINVAL,
	    "wrong key length (Go vector)");
	is_int(checkpoint_verifier_load("PeterNeumann+173116ae+ZRpc2QcUPDhMQe"
	    "gwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v, NULL, 0), -EINVAL,
	    "unknown algorithm (Go vector)");
	is_int(checkpoint_verifier_load("PeterNeumann+C74F20A3+ARpc2QcUPDhMQe"
	    "gwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v, NULL, 0), 0,
	    "upper-case hex key hash accepted (as Go)");
	checkpoint_verifier_free(v);
}

static void
test_go_vectors(void)
{
	static const char *bad_msgs[] = {
		GO_TEXT,
		GO_TEXT "\n",
		GO_TEXT "\n" "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/Sffcv"
		    "IAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpR"
		    "Zb6KE6RyyBwJnAM=",
		"\x01" GO_TEXT "\n" GO_PETER_SIG,
		"\xff" GO_TEXT "\n" GO_PETER_SIG,
		GO_TEXT "\n" "\xe2\x80\x94 Bad Name x08go/ZJkuBS9UG/SffcvIAQx"
		    "VBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6K"
		    "E6RyyBwJnAM=",
		GO_TEXT "\n" GO_PETER_SIG "Unexpected line.\n",
	};
	struct checkpoint_verifier *peter, *enoch;
	struct checkpoint_key *key;
	char *note = NULL, *text = NULL, *many, *p, abcd[1024];
	size_t i, textlen = 0, bad = 0;
	int r;

	key = load_pem(GO_PEM, "PeterNeumann");
	peter = verifier(GO_VKEY);
	enoch = verifier(GO_ENOCH_VKEY);
	ok(key != NULL && peter != NULL && enoch != NULL, "Go keys load");
	if (key == NULL || peter == NULL || enoch == NULL)
		return;
	checkpoint_key_verifier(key, &text);
	is_str(text, GO_VKEY, "key hash and verifier text as Go computes");
	free(text);
	is_int(checkpoint_note_sign(key, GO_TEXT, strlen(GO_TEXT), &note), 0,
	    "sign Go's text");
	is_str(note, GO_TEXT "\n" GO_PETER_SIG,
	    "signed note is byte for byte Go's TestSign output");
	free(note);
	is_int(checkpoint_note_sign(key, "abc", 3, &note), -EINVAL,
	    "sign text without final newline: -EINVAL (as Go)");
	is_int(checkpoint_note_sign(key, "a\tb\n", 4, &note), -EINVAL,
	    "sign text with a control character: -EINVAL");

	is_int(checkpoint_note_open(GO_TEXT "\n" GO_PETER_SIG,
	    strlen(GO_TEXT "\n" GO_PETER_SIG), peter, &textlen), 0,
	    "open Go's note");
	is_int(textlen, strlen(GO_TEXT), "... signed text length");
	is_int(open_str(GO_TEXT "\n" GO_PETER_SIG GO_ENOCH_SIG, peter), 0,
	    "peter verifies the doubly signed note (enoch unknown)");
	is_int(open_str(GO_TEXT "\n" GO_PETER_SIG GO_ENOCH_SIG, enoch), 0,
	    "enoch verifies it too (Go's co-signature vector)");
	is_int(open_str(GO_TEXT "\n" GO_ENOCH_SIG, peter), -EPERM,
	    "only enoch's signature: -EPERM for peter");
	is_int(open_str(GO_TEXT "\n" GO_PETER_SIG GO_PETER_SIG GO_ENOCH_SIG
	    GO_ENOCH_SIG, peter), 0, "repeated signatures accepted");

	for (i = 0; i < sizeof(bad_msgs) / sizeof(bad_msgs[0]); i++) {
		r = open_str(bad_msgs[i], peter);
		if (r != -EBADMSG) {
			printf("# bad msg %zu: %d\n", i, r);
			bad++;
		}
	}
	is_int(bad, 0, "Go's %zu malformed notes are -EBADMSG",
	    sizeof(bad_msgs) / sizeof(bad_msgs[0]));

	many = malloc(strlen(GO_TEXT) + 1 + 101 * strlen(GO_PETER_SIG) + 1);
	p = many + snprintf(many, strlen(GO_TEXT) + 2, "%s\n", GO_TEXT);
	for (i = 0; i < 101; i++)
		p += snprintf(p, strlen(GO_PETER_SIG) + 1, "%s", GO_PETER_SIG);
	is_int(open_str(many, peter), -EBADMSG, "101 signatures: -EBADMSG");
	p[-(int)strlen(GO_PETER_SIG)] = '\0';
	is_int(open_str(many, peter), 0, "100 signatures accepted");
	free(many);

	/* Go: "ABCD" inserted into the signature is an invalid signature. */
	snprintf(abcd, sizeof(abcd), "%s\n%.60sABCD%s", GO_TEXT, GO_PETER_SIG,
	    GO_PETER_SIG + 60);
	is_int(open_str(abcd, peter), -EPERM, "Go's invalid signature: -EPERM");
	snprintf(abcd, sizeof(abcd), "%s\n%s%.60sABCD%s", GO_TEXT,
	    GO_PETER_SIG, GO_PETER_SIG, GO_PETER_SIG + 60);
	is_int(open_str(abcd, peter), -EPERM,
	    "a bad line by the same key beside a good one: -EPERM");
	snprintf(abcd, sizeof(abcd), "%s\n%s%s%s%.60sABCD%s", GO_TEXT,
	    GO_PETER_SIG, GO_PETER_SIG, GO_ENOCH_SIG, GO_ENOCH_SIG,
	    GO_ENOCH_SIG + 60);
	is_int(open_str(abcd, peter), 0,
	    "a bad line by an unknown key is ignored (Go vector)");
	is_int(open_str(GO_TEXT "\n" GO_PETER_SIG, NULL), -EBADMSG,
	    "NULL verifier: -EBADMSG");

	checkpoint_key_free(key);
	checkpoint_verifier_free(peter);
	checkpoint_verifier_free(enoch);
}

static struct checkpoint
fixed_cp(void)
{
	struct checkpoint cp;
	int i;

	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", FIX_ORIGIN);
	cp.size = FIX_SIZE;
	for (i = 0; i < CHECKPOINT_HASH_LEN; i++)
		cp.root[i] = (uint8_t)(0xa0 + i);
	cp.time = FIX_TIME;
	return cp;
}

static int
cp_equal(const struct checkpoint *a, const struct checkpoint *b)
{
	return strcmp(a->origin, b->origin) == 0 && a->size == b->size &&
	    memcmp(a->root, b->root, CHECKPOINT_HASH_LEN) == 0 &&
	    a->time == b->time;
}

static void
test_fixed(void)
{
	struct checkpoint cp = fixed_cp(), got;
	struct checkpoint_key *key;
	struct checkpoint_verifier *v;
	char *note = NULL, *text = NULL;

	key = load_pem(FIX_PEM, FIX_NAME);
	v = verifier(FIX_VKEY);
	ok(key != NULL && v != NULL, "fixed key loads");
	if (key == NULL || v == NULL)
		return;
	checkpoint_key_verifier(key, &text);
	is_str(text, FIX_VKEY, "fixed key's verifier text (from Python)");
	free(text);
	is_int(checkpoint_format_note(&cp, key, &note), 0, "format note");
	ok(note != NULL && strncmp(note, FIX_BODY "\n",
	    strlen(FIX_BODY) + 1) == 0, "body is exactly the documented form");
	is_str(note, FIX_NOTE, "whole note matches Python's, signature too");
	memset(&got, 0, sizeof(got));
	is_int(checkpoint_parse_note(FIX_NOTE, strlen(FIX_NOTE), v, &got), 0,
	    "parse the fixed note");
	ok(cp_equal(&cp, &got), "... fields round-trip");
	free(note);
	checkpoint_key_free(key);
	checkpoint_verifier_free(v);
}

static void
test_round_trip(void)
{
	struct checkpoint_key *key = NULL;
	struct checkpoint_verifier *v = NULL;
	struct checkpoint cp, got, cases[6];
	char *note = NULL;
	size_t i, bad = 0;

	clean_dir();
	checkpoint_keygen(tpath("k"), FIX_NAME);
	checkpoint_key_load(tpath("k"), FIX_NAME, &key, NULL, 0);
	checkpoint_verifier_load(tpath("k.pub"), &v, NULL, 0);
	ok(key != NULL && v != NULL, "generated key and verifier load");
	if (key == NULL || v == NULL)
		return;

	for (i = 0; i < 6; i++) {
		cases[i] = fixed_cp();
		memset(cases[i].root, (int)(i * 0x33), CHECKPOINT_HASH_LEN);
	}
	cases[0].size = 0;
	cases[0].time = 0;
	cases[1].size = UINT64_MAX;
	cases[1].time = 253402300799LL;		/* 9999-12-31T23:59:59Z */
	cases[2].size = 1;
	cases[2].time = util_now();
	memset(cases[3].origin, 'o', CHECKPOINT_ORIGIN_MAX - 1);
	cases[3].origin[CHECKPOINT_ORIGIN_MAX - 1] = '\0';
	snprintf(cases[4].origin, sizeof(cases[4].origin),
	    "stadt.example/\xc3\xa4rchiv");
	cases[5].time = 951782400;		/* 2000-02-29 */
	for (i = 0; i < 6; i++) {
		note = NULL;
		memset(&got, 0, sizeof(got));
		if (checkpoint_format_note(&cases[i], key, &note) != 0 ||
		    parse_exact(note, strlen(note), v, &got) != 0 ||
		    !cp_equal(&cases[i], &got)) {
			printf("# case %zu failed\n", i);
			bad++;
		}
		free(note);
	}
	is_int(bad, 0, "sign -> parse round trip of 6 edge cases "
	    "(size 0 and 2^64-1, times 1970 and 9999, 255-byte origin, UTF-8)");

	cp = fixed_cp();
	cp.origin[0] = '\0';
	is_int(checkpoint_format_note(&cp, key, &note), -EINVAL,
	    "format: empty origin");
	snprintf(cp.origin, sizeof(cp.origin), "a b");
	is_int(checkpoint_format_note(&cp, key, &note), -EINVAL,
	    "format: origin with space");
	snprintf(cp.origin, sizeof(cp.origin), "a\nb");
	is_int(checkpoint_format_note(&cp, key, &note), -EINVAL,
	    "format: origin with newline");
	memset(cp.origin, 'a', sizeof(cp.origin));
	is_int(checkpoint_format_note(&cp, key, &note), -EINVAL,
	    "format: origin not terminated");
	cp = fixed_cp();
	cp.time = -1;
	is_int(checkpoint_format_note(&cp, key, &note), -EINVAL,
	    "format: time before 1970");
	cp.time = 253402300800LL;
	is_int(checkpoint_format_note(&cp, key, &note), -EINVAL,
	    "format: time after 9999");
	checkpoint_key_free(key);
	checkpoint_verifier_free(v);
}

/* Bodies with valid signatures: only well-formed ones may parse. */
static void
test_strict_body(void)
{
#define R	"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8=\n"
#define T	"time 2026-11-22T02:12:00Z\n"
	static const struct {
		const char	*body;
		int		 bad;
		const char	*what;
	} cases[] = {
		{ "o\n1\n" R T, 0, "control" },
		{ "o\n0\n" R T, 0, "size 0" },
		{ "o\n012\n" R T, 1, "leading zero" },
		{ "o\n00\n" R T, 1, "two zeros" },
		{ "o\n+12\n" R T, 1, "plus sign" },
		{ "o\n-1\n" R T, 1, "negative" },
		{ "o\n\n" R T, 1, "empty size" },
		{ "o\n18446744073709551616\n" R T, 1, "2^64" },
		{ "o\n1 \n" R T, 1, "trailing space" },
		{ "o\n0x10\n" R T, 1, "hex" },
		{ "o\n1\n" "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vg==\n" T,
		    1, "root 31 bytes" },
		{ "o\n1\n" "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr/A\n" T,
		    1, "root 33 bytes" },
		{ "o\n1\n" "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr9=\n" T,
		    1, "root trailing bits" },
		{ "o\n1\n" "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8\n" T,
		    1, "root unpadded" },
		{ "o\n1\n" "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8= \n" T,
		    1, "root trailing space" },
		{ "o\n1\n" " oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8=\n" T,
		    1, "root leading space" },
		{ "o\n1\n" "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8-\n" T,
		    1, "root base64url" },
		{ "o\n1\n" R "time 2026-11-22T02:12:00+00:00\n",
		    1, "time offset" },
		{ "o\n1\n" R "time 2026-11-22T02:12:00.0Z\n",
		    1, "time fraction" },
		{ "o\n1\n" R "time 2026-11-22t02:12:00z\n",
		    1, "time lower case" },
		{ "o\n1\n" R "time 2026-11-22 02:12:00Z\n", 1, "time space" },
		{ "o\n1\n" R "time 2026-02-30T02:12:00Z\n", 1, "Feb 30" },
		{ "o\n1\n" R "time 2026-11-22T23:59:60Z\n", 1, "leap second" },
		{ "o\n1\n" R "time  2026-11-22T02:12:00Z\n", 1, "two spaces" },
		{ "o\n1\n" R "Time 2026-11-22T02:12:00Z\n", 1, "Time" },
		{ "o\n1\n" R "time 1969-12-31T23:59:59Z\n", 1, "before 1970" },
		{ "o\n1\n" R "time 2026-11-22\n", 1, "date only" },
		{ "o\n1\n" R, 1, "no time line" },
		{ "o\n1\n" R T "extra\n", 1, "extra line" },
		{ "o\n1\n" R T "\n", 1, "extra blank line" },
		{ "o\n1\n" T R, 1, "lines swapped" },
		{ "\n1\n" R T, 1, "empty origin" },
		{ "1\n" R T, 1, "no origin" },
		{ "o o\n1\n" R T, 1, "origin with space" },
		{ "o+o\n1\n" R T, 1, "origin with plus" },
		{ "o\x7f\n1\n" R T, 1, "origin with DEL" },
	};
#undef R
#undef T
	struct checkpoint_key *key;
	struct checkpoint_verifier *v;
	struct checkpoint got;
	const size_t n = sizeof(cases) / sizeof(cases[0]);
	char *note;
	size_t i, bad = 0;
	int r;

	key = load_pem(FIX_PEM, FIX_NAME);
	v = verifier(FIX_VKEY);
	if (key == NULL || v == NULL) {
		ok(0, "fixed key loads");
		return;
	}
	for (i = 0; i < n; i++) {
		note = NULL;
		r = checkpoint_note_sign(key, cases[i].body,
		    strlen(cases[i].body), &note);
		if (r == 0)
			r = parse_exact(note, strlen(note), v, &got);
		if (r != (cases[i].bad ? -EBADMSG : 0)) {
			printf("# %s: got %d\n", cases[i].what, r);
			bad++;
		}
		free(note);
	}
	is_int(bad, 0, "%zu validly signed bodies: the malformed ones "
	    "-EBADMSG, the 2 well-formed accepted", n);
	checkpoint_key_free(key);
	checkpoint_verifier_free(v);
}

/* Counts of what the parser said about a set of changed notes. */
struct tally {
	size_t	tried, accepted, badmsg, perm, other;
};

static void
tally_parse(struct tally *t, const char *p, size_t n,
    const struct checkpoint_verifier *v)
{
	struct checkpoint got;
	int r = parse_exact(p, n, v, &got);

	t->tried++;
	if (r == 0)
		t->accepted++;
	else if (r == -EBADMSG)
		t->badmsg++;
	else if (r == -EPERM)
		t->perm++;
	else
		t->other++;
}

static void
tally_report(const struct tally *t, const char *what)
{
	ok(t->accepted == 0 && t->other == 0 && t->tried > 0,
	    "%s: %zu tried, none accepted (%zu -EBADMSG, %zu -EPERM, %zu "
	    "other)", what, t->tried, t->badmsg, t->perm, t->other);
}

static void
test_mutations(void)
{
	static const char ins[] = { 'a', '0', '=', ' ', '\n', '+', '\x80',
	    '\0' };
	struct checkpoint_verifier *v = verifier(FIX_VKEY);
	struct tally bytes = { 0 }, bits = { 0 }, trunc = { 0 }, del = { 0 },
	    insert = { 0 };
	const size_t n = strlen(FIX_NOTE);
	char *buf = malloc(n + 1);
	size_t i, j;
	int c, b;

	if (v == NULL) {
		ok(0, "verifier");
		return;
	}
	for (i = 0; i < n; i++) {
		memcpy(buf, FIX_NOTE, n);
		for (c = 0; c < 256; c++) {
			if (c == (unsigned char)FIX_NOTE[i])
				continue;
			buf[i] = (char)c;
			tally_parse(&bytes, buf, n, v);
		}
		for (b = 0; b < 8; b++) {
			memcpy(buf, FIX_NOTE, n);
			buf[i] = (char)(buf[i] ^ (1 << b));
			tally_parse(&bits, buf, n, v);
		}
		tally_parse(&trunc, FIX_NOTE, i, v);
		memcpy(buf, FIX_NOTE, i);
		memcpy(buf + i, FIX_NOTE + i + 1, n - i - 1);
		tally_parse(&del, buf, n - 1, v);
	}
	for (i = 0; i <= n; i++) {
		for (j = 0; j < sizeof(ins); j++) {
			memcpy(buf, FIX_NOTE, i);
			buf[i] = ins[j];
			memcpy(buf + i + 1, FIX_NOTE + i, n - i);
			tally_parse(&insert, buf, n + 1, v);
		}
	}
	tally_report(&bytes, "every single-byte change");
	tally_report(&bits, "every single-bit flip");
	tally_report(&trunc, "truncation at every length");
	tally_report(&del, "deletion of every byte");
	tally_report(&insert, "insertion of 8 bytes at every position");
	is_int(parse_exact(FIX_NOTE, n, v, &(struct checkpoint){ 0 }), 0,
	    "the unchanged note still parses");
	free(buf);
	checkpoint_verifier_free(v);
}

static void
test_other_keys(void)
{
	struct checkpoint cp = fixed_cp(), got;
	struct checkpoint_key *mine, *other_same_name, *other;
	struct checkpoint_verifier *v, *vother;
	char *n1 = NULL, *n2 = NULL;

	clean_dir();
	checkpoint_keygen(tpath("a"), FIX_NAME);
	checkpoint_keygen(tpath("b"), "someone-else");
	mine = load_pem(FIX_PEM, FIX_NAME);
	other_same_name = NULL;
	other = NULL;
	checkpoint_key_load(tpath("a"), FIX_NAME, &other_same_name, NULL, 0);
	checkpoint_key_load(tpath("b"), "someone-else", &other, NULL, 0);
	v = verifier(FIX_VKEY);
	vother = verifier(tpath("b.pub"));
	ok(mine && other_same_name && other && v && vother, "keys load");
	if (!(mine && other_same_name && other && v && vother))
		return;

	checkpoint_format_note(&cp, other_same_name, &n1);
	is_int(parse_exact(n1, strlen(n1), v, &got), -EPERM,
	    "another key with the same name: -EPERM");
	free(n1);
	checkpoint_format_note(&cp, other, &n1);
	is_int(parse_exact(n1, strlen(n1), v, &got), -EPERM,
	    "another key and name: -EPERM");
	is_int(parse_exact(FIX_NOTE, strlen(FIX_NOTE), vother, &got), -EPERM,
	    "our note checked against another verifier: -EPERM");

	/* n1 = other's note; append our line (same body) and theirs. */
	checkpoint_format_note(&cp, mine, &n2);
	{
		const char *ours = strstr(n2, "\n\n") + 2;
		const char *theirs = strstr(n1, "\n\n") + 2;
		char buf[2048], wsig[97];

		snprintf(buf, sizeof(buf), "%s%s", n2, theirs);
		is_int(parse_exact(buf, strlen(buf), v, &got), 0,
		    "an unknown co-signature after ours is accepted");
		ok(cp_equal(&cp, &got), "... with the right fields");
		snprintf(buf, sizeof(buf), "%.*s%s%s",
		    (int)(ours - n2), n2, theirs, ours);
		is_int(parse_exact(buf, strlen(buf), v, &got), 0,
		    "an unknown co-signature before ours is accepted");
		is_int(parse_exact(buf, strlen(buf), vother, &got), 0,
		    "... and the co-signer verifies it with its key");
		/* 72 bytes: a tlog-cosignature (hash, time, signature). */
		memset(wsig, 'A', 96);
		wsig[96] = '\0';
		snprintf(buf, sizeof(buf), "%s" EM_DASH "witness.example %s\n",
		    n2, wsig);
		is_int(parse_exact(buf, strlen(buf), v, &got), 0,
		    "a witness line with any signature bytes is accepted");
		snprintf(buf, sizeof(buf), "%s" EM_DASH "witness.example\n",
		    n2);
		is_int(parse_exact(buf, strlen(buf), v, &got), -EBADMSG,
		    "a malformed extra line is -EBADMSG");
		snprintf(buf, sizeof(buf), "%s" EM_DASH "w AAAA\n", n2);
		is_int(parse_exact(buf, strlen(buf), v, &got), -EBADMSG,
		    "an extra signature under 5 bytes is -EBADMSG");
		snprintf(buf, sizeof(buf), "%s%s", n2, ours);
		is_int(parse_exact(buf, strlen(buf), v, &got), 0,
		    "our line twice is accepted");
	}
	free(n1);
	free(n2);
	checkpoint_key_free(mine);
	checkpoint_key_free(other_same_name);
	checkpoint_key_free(other);
	checkpoint_verifier_free(v);
	checkpoint_verifier_free(vother);
}

static void
test_bounds(void)
{
	struct checkpoint_verifier *v = verifier(FIX_VKEY);
	struct checkpoint got;
	size_t base = strlen(FIX_NOTE), b64len, namelen, total;
	char *buf;
	int over;

	if (v == NULL) {
		ok(0, "verifier");
		return;
	}
	buf = malloc(CHECKPOINT_NOTE_MAX + 16);
	for (over = 0; over <= 1; over++) {
		/* FIX_NOTE + "— " NAME " " B64 "\n", exactly 64 KiB (+1). */
		b64len = (CHECKPOINT_NOTE_MAX - base - 4 - 1 - 1 - 1) / 4 * 4;
		namelen = CHECKPOINT_NOTE_MAX - base - 4 - 1 - 1 - b64len +
		    (size_t)over;
		memcpy(buf, FIX_NOTE, base);
		total = base;
		memcpy(buf + total, EM_DASH, 4);
		total += 4;
		memset(buf + total, 'w', namelen);
		total += namelen;
		buf[total++] = ' ';
		memset(buf + total, 'A', b64len);
		total += b64len;
		buf[total++] = '\n';
		is_int(total, CHECKPOINT_NOTE_MAX + over, "note of %zu bytes",
		    total);
		is_int(parse_exact(buf, total, v, &got), over ? -EBADMSG : 0,
		    "%s", over ? "over 64 KiB: -EBADMSG" :
		    "64 KiB exactly: accepted");
	}
	free(buf);

	is_int(parse_exact(FIX_NOTE, strlen(FIX_NOTE) + 1, v, &got), -EBADMSG,
	    "the terminating NUL counted in: -EBADMSG");
	is_int(checkpoint_parse_note(NULL, 0, v, &got), -EBADMSG,
	    "NULL text: -EBADMSG");
	is_int(checkpoint_parse_note(FIX_NOTE, strlen(FIX_NOTE), NULL, &got),
	    -EBADMSG, "NULL verifier: -EBADMSG");
	is_int(parse_exact("", 0, v, &got), -EBADMSG, "empty: -EBADMSG");
	is_int(parse_exact("\n\n", 2, v, &got), -EBADMSG, "blank: -EBADMSG");
	checkpoint_verifier_free(v);
}

/* xorshift64: deterministic noise. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
test_random(void)
{
	static const char *alphabet[] = { "\n", "\n\n", EM_DASH, " ", "+",
	    "=", "A", "0", "time ", FIX_NAME, "\xe2\x80", "\xc3", "\x7f",
	    "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8=" };
	struct checkpoint_verifier *v = verifier(FIX_VKEY);
	struct tally noise = { 0 }, multi = { 0 }, splice = { 0 };
	const size_t n = strlen(FIX_NOTE);
	char buf[1024];
	uint64_t s = 0x5eed5eed5eedULL;
	size_t i, k, len, pos;
	const char *a;

	if (v == NULL) {
		ok(0, "verifier");
		return;
	}
	for (i = 0; i < 20000; i++) {
		len = rnd(&s) % 300;
		for (k = 0; k < len; k++)
			buf[k] = (char)rnd(&s);
		tally_parse(&noise, buf, len, v);
	}
	for (i = 0; i < 20000; i++) {
		memcpy(buf, FIX_NOTE, n);
		for (k = 0; k < 2 + rnd(&s) % 6; k++)
			buf[rnd(&s) % n] = (char)rnd(&s);
		tally_parse(&multi, buf, n, v);
	}
	for (i = 0; i < 20000; i++) {
		len = 0;
		while (len < 400) {
			if (rnd(&s) % 3 == 0) {
				pos = rnd(&s) % n;
				k = 1 + rnd(&s) % 40;
				if (pos + k > n)
					k = n - pos;
				memcpy(buf + len, FIX_NOTE + pos, k);
				len += k;
			} else {
				a = alphabet[rnd(&s) % (sizeof(alphabet) /
				    sizeof(alphabet[0]))];
				memcpy(buf + len, a, strlen(a));
				len += strlen(a);
			}
			if (rnd(&s) % 12 == 0)
				break;
		}
		tally_parse(&splice, buf, len, v);
	}
	tally_report(&noise, "20000 random byte strings");
	tally_report(&multi, "20000 notes with 2-7 random bytes changed");
	tally_report(&splice, "20000 splices of note pieces and tokens");
	checkpoint_verifier_free(v);
}

/* test_checkpoint sign KEYFILE NAME ORIGIN SIZE ROOTHEX TIME */
static int
helper_sign(char **argv)
{
	struct checkpoint_key *key = NULL;
	struct checkpoint cp;
	char err[512], *note = NULL;
	unsigned int byte;
	int64_t t;
	size_t i;
	int r;

	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", argv[4]);
	if (util_parse_int(argv[5], 0, INT64_MAX, &t) < 0)
		return 2;
	cp.size = (uint64_t)t;
	if (strlen(argv[6]) != 2 * CHECKPOINT_HASH_LEN)
		return 2;
	for (i = 0; i < CHECKPOINT_HASH_LEN; i++) {
		if (sscanf(argv[6] + 2 * i, "%2x", &byte) != 1)
			return 2;
		cp.root[i] = (uint8_t)byte;
	}
	if (util_parse_int(argv[7], 0, INT64_MAX, &cp.time) < 0)
		return 2;
	r = checkpoint_key_load(argv[2], argv[3], &key, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	r = checkpoint_format_note(&cp, key, &note);
	checkpoint_key_free(key);
	if (r < 0) {
		fprintf(stderr, "cannot sign: %s\n", strerror(-r));
		return 1;
	}
	fputs(note, stdout);
	free(note);
	return 0;
}

/* test_checkpoint verify VERIFIER < NOTE: prints the fields. */
static int
helper_verify(char **argv)
{
	struct checkpoint_verifier *v = NULL;
	struct checkpoint cp;
	static char buf[CHECKPOINT_NOTE_MAX + 2];
	char err[512], hex[2 * CHECKPOINT_HASH_LEN + 1], tbuf[32];
	size_t n;
	int r;

	if (checkpoint_verifier_load(argv[2], &v, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	n = fread(buf, 1, sizeof(buf), stdin);
	r = checkpoint_parse_note(buf, n, v, &cp);
	checkpoint_verifier_free(v);
	if (r < 0) {
		printf("error %s\n", r == -EPERM ? "EPERM" : r == -EBADMSG ?
		    "EBADMSG" : strerror(-r));
		return 1;
	}
	util_hex(cp.root, CHECKPOINT_HASH_LEN, hex);
	printf("origin %s\nsize %" PRIu64 "\nroot %s\ntime %s\n", cp.origin,
	    cp.size, hex, util_format_time(cp.time, tbuf, sizeof(tbuf)));
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 8 && strcmp(argv[1], "sign") == 0)
		return helper_sign(argv);
	if (argc == 3 && strcmp(argv[1], "verify") == 0)
		return helper_verify(argv);

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_keygen();
	test_key_load();
	test_verifier();
	test_go_vectors();
	test_fixed();
	test_round_trip();
	test_strict_body();
	test_mutations();
	test_other_keys();
	test_bounds();
	test_random();
	clean_dir();
	rmdir(tmpdir);
	return tap_done();
}
