/*
 * connector.h - one ops table per platform (curl's vtls/, smtpd's queue
 * backends). A connector knows its platform's URLs, paging, auth, error
 * bodies and content fields; the core (capture.c) knows archiving,
 * versions, removal, gaps and budgets. Everything else in conn_*.c is
 * static.
 */
#ifndef SUNARCHIVE_CONNECTOR_H
#define SUNARCHIVE_CONNECTOR_H

#include <jansson.h>

#include "config.h"
#include "fetch.h"

struct capture;

enum conn_outcome {
	CONN_OK = 0,
	CONN_NOT_FOUND,		/* the platform's "this object is gone" */
	CONN_RATE_LIMITED,	/* pause the account until retry_at */
	CONN_TRANSIENT,		/* 5xx, "temporarily unavailable": retry */
	CONN_AUTH,		/* token expired or revoked: no retry */
	CONN_ERROR,		/* anything else: a gap, no retry */
};

struct conn_verdict {
	enum conn_outcome outcome;
	int64_t		 retry_at;	/* unix s, 0 = unknown (the core then
					   pauses for rate_limit_pause) */
	int		 slow_down;	/* usage near the limit: pause after */
	char		 reason[160];	/* for the gap record and the log */
};

struct connector {
	const char	*name;
	enum platform	 platform;
	/*
	 * One poll cycle for the account behind cap: list new posts, walk
	 * due threads, report complete listings. Returns 0 when the cycle
	 * ran (gaps are recorded by the core as they happen) or a negative
	 * errno when it had to stop (storage failure, shutdown).
	 */
	int	(*poll)(struct capture *cap);
	/*
	 * Classify a complete HTTP exchange. json is the parsed body or NULL
	 * (not JSON). Also reads rate-limit headers on successes.
	 */
	void	(*classify)(const struct fetch_resp *resp, json_t *json,
		    int64_t now, struct conn_verdict *ret);
	/*
	 * Add credentials: return a new URL (caller frees) and set
	 * *ret_header to an "Authorization: ..." line or NULL.
	 */
	char	*(*sign)(const struct account_conf *a, const char *url,
		    const char **ret_header, char *hdrbuf, size_t hdrlen);
	/*
	 * Confirm a removal with a direct lookup: 1 = gone, 0 = still there,
	 * negative errno = could not tell (a gap).
	 */
	int	(*lookup)(struct capture *cap, const char *kind,
		    const char *platform_id);
};

extern const struct connector conn_facebook;
extern const struct connector conn_mastodon;

/* The connector for a platform. */
const struct connector *connector_find(enum platform p);

#endif
