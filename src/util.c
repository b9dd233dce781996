/*
 * util: buffers, UTF-8, base64 and JSON escaping.  Everything here is pure
 * and allocation-light so that the record path can call it per record
 * without cost; the unit tests cover it.
 */
#include "gather/util.h"

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
	cap = b->cap ? b->cap : 256;
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

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when invalid. */
size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0;	/* overlong */
		if (c == 0xed && s[1] > 0x9f)
			return 0;	/* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;	/* overlong */
		if (c == 0xf4 && s[1] > 0x8f)
			return 0;	/* above U+10FFFF */
		return 4;
	}
	return 0;
}

/* How many leading bytes of s form complete, valid UTF-8. */
size_t
utf8_valid_prefix(const unsigned char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		/* Runs of ASCII are the common case: skip them eight at a time. */
		while (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		if ((k = utf8_seq(s + i, n - i)) == 0)
			break;
		i += k;
	}
	return i;
}

int
utf8_valid(const unsigned char *s, size_t n)
{
	return utf8_valid_prefix(s, n) == n;
}

/* Append s to b with every invalid byte replaced by U+FFFD. */
int
utf8_repair(struct buf *b, const unsigned char *s, size_t n)
{
	static const char repl[] = "\xef\xbf\xbd";
	size_t ok;

	while (n > 0) {
		ok = utf8_valid_prefix(s, n);
		if (buf_append(b, s, ok) == -1)
			return -1;
		s += ok;
		n -= ok;
		if (n > 0) {
			if (buf_append(b, repl, 3) == -1)
				return -1;
			s++;
			n--;
		}
	}
	return 0;
}

/* Encoded length of n bytes, without the NUL. */
size_t
base64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/* Encode n bytes into out, which has base64_len(n) + 1 bytes; NUL-terminated. */
size_t
base64_encode(char *out, const unsigned char *s, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char	*o = out;
	size_t	 i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = '=';
	}
	*o = '\0';
	return (size_t)(o - out);
}

/* Bytes json_escape writes for s, quotes included. */
size_t
json_escaped_len(const unsigned char *s, size_t n)
{
	size_t i, len = n + 2;

	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\' || s[i] == '\b' || s[i] == '\f' ||
		    s[i] == '\n' || s[i] == '\r' || s[i] == '\t')
			len += 1;
		else if (s[i] < 0x20)
			len += 5;
	}
	return len;
}

/*
 * Write s, which must be valid UTF-8, as a quoted JSON string; NUL bytes
 * become \u0000, which is why bodies are escaped here rather than through a
 * C-string API.  out needs json_escaped_len(s, n) + 1 bytes.
 */
size_t
json_escape(char *out, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char	*o = out;
	size_t	 i, run;

	*o++ = '"';
	for (i = 0; i < n; ) {
		for (run = i; run < n && s[run] >= 0x20 && s[run] != '"' &&
		    s[run] != '\\'; run++)
			;
		memcpy(o, s + i, run - i);
		o += run - i;
		if ((i = run) >= n)
			break;
		*o++ = '\\';
		switch (s[i]) {
		case '"':  *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[s[i] >> 4];
			*o++ = hex[s[i] & 15];
		}
		i++;
	}
	*o++ = '"';
	*o = '\0';
	return (size_t)(o - out);
}

/* The value of the 4 hex digits at s. */
static int
json_hex4(const char *s, unsigned *out)
{
	unsigned	v = 0;
	int		i;

	for (i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Append code point c as UTF-8. */
static int
utf8_put(struct buf *b, unsigned c)
{
	char	u[4];
	size_t	n;

	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | c >> 12);
		u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | c >> 18);
		u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	return buf_append(b, u, n);
}

/* Append the bytes of the JSON string literal s (quotes included), NULs too. */
int
json_unescape(struct buf *b, const char *s, size_t n)
{
	size_t		i, run;
	unsigned	c, lo;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return -1;
	for (i = 1; i < n - 1; ) {
		for (run = i; run < n - 1 && s[run] != '\\'; run++)
			;
		if (buf_append(b, s + i, run - i) == -1)
			return -1;
		if ((i = run) >= n - 1)
			break;
		if (i + 1 >= n - 1)
			return -1;
		switch (s[i + 1]) {
		case '"': case '\\': case '/':
			c = (unsigned char)s[i + 1];
			break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if (i + 6 > n - 1 || json_hex4(s + i + 2, &c) == -1)
				return -1;
			i += 4;
			if (c >= 0xd800 && c <= 0xdbff && i + 8 <= n - 1 &&
			    s[i + 2] == '\\' && s[i + 3] == 'u' &&
			    json_hex4(s + i + 4, &lo) == 0 && lo >= 0xdc00 &&
			    lo <= 0xdfff) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			} else if (c >= 0xd800 && c <= 0xdfff)
				c = 0xfffd;	/* a lone surrogate */
			break;
		default:
			return -1;
		}
		if (utf8_put(b, c) == -1)
			return -1;
		i += 2;
	}
	return 0;
}
