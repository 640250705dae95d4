/*
 * fetch.h - HTTP GET with libcurl: timeouts, a body size cap, no redirects
 * for API calls, loopback-or-https only as configured. Returns the raw
 * exchange (request head as sent, status line and headers as received,
 * body) so it can be archived.
 */
#ifndef SUNARCHIVE_FETCH_H
#define SUNARCHIVE_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct fetch_opts {
	int64_t		 timeout;	/* seconds for the whole transfer */
	size_t		 max_body;
	const char	*user_agent;
	const char	*auth_header;	/* "Authorization: ..." or NULL */
	int		 follow;	/* follow up to 3 redirects (media) */
	const void	*post;		/* POST this body instead of GET */
	size_t		 post_len;
	const char	*post_type;	/* its "Content-Type: ..." line */
	/* Called during the transfer; non-zero aborts it (shutdown). */
	int		(*abort_cb)(void *arg);
	void		*abort_arg;
};

struct fetch_resp {
	long		 status;	/* HTTP status, 0 if none */
	struct buf	 req_head;	/* request line + headers as sent */
	struct buf	 head;		/* status line + headers as received */
	struct buf	 body;
	char		 error[256];	/* why the exchange failed */
	double		 seconds;
};

void	fetch_global_init(void);
void	fetch_global_cleanup(void);

void	fetch_resp_init(struct fetch_resp *r);
void	fetch_resp_release(struct fetch_resp *r);

/*
 * GET url (or POST o->post). 0 when a complete HTTP response arrived (any status), or
 * -ETIMEDOUT, -ECONNREFUSED, -EFBIG (body over max_body), -EPROTO
 * (truncated or malformed transfer), -ECANCELED (abort_cb), -EIO.
 * resp->error says why; it never contains the URL's secrets.
 */
int	fetch_get(const char *url, const struct fetch_opts *o,
	    struct fetch_resp *resp);

/* Value of a response header (case-insensitive) into out; 0 or -ENOENT. */
int	fetch_header(const struct fetch_resp *r, const char *name, char *out,
	    size_t len);

#endif
