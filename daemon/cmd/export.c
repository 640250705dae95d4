/*
 * export.c - "sunarchive export": the response package for a public
 * records request (or for search filters) as one BagIt bag, FILE.zip or
 * FILE.tar.gz, written by the export module (include/export.h, which
 * also documents the package layout).
 *
 * What is covered comes from the request (--request ID, through the
 * request module: its stored search, its state for the citations and
 * its description), or from the filter options of "search", or --all.
 * Thread context follows the request's search, or --with-thread /
 * --no-thread; for filters it is off unless asked for.
 *
 * --redact finds Social Security and payment card numbers, the clerk adds
 * --redact-item ITEM:FIELD[:TEXT] rules, each with a --citation; both
 * apply to the produced copies only. With a TSA configured (tsa_url) the
 * tag manifest is time-stamped unless --no-tsa; --tsa makes a failure to
 * get the token fatal.
 *
 * The archive and index are only read. Afterwards an "export" event is
 * queued in the spool for sunarchived to archive (a warning if the spool
 * cannot be written).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "export.h"
#include "fetch.h"
#include "query.h"
#include "redact.h"
#include "request.h"
#include "spool.h"
#include "tsa.h"
#include "util.h"
#include "xalloc.h"

#define EXPORT_DAY		86400
#define EXPORT_MANUAL_MAX	1000	/* --redact-item rules */

enum {
	EX_OPT_REQUEST = 0x200,
	EX_OPT_ALL,
	EX_OPT_OUT,
	EX_OPT_ACCOUNT,
	EX_OPT_PLATFORM,
	EX_OPT_FROM,
	EX_OPT_TO,
	EX_OPT_TEXT,
	EX_OPT_AUTHOR,
	EX_OPT_ITEM_STATE,
	EX_OPT_KIND,
	EX_OPT_INCLUDE_REMOVED,
	EX_OPT_EXCLUDE_REMOVED,
	EX_OPT_ONLY_REMOVED,
	EX_OPT_HIDDEN,
	EX_OPT_ITEM,
	EX_OPT_WITH_THREAD,
	EX_OPT_NO_THREAD,
	EX_OPT_REDACT,
	EX_OPT_STATE,
	EX_OPT_REDACT_ITEM,
	EX_OPT_CITATION,
	EX_OPT_INCLUDE_ORIGINALS,
	EX_OPT_TSA,
	EX_OPT_NO_TSA,
	EX_OPT_DESCRIPTION,
	EX_OPT_ORGANIZATION,
};

static const char *const ex_platforms[] = { "facebook", "mastodon" };
static const char *const ex_item_states[] = { "live", "edited", "hidden",
    "removed", "restored" };
static const char *const ex_kinds[] = { "post", "comment", "reply" };
static const char *const ex_incl[] = {
	[QUERY_INCLUDE] = "include", [QUERY_EXCLUDE] = "exclude",
	[QUERY_ONLY] = "only",
};

struct ex_cli {
	const char		*request;
	const char		*out;
	const char		*law;
	const char		*description;
	const char		*organization;
	struct query_filter	 f;
	int64_t			*ids;
	size_t			 nids;
	int			 nfilters;	/* filter options given */
	int			 all;
	int			 thread;	/* -1 unset, 0 no, 1 yes */
	int			 redact;
	int			 originals;
	int			 tsa;		/* -1 unset, 0 no, 1 required */
	struct export_redaction	*manual;
	char			**manual_text;	/* the copies they point in */
	size_t			 nmanual;
};

static int
ex_index_of(const char *s, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return (int)i;
	return -1;
}

static int
ex_date(struct ctl *ctl, const char *opt, const char *s, int end_of_day,
    int64_t *ret_t)
{
	int64_t t;

	if (util_parse_time(s, &t) < 0)
		return ctl_usage(ctl, "invalid date '%s' for %s (use "
		    "YYYY-MM-DD or RFC 3339, e.g. 2026-03-02T14:05:09Z)", s,
		    opt);
	/* A bare date as an upper bound means the whole day. */
	if (end_of_day && strlen(s) == 10)
		t += EXPORT_DAY - 1;
	*ret_t = t;
	return 0;
}

/* --redact-item ITEM:FIELD[:TEXT]. */
static int
ex_manual(struct ctl *ctl, struct ex_cli *c, const char *arg)
{
	struct export_redaction *m;
	char *copy, *field, *text;

	if (c->nmanual >= EXPORT_MANUAL_MAX)
		return ctl_usage(ctl, "too many --redact-item rules (at most"
		    " %d)", EXPORT_MANUAL_MAX);
	copy = xstrdup(arg);
	field = strchr(copy, ':');
	if (field == NULL || field == copy || field[1] == '\0' ||
	    field[1] == ':') {
		free(copy);
		return ctl_usage(ctl, "invalid --redact-item '%s' (use"
		    " ITEM:FIELD or ITEM:FIELD:TEXT, e.g. 42:text:555-0100)",
		    arg);
	}
	*field++ = '\0';
	text = strchr(field, ':');
	if (text != NULL) {
		*text++ = '\0';
		if (*text == '\0')
			text = NULL;
	}
	c->manual = xreallocarray(c->manual, c->nmanual + 1,
	    sizeof(*c->manual));
	c->manual_text = xreallocarray(c->manual_text, c->nmanual + 1,
	    sizeof(*c->manual_text));
	m = &c->manual[c->nmanual];
	m->item = copy;
	m->field = field;
	m->text = text;
	m->citation = NULL;
	c->manual_text[c->nmanual++] = copy;
	return 0;
}

/* One option; 0, -1 after --help, or the exit code to return. */
static int
ex_option(struct ctl *ctl, int opt, struct ex_cli *c)
{
	struct query_filter *f = &c->f;
	int64_t v;
	size_t i;
	int k, filter = 1;

	switch (opt) {
	case EX_OPT_ACCOUNT:
		f->account = optarg;
		break;
	case EX_OPT_PLATFORM:
		if (ex_index_of(optarg, ex_platforms,
		    ARRAY_SIZE(ex_platforms)) < 0)
			return ctl_usage(ctl, "unknown platform '%s' "
			    "(facebook or mastodon)", optarg);
		f->platform = optarg;
		break;
	case EX_OPT_FROM:
		if (ex_date(ctl, "--from", optarg, 0, &f->from) != 0)
			return CTL_EXIT_USAGE;
		f->has_from = 1;
		break;
	case EX_OPT_TO:
		if (ex_date(ctl, "--to", optarg, 1, &f->to) != 0)
			return CTL_EXIT_USAGE;
		f->has_to = 1;
		break;
	case EX_OPT_TEXT:
		f->text = optarg;
		break;
	case EX_OPT_AUTHOR:
		f->author = optarg;
		break;
	case EX_OPT_ITEM_STATE:
		if (ex_index_of(optarg, ex_item_states,
		    ARRAY_SIZE(ex_item_states)) < 0)
			return ctl_usage(ctl, "unknown item state '%s' (live,"
			    " edited, hidden, removed or restored)", optarg);
		f->state = optarg;
		break;
	case EX_OPT_KIND:
		if (ex_index_of(optarg, ex_kinds, ARRAY_SIZE(ex_kinds)) < 0)
			return ctl_usage(ctl, "unknown kind '%s' (post, "
			    "comment or reply)", optarg);
		f->kind = optarg;
		break;
	case EX_OPT_INCLUDE_REMOVED:
		f->removed = QUERY_INCLUDE;
		break;
	case EX_OPT_EXCLUDE_REMOVED:
		f->removed = QUERY_EXCLUDE;
		break;
	case EX_OPT_ONLY_REMOVED:
		f->removed = QUERY_ONLY;
		break;
	case EX_OPT_HIDDEN:
		k = ex_index_of(optarg, ex_incl, ARRAY_SIZE(ex_incl));
		if (k < 0)
			return ctl_usage(ctl, "unknown --hidden '%s' "
			    "(include, exclude or only)", optarg);
		f->hidden = (enum query_incl)k;
		break;
	case EX_OPT_ITEM:
		if (util_parse_int(optarg, 1, INT64_MAX, &v) < 0)
			return ctl_usage(ctl, "invalid --item '%s' (an item"
			    " number as search shows it)", optarg);
		if (c->nids >= QUERY_IDS_MAX)
			return ctl_usage(ctl, "too many --item (at most %d)",
			    QUERY_IDS_MAX);
		c->ids = xreallocarray(c->ids, c->nids + 1, sizeof(*c->ids));
		c->ids[c->nids++] = v;
		break;
	default:
		filter = 0;
		break;
	}
	if (filter) {
		c->nfilters++;
		return 0;
	}
	switch (opt) {
	case EX_OPT_REQUEST:
		c->request = optarg;
		return 0;
	case EX_OPT_ALL:
		c->all = 1;
		return 0;
	case EX_OPT_OUT:
		c->out = optarg;
		return 0;
	case EX_OPT_WITH_THREAD:
		c->thread = 1;
		return 0;
	case EX_OPT_NO_THREAD:
		c->thread = 0;
		return 0;
	case EX_OPT_REDACT:
		c->redact = 1;
		return 0;
	case EX_OPT_STATE:
		if (strcasecmp(optarg, "FL") != 0 &&
		    strcasecmp(optarg, "MO") != 0) {
			if (ex_index_of(optarg, ex_item_states,
			    ARRAY_SIZE(ex_item_states)) >= 0)
				return ctl_usage(ctl, "--state is the law"
				    " cited (FL or MO); for items in state"
				    " '%s' use --item-state", optarg);
			return ctl_usage(ctl, "unknown --state '%s' (FL or"
			    " MO)", optarg);
		}
		c->law = strcasecmp(optarg, "FL") == 0 ? "FL" : "MO";
		return 0;
	case EX_OPT_REDACT_ITEM:
		return ex_manual(ctl, c, optarg);
	case EX_OPT_CITATION:
		if (optarg[0] == '\0')
			return ctl_usage(ctl, "--citation must not be empty");
		if (c->nmanual == 0 || c->manual[c->nmanual - 1].citation !=
		    NULL)
			return ctl_usage(ctl, "--citation follows the"
			    " --redact-item rule(s) it applies to");
		for (i = c->nmanual; i > 0 &&
		    c->manual[i - 1].citation == NULL; i--)
			c->manual[i - 1].citation = optarg;
		return 0;
	case EX_OPT_INCLUDE_ORIGINALS:
		c->originals = 1;
		return 0;
	case EX_OPT_TSA:
		c->tsa = 1;
		return 0;
	case EX_OPT_NO_TSA:
		c->tsa = 0;
		return 0;
	case EX_OPT_DESCRIPTION:
		c->description = optarg;
		return 0;
	case EX_OPT_ORGANIZATION:
		c->organization = optarg;
		return 0;
	case CTL_OPT_HELP:
		ctl_help(ctl);
		return -1;
	default:
		return CTL_EXIT_USAGE;
	}
}

static int
ex_combine(struct ctl *ctl, struct ex_cli *c)
{
	struct query_order o;
	char err[QUERY_ERR_LEN];
	enum export_format fmt;
	size_t i;

	if (c->out == NULL)
		return ctl_usage(ctl, "where to? give --out FILE.zip or"
		    " --out FILE.tar.gz");
	if (export_format_of(c->out, &fmt) < 0)
		return ctl_usage(ctl, "cannot write '%s': the package is"
		    " FILE.zip or FILE.tar.gz", c->out);
	if ((c->request != NULL) + (c->all != 0) + (c->nfilters > 0) != 1)
		return ctl_usage(ctl, c->request == NULL && !c->all &&
		    c->nfilters == 0 ? "what to export? give --request ID,"
		    " search filters, or --all" : "--request, --all and"
		    " search filters cannot be combined");
	for (i = 0; i < c->nmanual; i++)
		if (c->manual[i].citation == NULL)
			return ctl_usage(ctl, "--redact-item %s:%s needs a"
			    " --citation after it", c->manual[i].item,
			    c->manual[i].field);
	if (c->f.has_from && c->f.has_to && c->f.from > c->f.to)
		return ctl_usage(ctl, "--from is after --to");
	c->f.ids = c->ids;
	c->f.nids = c->nids;
	memset(&o, 0, sizeof(o));
	if (query_check(&c->f, &o, err, sizeof(err)) < 0)
		return ctl_fail(CTL_EXIT_USAGE, "bad search filter: %s (see"
		    " 'sunarchive help search')", err);
	return 0;
}

/* ---- the time-stamp ---------------------------------------------------- */

/*
 * export_timestamp_fn: POST a TimeStampReq for digest to the configured
 * TSA and check the reply (against tsa_ca_file when it is set).
 */
static int
ex_timestamp(void *arg, const unsigned char digest[TSA_DIGEST_LEN],
    unsigned char **ret_token, size_t *ret_len, struct tsa_info *ret_info,
    char *err, size_t errlen)
{
	const struct config *cfg = arg;
	struct tsa_request *req = NULL;
	struct fetch_resp resp;
	struct fetch_opts o;
	unsigned char *der = NULL, *token = NULL;
	size_t der_len = 0, token_len = 0;
	int r;

	r = tsa_request_new(digest, TSA_DIGEST_LEN, cfg->tsa_policy, &req);
	if (r == 0)
		r = tsa_request_der(req, &der, &der_len);
	if (r < 0) {
		snprintf(err, errlen, "cannot build a time-stamp request: %s",
		    strerror(-r));
		tsa_request_free(req);
		return r;
	}
	memset(&o, 0, sizeof(o));
	o.timeout = cfg->request_timeout > 0 ? cfg->request_timeout : 30;
	o.max_body = TSA_MAX_DER;
	o.user_agent = cfg->user_agent;
	o.post = der;
	o.post_len = der_len;
	o.post_type = "Content-Type: application/timestamp-query";
	fetch_resp_init(&resp);
	r = fetch_get(cfg->tsa_url, &o, &resp);
	if (r < 0) {
		snprintf(err, errlen, "'%s': %s", cfg->tsa_url, resp.error);
	} else if (resp.status != 200) {
		snprintf(err, errlen, "'%s': HTTP %ld", cfg->tsa_url,
		    resp.status);
		r = -EIO;
	}
	if (r == 0)
		r = tsa_token_from_response((unsigned char *)resp.body.data,
		    resp.body.len, &token, &token_len, err, errlen);
	if (r == 0 && cfg->tsa_ca_file != NULL)
		r = tsa_verify(token, token_len, req, digest, TSA_DIGEST_LEN,
		    cfg->tsa_ca_file, cfg->tsa_policy, ret_info, err, errlen);
	fetch_resp_release(&resp);
	free(der);
	tsa_request_free(req);
	if (r < 0) {
		free(token);
		return r;
	}
	*ret_token = token;
	*ret_len = token_len;
	return 0;
}

/* ---- output ------------------------------------------------------------- */

static json_t *
ex_request_json(const struct request_info *ri)
{
	char t[CTL_TIME_LEN];
	json_t *o = json_object();

	json_object_set_new(o, "request_id", json_string(ri->request_id));
	json_object_set_new(o, "requester", ctl_json_str(ri->requester));
	json_object_set_new(o, "received", json_string(ctl_fmt_time(
	    ri->received, t, sizeof(t))));
	json_object_set_new(o, "state", json_string(ri->state));
	json_object_set_new(o, "status", json_string(ri->status));
	json_object_set_new(o, "description", ctl_json_str(ri->description));
	if (ri->acknowledged > 0)
		json_object_set_new(o, "acknowledged", json_string(
		    ctl_fmt_time(ri->acknowledged, t, sizeof(t))));
	if (ri->deadline > 0)
		json_object_set_new(o, "deadline", json_string(ctl_fmt_time(
		    ri->deadline, t, sizeof(t))));
	json_object_set_new(o, "opened", json_string(ctl_fmt_time(ri->opened,
	    t, sizeof(t))));
	if (ri->closed > 0) {
		json_object_set_new(o, "closed", json_string(ctl_fmt_time(
		    ri->closed, t, sizeof(t))));
		json_object_set_new(o, "disposition",
		    ctl_json_str(ri->disposition));
	}
	json_object_set_new(o, "search", json_deep_copy(ri->search));
	return o;
}

static json_t *
ex_summary(const struct ex_cli *c, const struct export_result *res,
    json_t *warnings)
{
	json_t *o = json_object();

	json_object_set_new(o, "file", json_string(c->out));
	json_object_set_new(o, "request", ctl_json_str(c->request));
	json_object_set_new(o, "items", json_integer(res->items));
	json_object_set_new(o, "context_items", json_integer(res->context));
	json_object_set_new(o, "threads", json_integer(res->threads));
	json_object_set_new(o, "versions", json_integer(res->versions));
	json_object_set_new(o, "media", json_integer(res->media));
	json_object_set_new(o, "events", json_integer(res->events));
	json_object_set_new(o, "removed", json_integer(res->removed));
	json_object_set_new(o, "redacted", json_boolean(res->redacted));
	json_object_set_new(o, "redactions", json_integer(res->redactions));
	json_object_set_new(o, "originals", json_boolean(res->originals));
	json_object_set_new(o, "warc_records",
	    json_integer(res->warc_records));
	json_object_set_new(o, "gaps", json_integer(res->gaps));
	json_object_set_new(o, "payload_files",
	    json_integer((json_int_t)res->payload_files));
	json_object_set_new(o, "payload_bytes",
	    json_integer((json_int_t)res->payload_bytes));
	json_object_set_new(o, "bytes", json_integer((json_int_t)res->bytes));
	json_object_set_new(o, "tagmanifest_sha256",
	    json_string(res->tagmanifest_sha256));
	json_object_set_new(o, "timestamped", json_boolean(res->timestamped));
	json_object_set_new(o, "warnings", json_incref(warnings));
	return o;
}

static void
ex_print(const struct ex_cli *c, const struct export_result *res)
{
	char size[32];

	printf("wrote %s (%s)", c->out, ctl_fmt_size((int64_t)res->bytes,
	    size, sizeof(size)));
	if (c->request != NULL)
		printf(" for request %s", c->request);
	printf("\n  %-13s %lld", "items", (long long)res->items);
	if (res->context > 0)
		printf(" (%lld thread context)", (long long)res->context);
	printf(" in %lld thread%s\n", (long long)res->threads,
	    res->threads == 1 ? "" : "s");
	printf("  %-13s %lld\n", "versions", (long long)res->versions);
	printf("  %-13s %lld\n", "removed", (long long)res->removed);
	printf("  %-13s %lld\n", "media", (long long)res->media);
	if (res->redacted)
		printf("  %-13s %lld (data/redactions.csv)\n", "redactions",
		    (long long)res->redactions);
	if (res->originals)
		printf("  %-13s %lld WARC records (data/archive.warc.gz)\n",
		    "originals", (long long)res->warc_records);
	else
		printf("  %-13s left out of the redacted package"
		    " (--include-originals adds them)\n", "originals");
	printf("  %-13s %lld in the period\n", "capture gaps",
	    (long long)res->gaps);
	printf("  %-13s %llu files, %s\n", "payload",
	    (unsigned long long)res->payload_files, ctl_fmt_size(
	    (int64_t)res->payload_bytes, size, sizeof(size)));
	printf("  %-13s %s\n", "time-stamp", res->timestamped ?
	    "tagmanifest-sha256.txt.tsr (see VERIFY.txt)" : "none");
	printf("  %-13s sha256 %s\n", "tag manifest",
	    res->tagmanifest_sha256);
}

/* Queue the event for sunarchived; a warning on failure. */
static void
ex_spool(struct ctl *ctl, const char *state_dir, const struct ex_cli *c,
    const struct export_result *res, json_t *warnings)
{
	const char *base = strrchr(c->out, '/');
	json_t *ev;
	char *msg;
	int r;

	base = base != NULL ? base + 1 : c->out;
	ev = json_object();
	json_object_set_new(ev, "event", json_string("export"));
	json_object_set_new(ev, "request", ctl_json_str(c->request));
	json_object_set_new(ev, "file", ctl_json_str(base));
	json_object_set_new(ev, "items", json_integer(res->items));
	json_object_set_new(ev, "versions", json_integer(res->versions));
	json_object_set_new(ev, "media", json_integer(res->media));
	json_object_set_new(ev, "redactions", json_integer(res->redactions));
	json_object_set_new(ev, "redacted", json_boolean(res->redacted));
	json_object_set_new(ev, "originals", json_boolean(res->originals));
	json_object_set_new(ev, "bytes", json_integer((json_int_t)
	    res->bytes));
	json_object_set_new(ev, "tagmanifest_sha256",
	    json_string(res->tagmanifest_sha256));
	r = spool_write(state_dir, ev, NULL, 0);
	json_decref(ev);
	if (r < 0) {
		msg = xasprintf("cannot queue the export event in '%s/%s': %s"
		    " (the package is complete)", state_dir, SPOOL_DIR,
		    strerror(-r));
		if (!ctl->json)
			ctl_fail(0, "warning: %s", msg);
		json_array_append_new(warnings, json_string(msg));
		free(msg);
	}
}

static int
ex_load_config(struct ctl *ctl, struct config *cfg, int *ret_loaded)
{
	char err[1024];

	*ret_loaded = 0;
	memset(cfg, 0, sizeof(*cfg));
	if (access(ctl->config_path, F_OK) < 0 && errno == ENOENT &&
	    ctl->state_dir != NULL)
		return 0;
	if (config_load(ctl->config_path, CONFIG_SKIP_SECRETS, cfg, err,
	    sizeof(err)) < 0)
		return ctl_fail(-EIO, "%s", err);
	*ret_loaded = 1;
	return 0;
}

static int
ex_exit(int r)
{
	switch (r) {
	case -ENOENT:
	case -EEXIST:
	case -EBADMSG:
		return CTL_EXIT_NOTFOUND;
	case -EINVAL:
		return CTL_EXIT_USAGE;
	default:
		return CTL_EXIT_IO;
	}
}

static int
ex_run(struct ctl *ctl, struct ex_cli *c)
{
	struct request_info ri;
	struct export_opts eo;
	struct export_result res;
	struct config cfg;
	char err[EXPORT_ERR_LEN];
	const char *state_dir;
	json_t *request = NULL, *warnings;
	sqlite3 *db;
	int r, loaded = 0, have_ri = 0, ex;

	memset(&ri, 0, sizeof(ri));
	if (ctl_state_dir(ctl, &state_dir) < 0 ||
	    ex_load_config(ctl, &cfg, &loaded) < 0)
		return CTL_EXIT_IO;
	if (c->tsa == 1 && (cfg.tsa_url == NULL || cfg.tsa_url[0] == '\0')) {
		ex = ctl_usage(ctl, "--tsa: no tsa_url in '%s'",
		    ctl->config_path);
		goto out_config;
	}
	if (ctl_db(ctl, &db) < 0) {
		ex = CTL_EXIT_IO;
		goto out_config;
	}
	if (c->request != NULL) {
		r = request_tables(db);
		if (r < 0) {
			ctl_db_error(ctl);
			ex = CTL_EXIT_IO;
			goto out_config;
		}
		if (r == 0) {
			ex = ctl_fail(CTL_EXIT_NOTFOUND, "no records requests"
			    " in this index (see 'sunarchive request open')");
			goto out_config;
		}
		r = request_load(db, c->request, &ri, err, sizeof(err));
		if (r < 0) {
			ex = ctl_fail(r == -ENOENT ? CTL_EXIT_NOTFOUND :
			    CTL_EXIT_IO, "%s", err);
			goto out_config;
		}
		have_ri = 1;
		c->f = ri.filter;
		if (c->law == NULL && (strcmp(ri.state, "FL") == 0 ||
		    strcmp(ri.state, "MO") == 0))
			c->law = ri.state;
		if (c->description == NULL)
			c->description = ri.description;
		request = ex_request_json(&ri);
	}
	if (c->thread >= 0)
		c->f.with_thread = c->thread;

	memset(&eo, 0, sizeof(eo));
	eo.state_dir = state_dir;
	eo.out = c->out;
	eo.filter = &c->f;
	eo.request = request;
	eo.request_id = c->request;
	eo.description = c->description;
	eo.organization = c->organization;
	eo.redact = c->redact ? REDACT_F_AUTO : 0;
	eo.law = c->law;
	eo.manual = c->manual;
	eo.nmanual = c->nmanual;
	eo.include_originals = c->originals;
	if (c->tsa != 0 && loaded && cfg.tsa_url != NULL &&
	    cfg.tsa_url[0] != '\0') {
		fetch_global_init();
		eo.timestamp = ex_timestamp;
		eo.timestamp_arg = &cfg;
		eo.timestamp_required = c->tsa == 1;
		eo.tsa_url = cfg.tsa_url;
	}
	/* Its CA certificates also check the checkpoints' tokens. */
	if (loaded)
		eo.tsa_ca_file = cfg.tsa_ca_file;
	eo.tool_version = SUNARCHIVE_VERSION;
	eo.now = ctl->now;

	warnings = json_array();
	r = export_run(db, &eo, &res, err, sizeof(err));
	if (eo.timestamp != NULL)
		fetch_global_cleanup();
	if (r < 0) {
		if (r == -EBADMSG)
			ctl_fail(0, "%s", err);
		else
			ctl_fail(0, "%s", err[0] != '\0' ? err :
			    strerror(-r));
		ex = ex_exit(r);
		json_decref(warnings);
		goto out_config;
	}
	if (res.warning[0] != '\0') {
		json_array_append_new(warnings, json_string(res.warning));
		if (!ctl->json)
			ctl_fail(0, "warning: %s", res.warning);
	}
	if (res.manual_unused > 0) {
		char *msg = xasprintf("%lld --redact-item rule(s) name no"
		    " item in the package", (long long)res.manual_unused);

		json_array_append_new(warnings, json_string(msg));
		if (!ctl->json)
			ctl_fail(0, "warning: %s", msg);
		free(msg);
	}
	ex_spool(ctl, state_dir, c, &res, warnings);
	if (ctl->json)
		ex = ctl_print_json(ex_summary(c, &res, warnings));
	else {
		ex_print(c, &res);
		ex = CTL_EXIT_OK;
	}
	json_decref(warnings);
out_config:
	json_decref(request);
	if (have_ri)
		request_info_release(&ri);
	config_release(&cfg);
	return ex;
}

int
cmd_export(int argc, char **argv, struct ctl *ctl)
{
	static const struct option opts[] = {
		{ "request",	required_argument, NULL, EX_OPT_REQUEST },
		{ "all",	no_argument,	   NULL, EX_OPT_ALL },
		{ "out",	required_argument, NULL, EX_OPT_OUT },
		{ "account",	required_argument, NULL, EX_OPT_ACCOUNT },
		{ "platform",	required_argument, NULL, EX_OPT_PLATFORM },
		{ "from",	required_argument, NULL, EX_OPT_FROM },
		{ "to",		required_argument, NULL, EX_OPT_TO },
		{ "text",	required_argument, NULL, EX_OPT_TEXT },
		{ "author",	required_argument, NULL, EX_OPT_AUTHOR },
		{ "item-state",	required_argument, NULL, EX_OPT_ITEM_STATE },
		{ "kind",	required_argument, NULL, EX_OPT_KIND },
		{ "include-removed", no_argument, NULL,
		    EX_OPT_INCLUDE_REMOVED },
		{ "exclude-removed", no_argument, NULL,
		    EX_OPT_EXCLUDE_REMOVED },
		{ "only-removed", no_argument,	   NULL, EX_OPT_ONLY_REMOVED },
		{ "hidden",	required_argument, NULL, EX_OPT_HIDDEN },
		{ "item",	required_argument, NULL, EX_OPT_ITEM },
		{ "with-thread", no_argument,	   NULL, EX_OPT_WITH_THREAD },
		{ "no-thread",	no_argument,	   NULL, EX_OPT_NO_THREAD },
		{ "redact",	no_argument,	   NULL, EX_OPT_REDACT },
		{ "state",	required_argument, NULL, EX_OPT_STATE },
		{ "redact-item", required_argument, NULL, EX_OPT_REDACT_ITEM },
		{ "citation",	required_argument, NULL, EX_OPT_CITATION },
		{ "include-originals", no_argument, NULL,
		    EX_OPT_INCLUDE_ORIGINALS },
		{ "tsa",	no_argument,	   NULL, EX_OPT_TSA },
		{ "no-tsa",	no_argument,	   NULL, EX_OPT_NO_TSA },
		{ "description", required_argument, NULL, EX_OPT_DESCRIPTION },
		{ "organization", required_argument, NULL,
		    EX_OPT_ORGANIZATION },
		CTL_OPTIONS_COMMON
	};
	struct ex_cli c;
	size_t i;
	int opt, r;

	memset(&c, 0, sizeof(c));
	query_filter_init(&c.f);
	c.thread = -1;
	c.tsa = -1;
	while ((opt = ctl_getopt(ctl, argc, argv, "h", opts)) != -1) {
		r = ex_option(ctl, opt, &c);
		if (r != 0) {
			r = r < 0 ? CTL_EXIT_OK : r;
			goto out;
		}
	}
	if (optind < argc) {
		r = ctl_usage(ctl, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	r = ex_combine(ctl, &c);
	if (r == 0)
		r = ex_run(ctl, &c);
out:
	for (i = 0; i < c.nmanual; i++)
		free(c.manual_text[i]);
	free(c.manual_text);
	free(c.manual);
	free(c.ids);
	return r;
}
