/*
 * notify.h - the systemd readiness protocol (sd_notify) written by hand, so
 * sunarchived does not link libsystemd: one datagram per message on the
 * AF_UNIX socket named by $NOTIFY_SOCKET ('@' = abstract namespace).
 *
 * Without $NOTIFY_SOCKET (not started by systemd, or Type=simple) every
 * notify_* call is a no-op that returns 0.
 *
 * Watchdog: with WatchdogSec= set, systemd restarts the service unless it
 * sends WATCHDOG=1 at least every WATCHDOG_USEC. Ping from the main loop
 * after real progress (a poll completed, a segment synced, an idle wait
 * returned) at under half notify_watchdog_usec(), never from a free-running
 * timer or a thread: a hung fsync or a stalled request must stop the pings
 * so that systemd restarts the daemon.
 */
#ifndef SUNARCHIVE_NOTIFY_H
#define SUNARCHIVE_NOTIFY_H

#include <stdint.h>

/*
 * Read $NOTIFY_SOCKET and open the socket (SOCK_CLOEXEC). Returns 0 (also
 * when the variable is unset: notifications are then disabled), or
 * -EAFNOSUPPORT for an address that is neither a path nor '@'-abstract,
 * -ENAMETOOLONG, or the socket() errno. Calling it again re-reads the
 * environment.
 */
int	notify_init(void);

/* Close the socket; later notify_* calls are no-ops until notify_init(). */
void	notify_close(void);

/*
 * Send msg ("READY=1", several assignments separated by '\n') as one
 * datagram. Returns 0, or a negative errno (-ENOENT, -ECONNREFUSED when
 * nobody listens). A no-op returning 0 when there is no socket.
 */
int	notify_send(const char *msg);

/* "READY=1": startup finished, or a reload finished. */
int	notify_ready(void);

/* "RELOADING=1\nMONOTONIC_USEC=<CLOCK_MONOTONIC µs>": a reload starts. */
int	notify_reloading(void);

/* "STOPPING=1": shutdown starts. */
int	notify_stopping(void);

/* "WATCHDOG=1": the main loop made progress (see above). */
int	notify_watchdog(void);

/*
 * "STATUS=<text>", e.g. last successful poll and queue depth. The text is
 * cut at 1024 bytes and newlines become spaces (so it cannot smuggle in
 * other assignments).
 */
int	notify_status(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/*
 * The watchdog interval in microseconds from $WATCHDOG_USEC, honoured only
 * when $WATCHDOG_PID is absent or equals getpid(); 0 when the watchdog is
 * off or the variables are malformed.
 */
int64_t	notify_watchdog_usec(void);

#endif
