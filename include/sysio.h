/*
 * sysio.h - the system calls the storage modules use, through a table so
 * tests can make chosen calls fail or crash the process (SQLite's
 * aSyscall). Segment, quarantine and small-file writes all go through it.
 *
 * Fault injection is for the test suite: $SUNARCHIVE_TEST_FAULTS holds a
 * comma-separated list of OP:N:ACTION, where OP is open, write, fsync,
 * fdatasync, rename or ftruncate; N the 1-based call number of that OP (or
 * '*' for every call); ACTION eio, enospc, crash (SIGKILL before the call)
 * or crash-after (SIGKILL after it). When $SUNARCHIVE_TEST_FAULT_FILE is
 * set, faults apply only while that file exists (a test "fills the disk"
 * by creating it and "frees space" by removing it).
 */
#ifndef SUNARCHIVE_SYSIO_H
#define SUNARCHIVE_SYSIO_H

#include <sys/types.h>

struct sysio_ops {
	int	(*open)(const char *path, int flags, mode_t mode);
	ssize_t	(*write)(int fd, const void *p, size_t n);
	ssize_t	(*pread)(int fd, void *p, size_t n, off_t off);
	int	(*fsync)(int fd);
	int	(*fdatasync)(int fd);
	int	(*rename)(const char *from, const char *to);
	int	(*ftruncate)(int fd, off_t len);
	int	(*fchmod)(int fd, mode_t mode);
	int	(*close)(int fd);
};

extern struct sysio_ops sysio;

/* Read the fault specification from the environment; -EINVAL if bad. */
int	sysio_init(void);

/* write() all n bytes, retrying on EINTR and short writes. 0 or -errno. */
int	sysio_write_all(int fd, const void *p, size_t n);

/* fsync() the directory containing path (or the directory path itself). */
int	sysio_fsync_dir(const char *dir);

/*
 * Write a small file atomically: tmp in the same directory, fsync,
 * rename, fsync(dir). 0 or -errno.
 */
int	sysio_write_file(const char *path, const void *p, size_t n,
	    mode_t mode);

#endif
