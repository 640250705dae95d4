/*
 * capture.c - one poll cycle of one account, and the services connectors
 * use during it.
 *
 * Rules kept here, not in connectors: every API exchange is archived
 * (request redacted); only a complete, successful, well-formed response
 * yields items; a version is a change of canonical content; an item is
 * removed only when a complete listing lacked it and a direct lookup says
 * the platform no longer has it; anything else that goes wrong is a
 * capture gap. Each page is one batch: one fdatasync, one transaction.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "hash.h"
#include "log.h"
#include "util.h"
#include "xalloc.h"

#define CAPTURE_MAX_MEDIA_PER_ITEM	16

static char last_source[RECORD_ID_LEN];

static const char *
acct_name(const struct capture *cap)
{
	return cap->acct->conf->name;
}

static const char *
platform_name(const struct capture *cap)
{
	return config_platform_name(cap->acct->conf->platform);
}

int
capture_stopping(struct capture *cap)
{
	if (!cap->stop && cap->should_exit != NULL &&
	    cap->should_exit(cap->exit_arg))
		cap->stop = 1;
	return cap->stop;
}

/* Sleep up to secs, waking early for shutdown. */
static void
capture_sleep(struct capture *cap, int64_t secs)
{
	int64_t end = util_mono_ms() + secs * 1000;

	while (!capture_stopping(cap) && util_mono_ms() < end)
		poll(NULL, 0, 100);
}

static int
exit_cb(void *arg)
{
	return capture_stopping(arg);
}

static int
storage_error(struct capture *cap, int r)
{
	if (!cap->storage_failed)
		log_err("cannot write archive for '%s': %s", acct_name(cap),
		    strerror(-r));
	cap->storage_failed = 1;
	cap->stop = 1;
	return r;
}

int
capture_gap(struct capture *cap, const char *reason, const char *url,
    const char *fmt, ...)
{
	struct rec_meta m;
	char msg[512], now[32], *redacted = NULL, *block;
	json_t *d;
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (url != NULL)
		redacted = record_redact_url(url);
	log_warnx("capture gap for '%s': %s: %s%s%s", acct_name(cap), reason,
	    msg, redacted != NULL ? " at " : "",
	    redacted != NULL ? redacted : "");
	cap->gaps++;
	record_meta_init(&m, REC_EVENT);
	m.account = acct_name(cap);
	m.platform = platform_name(cap);
	m.event = "gap";
	d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "event", "gap",
	    "account", m.account, "reason", reason, "detail", msg,
	    "time", util_format_time(m.date, now, sizeof(now)), "url",
	    redacted);
	block = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	r = store_add(cap->store, &m, "application/json", block,
	    strlen(block), -1);
	free(block);
	json_decref(d);
	free(redacted);
	if (r < 0)
		return storage_error(cap, r);
	return 0;
}

/* Archive one exchange as request + response records. */
static int
archive_exchange(struct capture *cap, const char *url, struct fetch_resp *resp,
    const char *media_key, const char *item_id)
{
	const struct account_conf *a = cap->acct->conf;
	const char *secrets[RECORD_MAX_SECRETS] = { a->token, a->app_secret };
	struct rec_meta req, res;
	char *target;
	struct buf blk;
	char proof[HASH_HEX_LEN];
	size_t ns = 2;
	int r;

	if (a->app_secret != NULL && a->token != NULL) {
		hash_hmac_sha256_hex(a->app_secret, a->token, proof);
		secrets[ns++] = proof;
	}
	target = record_redact_url(url);
	record_meta_init(&req, REC_REQUEST);
	record_meta_init(&res, REC_RESPONSE);
	req.account = res.account = acct_name(cap);
	req.target_uri = res.target_uri = target;
	req.concurrent_to = res.record_id;
	res.concurrent_to = req.record_id;
	res.media_key = media_key;
	res.item_id = media_key != NULL ? item_id : NULL;
	res.platform = media_key != NULL ? platform_name(cap) : NULL;
	record_redact(&resp->req_head, secrets, ns);
	r = store_add(cap->store, &req, "application/http; msgtype=request",
	    resp->req_head.data != NULL ? resp->req_head.data : "",
	    resp->req_head.len, -1);
	if (r == 0) {
		buf_init(&blk, 0);
		buf_append(&blk, resp->head.data != NULL ? resp->head.data :
		    "", resp->head.len);
		buf_append(&blk, resp->body.data != NULL ? resp->body.data :
		    "", resp->body.len);
		record_redact(&blk, secrets, ns);
		r = store_add(cap->store, &res,
		    "application/http; msgtype=response", blk.data, blk.len,
		    (long)resp->head.len);
		buf_release(&blk);
	}
	memcpy(last_source, res.record_id, sizeof(last_source));
	free(target);
	explicit_bzero(proof, sizeof(proof));
	return r < 0 ? storage_error(cap, r) : 0;
}

/* The account's request budget is spent: defer it to the next window. */
static void
budget_spent(struct capture *cap)
{
	const struct account_conf *a = cap->acct->conf;

	log_notice("request budget of '%s' spent (%lld per %lld s); the"
	    " cycle continues when the window ends", a->name,
	    (long long)a->request_budget, (long long)a->budget_window);
	schedule_pause(cap->acct, cap->acct->window_start + a->budget_window);
	cap->stop = 1;
}

static int
api_url_ok(struct capture *cap, const char *url)
{
	const char *base = cap->acct->conf->api_base;
	size_t n = strlen(base);

	return strncmp(url, base, n) == 0 &&
	    (url[n] == '/' || url[n] == '?' || url[n] == '\0');
}

int
capture_get(struct capture *cap, const char *url, json_t **ret_json,
    const char **ret_source)
{
	return capture_get_head(cap, url, ret_json, ret_source, NULL);
}

int
capture_get_head(struct capture *cap, const char *url, json_t **ret_json,
    const char **ret_source, char **ret_head)
{
	const struct account_conf *a = cap->acct->conf;
	struct fetch_opts o;
	struct fetch_resp resp;
	struct conn_verdict v;
	char hdrbuf[CONFIG_MAX_SECRET + 64], *signed_url;
	const char *hdr = NULL;
	json_t *json;
	int attempt, r = -EIO;

	*ret_json = NULL;	/* callers may decref it whatever happened */
	if (capture_stopping(cap))
		return -ECANCELED;
	if (!api_url_ok(cap, url)) {
		capture_gap(cap, "bad-link", NULL, "refusing to send"
		    " credentials to a URL outside api_base");
		return -EPERM;
	}
	memset(&o, 0, sizeof(o));
	o.timeout = cap->cfg->request_timeout;
	o.max_body = (size_t)cap->cfg->max_response_size;
	o.user_agent = cap->cfg->user_agent;
	o.abort_cb = exit_cb;
	o.abort_arg = cap;
	fetch_resp_init(&resp);
	for (attempt = 0; attempt <= cap->cfg->retry_attempts; attempt++) {
		if (attempt > 0)
			capture_sleep(cap, schedule_backoff(
			    cap->cfg->retry_base, attempt - 1, 300));
		if (capture_stopping(cap)) {
			r = -ECANCELED;
			break;
		}
		if (schedule_take(cap->acct, util_now()) < 0) {
			budget_spent(cap);
			r = -EDQUOT;
			break;
		}
		cap->requests++;
		signed_url = cap->conn->sign(a, url, &hdr, hdrbuf,
		    sizeof(hdrbuf));
		o.auth_header = hdr;
		r = fetch_get(signed_url, &o, &resp);
		free(signed_url);
		explicit_bzero(hdrbuf, sizeof(hdrbuf));
		if (r == -ECANCELED)
			break;
		if (r < 0) {
			log_warnx("request for '%s' failed (attempt %d): %s",
			    a->name, attempt + 1, resp.error);
			if (r == -EFBIG)
				break;	/* will not get smaller */
			continue;
		}
		r = archive_exchange(cap, url, &resp, NULL, NULL);
		if (r < 0)
			break;
		json = json_loadb(resp.body.data != NULL ? resp.body.data : "",
		    resp.body.len, JSON_REJECT_DUPLICATES, NULL);
		cap->conn->classify(&resp, json, util_now(), &v);
		if ((v.outcome == CONN_RATE_LIMITED || v.slow_down) &&
		    v.retry_at <= util_now())
			v.retry_at = util_now() + cap->cfg->rate_limit_pause;
		if (v.outcome == CONN_OK) {
			if (v.slow_down && v.retry_at > util_now()) {
				log_notice("'%s' is near its rate limit;"
				    " pausing it for %lld s", a->name,
				    (long long)(v.retry_at - util_now()));
				schedule_pause(cap->acct, v.retry_at);
				cap->stop = 1;	/* this response still counts */
			}
			*ret_json = json;
			if (ret_source != NULL)
				*ret_source = last_source;
			if (ret_head != NULL)
				*ret_head = buf_steal(&resp.head, NULL);
			fetch_resp_release(&resp);
			return 0;
		}
		json_decref(json);
		switch (v.outcome) {
		case CONN_NOT_FOUND:
			if (ret_source != NULL)
				*ret_source = last_source;
			fetch_resp_release(&resp);
			return -ENOENT;
		case CONN_RATE_LIMITED:
			schedule_pause(cap->acct, v.retry_at);
			cap->rate_limited = 1;
			cap->stop = 1;
			capture_gap(cap, "rate-limited", url, "%s; paused for"
			    " %lld s", v.reason, (long long)(v.retry_at -
			    util_now()));
			fetch_resp_release(&resp);
			return -EAGAIN;
		case CONN_AUTH:
			cap->auth_failed = 1;
			cap->stop = 1;
			capture_gap(cap, "auth", url, "%s; a person must renew"
			    " the token", v.reason);
			fetch_resp_release(&resp);
			return -EACCES;
		case CONN_TRANSIENT:
			log_warnx("transient error for '%s' (attempt %d): %s",
			    a->name, attempt + 1, v.reason);
			snprintf(resp.error, sizeof(resp.error), "%s",
			    v.reason);
			r = -EIO;
			continue;
		default:
			capture_gap(cap, "api-error", url, "%s", v.reason);
			fetch_resp_release(&resp);
			return -EBADMSG;
		}
	}
	if (r != -ECANCELED && r != -EDQUOT && !cap->storage_failed)
		capture_gap(cap, r == -ETIMEDOUT ? "timeout" : "fetch-failed",
		    url, "%s after %d attempt(s)", resp.error[0] != '\0' ?
		    resp.error : strerror(-r), attempt);
	fetch_resp_release(&resp);
	return r;
}

/* Write an event about an item. */
static int
item_event(struct capture *cap, const char *event, const struct cap_item *it,
    const char *platform_id, const char *kind, const char *refers_to,
    json_t *extra)
{
	struct rec_meta m;
	char now[32], *block;
	json_t *d;
	int r;

	record_meta_init(&m, REC_EVENT);
	m.account = acct_name(cap);
	m.platform = platform_name(cap);
	m.event = event;
	m.item_id = platform_id;
	m.item_kind = kind;
	m.refers_to = refers_to;
	if (it != NULL)
		m.root_id = it->root_id;
	d = extra != NULL ? json_incref(extra) : json_object();
	json_object_set_new(d, "event", json_string(event));
	json_object_set_new(d, "account", json_string(m.account));
	if (platform_id != NULL)
		json_object_set_new(d, "item", json_string(platform_id));
	json_object_set_new(d, "time", json_string(util_format_time(m.date,
	    now, sizeof(now))));
	block = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	r = store_add(cap->store, &m, "application/json", block,
	    strlen(block), -1);
	if (platform_id != NULL)
		log_info("'%s' %s %s %s", m.account, kind, platform_id, event);
	free(block);
	json_decref(d);
	return r < 0 ? storage_error(cap, r) : 0;
}

static int
download_media(struct capture *cap, const struct cap_item *it)
{
	struct fetch_opts o;
	struct fetch_resp resp;
	size_t i, n;
	int r = 0;

	if (!cap->acct->conf->media || !json_is_array(it->media))
		return 0;
	n = json_array_size(it->media);
	if (n > CAPTURE_MAX_MEDIA_PER_ITEM)
		n = CAPTURE_MAX_MEDIA_PER_ITEM;
	memset(&o, 0, sizeof(o));
	o.timeout = cap->cfg->request_timeout;
	o.max_body = (size_t)cap->cfg->max_media_size;
	o.user_agent = cap->cfg->user_agent;
	o.follow = 1;
	o.abort_cb = exit_cb;
	o.abort_arg = cap;
	for (i = 0; i < n && r == 0 && !capture_stopping(cap); i++) {
		json_t *e = json_array_get(it->media, i);
		const char *key = json_string_value(json_object_get(e, "key"));
		const char *url = json_string_value(json_object_get(e, "url"));

		if (key == NULL || url == NULL || (strncmp(url, "https://", 8)
		    != 0 && strncmp(url, "http://", 7) != 0))
			continue;
		r = index_media_has(&cap->store->ix, cap->acct->index_id, key);
		if (r != 0) {
			r = r < 0 ? r : 0;
			continue;
		}
		if (schedule_take(cap->acct, util_now()) < 0) {
			budget_spent(cap);
			break;
		}
		/* Media hosts get no credentials: plain GET. */
		fetch_resp_init(&resp);
		r = fetch_get(url, &o, &resp);
		if (r == 0 && resp.status == 200) {
			r = archive_exchange(cap, url, &resp, key,
			    it->platform_id);
		} else if (r != -ECANCELED) {
			r = capture_gap(cap, "media", url, "cannot download"
			    " media '%s' of %s: %s", key, it->platform_id,
			    r < 0 ? resp.error : "unexpected HTTP status");
		}
		fetch_resp_release(&resp);
		if (r == -ECANCELED)
			r = 0;
	}
	return r;
}

int
capture_known(struct capture *cap, const char *platform_id,
    struct index_item *ret)
{
	return index_item_get(&cap->store->ix, cap->acct->index_id,
	    platform_id, ret);
}

int
capture_item(struct capture *cap, const struct cap_item *it)
{
	struct index_item known;
	struct rec_meta m;
	char hash[HASH_HEX_LEN], *canon;
	int r, have, added = 0;

	r = capture_known(cap, it->platform_id, &known);
	if (r < 0 && r != -ENOENT)
		return storage_error(cap, r);
	have = r == 0;
	canon = record_canonical(it->content, hash);
	if (canon == NULL)
		return -ENOMEM;
	if (!have || (strcmp(known.last_hash, hash) != 0 &&
	    !(it->platform_time != 0 && known.last_platform_time != 0 &&
	    it->platform_time < known.last_platform_time))) {
		record_meta_init(&m, REC_VERSION);
		m.account = acct_name(cap);
		m.platform = platform_name(cap);
		m.item_id = it->platform_id;
		m.item_kind = it->kind;
		m.parent_id = it->parent_id;
		m.root_id = it->root_id;
		/* As reindex reads them back: from the content. */
		m.author = json_string_value(json_object_get(json_object_get(
		    it->content, "author"), "name"));
		m.author_id = json_string_value(json_object_get(
		    json_object_get(it->content, "author"), "id"));
		m.created = it->created;
		m.url = it->url;
		m.edit_marker = it->edit_marker;
		m.platform_time = it->platform_time;
		m.refers_to = it->source;
		m.hidden = it->hidden;
		m.text = json_string_value(json_object_get(it->content,
		    "text"));
		memcpy(m.content_hash, hash, sizeof(hash));
		r = store_add(cap->store, &m, "application/json", canon,
		    strlen(canon), -1);
		if (r < 0) {
			free(canon);
			return storage_error(cap, r);
		}
		added = 1;
		cap->new_versions++;
		log_info("'%s' %s %s: %s", m.account, it->kind,
		    it->platform_id, have ? "new version" : "new");
	}
	free(canon);
	if (have && strcmp(known.state, "removed") == 0) {
		r = item_event(cap, "restored", it, it->platform_id, it->kind,
		    it->source, NULL);
		if (r < 0)
			return r;
	}
	if ((have && known.hidden != it->hidden) || (!have && it->hidden)) {
		r = item_event(cap, it->hidden ? "hidden" : "unhidden", it,
		    it->platform_id, it->kind, it->source, NULL);
		if (r < 0)
			return r;
	}
	if (have) {
		/* A new item's first version already set these. */
		r = index_item_seen(&cap->store->ix, known.id, util_now(),
		    it->edit_marker);
		if (r < 0)
			return storage_error(cap, r);
	}
	r = download_media(cap, it);
	if (r < 0)
		return r;
	return added;
}

struct missing_ctx {
	struct capture	*cap;
	const char	*root;
	int		 r;
};

static int
check_missing(const char *platform_id, const struct index_item *it,
    void *arg)
{
	struct missing_ctx *mc = arg;
	struct capture *cap = mc->cap;
	char t1[32], t2[32];
	const char *kind = mc->root == NULL ? "post" : "comment";
	int64_t fm = it->first_missing != 0 ? it->first_missing : util_now();
	json_t *d;
	int r;

	if (capture_stopping(cap))
		return 0;
	r = index_item_missing(&cap->store->ix, it->id, fm);
	if (r < 0)
		return storage_error(cap, r);
	r = cap->conn->lookup(cap, kind, platform_id);
	if (r < 0)
		return 0;	/* could not tell: a gap, not a removal */
	if (r == 0) {
		log_debug("'%s' %s absent from listing but still there",
		    acct_name(cap), platform_id);
		return 0;
	}
	d = json_pack("{s:s, s:s, s:s}", "last_seen",
	    util_format_time(it->last_seen, t1, sizeof(t1)), "first_missing",
	    util_format_time(fm, t2, sizeof(t2)), "evidence", last_source);
	r = item_event(cap, "removed", NULL, platform_id, kind, last_source, d);
	json_decref(d);
	if (r < 0)
		return r;
	cap->removed++;
	if (mc->root == NULL) {
		/* Its comments went with it: confirm each the same way. */
		struct missing_ctx sub = { cap, platform_id, 0 };

		r = index_missing_candidates(&cap->store->ix,
		    cap->acct->index_id, platform_id, 0, cap->cycle_start,
		    check_missing, &sub);
		if (r < 0)
			return r;
	}
	return 0;
}

int
capture_listing_complete(struct capture *cap, const char *root, int64_t since)
{
	struct missing_ctx mc = { cap, root, 0 };
	int r;

	if (capture_stopping(cap))
		return 0;
	r = index_missing_candidates(&cap->store->ix, cap->acct->index_id,
	    root, since, cap->cycle_start, check_missing, &mc);
	return r < 0 ? r : 0;
}

int
capture_commit(struct capture *cap)
{
	int r = store_commit(cap->store);

	return r < 0 ? storage_error(cap, r) : 0;
}

int
capture_thread_checked(struct capture *cap, const char *platform_id,
    int64_t created)
{
	struct index_item it;
	int r;

	r = capture_known(cap, platform_id, &it);
	if (r < 0)
		return r == -ENOENT ? 0 : storage_error(cap, r);
	r = index_item_next_check(&cap->store->ix, it.id,
	    schedule_thread_next(cap->cfg, created, util_now()));
	return r < 0 ? storage_error(cap, r) : 0;
}

int
capture_due_threads(struct capture *cap, int limit, index_item_fn fn,
    void *arg)
{
	return index_due_threads(&cap->store->ix, cap->acct->index_id,
	    util_now(), limit, fn, arg);
}

char *
capture_rebase(struct capture *cap, const char *url, const char *official)
{
	const char *base = cap->acct->conf->api_base;
	size_t n;

	if (url == NULL)
		return NULL;
	if (official != NULL) {
		n = strlen(official);
		if (strncmp(url, official, n) == 0 && url[n] == '/')
			return xasprintf("%s%s", base, url + n);
	}
	n = strlen(base);
	if (strncmp(url, base, n) == 0 && url[n] == '/')
		return xstrdup(url);
	return NULL;
}

int
capture_cycle(struct capture *cap)
{
	const struct account_conf *a = cap->acct->conf;
	const char *status = "ok";
	char detail[256] = "";
	int64_t now = util_now(), open_gaps = 0;
	int r;

	cap->cycle_start = now;
	last_source[0] = '\0';
	log_debug("polling '%s'", a->name);
	r = cap->conn->poll(cap);
	if (r == 0 || !cap->storage_failed)
		r = capture_commit(cap);
	if (!cap->storage_failed && cap->gaps == 0 && !cap->stop) {
		index_open_gaps(&cap->store->ix, cap->acct->index_id,
		    &open_gaps);
		if (open_gaps > 0) {
			r = item_event(cap, "gap-closed", NULL, NULL, NULL,
			    NULL, NULL);
			if (r == 0)
				r = capture_commit(cap);
		}
	}
	if (cap->storage_failed) {
		store_abandon(cap->store);	/* not acknowledged */
		status = "storage-error";
		snprintf(detail, sizeof(detail), "%s",
		    strerror(cap->store->err != 0 ? -cap->store->err : EIO));
	} else if (cap->auth_failed) {
		status = "auth-failed";
		snprintf(detail, sizeof(detail), "token rejected; renew it");
	} else if (cap->rate_limited) {
		status = "rate-limited";
	} else if (cap->gaps > 0) {
		status = "gap";
		snprintf(detail, sizeof(detail), "%d gap(s) in the last cycle",
		    cap->gaps);
	}
	if (strcmp(status, "ok") == 0 && cap->acct->paused_until > now)
		snprintf(detail, sizeof(detail), "near its rate limit: paused"
		    " until the limit resets");
	/* Only a cycle that ran to its end is a successful poll. */
	index_account_status(&cap->store->ix, cap->acct->index_id, status,
	    detail[0] != '\0' ? detail : NULL, now,
	    strcmp(status, "ok") == 0 && !cap->stop ? now : 0,
	    cap->acct->paused_until);
	schedule_done(cap->acct, strcmp(status, "ok") == 0 ||
	    cap->rate_limited, util_now());
	log_info("polled '%s': %d request(s), %d new version(s), %d removed,"
	    " %d gap(s)%s", a->name, cap->requests, cap->new_versions,
	    cap->removed, cap->gaps, cap->stop && cap->gaps == 0 &&
	    !cap->storage_failed ? " (stopped early)" : "");
	return cap->storage_failed ? (cap->store->err != 0 ? cap->store->err :
	    -EIO) : 0;
}

int
capture_full_scan_due(struct capture *cap, int64_t now)
{
	int64_t last = 0;

	index_account_last_full_scan(&cap->store->ix, cap->acct->index_id,
	    &last);
	return now - last >= cap->cfg->full_scan_interval;
}

int
capture_posts_listed(struct capture *cap, int complete, int64_t oldest,
    int64_t started, index_item_fn thread_fn)
{
	int r;

	if (cap->storage_failed)
		return -EIO;
	if (complete && !capture_stopping(cap)) {
		r = capture_listing_complete(cap, NULL, complete == 1 ? 0 :
		    oldest);
		if (r == 0 && complete == 1)
			r = index_account_full_scan(&cap->store->ix,
			    cap->acct->index_id, started);
		if (r == 0)
			r = capture_commit(cap);
		if (r < 0)
			return r;
	}
	if (capture_stopping(cap))
		return cap->storage_failed ? -EIO : 0;
	r = capture_due_threads(cap, (int)cap->cfg->pages_per_cycle,
	    thread_fn, cap);
	return cap->storage_failed ? -EIO : r;
}
