/*
 * schedule.c - poll timing, back-off, budgets and re-check tiers.
 *
 * Re-check tiers (configurable, documented in sunarchive.conf.example):
 * a post's thread is re-read every cycle while it is under a day old
 * (recheck_day = 0), hourly under a week, every 6 hours under a month and
 * daily after that. New posts are always read in the cycle that finds
 * them.
 */
#include <errno.h>
#include <string.h>

#include "schedule.h"
#include "util.h"

void
schedule_init(struct sched_account *a, const struct account_conf *c)
{
	memset(a, 0, sizeof(*a));
	a->conf = c;
}

struct sched_account *
schedule_next(struct sched_account *accts, size_t n, int64_t now,
    int64_t *ret_wait)
{
	struct sched_account *best = NULL;
	int64_t due, best_due = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!accts[i].conf->enabled)
			continue;
		due = accts[i].next_poll;
		if (accts[i].paused_until > due)
			due = accts[i].paused_until;
		if (best == NULL || due < best_due) {
			best = &accts[i];
			best_due = due;
		}
	}
	if (best != NULL)
		*ret_wait = best_due > now ? best_due - now : 0;
	return best;
}

int64_t
schedule_backoff(int64_t base, int n, int64_t max)
{
	int64_t d = base;
	int64_t jitter;

	while (n-- > 0 && d < max)
		d *= 2;
	if (d > max)
		d = max;
	if (d <= 0)
		return 0;
	/* +-25% so that many accounts do not retry in lockstep; the cap
	 * holds after the jitter too (at the cap, jitter only shortens). */
	jitter = (int64_t)(util_random() % (uint32_t)(d / 2 + 1)) - d / 4;
	if (d + jitter > max)
		return max;
	return d + jitter > 0 ? d + jitter : 1;
}

void
schedule_done(struct sched_account *a, int ok, int64_t now)
{
	int64_t next;

	if (ok) {
		a->failures = 0;
		next = now + a->conf->poll_interval;
	} else {
		a->failures++;
		next = now + schedule_backoff(a->conf->poll_interval,
		    a->failures, SCHEDULE_MAX_BACKOFF);
	}
	a->next_poll = next;
	if (a->paused_until > now && a->paused_until > next)
		a->next_poll = a->paused_until;
}

void
schedule_pause(struct sched_account *a, int64_t until)
{
	if (until > a->paused_until)
		a->paused_until = until;
}

int
schedule_take(struct sched_account *a, int64_t now)
{
	if (now - a->window_start >= a->conf->budget_window) {
		a->window_start = now;
		a->window_used = 0;
	}
	if (a->window_used >= a->conf->request_budget)
		return -EDQUOT;
	a->window_used++;
	return 0;
}

int64_t
schedule_thread_next(const struct config *cfg, int64_t created, int64_t now)
{
	int64_t age = now - created;

	if (age < 86400)
		return now + cfg->recheck_day;
	if (age < 7 * 86400)
		return now + cfg->recheck_week;
	if (age < 30 * 86400)
		return now + cfg->recheck_month;
	return now + cfg->recheck_older;
}
