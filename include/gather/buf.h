/*
 * buf: a growable byte buffer, always NUL-terminated once allocated, so
 * that its bytes can also be read as a C string.
 */
#ifndef GATHER_BUF_H
#define GATHER_BUF_H

#include <stddef.h>

/* A growable byte buffer; p is always NUL-terminated once allocated. */
struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

int	 buf_reserve(struct buf *, size_t);
int	 buf_append(struct buf *, const void *, size_t);
int	 buf_set(struct buf *, const void *, size_t);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_clear(struct buf *);
void	 buf_trim_capacity(struct buf *, size_t);
void	 buf_free(struct buf *);

#endif
