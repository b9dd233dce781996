/*
 * util: small pure helpers shared by every module: a growable byte buffer,
 * UTF-8 checking and repair, base64 and JSON string escaping.
 */
#ifndef GATHER_UTIL_H
#define GATHER_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer; p is always NUL-terminated once allocated. */
struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

int	 buf_reserve(struct buf *, size_t);
int	 buf_append(struct buf *, const void *, size_t);
int	 buf_set(struct buf *, const void *, size_t);
void	 buf_clear(struct buf *);
void	 buf_trim_capacity(struct buf *, size_t);
void	 buf_free(struct buf *);

size_t	 utf8_seq(const unsigned char *, size_t);
int	 utf8_valid(const unsigned char *, size_t);
size_t	 utf8_valid_prefix(const unsigned char *, size_t);
int	 utf8_repair(struct buf *, const unsigned char *, size_t);

size_t	 base64_len(size_t);
size_t	 base64_encode(char *, const unsigned char *, size_t);

size_t	 json_escaped_len(const unsigned char *, size_t);
size_t	 json_escape(char *, const unsigned char *, size_t);
int	 json_unescape(struct buf *, const char *, size_t);

#endif
