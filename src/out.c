/*
 * out: records to JSON.  The record's cJSON tree is made once and reused:
 * per record its nodes get new values and are linked in the order of the
 * fields present, and the tree is printed into the caller's buffer without
 * allocating.  Outside strings are escaped by util's json_escape (which,
 * unlike a C-string API, keeps NUL bytes) and hung in the tree as raw JSON.
 */
#include "gather/out.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

/* Write what is pending once this much is buffered. */
#define OUT_CHUNK	(64 * 1024)

/* Room for one formatted number. */
#define NUM_LEN		32

/* Leaf nodes point at our strings: never let cJSON free them. */
#define LEAF_FLAGS	(cJSON_IsReference | cJSON_StringIsConst)

enum field {
	FLD_INDEX,
	FLD_URL,
	FLD_ID,
	FLD_OK,
	FLD_STATUS,
	FLD_HTTP_VERSION,
	FLD_EFFECTIVE_URL,
	FLD_REDIRECTS,
	FLD_CONTENT_TYPE,
	FLD_SIZE,
	FLD_BODY,
	FLD_BODY_ENCODING,
	FLD_HEADERS,
	FLD_FILE,
	FLD_TIME,
	FLD_ATTEMPTS,
	FLD_ERROR,
	FLD_COUNT
};

static const char *const field_names[FLD_COUNT] = {
	"index", "url", "id", "ok", "status", "http_version", "effective_url",
	"redirects", "content_type", "size", "body", "body_encoding",
	"headers", "file", "time", "attempts", "error"
};

enum { T_QUEUE, T_DNS, T_CONNECT, T_TLS, T_TTFB, T_TOTAL, T_COUNT };
static const char *const time_names[T_COUNT] = {
	"queue", "dns", "connect", "tls", "ttfb", "total"
};

enum { E_KIND, E_MESSAGE, E_CURL_CODE, E_COUNT };
static const char *const error_names[E_COUNT] = {
	"kind", "message", "curl_code"
};

struct out {
	int		 fd;
	int		 tty;		/* flush every line */
	enum body_mode	 body_mode;
	enum format	 format;
	int		 include_headers;
	int		 to_files;
	uint64_t	 written;	/* records written so far */
	struct buf	 pending;	/* bytes not yet written */

	cJSON		*root;
	cJSON		*f[FLD_COUNT];
	cJSON		*t[T_COUNT];
	cJSON		*e[E_COUNT];
	cJSON		*error_obj;
	cJSON		*error_null;

	/* Escaped strings, reused from record to record. */
	struct buf	 s_url, s_eff, s_ctype, s_body, s_msg, s_kind, s_file;
	struct buf	 repair;
	char		 num[FLD_COUNT + T_COUNT + E_COUNT][NUM_LEN];
};

static cJSON *
out_node(const char *key, int type)
{
	cJSON *n;

	if ((n = cJSON_CreateNull()) == NULL)
		return NULL;
	n->string = (char *)key;
	n->type = type | LEAF_FLAGS;
	return n;
}

/* Link nodes[0..n) whose bit is set in mask as the children of parent. */
static void
out_link(cJSON *parent, cJSON **nodes, int n, unsigned mask)
{
	cJSON	*first = NULL, *last = NULL;
	int	 i;

	for (i = 0; i < n; i++) {
		if (!(mask & (1u << i)))
			continue;
		nodes[i]->prev = last;
		nodes[i]->next = NULL;
		if (last)
			last->next = nodes[i];
		else
			first = nodes[i];
		last = nodes[i];
	}
	if (first)
		first->prev = last;
	parent->child = first;
}

static void
set_type(cJSON *n, int type)
{
	n->type = (n->type & (cJSON_IsReference | cJSON_StringIsConst)) | type;
}

static void
set_raw(cJSON *n, char *s)
{
	set_type(n, cJSON_Raw);
	n->valuestring = s;
}

static void
set_null(cJSON *n)
{
	set_type(n, cJSON_NULL);
	n->valuestring = NULL;
}

/*
 * Numbers are formatted here and hung in as raw JSON: cJSON prints
 * doubles with sprintf and checks them with sscanf, which cost a third of
 * the time of a record.  Each numeric node has its own small buffer.
 */
/* Decimal digits of v into end-backwards buffer; returns the start. */
static char *
fmt_u64(char *end, uint64_t v)
{
	*--end = '\0';
	do
		*--end = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return end;
}

static void
set_int(cJSON *n, char *buf, int64_t v)
{
	char *p = fmt_u64(buf + NUM_LEN, v < 0 ? (uint64_t)-(v + 1) + 1 :
	    (uint64_t)v);

	if (v < 0)
		*--p = '-';
	set_raw(n, p);
}

/* Seconds to the microsecond, without trailing zeros: 0.0123, 2, 1.5. */
static void
set_secs(cJSON *n, char *buf, double secs)
{
	uint64_t	 us = secs > 0 ? (uint64_t)(secs * 1e6 + 0.5) : 0;
	uint64_t	 frac = us % 1000000;
	char		*p = buf + NUM_LEN - 1, *end;
	int		 i;

	*p = '\0';
	end = p;
	if (frac != 0) {
		for (i = 0; i < 6; i++, frac /= 10)
			*--p = (char)('0' + frac % 10);
		while (end[-1] == '0')
			*--end = '\0';
		*--p = '.';
	}
	/* The integer part goes in front of the fraction. */
	{
		char tmp[NUM_LEN], *q = fmt_u64(tmp + NUM_LEN, us / 1000000);
		size_t len = strlen(q);
		p -= len;
		memcpy(p, q, len);
	}
	set_raw(n, p);
}

struct out *
out_new(const struct opts *o, int fd)
{
	struct out	*w;
	int		 i, ok = 1;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->fd = fd;
	w->tty = isatty(fd);
	w->body_mode = o->output_dir ? BODY_NONE : o->body;
	w->format = o->format;
	w->include_headers = o->include_headers;
	w->to_files = o->output_dir != NULL;
	w->root = cJSON_CreateObject();
	w->error_obj = out_node("error", cJSON_Object);
	w->error_null = out_node("error", cJSON_NULL);
	ok = w->root && w->error_obj && w->error_null;
	if (w->error_obj)
		w->error_obj->type = cJSON_Object | cJSON_StringIsConst;
	for (i = 0; ok && i < FLD_COUNT; i++)
		ok = (w->f[i] = i == FLD_ERROR ? w->error_null :
		    out_node(field_names[i], cJSON_NULL)) != NULL;
	if (ok)
		w->f[FLD_TIME]->type = cJSON_Object | cJSON_StringIsConst;
	for (i = 0; ok && i < T_COUNT; i++)
		ok = (w->t[i] = out_node(time_names[i], cJSON_Number)) != NULL;
	for (i = 0; ok && i < E_COUNT; i++)
		ok = (w->e[i] = out_node(error_names[i], cJSON_NULL)) != NULL;
	if (!ok) {
		out_free(w);
		return NULL;
	}
	out_link(w->f[FLD_TIME], w->t, T_COUNT, (1u << T_COUNT) - 1);
	return w;
}

/* Free one node alone: cJSON_Delete would follow its siblings. */
static void
out_node_free(cJSON *n)
{
	if (n == NULL)
		return;
	n->child = n->next = n->prev = NULL;
	n->valuestring = NULL;
	cJSON_Delete(n);
}

void
out_free(struct out *w)
{
	int i;

	if (w == NULL)
		return;
	out_node_free(w->root);
	out_node_free(w->error_obj);
	out_node_free(w->error_null);
	for (i = 0; i < FLD_COUNT; i++)
		if (i != FLD_ERROR)
			out_node_free(w->f[i]);
	for (i = 0; i < T_COUNT; i++)
		out_node_free(w->t[i]);
	for (i = 0; i < E_COUNT; i++)
		out_node_free(w->e[i]);
	buf_free(&w->pending);
	buf_free(&w->s_url);
	buf_free(&w->s_eff);
	buf_free(&w->s_ctype);
	buf_free(&w->s_body);
	buf_free(&w->s_msg);
	buf_free(&w->s_kind);
	buf_free(&w->s_file);
	buf_free(&w->repair);
	free(w);
}

/* Escape s as a JSON string into dst, repairing invalid UTF-8 first. */
static int
out_string(struct out *w, struct buf *dst, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	if (!utf8_valid(u, n)) {
		buf_clear(&w->repair);
		if (utf8_repair(&w->repair, u, n) == -1)
			return -1;
		u = (const unsigned char *)w->repair.p;
		n = w->repair.len;
	}
	buf_clear(dst);
	if (buf_reserve(dst, json_escaped_len(u, n)) == -1)
		return -1;
	dst->len = json_escape(dst->p, u, n);
	return 0;
}

/* Base64 of s as a JSON string into dst. */
static int
out_base64(struct buf *dst, const char *s, size_t n)
{
	buf_clear(dst);
	if (buf_reserve(dst, base64_len(n) + 2) == -1)
		return -1;
	dst->p[0] = '"';
	dst->len = 1 + base64_encode(dst->p + 1, (const unsigned char *)s, n);
	dst->p[dst->len++] = '"';
	dst->p[dst->len] = '\0';
	return 0;
}

/*
 * Set the body and body_encoding nodes for the body in b.  Returns the
 * parsed tree when the body is embedded as JSON (the caller frees it).
 */
static int
out_body(struct out *w, const struct buf *b, cJSON **parsed)
{
	const char		*enc = "\"utf-8\"";
	const char		*end = NULL;
	enum body_mode		 mode = w->body_mode;
	int			 valid;

	*parsed = NULL;
	/* Embedded only when printing it back loses nothing. */
	if (mode == BODY_JSON && b->len > 0 &&
	    utf8_valid((const unsigned char *)b->p, b->len) &&
	    json_find_nul_escape(b->p, b->len) == NULL) {
		*parsed = cJSON_ParseWithLengthOpts(b->p, b->len, &end, 0);
		if (*parsed != NULL) {
			while (end < b->p + b->len && (*end == ' ' ||
			    *end == '\n' || *end == '\r' || *end == '\t'))
				end++;
			if (end == b->p + b->len) {
				(*parsed)->string = (char *)field_names[FLD_BODY];
				(*parsed)->type |= cJSON_StringIsConst;
				w->f[FLD_BODY] = *parsed;
				set_raw(w->f[FLD_BODY_ENCODING], "\"json\"");
				return 0;
			}
			cJSON_Delete(*parsed);
			*parsed = NULL;
		}
	}
	if (mode == BODY_JSON)
		mode = BODY_AUTO;
	valid = mode != BODY_BASE64 &&
	    utf8_valid((const unsigned char *)b->p, b->len);
	if (mode == BODY_BASE64 || (mode == BODY_AUTO && !valid)) {
		if (out_base64(&w->s_body, b->p, b->len) == -1)
			return -1;
		enc = "\"base64\"";
	} else if (out_string(w, &w->s_body, b->p ? b->p : "", b->len) == -1)
		return -1;
	set_raw(w->f[FLD_BODY], w->s_body.p);
	set_raw(w->f[FLD_BODY_ENCODING], (char *)enc);
	return 0;
}

/* s as valid UTF-8 (the server's bytes may not be), NUL-terminated. */
static const char *
out_utf8(struct buf *tmp, const char *s)
{
	size_t n = strlen(s);

	if (utf8_valid((const unsigned char *)s, n))
		return s;
	buf_clear(tmp);
	if (utf8_repair(tmp, (const unsigned char *)s, n) == -1)
		return NULL;
	return tmp->p;
}

/*
 * The -I headers as an object: a name seen once has a string, a repeated
 * one an array of its values in order.  Returns a new tree.
 */
static cJSON *
out_headers(struct out *w, const struct rec *r)
{
	const char	*p, *name, *val;
	cJSON		*obj, *old, *arr, *v, *first;
	struct buf	 nbuf = { 0 };
	size_t		 i;

	if ((obj = cJSON_CreateObject()) == NULL)
		return NULL;
	p = r->resp_headers ? r->resp_headers->p : NULL;
	for (i = 0; p != NULL && i < r->nresp_headers; i++) {
		name = p;
		val = name + strlen(name) + 1;
		p = val + strlen(val) + 1;
		if ((name = out_utf8(&nbuf, name)) == NULL ||
		    (val = out_utf8(&w->repair, val)) == NULL ||
		    (v = cJSON_CreateString(val)) == NULL)
			break;
		old = cJSON_GetObjectItemCaseSensitive(obj, name);
		if (old == NULL) {
			cJSON_AddItemToObject(obj, name, v);
			continue;
		}
		if (!cJSON_IsArray(old)) {
			/* The first value moves into an array in its place. */
			first = cJSON_CreateString(old->valuestring);
			if ((arr = cJSON_CreateArray()) == NULL || first == NULL) {
				cJSON_Delete(arr);
				cJSON_Delete(first);
				cJSON_Delete(v);
				break;
			}
			cJSON_AddItemToArray(arr, first);
			cJSON_ReplaceItemInObjectCaseSensitive(obj, name, arr);
			old = arr;
		}
		cJSON_AddItemToArray(old, v);
	}
	buf_free(&nbuf);
	return obj;
}

/* Format r as one line of JSON, newline included, into line. */
int
out_record(struct out *w, const struct rec *r, struct buf *line)
{
	static const char *const versions[] = {
		[CURL_HTTP_VERSION_1_0] = "\"1.0\"",
		[CURL_HTTP_VERSION_1_1] = "\"1.1\"",
		[CURL_HTTP_VERSION_2_0] = "\"2\"",
		[CURL_HTTP_VERSION_3] = "\"3\"",
	};
	cJSON		*body_node = w->f[FLD_BODY], *parsed = NULL;
	cJSON		*hdr_node = w->f[FLD_HEADERS];
	cJSON		*headers = NULL;
	unsigned	 mask = (1u << FLD_COUNT) - 1;
	unsigned	 emask = (1u << E_KIND) | (1u << E_MESSAGE);
	size_t		 need;
	int		 rc = -1;

	if (out_string(w, &w->s_url, r->url.p ? r->url.p : "", r->url.len) ==
	    -1)
		return -1;
	set_int(w->f[FLD_INDEX], w->num[FLD_INDEX], (int64_t)r->index);
	set_raw(w->f[FLD_URL], w->s_url.p);
	set_type(w->f[FLD_OK], r->kind == ERR_NONE ? cJSON_True : cJSON_False);
	if (r->status > 0)
		set_int(w->f[FLD_STATUS], w->num[FLD_STATUS], r->status);
	else
		set_null(w->f[FLD_STATUS]);
	if (r->http_version > 0 && r->http_version <= CURL_HTTP_VERSION_3 &&
	    versions[r->http_version] != NULL)
		set_raw(w->f[FLD_HTTP_VERSION], (char *)versions[r->http_version]);
	else
		set_null(w->f[FLD_HTTP_VERSION]);
	if (r->effective_url != NULL && strcmp(r->effective_url, r->url.p ?
	    r->url.p : "") == 0)
		/* The usual case: no redirect, a URL given in full. */
		set_raw(w->f[FLD_EFFECTIVE_URL], w->s_url.p);
	else if (r->effective_url != NULL) {
		if (out_string(w, &w->s_eff, r->effective_url,
		    strlen(r->effective_url)) == -1)
			return -1;
		set_raw(w->f[FLD_EFFECTIVE_URL], w->s_eff.p);
	} else
		set_null(w->f[FLD_EFFECTIVE_URL]);
	set_int(w->f[FLD_REDIRECTS], w->num[FLD_REDIRECTS], r->redirects);
	if (r->content_type != NULL) {
		if (out_string(w, &w->s_ctype, r->content_type,
		    strlen(r->content_type)) == -1)
			return -1;
		set_raw(w->f[FLD_CONTENT_TYPE], w->s_ctype.p);
	} else
		set_null(w->f[FLD_CONTENT_TYPE]);
	set_int(w->f[FLD_SIZE], w->num[FLD_SIZE], (int64_t)r->size);

	if (r->resp_body != NULL && w->body_mode != BODY_NONE) {
		if (out_body(w, r->resp_body, &parsed) == -1)
			goto done;
	} else
		mask &= ~((1u << FLD_BODY) | (1u << FLD_BODY_ENCODING));

	/* The id and the headers are trees of their own, hung in for now. */
	if (r->has_id)
		set_raw(w->f[FLD_ID], r->id.p);
	else
		mask &= ~(1u << FLD_ID);
	if (w->include_headers) {
		if ((headers = out_headers(w, r)) == NULL)
			goto done;
		headers->string = (char *)field_names[FLD_HEADERS];
		headers->type |= cJSON_StringIsConst;
		w->f[FLD_HEADERS] = headers;
	} else
		mask &= ~(1u << FLD_HEADERS);
	if (w->to_files && r->file.len > 0) {
		if (out_string(w, &w->s_file, r->file.p, r->file.len) == -1)
			goto done;
		set_raw(w->f[FLD_FILE], w->s_file.p);
	} else
		mask &= ~(1u << FLD_FILE);

	set_secs(w->t[T_QUEUE], w->num[FLD_COUNT + T_QUEUE], r->time.queue);
	set_secs(w->t[T_DNS], w->num[FLD_COUNT + T_DNS], r->time.dns);
	set_secs(w->t[T_CONNECT], w->num[FLD_COUNT + T_CONNECT], r->time.connect);
	set_secs(w->t[T_TLS], w->num[FLD_COUNT + T_TLS], r->time.tls);
	set_secs(w->t[T_TTFB], w->num[FLD_COUNT + T_TTFB], r->time.ttfb);
	set_secs(w->t[T_TOTAL], w->num[FLD_COUNT + T_TOTAL], r->time.total);
	set_int(w->f[FLD_ATTEMPTS], w->num[FLD_ATTEMPTS], r->attempts);

	if (r->kind == ERR_NONE)
		w->f[FLD_ERROR] = w->error_null;
	else {
		buf_clear(&w->s_kind);
		if (buf_append(&w->s_kind, "\"", 1) == -1 ||
		    buf_append(&w->s_kind, err_kind_name(r->kind),
		    strlen(err_kind_name(r->kind))) == -1 ||
		    buf_append(&w->s_kind, "\"", 1) == -1 ||
		    out_string(w, &w->s_msg, r->msg, strlen(r->msg)) == -1)
			goto done;
		set_raw(w->e[E_KIND], w->s_kind.p);
		set_raw(w->e[E_MESSAGE], w->s_msg.p);
		if (r->curl_code >= 0) {
			set_int(w->e[E_CURL_CODE], w->num[FLD_COUNT + T_COUNT +
			    E_CURL_CODE], r->curl_code);
			emask |= 1u << E_CURL_CODE;
		}
		out_link(w->error_obj, w->e, E_COUNT, emask);
		w->f[FLD_ERROR] = w->error_obj;
	}
	out_link(w->root, w->f, FLD_COUNT, mask);

	/* Escaped strings are exact; numbers and structure need the rest. */
	need = w->s_url.len + w->s_eff.len + w->s_ctype.len + w->s_msg.len +
	    w->s_file.len + (mask & (1u << FLD_BODY) ? w->s_body.len : 0) +
	    r->id.len + 1024 + (headers ? 4096 : 0);
	for (;;) {
		buf_clear(line);
		if (buf_reserve(line, need) == -1)
			goto done;
		if (cJSON_PrintPreallocated(w->root, line->p, (int)need - 1, 0))
			break;
		if (need > INT_MAX / 2)
			goto done;
		need *= 2;	/* an embedded JSON body can be any size */
	}
	line->len = strlen(line->p);
	line->p[line->len++] = '\n';
	line->p[line->len] = '\0';
	rc = 0;
done:
	w->f[FLD_BODY] = body_node;
	w->f[FLD_HEADERS] = hdr_node;
	if (headers != NULL) {
		headers->next = headers->prev = NULL;
		cJSON_Delete(headers);
	}
	if (parsed != NULL) {
		parsed->next = parsed->prev = NULL;
		cJSON_Delete(parsed);
	}
	return rc;
}

/* Write all of p; -1 with errno set when the reader is gone or worse. */
static int
out_write(int fd, const char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		k = write(fd, p, n);
		if (k == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Queue one formatted record for stdout, framed for --format. */
int
out_emit(struct out *w, const char *p, size_t n)
{
	if (w->format == FORMAT_JSON &&
	    buf_append(&w->pending, w->written ? "," : "[", 1) == -1)
		return -1;
	w->written++;
	if (w->pending.len == 0 && (n >= OUT_CHUNK || w->tty))
		return out_write(w->fd, p, n);
	if (buf_append(&w->pending, p, n) == -1)
		return -1;
	if (w->pending.len >= OUT_CHUNK || w->tty)
		return out_flush(w);
	return 0;
}

/* Write what is pending: called before the loop waits, and at the end. */
int
out_flush(struct out *w)
{
	int rc;

	if (w->pending.len == 0)
		return 0;
	rc = out_write(w->fd, w->pending.p, w->pending.len);
	buf_clear(&w->pending);
	buf_trim_capacity(&w->pending, 4 * OUT_CHUNK);
	return rc;
}

/* End the output: close the array of --format json, whatever happened. */
int
out_finish(struct out *w)
{
	if (w->format == FORMAT_JSON &&
	    buf_append(&w->pending, w->written ? "]\n" : "[]\n", w->written ?
	    2 : 3) == -1)
		return -1;
	return out_flush(w);
}
