/*
 * capture.h - the core of a poll cycle, offered to connectors: archived
 * GETs with retries and gap recording, items turned into versions and
 * state events, removal detection after complete listings, thread
 * re-check scheduling and page-batched commits.
 */
#ifndef SUNARCHIVE_CAPTURE_H
#define SUNARCHIVE_CAPTURE_H

#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "connector.h"
#include "index.h"
#include "schedule.h"
#include "store.h"

/* One item as a connector sees it. Strings borrowed. */
struct cap_item {
	const char	*kind;		/* post | comment | reply */
	const char	*platform_id;
	const char	*parent_id;
	const char	*root_id;	/* the thread's post (NULL for posts) */
	int64_t		 created;
	const char	*url;
	const char	*edit_marker;	/* platform edit signal, or NULL */
	int64_t		 platform_time;	/* this version's platform time */
	int		 hidden;	/* the platform marks it hidden */
	json_t		*content;	/* content fields only (borrowed);
					   "text", "author": {"id", "name"}
					   feed the index and search */
	json_t		*media;		/* [{"key","url"}] to fetch, or NULL */
	const char	*source;	/* record id of the response */
};

struct capture {
	const struct config	*cfg;
	const struct connector	*conn;
	struct sched_account	*acct;
	struct store		*store;
	int64_t			 cycle_start;
	int			 gaps;		/* gaps recorded this cycle */
	int			 stop;		/* stop the cycle now */
	int			 rate_limited;
	int			 auth_failed;
	int			 storage_failed;
	int			 new_versions;
	int			 removed;
	int			 requests;
	/* Returns non-zero when the daemon must stop (SIGTERM). */
	int			(*should_exit)(void *arg);
	void			*exit_arg;
};

/* Run one cycle of account a; returns 0 or the storage error. */
int	capture_cycle(struct capture *cap);

/*
 * GET an API URL (must start with the account's api_base) with the
 * account's credentials; archive the request and response; retry
 * transient failures with back-off; classify. On success *ret_json is a
 * new reference and *ret_source the response record id (valid until the
 * next call; may be NULL). -ENOENT for the platform's "not found";
 * other failures are recorded as gaps and return a negative errno.
 */
int	capture_get(struct capture *cap, const char *url, json_t **ret_json,
	    const char **ret_source);

/* capture_get() that also returns the response's header block (status
 * line and headers; caller frees) for Link paging. */
int	capture_get_head(struct capture *cap, const char *url,
	    json_t **ret_json, const char **ret_source, char **ret_head);

/*
 * Take an item seen in a successful response: new version if its
 * canonical content changed, hidden/unhidden/restored events, last-seen
 * bookkeeping, media download. 1 = new version, 0 = unchanged, or a
 * negative errno (storage).
 */
int	capture_item(struct capture *cap, const struct cap_item *it);

/* The index row of a known item; -ENOENT if new. */
int	capture_known(struct capture *cap, const char *platform_id,
	    struct index_item *ret);

/*
 * A listing completed successfully: posts created at or after `since`
 * (root == NULL), or every comment of thread `root`. Items it should
 * have held but did not are looked up; "gone" means removed.
 */
int	capture_listing_complete(struct capture *cap, const char *root,
	    int64_t since);

/* Record a capture gap (metadata record) with a reason and detail. */
int	capture_gap(struct capture *cap, const char *reason, const char *url,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Commit the page's batch (fdatasync, then index commit). */
int	capture_commit(struct capture *cap);

/* Re-check schedule for a post's thread after reading it now. */
int	capture_thread_checked(struct capture *cap, const char *platform_id,
	    int64_t created);

/* Posts of this account whose thread re-check is due. */
int	capture_due_threads(struct capture *cap, int limit, index_item_fn fn,
	    void *arg);

/* Should the connector stop this cycle (shutdown, pause, budget)? */
int	capture_stopping(struct capture *cap);

/* Is a walk of the account's whole history due (full_scan_interval)? */
int	capture_full_scan_due(struct capture *cap, int64_t now);

/*
 * After the posts listing: complete = 1 when it reached the end (removals
 * of any post can be concluded; the full scan is recorded), 2 when it
 * covered posts created at or after `oldest` only, 0 when it proved
 * nothing. Then reads the threads that are due with thread_fn.
 */
int	capture_posts_listed(struct capture *cap, int complete,
	    int64_t oldest, int64_t started, index_item_fn thread_fn);

/* Resolve a platform link (paging.next, Link) against api_base; the
 * result (caller frees) is NULL if it points anywhere else. */
char	*capture_rebase(struct capture *cap, const char *url,
	    const char *official_base);

#endif
