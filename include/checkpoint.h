/*
 * checkpoint.h - signed checkpoints of the ledger: Ed25519 keys, the Go
 * sumdb "signed note" format (golang.org/x/mod/sumdb/note) and, in it,
 * the C2SP tlog-checkpoint body with one extra line for our time:
 *
 *	<origin>\n
 *	<tree size, decimal>\n
 *	<base64 root hash>\n
 *	time <RFC 3339 UTC, "2026-11-22T02:12:00Z">\n
 *	\n
 *	— <key name> <base64(4-byte key hash || 64-byte Ed25519 signature)>\n
 *
 * The dash is U+2014 EM DASH; the signature is over the body (the four
 * lines, final newline included, blank line excluded). The key hash is
 * the first 4 bytes, big-endian, of SHA-256(name || "\n" || 0x01 ||
 * public key). A verifier key is the text "<name>+<8 hex digits of the
 * key hash>+<base64(0x01 || 32-byte public key)>", as Go's
 * note.NewVerifier() reads it. Other parties (IT, a witness) may append
 * co-signature lines of their own; parsing ignores those.
 *
 * Keys are OpenSSL EVP_PKEY_ED25519; the private key file is a PKCS#8 PEM
 * ("BEGIN PRIVATE KEY"), mode 0600. This module does no logging; errors
 * are negative errno values.
 */
#ifndef SUNARCHIVE_CHECKPOINT_H
#define SUNARCHIVE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#define CHECKPOINT_HASH_LEN	32		/* root hash bytes */
#define CHECKPOINT_ORIGIN_MAX	256		/* origin bytes + NUL */
#define CHECKPOINT_NAME_MAX	256		/* key name bytes + NUL */
#define CHECKPOINT_NOTE_MAX	(64 * 1024)	/* whole signed note */
#define CHECKPOINT_MAX_SIGS	100		/* signature lines (as Go) */
#define CHECKPOINT_PUB_SUFFIX	".pub"		/* verifier key file */

/*
 * A tree head. origin names the log ("city.example.gov/sunarchive"); it
 * is non-empty valid UTF-8 without spaces (Unicode White_Space), control
 * characters or '+', like a key name. time is unix seconds, UTC, between
 * 1970 and 9999.
 */
struct checkpoint {
	char		origin[CHECKPOINT_ORIGIN_MAX];
	uint64_t	size;
	uint8_t		root[CHECKPOINT_HASH_LEN];
	int64_t		time;
};

/* A private signing key with its name; opaque. */
struct checkpoint_key;
/* A public verifier key with its name and key hash; opaque. */
struct checkpoint_verifier;

/*
 * The default key name, "sunarchive-<hostname>", into buf. 0, -ENAMETOOLONG
 * (buf too small), -EINVAL (the host name is not valid in a key name) or
 * -errno from gethostname().
 */
int	checkpoint_default_name(char *buf, size_t len);

/* 1 if name is a valid key name (or origin): see struct checkpoint. */
int	checkpoint_name_valid(const char *name);

/*
 * Generate a new Ed25519 key named name. The private key goes to path
 * (PKCS#8 PEM, mode 0600), the verifier key text and a newline to
 * path.pub (mode 0644). Neither file may exist: both names are claimed
 * with O_EXCL first, then written crash-safely (temp, fsync, rename,
 * fsync dir). Returns 0, -EEXIST if path or path.pub exists (nothing is
 * changed), -EINVAL for an invalid name, or another -errno from the
 * file system; files this call created are removed again.
 */
int	checkpoint_keygen(const char *path, const char *name);

/*
 * Load the private key in path and give it name, which must be the name
 * the key was generated with (it is part of the key hash). A relative
 * path is looked up in $CREDENTIALS_DIRECTORY when that is set (systemd's
 * LoadCredential=), else in the working directory. The file must be a
 * regular file (not a symbolic link) that group and others cannot access
 * (mode & 077 == 0). Returns 0 and a new key in *ret_key (free with
 * checkpoint_key_free()), or a negative errno with a message naming the
 * file in err (errlen bytes; may be NULL): -EPERM for the mode, -EINVAL
 * for a file that is not an unencrypted Ed25519 PEM private key or an
 * invalid name, -ENOENT, -ELOOP, -EFBIG, ...
 */
int	checkpoint_key_load(const char *path, const char *name,
	    struct checkpoint_key **ret_key, char *err, size_t errlen);

/* Free a key (wiping it); NULL is fine. */
void	checkpoint_key_free(struct checkpoint_key *key);

/*
 * The verifier key text of key ("<name>+<hash>+<base64>", no newline):
 * a new string in *ret_text the caller frees. 0 or -EIO.
 */
int	checkpoint_key_verifier(const struct checkpoint_key *key,
	    char **ret_text);

/*
 * Load a verifier key: path_or_text is either the verifier key text
 * itself or, when it is not valid as one, the name of a file (such as the
 * ".pub" written by checkpoint_keygen()) holding it on one line. Returns
 * 0 and a new verifier in *ret_v (free with checkpoint_verifier_free()),
 * or a negative errno with a message in err (errlen bytes; may be NULL):
 * -EINVAL for malformed text (bad name, hash, base64, algorithm, length,
 * or a key hash that does not match), or the file's -errno.
 */
int	checkpoint_verifier_load(const char *path_or_text,
	    struct checkpoint_verifier **ret_v, char *err, size_t errlen);

/* Free a verifier; NULL is fine. */
void	checkpoint_verifier_free(struct checkpoint_verifier *v);

/*
 * Sign cp with key: a new NUL-terminated note (the format above) in
 * *ret_text the caller frees. 0, -EINVAL for an invalid origin or time,
 * or -EIO if OpenSSL fails.
 */
int	checkpoint_format_note(const struct checkpoint *cp,
	    const struct checkpoint_key *key, char **ret_text);

/*
 * Parse and verify the signed checkpoint in text (len bytes; need not be
 * NUL-terminated). Strict: exactly the four body lines, the size in
 * decimal without leading zeros, the root in canonical base64 of exactly
 * 32 bytes, the time as "time YYYY-MM-DDTHH:MM:SSZ", a blank line, then
 * 1 to CHECKPOINT_MAX_SIGS well-formed signature lines; the whole note
 * valid UTF-8 without control characters other than newline and at most
 * CHECKPOINT_NOTE_MAX bytes. Lines of other signers are ignored; at least
 * one line must carry v's name and key hash and every such line must be a
 * valid signature. Returns 0 and the checkpoint in *ret_cp, -EBADMSG for
 * a malformed note, or -EPERM when no valid signature by v is there.
 */
int	checkpoint_parse_note(const char *text, size_t len,
	    const struct checkpoint_verifier *v, struct checkpoint *ret_cp);

/*
 * The signed-note layer under the two above, for any text: sign text
 * (len bytes, non-empty, ending in a newline, valid UTF-8 without other
 * control characters) into a new note in *ret_note (0, -EINVAL or -EIO);
 * open a note, checking it as checkpoint_parse_note() does except for
 * the body, and return the length of the signed text in *ret_textlen (0,
 * -EBADMSG or -EPERM).
 */
int	checkpoint_note_sign(const struct checkpoint_key *key,
	    const char *text, size_t len, char **ret_note);
int	checkpoint_note_open(const char *note, size_t len,
	    const struct checkpoint_verifier *v, size_t *ret_textlen);

#endif
