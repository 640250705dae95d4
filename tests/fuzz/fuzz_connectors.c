/*
 * fuzz_connectors.c - what the daemon makes of a platform's or a
 * time-stamping authority's reply, on arbitrary bytes.
 *
 * An input that starts with "HTTP/" is an HTTP exchange as fetch.c keeps
 * it: the head (status line and headers, up to the first blank line) and
 * the body. The body is parsed as capture.c does (json_loadb) and both
 * connectors' classifiers run on it, through the tables in connector.h.
 *
 * Anything else is DER from a TSA: tsa_token_from_response() extracts the
 * token, and tsa_verify() checks the input (a reply or a bare token) and
 * the extracted token against the test CA in tsa_ca.h (put in an
 * in-memory file at start-up), for the digest the seed tokens stamp.
 * tests/fuzz/mkcorpus.py makes that CA and the seeds.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "connector.h"
#include "fetch.h"
#include "tsa.h"

#include "fuzz.h"
#include "tsa_ca.h"

/* A fixed "now" (2026-03-01), so that every run sees the same verdicts. */
#define NOW		1772323200LL

static char	ca_path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	fd = fuzz_memfd("fuzz-tsa-ca", ca_path, sizeof(ca_path));
	fuzz_memfd_set(fd, fuzz_tsa_ca_pem, strlen(fuzz_tsa_ca_pem));
	return 0;
}

static void
check_verdict(const struct conn_verdict *v)
{
	FUZZ_CHECK(v->outcome >= CONN_OK && v->outcome <= CONN_ERROR);
	FUZZ_CHECK(memchr(v->reason, '\0', sizeof(v->reason)) != NULL);
	FUZZ_CHECK(v->retry_at == 0 || v->retry_at > NOW);
}

static void
http(const uint8_t *data, size_t size)
{
	struct fetch_resp resp;
	struct conn_verdict v;
	const char *end, *sp;
	size_t hlen;
	json_t *json;
	char val[64];

	end = memmem(data, size, "\r\n\r\n", 4);
	hlen = end != NULL ? (size_t)(end - (const char *)data) + 4 : size;
	fetch_resp_init(&resp);
	if (buf_append(&resp.head, data, hlen) < 0 ||
	    buf_append(&resp.body, data + hlen, size - hlen) < 0)
		goto out;
	/* "HTTP/1.1 200 OK": the three digits after the first space. */
	sp = memchr(resp.head.data, ' ', resp.head.len);
	if (sp != NULL && (size_t)(sp - resp.head.data) + 4 <=
	    resp.head.len && sp[1] >= '1' && sp[1] <= '9' &&
	    sp[2] >= '0' && sp[2] <= '9' && sp[3] >= '0' && sp[3] <= '9')
		resp.status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 +
		    (sp[3] - '0');
	/* What capture.c does with every reply. */
	json = json_loadb(resp.body.data != NULL ? resp.body.data : "",
	    resp.body.len, JSON_REJECT_DUPLICATES, NULL);

	conn_facebook.classify(&resp, json, NOW, &v);
	check_verdict(&v);
	conn_mastodon.classify(&resp, json, NOW, &v);
	check_verdict(&v);
	if (fetch_header(&resp, "Link", val, sizeof(val)) == 0)
		FUZZ_CHECK(strlen(val) < sizeof(val));
	json_decref(json);
out:
	fetch_resp_release(&resp);
}

static void
verify(const uint8_t *der, size_t len)
{
	struct tsa_info info;
	char err[512];
	int r;

	memset(&info, 0, sizeof(info));
	r = tsa_verify(der, len, NULL, fuzz_tsa_digest, TSA_DIGEST_LEN,
	    ca_path, NULL, &info, err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EPERM || r == -EIO);
	if (r == 0) {
		FUZZ_CHECK(memchr(info.serial, '\0', sizeof(info.serial)));
		FUZZ_CHECK(memchr(info.policy, '\0', sizeof(info.policy)));
		FUZZ_CHECK(memchr(info.tsa_name, '\0',
		    sizeof(info.tsa_name)));
	} else {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0] != '\0');
	}
}

static void
tsa(const uint8_t *data, size_t size)
{
	unsigned char *tok = NULL;
	size_t toklen = 0;
	char err[512];
	int r;

	r = tsa_token_from_response(data, size, &tok, &toklen, err,
	    sizeof(err));
	FUZZ_CHECK(r == 0 || r == -EBADMSG || r == -EPERM);
	if (r == 0) {
		/* The token's own bytes, found inside the reply. */
		FUZZ_CHECK(tok != NULL && toklen > 0 && toklen < size);
		FUZZ_CHECK(memmem(data, size, tok, toklen) != NULL);
		verify(tok, toklen);
		free(tok);
	}
	verify(data, size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 5 && memcmp(data, "HTTP/", 5) == 0)
		http(data, size);
	else
		tsa(data, size);
	return 0;
}
