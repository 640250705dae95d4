/*
 * conn_mastodon.c - Mastodon (API v1).
 *
 * Statuses come newest first from /api/v1/accounts/{id}/statuses with
 * paging in the Link header (rel="next"); each thread's replies from
 * /api/v1/statuses/{id}/context (descendants, flat, linked by
 * in_reply_to_id). Edits are native: edited_at changes and /history
 * returns every version, oldest first, including the original; each is
 * archived as a version. A deleted status answers 404 "Record not found".
 * The token is sent as "Authorization: Bearer".
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "log.h"
#include "util.h"
#include "xalloc.h"

#define MA_PAGE_LIMIT	40
#define MA_MAX_ITEMS	4096		/* context descendants cap */
#define MA_RECENT_WINDOW (7 * 86400)
#define MA_MAX_SEEN	1024

static char *
ma_sign(const struct account_conf *a, const char *url, const char **ret_hdr,
    char *hdrbuf, size_t hdrlen)
{
	snprintf(hdrbuf, hdrlen, "Authorization: Bearer %s", a->token);
	*ret_hdr = hdrbuf;
	return xstrdup(url);
}

static void
ma_classify(const struct fetch_resp *resp, json_t *json, int64_t now,
    struct conn_verdict *v)
{
	char reset[128], remain[32];
	const char *err = json_string_value(json_object_get(json, "error"));
	int64_t t = 0, left = -1;

	memset(v, 0, sizeof(*v));
	if (fetch_header(resp, "X-RateLimit-Reset", reset, sizeof(reset)) < 0 ||
	    util_parse_time(reset, &t) < 0)
		t = 0;
	if (fetch_header(resp, "X-RateLimit-Remaining", remain,
	    sizeof(remain)) == 0)
		util_parse_int(remain, 0, INT64_MAX, &left);
	snprintf(v->reason, sizeof(v->reason), "HTTP %ld%s%.100s",
	    resp->status, err != NULL ? ": " : "", err != NULL ? err : "");
	if (resp->status == 429) {
		v->outcome = CONN_RATE_LIMITED;
		v->retry_at = t > now ? t : 0;
	} else if (resp->status == 401 || resp->status == 403) {
		v->outcome = CONN_AUTH;
	} else if (resp->status == 404) {
		v->outcome = CONN_NOT_FOUND;
	} else if (resp->status >= 500) {
		v->outcome = CONN_TRANSIENT;
	} else if (resp->status != 200) {
		v->outcome = CONN_ERROR;
	} else if (json == NULL || (!json_is_array(json) &&
	    !json_is_object(json))) {
		v->outcome = CONN_TRANSIENT;
		snprintf(v->reason, sizeof(v->reason), "malformed JSON in"
		    " HTTP 200 response (%zu bytes)", resp->body.len);
	} else {
		v->outcome = CONN_OK;
		if (left >= 0 && left <= 5 && t > now) {
			v->slow_down = 1;
			v->retry_at = t;
		}
	}
}

/* Plain text of status HTML: tags dropped, <br> and </p> as newlines,
 * the common entities decoded. Caller frees. */
static char *
ma_plain(const char *html)
{
	static const struct { const char *ent, *ch; } ents[] = {
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" },
		{ "&quot;", "\"" }, { "&#39;", "'" }, { "&apos;", "'" },
		{ "&nbsp;", " " },
	};
	struct buf b;
	const char *p = html;
	size_t i;

	buf_init(&b, 0);
	while (p != NULL && *p != '\0') {
		if (*p == '<') {
			const char *e = strchr(p, '>');

			if (e == NULL)
				break;
			if ((strncmp(p, "<br", 3) == 0 ||
			    strncmp(p, "</p>", 4) == 0) && b.len > 0)
				buf_puts(&b, "\n");
			p = e + 1;
			continue;
		}
		if (*p == '&') {
			for (i = 0; i < ARRAY_SIZE(ents); i++)
				if (strncmp(p, ents[i].ent,
				    strlen(ents[i].ent)) == 0)
					break;
			if (i < ARRAY_SIZE(ents)) {
				buf_puts(&b, ents[i].ch);
				p += strlen(ents[i].ent);
				continue;
			}
		}
		buf_append(&b, p, 1);
		p++;
	}
	while (b.len > 0 && isspace((unsigned char)b.data[b.len - 1]))
		b.data[--b.len] = '\0';
	buf_append(&b, "", 0);
	return buf_steal(&b, NULL);
}

/*
 * Content fields, the same for a status and for each StatusEdit of it:
 * what an edit can change (text, spoiler, sensitivity, media and their
 * descriptions) plus what it cannot (author, created, parent,
 * visibility), taken from the status.
 */
static json_t *
ma_content(json_t *status, json_t *version, json_t *download)
{
	json_t *media = json_array(), *m, *acct, *name;
	char *text;
	size_t i;

	json_array_foreach(json_object_get(version, "media_attachments"),
	    i, m) {
		const char *id = json_string_value(json_object_get(m, "id"));
		const char *url = json_string_value(json_object_get(m, "url"));

		if (id == NULL)
			continue;
		json_array_append_new(media, json_pack("{s:s, s:O?, s:O?}",
		    "id", id, "type", json_object_get(m, "type"),
		    "description", json_object_get(m, "description")));
		if (download != NULL && url != NULL)
			json_array_append_new(download, json_pack("{s:s, s:s}",
			    "key", id, "url", url));
	}
	acct = json_object_get(status, "account");
	name = json_object_get(acct, "display_name");
	if (json_string_length(name) == 0)
		name = json_object_get(acct, "acct");
	text = ma_plain(json_string_value(json_object_get(version,
	    "content")));
	m = json_pack("{s:s, s:O?, s:O?, s:O?, s:o, s:{s:O?, s:O?, s:O?},"
	    " s:O?, s:O?, s:O?}",
	    "text", text,
	    "content", json_object_get(version, "content"),
	    "spoiler_text", json_object_get(version, "spoiler_text"),
	    "sensitive", json_object_get(version, "sensitive"),
	    "media", media,
	    "author", "id", json_object_get(acct, "id"),
	    "name", name,
	    "acct", json_object_get(acct, "acct"),
	    "created", json_object_get(status, "created_at"),
	    "parent", json_object_get(status, "in_reply_to_id"),
	    "visibility", json_object_get(status, "visibility"));
	free(text);
	return m;
}

static int
ma_version(struct capture *cap, json_t *status, json_t *version,
    struct cap_item *it, int64_t ptime)
{
	json_t *dl = json_array();
	int r;

	it->content = ma_content(status, version, dl);
	it->media = dl;
	it->platform_time = ptime;
	r = capture_item(cap, it);
	json_decref(it->content);
	json_decref(dl);
	it->content = NULL;
	it->media = NULL;
	return r;
}

/* One status (post, comment or reply), with its edit history if new. */
static int
ma_status(struct capture *cap, json_t *s, const char *root, const char *src)
{
	const struct account_conf *a = cap->acct->conf;
	struct index_item known;
	struct cap_item it;
	const char *id = json_string_value(json_object_get(s, "id"));
	const char *parent = json_string_value(json_object_get(s,
	    "in_reply_to_id"));
	const char *edited = json_string_value(json_object_get(s,
	    "edited_at"));
	json_t *hist = NULL, *h;
	int64_t created = 0, etime = 0;
	size_t i;
	int r;

	if (id == NULL || util_parse_time(json_string_value(json_object_get(s,
	    "created_at")), &created) < 0) {
		capture_gap(cap, "bad-response", NULL, "status without id or"
		    " created_at skipped");
		return 0;
	}
	memset(&it, 0, sizeof(it));
	it.kind = root == NULL ? "post" : parent != NULL &&
	    strcmp(parent, root) == 0 ? "comment" : "reply";
	it.platform_id = id;
	it.parent_id = parent;
	it.root_id = root;
	it.created = created;
	it.url = json_string_value(json_object_get(s, "url"));
	it.edit_marker = edited;
	it.source = src;
	if (edited != NULL && util_parse_time(edited, &etime) == 0 &&
	    (capture_known(cap, id, &known) < 0 ||
	    strcmp(known.edit_marker, edited) != 0)) {
		/* Edited since we last looked: archive every version. */
		char *url = xasprintf("%s/api/v1/statuses/%s/history",
		    a->api_base, id);
		const char *hsrc;

		r = capture_get(cap, url, &hist, &hsrc);
		free(url);
		if (r == 0 && json_is_array(hist)) {
			char *hs = xstrdup(hsrc);

			it.source = hs;
			json_array_foreach(hist, i, h) {
				int64_t ht = 0;

				util_parse_time(json_string_value(
				    json_object_get(h, "created_at")), &ht);
				r = ma_version(cap, s, h, &it, ht);
				if (r < 0)
					break;
			}
			it.source = src;
			free(hs);
		}
		json_decref(hist);
		if (r < 0 && cap->storage_failed)
			return r;
	}
	r = ma_version(cap, s, s, &it, etime != 0 ? etime : created);
	return r < 0 ? r : 0;
}

/*
 * The rel="next" target of a Link header (RFC 8288), rebased onto
 * api_base; NULL when there is none, "" (after recording a gap) when it
 * points elsewhere. Caller frees.
 */
static char *
ma_link_next(struct capture *cap, const char *head)
{
	const char *p, *e, *lt, *gt;
	char value[8192], *url;
	struct fetch_resp fake;

	memset(&fake, 0, sizeof(fake));
	fake.head.data = (char *)head;
	fake.head.len = head != NULL ? strlen(head) : 0;
	if (fetch_header(&fake, "Link", value, sizeof(value)) < 0)
		return NULL;
	for (p = value; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		lt = strchr(p, '<');
		gt = lt != NULL ? strchr(lt, '>') : NULL;
		if (gt == NULL)
			break;
		e = strchr(gt, ',');
		if (e == NULL)
			e = gt + strlen(gt);
		if (memmem(gt, (size_t)(e - gt), "rel=\"next\"", 10) == NULL &&
		    memmem(gt, (size_t)(e - gt), "rel=next", 8) == NULL)
			continue;
		url = xstrndup(lt + 1, (size_t)(gt - lt - 1));
		{
			char *r = capture_rebase(cap, url, NULL);

			free(url);
			if (r == NULL)
				capture_gap(cap, "bad-link", NULL, "Link next"
				    " points outside api_base");
			return r != NULL ? r : xstrdup("");
		}
	}
	return NULL;
}

/* GET a statuses page; *ret_next is its Link rel="next" or NULL. */
static int
ma_get_page(struct capture *cap, const char *url, json_t **ret_json,
    const char **ret_src, char **ret_next)
{
	char *head = NULL;
	int r;

	*ret_next = NULL;
	r = capture_get_head(cap, url, ret_json, ret_src, &head);
	if (r < 0)
		return r;
	*ret_next = ma_link_next(cap, head);
	free(head);
	if (*ret_next != NULL && **ret_next == '\0') {
		/* A next page we may not follow: the listing is incomplete. */
		free(*ret_next);
		*ret_next = NULL;
		json_decref(*ret_json);
		return -EPERM;
	}
	return 0;
}

struct ma_walk {
	struct capture	*cap;
	char		*seen[MA_MAX_SEEN];
	size_t		 nseen;
	char		*next;		/* from the last response's Link */
};

static int
ma_seen(struct ma_walk *w, const char *url)
{
	size_t i;

	for (i = 0; i < w->nseen; i++)
		if (strcmp(w->seen[i], url) == 0)
			return 1;
	if (w->nseen < MA_MAX_SEEN)
		w->seen[w->nseen++] = xstrdup(url);
	return 0;
}

static int
ma_thread(const char *post_id, const struct index_item *post, void *arg)
{
	struct capture *cap = arg;
	const struct account_conf *a = cap->acct->conf;
	json_t *ctx, *desc, *s;
	const char *src;
	char *url;
	size_t i;
	int r;

	if (capture_stopping(cap))
		return 0;
	url = xasprintf("%s/api/v1/statuses/%s/context", a->api_base, post_id);
	r = capture_get(cap, url, &ctx, &src);
	free(url);
	if (r == -ENOENT)
		return capture_thread_checked(cap, post_id, post->created);
	if (r < 0)
		return cap->storage_failed ? r : 0;
	desc = json_object_get(ctx, "descendants");
	if (!json_is_array(desc) || json_array_size(desc) > MA_MAX_ITEMS) {
		capture_gap(cap, "bad-response", NULL, "context of %s has no"
		    " descendants array", post_id);
		json_decref(ctx);
		return 0;
	}
	{
		char *s_copy = xstrdup(src);

		json_array_foreach(desc, i, s) {
			r = ma_status(cap, s, post_id, s_copy);
			if (r < 0)
				break;
		}
		free(s_copy);
	}
	json_decref(ctx);
	if (r == 0)
		r = capture_commit(cap);
	if (r == 0 && !capture_stopping(cap))
		r = capture_listing_complete(cap, post_id, 0);
	if (r == 0)
		r = capture_thread_checked(cap, post_id, post->created);
	if (r == 0)
		r = capture_commit(cap);
	return cap->storage_failed ? -EIO : 0;
}

static int
ma_poll(struct capture *cap)
{
	const struct account_conf *a = cap->acct->conf;
	struct ma_walk w = { .cap = cap };
	int64_t oldest = INT64_MAX, now = util_now(), pages = 0;
	int full, complete = 0, r = 0;
	char *url, *next = NULL;
	const char *src;
	json_t *page, *s;
	size_t i;

	full = capture_full_scan_due(cap, now);
	url = xasprintf("%s/api/v1/accounts/%s/statuses?limit=%d"
	    "&exclude_replies=true", a->api_base, a->id, MA_PAGE_LIMIT);
	ma_seen(&w, url);
	while (url != NULL) {
		r = ma_get_page(cap, url, &page, &src, &next);
		if (r == -ENOENT)
			capture_gap(cap, "api-error", url, "the account's"
			    " statuses answered 'not found': check the account"
			    " id");
		free(url);
		url = NULL;
		if (r < 0)
			break;
		if (!json_is_array(page) ||
		    json_array_size(page) > MA_PAGE_LIMIT * 2) {
			capture_gap(cap, "bad-response", NULL, "statuses"
			    " page is not an array of at most %d",
			    MA_PAGE_LIMIT * 2);
			json_decref(page);
			free(next);
			r = -EBADMSG;
			break;
		}
		{
			char *s_copy = xstrdup(src);

			json_array_foreach(page, i, s) {
				int64_t c = INT64_MAX;

				util_parse_time(json_string_value(
				    json_object_get(s, "created_at")), &c);
				r = ma_status(cap, s, NULL, s_copy);
				if (r < 0)
					break;
				if (c < oldest)
					oldest = c;
			}
			free(s_copy);
		}
		if (r == 0 && json_array_size(page) == 0) {
			free(next);
			next = NULL;
		}
		json_decref(page);
		if (r == 0)
			r = capture_commit(cap);
		if (r < 0) {
			free(next);
			break;
		}
		url = next;
		next = NULL;
		if (url != NULL && ma_seen(&w, url)) {
			capture_gap(cap, "pagination-loop", url, "Link next"
			    " repeats a page already read in this walk");
			free(url);
			url = NULL;
			r = -ELOOP;
			break;
		}
		if (url == NULL) {
			complete = 1;
		} else if ((!full && oldest < now - MA_RECENT_WINDOW) ||
		    ++pages >= cap->cfg->pages_per_cycle) {
			free(url);
			url = NULL;
			complete = 2;
		}
	}
	while (w.nseen > 0)
		free(w.seen[--w.nseen]);
	if (r < 0)
		complete = 0;	/* a failed or looping walk proves nothing */
	return capture_posts_listed(cap, complete, oldest, now, ma_thread);
}

static int
ma_lookup(struct capture *cap, const char *kind, const char *platform_id)
{
	json_t *j;
	char *url;
	int r;

	(void)kind;
	url = xasprintf("%s/api/v1/statuses/%s", cap->acct->conf->api_base,
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

const struct connector conn_mastodon = {
	.name = "mastodon",
	.platform = PLATFORM_MASTODON,
	.poll = ma_poll,
	.classify = ma_classify,
	.sign = ma_sign,
	.lookup = ma_lookup,
};
