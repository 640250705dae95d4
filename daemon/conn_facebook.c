/*
 * conn_facebook.c - Facebook Pages through the Graph API.
 *
 * Posts come from /{page-id}/posts (or /feed), newest first, with cursor
 * paging: paging.next is followed verbatim (its graph.facebook.com prefix
 * rewritten to api_base) until it is absent. Each post's comments and
 * replies come flat from /{post-id}/comments?filter=stream, replies
 * carrying parent. The token goes in access_token, with appsecret_proof
 * when an app secret is configured. Posts have updated_time; comments
 * have no edit signal, so content hashing finds their edits. A deleted
 * object answers a direct GET with error code 100, subcode 33.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "hash.h"
#include "log.h"
#include "util.h"
#include "xalloc.h"

#define FB_OFFICIAL	"https://graph.facebook.com"
#define FB_PAGE_LIMIT	25
#define FB_MAX_ITEMS	100		/* per page, as the API caps it */
#define FB_RECENT_WINDOW (7 * 86400)	/* listing depth between full scans */
#define FB_MAX_SEEN	1024		/* paging URLs remembered per walk */
#define FB_MAX_REGAIN	(24 * 60)	/* minutes: longest pause we accept */

#define FB_POST_FIELDS	"id,message,created_time,updated_time,from," \
	"permalink_url,status_type,full_picture,attachments{media_type,type," \
	"url,media,target,title,description,subattachments}"
#define FB_COMMENT_FIELDS "id,message,created_time,from,parent{id}," \
	"comment_count,like_count,is_hidden,attachment,permalink_url"

static const int fb_rate_codes[] = { 4, 17, 32, 613, 80001, 80002 };

/* Remove our credentials from a URL's query (a next link carries them). */
static char *
strip_auth(const char *url)
{
	static const char *names[] = { "access_token=", "appsecret_proof=" };
	struct buf b;
	const char *p = url, *q;
	size_t i;
	int first = 1;

	buf_init(&b, 0);
	q = strchr(url, '?');
	if (q == NULL) {
		buf_puts(&b, url);
		return buf_steal(&b, NULL);
	}
	buf_append(&b, url, (size_t)(q - url));
	p = q + 1;
	while (*p != '\0') {
		const char *e = strchr(p, '&');
		size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
		int drop = 0;

		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (strncmp(p, names[i], strlen(names[i])) == 0)
				drop = 1;
		if (!drop && n > 0) {
			buf_append(&b, first ? "?" : "&", 1);
			buf_append(&b, p, n);
			first = 0;
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return buf_steal(&b, NULL);
}

static char *
fb_sign(const struct account_conf *a, const char *url, const char **ret_hdr,
    char *hdrbuf, size_t hdrlen)
{
	char proof[HASH_HEX_LEN], *bare, *out;

	(void)hdrbuf;
	(void)hdrlen;
	*ret_hdr = NULL;
	bare = strip_auth(url);
	if (a->app_secret != NULL) {
		hash_hmac_sha256_hex(a->app_secret, a->token, proof);
		out = xasprintf("%s%caccess_token=%s&appsecret_proof=%s", bare,
		    strchr(bare, '?') != NULL ? '&' : '?', a->token, proof);
		explicit_bzero(proof, sizeof(proof));
	} else {
		out = xasprintf("%s%caccess_token=%s", bare,
		    strchr(bare, '?') != NULL ? '&' : '?', a->token);
	}
	free(bare);
	return out;
}

/* Highest usage percentage and regain time in a usage header's JSON. */
static void
usage_scan(json_t *j, int64_t *max_pct, int64_t *regain_min)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			usage_scan(v, max_pct, regain_min);
		return;
	}
	if (!json_is_object(j))
		return;
	json_object_foreach(j, k, v) {
		if (json_is_object(v) || json_is_array(v)) {
			usage_scan(v, max_pct, regain_min);
		} else if (json_is_integer(v)) {
			int64_t x = json_integer_value(v);

			if (strcmp(k, "estimated_time_to_regain_access") == 0) {
				/* Bounded: now + regain * 60 must not overflow. */
				if (x > FB_MAX_REGAIN)
					x = FB_MAX_REGAIN;
				if (x > *regain_min)
					*regain_min = x;
			} else if ((strcmp(k, "call_count") == 0 ||
			    strcmp(k, "total_time") == 0 ||
			    strcmp(k, "total_cputime") == 0) && x > *max_pct) {
				*max_pct = x;
			}
		}
	}
}

static void
fb_usage(const struct fetch_resp *resp, int64_t *max_pct, int64_t *regain)
{
	static const char *hdrs[] = { "X-App-Usage", "X-Page-Usage",
	    "X-Business-Use-Case-Usage" };
	char v[4096];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hdrs); i++) {
		json_t *j;

		if (fetch_header(resp, hdrs[i], v, sizeof(v)) < 0)
			continue;
		j = json_loads(v, 0, NULL);
		usage_scan(j, max_pct, regain);
		json_decref(j);
	}
}

static void
fb_classify(const struct fetch_resp *resp, json_t *json, int64_t now,
    struct conn_verdict *v)
{
	json_t *err = json_object_get(json, "error");
	int64_t pct = 0, regain = 0, code, sub;
	const char *msg;
	size_t i;

	memset(v, 0, sizeof(*v));
	fb_usage(resp, &pct, &regain);
	if (json_is_object(err)) {
		code = json_integer_value(json_object_get(err, "code"));
		sub = json_integer_value(json_object_get(err, "error_subcode"));
		msg = json_string_value(json_object_get(err, "message"));
		snprintf(v->reason, sizeof(v->reason), "HTTP %ld, error %lld"
		    "/%lld: %.100s", resp->status, (long long)code,
		    (long long)sub, msg != NULL ? msg : "(no message)");
		for (i = 0; i < ARRAY_SIZE(fb_rate_codes); i++) {
			if (code == fb_rate_codes[i]) {
				v->outcome = CONN_RATE_LIMITED;
				v->retry_at = regain > 0 ?
				    now + regain * 60 : 0;
				return;
			}
		}
		if (code == 190 || code == 102)
			v->outcome = CONN_AUTH;
		else if (code == 100 && sub == 33)
			v->outcome = CONN_NOT_FOUND;
		else if (code == 1 || code == 2 ||
		    json_is_true(json_object_get(err, "is_transient")))
			v->outcome = CONN_TRANSIENT;
		else
			v->outcome = CONN_ERROR;
		return;
	}
	if (resp->status >= 500 || resp->status == 429) {
		v->outcome = CONN_TRANSIENT;
		snprintf(v->reason, sizeof(v->reason), "HTTP %ld",
		    resp->status);
		return;
	}
	if (resp->status != 200) {
		v->outcome = CONN_ERROR;
		snprintf(v->reason, sizeof(v->reason), "HTTP %ld",
		    resp->status);
		return;
	}
	if (!json_is_object(json)) {
		v->outcome = CONN_TRANSIENT;
		snprintf(v->reason, sizeof(v->reason), "malformed JSON in"
		    " HTTP 200 response (%zu bytes)", resp->body.len);
		return;
	}
	v->outcome = CONN_OK;
	if (pct >= 90) {
		v->slow_down = 1;
		v->retry_at = regain > 0 ? now + regain * 60 : 0;
	}
}

static int
fb_time(json_t *o, const char *key, int64_t *ret)
{
	return util_parse_time(json_string_value(json_object_get(o, key)),
	    ret);
}

/* Content fields of a post or comment's media: stable ids, not URLs. */
static void
fb_media(json_t *atts, json_t *content_media, json_t *download)
{
	json_t *a, *subs;
	size_t i;

	json_array_foreach(atts, i, a) {
		const char *id = json_string_value(json_object_get(
		    json_object_get(a, "target"), "id"));
		const char *src = json_string_value(json_object_get(
		    json_object_get(json_object_get(a, "media"), "image"),
		    "src"));
		const char *type = json_string_value(json_object_get(a,
		    "media_type"));

		if (id != NULL)
			json_array_append_new(content_media, json_pack(
			    "{s:s, s:s?}", "id", id, "type", type));
		if (id != NULL && src != NULL)
			json_array_append_new(download, json_pack(
			    "{s:s, s:s}", "key", id, "url", src));
		subs = json_object_get(json_object_get(a, "subattachments"),
		    "data");
		if (json_is_array(subs))
			fb_media(subs, content_media, download);
	}
}

struct fb_walk {
	struct capture	*cap;
	char		*seen[FB_MAX_SEEN];
	size_t		 nseen;
};

/* Loop guard: 1 if url was already requested in this walk. */
static int
walk_seen(struct fb_walk *w, const char *url)
{
	size_t i;

	for (i = 0; i < w->nseen; i++)
		if (strcmp(w->seen[i], url) == 0)
			return 1;
	if (w->nseen < FB_MAX_SEEN)
		w->seen[w->nseen++] = xstrdup(url);
	return 0;
}

static void
walk_release(struct fb_walk *w)
{
	while (w->nseen > 0)
		free(w->seen[--w->nseen]);
}

/*
 * GET one page and check its shape. 0 with *ret_json and *ret_data
 * (borrowed) or a negative errno (gap recorded).
 */
static int
fb_page(struct capture *cap, const char *url, json_t **ret_json,
    json_t **ret_data, char ret_src[RECORD_ID_LEN])
{
	const char *src = NULL;
	json_t *j, *data;
	int r;

	/* Copy the response's record id: media downloads made while the
	 * page's items are taken archive other responses. */
	r = capture_get(cap, url, &j, &src);
	if (r < 0)
		return r;
	snprintf(ret_src, RECORD_ID_LEN, "%s", src != NULL ? src : "");
	data = json_object_get(j, "data");
	if (!json_is_array(data) || json_array_size(data) > FB_MAX_ITEMS) {
		json_decref(j);
		capture_gap(cap, "bad-response", url, "response has no 'data'"
		    " array of at most %d items", FB_MAX_ITEMS);
		return -EBADMSG;
	}
	*ret_json = j;
	*ret_data = data;
	return 0;
}

/* Next page URL (caller frees), NULL at the end; -ELOOP on a loop. */
static int
fb_next(struct fb_walk *w, json_t *page, char **ret_next)
{
	const char *next = json_string_value(json_object_get(
	    json_object_get(page, "paging"), "next"));
	char *url;

	*ret_next = NULL;
	if (next == NULL)
		return 0;
	url = capture_rebase(w->cap, next, FB_OFFICIAL);
	if (url == NULL) {
		capture_gap(w->cap, "bad-link", NULL, "paging.next points"
		    " outside api_base");
		return -EPERM;
	}
	if (walk_seen(w, url)) {
		capture_gap(w->cap, "pagination-loop", url, "paging.next"
		    " repeats a page already read in this walk");
		free(url);
		return -ELOOP;
	}
	*ret_next = url;
	return 0;
}

static int
fb_post(struct capture *cap, json_t *p, const char *src, int64_t *ret_created)
{
	const struct account_conf *a = cap->acct->conf;
	struct cap_item it;
	json_t *content, *media, *dl;
	int64_t created = 0, updated = 0;
	const char *id = json_string_value(json_object_get(p, "id"));
	const char *msg = json_string_value(json_object_get(p, "message"));
	json_t *from = json_object_get(p, "from");
	int r;

	*ret_created = INT64_MAX;
	if (id == NULL || fb_time(p, "created_time", &created) < 0) {
		capture_gap(cap, "bad-response", NULL, "post without id or"
		    " created_time skipped");
		return 0;
	}
	fb_time(p, "updated_time", &updated);
	media = json_array();
	dl = json_array();
	fb_media(json_object_get(json_object_get(p, "attachments"), "data"),
	    media, dl);
	if (json_array_size(dl) == 0 && json_is_string(json_object_get(p,
	    "full_picture")))
		json_array_append_new(dl, json_pack("{s:s, s:O}", "key",
		    id, "url", json_object_get(p, "full_picture")));
	content = json_pack("{s:s, s:{s:s, s:s?}, s:O?, s:o, s:O?}",
	    "text", msg != NULL ? msg : "",
	    "author", "id", json_string_value(json_object_get(from, "id")) ?
	    json_string_value(json_object_get(from, "id")) : a->id, "name",
	    json_string_value(json_object_get(from, "name")),
	    "created", json_object_get(p, "created_time"),
	    "media", media,
	    "status_type", json_object_get(p, "status_type"));
	memset(&it, 0, sizeof(it));
	it.kind = "post";
	it.platform_id = id;
	it.created = created;
	it.url = json_string_value(json_object_get(p, "permalink_url"));
	it.edit_marker = json_string_value(json_object_get(p, "updated_time"));
	it.content = content;
	it.media = dl;
	it.source = src;
	r = capture_item(cap, &it);
	json_decref(content);
	json_decref(dl);
	*ret_created = created;
	return r < 0 ? r : 0;
}

static int
fb_comment(struct capture *cap, json_t *c, const char *post_id,
    const char *src)
{
	struct cap_item it;
	json_t *content, *dl = NULL, *media;
	const char *id = json_string_value(json_object_get(c, "id"));
	const char *parent = json_string_value(json_object_get(
	    json_object_get(c, "parent"), "id"));
	json_t *from = json_object_get(c, "from");
	json_t *att = json_object_get(c, "attachment");
	int64_t created = 0;
	int r;

	if (id == NULL || fb_time(c, "created_time", &created) < 0) {
		capture_gap(cap, "bad-response", NULL, "comment without id or"
		    " created_time skipped (is the token a Page token?)");
		return 0;
	}
	media = json_array();
	if (json_is_object(att)) {
		json_t *one = json_pack("[O]", att);

		dl = json_array();
		fb_media(one, media, dl);
		json_decref(one);
	}
	content = json_pack("{s:s, s:{s:s?, s:s?}, s:O?, s:s, s:o}",
	    "text", json_string_value(json_object_get(c, "message")) ?
	    json_string_value(json_object_get(c, "message")) : "",
	    "author", "id", json_string_value(json_object_get(from, "id")),
	    "name", json_string_value(json_object_get(from, "name")),
	    "created", json_object_get(c, "created_time"),
	    "parent", parent != NULL ? parent : post_id,
	    "media", media);
	memset(&it, 0, sizeof(it));
	it.kind = parent != NULL && strcmp(parent, post_id) != 0 ? "reply" :
	    "comment";
	it.platform_id = id;
	it.parent_id = parent != NULL ? parent : post_id;
	it.root_id = post_id;
	it.created = created;
	it.url = json_string_value(json_object_get(c, "permalink_url"));
	it.hidden = json_is_true(json_object_get(c, "is_hidden"));
	it.content = content;
	it.media = dl;
	it.source = src;
	r = capture_item(cap, &it);
	json_decref(content);
	json_decref(dl);
	return r < 0 ? r : 0;
}

/* Read one post's whole comment stream. */
static int
fb_thread(const char *post_id, const struct index_item *post, void *arg)
{
	struct capture *cap = arg;
	const struct account_conf *a = cap->acct->conf;
	struct fb_walk w = { .cap = cap };
	char *url, *next, src[RECORD_ID_LEN];
	json_t *page, *data, *c;
	int64_t pages = 0;
	size_t i;
	int r = 0;

	if (capture_stopping(cap))
		return 0;
	url = xasprintf("%s/%s/%s/comments?filter=stream&order=chronological"
	    "&summary=true&limit=100&fields=%s", a->api_base, a->api_version,
	    post_id, FB_COMMENT_FIELDS);
	walk_seen(&w, url);
	while (url != NULL) {
		r = fb_page(cap, url, &page, &data, src);
		free(url);
		url = NULL;
		if (r == -ENOENT) {
			/*
			 * The post is gone, or the token lost access: its own
			 * listing and lookup will tell. Not a complete (empty)
			 * listing of its comments.
			 */
			walk_release(&w);
			capture_thread_checked(cap, post_id, post->created);
			return cap->storage_failed ? -EIO : 0;
		}
		if (r < 0)
			break;
		json_array_foreach(data, i, c) {
			r = fb_comment(cap, c, post_id, src);
			if (r < 0)
				break;
		}
		if (r == 0)
			r = fb_next(&w, page, &next);
		json_decref(page);
		if (r == 0)
			r = capture_commit(cap);
		if (r < 0)
			break;
		url = next;
		if (url != NULL && ++pages >= cap->cfg->pages_per_cycle) {
			free(url);
			url = NULL;
			r = -EAGAIN;	/* incomplete: no removals */
		}
	}
	walk_release(&w);
	if (r == 0 && !capture_stopping(cap)) {
		r = capture_listing_complete(cap, post_id, 0);
		if (r == 0)
			r = capture_thread_checked(cap, post_id, post->created);
		if (r == 0)
			r = capture_commit(cap);
	}
	/* A gap in one thread does not stop the others. */
	return cap->storage_failed ? -EIO : 0;
}

static int
fb_poll(struct capture *cap)
{
	const struct account_conf *a = cap->acct->conf;
	struct fb_walk w = { .cap = cap };
	int64_t oldest = INT64_MAX, created = 0;
	int64_t now = util_now();
	int64_t pages = 0;
	int full, complete = 0, r = 0;
	char *url, *next = NULL, src[RECORD_ID_LEN];
	json_t *page, *data, *p;
	size_t i;

	full = capture_full_scan_due(cap, now);
	url = xasprintf("%s/%s/%s/%s?fields=%s&limit=%d", a->api_base,
	    a->api_version, a->id, a->edge, FB_POST_FIELDS, FB_PAGE_LIMIT);
	walk_seen(&w, url);
	while (url != NULL) {
		r = fb_page(cap, url, &page, &data, src);
		if (r == -ENOENT)
			capture_gap(cap, "api-error", url, "the Page's listing"
			    " answered 'does not exist': check the page id and"
			    " that the token belongs to that Page");
		free(url);
		url = NULL;
		if (r < 0)
			break;
		json_array_foreach(data, i, p) {
			r = fb_post(cap, p, src, &created);
			if (r < 0)
				break;
			if (created < oldest)
				oldest = created;
		}
		if (r == 0)
			r = fb_next(&w, page, &next);
		json_decref(page);
		if (r == 0)
			r = capture_commit(cap);
		if (r < 0)
			break;
		url = next;
		if (url == NULL) {
			complete = 1;
		} else if ((!full && oldest < now - FB_RECENT_WINDOW) ||
		    ++pages >= cap->cfg->pages_per_cycle) {
			/* Complete for [oldest, now] only. */
			free(url);
			url = NULL;
			complete = 2;
		}
	}
	walk_release(&w);
	return capture_posts_listed(cap, complete, oldest, now, fb_thread);
}

static int
fb_lookup(struct capture *cap, const char *kind, const char *platform_id)
{
	const struct account_conf *a = cap->acct->conf;
	json_t *j;
	char *url;
	int r;

	(void)kind;
	url = xasprintf("%s/%s/%s?fields=id", a->api_base, a->api_version,
	    platform_id);
	r = capture_get(cap, url, &j, NULL);
	free(url);
	if (r == -ENOENT)
		return 1;
	if (r < 0)
		return r;
	json_decref(j);
	return 0;
}

const struct connector conn_facebook = {
	.name = "facebook",
	.platform = PLATFORM_FACEBOOK,
	.poll = fb_poll,
	.classify = fb_classify,
	.sign = fb_sign,
	.lookup = fb_lookup,
};
