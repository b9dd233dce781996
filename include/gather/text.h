/*
 * text: UTF-8 checking and repair, base64, JSON string escaping and
 * unescaping, one string hash and one ASCII lower-caser.  Pure functions;
 * they know no other module.
 */
#ifndef GATHER_TEXT_H
#define GATHER_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "gather/buf.h"

size_t	 utf8_seq(const unsigned char *, size_t);
int	 utf8_valid(const unsigned char *, size_t);
size_t	 utf8_valid_prefix(const unsigned char *, size_t);
int	 utf8_repair(struct buf *, const unsigned char *, size_t);

size_t	 base64_len(size_t);
size_t	 base64_encode(char *, const unsigned char *, size_t);

size_t	 json_escaped_len(const unsigned char *, size_t);
size_t	 json_escape(char *, const unsigned char *, size_t);
size_t	 json_plain_prefix(const unsigned char *, size_t);
int	 json_unescape(struct buf *, const char *, size_t);
int	 text_printable(struct buf *, const char *);
size_t	 text_printable_byte(unsigned char, char [4]);
int	 text_hex4(const char *, unsigned *);

uint64_t text_hash(const char *, size_t, uint64_t);
void	 text_lower(char *, size_t);
int	 text_same_header(const char *, const char *);
int	 text_blank(int);
void	 text_trim(const char **, size_t *);

#endif
