/*
 * reqobj: the request object, a line starting with {: its schema (url,
 * method, headers, body, timeout, id, sha256, user, bearer), each field
 * checked and taken into the record, and the one-line reason a bad object
 * fails with.  input.c reads and trims the lines; this knows what a line
 * that is an object may say.
 */
#include "gather/reqobj.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gather/json.h"
#include "gather/text.h"

/* A method or header name: visible ASCII without separators. */
static int
reqobj_token_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == ':' || s[i] == ';')
			return 0;
	return n > 0;
}

/* Add "name: value" to r's headers; NULL, or why it cannot be. */
static const char *
reqobj_header(struct rec *r, const char *name, size_t nlen, const char *val,
    size_t vlen)
{
	if (!reqobj_token_ok(name, nlen) || memchr(val, '\r', vlen) != NULL ||
	    memchr(val, '\n', vlen) != NULL || memchr(val, '\0', vlen) != NULL)
		return "invalid header name or value";
	if (buf_append(&r->req.headers, name, nlen) == -1 ||
	    buf_append(&r->req.headers, ": ", 2) == -1 ||
	    buf_append(&r->req.headers, val, vlen) == -1 ||
	    buf_append(&r->req.headers, "", 1) == -1)
		return "out of memory";
	r->req.nheaders++;
	return NULL;
}

/* Decode the valid string literal s into b; -1 when it is not a string. */
static int
reqobj_string(struct buf *b, const struct json_span *s)
{
	buf_clear(b);
	if (s->n < 2 || s->p[0] != '"')
		return -1;
	if (memchr(s->p, '\\', s->n) == NULL)
		return buf_append(b, s->p + 1, s->n - 2);
	return json_unescape(b, s->p, s->n);
}

/* The headers of a request object: {"K": "V"} or ["K: V", ...]. */
static const char *
reqobj_headers(struct rec *r, const struct json_span *h, struct buf *tmp,
    struct buf *tmp2)
{
	struct json_span	 k, v;
	const char		*colon, *val, *end, *why;
	size_t			 pos = 0;

	if (h->p[0] != '{' && h->p[0] != '[')
		return "headers must be an object or an array of strings";
	while (json_next(h->p, h->n, &pos, &k, &v) == 0) {
		if (v.p[0] != '"')
			return h->p[0] == '{' ? "header values must be strings" :
			    "headers must be \"Name: value\" strings";
		if (reqobj_string(tmp, &v) == -1)
			return "out of memory";
		if (h->p[0] == '{') {
			if (reqobj_string(tmp2, &k) == -1)
				return "out of memory";
			if ((why = reqobj_header(r, tmp2->p, tmp2->len, tmp->p,
			    tmp->len)) != NULL)
				return why;
			continue;
		}
		end = tmp->p + tmp->len;
		if ((colon = memchr(tmp->p, ':', tmp->len)) == NULL)
			return "headers must be \"Name: value\" strings";
		for (val = colon + 1; val < end && (*val == ' ' || *val == '\t');
		    val++)
			;
		if ((why = reqobj_header(r, tmp->p, (size_t)(colon - tmp->p),
		    val, (size_t)(end - val))) != NULL)
			return why;
	}
	return NULL;
}

/* The known fields of a request object, one bit each to spot repeats. */
enum { F_URL, F_METHOD, F_HEADERS, F_BODY, F_TIMEOUT, F_ID, F_USER,
    F_BEARER, F_SHA256 };
static const char *const reqobj_field_names[] = {
	"url", "method", "headers", "body", "timeout", "id", "user", "bearer",
	"sha256"
};

/* Which known field the quoted name k is (decoded through tmp), or -1. */
static int
reqobj_field(const struct json_span *k, struct buf *tmp)
{
	const char	*s = k->p + 1;
	size_t		 n = k->n - 2, i;

	if (memchr(s, '\\', n) != NULL) {
		if (reqobj_string(tmp, k) == -1)
			return -1;
		s = tmp->p;
		n = tmp->len;
	}
	for (i = 0; i < sizeof(reqobj_field_names) /
	    sizeof(reqobj_field_names[0]); i++)
		if (n == strlen(reqobj_field_names[i]) &&
		    memcmp(s, reqobj_field_names[i], n) == 0)
			return (int)i;
	return -1;
}

/* Trim what a line is trimmed of, and LF, from both ends of b. */
static void
reqobj_trim_buf(struct buf *b)
{
	size_t s = 0, e = b->len;

	while (s < e && (text_blank(b->p[s]) || b->p[s] == '\n'))
		s++;
	while (e > s && (text_blank(b->p[e - 1]) || b->p[e - 1] == '\n'))
		e--;
	memmove(b->p, b->p + s, e - s);
	b->len = e - s;
	b->p[b->len] = '\0';
}

/*
 * "user" ("USER:PASSWORD") or "bearer": a string without NUL, line breaks
 * (a token goes into a header as it is) or, for "user", without a colon.
 */
static const char *
reqobj_credential(struct buf *b, int f, const struct json_span *v)
{
	const char *bad = f == F_USER ? "user must be a string "
	    "\"USER:PASSWORD\"" : "bearer must be a one-line string";

	if (v->p[0] != '"' || json_string_has_nul(v))
		return bad;
	if (reqobj_string(b, v) == -1)
		return "out of memory";
	if (b->len == 0 || memchr(b->p, '\r', b->len) != NULL ||
	    memchr(b->p, '\n', b->len) != NULL ||
	    (f == F_USER && memchr(b->p, ':', b->len) == NULL))
		return bad;
	return NULL;
}

/* "sha256": 64 hex digits, kept lower-case; NULL, or why it is bad. */
static const char *
reqobj_sha256(struct rec *r, const struct json_span *v)
{
	size_t i;

	if (v->n != 66 || v->p[0] != '"')
		return "sha256 must be a string of 64 hex digits";
	for (i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)v->p[i + 1]))
			return "sha256 must be a string of 64 hex digits";
		r->req.sha256[i] = (char)tolower((unsigned char)v->p[i + 1]);
	}
	r->req.sha256[64] = '\0';
	return NULL;
}

/* The "timeout" member v into r; NULL, or why it is bad. */
static const char *
reqobj_timeout(struct rec *r, const struct json_span *v)
{
	char	*end;
	double	 t;

	if (v->p[0] != '-' && (v->p[0] < '0' || v->p[0] > '9'))
		return "timeout must be a number of seconds";
	/* The text goes on past the number: "," or "}" stops strtod. */
	t = strtod(v->p, &end);
	if (end != v->p + v->n || !(t >= 0) || t > 1e9)
		return "timeout must be a number of seconds";
	r->req.timeout = t;
	return NULL;
}

/* One member of a request object into r; NULL, or why it is bad. */
static const char *
reqobj_member(struct rec *r, int f, const struct json_span *v,
    struct buf *tmp, struct buf *tmp2)
{
	switch (f) {
	case F_URL:
		if (v->p[0] != '"')
			return "a request object needs a string \"url\"";
		if (json_string_has_nul(v))
			return "a NUL (\\u0000) in a request object's url";
		if (reqobj_string(&r->req.url, v) == -1)
			return "out of memory";
		reqobj_trim_buf(&r->req.url);
		return NULL;
	case F_METHOD:
		if (v->p[0] != '"')
			return "method must be a word such as POST";
		if (reqobj_string(&r->req.method, v) == -1)
			return "out of memory";
		if (!reqobj_token_ok(r->req.method.p, r->req.method.len))
			return "method must be a word such as POST";
		return NULL;
	case F_HEADERS:
		return reqobj_headers(r, v, tmp, tmp2);
	case F_BODY:
		/* A string is sent as the bytes it decodes to, NULs too. */
		r->req.has_body = 1;
		r->req.body_json = v->p[0] == '{' || v->p[0] == '[';
		if (v->p[0] == '"')
			return reqobj_string(&r->req.body, v) == -1 ?
			    "out of memory" : NULL;
		return buf_set(&r->req.body, v->p, v->n) == -1 ?
		    "out of memory" : NULL;
	case F_TIMEOUT:
		return reqobj_timeout(r, v);
	case F_ID:
		/*
		 * Echoed as written, strict JSON already, less white space
		 * between tokens: a tab or CR has no place in a record line.
		 */
		buf_clear(&r->req.id);
		if (buf_reserve(&r->req.id, v->n) == -1)
			return "out of memory";
		r->req.has_id = 1;
		r->req.id.len = json_compact(r->req.id.p, v->p, v->n);
		return NULL;
	case F_USER:
		return reqobj_credential(&r->req.user, f, v);
	case F_BEARER:
		return reqobj_credential(&r->req.bearer, f, v);
	case F_SHA256:
		return reqobj_sha256(r, v);
	}
	return NULL;
}

/*
 * Fail r, the request object p, n, for why: IN_BAD.  Without a url of its
 * own (have_url 0) a bad record is named by its line.
 */
static enum input_status
reqobj_bad(struct rec *r, const char *p, size_t n, int have_url,
    const char *why)
{
	if (!have_url && buf_set(&r->req.url, p, n) == -1)
		rec_fail(r, ERR_OTHER, "out of memory");
	else
		rec_fail(r, strcmp(why, "out of memory") == 0 ? ERR_OTHER :
		    ERR_BAD_INPUT, "%s", why);
	return IN_BAD;
}

/*
 * A line starting with {: a request object.  It must be strict JSON as a
 * whole (json_valid) before any field is taken; then its members are read
 * straight from the text, so nothing is cut at a \u0000 and an id or a
 * body goes on exactly as written.
 */
enum input_status
reqobj_parse(struct rec *r, const char *p, size_t n)
{
	struct buf		 tmp = { 0 }, tmp2 = { 0 };
	struct json_span	 ks, vs;
	const char		*why = NULL;
	char			 unknown[128];
	unsigned		 seen = 0;
	size_t			 pos = 0;
	int			 f, have_url = 0;

	if (!json_valid(p, n))
		return reqobj_bad(r, p, n, 0, !utf8_valid((const unsigned
		    char *)p, n) ? "request object is not valid UTF-8" :
		    "malformed request object (not strict JSON)");
	if (p[0] != '{')
		why = "a request object must be an object";
	/*
	 * After a bad member only the url and the id are taken: a failed
	 * record is named by its url and echoes its id.
	 */
	while (json_next(p, n, &pos, &ks, &vs) == 0) {
		f = reqobj_field(&ks, &tmp);
		if (why != NULL) {
			if ((f == F_ID || f == F_URL) && !(seen & (1u << f)) &&
			    reqobj_member(r, f, &vs, &tmp, &tmp2) == NULL &&
			    f == F_URL)
				have_url = 1;
			if (f >= 0)
				seen |= 1u << f;
			continue;
		}
		if (f == -1) {
			snprintf(unknown, sizeof(unknown), "unknown field "
			    "%.*s in the request object",
			    (int)(ks.n > 64 ? 64 : ks.n), ks.p);
			why = unknown;
		} else if (seen & (1u << f)) {
			snprintf(unknown, sizeof(unknown), "field \"%s\" "
			    "given twice", reqobj_field_names[f]);
			why = unknown;
		} else {
			seen |= 1u << f;
			why = reqobj_member(r, f, &vs, &tmp, &tmp2);
			if (why == NULL && f == F_URL)
				have_url = 1;
		}
	}
	if (why == NULL && !(seen & (1u << F_URL)))
		why = "a request object needs a string \"url\"";
	if (why == NULL && (seen & (1u << F_USER)) && (seen & (1u << F_BEARER)))
		why = "\"user\" and \"bearer\" exclude each other";
	buf_free(&tmp);
	buf_free(&tmp2);
	return why == NULL ? IN_RECORD : reqobj_bad(r, p, n, have_url, why);
}

