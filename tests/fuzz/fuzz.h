/*
 * fuzz.h - what every tests/fuzz/fuzz_NAME.c target shares: the libFuzzer
 * entry points and a few helpers. A target is built two ways (see
 * tests/fuzz/README.md): with clang and libFuzzer for `make fuzz`, and
 * with the project's compiler and driver.c for `make fuzz-regress`.
 */
#ifndef SUNARCHIVE_FUZZ_H
#define SUNARCHIVE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Run the library code under test on data[0..size); returns 0. */
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Once, before the first input (optional; fixtures, keys). */
int	LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * An invariant of the code under test: abort with a message (libFuzzer
 * then keeps the input as a crash-* file).
 */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		abort();						\
	}								\
} while (0)

/*
 * A file in memory (memfd) for the functions that take a path: its
 * /proc/self/fd path goes into path (at least 32 bytes). Returns the fd;
 * aborts on failure.
 */
static inline int
fuzz_memfd(const char *name, char *path, size_t pathlen)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	FUZZ_CHECK(fd >= 0);
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

/* Make the memfd's contents exactly data[0..size). */
static inline void
fuzz_memfd_set(int fd, const void *data, size_t size)
{
	const char *p = data;
	size_t off = 0;
	ssize_t n;

	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	while (off < size) {
		n = pwrite(fd, p + off, size - off, (off_t)off);
		FUZZ_CHECK(n > 0);
		off += (size_t)n;
	}
}

#endif
