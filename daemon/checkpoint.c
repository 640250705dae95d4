/*
 * checkpoint.c - Ed25519 signing keys and signed checkpoints: a C2SP
 * tlog-checkpoint body (origin, tree size, root, and our "time" line) in
 * a Go sumdb signed note, so that a third party holding only the verifier
 * key can check what the archive's ledger committed to and when.
 *
 * All cryptography is OpenSSL's (EVP_PKEY_ED25519, EVP_DigestSign with no
 * digest, SHA-256 through hash.h); this file does encodings and parsing.
 * The parser takes untrusted input: it is bounded (CHECKPOINT_NOTE_MAX),
 * never reads past len, and accepts exactly one spelling of each field
 * (canonical base64, decimal without leading zeros, one time format), so
 * that no change to a signed note's bytes leaves it valid.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "checkpoint.h"
#include "hash.h"
#include "sysio.h"
#include "util.h"
#include "xalloc.h"

#define ED25519_KEY_LEN		32
#define ED25519_SIG_LEN		64
#define NOTE_ALG_ED25519	0x01	/* Go note's algorithm byte */
#define KEYHASH_LEN		4
#define NOTE_SIG_LEN		(KEYHASH_LEN + ED25519_SIG_LEN)
#define NOTE_MIN_SIG		5	/* key hash and one byte, as Go */
#define KEY_FILE_MAX		(16 * 1024)	/* a PEM key is ~120 bytes */
#define PUB_FILE_MAX		1024
#define TIME_TEXT_LEN		20	/* "2026-11-22T02:12:00Z" */
#define TIME_MAX		253402300799LL	/* 9999-12-31T23:59:59Z */
#define SIZE_DIGITS_MAX		20	/* UINT64_MAX has 20 digits */
#define ROOT_B64_LEN		44	/* base64 of 32 bytes */
#define TIME_PREFIX		"time "
#define SIG_PREFIX		"\xe2\x80\x94 "	/* U+2014 EM DASH, space */
#define SIG_PREFIX_LEN		4

/* Base64 length of n bytes, NUL excluded. */
#define B64_LEN(n)		(((n) + 2) / 3 * 4)

struct checkpoint_key {
	char		 name[CHECKPOINT_NAME_MAX];
	uint32_t	 hash;
	EVP_PKEY	*pkey;		/* private */
};

struct checkpoint_verifier {
	char		 name[CHECKPOINT_NAME_MAX];
	uint32_t	 hash;
	EVP_PKEY	*pkey;		/* public */
};

static int	fail(char *, size_t, int, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

/* Write a message into err (if any) and return r. */
static int
fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/*
 * Decode one UTF-8 sequence of the n > 0 bytes at p: its length and code
 * point, or 0 if it is invalid (truncated, overlong, a surrogate, or
 * above U+10FFFF), like Go's utf8.DecodeRune.
 */
static size_t
utf8_decode(const unsigned char *p, size_t n, uint32_t *ret_cp)
{
	uint32_t cp, min;
	size_t len, i;

	if (p[0] < 0x80) {
		*ret_cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
		min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
		min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret_cp = cp;
	return len;
}

/* Unicode White_Space, the set Go's unicode.IsSpace() tests. */
static int
is_space(uint32_t cp)
{
	return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 ||
	    cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	    cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
	    cp == 0x3000;
}

/*
 * A key name or origin: 1 to CHECKPOINT_NAME_MAX - 1 bytes of valid UTF-8
 * without spaces or '+' (Go's isValidName) nor control characters.
 */
static int
name_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t i, l;

	if (n == 0 || n >= CHECKPOINT_NAME_MAX)
		return 0;
	for (i = 0; i < n; i += l) {
		l = utf8_decode(p + i, n - i, &cp);
		if (l == 0 || is_space(cp) || cp == '+' || cp < 0x20 ||
		    (cp >= 0x7f && cp <= 0x9f))
			return 0;
	}
	return 1;
}

int
checkpoint_name_valid(const char *name)
{
	return name != NULL && name_valid(name, strnlen(name,
	    CHECKPOINT_NAME_MAX));
}

/*
 * A signed note's characters: valid UTF-8, no control characters other
 * than newline (Go's note.Open rule; it also keeps NUL out).
 */
static int
note_chars_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t i, l;

	for (i = 0; i < n; i += l) {
		l = utf8_decode(p + i, n - i, &cp);
		if (l == 0 || (cp < 0x20 && cp != '\n'))
			return 0;
	}
	return 1;
}

/* Base64 (RFC 4648, padded) of n bytes into out (B64_LEN(n) + 1). */
static void
b64_encode(const uint8_t *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/*
 * Decode the n characters at s, which must be the canonical base64 of
 * some bytes (padded, no whitespace, zero trailing bits), into out (room
 * for n / 4 * 3 bytes). EVP_DecodeBlock() counts padding as zero bytes
 * and skips surrounding whitespace, so the result is checked by encoding
 * it again. Returns the length, or -EBADMSG.
 */
static ssize_t
b64_decode(const char *s, size_t n, uint8_t *out)
{
	size_t pad = 0, len;
	char *again;
	int r, same;

	if (n == 0 || n % 4 != 0 || n > CHECKPOINT_NOTE_MAX)
		return -EBADMSG;
	if (s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	r = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (r < 0 || (size_t)r != n / 4 * 3)
		return -EBADMSG;
	len = (size_t)r - pad;
	again = xmalloc(n + 1);
	b64_encode(out, len, again);
	same = memcmp(again, s, n) == 0;
	free(again);
	return same ? (ssize_t)len : -EBADMSG;
}

/* The note key hash of name and the 0x01 || public key encoding. */
static uint32_t
key_hash(const char *name, const uint8_t pub[ED25519_KEY_LEN])
{
	uint8_t buf[CHECKPOINT_NAME_MAX + 2 + ED25519_KEY_LEN];
	unsigned char md[HASH_LEN];
	size_t n = strlen(name);

	memcpy(buf, name, n);
	buf[n++] = '\n';
	buf[n++] = NOTE_ALG_ED25519;
	memcpy(buf + n, pub, ED25519_KEY_LEN);
	hash_sha256(buf, n + ED25519_KEY_LEN, md);
	return (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 |
	    (uint32_t)md[2] << 8 | md[3];
}

static int
raw_public(EVP_PKEY *pkey, uint8_t pub[ED25519_KEY_LEN])
{
	size_t len = ED25519_KEY_LEN;

	if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 ||
	    len != ED25519_KEY_LEN) {
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

/* "<name>+<hash>+<base64(0x01 || pub)>" as a new string. */
static char *
verifier_text(const char *name, uint32_t hash,
    const uint8_t pub[ED25519_KEY_LEN])
{
	uint8_t enc[1 + ED25519_KEY_LEN];
	char b64[B64_LEN(sizeof(enc)) + 1];

	enc[0] = NOTE_ALG_ED25519;
	memcpy(enc + 1, pub, ED25519_KEY_LEN);
	b64_encode(enc, sizeof(enc), b64);
	return xasprintf("%s+%08x+%s", name, (unsigned)hash, b64);
}

static int
sign_raw(EVP_PKEY *pkey, const void *msg, size_t n,
    uint8_t sig[ED25519_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	size_t siglen = ED25519_SIG_LEN;
	int r = 0;

	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return -EIO;
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, msg, n) != 1 ||
	    siglen != ED25519_SIG_LEN) {
		ERR_clear_error();
		r = -EIO;
	}
	EVP_MD_CTX_free(ctx);
	return r;
}

/* 1 if sig is a valid signature of msg by pkey. */
static int
verify_raw(EVP_PKEY *pkey, const void *msg, size_t n, const uint8_t *sig,
    size_t siglen)
{
	EVP_MD_CTX *ctx;
	int ok;

	if (siglen != ED25519_SIG_LEN)
		return 0;
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return 0;
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, msg, n) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/*
 * Read a regular file of at most max bytes from fd into buf (max + 1
 * bytes). Returns the length, or -EINVAL (not a regular file), -EFBIG,
 * -errno.
 */
static ssize_t
read_small(int fd, char *buf, size_t max, struct stat *st)
{
	size_t len = 0;
	ssize_t n;

	if (fstat(fd, st) == -1)
		return -errno;
	if (!S_ISREG(st->st_mode))
		return -EINVAL;
	if (st->st_size > (off_t)max)
		return -EFBIG;
	while (len <= max) {
		n = read(fd, buf + len, max + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max)
		return -EFBIG;
	return (ssize_t)len;
}

int
checkpoint_default_name(char *buf, size_t len)
{
	char host[HOST_NAME_MAX + 1];
	int n;

	if (gethostname(host, sizeof(host)) == -1)
		return -errno;
	host[sizeof(host) - 1] = '\0';
	n = snprintf(buf, len, "sunarchive-%s", host);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return checkpoint_name_valid(buf) ? 0 : -EINVAL;
}

/* Undo a claim made by checkpoint_keygen(). */
static void
unclaim(const char *path, int *claimed)
{
	if (*claimed)
		unlink(path);
	*claimed = 0;
}

/* Create path exclusively (an empty placeholder) so nothing else can. */
static int
claim(const char *path, mode_t mode, int *claimed)
{
	int fd;

	fd = sysio.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	sysio.close(fd);
	*claimed = 1;
	return 0;
}

int
checkpoint_keygen(const char *path, const char *name)
{
	EVP_PKEY_CTX *pctx;
	EVP_PKEY *pkey = NULL;
	BIO *mem = NULL;
	uint8_t pub[ED25519_KEY_LEN];
	char *pub_path, *vtext = NULL, *line = NULL, *pem;
	long pemlen;
	int r, key_claimed = 0, pub_claimed = 0;

	if (!checkpoint_name_valid(name) || path == NULL || path[0] == '\0')
		return -EINVAL;
	pub_path = xasprintf("%s%s", path, CHECKPOINT_PUB_SUFFIX);

	r = -EIO;
	pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (pctx == NULL || EVP_PKEY_keygen_init(pctx) != 1 ||
	    EVP_PKEY_keygen(pctx, &pkey) != 1)
		goto out_free;
	if (raw_public(pkey, pub) < 0)
		goto out_free;
	/* A secure-heap BIO is wiped when freed. */
	mem = BIO_new(BIO_s_secmem());
	if (mem == NULL || PEM_write_bio_PKCS8PrivateKey(mem, pkey, NULL,
	    NULL, 0, NULL, NULL) != 1)
		goto out_free;
	pemlen = BIO_get_mem_data(mem, &pem);
	if (pemlen <= 0)
		goto out_free;
	vtext = verifier_text(name, key_hash(name, pub), pub);
	line = xasprintf("%s\n", vtext);

	r = claim(path, 0600, &key_claimed);
	if (r < 0)
		goto out_free;
	r = claim(pub_path, 0644, &pub_claimed);
	if (r < 0)
		goto out_unclaim;
	r = sysio_write_file(path, pem, (size_t)pemlen, 0600);
	if (r < 0)
		goto out_unclaim;
	r = sysio_write_file(pub_path, line, strlen(line), 0644);
	if (r < 0)
		goto out_unclaim;
	/* Public, so not subject to a strict umask. */
	if (chmod(pub_path, 0644) == -1) {
		r = -errno;
		goto out_unclaim;
	}
	goto out_free;

out_unclaim:
	unclaim(pub_path, &pub_claimed);
	unclaim(path, &key_claimed);
out_free:
	ERR_clear_error();
	BIO_free(mem);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(pctx);
	free(line);
	free(vtext);
	free(pub_path);
	return r;
}

/* PEM password callback: never prompt; an encrypted key does not load. */
static int
no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int
checkpoint_key_load(const char *path, const char *name,
    struct checkpoint_key **ret_key, char *err, size_t errlen)
{
	struct checkpoint_key *key;
	char buf[KEY_FILE_MAX + 1];
	const char *credir, *kind;
	struct stat st;
	uint8_t pub[ED25519_KEY_LEN];
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	char *full;
	ssize_t len = 0;
	int fd, r;

	if (path == NULL || path[0] == '\0')
		return fail(err, errlen, -EINVAL, "no signing key file given");
	if (!checkpoint_name_valid(name))
		return fail(err, errlen, -EINVAL, "invalid signing key name "
		    "'%s': it must be 1 to %d bytes of UTF-8 without spaces, "
		    "control characters or '+'", name != NULL ? name : "",
		    CHECKPOINT_NAME_MAX - 1);
	credir = getenv("CREDENTIALS_DIRECTORY");
	if (path[0] != '/' && credir != NULL && credir[0] != '\0')
		full = xasprintf("%s/%s", credir, path);
	else
		full = xstrdup(path);

	fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK);
	if (fd == -1) {
		r = -errno;
		if (r == -ELOOP)
			fail(err, errlen, r, "signing key '%s' is a symbolic "
			    "link; name the file itself", full);
		else
			fail(err, errlen, r, "cannot read signing key '%s': %s",
			    full, strerror(-r));
		goto out_free;
	}
	len = read_small(fd, buf, KEY_FILE_MAX, &st);
	close(fd);
	if (len == -EINVAL) {
		r = fail(err, errlen, -EINVAL, "signing key '%s' is not a "
		    "regular file", full);
		goto out_wipe;
	}
	if (len >= 0 && (st.st_mode & 077) != 0) {
		r = fail(err, errlen, -EPERM, "signing key '%s' is accessible "
		    "to group or others (mode %04o); chmod 600 it", full,
		    (unsigned)(st.st_mode & 07777));
		goto out_wipe;
	}
	if (len == -EFBIG) {
		r = fail(err, errlen, -EFBIG, "signing key '%s' is too large "
		    "to be a key (over %d bytes)", full, KEY_FILE_MAX);
		goto out_wipe;
	}
	if (len < 0) {
		r = fail(err, errlen, (int)len, "cannot read signing key "
		    "'%s': %s", full, strerror((int)-len));
		goto out_wipe;
	}

	r = -EINVAL;
	bio = BIO_new_mem_buf(buf, (int)len);
	if (bio != NULL)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
	if (pkey == NULL) {
		fail(err, errlen, r, "signing key '%s' is not an unencrypted "
		    "PEM private key", full);
		goto out_wipe;
	}
	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		kind = OBJ_nid2sn(EVP_PKEY_get_id(pkey));
		fail(err, errlen, r, "signing key '%s' is not an Ed25519 key "
		    "(it is %s); make one with 'sunarchive keygen'", full,
		    kind != NULL ? kind : "another type");
		goto out_wipe;
	}
	r = raw_public(pkey, pub);
	if (r < 0) {
		fail(err, errlen, r, "cannot use signing key '%s'", full);
		goto out_wipe;
	}
	key = xcalloc(1, sizeof(*key));
	snprintf(key->name, sizeof(key->name), "%s", name);
	key->hash = key_hash(name, pub);
	key->pkey = pkey;
	pkey = NULL;
	*ret_key = key;
	r = 0;

out_wipe:
	OPENSSL_cleanse(buf, sizeof(buf));
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
out_free:
	free(full);
	return r;
}

void
checkpoint_key_free(struct checkpoint_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);	/* OpenSSL wipes the private key */
	OPENSSL_cleanse(key, sizeof(*key));
	free(key);
}

int
checkpoint_key_verifier(const struct checkpoint_key *key, char **ret_text)
{
	uint8_t pub[ED25519_KEY_LEN];
	int r;

	r = raw_public(key->pkey, pub);
	if (r < 0)
		return r;
	*ret_text = verifier_text(key->name, key->hash, pub);
	return 0;
}

/*
 * Parse verifier key text (n bytes) as Go's note.NewVerifier() does.
 * Returns 0 and a new verifier, or -EINVAL with the reason in *why.
 */
static int
verifier_parse(const char *s, size_t n, struct checkpoint_verifier **ret_v,
    const char **why)
{
	struct checkpoint_verifier *v;
	const char *p1, *p2, *b64;
	uint8_t enc[B64_LEN(1 + ED25519_KEY_LEN)];
	uint32_t hash = 0;
	EVP_PKEY *pkey;
	size_t i, namelen, b64len;
	ssize_t dlen;
	int d;

	p1 = memchr(s, '+', n);
	p2 = p1 != NULL ? memchr(p1 + 1, '+', n - (size_t)(p1 + 1 - s)) :
	    NULL;
	if (p2 == NULL) {
		*why = "not of the form NAME+HASH+KEY";
		return -EINVAL;
	}
	namelen = (size_t)(p1 - s);
	if (!name_valid(s, namelen)) {
		*why = "invalid name";
		return -EINVAL;
	}
	if (p2 - p1 - 1 != 8) {
		*why = "the key hash is not 8 hex digits";
		return -EINVAL;
	}
	for (i = 0; i < 8; i++) {
		d = p1[1 + i];
		if (d >= '0' && d <= '9')
			d -= '0';
		else if (d >= 'a' && d <= 'f')
			d -= 'a' - 10;
		else if (d >= 'A' && d <= 'F')
			d -= 'A' - 10;
		else {
			*why = "the key hash is not 8 hex digits";
			return -EINVAL;
		}
		hash = hash << 4 | (uint32_t)d;
	}
	b64 = p2 + 1;
	b64len = n - (size_t)(b64 - s);
	if (b64len != B64_LEN(1 + ED25519_KEY_LEN)) {
		*why = "the key is not 33 bytes of base64";
		return -EINVAL;
	}
	dlen = b64_decode(b64, b64len, enc);
	if (dlen != 1 + ED25519_KEY_LEN) {
		*why = "the key is not 33 bytes of base64";
		return -EINVAL;
	}
	if (enc[0] != NOTE_ALG_ED25519) {
		*why = "unknown key algorithm (only 1, Ed25519, is known)";
		return -EINVAL;
	}
	v = xcalloc(1, sizeof(*v));
	memcpy(v->name, s, namelen);
	if (key_hash(v->name, enc + 1) != hash) {
		free(v);
		*why = "the key hash does not match the name and key";
		return -EINVAL;
	}
	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, enc + 1,
	    ED25519_KEY_LEN);
	if (pkey == NULL) {
		ERR_clear_error();
		free(v);
		*why = "OpenSSL does not accept the key";
		return -EINVAL;
	}
	v->hash = hash;
	v->pkey = pkey;
	*ret_v = v;
	return 0;
}

int
checkpoint_verifier_load(const char *path_or_text,
    struct checkpoint_verifier **ret_v, char *err, size_t errlen)
{
	const char *arg = path_or_text, *why = NULL, *why_text;
	char buf[PUB_FILE_MAX + 1];
	struct stat st;
	ssize_t len;
	int fd, r;

	r = verifier_parse(arg, strlen(arg), ret_v, &why_text);
	if (r == 0)
		return 0;

	fd = open(arg, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		r = -errno;
		if (r == -ENOENT && strchr(arg, '+') != NULL)
			return fail(err, errlen, -EINVAL, "'%s' is neither a "
			    "verifier key (%s) nor a file", arg, why_text);
		return fail(err, errlen, r, "cannot read verifier key '%s': "
		    "%s", arg, strerror(-r));
	}
	len = read_small(fd, buf, PUB_FILE_MAX, &st);
	close(fd);
	if (len == -EINVAL)
		return fail(err, errlen, -EINVAL, "verifier key '%s' is not "
		    "a regular file", arg);
	if (len == -EFBIG)
		return fail(err, errlen, -EINVAL, "'%s' is too large to be a "
		    "verifier key file", arg);
	if (len < 0)
		return fail(err, errlen, (int)len, "cannot read verifier key "
		    "'%s': %s", arg, strerror((int)-len));
	/* One line: drop its end (and any trailing blanks). */
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	    buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	if (memchr(buf, '\n', (size_t)len) != NULL)
		why = "more than one line";
	else if (memchr(buf, '\0', (size_t)len) != NULL)
		why = "not text";
	else if (verifier_parse(buf, (size_t)len, ret_v, &why) == 0)
		return 0;
	return fail(err, errlen, -EINVAL, "'%s' does not hold a verifier key "
	    "NAME+HASH+KEY: %s", arg, why);
}

void
checkpoint_verifier_free(struct checkpoint_verifier *v)
{
	if (v == NULL)
		return;
	EVP_PKEY_free(v->pkey);
	free(v);
}

int
checkpoint_note_sign(const struct checkpoint_key *key, const char *text,
    size_t len, char **ret_note)
{
	uint8_t sig[NOTE_SIG_LEN];
	char b64[B64_LEN(NOTE_SIG_LEN) + 1];
	size_t namelen = strlen(key->name), total;
	char *note, *p;
	int r;

	if (len == 0 || text[len - 1] != '\n' || !note_chars_valid(text, len))
		return -EINVAL;
	total = len + 1 + SIG_PREFIX_LEN + namelen + 1 + B64_LEN(NOTE_SIG_LEN)
	    + 1;
	if (total > CHECKPOINT_NOTE_MAX)
		return -EINVAL;
	sig[0] = (uint8_t)(key->hash >> 24);
	sig[1] = (uint8_t)(key->hash >> 16);
	sig[2] = (uint8_t)(key->hash >> 8);
	sig[3] = (uint8_t)key->hash;
	r = sign_raw(key->pkey, text, len, sig + KEYHASH_LEN);
	if (r < 0)
		return r;
	b64_encode(sig, sizeof(sig), b64);

	note = xmalloc(total + 1);
	p = note;
	memcpy(p, text, len);
	p += len;
	*p++ = '\n';
	memcpy(p, SIG_PREFIX, SIG_PREFIX_LEN);
	p += SIG_PREFIX_LEN;
	memcpy(p, key->name, namelen);
	p += namelen;
	*p++ = ' ';
	memcpy(p, b64, B64_LEN(NOTE_SIG_LEN));
	p += B64_LEN(NOTE_SIG_LEN);
	*p++ = '\n';
	*p = '\0';
	*ret_note = note;
	return 0;
}

/*
 * Check a signed note's structure and its signature lines, as Go's
 * note.Open() does but stricter (canonical base64, bounded names). With v
 * set, also verify every line carrying v's name and key hash. Returns 0
 * and the length of the signed text, -EBADMSG, or (with v) -EPERM when no
 * line by v is there or one of them does not verify.
 */
static int
note_scan(const char *note, size_t len, const struct checkpoint_verifier *v,
    size_t *ret_textlen)
{
	const char *sigs, *line, *eol, *sp, *b64;
	uint8_t *sig;
	size_t i, split, slen, linelen, namelen, b64len;
	ssize_t dlen;
	uint32_t hash;
	int nsig = 0, found = 0, bad = 0, r = 0;

	if (len > CHECKPOINT_NOTE_MAX || len < 2 ||
	    !note_chars_valid(note, len))
		return -EBADMSG;
	/* The signed text ends before the last blank line. */
	for (i = len - 1; i > 0; i--)
		if (note[i] == '\n' && note[i - 1] == '\n')
			break;
	if (i == 0)
		return -EBADMSG;
	split = i - 1;
	sigs = note + split + 2;
	slen = len - split - 2;
	if (slen == 0 || sigs[slen - 1] != '\n')
		return -EBADMSG;

	while (slen > 0) {
		line = sigs;
		eol = memchr(line, '\n', slen);	/* found: slen ends in one */
		linelen = (size_t)(eol - line);
		sigs = eol + 1;
		slen -= linelen + 1;

		if (++nsig > CHECKPOINT_MAX_SIGS || linelen < SIG_PREFIX_LEN ||
		    memcmp(line, SIG_PREFIX, SIG_PREFIX_LEN) != 0)
			return -EBADMSG;
		line += SIG_PREFIX_LEN;
		linelen -= SIG_PREFIX_LEN;
		sp = memchr(line, ' ', linelen);
		if (sp == NULL)
			return -EBADMSG;
		namelen = (size_t)(sp - line);
		b64 = sp + 1;
		b64len = linelen - namelen - 1;
		if (!name_valid(line, namelen) || b64len == 0)
			return -EBADMSG;
		sig = xmalloc(b64len / 4 * 3 + 1);
		dlen = b64_decode(b64, b64len, sig);
		if (dlen < NOTE_MIN_SIG) {
			free(sig);
			return -EBADMSG;
		}
		hash = (uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 |
		    (uint32_t)sig[2] << 8 | sig[3];
		if (v != NULL && hash == v->hash &&
		    namelen == strlen(v->name) &&
		    memcmp(line, v->name, namelen) == 0) {
			found = 1;
			if (!verify_raw(v->pkey, note, split + 1,
			    sig + KEYHASH_LEN, (size_t)dlen - KEYHASH_LEN))
				bad = 1;
		}
		free(sig);
	}
	if (v != NULL && (!found || bad))
		r = -EPERM;
	if (r == 0)
		*ret_textlen = split + 1;
	return r;
}

int
checkpoint_note_open(const char *note, size_t len,
    const struct checkpoint_verifier *v, size_t *ret_textlen)
{
	size_t textlen;
	int r;

	if (note == NULL || v == NULL)
		return -EBADMSG;
	/* Syntax first, so a malformed note is -EBADMSG whatever it says. */
	r = note_scan(note, len, NULL, &textlen);
	if (r == 0)
		r = note_scan(note, len, v, &textlen);
	if (r == 0)
		*ret_textlen = textlen;
	return r;
}

/* The next line of the n bytes at *p (without its newline), or -1. */
static int
next_line(const char **p, size_t *n, const char **ret_line,
    size_t *ret_len)
{
	const char *eol = memchr(*p, '\n', *n);

	if (eol == NULL)
		return -1;
	*ret_line = *p;
	*ret_len = (size_t)(eol - *p);
	*n -= *ret_len + 1;
	*p = eol + 1;
	return 0;
}

/* Decimal without sign or leading zeros, up to UINT64_MAX. */
static int
parse_u64(const char *s, size_t n, uint64_t *ret_v)
{
	uint64_t v = 0, d;
	size_t i;

	if (n == 0 || n > SIZE_DIGITS_MAX || (s[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*ret_v = v;
	return 0;
}

/*
 * t as "2026-11-22T02:12:00Z" into buf (TIME_TEXT_LEN + 1), or -1 when t
 * has no such form that util_parse_time() reads back as t.
 */
static int
format_time(int64_t t, char buf[TIME_TEXT_LEN + 1])
{
	char tmp[64];
	int64_t back;

	if (t < 0 || t > TIME_MAX)
		return -1;
	util_format_time(t, tmp, sizeof(tmp));
	if (strlen(tmp) != TIME_TEXT_LEN || util_parse_time(tmp, &back) < 0 ||
	    back != t)
		return -1;
	memcpy(buf, tmp, TIME_TEXT_LEN + 1);
	return 0;
}

/* The checkpoint body (exactly the four lines) into *ret_cp. */
static int
body_parse(const char *p, size_t n, struct checkpoint *ret_cp)
{
	struct checkpoint cp;
	const char *line;
	char tbuf[TIME_TEXT_LEN + 1], again[TIME_TEXT_LEN + 1];
	/* b64_decode() writes n / 4 * 3 bytes: 33 for the 32-byte root. */
	uint8_t root[ROOT_B64_LEN / 4 * 3];
	size_t len;
	int64_t t;

	memset(&cp, 0, sizeof(cp));
	if (next_line(&p, &n, &line, &len) < 0 ||
	    len >= CHECKPOINT_ORIGIN_MAX || !name_valid(line, len))
		return -EBADMSG;
	memcpy(cp.origin, line, len);
	if (next_line(&p, &n, &line, &len) < 0 ||
	    parse_u64(line, len, &cp.size) < 0)
		return -EBADMSG;
	if (next_line(&p, &n, &line, &len) < 0 || len != ROOT_B64_LEN ||
	    b64_decode(line, len, root) != CHECKPOINT_HASH_LEN)
		return -EBADMSG;
	memcpy(cp.root, root, CHECKPOINT_HASH_LEN);
	if (next_line(&p, &n, &line, &len) < 0 ||
	    len != strlen(TIME_PREFIX) + TIME_TEXT_LEN ||
	    memcmp(line, TIME_PREFIX, strlen(TIME_PREFIX)) != 0)
		return -EBADMSG;
	memcpy(tbuf, line + strlen(TIME_PREFIX), TIME_TEXT_LEN);
	tbuf[TIME_TEXT_LEN] = '\0';
	if (util_parse_time(tbuf, &t) < 0 || format_time(t, again) < 0 ||
	    strcmp(again, tbuf) != 0)
		return -EBADMSG;
	cp.time = t;
	if (n != 0)
		return -EBADMSG;
	*ret_cp = cp;
	return 0;
}

int
checkpoint_format_note(const struct checkpoint *cp,
    const struct checkpoint_key *key, char **ret_text)
{
	char root[B64_LEN(CHECKPOINT_HASH_LEN) + 1], tbuf[TIME_TEXT_LEN + 1];
	char *body;
	size_t olen;
	int r;

	olen = strnlen(cp->origin, sizeof(cp->origin));
	if (olen == sizeof(cp->origin) || !name_valid(cp->origin, olen) ||
	    format_time(cp->time, tbuf) < 0)
		return -EINVAL;
	b64_encode(cp->root, CHECKPOINT_HASH_LEN, root);
	body = xasprintf("%s\n%llu\n%s\n" TIME_PREFIX "%s\n", cp->origin,
	    (unsigned long long)cp->size, root, tbuf);
	r = checkpoint_note_sign(key, body, strlen(body), ret_text);
	free(body);
	return r;
}

int
checkpoint_parse_note(const char *text, size_t len,
    const struct checkpoint_verifier *v, struct checkpoint *ret_cp)
{
	struct checkpoint cp;
	size_t textlen;
	int r;

	if (text == NULL || v == NULL)
		return -EBADMSG;
	/* Cheap checks before the signature: syntax, then the body. */
	r = note_scan(text, len, NULL, &textlen);
	if (r < 0)
		return r;
	r = body_parse(text, textlen, &cp);
	if (r < 0)
		return r;
	r = note_scan(text, len, v, &textlen);
	if (r < 0)
		return r;
	*ret_cp = cp;
	return 0;
}
