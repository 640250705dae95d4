/*
 * test_notify.c - sd_notify by hand: bind our own datagram sockets (a path
 * in a temp dir and an abstract '@' name), point $NOTIFY_SOCKET at them and
 * check the exact datagrams; the watchdog environment; no-op without a
 * socket.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "notify.h"
#include "tap.h"

static char received[4096];

/* Bind a datagram socket to name ('@' = abstract); returns the fd or -1. */
static int
bind_socket(const char *name)
{
	struct sockaddr_un sa;
	size_t len = strlen(name);
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || len >= sizeof(sa.sun_path))
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	if (bind(fd, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Receive one datagram within 2 s into received[]; "" when none. */
static const char *
recv_one(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	received[0] = '\0';
	if (poll(&pfd, 1, 2000) != 1)
		return received;
	n = recv(fd, received, sizeof(received) - 1, 0);
	if (n < 0)
		n = 0;
	received[n] = '\0';
	return received;
}

static int
pending(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

static int64_t
mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
test_messages(int fd, const char *what)
{
	char big[2000];
	int64_t before, after, usec;
	const char *m;
	char *end;

	is_int(notify_ready(), 0, "%s: notify_ready returns 0", what);
	is_str(recv_one(fd), "READY=1", "%s: READY=1", what);
	is_int(notify_stopping(), 0, "%s: notify_stopping returns 0", what);
	is_str(recv_one(fd), "STOPPING=1", "%s: STOPPING=1", what);
	is_int(notify_watchdog(), 0, "%s: notify_watchdog returns 0", what);
	is_str(recv_one(fd), "WATCHDOG=1", "%s: WATCHDOG=1", what);
	is_int(notify_send("FDSTORE=0\nERRNO=5"), 0, "%s: notify_send", what);
	is_str(recv_one(fd), "FDSTORE=0\nERRNO=5",
	    "%s: notify_send sends the message verbatim", what);

	is_int(notify_status("polled %d accounts, queue %s", 3, "empty"), 0,
	    "%s: notify_status returns 0", what);
	is_str(recv_one(fd), "STATUS=polled 3 accounts, queue empty",
	    "%s: STATUS= formatted", what);
	notify_status("line one\nREADY=1");
	is_str(recv_one(fd), "STATUS=line one READY=1",
	    "%s: STATUS newlines folded, no injected assignment", what);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	notify_status("%s", big);
	m = recv_one(fd);
	is_int(strlen(m), 7 + 1024, "%s: STATUS cut at 1024 bytes", what);

	before = mono_usec();
	is_int(notify_reloading(), 0, "%s: notify_reloading returns 0", what);
	after = mono_usec();
	m = recv_one(fd);
	ok(strncmp(m, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0,
	    "%s: RELOADING=1 then MONOTONIC_USEC= in one datagram", what);
	usec = strtoll(m + 27, &end, 10);
	ok(*end == '\0' && usec >= before && usec <= after,
	    "%s: MONOTONIC_USEC is CLOCK_MONOTONIC now (%" PRId64 ")", what,
	    usec);
	ok(!pending(fd), "%s: one datagram per call", what);
}

static void
test_watchdog(void)
{
	char pid[32];

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	is_int(notify_watchdog_usec(), 0, "watchdog off without WATCHDOG_USEC");
	setenv("WATCHDOG_USEC", "60000000", 1);
	is_int(notify_watchdog_usec(), 60000000,
	    "WATCHDOG_USEC honoured without WATCHDOG_PID");
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	is_int(notify_watchdog_usec(), 60000000,
	    "WATCHDOG_USEC honoured when WATCHDOG_PID is ours");
	snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	is_int(notify_watchdog_usec(), 0,
	    "WATCHDOG_USEC ignored when WATCHDOG_PID is another process");
	setenv("WATCHDOG_PID", "12abc", 1);
	is_int(notify_watchdog_usec(), 0, "malformed WATCHDOG_PID ignored");
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "soon", 1);
	is_int(notify_watchdog_usec(), 0, "malformed WATCHDOG_USEC ignored");
	setenv("WATCHDOG_USEC", "0", 1);
	is_int(notify_watchdog_usec(), 0, "WATCHDOG_USEC=0 means off");
	unsetenv("WATCHDOG_USEC");
}

int
main(void)
{
	char dir[] = "/tmp/sunarchive-test-notify.XXXXXX";
	char path[256], abstract[64], missing[300];
	int fd;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}

	/* No $NOTIFY_SOCKET: everything is a no-op. */
	unsetenv("NOTIFY_SOCKET");
	is_int(notify_init(), 0, "notify_init without NOTIFY_SOCKET");
	is_int(notify_ready(), 0, "notify_ready is a no-op without socket");
	is_int(notify_status("x"), 0, "notify_status is a no-op");
	is_int(notify_reloading(), 0, "notify_reloading is a no-op");

	/* A socket path in a temp dir. */
	snprintf(path, sizeof(path), "%s/notify.sock", dir);
	fd = bind_socket(path);
	ok(fd >= 0, "bound %s", path);
	setenv("NOTIFY_SOCKET", path, 1);
	is_int(notify_init(), 0, "notify_init with a path socket");
	test_messages(fd, "path");
	close(fd);
	unlink(path);

	/* The abstract namespace. */
	snprintf(abstract, sizeof(abstract), "@sunarchive-test-notify-%ld",
	    (long)getpid());
	fd = bind_socket(abstract);
	ok(fd >= 0, "bound abstract %s", abstract);
	setenv("NOTIFY_SOCKET", abstract, 1);
	is_int(notify_init(), 0, "notify_init with an abstract socket");
	test_messages(fd, "abstract");
	close(fd);

	/* Nobody listening: the error comes back as a negative errno. */
	snprintf(missing, sizeof(missing), "%s/missing.sock", dir);
	setenv("NOTIFY_SOCKET", missing, 1);
	is_int(notify_init(), 0, "notify_init does not connect");
	is_int(notify_ready(), -ENOENT, "send to a missing socket: -ENOENT");

	/* Bad addresses. */
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	is_int(notify_init(), -EAFNOSUPPORT, "non-unix address rejected");
	is_int(notify_ready(), 0, "... and notify_* are then no-ops");
	memset(missing, 'a', sizeof(missing) - 1);
	missing[0] = '/';
	missing[sizeof(missing) - 1] = '\0';
	setenv("NOTIFY_SOCKET", missing, 1);
	is_int(notify_init(), -ENAMETOOLONG, "overlong socket path rejected");

	unsetenv("NOTIFY_SOCKET");
	is_int(notify_init(), 0, "re-init after unsetting NOTIFY_SOCKET");
	is_int(notify_watchdog(), 0, "watchdog ping is a no-op again");
	notify_close();

	test_watchdog();

	rmdir(dir);
	return tap_done();
}
