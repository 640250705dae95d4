/*
 * loop.c - sunarchived's main loop.
 *
 * One thread. Signals are blocked and read from a signalfd, between
 * requests (libcurl's progress callback asks) and while idle, so SIGTERM
 * ends the current request and batch cleanly and SIGHUP reloads the
 * configuration between cycles. The watchdog is pinged after each cycle
 * and each idle wake-up, never from a timer, so a hung request or fsync
 * gets the service restarted by systemd.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "anchor.h"
#include "capture.h"
#include "connector.h"
#include "fetch.h"
#include "hash.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "schedule.h"
#include "spool.h"
#include "store.h"
#include "util.h"
#include "xalloc.h"

#define LOOP_STORAGE_RETRY	10	/* seconds between recovery tries */

struct loop {
	const char		*cfg_path;
	struct config		 cfg;
	struct store		 store;
	struct sched_account	*accts;
	size_t			 naccts;
	int			 sfd;
	int			 stop;
	int			 reload;
	int64_t			 watchdog_ms;	/* ping interval, 0 = off */
	struct anchor		 anchor;	/* checkpoints, timestamps */
};

/* Read pending signals without blocking; returns 1 if we must stop. */
static int
loop_signals(struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			l->reload = 1;
		} else if (!l->stop) {
			log_notice("signal %u: finishing the current batch and"
			    " stopping", si.ssi_signo);
			l->stop = 1;
		}
	}
	return l->stop;
}

static int
loop_should_exit(void *arg)
{
	return loop_signals(arg);
}

static char *
loop_warcinfo(const char *cfg_path)
{
	char host[256] = "unknown", digest[HASH_HEX_LEN] = "unavailable";
	uint64_t size;

	gethostname(host, sizeof(host) - 1);
	segment_file_hash(cfg_path, digest, &size);
	return xasprintf("software: sunarchive/%s\r\n"
	    "format: WARC File Format 1.1\r\n"
	    "conformsTo: http://iipc.github.io/warc-specifications/"
	    "specifications/warc-format/warc-1.1/\r\n"
	    "hostname: %s\r\n"
	    "description: social media records captured by sunarchived\r\n"
	    "digest-algorithm: sha256\r\n"
	    "digest-encoding: base32 (RFC 4648, no padding)\r\n"
	    "config-digest: sha256:%s\r\n", SUNARCHIVE_VERSION, host, digest);
}

/*
 * Register an account in the index; a new or changed one is also
 * archived as an "account" event, so the archive alone names every
 * account (reindex rebuilds the accounts table from these).
 */
static int
loop_register(struct loop *l, const struct account_conf *c, int64_t *ret_id)
{
	const char *platform = config_platform_name(c->platform);
	struct rec_meta m;
	char now[32], *block;
	json_t *d;
	int r;

	r = index_account_changed(&l->store.ix, c->name, platform, c->id);
	if (r <= 0) {
		if (r == 0)
			r = index_account(&l->store.ix, c->name, platform,
			    c->id, ret_id);
		return r;
	}
	record_meta_init(&m, REC_EVENT);
	m.account = c->name;
	m.platform = platform;
	m.event = "account";
	d = json_pack("{s:s, s:s, s:s, s:s, s:s}", "event", "account",
	    "account", c->name, "platform", platform, "platform_id", c->id,
	    "time", util_format_time(m.date, now, sizeof(now)));
	block = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(d);
	r = store_add(&l->store, &m, "application/json", block, strlen(block),
	    -1);
	free(block);
	if (r == 0)
		r = store_commit(&l->store);
	if (r == 0)
		r = index_account_id(&l->store.ix, c->name, ret_id);
	return r;
}

/* (Re)build the per-account schedule, keeping state of known accounts. */
static int
loop_accounts(struct loop *l)
{
	struct sched_account *old = l->accts, *a;
	size_t nold = l->naccts, i, j;
	int r;

	l->accts = xcalloc(l->cfg.naccounts ? l->cfg.naccounts : 1,
	    sizeof(*l->accts));
	l->naccts = l->cfg.naccounts;
	for (i = 0; i < l->naccts; i++) {
		const struct account_conf *c = &l->cfg.accounts[i];

		a = &l->accts[i];
		schedule_init(a, c);
		for (j = 0; j < nold; j++) {
			if (strcmp(old[j].conf->name, c->name) == 0) {
				*a = old[j];
				a->conf = c;
			}
		}
		r = loop_register(l, c, &a->index_id);
		if (r < 0) {
			log_err("cannot register account '%s' in the index: %s",
			    c->name, index_errmsg(&l->store.ix));
			free(old);
			return r;
		}
	}
	free(old);
	return 0;
}

static void
loop_reload(struct loop *l)
{
	struct config next;
	char err[1024];
	int r;

	l->reload = 0;
	notify_reloading();
	r = config_load(l->cfg_path, 0, &next, err, sizeof(err));
	if (r < 0) {
		log_err("reload failed, keeping the running configuration: %s",
		    err);
		notify_ready();
		return;
	}
	if (strcmp(next.state_dir, l->cfg.state_dir) != 0)
		log_warnx("state_dir changed in '%s': a restart is needed for"
		    " that; keeping '%s'", l->cfg_path, l->cfg.state_dir);
	{
		char *keep = l->cfg.state_dir;

		l->cfg.state_dir = next.state_dir;
		next.state_dir = keep;
	}
	/* Swap, then rebuild accounts against the new account table. */
	{
		struct config old = l->cfg;

		l->cfg = next;
		if (loop_accounts(l) < 0)
			log_err("reload left accounts unregistered");
		config_release(&old);
	}
	l->store.max_size = (uint64_t)l->cfg.segment_max_size;
	l->store.max_age = l->cfg.segment_max_age;
	if (log_level() != LOG_PRI_DEBUG)
		log_set_level_name(l->cfg.log_level);
	log_notice("configuration reloaded from '%s': %zu account(s)",
	    l->cfg_path, l->cfg.naccounts);
	notify_ready();
}

static void
loop_recovery_log(const struct store_recovery *rec)
{
	if (rec->recovered > 0)
		log_notice("recovery: indexed %llu complete record(s) written"
		    " before a crash", (unsigned long long)rec->recovered);
	if (rec->torn_path != NULL)
		log_warnx("recovery: moved %llu torn byte(s) to '%s'",
		    (unsigned long long)rec->torn_bytes, rec->torn_path);
	if (rec->sealed > 0)
		log_notice("recovery: sealed %d segment(s)", rec->sealed);
}

/* Archive events queued by the sunarchive tool (fixity checks, ...). */
static void
loop_spool(struct loop *l)
{
	struct spool_result res;
	int r;

	r = spool_ingest(&l->store, &res);
	if (res.ingested > 0)
		log_info("archived %d event(s) from the spool", res.ingested);
	if (res.rejected > 0)
		log_warnx("moved %d malformed spool file(s) to '%s'",
		    res.rejected, l->store.quarantine_dir);
	if (r < 0 && !l->store.failed)
		log_err("cannot read the spool in '%s': %s",
		    l->store.state_dir, strerror(-r));
}

static void
loop_idle(struct loop *l, int64_t secs)
{
	struct pollfd pfd = { .fd = l->sfd, .events = POLLIN };
	int64_t ms = secs * 1000;

	if (l->watchdog_ms > 0 && ms > l->watchdog_ms)
		ms = l->watchdog_ms;
	if (ms > 0)
		poll(&pfd, 1, (int)(ms > 60000 ? 60000 : ms));
	loop_signals(l);
}

static int
loop_main(struct loop *l)
{
	struct store_recovery rec;
	struct sched_account *a;
	struct capture cap;
	int64_t wait;

	while (!loop_signals(l)) {
		if (l->watchdog_ms > 0)
			notify_watchdog();
		if (l->reload)
			loop_reload(l);
		if (l->store.failed) {
			if (store_recover(&l->store, &rec) < 0) {
				notify_status("storage error: %s; retrying",
				    strerror(-l->store.err));
				loop_idle(l, LOOP_STORAGE_RETRY);
				continue;
			}
			loop_recovery_log(&rec);
			free(rec.torn_path);
			log_notice("storage recovered; capture resumes");
		}
		loop_spool(l);
		if (anchor_checkpoint(&l->anchor, &l->cfg, &l->store) < 0)
			log_err("cannot write a checkpoint: %s",
			    strerror(-l->store.err));
		a = schedule_next(l->accts, l->naccts, util_now(), &wait);
		if (a == NULL || wait > 0) {
			loop_idle(l, a == NULL ? 60 : wait);
			continue;
		}
		memset(&cap, 0, sizeof(cap));
		cap.cfg = &l->cfg;
		cap.conn = connector_find(a->conf->platform);
		cap.acct = a;
		cap.store = &l->store;
		cap.should_exit = loop_should_exit;
		cap.exit_arg = l;
		capture_cycle(&cap);
		notify_status("last poll: '%s' (%s); %llu record(s) this run",
		    a->conf->name, cap.storage_failed ? "storage error" :
		    cap.gaps > 0 ? "with gaps" : "ok",
		    (unsigned long long)l->store.acked);
	}
	return 0;
}

int
loop_run(const char *cfg_path, struct config *cfg)
{
	struct store_recovery rec;
	struct loop l;
	sigset_t mask;
	char err[1024], *info;
	int r, status = 0;

	memset(&l, 0, sizeof(l));
	l.cfg_path = cfg_path;
	l.cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	l.sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l.sfd < 0) {
		log_err("cannot create signalfd: %s", strerror(errno));
		status = 1;
		goto out_cfg;
	}
	notify_init();
	l.watchdog_ms = notify_watchdog_usec() / 1000 / 3;
	fetch_global_init();
	info = loop_warcinfo(cfg_path);
	r = store_open(&l.store, l.cfg.state_dir,
	    (uint64_t)l.cfg.segment_max_size, l.cfg.segment_max_age, info,
	    &rec, err, sizeof(err));
	free(info);
	if (r < 0) {
		log_err("%s", err);
		status = 1;
		goto out_fetch;
	}
	loop_recovery_log(&rec);
	free(rec.torn_path);
	if (loop_accounts(&l) < 0) {
		status = 1;
		goto out_store;
	}
	if (anchor_init(&l.anchor, &l.cfg, &l.store, err, sizeof(err)) < 0) {
		log_err("%s", err);
		status = 1;
		goto out_store;
	}
	log_notice("sunarchived %s started: %zu account(s), archive in '%s'",
	    SUNARCHIVE_VERSION, l.naccts, l.store.archive_dir);
	notify_ready();
	notify_status("ready; %zu account(s)", l.naccts);
	status = loop_main(&l);
	notify_stopping();
	if (anchor_checkpoint(&l.anchor, &l.cfg, &l.store) < 0)
		log_err("cannot write the final checkpoint");
	log_notice("stopped");
out_store:
	anchor_release(&l.anchor);
	store_close(&l.store);
out_fetch:
	fetch_global_cleanup();
	close(l.sfd);
out_cfg:
	free(l.accts);
	config_release(&l.cfg);
	notify_close();
	return status;
}
