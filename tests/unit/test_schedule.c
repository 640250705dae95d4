/*
 * test_schedule.c - poll timing: exponential back-off within +-25% jitter
 * and never past its cap; the request budget per window and its reset;
 * which account is due next (enabled only, rate-limit pauses respected);
 * back-off after failed cycles; the thread re-check age tiers.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "schedule.h"
#include "tap.h"

/* min/max of `tries` back-off delays. */
static void
backoff_range(int64_t base, int n, int64_t max, int tries, int64_t *lo,
    int64_t *hi)
{
	int64_t d;
	int i;

	*lo = INT64_MAX;
	*hi = INT64_MIN;
	for (i = 0; i < tries; i++) {
		d = schedule_backoff(base, n, max);
		if (d < *lo)
			*lo = d;
		if (d > *hi)
			*hi = d;
	}
}

static void
test_backoff(void)
{
	int64_t lo, hi, want;
	int n;

	for (n = 0; n <= 5; n++) {
		want = (int64_t)60 << n;	/* 60, 120, ... 1920 */
		backoff_range(60, n, 3600, 2000, &lo, &hi);
		ok(lo >= want - want / 4 && hi <= want + want / 4,
		    "backoff(60, %d): %lld..%lld within %lld +-25%%", n,
		    (long long)lo, (long long)hi, (long long)want);
		ok(lo < want - want / 8 && hi > want + want / 8,
		    "backoff(60, %d): jitter spreads (%lld..%lld)", n,
		    (long long)lo, (long long)hi);
	}
	backoff_range(60, 6, 3600, 2000, &lo, &hi);
	ok(hi <= 3600, "backoff(60, 6): 3840 capped: at most 3600 (max %lld)",
	    (long long)hi);
	ok(lo >= 2700, "backoff(60, 6): at least 3600 - 25%% (min %lld)",
	    (long long)lo);
	backoff_range(60, 1000, 3600, 2000, &lo, &hi);
	ok(lo >= 2700 && hi <= 3600, "backoff(60, 1000): no overflow, capped"
	    " (%lld..%lld)", (long long)lo, (long long)hi);
	backoff_range(10000, 0, 3600, 500, &lo, &hi);
	ok(hi <= 3600, "a base above the cap is capped (max %lld)",
	    (long long)hi);
	backoff_range(1, 0, 3600, 100, &lo, &hi);
	ok(lo == 1 && hi == 1, "backoff(1, 0) = 1");
	is_int(schedule_backoff(0, 3, 3600), 0, "backoff of base 0 is 0");
	backoff_range(2, 20, 5, 200, &lo, &hi);
	ok(lo >= 1 && hi <= 5, "small cap: within 1..5 (%lld..%lld)",
	    (long long)lo, (long long)hi);
}

static void
test_take(void)
{
	struct account_conf c;
	struct sched_account a;
	int i, good = 1;

	memset(&c, 0, sizeof(c));
	c.enabled = 1;
	c.request_budget = 3;
	c.budget_window = 60;
	schedule_init(&a, &c);
	for (i = 0; i < 3; i++)
		if (schedule_take(&a, 1000 + i) != 0)
			good = 0;
	ok(good, "take: 3 requests within a budget of 3");
	is_int(schedule_take(&a, 1003), -EDQUOT, "take: 4th is -EDQUOT");
	is_int(schedule_take(&a, 1059), -EDQUOT,
	    "take: still spent at the end of the window");
	is_int(a.window_used, 3, "take: refused requests are not counted");
	is_int(schedule_take(&a, 1060), 0, "take: the window resets after 60s");
	is_int(a.window_used, 1, "take: counted in the new window");
	is_int(a.window_start, 1060, "take: new window starts now");
	schedule_take(&a, 1061);
	schedule_take(&a, 1062);
	is_int(schedule_take(&a, 1063), -EDQUOT, "take: new window spent");
	is_int(schedule_take(&a, 5000), 0, "take: much later, fresh window");

	c.request_budget = 0;
	schedule_init(&a, &c);
	is_int(schedule_take(&a, 1000), -EDQUOT, "take: budget 0 refuses");
}

static void
test_next(void)
{
	struct account_conf c[3];
	struct sched_account a[3];
	int64_t wait = -1;
	int i;

	memset(c, 0, sizeof(c));
	for (i = 0; i < 3; i++) {
		c[i].enabled = 1;
		c[i].poll_interval = 300;
		schedule_init(&a[i], &c[i]);
	}
	ok(a[0].conf == &c[0] && a[0].next_poll == 0 && a[0].failures == 0 &&
	    a[0].paused_until == 0, "init: poll now, no failures");
	ok(schedule_next(a, 3, 1000, &wait) == &a[0] && wait == 0,
	    "next: all due now: the first, wait 0");

	a[0].next_poll = 1100;
	a[1].next_poll = 1050;
	c[1].enabled = 0;
	a[2].next_poll = 1080;
	a[2].paused_until = 1200;
	wait = -1;
	ok(schedule_next(a, 3, 1000, &wait) == &a[0],
	    "next: disabled and paused accounts are passed over");
	is_int(wait, 100, "next: wait until it is due");
	a[0].next_poll = 1300;
	ok(schedule_next(a, 3, 1000, &wait) == &a[2] && wait == 200,
	    "next: a paused account is due when its pause ends");
	a[2].paused_until = 900;	/* pause in the past */
	ok(schedule_next(a, 3, 1000, &wait) == &a[2] && wait == 80,
	    "next: an expired pause does not delay");
	a[2].next_poll = 500;
	ok(schedule_next(a, 3, 1000, &wait) == &a[2] && wait == 0,
	    "next: overdue: wait 0");
	c[0].enabled = c[2].enabled = 0;
	wait = 12345;
	ok(schedule_next(a, 3, 1000, &wait) == NULL,
	    "next: none enabled: NULL");
	is_int(wait, 12345, "next: wait untouched when none");
	ok(schedule_next(a, 0, 1000, &wait) == NULL, "next: no accounts");
}

static void
test_done_pause(void)
{
	struct account_conf c;
	struct sched_account a;
	int64_t d;

	memset(&c, 0, sizeof(c));
	c.enabled = 1;
	c.poll_interval = 300;
	schedule_init(&a, &c);

	schedule_done(&a, 1, 1000);
	is_int(a.next_poll, 1300, "done ok: now + poll_interval");
	is_int(a.failures, 0, "done ok: no failures");
	schedule_done(&a, 0, 1000);
	is_int(a.failures, 1, "done failed: 1 failure");
	d = a.next_poll - 1000;
	ok(d >= 450 && d <= 750, "done failed once: 600 +-25%% (%lld)",
	    (long long)d);
	schedule_done(&a, 0, 1000);
	d = a.next_poll - 1000;
	ok(a.failures == 2 && d >= 900 && d <= 1500,
	    "done failed twice: 1200 +-25%% (%lld)", (long long)d);
	schedule_done(&a, 0, 1000);
	schedule_done(&a, 0, 1000);
	schedule_done(&a, 0, 1000);
	d = a.next_poll - 1000;
	ok(a.failures == 5 && d <= SCHEDULE_MAX_BACKOFF,
	    "done failed 5 times: capped at an hour (%lld)", (long long)d);
	schedule_done(&a, 1, 2000);
	ok(a.failures == 0 && a.next_poll == 2300,
	    "done ok after failures: reset, normal interval");

	schedule_pause(&a, 5000);
	is_int(a.paused_until, 5000, "pause");
	schedule_pause(&a, 4000);
	is_int(a.paused_until, 5000, "pause: a shorter pause does not shorten");
	schedule_done(&a, 1, 2000);
	is_int(a.next_poll, 5000, "done ok while paused: not before the pause");
	schedule_done(&a, 0, 2000);
	is_int(a.next_poll, 5000, "done failed while paused: the pause wins");
	schedule_done(&a, 1, 6000);
	is_int(a.next_poll, 6300, "done after the pause: normal interval");
}

static void
test_thread_next(void)
{
	struct config cfg;
	const int64_t now = 100000000, day = 86400;

	memset(&cfg, 0, sizeof(cfg));
	cfg.recheck_day = 0;
	cfg.recheck_week = 3600;
	cfg.recheck_month = 6 * 3600;
	cfg.recheck_older = day;
	is_int(schedule_thread_next(&cfg, now, now), now,
	    "tiers: just posted: every cycle");
	is_int(schedule_thread_next(&cfg, now - day + 1, now), now,
	    "tiers: under a day");
	is_int(schedule_thread_next(&cfg, now - day, now), now + 3600,
	    "tiers: a day old: hourly");
	is_int(schedule_thread_next(&cfg, now - 7 * day + 1, now), now + 3600,
	    "tiers: under a week: hourly");
	is_int(schedule_thread_next(&cfg, now - 7 * day, now), now + 6 * 3600,
	    "tiers: a week old: every 6 hours");
	is_int(schedule_thread_next(&cfg, now - 30 * day + 1, now),
	    now + 6 * 3600, "tiers: under 30 days: every 6 hours");
	is_int(schedule_thread_next(&cfg, now - 30 * day, now), now + day,
	    "tiers: 30 days old: daily");
	is_int(schedule_thread_next(&cfg, now - 3650 * day, now), now + day,
	    "tiers: ten years old: daily");
	is_int(schedule_thread_next(&cfg, now + 500, now), now,
	    "tiers: created in the future (clock skew): youngest tier");
	cfg.recheck_day = 120;
	is_int(schedule_thread_next(&cfg, now - 10, now), now + 120,
	    "tiers: configured day interval is used");
}

int
main(void)
{
	test_backoff();
	test_take();
	test_next();
	test_done_pause();
	test_thread_next();
	return tap_done();
}
