/*
 * text: pure byte-string helpers: UTF-8 checking and repair, base64, JSON
 * string escaping and unescaping, the one string hash and the one ASCII
 * lower-caser.  Nothing here allocates except through a caller's buffer, so
 * the record path can call it per record without cost.
 */
#include "gather/text.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

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

/* Whether all of s is valid UTF-8. */
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
 * How many leading bytes of s are printable ASCII that JSON takes as they
 * are (no control byte, quote, backslash or byte of 0x80 and up), eight at
 * a time: a string that is all of them is valid UTF-8 and its escape is a
 * copy between quotes.  A word that may hold another byte is looked at
 * byte by byte.
 */
size_t
json_plain_prefix(const unsigned char *s, size_t n)
{
	const uint64_t	 ones = 0x0101010101010101ULL;
	const uint64_t	 high = 0x8080808080808080ULL;
	uint64_t	 w, q, b;
	size_t		 i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		/* A byte below 0x20, a zero byte of q or b, or the high bit. */
		if (((w - ones * 0x20) | (q - ones) | (b - ones) | w) & high)
			break;
	}
	while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' &&
	    s[i] != '\\')
		i++;
	return i;
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

/* The value of the 4 hex digits at s into *out; -1 when one is not hex. */
int
text_hex4(const char *s, unsigned *out)
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
			if (i + 6 > n - 1 || text_hex4(s + i + 2, &c) == -1)
				return -1;
			i += 4;
			if (c >= 0xd800 && c <= 0xdbff && i + 8 <= n - 1 &&
			    s[i + 2] == '\\' && s[i + 3] == 'u' &&
			    text_hex4(s + i + 4, &lo) == 0 && lo >= 0xdc00 &&
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

/* One byte into FNV-1a's state. */
#define FNV_BYTE(h, c)	((h) = ((h) ^ (unsigned char)(c)) * 1099511628211ULL)

/*
 * FNV-1a over n bytes of s, started from its offset basis xored with seed
 * (0 for the plain hash).  Four bytes a turn: fewer branches, the same
 * hash.
 */
uint64_t
text_hash(const char *s, size_t n, uint64_t seed)
{
	uint64_t	h = 1469598103934665603ULL ^ seed;
	size_t		i;

	for (i = 0; i + 4 <= n; i += 4) {
		FNV_BYTE(h, s[i]);
		FNV_BYTE(h, s[i + 1]);
		FNV_BYTE(h, s[i + 2]);
		FNV_BYTE(h, s[i + 3]);
	}
	for (; i < n; i++)
		FNV_BYTE(h, s[i]);
	return h;
}

/* Lower-case the ASCII letters of n bytes of s in place. */
void
text_lower(char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
}

/*
 * Byte c as it may be shown on a terminal, into e: a control byte as
 * \xHH, a backslash as \\, any other as itself; how many bytes it took.
 */
size_t
text_printable_byte(unsigned char c, char e[4])
{
	static const char hex[] = "0123456789abcdef";

	if (c < 0x20 || c == 0x7f) {
		e[0] = '\\';
		e[1] = 'x';
		e[2] = hex[c >> 4];
		e[3] = hex[c & 0xf];
		return 4;
	}
	e[0] = (char)c;
	if (c != '\\')
		return 1;
	e[1] = '\\';
	return 2;
}

/*
 * Append s to b with control bytes and backslashes as \xHH and \\: a URL,
 * a file name or a server's message must not move the cursor, clear the
 * screen or forge a line of its own on the user's terminal.
 */
int
text_printable(struct buf *b, const char *s)
{
	const unsigned char	*p;
	char			 e[4];

	for (p = (const unsigned char *)s; *p; p++)
		if (buf_append(b, e, text_printable_byte(*p, e)) == -1)
			return -1;
	return 0;
}

/*
 * Whether header line h ("Name: value", "Name:" or "Name;") has the name
 * of n, which is written the same way; names compare without case.
 */
int
text_same_header(const char *h, const char *n)
{
	size_t hl = strcspn(h, ":;"), nl = strcspn(n, ":;");

	return hl == nl && strncasecmp(h, n, hl) == 0;
}

/* Whether c is a blank a line is trimmed of: space, tab or CR. */
int
text_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Trim blanks (text_blank) from both ends of [*p, *p + *n). */
void
text_trim(const char **p, size_t *n)
{
	while (*n > 0 && text_blank(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && text_blank((*p)[*n - 1]))
		(*n)--;
}
