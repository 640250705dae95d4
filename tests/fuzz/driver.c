/*
 * driver.c - run a fuzz target without libFuzzer. Every file named on
 * the command line, and every file directly inside a directory named
 * there (sorted, dot files skipped), goes once through
 * LLVMFuzzerTestOneInput(), after LLVMFuzzerInitialize() if the target
 * has one. `make fuzz-regress` and the "fuzz" suite of tests/run.py use
 * it to replay each target's seed corpus and kept crashers with the
 * project's own compiler (and sanitizers, in `make asan`).
 *
 *	fuzz_NAME [-n N] PATH...
 *
 * Prints one TAP line, "ok N - fuzz_NAME: K inputs". A missing PATH is
 * no input (a target may have no crashers yet). When an input crashes
 * the target, "not ok N - fuzz_NAME: crashed on FILE" is printed from
 * the signal handler or the sanitizer's death callback before the
 * process dies, so the culprit is named.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

/* Defined by some targets only; set by the sanitizer runtime if any. */
extern int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));
extern void	__sanitizer_set_death_callback(void (*)(void))
		    __attribute__((weak));

#define DRIVER_MAX_INPUT	(64 * 1024 * 1024)

static const char	*prog;		/* fuzz_NAME */
static const char	*testnum = "1";
static const char	*current;	/* the input being run */
static volatile sig_atomic_t reported;

struct list {
	char	**v;
	size_t	  n, cap;
};

static void
list_add(struct list *l, char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (l->v == NULL) {
			perror("realloc");
			exit(2);
		}
	}
	l->v[l->n++] = s;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
put(const char *s)
{
	ssize_t r = write(STDOUT_FILENO, s, strlen(s));

	(void)r;
}

/* Async-signal-safe: name the input that brought the target down. */
static void
report_crash(void)
{
	if (reported)
		return;
	reported = 1;
	put("not ok ");
	put(testnum);
	put(" - ");
	put(prog);
	put(": crashed on ");
	put(current != NULL ? current : "(initialization)");
	put("\n");
}

static void
on_signal(int sig)
{
	report_crash();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Add PATH's files (or PATH itself) to l. */
static int
collect(const char *path, struct list *l)
{
	struct dirent *de;
	struct stat st;
	size_t first = l->n;
	char *p;
	DIR *d;

	if (stat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "%s: cannot read '%s': %s\n", prog, path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		p = strdup(path);
		if (p == NULL)
			return -1;
		list_add(l, p);
		return 0;
	}
	d = opendir(path);
	if (d == NULL) {
		fprintf(stderr, "%s: cannot open '%s': %s\n", prog, path,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n;

		if (de->d_name[0] == '.')
			continue;
		n = strlen(path) + 1 + strlen(de->d_name) + 1;
		p = malloc(n);
		if (p == NULL)
			break;
		snprintf(p, n, "%s/%s", path, de->d_name);
		if (stat(p, &st) == -1 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		list_add(l, p);
	}
	closedir(d);
	qsort(l->v + first, l->n - first, sizeof(*l->v), cmp_str);
	return 0;
}

/* The whole file in a buffer of exactly its size (ASan sees overreads). */
static uint8_t *
slurp(const char *path, size_t *ret_len)
{
	struct stat st;
	uint8_t *buf;
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1 || st.st_size > DRIVER_MAX_INPUT) {
		if (fd != -1)
			close(fd);
		return NULL;
	}
	buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	while (buf != NULL && off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			buf = NULL;
			break;
		}
		off += (size_t)n;
	}
	close(fd);
	*ret_len = off;
	return buf;
}

int
main(int argc, char **argv)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL };
	struct list files = { NULL, 0, 0 };
	size_t i, len;
	uint8_t *data;
	int c;

	prog = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 :
	    argv[0];
	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c == 'n') {
			testnum = optarg;
			continue;
		}
		fprintf(stderr, "usage: %s [-n N] PATH...\n", prog);
		return 2;
	}
	for (i = (size_t)optind; i < (size_t)argc; i++)
		if (collect(argv[i], &files) < 0)
			return 2;

	/*
	 * A sanitizer reports memory errors itself and then calls our
	 * callback; without one, catch the fatal signals. abort() (a
	 * failed FUZZ_CHECK) is caught either way.
	 */
	if (__sanitizer_set_death_callback != NULL)
		__sanitizer_set_death_callback(report_crash);
	else
		for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], on_signal);
	signal(SIGABRT, on_signal);

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 0; i < files.n; i++) {
		current = files.v[i];
		data = slurp(current, &len);
		if (data == NULL) {
			printf("not ok %s - %s: cannot read '%s'\n", testnum,
			    prog, current);
			return 1;
		}
		LLVMFuzzerTestOneInput(data, len);
		free(data);
	}
	current = NULL;
	printf("ok %s - %s: %zu inputs\n", testnum, prog, files.n);
	for (i = 0; i < files.n; i++)
		free(files.v[i]);
	free(files.v);
	return 0;
}
