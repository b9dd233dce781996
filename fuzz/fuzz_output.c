/*
 * fuzz_output: libFuzzer target for record_format(), the step that turns a
 * finished record into one line of JSON.  The fuzz bytes become what a
 * server and an input line could put in a record: the URL, the body, the
 * content type, the effective URL, the response headers, the error message
 * and a request object's id; record_format must always produce exactly one
 * line of strict JSON (valid UTF-8, no raw control byte, one trailing
 * newline, nothing after).
 *
 * Layout of the input (short inputs are padded with zeros):
 *
 *   byte 0      body mode (b % 5: auto, text, base64, json, none);
 *               0x20 id present, 0x40 no effective_url, 0x80 no
 *               content_type, 0x10 no body kept (an error record)
 *   byte 1      error kind (b & 15), HTTP version (b >> 4)
 *   bytes 2-3   status (little endian)
 *   bytes 4-11  index (little endian)
 *   byte 12     attempts
 *   then fields separated by the three bytes 1e 1e 1e, in this order:
 *   url, body, content_type, effective_url, error message, id (JSON text
 *   as input.c keeps it; made a JSON string when the bytes are not such a
 *   text), headers ("name:
 *   value" lines separated by \n, made into the "name\0value\0" pairs that
 *   xfer keeps).
 *
 * Records go through one struct record per body mode, reused from input to
 * input like gather reuses its writer from record to record.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "gather/cli.h"
#include "gather/json.h"
#include "gather/record.h"
#include "gather/rec.h"
#include "gather/buf.h"
#include "gather/text.h"

#include "strict_utf8.h"

#define HEAD_LEN	13
#define NFIELDS		7
#define SEP		"\x1e\x1e\x1e"
#define SEP_LEN		3

enum { F_URL, F_BODY, F_CTYPE, F_EFF, F_MSG, F_ID, F_HEADERS };

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
die(const char *what, const struct buf *line)
{
	fprintf(stderr, "fuzz_output: %s\n", what);
	if (line != NULL && line->p != NULL)
		fprintf(stderr, "line (%zu bytes): %.*s\n", line->len,
		    (int)(line->len > 4000 ? 4000 : line->len), line->p);
	abort();
}


/* The one check everything comes down to: LINE is one line of JSON. */
static cJSON *
check_line(const struct buf *line)
{
	const char	*end = NULL;
	cJSON		*doc;
	size_t		 i;

	if (line->len == 0 || line->p == NULL)
		die("empty line", line);
	if (line->p[line->len - 1] != '\n')
		die("the line does not end with a newline", line);
	if (memchr(line->p, '\n', line->len - 1) != NULL)
		die("a newline inside the line", line);
	for (i = 0; i + 1 < line->len; i++)
		if ((unsigned char)line->p[i] < 0x20)
			die("a control byte (NUL, CR, tab...) inside the line: "
			    "JSON strings must escape them", line);
	if (line->p[line->len] != '\0')
		die("the buffer is not NUL-terminated", line);
	if (!strict_utf8((const unsigned char *)line->p, line->len))
		die("the line is not valid UTF-8", line);
	if (!json_valid(line->p, line->len - 1))
		die("the line is not strict JSON", line);
	doc = cJSON_ParseWithLengthOpts(line->p, line->len - 1, &end, 0);
	if (doc == NULL)
		die("the line is not JSON", line);
	if (end != line->p + line->len - 1)
		die("bytes after the JSON value", line);
	if (!cJSON_IsObject(doc))
		die("the line is not a JSON object", line);
	return doc;
}

/* Split data at SEP into at most NFIELDS fields. */
static void
split(const uint8_t *p, size_t n, const uint8_t **f, size_t *flen)
{
	size_t i, k = 0, start = 0;

	for (i = 0; i < NFIELDS; i++) {
		f[i] = p + n;
		flen[i] = 0;
	}
	for (i = 0; k < NFIELDS - 1 && i + SEP_LEN <= n; i++) {
		if (memcmp(p + i, SEP, SEP_LEN) == 0) {
			f[k] = p + start;
			flen[k++] = i - start;
			start = i + SEP_LEN;
			i += SEP_LEN - 1;
		}
	}
	f[k] = p + start;
	flen[k] = n - start;
}

/* A C string of at most cap - 1 bytes of p, cut at a NUL as libcurl's
 * strings would be. */
static char *
cstr(const uint8_t *p, size_t n)
{
	size_t	 len = strnlen((const char *)p, n);
	char	*s = malloc(len + 1);

	if (s == NULL)
		abort();
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/* "name: value" lines to "name\0value\0" pairs, as xfer_header_cb keeps
 * them: a NUL inside a name or value ends it. */
static size_t
make_headers(struct buf *h, const uint8_t *p, size_t n)
{
	size_t	 count = 0, i = 0, eol, colon, vs;

	while (i < n) {
		const uint8_t *nl = memchr(p + i, '\n', n - i);

		eol = nl ? (size_t)(nl - p) : n;
		for (colon = i; colon < eol && p[colon] != ':'; colon++)
			;
		if (colon < eol && colon > i) {
			for (vs = colon + 1; vs < eol && p[vs] == ' '; vs++)
				;
			if (buf_append(h, p + i, strnlen((const char *)p + i,
			    colon - i)) == -1 || buf_append(h, "", 1) == -1 ||
			    buf_append(h, p + vs, strnlen((const char *)p + vs,
			    eol - vs)) == -1 || buf_append(h, "", 1) == -1)
				abort();
			count++;
		}
		i = eol + 1;
	}
	return count;
}

/* Base64 decoding for the round-trip check (standard alphabet, padded). */
static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int
b64_equals(const char *s, const uint8_t *want, size_t wlen)
{
	size_t	 slen = strlen(s), i, o = 0;
	uint32_t acc;
	int	 v, k, pad;

	if (slen % 4 != 0 || slen / 4 * 3 < wlen || slen / 4 * 3 > wlen + 2)
		return 0;
	for (i = 0; i < slen; i += 4) {
		acc = 0;
		pad = 0;
		for (k = 0; k < 4; k++) {
			if (s[i + k] == '=') {
				pad++;
				v = 0;
			} else if (pad || (v = b64val((unsigned char)s[i + k])) < 0)
				return 0;
			acc = acc << 6 | (uint32_t)v;
		}
		for (k = 0; k < 3 - pad; k++, o++)
			if (o >= wlen || ((acc >> (16 - 8 * k)) & 0xff) != want[o])
				return 0;
	}
	return o == wlen;
}

/*
 * The id as input.c hands it over: strict JSON text (json_valid), white
 * space between tokens taken out.  The bytes are used when they are such
 * a text; otherwise they are made one (bytes >= 0x80 of invalid UTF-8
 * become '?', and the rest becomes a JSON string of them).
 */
static void
make_id(struct rec *r, const uint8_t *p, size_t n)
{
	char		*s, *json;
	size_t		 i;
	cJSON		*v;

	if ((s = malloc(n + 1)) == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	if (!strict_utf8((const unsigned char *)s, n))
		for (i = 0; i < n; i++)
			if ((unsigned char)s[i] >= 0x80)
				s[i] = '?';
	v = NULL;
	if (json_valid(s, n)) {
		/* input.c keeps a strict id, white space between tokens out. */
		buf_clear(&r->req.id);
		if (buf_reserve(&r->req.id, n) == -1)
			abort();
		r->req.id.len = json_compact(r->req.id.p, s, n);
	} else {
		s[strnlen(s, n)] = '\0';
		if ((v = cJSON_CreateString(s)) == NULL)
			abort();
		if ((json = cJSON_PrintUnformatted(v)) == NULL ||
		    buf_set(&r->req.id, json, strlen(json)) == -1)
			abort();
		cJSON_free(json);
	}
	cJSON_Delete(v);
	free(s);
	r->req.has_id = 1;
}

static struct record *
writer(enum body_mode mode)
{
	static struct record	*outs[5];
	struct opts		 o;

	if (outs[mode] == NULL) {
		memset(&o, 0, sizeof(o));
		o.body = mode;
		o.include_headers = 1;
		o.format = FORMAT_JSONL;
		/* record_format never writes. */
		if ((outs[mode] = record_new(&o, NULL)) == NULL)
			abort();
	}
	return outs[mode];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct buf	 line;
	uint8_t			 head[HEAD_LEN] = {0};
	const uint8_t		*f[NFIELDS], *p;
	size_t			 flen[NFIELDS], n, i;
	struct rec		 r;
	struct buf		 body = {0}, hdrs = {0};
	enum body_mode		 mode;
	char			*ctype = NULL, *eff = NULL;
	cJSON			*doc, *it;
	int			 keep_body;

	memcpy(head, data, size < HEAD_LEN ? size : HEAD_LEN);
	p = data + (size < HEAD_LEN ? size : HEAD_LEN);
	n = size < HEAD_LEN ? 0 : size - HEAD_LEN;
	split(p, n, f, flen);

	memset(&r, 0, sizeof(r));
	rec_reset(&r);
	mode = (enum body_mode)(head[0] % 5);
	keep_body = !(head[0] & 0x10);
	r.res.kind = (enum err_kind)(head[1] & 15);
	r.res.http_version = head[1] >> 4;	/* 0..15, most of them bogus */
	r.res.status = head[2] | head[3] << 8;
	for (i = 0; i < 8; i++)
		r.req.index |= (uint64_t)head[4 + i] << (8 * i);
	r.attempts = head[12];
	r.res.curl_code = r.res.kind != ERR_NONE && (head[12] & 1) ? head[12] :
	    -1;
	r.res.redirects = head[12] >> 4;

	if (buf_set(&r.req.url, f[F_URL], flen[F_URL]) == -1 ||
	    buf_set(&body, f[F_BODY], flen[F_BODY]) == -1)
		abort();
	r.res.size = body.len;
	r.res.resp_body = keep_body ? &body : NULL;
	if (!(head[0] & 0x80))
		r.res.content_type = ctype = cstr(f[F_CTYPE], flen[F_CTYPE]);
	if (!(head[0] & 0x40))
		r.res.effective_url = eff = cstr(f[F_EFF], flen[F_EFF]);
	if (buf_set(&r.res.msg, f[F_MSG], flen[F_MSG] < REC_MSG_MAX - 1 ?
	    flen[F_MSG] : REC_MSG_MAX - 1) == -1)
		abort();
	if (head[0] & 0x20)
		make_id(&r, f[F_ID], flen[F_ID]);
	r.res.nresp_headers = make_headers(&hdrs, f[F_HEADERS],
	    flen[F_HEADERS]);
	r.res.resp_headers = &hdrs;
	r.res.time.total = r.res.time.ttfb = (double)r.res.status / 1000.0;

	if (record_format(writer(mode), &r, &line) == -1)
		die("record_format failed", NULL);
	doc = check_line(&line);

	/* What must be there, and what must come back unchanged. */
	it = cJSON_GetObjectItemCaseSensitive(doc, "index");
	if (!cJSON_IsNumber(it))
		die("no index", &line);
	it = cJSON_GetObjectItemCaseSensitive(doc, "url");
	if (!cJSON_IsString(it))
		die("no url", &line);
	if (memchr(r.req.url.p, '\0', r.req.url.len) == NULL &&
	    strict_utf8((const unsigned char *)r.req.url.p, r.req.url.len) &&
	    strcmp(it->valuestring, r.req.url.p) != 0)
		die("a valid url did not come back unchanged", &line);
	it = cJSON_GetObjectItemCaseSensitive(doc, "ok");
	if (!cJSON_IsBool(it) || cJSON_IsTrue(it) != (r.res.kind == ERR_NONE))
		die("ok does not match the error kind", &line);
	it = cJSON_GetObjectItemCaseSensitive(doc, "error");
	if (r.res.kind == ERR_NONE ? !cJSON_IsNull(it) : !cJSON_IsObject(it))
		die("error does not match the error kind", &line);
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "headers")))
		die("-I but no headers object", &line);
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "time")))
		die("no time object", &line);
	if (cJSON_HasObjectItem(doc, "id") != (r.req.has_id != 0))
		die("id present or absent wrongly", &line);

	it = cJSON_GetObjectItemCaseSensitive(doc, "body");
	if (mode == BODY_NONE || !keep_body) {
		if (it != NULL)
			die("a body where none was asked for or kept", &line);
	} else {
		cJSON *enc = cJSON_GetObjectItemCaseSensitive(doc,
		    "body_encoding");

		if (it == NULL || !cJSON_IsString(enc))
			die("no body or body_encoding", &line);
		if (strcmp(enc->valuestring, "base64") == 0) {
			if (!cJSON_IsString(it) || !b64_equals(it->valuestring,
			    (const uint8_t *)body.p, body.len))
				die("base64 body does not decode to the body",
				    &line);
		} else if (strcmp(enc->valuestring, "utf-8") == 0) {
			if (!cJSON_IsString(it))
				die("utf-8 body is not a string", &line);
			if (mode == BODY_BASE64)
				die("--body base64 gave utf-8", &line);
			if (memchr(body.p, '\0', body.len) == NULL &&
			    strict_utf8((const unsigned char *)body.p,
			    body.len) && strcmp(it->valuestring, body.p) != 0)
				die("a valid UTF-8 body did not come back "
				    "unchanged", &line);
		} else if (strcmp(enc->valuestring, "json") == 0) {
			if (mode != BODY_JSON)
				die("body_encoding json without --body json",
				    &line);
		} else
			die("unknown body_encoding", &line);
	}
	cJSON_Delete(doc);

	rec_free_bufs(&r);
	buf_free(&body);
	buf_free(&hdrs);
	free(ctype);
	free(eff);
	return 0;
}
