/*
 * schedule.h - when each account is polled: its poll interval, back-off
 * after failed cycles (exponential with jitter, capped at one hour),
 * rate-limit pauses, the per-account request budget, and the age tiers
 * that decide how often an old post's thread is re-checked.
 */
#ifndef SUNARCHIVE_SCHEDULE_H
#define SUNARCHIVE_SCHEDULE_H

#include <stdint.h>

#include "config.h"

#define SCHEDULE_MAX_BACKOFF	3600

struct sched_account {
	const struct account_conf *conf;	/* borrowed from the config */
	int64_t		 index_id;
	int64_t		 next_poll;	/* unix s */
	int64_t		 paused_until;	/* rate limited until, 0 = not */
	int		 failures;	/* consecutive cycles with gaps */
	int64_t		 window_start;	/* request budget window */
	int64_t		 window_used;
};

/* Reset an account's schedule (poll now). */
void	schedule_init(struct sched_account *a, const struct account_conf *c);

/* The account due first, or NULL if none is enabled; *ret_wait = seconds
 * until it is due (0 = now). */
struct sched_account *schedule_next(struct sched_account *accts, size_t n,
	    int64_t now, int64_t *ret_wait);

/* After a cycle: ok = no gap. Sets next_poll (backoff on failures). */
void	schedule_done(struct sched_account *a, int ok, int64_t now);

/* Pause until t (rate limit); the next poll is no earlier. */
void	schedule_pause(struct sched_account *a, int64_t until);

/* Take one request from the budget; -EDQUOT when it is spent. */
int	schedule_take(struct sched_account *a, int64_t now);

/*
 * When a thread (a post and its comments) created at `created` is next
 * re-checked after a check at `now`, by the age tiers in cfg.
 */
int64_t	schedule_thread_next(const struct config *cfg, int64_t created,
	    int64_t now);

/* Back-off delay in seconds for attempt n (0-based) from base: base *
 * 2^n, with +-25% jitter, capped at max. */
int64_t	schedule_backoff(int64_t base, int n, int64_t max);

#endif
