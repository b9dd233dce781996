/*
 * json: strict JSON text.  json_valid() is the gate: one pass, no
 * allocation, no recursion (nesting is bounded by JSON_DEPTH_MAX and kept
 * in a bit stack), every RFC 8259 rule, escapes and UTF-8 included.  The
 * other functions assume text that passed it, which keeps them short.
 */
#include "gather/json.h"

#include <stdint.h>
#include <string.h>

#include "gather/text.h"

static size_t
json_ws(const unsigned char *p, size_t n, size_t i)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r'))
		i++;
	return i;
}

/* The value of 4 hex digits at p[i..i+4), or -1. */
static long
json_hex4(const unsigned char *p, size_t n, size_t i)
{
	unsigned v;

	if (i > n || n - i < 4 || text_hex4((const char *)p + i, &v) == -1)
		return -1;
	return (long)v;
}

/*
 * Past the string literal at p[i] == '"', or 0 when it is not strict: a
 * control byte, invalid UTF-8, an unknown escape, or a \u escape that is
 * not a whole character (a lone surrogate cannot be valid UTF-8 output).
 */
static size_t
json_string(const unsigned char *p, size_t n, size_t i)
{
	size_t	k;
	long	c, lo;

	for (i++; i < n; ) {
		if (p[i] == '"')
			return i + 1;
		if (p[i] >= 0x20 && p[i] < 0x80 && p[i] != '\\') {
			i++;
			continue;
		}
		if (p[i] < 0x20)
			return 0;
		if (p[i] >= 0x80) {
			if ((k = utf8_seq(p + i, n - i)) == 0)
				return 0;
			i += k;
			continue;
		}
		if (i + 1 >= n)
			return 0;
		switch (p[i + 1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n':
		case 'r': case 't':
			i += 2;
			break;
		case 'u':
			if ((c = json_hex4(p, n, i + 2)) == -1 ||
			    (c >= 0xdc00 && c <= 0xdfff))
				return 0;
			i += 6;
			if (c >= 0xd800 && c <= 0xdbff) {
				if (i + 1 >= n || p[i] != '\\' || p[i + 1] != 'u' ||
				    (lo = json_hex4(p, n, i + 2)) < 0xdc00 ||
				    lo > 0xdfff)
					return 0;
				i += 6;
			}
			break;
		default:
			return 0;
		}
	}
	return 0;
}

/* Past the number at p[i], or 0: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
static size_t
json_number(const unsigned char *p, size_t n, size_t i)
{
	size_t d;

	if (i < n && p[i] == '-')
		i++;
	if (i < n && p[i] == '0')
		i++;
	else if (i < n && p[i] >= '1' && p[i] <= '9')
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
	else
		return 0;
	if (i < n && p[i] == '.') {
		for (d = ++i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		for (d = i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	return i;
}

/* The byte that closes the innermost of depth open containers. */
static unsigned char
json_closer(const uint8_t *obj, size_t depth)
{
	return obj[(depth - 1) / 8] & (1u << (depth - 1) % 8) ? '}' : ']';
}

/* Past the string, true, false, null or number at p[i] (i < n), or 0. */
static size_t
json_scalar(const unsigned char *p, size_t n, size_t i)
{
	switch (p[i]) {
	case '"':
		return json_string(p, n, i);
	case 't':
		return n - i >= 4 && memcmp(p + i, "true", 4) == 0 ? i + 4 : 0;
	case 'f':
		return n - i >= 5 && memcmp(p + i, "false", 5) == 0 ? i + 5 : 0;
	case 'n':
		return n - i >= 4 && memcmp(p + i, "null", 4) == 0 ? i + 4 : 0;
	default:
		return json_number(p, n, i);
	}
}

/*
 * Whether s[0..n) is exactly one strict JSON value, white space around it
 * allowed.  Linear in n, constant stack; nesting deeper than
 * JSON_DEPTH_MAX is refused rather than followed.
 */
int
json_valid(const char *s, size_t n)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint8_t			 obj[JSON_DEPTH_MAX / 8] = { 0 };	/* 1: object */
	size_t			 i, depth = 0;

	i = json_ws(p, n, 0);
value:
	if (i >= n)
		return 0;
	switch (p[i]) {
	case '{':
	case '[':
		if (depth == JSON_DEPTH_MAX)
			return 0;
		if (p[i] == '{')
			obj[depth / 8] |= (uint8_t)(1u << depth % 8);
		else
			obj[depth / 8] &= (uint8_t)~(1u << depth % 8);
		depth++;
		i = json_ws(p, n, i + 1);
		if (i < n && p[i] == json_closer(obj, depth)) {
			depth--;
			i++;
			goto after;
		}
		if (json_closer(obj, depth) == '}')
			goto key;
		goto value;
	default:
		if ((i = json_scalar(p, n, i)) == 0)
			return 0;
		goto after;
	}
key:
	if (i >= n || p[i] != '"' || (i = json_string(p, n, i)) == 0)
		return 0;
	i = json_ws(p, n, i);
	if (i >= n || p[i] != ':')
		return 0;
	i = json_ws(p, n, i + 1);
	goto value;
after:
	i = json_ws(p, n, i);
	if (depth == 0)
		return i == n;
	if (i >= n)
		return 0;
	if (p[i] == ',') {
		i = json_ws(p, n, i + 1);
		if (json_closer(obj, depth) == '}')
			goto key;
		goto value;
	}
	if (p[i] != json_closer(obj, depth))
		return 0;
	depth--;
	i++;
	goto after;
}

/* Past the valid string literal at p[i]. */
static size_t
json_skip_string(const char *p, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '"')
			return i + 1;
	}
	return n;
}

/* Past the valid value at p[i]. */
static size_t
json_skip_value(const char *p, size_t n, size_t i)
{
	size_t depth = 0;

	if (p[i] == '"')
		return json_skip_string(p, n, i);
	if (p[i] == '{' || p[i] == '[') {
		for (; i < n; i++) {
			if (p[i] == '"')
				i = json_skip_string(p, n, i) - 1;
			else if (p[i] == '{' || p[i] == '[')
				depth++;
			else if ((p[i] == '}' || p[i] == ']') && --depth == 0)
				return i + 1;
		}
		return n;
	}
	while (i < n && p[i] != ',' && p[i] != '}' && p[i] != ']' &&
	    p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
		i++;
	return i;
}

/*
 * The next member of the valid object or array p[0..n) (no white space
 * before its bracket): *pos starts at 0 and is kept between calls; key is
 * the quoted name (NULL in an array) and val the value's text.  0 when
 * there is one, -1 at the end.
 */
int
json_next(const char *p, size_t n, size_t *pos, struct json_span *key,
    struct json_span *val)
{
	const unsigned char	*u = (const unsigned char *)p;
	size_t			 i = *pos, e;

	if (n == 0 || (p[0] != '{' && p[0] != '['))
		return -1;
	i = json_ws(u, n, i == 0 ? 1 : i);
	if (i < n && p[i] == ',')
		i = json_ws(u, n, i + 1);
	if (i >= n || p[i] == '}' || p[i] == ']')
		return -1;
	key->p = NULL;
	key->n = 0;
	if (p[0] == '{') {
		e = json_skip_string(p, n, i);
		key->p = p + i;
		key->n = e - i;
		i = json_ws(u, n, e);
		i = json_ws(u, n, i + 1);	/* the colon */
	}
	e = json_skip_value(p, n, i);
	val->p = p + i;
	val->n = e - i;
	*pos = e;
	return 0;
}

/* Whether the valid string literal s decodes to text holding a NUL. */
int
json_string_has_nul(const struct json_span *s)
{
	size_t i;

	for (i = 1; i + 1 < s->n; i++) {
		if (s->p[i] != '\\')
			continue;
		if (s->p[i + 1] == 'u' && memcmp(s->p + i + 2, "0000", 4) == 0)
			return 1;
		i++;
	}
	return 0;
}

/*
 * Copy the valid JSON text p[0..n) to out without the white space between
 * tokens, so that it fits on one line; out has room for n + 1 bytes.
 * Returns the length written (NUL-terminated).
 */
size_t
json_compact(char *out, const char *p, size_t n)
{
	size_t i, e, o = 0;

	for (i = 0; i < n; ) {
		if (p[i] == '"') {
			e = json_skip_string(p, n, i);
			memcpy(out + o, p + i, e - i);
			o += e - i;
			i = e;
		} else if (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
		    p[i] == '\r')
			i++;
		else
			out[o++] = p[i++];
	}
	out[o] = '\0';
	return o;
}
