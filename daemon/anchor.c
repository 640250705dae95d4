/*
 * anchor.c - checkpoints and trusted timestamps (see anchor.h).
 *
 * The checkpoint commits to the ledger as it was before the checkpoint
 * record itself was written; that record becomes the next leaf, so every
 * checkpoint is covered by the following one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "anchor.h"
#include "fetch.h"
#include "hash.h"
#include "log.h"
#include "sysio.h"
#include "tsa.h"
#include "util.h"
#include "xalloc.h"

static char *
b64(const void *p, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

char *
anchor_body(const char *origin, uint64_t size, const uint8_t *root,
    int64_t t)
{
	char now[32], *r64, *body;

	r64 = b64(root, MERKLE_HASH_LEN);
	body = xasprintf("%s\n%llu\n%s\ntime %s\n", origin,
	    (unsigned long long)size, r64, util_format_time(t, now,
	    sizeof(now)));
	free(r64);
	return body;
}

int
anchor_init(struct anchor *an, const struct config *cfg, struct store *st,
    char *err, size_t errlen)
{
	char name[CHECKPOINT_NAME_MAX], *pub = NULL, *path;
	int64_t last = 0, news = 0;
	int r;

	memset(an, 0, sizeof(*an));
	ledger_init(&an->ledger);
	if (cfg->signing_key_name != NULL)
		snprintf(name, sizeof(name), "%s", cfg->signing_key_name);
	else
		checkpoint_default_name(name, sizeof(name));
	an->name = xstrdup(name);
	an->origin = xstrdup(cfg->checkpoint_origin != NULL ?
	    cfg->checkpoint_origin : name);
	if (cfg->signing_key_file != NULL) {
		r = checkpoint_key_load(cfg->signing_key_file, name, &an->key,
		    err, errlen);
		if (r < 0)
			return r;
		r = checkpoint_key_verifier(an->key, &pub);
		if (r == 0) {
			/* Byte for byte what keygen wrote to KEY.pub. */
			char *line = xasprintf("%s\n", pub);

			path = xasprintf("%s/%s", st->state_dir,
			    ANCHOR_PUB_FILE);
			r = sysio_write_file(path, line, strlen(line), 0644);
			free(path);
			free(line);
		}
		if (r < 0) {
			snprintf(err, errlen, "cannot publish the verifier key"
			    " in '%s': %s", st->state_dir, strerror(-r));
			free(pub);
			return r;
		}
		free(pub);
	}
	r = ledger_sync(&an->ledger, &st->ix);
	if (r == 0)
		r = index_last_checkpoint(&st->ix, &last);
	if (r < 0) {
		snprintf(err, errlen, "cannot read the ledger from the index:"
		    " %s", index_errmsg(&st->ix));
		return r;
	}
	an->last_size = last;
	/* The newest checkpoint's own records are not news. */
	if (last > 0 && index_news_since_checkpoint(&st->ix, &news) == 0 &&
	    news == 0)
		an->own_size = (int64_t)an->ledger.range.size;
	return 0;
}

void
anchor_release(struct anchor *an)
{
	checkpoint_key_free(an->key);
	free(an->name);
	free(an->origin);
	memset(an, 0, sizeof(*an));
}

/* Get and archive an RFC 3161 token over the signed checkpoint note. */
static void
anchor_timestamp(struct anchor *an, const struct config *cfg,
    struct store *st, const char *note, const char *cp_record,
    uint64_t size)
{
	unsigned char digest[HASH_LEN], *der = NULL, *token = NULL;
	struct tsa_request *req = NULL;
	struct fetch_resp resp;
	struct fetch_opts o;
	struct tsa_info info;
	struct rec_meta m;
	size_t der_len = 0, token_len = 0;
	char err[512] = "", *tok64 = NULL, *block, gen[32];
	json_t *d;
	int r;

	hash_sha256(note, strlen(note), digest);
	r = tsa_request_new(digest, sizeof(digest), cfg->tsa_policy, &req);
	if (r == 0)
		r = tsa_request_der(req, &der, &der_len);
	if (r < 0) {
		log_warnx("cannot build a time-stamp request: %s",
		    strerror(-r));
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.timeout = cfg->request_timeout;
	o.max_body = TSA_MAX_DER;
	o.user_agent = cfg->user_agent;
	o.post = der;
	o.post_len = der_len;
	o.post_type = "Content-Type: application/timestamp-query";
	fetch_resp_init(&resp);
	r = fetch_get(cfg->tsa_url, &o, &resp);
	if (r == 0 && resp.status != 200) {
		snprintf(err, sizeof(err), "HTTP %ld", resp.status);
		r = -EIO;
	} else if (r < 0) {
		snprintf(err, sizeof(err), "%s", resp.error);
	}
	if (r == 0)
		r = tsa_token_from_response((unsigned char *)resp.body.data,
		    resp.body.len, &token, &token_len, err, sizeof(err));
	if (r == 0)
		r = tsa_verify(token, token_len, req, digest, sizeof(digest),
		    cfg->tsa_ca_file, cfg->tsa_policy, &info, err,
		    sizeof(err));
	fetch_resp_release(&resp);
	if (r < 0) {
		an->tsa_failures++;
		log_warnx("cannot time-stamp checkpoint %llu at '%s': %s;"
		    " retrying after the next cycle", (unsigned long long)size,
		    cfg->tsa_url, err);
		goto out;
	}
	tok64 = b64(token, token_len);
	record_meta_init(&m, REC_EVENT);
	m.event = "timestamp";
	m.refers_to = cp_record;
	d = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "event",
	    "timestamp", "checkpoint", cp_record, "size", (json_int_t)size,
	    "tsa", cfg->tsa_url, "gen_time", util_format_time(info.gen_time,
	    gen, sizeof(gen)), "serial", info.serial, "token", tok64);
	block = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(d);
	r = store_add(st, &m, "application/json", block, strlen(block), -1);
	if (r == 0)
		r = store_commit(st);
	free(block);
	if (r == 0) {
		an->last_tsa = util_now();
		an->tsa_failures = 0;
		log_info("checkpoint %llu time-stamped by '%s' at %s",
		    (unsigned long long)size, cfg->tsa_url, gen);
	}
out:
	free(tok64);
	free(token);
	free(der);
	tsa_request_free(req);
}

int
anchor_checkpoint(struct anchor *an, const struct config *cfg,
    struct store *st)
{
	uint8_t root[MERKLE_HASH_LEN];
	char hex[HASH_HEX_LEN], *note = NULL, *block, cp_id[RECORD_ID_LEN];
	char tbuf[32];
	struct checkpoint cp;
	struct rec_meta m;
	uint64_t size;
	json_t *d;
	int r;

	if (st->failed)
		return 0;
	r = ledger_sync(&an->ledger, &st->ix);
	if (r < 0)
		return r;
	size = an->ledger.range.size;
	if ((int64_t)size <= an->last_size || (int64_t)size <= an->own_size)
		return 0;	/* nothing new but our own records */
	ledger_root(&an->ledger, root);
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", an->origin);
	cp.size = size;
	memcpy(cp.root, root, sizeof(root));
	cp.time = util_now();
	if (an->key != NULL) {
		r = checkpoint_format_note(&cp, an->key, &note);
		if (r < 0) {
			log_err("cannot sign checkpoint %llu: %s",
			    (unsigned long long)size, strerror(-r));
			return 0;
		}
	} else {
		note = anchor_body(an->origin, size, root, cp.time);
	}
	util_hex(root, sizeof(root), hex);
	record_meta_init(&m, REC_EVENT);
	m.event = "checkpoint";
	m.date = cp.time;
	d = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s?}", "event", "checkpoint",
	    "size", (json_int_t)size, "root", hex, "time",
	    util_format_time(cp.time, tbuf, sizeof(tbuf)), "note", note,
	    "signer", an->key != NULL ? an->name : NULL);
	block = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(d);
	memcpy(cp_id, m.record_id, sizeof(cp_id));
	r = store_add(st, &m, "application/json", block, strlen(block), -1);
	if (r == 0)
		r = store_commit(st);
	free(block);
	if (r == 0) {
		an->last_size = (int64_t)size;
		log_debug("checkpoint %llu %s", (unsigned long long)size, hex);
		if (cfg->tsa_url != NULL && util_now() - an->last_tsa >=
		    cfg->tsa_interval)
			anchor_timestamp(an, cfg, st, note, cp_id, size);
		/* The checkpoint and timestamp records are leaves too. */
		if (ledger_sync(&an->ledger, &st->ix) == 0)
			an->own_size = (int64_t)an->ledger.range.size;
	}
	free(note);
	return r;
}
