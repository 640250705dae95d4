/*
 * fetch.c - libcurl GETs. Every transfer is bounded in time and size; the
 * request head is captured as curl sent it (for the WARC request record,
 * redacted by the caller before it is stored).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "fetch.h"
#include "util.h"

void
fetch_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
fetch_global_cleanup(void)
{
	curl_global_cleanup();
}

void
fetch_resp_init(struct fetch_resp *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->req_head, 64 * 1024);
	buf_init(&r->head, 64 * 1024);
	buf_init(&r->body, 0);
}

void
fetch_resp_release(struct fetch_resp *r)
{
	buf_release(&r->req_head);
	buf_release(&r->head);
	buf_release(&r->body);
}

struct xfer {
	struct fetch_resp	*resp;
	const struct fetch_opts	*o;
	int			 too_big;
	int			 aborted;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	if (buf_append(&x->resp->body, p, size * n) < 0) {
		x->too_big = 1;
		return 0;
	}
	return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	/* A new status line (after a redirect or 100): start over. */
	if (size * n >= 5 && strncmp(p, "HTTP/", 5) == 0)
		buf_reset(&x->resp->head);
	if (buf_append(&x->resp->head, p, size * n) < 0)
		return 0;
	return size * n;
}

static int
on_debug(CURL *h, curl_infotype type, char *p, size_t n, void *arg)
{
	struct xfer *x = arg;

	(void)h;
	if (type == CURLINFO_HEADER_OUT) {
		buf_reset(&x->resp->req_head);
		buf_append(&x->resp->req_head, p, n);
	}
	return 0;
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct xfer *x = arg;

	(void)dt; (void)dn; (void)ut; (void)un;
	if (x->o->abort_cb != NULL && x->o->abort_cb(x->o->abort_arg)) {
		x->aborted = 1;
		return 1;
	}
	return 0;
}

int
fetch_get(const char *url, const struct fetch_opts *o, struct fetch_resp *resp)
{
	struct curl_slist *hdrs = NULL;
	struct xfer x = { resp, o, 0, 0 };
	CURLcode rc;
	CURL *h;
	int r = 0;

	buf_reset(&resp->req_head);
	buf_reset(&resp->head);
	buf_reset(&resp->body);
	resp->body.max = o->max_body;
	resp->status = 0;
	resp->error[0] = '\0';
	h = curl_easy_init();
	if (h == NULL) {
		snprintf(resp->error, sizeof(resp->error), "cannot start"
		    " transfer");
		return -ENOMEM;
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json, */*");
	if (o->auth_header != NULL)
		hdrs = curl_slist_append(hdrs, o->auth_header);
	if (o->post != NULL) {
		if (o->post_type != NULL)
			hdrs = curl_slist_append(hdrs, o->post_type);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, o->post);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)o->post_len);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, o->user_agent);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, o->follow ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)o->timeout);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, &x);
	/* Verbose only feeds on_debug (the request head); nothing prints. */
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	if (o->max_body > 0)
		curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)o->max_body);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &resp->seconds);
	switch (rc) {
	case CURLE_OK:
		break;
	case CURLE_OPERATION_TIMEDOUT:
		r = -ETIMEDOUT;
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		r = -ECONNREFUSED;
		break;
	case CURLE_FILESIZE_EXCEEDED:
		r = -EFBIG;
		break;
	case CURLE_WRITE_ERROR:
		r = x.too_big ? -EFBIG : -EIO;
		break;
	case CURLE_ABORTED_BY_CALLBACK:
		r = x.aborted ? -ECANCELED : -EIO;
		break;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
		r = -EPROTO;
		break;
	default:
		r = -EIO;
		break;
	}
	if (r < 0) {
		/* curl's messages can quote the URL: use our own words. */
		switch (r) {
		case -ETIMEDOUT:
			snprintf(resp->error, sizeof(resp->error),
			    "timed out after %lld s", (long long)o->timeout);
			break;
		case -EFBIG:
			snprintf(resp->error, sizeof(resp->error),
			    "response larger than %zu bytes", o->max_body);
			break;
		case -EPROTO:
			snprintf(resp->error, sizeof(resp->error),
			    "truncated or malformed HTTP response (curl %d)",
			    (int)rc);
			break;
		default:
			snprintf(resp->error, sizeof(resp->error),
			    "%s (curl %d)", curl_easy_strerror(rc), (int)rc);
			break;
		}
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return r;
}

int
fetch_header(const struct fetch_resp *r, const char *name, char *out,
    size_t len)
{
	size_t n = strlen(name);
	const char *p = r->head.data, *e;

	if (p == NULL)
		return -ENOENT;
	while (*p != '\0') {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) > n && strncasecmp(p, name, n) == 0 &&
		    p[n] == ':') {
			const char *v = p + n + 1;
			size_t vl;

			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			vl = (size_t)(e - v);
			while (vl > 0 && (v[vl - 1] == '\r' ||
			    v[vl - 1] == ' '))
				vl--;
			if (vl >= len)
				vl = len - 1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return 0;
		}
		p = *e == '\0' ? e : e + 1;
	}
	return -ENOENT;
}
