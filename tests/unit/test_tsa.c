/*
 * test_tsa.c - RFC 3161 requests and verification (daemon/tsa.c).
 *
 * Always:
 *   - the request: version 1, SHA-256 imprint, 64-bit nonce (fresh each
 *     time), certReq, reqPolicy only when asked; bad arguments refused;
 *   - hand-made replies: a rejection with text and failure info, waiting,
 *     a huge status, granted without a token, non-signed content;
 *   - random and DER-shaped garbage, oversized input: rejected, no crash.
 *
 * With SUNARCHIVE_TSA_DIR (a directory made by tests/tsa/mktsa.sh; set by
 * tests/e2e/test_tsa.py), against the local test TSA, spawning
 * "openssl ts -reply" and "openssl cms -sign" (posix_spawnp) for tokens:
 *   - a good reply and its bare token verify; genTime within 5 minutes of
 *     now, the policy, serial and TSA name come back;
 *   - rejected: another imprint, the nonce of a second query, another
 *     policy when one is required, an untrusted root, an expired TSA
 *     certificate, signers without a critical timeStamping EKU, a signer
 *     the TSA name does not name, two signers, no ESS attribute;
 *   - policy refused by the TSA: -EPERM with status, text, failure info;
 *   - every truncation and trailing bytes: -EBADMSG; two mutations of
 *     every byte: no crash, and whatever still verifies says the same.
 * Without it, those checks print one "ok # skip" line.
 *
 * Files left in the directory for test_tsa.py to cross-check with the
 * openssl CLI: good.{tsq,tsr,tst,digest}, reject.tsr, c_<signer>.tst.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ts.h>

#include "hash.h"
#include "tap.h"
#include "tsa.h"
#include "util.h"
#include "xalloc.h"

#define POLICY_DEFAULT	"1.2.3.4.1"	/* tsa.cnf.in default_policy */
#define POLICY_OTHER	"1.2.3.4.5"	/* in other_policies */
#define POLICY_OTHER2	"1.2.3.4.6"	/* in other_policies */
#define POLICY_UNLISTED	"1.2.3.4.99"	/* not offered: rejection */
#define TSTINFO_OID	"1.2.840.113549.1.9.16.1.4"

static const char *tsa_dir;
static char err[512];

/* --- helpers ------------------------------------------------------- */

/* DIR/name in one of a few rotating buffers (argv arrays use several). */
static const char *
P(const char *name)
{
	static char bufs[16][1024];
	static unsigned int next;
	char *b = bufs[next++ % ARRAY_SIZE(bufs)];

	snprintf(b, sizeof(bufs[0]), "%s/%s", tsa_dir, name);
	return b;
}

static int
has(const char *s, const char *needle)
{
	return s != NULL && strstr(s, needle) != NULL;
}

static int
write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL)
		return -1;
	ok = fwrite(p, 1, n, f) == n;
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

static int
read_file(const char *path, unsigned char **ret, size_t *ret_len)
{
	unsigned char *p = NULL;
	size_t n = 0, cap = 0, r;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return -1;
	for (;;) {
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			p = xrealloc(p, cap);
		}
		r = fread(p + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	*ret = p;
	*ret_len = n;
	return 0;
}

/* Run argv (argv[0] looked up in PATH), output to DIR/openssl.log. */
static int
run(const char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc, status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, P("openssl.log"),
	    O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv,
	    environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *
xstrcat3(const char *a, const char *b)
{
	return xasprintf("%s%s", a, b);
}

/*
 * Send req (as DIR/name.tsq) to the test TSA, signing with the key and
 * certificate DIR/signer.{key,pem}, optionally with -tspolicy; read the
 * reply DIR/name.tsr. 0 or -1.
 */
static int
issue(const struct tsa_request *req, const char *name, const char *signer,
    const char *tspolicy, unsigned char **ret, size_t *ret_len)
{
	unsigned char *der;
	size_t len;
	char *q = xstrcat3(name, ".tsq"), *r = xstrcat3(name, ".tsr");
	char *k = xstrcat3(signer, ".key"), *c = xstrcat3(signer, ".pem");
	const char *argv[] = { "openssl", "ts", "-reply", "-config",
	    P("tsa.cnf"), "-queryfile", P(q), "-inkey", P(k), "-signer",
	    P(c), "-out", P(r), tspolicy ? "-tspolicy" : NULL, tspolicy,
	    NULL };
	int rc = -1;

	if (tsa_request_der(req, &der, &len) != 0)
		goto out;
	if (write_file(P(q), der, len) != 0) {
		free(der);
		goto out;
	}
	free(der);
	unlink(P(r));
	if (run(argv) != 0)
		goto out;
	rc = read_file(P(r), ret, ret_len);
out:
	free(q);
	free(r);
	free(k);
	free(c);
	return rc;
}

/*
 * A token built outside the TSA: DIR/tstinfo.der signed as CMS with
 * eContentType id-ct-TSTInfo by signer (and signer2 if not NULL), with
 * the ESS signingCertificateV2 attribute when cades. Read into *ret.
 */
static int
craft(const char *name, const char *signer, const char *signer2, int cades,
    unsigned char **ret, size_t *ret_len)
{
	char *out = xasprintf("c_%s.tst", name);
	char *k = xstrcat3(signer, ".key"), *c = xstrcat3(signer, ".pem");
	char *k2 = xstrcat3(signer2 ? signer2 : "", ".key");
	char *c2 = xstrcat3(signer2 ? signer2 : "", ".pem");
	const char *argv[32];
	size_t n = 0;
	int rc = -1;

	argv[n++] = "openssl";
	argv[n++] = "cms";
	argv[n++] = "-sign";
	argv[n++] = "-binary";
	argv[n++] = "-nodetach";
	argv[n++] = "-nosmimecap";
	argv[n++] = "-md";
	argv[n++] = "sha256";
	argv[n++] = "-econtent_type";
	argv[n++] = TSTINFO_OID;
	argv[n++] = "-in";
	argv[n++] = P("tstinfo.der");
	argv[n++] = "-signer";
	argv[n++] = P(c);
	argv[n++] = "-inkey";
	argv[n++] = P(k);
	if (signer2 != NULL) {
		argv[n++] = "-signer";
		argv[n++] = P(c2);
		argv[n++] = "-inkey";
		argv[n++] = P(k2);
	}
	if (cades)
		argv[n++] = "-cades";
	argv[n++] = "-outform";
	argv[n++] = "DER";
	argv[n++] = "-out";
	argv[n++] = P(out);
	argv[n] = NULL;

	unlink(P(out));
	if (run(argv) == 0)
		rc = read_file(P(out), ret, ret_len);
	free(out);
	free(k);
	free(c);
	free(k2);
	free(c2);
	return rc;
}

static void
sha(const char *s, unsigned char out[TSA_DIGEST_LEN])
{
	hash_sha256(s, strlen(s), out);
}

/* Deterministic pseudo-random bytes (xorshift64). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* --- always: requests ---------------------------------------------- */

static void
test_request(void)
{
	unsigned char digest[TSA_DIGEST_LEN], *der, *der2;
	const unsigned char *p;
	size_t len, len2;
	struct tsa_request *req = NULL, *req2 = NULL, *preq = NULL;
	TS_REQ *r, *r2, *pr;
	TS_MSG_IMPRINT *mi;
	const ASN1_OCTET_STRING *msg;
	const ASN1_INTEGER *nonce;
	char oid[64];

	sha("checkpoint", digest);
	is_int(tsa_request_new(digest, TSA_DIGEST_LEN, NULL, &req), 0,
	    "tsa_request_new");
	is_int(tsa_request_der(req, &der, &len), 0, "tsa_request_der");
	p = der;
	r = d2i_TS_REQ(NULL, &p, (long)len);
	ok(r != NULL && p == der + len, "the request is one DER TS_REQ");
	if (r == NULL)
		return;
	is_int(TS_REQ_get_version(r), 1, "version 1");
	mi = TS_REQ_get_msg_imprint(r);
	is_int(OBJ_obj2nid(TS_MSG_IMPRINT_get_algo(mi)->algorithm),
	    NID_sha256, "imprint algorithm sha256");
	msg = TS_MSG_IMPRINT_get_msg(mi);
	ok(ASN1_STRING_length(msg) == TSA_DIGEST_LEN &&
	    memcmp(ASN1_STRING_get0_data(msg), digest, TSA_DIGEST_LEN) == 0,
	    "imprint is the digest");
	ok(TS_REQ_get_cert_req(r), "certReq TRUE");
	ok(TS_REQ_get_policy_id(r) == NULL, "no reqPolicy unless asked");
	nonce = TS_REQ_get_nonce(r);
	ok(nonce != NULL && ASN1_STRING_length(nonce) >= 1 &&
	    ASN1_STRING_length(nonce) <= 8 &&
	    ASN1_STRING_type(nonce) == V_ASN1_INTEGER,
	    "a positive nonce of at most 64 bits");
	ok(TS_REQ_get_exts(r) == NULL, "no extensions");

	is_int(tsa_request_new(digest, TSA_DIGEST_LEN, NULL, &req2), 0,
	    "a second request");
	is_int(tsa_request_der(req2, &der2, &len2), 0, "its DER");
	p = der2;
	r2 = d2i_TS_REQ(NULL, &p, (long)len2);
	ok(r2 != NULL && nonce != NULL && TS_REQ_get_nonce(r2) != NULL &&
	    ASN1_INTEGER_cmp(nonce, TS_REQ_get_nonce(r2)) != 0,
	    "each request has its own nonce");

	is_int(tsa_request_new(digest, TSA_DIGEST_LEN, POLICY_DEFAULT, &preq),
	    0, "a request with a policy");
	free(der);
	is_int(tsa_request_der(preq, &der, &len), 0, "its DER");
	p = der;
	pr = d2i_TS_REQ(NULL, &p, (long)len);
	oid[0] = '\0';
	if (pr != NULL && TS_REQ_get_policy_id(pr) != NULL)
		OBJ_obj2txt(oid, sizeof(oid), TS_REQ_get_policy_id(pr), 1);
	is_str(oid, POLICY_DEFAULT, "reqPolicy is the policy asked for");

	TS_REQ_free(r);
	TS_REQ_free(r2);
	TS_REQ_free(pr);
	free(der);
	free(der2);
	tsa_request_free(req);
	tsa_request_free(req2);
	tsa_request_free(preq);
	tsa_request_free(NULL);
}

static void
test_request_args(void)
{
	unsigned char digest[TSA_DIGEST_LEN];
	struct tsa_request *req = NULL;
	char longoid[300];

	sha("x", digest);
	is_int(tsa_request_new(digest, 20, NULL, &req), -EINVAL,
	    "a 20-byte digest is refused");
	is_int(tsa_request_new(NULL, TSA_DIGEST_LEN, NULL, &req), -EINVAL,
	    "a NULL digest is refused");
	is_int(tsa_request_new(digest, TSA_DIGEST_LEN, "tsa_policy1", &req),
	    -EINVAL, "a policy by name is refused (dotted OIDs only)");
	is_int(tsa_request_new(digest, TSA_DIGEST_LEN, "1.2.x", &req),
	    -EINVAL, "a malformed policy OID is refused");
	is_int(tsa_request_new(digest, TSA_DIGEST_LEN, "", &req), -EINVAL,
	    "an empty policy is refused");
	memset(longoid, '1', sizeof(longoid) - 1);
	longoid[sizeof(longoid) - 1] = '\0';
	longoid[1] = '.';
	is_int(tsa_request_new(digest, TSA_DIGEST_LEN, longoid, &req),
	    -EINVAL, "an over-long policy is refused");
	ok(req == NULL, "nothing returned on failure");
}

/* --- always: hand-made replies and garbage -------------------------- */

/* SEQUENCE { PKIStatusInfo { 2, { "nope\x01" }, unacceptedPolicy } } */
static const unsigned char reply_rejected[] = {
	0x30, 0x13, 0x30, 0x11, 0x02, 0x01, 0x02,
	0x30, 0x07, 0x0c, 0x05, 'n', 'o', 'p', 'e', 0x01,
	0x03, 0x03, 0x00, 0x00, 0x01,
};
static const unsigned char reply_waiting[] = {
	0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x03,
};
static const unsigned char reply_huge_status[] = {
	0x30, 0x0f, 0x30, 0x0d, 0x02, 0x0b,
	0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
static const unsigned char reply_granted_no_token[] = {
	0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x00,
};
/* ContentInfo { id-data } and { id-signedData } without content. */
static const unsigned char token_data[] = {
	0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
	0x07, 0x01,
};
static const unsigned char token_signed_empty[] = {
	0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
	0x07, 0x02,
};

static int
verify_plain(const unsigned char *der, size_t len)
{
	unsigned char digest[TSA_DIGEST_LEN];

	sha("x", digest);
	return tsa_verify(der, len, NULL, digest, TSA_DIGEST_LEN,
	    "/nonexistent/ca.pem", NULL, NULL, err, sizeof(err));
}

static void
test_replies(void)
{
	unsigned char *tok = NULL;
	size_t toklen = 0;
	int rc;

	rc = tsa_token_from_response(reply_rejected, sizeof(reply_rejected),
	    &tok, &toklen, err, sizeof(err));
	is_int(rc, -EPERM, "rejection: -EPERM");
	is_str(err, "time-stamp not granted: rejection: \"nope?\" "
	    "(unacceptedPolicy)", "rejection: status, sanitised text, "
	    "failure info");
	ok(tok == NULL, "rejection: no token returned");
	is_int(verify_plain(reply_rejected, sizeof(reply_rejected)), -EPERM,
	    "tsa_verify of a rejection: -EPERM");
	ok(has(err, "rejection"), "tsa_verify says why: %s", err);

	rc = tsa_token_from_response(reply_waiting, sizeof(reply_waiting),
	    &tok, &toklen, err, sizeof(err));
	is_int(rc, -EPERM, "waiting: -EPERM");
	is_str(err, "time-stamp not granted: waiting", "waiting: status");

	rc = tsa_token_from_response(reply_huge_status,
	    sizeof(reply_huge_status), &tok, &toklen, err, sizeof(err));
	is_int(rc, -EPERM, "an out-of-range status: -EPERM");
	ok(has(err, "unknown status"), "named unknown: %s", err);

	rc = tsa_token_from_response(reply_granted_no_token,
	    sizeof(reply_granted_no_token), &tok, &toklen, err, sizeof(err));
	is_int(rc, -EBADMSG, "granted without a token: -EBADMSG");
	is_int(verify_plain(reply_granted_no_token,
	    sizeof(reply_granted_no_token)), -EBADMSG,
	    "tsa_verify: granted without a token: -EBADMSG");

	is_int(verify_plain(token_data, sizeof(token_data)), -EBADMSG,
	    "a ContentInfo of type data: -EBADMSG");
	ok(has(err, "TSTInfo"), "says there is no TSTInfo: %s", err);
	is_int(verify_plain(token_signed_empty, sizeof(token_signed_empty)),
	    -EBADMSG, "a SignedData ContentInfo without content: -EBADMSG");
	rc = tsa_token_from_response(token_data, sizeof(token_data), &tok,
	    &toklen, err, sizeof(err));
	is_int(rc, -EBADMSG, "tsa_token_from_response of a bare token: "
	    "-EBADMSG");

	is_int(verify_plain(NULL, 0), -EBADMSG, "empty input: -EBADMSG");
	rc = tsa_token_from_response(NULL, 0, &tok, &toklen, err,
	    sizeof(err));
	is_int(rc, -EBADMSG, "tsa_token_from_response of nothing: -EBADMSG");
	is_int(verify_plain(NULL, 5), -EINVAL, "NULL with a length: -EINVAL");
	rc = tsa_verify(reply_waiting, sizeof(reply_waiting), NULL,
	    (const unsigned char *)"short", 5, "/x", NULL, NULL, NULL, 0);
	is_int(rc, -EINVAL, "a 5-byte digest: -EINVAL (NULL err is fine)");
}

static void
test_garbage(void)
{
	unsigned char buf[512], *big, *tok;
	size_t i, len, toklen, bad = 0, n = 0;
	int rc, rc2;

	/* Random bytes, and random bytes behind plausible DER headers. */
	for (i = 0; i < 3000; i++) {
		size_t j;

		len = (size_t)(rng() % sizeof(buf));
		for (j = 0; j < len; j++)
			buf[j] = (unsigned char)rng();
		if (i % 3 == 1 && len > 4) {
			buf[0] = 0x30;
			buf[1] = (unsigned char)(len < 130 ? len - 2 : 0x81);
			buf[2] = i % 2 ? 0x30 : 0x06;
		} else if (i % 3 == 2 && len > 16) {
			/* a signedData ContentInfo header, random inside */
			memcpy(buf, token_signed_empty,
			    sizeof(token_signed_empty));
			buf[1] = 0x81;
			buf[2] = (unsigned char)(len - 3);
			buf[3] = 0x06;
		}
		rc = verify_plain(buf, len);
		rc2 = tsa_token_from_response(buf, len, &tok, &toklen, err,
		    sizeof(err));
		if (rc2 == 0)
			free(tok);
		if ((rc != -EBADMSG && rc != -EPERM) ||
		    (rc2 != -EBADMSG && rc2 != -EPERM))
			bad++;
		n++;
	}
	is_int(bad, 0, "%zu random inputs: all rejected, no crash",
	    n);

	/* Deep nesting. */
	for (i = 0; i + 1 < sizeof(buf); i += 2) {
		buf[i] = 0x30;
		buf[i + 1] = 0x80;	/* indefinite length */
	}
	rc = verify_plain(buf, sizeof(buf));
	ok(rc == -EBADMSG, "deeply nested indefinite SEQUENCEs: -EBADMSG");

	/* Over the size limit, though it starts like a reply. */
	big = xcalloc(1, TSA_MAX_DER + 1);
	big[0] = 0x30;
	big[1] = 0x83;
	big[2] = 0x10;
	big[3] = 0x00;
	big[4] = 0x00;
	is_int(verify_plain(big, TSA_MAX_DER + 1), -EBADMSG,
	    "over 1 MiB: -EBADMSG");
	ok(has(err, "too large"), "says so: %s", err);
	is_int(tsa_token_from_response(big, TSA_MAX_DER + 1, &tok, &toklen,
	    err, sizeof(err)), -EBADMSG, "tsa_token_from_response: over "
	    "1 MiB: -EBADMSG");
	free(big);
}

/* --- with the local test TSA ----------------------------------------- */

struct fixture {
	unsigned char		 digest[TSA_DIGEST_LEN];
	struct tsa_request	*req;
	unsigned char		*resp, *tok;
	size_t			 resp_len, tok_len;
	struct tsa_info		 info;
};

static int
info_eq(const struct tsa_info *a, const struct tsa_info *b)
{
	return a->gen_time == b->gen_time &&
	    strcmp(a->serial, b->serial) == 0 &&
	    strcmp(a->policy, b->policy) == 0 &&
	    strcmp(a->tsa_name, b->tsa_name) == 0;
}

static int
verify(const unsigned char *der, size_t len, const struct tsa_request *req,
    const unsigned char *digest, const char *ca, const char *policy,
    struct tsa_info *info)
{
	struct tsa_info dummy;

	return tsa_verify(der, len, req, digest, TSA_DIGEST_LEN, P(ca), policy,
	    info ? info : &dummy, err, sizeof(err));
}

static int
test_good(struct fixture *f)
{
	struct tsa_info ti;
	char hex[HASH_HEX_LEN];
	int64_t now = (int64_t)time(NULL);
	int rc;

	sha("sunarchive checkpoint 1", f->digest);
	if (tsa_request_new(f->digest, TSA_DIGEST_LEN, NULL, &f->req) != 0 ||
	    issue(f->req, "good", "tsa1", NULL, &f->resp, &f->resp_len) != 0) {
		ok(0, "the test TSA answers our request (see %s)",
		    P("openssl.log"));
		return -1;
	}
	ok(1, "the test TSA answers our request (%zu bytes)", f->resp_len);

	rc = verify(f->resp, f->resp_len, f->req, f->digest, "ca1.pem", NULL,
	    &f->info);
	is_int(rc, 0, "good reply verifies (with nonce)");
	if (rc != 0)
		printf("#   %s\n", err);
	ok(f->info.gen_time > now - 300 && f->info.gen_time < now + 300,
	    "genTime within 5 minutes of now (%lld vs %lld)",
	    (long long)f->info.gen_time, (long long)now);
	is_str(f->info.policy, POLICY_DEFAULT, "policy is the TSA default");
	ok(strlen(f->info.serial) >= 2 && strlen(f->info.serial) % 2 == 0 &&
	    strspn(f->info.serial, "0123456789abcdef") ==
	    strlen(f->info.serial), "serial is lower-case hex: %s",
	    f->info.serial);
	is_str(f->info.tsa_name, "CN=sunarchive test TSA 1,O=sunarchive test",
	    "TSA name, RFC 2253");

	is_int(verify(f->resp, f->resp_len, NULL, f->digest, "ca1.pem", NULL,
	    NULL), 0, "good reply verifies without the request");
	is_int(verify(f->resp, f->resp_len, f->req, f->digest, "ca1.pem",
	    POLICY_DEFAULT, NULL), 0, "and with the policy required");

	rc = tsa_token_from_response(f->resp, f->resp_len, &f->tok,
	    &f->tok_len, err, sizeof(err));
	is_int(rc, 0, "token extracted from the reply");
	if (rc != 0)
		return -1;
	ok(f->tok_len < f->resp_len && memcmp(f->resp + f->resp_len -
	    f->tok_len, f->tok, f->tok_len) == 0,
	    "the token is the reply's own bytes (%zu of %zu)", f->tok_len,
	    f->resp_len);
	memset(&ti, 0, sizeof(ti));
	is_int(verify(f->tok, f->tok_len, f->req, f->digest, "ca1.pem",
	    POLICY_DEFAULT, &ti), 0, "the bare token verifies");
	ok(info_eq(&ti, &f->info),
	    "token and reply give the same tsa_info");
	rc = tsa_token_from_response(f->tok, f->tok_len, &f->tok,
	    &f->tok_len, err, sizeof(err));
	is_int(rc, -EBADMSG, "tsa_token_from_response wants a reply");

	util_hex(f->digest, TSA_DIGEST_LEN, hex);
	write_file(P("good.tst"), f->tok, f->tok_len);
	write_file(P("good.digest"), hex, strlen(hex));
	return 0;
}

static void
test_imprint_nonce(struct fixture *f)
{
	unsigned char other[TSA_DIGEST_LEN], *resp2;
	struct tsa_request *req2;
	size_t len2;

	sha("sunarchive checkpoint 2", other);
	is_int(verify(f->resp, f->resp_len, NULL, other, "ca1.pem", NULL,
	    NULL), -EPERM, "wrong imprint: -EPERM");
	ok(has(err, "imprint"), "says so: %s", err);
	is_int(verify(f->tok, f->tok_len, NULL, other, "ca1.pem", NULL, NULL),
	    -EPERM, "wrong imprint, bare token: -EPERM");
	is_int(verify(f->resp, f->resp_len, f->req, other, "ca1.pem", NULL,
	    NULL), -EINVAL, "a request for another digest: -EINVAL");

	if (tsa_request_new(f->digest, TSA_DIGEST_LEN, NULL, &req2) != 0 ||
	    issue(req2, "second", "tsa1", NULL, &resp2, &len2) != 0) {
		ok(0, "second query answered");
		return;
	}
	is_int(verify(resp2, len2, f->req, f->digest, "ca1.pem", NULL, NULL),
	    -EPERM, "reply to a second query, first request: -EPERM");
	ok(has(err, "nonce"), "says so: %s", err);
	is_int(verify(resp2, len2, req2, f->digest, "ca1.pem", NULL, NULL), 0,
	    "the same reply with its own request verifies");
	tsa_request_free(req2);
	free(resp2);
}

static void
test_policy(struct fixture *f)
{
	struct tsa_request *req, *preq;
	struct tsa_info ti;
	unsigned char *resp, *tok = NULL;
	size_t len, toklen = 0;
	int rc;

	/* A query without a policy answered under another one. */
	if (tsa_request_new(f->digest, TSA_DIGEST_LEN, NULL, &req) != 0 ||
	    issue(req, "otherpol", "tsa1", POLICY_OTHER, &resp, &len) != 0) {
		ok(0, "reply under -tspolicy " POLICY_OTHER);
		return;
	}
	is_int(verify(resp, len, req, f->digest, "ca1.pem", POLICY_DEFAULT,
	    NULL), -EPERM, "wrong policy when one is required: -EPERM");
	ok(has(err, "policy"), "says so: %s", err);
	is_int(verify(resp, len, req, f->digest, "ca1.pem", NULL, &ti), 0,
	    "the same token without a required policy verifies");
	is_str(ti.policy, POLICY_OTHER, "and reports its policy");
	is_int(verify(resp, len, req, f->digest, "ca1.pem", POLICY_OTHER,
	    NULL), 0, "and with that policy required");
	tsa_request_free(req);
	free(resp);

	/* A query asking for a listed policy; the request's is checked. */
	if (tsa_request_new(f->digest, TSA_DIGEST_LEN, POLICY_OTHER2,
	    &preq) != 0 ||
	    issue(preq, "askpol", "tsa1", NULL, &resp, &len) != 0) {
		ok(0, "reply to a query asking for " POLICY_OTHER2);
		return;
	}
	is_int(verify(resp, len, preq, f->digest, "ca1.pem", NULL, &ti), 0,
	    "a requested (listed) policy is granted and verifies");
	is_str(ti.policy, POLICY_OTHER2, "under the policy asked for");
	is_int(verify(resp, len, preq, f->digest, "ca1.pem", POLICY_DEFAULT,
	    NULL), -EPERM, "the policy argument overrides the request's");
	tsa_request_free(preq);
	free(resp);

	/* A policy the TSA does not offer: rejection. */
	if (tsa_request_new(f->digest, TSA_DIGEST_LEN, POLICY_UNLISTED,
	    &preq) != 0 ||
	    issue(preq, "reject", "tsa1", NULL, &resp, &len) != 0) {
		ok(0, "reply to a query asking for " POLICY_UNLISTED);
		return;
	}
	rc = tsa_token_from_response(resp, len, &tok, &toklen, err,
	    sizeof(err));
	is_int(rc, -EPERM, "policy refused: tsa_token_from_response -EPERM");
	is_str(err, "time-stamp not granted: rejection: \"Requested policy "
	    "is not supported.\" (unacceptedPolicy)",
	    "with status, text and failure info");
	ok(tok == NULL, "and no token");
	is_int(verify(resp, len, preq, f->digest, "ca1.pem", NULL, NULL),
	    -EPERM, "policy refused: tsa_verify -EPERM");
	ok(has(err, "rejection"), "says so: %s", err);
	tsa_request_free(preq);
	free(resp);
}

static void
test_trust(struct fixture *f)
{
	unsigned char *resp;
	size_t len;

	is_int(verify(f->resp, f->resp_len, f->req, f->digest, "ca2.pem",
	    NULL, NULL), -EPERM, "CA file without the issuing root: -EPERM");
	ok(has(err, "certificate verify error"), "says so: %s", err);
	is_int(verify(f->tok, f->tok_len, f->req, f->digest, "ca2.pem", NULL,
	    NULL), -EPERM, "the same for the bare token");
	is_int(tsa_verify(f->resp, f->resp_len, f->req, f->digest,
	    TSA_DIGEST_LEN, P("missing.pem"), NULL, NULL, err, sizeof(err)),
	    -EINVAL, "a CA file that cannot be loaded: -EINVAL");
	ok(has(err, "missing.pem"), "names the file: %s", err);

	if (issue(f->req, "tsa2", "tsa2", NULL, &resp, &len) != 0) {
		ok(0, "reply from the untrusted TSA");
		return;
	}
	is_int(verify(resp, len, f->req, f->digest, "ca1.pem", NULL, NULL),
	    -EPERM, "token of a TSA under another root: -EPERM");
	is_int(verify(resp, len, f->req, f->digest, "ca2.pem", NULL, NULL), 0,
	    "the same token with its own root verifies");
	free(resp);

	if (issue(f->req, "expired", "expired", NULL, &resp, &len) != 0) {
		ok(0, "reply signed with the expired certificate");
		return;
	}
	is_int(verify(resp, len, f->req, f->digest, "ca1.pem", NULL, NULL),
	    -EPERM, "expired TSA certificate: -EPERM");
	ok(has(err, "expired"), "says so: %s", err);
	free(resp);
}

/* Tokens signed with "openssl cms -sign", the TSTInfo of the good one. */
static void
test_crafted(struct fixture *f)
{
	static const struct {
		const char	*name, *signer, *signer2;
		int		 cades, want;
		const char	*why, *what;
	} cases[] = {
		{ "tsa1", "tsa1", NULL, 1, 0, NULL,
		  "the recipe itself (TSA certificate, ESS): verifies" },
		{ "noeku", "noeku", NULL, 1, -EPERM, "purpose",
		  "signer without extendedKeyUsage: -EPERM" },
		{ "noncrit", "noncrit", NULL, 1, -EPERM, "purpose",
		  "signer with a non-critical timeStamping EKU: -EPERM" },
		{ "tsa1b", "tsa1b", NULL, 1, -EPERM, "name",
		  "signer the TSA name does not name: -EPERM" },
		{ "two", "tsa1", "tsa1b", 1, -EPERM, "one signer",
		  "two signers: -EPERM" },
		{ "noess", "tsa1", NULL, 0, -EPERM, "signing certificate",
		  "no ESS signing-certificate attribute: -EPERM" },
	};
	TS_RESP *resp;
	const unsigned char *p = f->resp;
	unsigned char *der = NULL, *tok;
	size_t i, len;
	int n;

	resp = d2i_TS_RESP(NULL, &p, (long)f->resp_len);
	n = resp ? i2d_TS_TST_INFO(TS_RESP_get_tst_info(resp), &der) : -1;
	TS_RESP_free(resp);
	if (n <= 0 || write_file(P("tstinfo.der"), der, (size_t)n) != 0) {
		ok(0, "TSTInfo of the good token written");
		OPENSSL_free(der);
		return;
	}
	OPENSSL_free(der);

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (craft(cases[i].name, cases[i].signer, cases[i].signer2,
		    cases[i].cades, &tok, &len) != 0) {
			ok(0, "openssl cms -sign for %s (see %s)",
			    cases[i].name, P("openssl.log"));
			continue;
		}
		is_int(verify(tok, len, f->req, f->digest, "ca1.pem", NULL,
		    NULL), cases[i].want, "crafted token: %s", cases[i].what);
		if (cases[i].why != NULL)
			ok(has(err, cases[i].why), "says so: %s", err);
		free(tok);
	}
}

/* Cut and mutate the good reply and token; nothing may crash. */
static void
test_damage(struct fixture *f)
{
	const struct {
		const char		*what;
		const unsigned char	*der;
		size_t			 len;
	} inputs[] = {
		{ "reply", f->resp, f->resp_len },
		{ "token", f->tok, f->tok_len },
	};
	unsigned char *buf, *tok;
	struct tsa_info ti;
	size_t i, k, len, toklen, wrong, verified, odd;
	int rc;

	for (k = 0; k < ARRAY_SIZE(inputs); k++) {
		len = inputs[k].len;
		buf = xmalloc(len + 1);
		memcpy(buf, inputs[k].der, len);
		wrong = 0;
		for (i = 0; i < len; i++) {
			rc = verify(buf, i, f->req, f->digest, "ca1.pem", NULL,
			    NULL);
			if (rc != -EBADMSG)
				wrong++;
			rc = tsa_token_from_response(buf, i, &tok, &toklen,
			    err, sizeof(err));
			if (rc == 0) {
				free(tok);
				wrong++;
			}
		}
		is_int(wrong, 0, "%s cut at each of %zu lengths: -EBADMSG",
		    inputs[k].what, len);
		buf[len] = 0;
		is_int(verify(buf, len + 1, f->req, f->digest, "ca1.pem",
		    NULL, NULL), -EBADMSG, "%s with a trailing byte: -EBADMSG",
		    inputs[k].what);

		verified = odd = 0;
		for (i = 0; i < 2 * len; i++) {
			unsigned char mask = i < len ?
			    (unsigned char)(1u << (i % 8)) : 0xff;

			buf[i % len] ^= mask;
			memset(&ti, 0, sizeof(ti));
			rc = verify(buf, len, f->req, f->digest, "ca1.pem",
			    NULL, &ti);
			if (rc == 0) {
				verified++;
				if (!info_eq(&ti, &f->info))
					odd++;
			} else if (rc != -EBADMSG && rc != -EPERM)
				odd++;
			rc = tsa_token_from_response(buf, len, &tok, &toklen,
			    err, sizeof(err));
			if (rc == 0)
				free(tok);
			buf[i % len] ^= mask;
		}
		printf("# %s: %zu of %zu mutations still verify (unsigned "
		    "parts)\n", inputs[k].what, verified, 2 * len);
		is_int(odd, 0, "%s: %zu mutations, no crash, and what still "
		    "verifies says the same", inputs[k].what, 2 * len);
		free(buf);
	}
}

static void
test_with_tsa(void)
{
	struct fixture f;

	memset(&f, 0, sizeof(f));
	if (test_good(&f) == 0) {
		test_imprint_nonce(&f);
		test_policy(&f);
		test_trust(&f);
		test_crafted(&f);
		test_damage(&f);
	}
	tsa_request_free(f.req);
	free(f.resp);
	free(f.tok);
}

int
main(void)
{
	test_request();
	test_request_args();
	test_replies();
	test_garbage();

	tsa_dir = getenv("SUNARCHIVE_TSA_DIR");
	if (tsa_dir == NULL || *tsa_dir == '\0')
		ok(1, "# skip SUNARCHIVE_TSA_DIR not set: local TSA checks "
		    "run from tests/e2e/test_tsa.py");
	else
		test_with_tsa();
	return tap_done();
}
