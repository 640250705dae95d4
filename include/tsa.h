/*
 * tsa.h - RFC 3161 trusted time-stamps through OpenSSL's TS API: build
 * the DER TimeStampReq for a SHA-256 digest (a checkpoint's root hash),
 * and check the DER that comes back. Transport-agnostic: the daemon POSTs
 * the request itself (Content-Type: application/timestamp-query) and
 * hands the reply body here. No logging; every input is bounded.
 *
 * What to store: the bare TimeStampToken (tsa_token_from_response()),
 * which is the exact byte string the TSA signed inside its reply, the
 * form "openssl ts -verify -token_in" reads. tsa_verify() accepts that
 * and the whole TimeStampResp alike.
 *
 * Trust comes only from the CA file given to tsa_verify(): no default
 * paths, no CRL or OCSP checks. Certificates are checked at the current
 * time, so a token stops verifying once its TSA certificate expires
 * (RFC 4998 renewal is outside this module).
 */
#ifndef SUNARCHIVE_TSA_H
#define SUNARCHIVE_TSA_H

#include <stddef.h>
#include <stdint.h>

#define TSA_DIGEST_LEN	32		/* SHA-256, the only imprint used */
#define TSA_MAX_DER	(1024 * 1024)	/* largest reply or token accepted */
#define TSA_SERIAL_MAX	129		/* 64 octets in hex + NUL */
#define TSA_OID_MAX	128		/* dotted policy OID + NUL */
#define TSA_NAME_MAX	256		/* TSA name, printable, + NUL */

/* A TimeStampReq with its nonce, kept to check the reply; opaque. */
struct tsa_request;

/* What a verified token says. */
struct tsa_info {
	int64_t	gen_time;		/* genTime, unix seconds (fraction
					   dropped) */
	char	serial[TSA_SERIAL_MAX];	/* serialNumber: lower-case hex,
					   big-endian, even length ("02") */
	char	policy[TSA_OID_MAX];	/* TSA policy, dotted ("1.2.3.4.1") */
	char	tsa_name[TSA_NAME_MAX];	/* "" when the token has none;
					   RFC 2253 for a directoryName,
					   else "DNS:...", "URI:..."; ASCII,
					   cut to fit */
};

/*
 * Build a TimeStampReq: version 1, messageImprint SHA-256 of digest
 * (digest_len must be TSA_DIGEST_LEN), a random 64-bit nonce, certReq
 * TRUE, and reqPolicy when policy (dotted OID text, e.g. "1.2.3.4.1") is
 * not NULL. Returns 0 and a new request in *ret_req (free with
 * tsa_request_free()), -EINVAL for a bad digest length or policy, or -EIO
 * when OpenSSL fails (no randomness).
 */
int	tsa_request_new(const unsigned char *digest, size_t digest_len,
	    const char *policy, struct tsa_request **ret_req);

/*
 * The request's DER encoding, the body to POST: a new buffer in *ret_der
 * (*ret_len bytes) that the caller frees with free(). 0 or -EIO.
 */
int	tsa_request_der(const struct tsa_request *req, unsigned char **ret_der,
	    size_t *ret_len);

/* Free a request; NULL is fine. */
void	tsa_request_free(struct tsa_request *req);

/*
 * Extract the TimeStampToken from a DER TimeStampResp (at most
 * TSA_MAX_DER bytes, nothing after it): a new buffer in *ret_token
 * (*ret_len bytes; the caller frees it with free()) holding the token's
 * bytes exactly as the TSA sent them. This does not verify the token.
 * Returns 0 for status granted or grantedWithMods; -EPERM when the TSA
 * refused (status, its text and failure info in err, e.g. "time-stamp
 * not granted: rejection: \"Requested policy is not supported.\"
 * (unacceptedPolicy)"); -EBADMSG for anything malformed. err (errlen
 * bytes) may be NULL.
 */
int	tsa_token_from_response(const unsigned char *resp_der,
	    size_t resp_len, unsigned char **ret_token, size_t *ret_len,
	    char *err, size_t errlen);

/*
 * Verify a time-stamp for digest (SHA-256, TSA_DIGEST_LEN bytes) against
 * the PEM certificates in ca_file, the only trust anchors. der (der_len
 * bytes, at most TSA_MAX_DER, nothing after it) is either a whole
 * TimeStampResp, whose status must be granted, or a bare TimeStampToken
 * (CMS SignedData with a TSTInfo).
 *
 * Checks (TS_VERIFY_CTX flags): exactly one signer whose certificate
 * chains to ca_file with a critical timeStamping-only extendedKeyUsage,
 * a matching ESS signing-certificate attribute and a valid signature
 * (SIGNATURE); TSTInfo version 1 (VERSION); a SHA-256 imprint equal to
 * digest (IMPRINT); the TSA name, when present, naming the signer
 * (SIGNER); with req, the nonce of req (NONCE; req's digest must equal
 * digest); and the policy (POLICY) when policy is not NULL, or else when
 * req asked for one.
 *
 * Returns 0 and, if ret_info is not NULL, what the token says in
 * *ret_info; -EBADMSG for malformed or oversized input (no token, not a
 * TSTInfo, bad DER, trailing bytes, serial over 64 octets); -EPERM when
 * verification fails (status not granted, wrong imprint, nonce or
 * policy, untrusted or expired chain, signer without the timeStamping
 * purpose, TSA name mismatch, bad signature); -EINVAL for bad arguments
 * or a ca_file OpenSSL cannot load; -EIO if OpenSSL fails otherwise (out
 * of memory). A reason goes to err (errlen bytes; may be NULL) on every
 * failure. ca_file is read on every call.
 */
int	tsa_verify(const unsigned char *der, size_t der_len,
	    const struct tsa_request *req, const unsigned char *digest,
	    size_t digest_len, const char *ca_file, const char *policy,
	    struct tsa_info *ret_info, char *err, size_t errlen);

#endif
