/*
 * fuzz_input: libFuzzer target for input_parse_line(), which turns one raw
 * input line (a URL or a request object) into a record.  The fuzz bytes
 * are one line, handed over without a terminating NUL, exactly as long as
 * they are.  Checked:
 *
 *  - the status is one of IN_RECORD, IN_BAD, IN_AGAIN, and fits the line:
 *    IN_AGAIN only for a blank or # line, IN_BAD always with an error kind
 *    and a message, IN_RECORD without one;
 *  - a plain line's url is the trimmed line, byte for byte;
 *  - no header or method of a request object can carry CR, LF or NUL
 *    (header injection), every header is "Name: value" with a token name;
 *  - a request object is a record only when the line is strict JSON
 *    (json_valid), its id is strict JSON, and its url holds no NUL;
 *  - the record, written by record_format() as gather would write it, is one
 *    line of strict JSON (json_valid, valid UTF-8, a single trailing
 *    newline), and cJSON reads it as one object.
 *
 * One struct rec is reused from input to input, cleared by rec_reset as
 * the scheduler does, so state left over from a previous line shows up.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gather/cli.h"
#include "gather/input.h"
#include "gather/json.h"
#include "gather/record.h"
#include "gather/rec.h"
#include "gather/buf.h"
#include "gather/text.h"

#include "strict_utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
die(const char *what, const uint8_t *data, size_t size,
    const struct buf *line)
{
	fprintf(stderr, "fuzz_input: %s\n", what);
	fprintf(stderr, "input (%zu bytes): %.*s\n", size,
	    (int)(size > 2000 ? 2000 : size), (const char *)data);
	if (line != NULL && line->p != NULL)
		fprintf(stderr, "record (%zu bytes): %.*s\n", line->len,
		    (int)(line->len > 4000 ? 4000 : line->len), line->p);
	abort();
}


static int
is_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* A header name or method: visible ASCII, no separators. */
static int
token_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f ||
		    s[i] == ':')
			return 0;
	return n > 0;
}

static void
check_request(const struct rec *r, const uint8_t *data, size_t size)
{
	const char	*h, *colon;
	size_t		 i, len;

	if (r->req.url.p == NULL || r->req.url.p[r->req.url.len] != '\0')
		die("url is not NUL-terminated", data, size, NULL);
	if (r->req.method.len > 0 && (!token_ok(r->req.method.p,
	    r->req.method.len) || strlen(r->req.method.p) != r->req.method.len))
		die("a method that is not a token", data, size, NULL);
	h = r->req.headers.p;
	for (i = 0; i < r->req.nheaders; i++) {
		if (h == NULL || h >= r->req.headers.p + r->req.headers.len)
			die("nheaders runs past the header buffer", data, size,
			    NULL);
		len = strlen(h);
		if (strpbrk(h, "\r\n") != NULL)
			die("CR or LF in a header: injection", data, size, NULL);
		if ((colon = strchr(h, ':')) == NULL ||
		    !token_ok(h, (size_t)(colon - h)))
			die("a header that is not 'Name: value'", data, size,
			    NULL);
		h += len + 1;
	}
	if (r->req.nheaders > 0 && h != r->req.headers.p + r->req.headers.len)
		die("bytes after the last header", data, size, NULL);
	if (r->req.has_body && r->req.body.p != NULL &&
	    r->req.body.p[r->req.body.len] != '\0')
		die("body is not NUL-terminated", data, size, NULL);
}

/* The record as gather writes it must be one line of strict JSON. */
static void
check_output(const struct rec *r, const uint8_t *data, size_t size)
{
	static struct record	*w;
	static struct buf	 line;
	struct opts		 o;
	const char		*end = NULL;
	cJSON			*doc;
	size_t			 i;

	if (w == NULL) {
		memset(&o, 0, sizeof(o));
		o.body = BODY_AUTO;
		o.format = FORMAT_JSONL;
		if ((w = record_new(&o, NULL)) == NULL)
			abort();
	}
	if (record_format(w, r, &line) == -1)
		die("record_format failed", data, size, NULL);
	if (line.len == 0 || line.p[line.len - 1] != '\n' ||
	    memchr(line.p, '\n', line.len - 1) != NULL)
		die("the record is not exactly one line", data, size, &line);
	for (i = 0; i + 1 < line.len; i++)
		if ((unsigned char)line.p[i] < 0x20)
			die("a control byte (NUL, CR, tab...) in the record: "
			    "JSON strings must escape them", data, size, &line);
	if (!strict_utf8((const unsigned char *)line.p, line.len))
		die("the record is not valid UTF-8", data, size, &line);
	if (!json_valid(line.p, line.len - 1))
		die("the record is not strict JSON", data, size, &line);
	doc = cJSON_ParseWithLengthOpts(line.p, line.len - 1, &end, 0);
	if (doc == NULL || end != line.p + line.len - 1 ||
	    !cJSON_IsObject(doc))
		die("the record is not one JSON object", data, size, &line);
	cJSON_Delete(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rec	 r;
	static int		 ready;
	enum input_status	 st;
	const uint8_t		*t = data;
	size_t			 n = size;
	uint8_t			*copy;

	if (!ready) {
		memset(&r, 0, sizeof(r));
		ready = 1;
	}
	rec_reset(&r);

	/* An exact-size heap copy: ASan sees any read past the end. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(copy, data, size);
	st = input_parse_line((const char *)copy, size, &r);

	while (n > 0 && is_blank(*t)) {
		t++;
		n--;
	}
	while (n > 0 && is_blank(t[n - 1]))
		n--;

	switch (st) {
	case IN_AGAIN:
		if (n != 0 && t[0] != '#')
			die("IN_AGAIN for a line that is a record", data, size,
			    NULL);
		break;
	case IN_RECORD:
		if (n == 0 || t[0] == '#')
			die("a record from a blank or comment line", data, size,
			    NULL);
		if (r.res.kind != ERR_NONE)
			die("IN_RECORD with an error kind", data, size, NULL);
		if (t[0] != '{' && (r.req.url.len != n ||
		    memcmp(r.req.url.p, t, n) != 0))
			die("url is not the trimmed line", data, size, NULL);
		if (t[0] == '{') {
			if (!json_valid((const char *)t, n))
				die("a request object that is not strict JSON "
				    "was taken", data, size, NULL);
			if (r.req.has_id &&
			    !json_valid(r.req.id.p, r.req.id.len))
				die("an id that is not strict JSON", data, size,
				    NULL);
			if (strlen(r.req.url.p) != r.req.url.len)
				die("a NUL in a request object's url", data,
				    size, NULL);
		}
		check_request(&r, data, size);
		check_output(&r, data, size);
		break;
	case IN_BAD:
		if (n == 0 || t[0] == '#')
			die("a bad record from a blank or comment line", data,
			    size, NULL);
		if (r.res.kind == ERR_NONE || r.res.msg.len == 0)
			die("IN_BAD without an error and a message", data, size,
			    NULL);
		check_output(&r, data, size);
		break;
	default:
		die("input_parse_line returned an unexpected status", data,
		    size, NULL);
	}
	free(copy);
	return 0;
}
