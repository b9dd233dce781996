/*
 * buf: the growable byte buffer every module passes bytes in.  Buffers are
 * cleared rather than freed between records, so that the record path does
 * not allocate once they have grown to their working size.
 */
#include "gather/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Make room for n more bytes plus a terminating NUL. */
int
buf_reserve(struct buf *b, size_t n)
{
	size_t	 need, cap;
	char	*p;

	if (n > SIZE_MAX - b->len - 1)
		return -1;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Append n bytes, keeping the buffer NUL-terminated. */
int
buf_append(struct buf *b, const void *d, size_t n)
{
	if (buf_reserve(b, n) == -1)
		return -1;
	if (n)
		memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Append formatted text; -1 when it cannot be formatted or kept. */
int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/* Replace the contents with n bytes. */
int
buf_set(struct buf *b, const void *d, size_t n)
{
	b->len = 0;
	return buf_append(b, d, n);
}

/* Empty the buffer but keep its memory for the next use. */
void
buf_clear(struct buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

/* Give back memory of a buffer that grew past keep (after a huge body). */
void
buf_trim_capacity(struct buf *b, size_t keep)
{
	if (b->cap > keep && b->len == 0) {
		free(b->p);
		b->p = NULL;
		b->cap = 0;
	}
}

/* Free the buffer's memory and leave it empty. */
void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
