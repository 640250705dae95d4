/*
 * notify.c - sd_notify without libsystemd. The protocol is stable and
 * small: each message is one datagram of "KEY=value" lines sent to the
 * AF_UNIX socket in $NOTIFY_SOCKET. Modelled on systemd's
 * man/notify-selfcontained-example.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "notify.h"
#include "util.h"

#define NOTIFY_STATUS_MAX	1024

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_addrlen;

void
notify_close(void)
{
	if (notify_fd != -1)
		close(notify_fd);
	notify_fd = -1;
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addrlen = 0;
}

int
notify_init(void)
{
	const char *name;
	size_t len;
	int fd;

	notify_close();
	name = getenv("NOTIFY_SOCKET");
	if (name == NULL || name[0] == '\0')
		return 0;
	if (name[0] != '/' && name[0] != '@')
		return -EAFNOSUPPORT;
	len = strlen(name);
	if (len > sizeof(notify_addr.sun_path) ||
	    (len == sizeof(notify_addr.sun_path) && name[0] == '/'))
		return -ENAMETOOLONG;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, name, len);
	/* Abstract namespace: the name starts with a NUL, no terminator. */
	if (notify_addr.sun_path[0] == '@')
		notify_addr.sun_path[0] = '\0';
	notify_addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    len);
	notify_fd = fd;
	return 0;
}

int
notify_send(const char *msg)
{
	ssize_t n;
	size_t len;

	if (notify_fd == -1)
		return 0;
	len = strlen(msg);
	/* Never block the main loop on a slow or absent reader. */
	do {
		n = sendto(notify_fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT,
		    (const struct sockaddr *)&notify_addr, notify_addrlen);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -errno;
	if ((size_t)n != len)
		return -EMSGSIZE;
	return 0;
}

int
notify_ready(void)
{
	return notify_send("READY=1");
}

int
notify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return -errno;
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%lld",
	    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
	return notify_send(msg);
}

int
notify_stopping(void)
{
	return notify_send("STOPPING=1");
}

int
notify_watchdog(void)
{
	return notify_send("WATCHDOG=1");
}

int
notify_status(const char *fmt, ...)
{
	char msg[sizeof("STATUS=") + NOTIFY_STATUS_MAX];
	va_list ap;
	char *p;

	if (notify_fd == -1)
		return 0;
	memcpy(msg, "STATUS=", 7);
	va_start(ap, fmt);
	vsnprintf(msg + 7, sizeof(msg) - 7, fmt, ap);
	va_end(ap);
	for (p = msg + 7; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return notify_send(msg);
}

int64_t
notify_watchdog_usec(void)
{
	const char *s;
	int64_t usec, pid;

	s = getenv("WATCHDOG_USEC");
	if (s == NULL || util_parse_int(s, 1, INT64_MAX, &usec) < 0)
		return 0;
	s = getenv("WATCHDOG_PID");
	if (s != NULL) {
		if (util_parse_int(s, 1, INT64_MAX, &pid) < 0 ||
		    pid != (int64_t)getpid())
			return 0;
	}
	return usec;
}
