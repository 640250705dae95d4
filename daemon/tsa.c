/*
 * tsa.c - RFC 3161 time-stamp requests and replies, all ASN.1 and crypto
 * done by OpenSSL's TS, PKCS7 and X509 code. This file only decides what
 * to ask for and what to accept:
 *
 *   request  TS_REQ with a SHA-256 imprint, a random nonce, certReq.
 *   parse    DER -> TS_RESP or bare PKCS7 token, exactly the whole input,
 *            then the TSTInfo inside (malformed: -EBADMSG).
 *   verify   a TS_VERIFY_CTX made from a TS_REQ that carries what we
 *            expect (imprint, nonce, policy), our flags and a store
 *            holding only the caller's CA file (refused: -EPERM).
 *
 * The verification context is built with TS_REQ_to_TS_VERIFY_CTX() rather
 * than the TS_VERIFY_CTX_set_* setters: it is the only way on OpenSSL 3.0
 * to give the context a nonce, a policy and the imprint's algorithm
 * (without the algorithm, TS_VFY_IMPRINT compares the hash bytes alone).
 * The one setter still needed, for the store, was renamed set0_store in
 * 3.4 and the old name deprecated; see ctx_set_store().
 *
 * OpenSSL's per-thread error queue is emptied on the way in and out, so a
 * failure here never shows up in libcurl's TLS error reporting.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/opensslv.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tsa.h"
#include "util.h"
#include "xalloc.h"

#define NONCE_LEN	8	/* 64-bit nonce */
#define SERIAL_OCTETS	((TSA_SERIAL_MAX - 1) / 2)
#define STATUS_TEXT_MAX	200	/* bytes of a TSA's status text kept */

struct tsa_request {
	TS_REQ		*req;
	unsigned char	 digest[TSA_DIGEST_LEN];
};

/* What parse_der() found: a reply, or a bare token. */
struct parsed {
	TS_RESP		*resp;		/* NULL for a bare token */
	PKCS7		*token;		/* owned when resp == NULL */
	TS_TST_INFO	*tst;		/* the token's TSTInfo, owned */
};

static const char *const status_names[] = {
	"granted", "grantedWithMods", "rejection", "waiting",
	"revocationWarning", "revocationNotification",
};

static const struct {
	int		 bit;
	const char	*name;
} failure_names[] = {
	{ TS_INFO_BAD_ALG,		"badAlg" },
	{ TS_INFO_BAD_REQUEST,		"badRequest" },
	{ TS_INFO_BAD_DATA_FORMAT,	"badDataFormat" },
	{ TS_INFO_TIME_NOT_AVAILABLE,	"timeNotAvailable" },
	{ TS_INFO_UNACCEPTED_POLICY,	"unacceptedPolicy" },
	{ TS_INFO_UNACCEPTED_EXTENSION,	"unacceptedExtension" },
	{ TS_INFO_ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable" },
	{ TS_INFO_SYSTEM_FAILURE,	"systemFailure" },
};

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Copy src (n bytes) to dst as printable ASCII, '?' for anything else. */
static void
printable(char *dst, size_t dstlen, const char *src, size_t n)
{
	size_t i;

	if (dstlen == 0)
		return;
	if (n > dstlen - 1)
		n = dstlen - 1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[n] = '\0';
}

/*
 * Empty the error queue into buf: the oldest error (the root cause) with
 * its detail text, e.g. "certificate verify error: certificate has
 * expired".
 */
static void
ossl_reason(char *buf, size_t len)
{
	char tmp[256];
	const char *data, *reason;
	unsigned long e;
	int flags, have = 0;

	snprintf(tmp, sizeof(tmp), "unknown OpenSSL error");
	for (;;) {
		data = NULL;
		flags = 0;
		e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags);
		if (e == 0)
			break;
		if (have)
			continue;	/* drain the rest */
		have = 1;
		if (ERR_SYSTEM_ERROR(e))
			reason = strerror(ERR_GET_REASON(e));
		else
			reason = ERR_reason_error_string(e);
		if (reason == NULL)
			reason = "OpenSSL error";
		if (data != NULL && (flags & ERR_TXT_STRING) && *data != '\0') {
			if (strncmp(data, "Verify error:", 13) == 0)
				data += 13;
			snprintf(tmp, sizeof(tmp), "%s: %s", reason, data);
		} else
			snprintf(tmp, sizeof(tmp), "%s", reason);
	}
	printable(buf, len, tmp, strlen(tmp));
}

/* A dotted policy OID (digits only, no names) as an object, or NULL. */
static ASN1_OBJECT *
policy_obj(const char *policy)
{
	size_t n = strnlen(policy, TSA_OID_MAX);

	if (n == 0 || n >= TSA_OID_MAX ||
	    strspn(policy, "0123456789.") != n)
		return NULL;
	return OBJ_txt2obj(policy, 1);
}

/*
 * A version 1 TS_REQ for a SHA-256 digest with an optional policy and
 * nonce (both copied), certReq TRUE; NULL if OpenSSL fails.
 */
static TS_REQ *
make_req(const unsigned char digest[TSA_DIGEST_LEN], const ASN1_OBJECT *policy,
    const ASN1_INTEGER *nonce)
{
	unsigned char md[TSA_DIGEST_LEN];
	TS_REQ *req = NULL;
	TS_MSG_IMPRINT *mi = NULL;
	X509_ALGOR *alg = NULL;
	int ok = 0;

	memcpy(md, digest, sizeof(md));
	req = TS_REQ_new();
	mi = TS_MSG_IMPRINT_new();
	alg = X509_ALGOR_new();
	if (req == NULL || mi == NULL || alg == NULL)
		goto out;
	/* sha256 with NULL parameters, as "openssl ts -query" writes it. */
	if (!X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL))
		goto out;
	if (!TS_MSG_IMPRINT_set_algo(mi, alg) ||
	    !TS_MSG_IMPRINT_set_msg(mi, md, (int)sizeof(md)) ||
	    !TS_REQ_set_version(req, 1) ||
	    !TS_REQ_set_msg_imprint(req, mi) ||
	    !TS_REQ_set_cert_req(req, 1))
		goto out;
	if (policy != NULL && !TS_REQ_set_policy_id(req, policy))
		goto out;
	if (nonce != NULL && !TS_REQ_set_nonce(req, nonce))
		goto out;
	ok = 1;
out:
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	if (!ok) {
		TS_REQ_free(req);
		req = NULL;
	}
	return req;
}

int
tsa_request_new(const unsigned char *digest, size_t digest_len,
    const char *policy, struct tsa_request **ret_req)
{
	unsigned char rnd[NONCE_LEN];
	struct tsa_request *r;
	ASN1_OBJECT *pol = NULL;
	ASN1_INTEGER *nonce = NULL;
	BIGNUM *bn = NULL;
	TS_REQ *req = NULL;
	int rc = -EIO;

	if (digest == NULL || digest_len != TSA_DIGEST_LEN || ret_req == NULL)
		return -EINVAL;
	ERR_clear_error();
	if (policy != NULL) {
		pol = policy_obj(policy);
		if (pol == NULL) {
			rc = -EINVAL;
			goto out;
		}
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto out;
	bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
	if (bn == NULL)
		goto out;
	nonce = BN_to_ASN1_INTEGER(bn, NULL);
	if (nonce == NULL)
		goto out;
	req = make_req(digest, pol, nonce);
	if (req == NULL)
		goto out;

	r = xcalloc(1, sizeof(*r));
	r->req = req;
	memcpy(r->digest, digest, TSA_DIGEST_LEN);
	*ret_req = r;
	rc = 0;
out:
	ASN1_INTEGER_free(nonce);
	BN_free(bn);
	ASN1_OBJECT_free(pol);
	ERR_clear_error();
	return rc;
}

int
tsa_request_der(const struct tsa_request *req, unsigned char **ret_der,
    size_t *ret_len)
{
	unsigned char *der, *p;
	int n;

	if (req == NULL || ret_der == NULL || ret_len == NULL)
		return -EINVAL;
	n = i2d_TS_REQ(req->req, NULL);
	if (n <= 0) {
		ERR_clear_error();
		return -EIO;
	}
	der = xmalloc((size_t)n);
	p = der;
	if (i2d_TS_REQ(req->req, &p) != n) {
		free(der);
		ERR_clear_error();
		return -EIO;
	}
	*ret_der = der;
	*ret_len = (size_t)n;
	return 0;
}

void
tsa_request_free(struct tsa_request *req)
{
	if (req == NULL)
		return;
	TS_REQ_free(req->req);
	free(req);
}

/*
 * 0 if the reply's status is granted or grantedWithMods; else -EPERM and
 * the status, the TSA's text and the failure bits in err.
 */
static int
check_status(TS_RESP *resp, char *err, size_t errlen)
{
	char text[STATUS_TEXT_MAX + 1], fail[200];
	TS_STATUS_INFO *si = TS_RESP_get_status_info(resp);
	const ASN1_UTF8STRING *s;
	const ASN1_BIT_STRING *fi;
	const char *name;
	size_t i, used;
	long status;
	char num[32];

	status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
	if (status == TS_STATUS_GRANTED ||
	    status == TS_STATUS_GRANTED_WITH_MODS)
		return 0;
	ERR_clear_error();	/* ASN1_INTEGER_get() on a huge value */
	if (status >= 0 && (size_t)status < ARRAY_SIZE(status_names))
		name = status_names[status];
	else {
		snprintf(num, sizeof(num), "unknown status %ld", status);
		name = num;
	}

	text[0] = '\0';
	if (TS_STATUS_INFO_get0_text(si) != NULL &&
	    sk_ASN1_UTF8STRING_num(TS_STATUS_INFO_get0_text(si)) > 0) {
		s = sk_ASN1_UTF8STRING_value(TS_STATUS_INFO_get0_text(si), 0);
		printable(text, sizeof(text),
		    (const char *)ASN1_STRING_get0_data(s),
		    (size_t)ASN1_STRING_length(s));
	}

	fail[0] = '\0';
	used = 0;
	fi = TS_STATUS_INFO_get0_failure_info(si);
	for (i = 0; fi != NULL && i < ARRAY_SIZE(failure_names); i++) {
		if (!ASN1_BIT_STRING_get_bit(fi, failure_names[i].bit))
			continue;
		snprintf(fail + used, sizeof(fail) - used, "%s%s",
		    used ? ", " : "", failure_names[i].name);
		used = strlen(fail);
	}

	seterr(err, errlen, "time-stamp not granted: %s%s%s%s%s%s%s", name,
	    text[0] ? ": \"" : "", text, text[0] ? "\"" : "",
	    fail[0] ? " (" : "", fail, fail[0] ? ")" : "");
	return -EPERM;
}

/*
 * 1 if the DER SEQUENCE at der starts with an OBJECT IDENTIFIER, as a
 * ContentInfo (the bare token) does; a TimeStampResp starts with the
 * PKIStatusInfo SEQUENCE.
 */
static int
looks_like_token(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	long n;
	int tag, xclass, r;

	r = ASN1_get_object(&p, &n, &tag, &xclass, (long)len);
	if ((r & 0x80) || tag != V_ASN1_SEQUENCE ||
	    xclass != V_ASN1_UNIVERSAL)
		return 0;
	return p < der + len && *p == V_ASN1_OBJECT;
}

static void
parsed_release(struct parsed *ps)
{
	TS_TST_INFO_free(ps->tst);
	if (ps->resp != NULL)
		TS_RESP_free(ps->resp);
	else
		PKCS7_free(ps->token);
	memset(ps, 0, sizeof(*ps));
}

/*
 * Parse a reply or bare token that must fill der exactly. 0, or -EBADMSG
 * (with nothing to release); the reply's status is not looked at.
 */
static int
parse_der(const unsigned char *der, size_t len, struct parsed *ps,
    char *err, size_t errlen)
{
	char why[256];
	const unsigned char *p = der;
	const char *what;

	memset(ps, 0, sizeof(*ps));
	if (len == 0) {
		seterr(err, errlen, "empty time-stamp reply");
		return -EBADMSG;
	}
	if (len > TSA_MAX_DER) {
		seterr(err, errlen, "time-stamp reply too large (%zu bytes, "
		    "limit %d)", len, TSA_MAX_DER);
		return -EBADMSG;
	}
	if (looks_like_token(der, len)) {
		what = "time-stamp token";
		ps->token = d2i_PKCS7(NULL, &p, (long)len);
		if (ps->token == NULL)
			goto bad;
	} else {
		what = "time-stamp reply";
		ps->resp = d2i_TS_RESP(NULL, &p, (long)len);
		if (ps->resp == NULL)
			goto bad;
		ps->token = TS_RESP_get_token(ps->resp);
	}
	if (p != der + len) {
		seterr(err, errlen, "malformed %s: %zu bytes after the end",
		    what, (size_t)(der + len - p));
		goto out_release;
	}
	/*
	 * A reply without a token is only well-formed when not granted
	 * (d2i_TS_RESP checks that); the caller looks at the status first.
	 */
	if (ps->token == NULL)
		return 0;
	ps->tst = PKCS7_to_TS_TST_INFO(ps->token);
	if (ps->tst == NULL) {
		ossl_reason(why, sizeof(why));
		seterr(err, errlen, "malformed %s: no TSTInfo (%s)", what, why);
		goto out_release;
	}
	return 0;

bad:
	ossl_reason(why, sizeof(why));
	seterr(err, errlen, "malformed %s: %s", what, why);
out_release:
	parsed_release(ps);
	ERR_clear_error();
	return -EBADMSG;
}

/* What the TSTInfo says, for the caller; 0 or -EBADMSG. */
static int
read_info(TS_TST_INFO *tst, struct tsa_info *info, char *err, size_t errlen)
{
	const ASN1_GENERALIZEDTIME *t;
	const ASN1_INTEGER *serial;
	GENERAL_NAME *gn;
	BIO *bio;
	struct tm tm;
	char *mem;
	long n;
	int len, off;

	memset(info, 0, sizeof(*info));
	t = TS_TST_INFO_get_time(tst);
	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		seterr(err, errlen, "malformed time-stamp token: bad genTime");
		return -EBADMSG;
	}
	info->gen_time = (int64_t)timegm(&tm);

	serial = TS_TST_INFO_get_serial(tst);
	len = serial != NULL ? ASN1_STRING_length(serial) : 0;
	if (len > SERIAL_OCTETS) {
		seterr(err, errlen, "malformed time-stamp token: serial number "
		    "of %d octets (limit %d)", len, SERIAL_OCTETS);
		return -EBADMSG;
	}
	off = 0;
	if (serial != NULL && ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER)
		info->serial[off++] = '-';
	if (len == 0)
		snprintf(info->serial + off, sizeof(info->serial) - off, "00");
	else if (off + 2 * len < (int)sizeof(info->serial))
		util_hex(ASN1_STRING_get0_data(serial), (size_t)len,
		    info->serial + off);
	else {
		seterr(err, errlen, "malformed time-stamp token: serial number "
		    "too long");
		return -EBADMSG;
	}

	len = OBJ_obj2txt(info->policy, sizeof(info->policy),
	    TS_TST_INFO_get_policy_id(tst), 1);
	if (len <= 0 || len >= (int)sizeof(info->policy)) {
		seterr(err, errlen, "malformed time-stamp token: bad policy");
		return -EBADMSG;
	}

	gn = TS_TST_INFO_get_tsa(tst);
	if (gn == NULL)
		return 0;
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL)
		return 0;	/* the name is informational */
	if (gn->type == GEN_DIRNAME)
		X509_NAME_print_ex(bio, gn->d.directoryName, 0,
		    XN_FLAG_RFC2253);
	else
		GENERAL_NAME_print(bio, gn);
	n = BIO_get_mem_data(bio, &mem);
	if (n > 0)
		printable(info->tsa_name, sizeof(info->tsa_name), mem,
		    (size_t)n);
	BIO_free(bio);
	return 0;
}

/* Give ctx the store (ctx owns it from here on, even on failure). */
static int
ctx_set_store(TS_VERIFY_CTX *ctx, X509_STORE *store)
{
#if OPENSSL_VERSION_NUMBER >= 0x30400000L
	return TS_VERIFY_CTX_set0_store(ctx, store);
#else
	return TS_VERIFY_CTX_set_store(ctx, store) == store;
#endif
}

/* The TS_VERIFY_CTX part of tsa_verify(): 0, -EPERM, -EINVAL or -EIO. */
static int
verify_token(PKCS7 *token, const struct tsa_request *req,
    const unsigned char *digest, const char *ca_file, const char *policy,
    char *err, size_t errlen)
{
	char why[256];
	const ASN1_INTEGER *nonce = NULL;
	ASN1_OBJECT *pol = NULL;
	const ASN1_OBJECT *want_pol = NULL;
	TS_VERIFY_CTX *ctx = NULL;
	X509_STORE *store = NULL;
	TS_REQ *vreq = NULL;
	int flags, rc = -EIO;

	if (policy != NULL) {
		pol = policy_obj(policy);
		if (pol == NULL) {
			seterr(err, errlen, "invalid policy OID '%.*s'",
			    TSA_OID_MAX, policy);
			rc = -EINVAL;
			goto out;
		}
		want_pol = pol;
	} else if (req != NULL)
		want_pol = TS_REQ_get_policy_id(req->req);
	if (req != NULL)
		nonce = TS_REQ_get_nonce(req->req);

	vreq = make_req(digest, want_pol, nonce);
	if (vreq == NULL)
		goto out_ossl;
	ctx = TS_REQ_to_TS_VERIFY_CTX(vreq, NULL);
	if (ctx == NULL)
		goto out_ossl;
	flags = TS_VFY_SIGNATURE | TS_VFY_VERSION | TS_VFY_IMPRINT |
	    TS_VFY_SIGNER;
	if (nonce != NULL)
		flags |= TS_VFY_NONCE;
	if (want_pol != NULL)
		flags |= TS_VFY_POLICY;
	TS_VERIFY_CTX_set_flags(ctx, flags);

	store = X509_STORE_new();
	if (store == NULL)
		goto out_ossl;
	if (X509_STORE_load_file(store, ca_file) != 1) {
		ossl_reason(why, sizeof(why));
		seterr(err, errlen, "cannot load CA file '%s': %s", ca_file,
		    why);
		X509_STORE_free(store);
		rc = -EINVAL;
		goto out;
	}
	if (!ctx_set_store(ctx, store))
		goto out_ossl;

	if (TS_RESP_verify_token(ctx, token) != 1) {
		ossl_reason(why, sizeof(why));
		seterr(err, errlen, "time-stamp verification failed: %s", why);
		rc = -EPERM;
		goto out;
	}
	rc = 0;
	goto out;

out_ossl:
	ossl_reason(why, sizeof(why));
	seterr(err, errlen, "cannot set up time-stamp verification: %s", why);
out:
	TS_VERIFY_CTX_free(ctx);
	TS_REQ_free(vreq);
	ASN1_OBJECT_free(pol);
	return rc;
}

int
tsa_verify(const unsigned char *der, size_t der_len,
    const struct tsa_request *req, const unsigned char *digest,
    size_t digest_len, const char *ca_file, const char *policy,
    struct tsa_info *ret_info, char *err, size_t errlen)
{
	struct tsa_info info;
	struct parsed ps;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((der == NULL && der_len > 0) || digest == NULL ||
	    digest_len != TSA_DIGEST_LEN || ca_file == NULL) {
		seterr(err, errlen, "invalid arguments");
		return -EINVAL;
	}
	if (req != NULL && memcmp(req->digest, digest, TSA_DIGEST_LEN) != 0) {
		seterr(err, errlen, "the request is for another digest");
		return -EINVAL;
	}
	ERR_clear_error();
	rc = parse_der(der, der_len, &ps, err, errlen);
	if (rc < 0)
		return rc;
	if (ps.resp != NULL) {
		rc = check_status(ps.resp, err, errlen);
		if (rc < 0)
			goto out;
	}
	if (ps.token == NULL) {
		/* d2i_TS_RESP lets no granted reply get here; be sure. */
		seterr(err, errlen, "malformed time-stamp reply: no token");
		rc = -EBADMSG;
		goto out;
	}
	rc = read_info(ps.tst, &info, err, errlen);
	if (rc < 0)
		goto out;
	rc = verify_token(ps.token, req, digest, ca_file, policy, err, errlen);
	if (rc < 0)
		goto out;
	if (ret_info != NULL)
		*ret_info = info;
out:
	parsed_release(&ps);
	ERR_clear_error();
	return rc;
}

int
tsa_token_from_response(const unsigned char *resp_der, size_t resp_len,
    unsigned char **ret_token, size_t *ret_len, char *err, size_t errlen)
{
	const unsigned char *p, *end, *start;
	TS_STATUS_INFO *si;
	struct parsed ps;
	unsigned char *tok;
	PKCS7 *p7;
	long n;
	int tag, xclass, rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((resp_der == NULL && resp_len > 0) || ret_token == NULL ||
	    ret_len == NULL) {
		seterr(err, errlen, "invalid arguments");
		return -EINVAL;
	}
	ERR_clear_error();
	rc = parse_der(resp_der, resp_len, &ps, err, errlen);
	if (rc < 0)
		return rc;
	if (ps.resp == NULL) {
		seterr(err, errlen, "malformed time-stamp reply: a bare token, "
		    "not a TimeStampResp");
		rc = -EBADMSG;
		goto out;
	}
	rc = check_status(ps.resp, err, errlen);
	if (rc < 0)
		goto out;
	if (ps.token == NULL) {
		seterr(err, errlen, "malformed time-stamp reply: no token");
		rc = -EBADMSG;
		goto out;
	}

	/*
	 * The token's own bytes, not a re-encoding: step over the outer
	 * SEQUENCE header and the PKIStatusInfo; the token is what the next
	 * d2i consumes. parse_der() has checked all of it already.
	 */
	rc = -EBADMSG;
	p = resp_der;
	end = resp_der + resp_len;
	if (ASN1_get_object(&p, &n, &tag, &xclass, (long)resp_len) & 0x80)
		goto out_bad;
	si = d2i_TS_STATUS_INFO(NULL, &p, end - p);
	if (si == NULL)
		goto out_bad;
	TS_STATUS_INFO_free(si);
	start = p;
	p7 = d2i_PKCS7(NULL, &p, end - p);
	if (p7 == NULL)
		goto out_bad;
	PKCS7_free(p7);

	tok = xmalloc((size_t)(p - start));
	memcpy(tok, start, (size_t)(p - start));
	*ret_token = tok;
	*ret_len = (size_t)(p - start);
	rc = 0;
	goto out;

out_bad:
	seterr(err, errlen, "malformed time-stamp reply: cannot find the "
	    "token");
out:
	parsed_release(&ps);
	ERR_clear_error();
	return rc;
}
