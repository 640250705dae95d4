/*
 * xalloc.h - allocation wrappers: out of memory is fatal (exit 70 after a
 * message on stderr); everything else is handled by callers.
 */
#ifndef SUNARCHIVE_XALLOC_H
#define SUNARCHIVE_XALLOC_H

#include <stddef.h>

void	*xmalloc(size_t n);
void	*xcalloc(size_t nmemb, size_t size);
void	*xrealloc(void *p, size_t n);
void	*xreallocarray(void *p, size_t nmemb, size_t size);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);
/* Allocating printf; never NULL. */
char	*xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
