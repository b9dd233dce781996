/*
 * record: a finished record becomes one line of JSON, handed on to the
 * reorder ring.  The record's cJSON tree is made once and reused:
 * per record its nodes get new values and are linked in the order of the
 * fields present, and the tree is printed into the caller's buffer without
 * allocating.  Outside strings are escaped by text's json_escape (which,
 * unlike a C-string API, keeps NUL bytes) and hung in the tree as raw JSON.
 */
#include "gather/record.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "gather/digest.h"
#include "gather/json.h"
#include "gather/reorder.h"
#include "gather/text.h"

/* Scratch buffers past this are given back after a record too large. */
#define RECORD_KEEP	(256 * 1024)

/*
 * The longest line a record may take, far beyond any --max-body; the
 * lengths record_print sums stay far below SIZE_MAX.  A build may set a
 * smaller one (-DRECORD_LINE_MAX=N) to reach the too-large path.
 */
#ifndef RECORD_LINE_MAX
#define RECORD_LINE_MAX	((size_t)INT_MAX - 1)
#endif

/* What a string helper says besides 0: no memory, or over RECORD_LINE_MAX. */
#define RECORD_NOMEM	(-1)
#define RECORD_TOOBIG	(-2)

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
	FLD_NOT_MODIFIED,
	FLD_HTTP_VERSION,
	FLD_EFFECTIVE_URL,
	FLD_REDIRECTS,
	FLD_CONTENT_TYPE,
	FLD_ETAG,
	FLD_LAST_MODIFIED,
	FLD_SIZE,
	FLD_BODY,
	FLD_BODY_ENCODING,
	FLD_HEADERS,
	FLD_FILE,
	FLD_HASH,
	FLD_REMOTE_IP,
	FLD_REMOTE_PORT,
	FLD_CONNECTION_REUSED,
	FLD_TIME,
	FLD_ATTEMPTS,
	FLD_ERROR,
	FLD_COUNT
};

/*
 * etag and last_modified come before size: --revalidate reads a line
 * too long to keep up to "size".
 */
static const char *const field_names[FLD_COUNT] = {
	"index", "url", "id", "ok", "status", "not_modified", "http_version",
	"effective_url", "redirects", "content_type", "etag", "last_modified",
	"size", "body", "body_encoding", "headers", "file", "hash", "remote_ip",
	"remote_port", "connection_reused", "time", "attempts", "error"
};

enum { T_QUEUE, T_DNS, T_CONNECT, T_TLS, T_TTFB, T_TOTAL, T_COUNT };
static const char *const time_names[T_COUNT] = {
	"queue", "dns", "connect", "tls", "ttfb", "total"
};

enum { E_KIND, E_MESSAGE, E_CURL_CODE, E_COUNT };
static const char *const error_names[E_COUNT] = {
	"kind", "message", "curl_code"
};

/*
 * A record too large for a line (or for memory) is written again as an
 * error record of kind other saying why: without body, headers and file,
 * then smaller still, its url cut, without id, effective_url and
 * content_type.  The record itself is read as it is, never copied.
 */
enum record_cut {
	CUT_NONE,
	CUT_ERROR,
	CUT_SMALL
};

/* The url of a CUT_SMALL record is cut to this many bytes. */
#define CUT_URL_LEN	256

struct record {
	struct reorder	*reorder;	/* where lines go, or NULL */
	enum body_mode	 body_mode;
	int		 include_headers;
	int		 to_files;
	unsigned	 hashes;	/* --hash: HASH_* bits */
	struct buf	 line;		/* the line being handed on */
	enum record_cut	 cut;		/* what the line being made leaves out */
	const char	*why;		/* past CUT_NONE: why it is cut */

	cJSON		*root;
	cJSON		*f[FLD_COUNT];
	cJSON		*t[T_COUNT];
	cJSON		*e[E_COUNT];
	cJSON		*error_obj;
	cJSON		*error_null;

	/* Escaped strings, reused from record to record. */
	struct buf	 s_url, s_eff, s_ctype, s_body, s_msg, s_kind, s_file;
	struct buf	 s_etag, s_lm, s_ip, s_hash;
	struct buf	 s_hdr;		/* -I: the headers object */
	struct buf	 hent, htab;	/* -I: grouping repeated names */
	struct buf	 repair;
	char		 num[FLD_COUNT + T_COUNT + E_COUNT][NUM_LEN];
};

/* A leaf node named key, of type, that never frees what it points at. */
static cJSON *
record_node(const char *key, int type)
{
	cJSON *n;

	if ((n = cJSON_CreateNull()) == NULL)
		return NULL;
	n->string = (char *)key;
	/* Unused by raw nodes: the name's length, for record_write_object. */
	n->valueint = (int)strlen(key);
	n->type = type | LEAF_FLAGS;
	return n;
}

/* Link nodes[0..n) whose bit is set in mask as the children of parent. */
static void
record_link(cJSON *parent, cJSON **nodes, int n, unsigned mask)
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

/* Change n's type, keeping its reference flags. */
static void
set_type(cJSON *n, int type)
{
	n->type = (n->type & (cJSON_IsReference | cJSON_StringIsConst)) | type;
}

/* Make n the raw JSON text s. */
static void
set_raw(cJSON *n, char *s)
{
	set_type(n, cJSON_Raw);
	n->valuestring = s;
}

/* Make n null. */
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

/* Make n the integer v, formatted into its buffer buf. */
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

/* The formatter for o's output; lines go to ro (NULL: only format). */
struct record *
record_new(const struct opts *o, struct reorder *ro)
{
	struct record	*w;
	int		 i, ok = 1;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->reorder = ro;
	w->body_mode = o->output_dir ? BODY_NONE : o->body;
	w->include_headers = o->include_headers;
	w->to_files = o->output_dir != NULL;
	w->hashes = o->hashes;
	w->root = cJSON_CreateObject();
	w->error_obj = record_node("error", cJSON_Object);
	w->error_null = record_node("error", cJSON_NULL);
	ok = w->root && w->error_obj && w->error_null;
	if (w->error_obj)
		w->error_obj->type = cJSON_Object | cJSON_StringIsConst;
	for (i = 0; ok && i < FLD_COUNT; i++)
		ok = (w->f[i] = i == FLD_ERROR ? w->error_null :
		    record_node(field_names[i], cJSON_NULL)) != NULL;
	if (ok)
		w->f[FLD_TIME]->type = cJSON_Object | cJSON_StringIsConst;
	for (i = 0; ok && i < T_COUNT; i++)
		ok = (w->t[i] = record_node(time_names[i], cJSON_Number)) != NULL;
	for (i = 0; ok && i < E_COUNT; i++)
		ok = (w->e[i] = record_node(error_names[i], cJSON_NULL)) != NULL;
	if (!ok) {
		record_free(w);
		return NULL;
	}
	record_link(w->f[FLD_TIME], w->t, T_COUNT, (1u << T_COUNT) - 1);
	return w;
}

/* Free one node alone: cJSON_Delete would follow its siblings. */
static void
record_node_free(cJSON *n)
{
	if (n == NULL)
		return;
	n->child = n->next = n->prev = NULL;
	n->valuestring = NULL;
	cJSON_Delete(n);
}

/* Free the formatter and its tree. */
void
record_free(struct record *w)
{
	int i;

	if (w == NULL)
		return;
	record_node_free(w->root);
	record_node_free(w->error_obj);
	record_node_free(w->error_null);
	for (i = 0; i < FLD_COUNT; i++)
		if (i != FLD_ERROR)
			record_node_free(w->f[i]);
	for (i = 0; i < T_COUNT; i++)
		record_node_free(w->t[i]);
	for (i = 0; i < E_COUNT; i++)
		record_node_free(w->e[i]);
	buf_free(&w->line);
	buf_free(&w->s_url);
	buf_free(&w->s_eff);
	buf_free(&w->s_ctype);
	buf_free(&w->s_body);
	buf_free(&w->s_msg);
	buf_free(&w->s_kind);
	buf_free(&w->s_file);
	buf_free(&w->s_etag);
	buf_free(&w->s_lm);
	buf_free(&w->s_ip);
	buf_free(&w->s_hash);
	buf_free(&w->s_hdr);
	buf_free(&w->hent);
	buf_free(&w->htab);
	buf_free(&w->repair);
	free(w);
}

/*
 * Append s as a JSON string to dst, repairing invalid UTF-8 first: 0,
 * RECORD_NOMEM, or RECORD_TOOBIG when it could not fit in a line.
 */
static int
record_append_string(struct record *w, struct buf *dst, const char *s, size_t n)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 len;

	if (n > RECORD_LINE_MAX)
		return RECORD_TOOBIG;
	if (!utf8_valid(u, n)) {
		buf_clear(&w->repair);
		if (utf8_repair(&w->repair, u, n) == -1)
			return RECORD_NOMEM;
		u = (const unsigned char *)w->repair.p;
		n = w->repair.len;
	}
	if ((len = json_escaped_len(u, n)) > RECORD_LINE_MAX ||
	    dst->len > RECORD_LINE_MAX - len)
		return RECORD_TOOBIG;
	if (buf_reserve(dst, len) == -1)
		return RECORD_NOMEM;
	dst->len += json_escape(dst->p + dst->len, u, n);
	return 0;
}

/* Escape s as a JSON string into dst, repairing invalid UTF-8 first. */
static int
record_string(struct record *w, struct buf *dst, const char *s, size_t n)
{
	buf_clear(dst);
	return record_append_string(w, dst, s, n);
}

/* Base64 of s as a JSON string into dst. */
static int
record_base64(struct buf *dst, const char *s, size_t n)
{
	buf_clear(dst);
	if (n > RECORD_LINE_MAX / 4 * 3 || base64_len(n) > RECORD_LINE_MAX - 2)
		return RECORD_TOOBIG;
	if (buf_reserve(dst, base64_len(n) + 2) == -1)
		return RECORD_NOMEM;
	dst->p[0] = '"';
	dst->len = 1 + base64_encode(dst->p + 1, (const unsigned char *)s, n);
	dst->p[dst->len++] = '"';
	dst->p[dst->len] = '\0';
	return 0;
}

/* Set n to s as a JSON string through dst, or to null when s is NULL. */
static int
record_opt_string(struct record *w, cJSON *n, struct buf *dst, const char *s)
{
	int rc;

	if (s == NULL) {
		set_null(n);
		return 0;
	}
	if ((rc = record_string(w, dst, s, strlen(s))) != 0)
		return rc;
	set_raw(n, dst->p);
	return 0;
}

/*
 * Set the body and body_encoding nodes for the body in b.  --body json
 * embeds only strict JSON, and as its own text (less the white space
 * between tokens): a number keeps every digit it was written with.
 */
static int
record_body(struct record *w, const struct buf *b)
{
	const char		*enc = "\"utf-8\"";
	enum body_mode		 mode = w->body_mode;
	int			 valid, rc;

	if (mode == BODY_JSON && b->len > 0 && json_valid(b->p, b->len)) {
		buf_clear(&w->s_body);
		if (b->len > RECORD_LINE_MAX)
			return RECORD_TOOBIG;
		if (buf_reserve(&w->s_body, b->len) == -1)
			return RECORD_NOMEM;
		w->s_body.len = json_compact(w->s_body.p, b->p, b->len);
		set_raw(w->f[FLD_BODY], w->s_body.p);
		set_raw(w->f[FLD_BODY_ENCODING], "\"json\"");
		return 0;
	}
	if (mode == BODY_JSON)
		mode = BODY_AUTO;
	valid = mode != BODY_BASE64 &&
	    utf8_valid((const unsigned char *)b->p, b->len);
	if (mode == BODY_BASE64 || (mode == BODY_AUTO && !valid)) {
		if ((rc = record_base64(&w->s_body, b->p, b->len)) != 0)
			return rc;
		enc = "\"base64\"";
	} else if ((rc = record_string(w, &w->s_body, b->p ? b->p : "",
	    b->len)) != 0)
		return rc;
	set_raw(w->f[FLD_BODY], w->s_body.p);
	set_raw(w->f[FLD_BODY_ENCODING], (char *)enc);
	return 0;
}

/* One response header while the -I object is built. */
struct hdr {
	const char	*val;
	size_t		 vlen;
	size_t		 noff, nlen;	/* its escaped name in s_hdr */
	size_t		 next;		/* the next of the same name, or 0 */
	size_t		 last;		/* first of a name: its last one */
	size_t		 count;		/* first of a name: how many */
};

/* The kind the line says: a cut record is always of kind other. */
static enum err_kind
record_kind(const struct record *w, const struct rec *r)
{
	return w->cut != CUT_NONE ? ERR_OTHER : r->res.kind;
}

/*
 * The escaped names of r's n headers into s_hdr, one copy per name, with
 * h[1..n] describing each header and repeats chained from the first of
 * their name through tab, a hash table of mask + 1 entries.
 */
static int
record_header_names(struct record *w, const struct rec *r, struct hdr *h,
    size_t n, uint32_t *tab, size_t mask)
{
	const char	*p = n ? r->res.resp_headers->p : NULL, *name;
	struct hdr	*f;
	size_t		 i, k, nlen;
	int		 rc;

	for (i = 1; i <= n; i++) {
		name = p;
		nlen = strlen(name);
		h[i].val = name + nlen + 1;
		h[i].vlen = strlen(h[i].val);
		p = h[i].val + h[i].vlen + 1;
		h[i].noff = w->s_hdr.len;
		if ((rc = record_append_string(w, &w->s_hdr, name, nlen)) != 0)
			return rc;
		h[i].nlen = w->s_hdr.len - h[i].noff;
		h[i].next = 0;
		h[i].count = 1;
		h[i].last = i;
		for (k = text_hash(w->s_hdr.p + h[i].noff, h[i].nlen, 0) & mask;
		    tab[k] != 0; k = (k + 1) & mask) {
			f = &h[tab[k]];
			if (f->nlen == h[i].nlen && memcmp(w->s_hdr.p + f->noff,
			    w->s_hdr.p + h[i].noff, f->nlen) == 0)
				break;
		}
		if (tab[k] == 0) {
			tab[k] = (uint32_t)i;
			continue;
		}
		f = &h[tab[k]];
		h[f->last].next = i;
		f->last = i;
		f->count++;
		h[i].count = 0;	/* not the first of its name */
		w->s_hdr.len = h[i].noff;	/* one copy is enough */
		h[i].noff = f->noff;
	}
	return 0;
}

/* Append the object of the n headers in h, names from s_hdr, to s_hdr. */
static int
record_header_object(struct record *w, const struct hdr *h, size_t n,
    size_t names)
{
	size_t	i, k;
	int	rc;

	if (buf_append(&w->s_hdr, "{", 1) == -1)
		return RECORD_NOMEM;
	for (i = 1; i <= n; i++) {
		if (h[i].count == 0)
			continue;
		/* Room first: the name is copied from s_hdr itself. */
		if (buf_reserve(&w->s_hdr, h[i].nlen + 3) == -1)
			return RECORD_NOMEM;
		if (w->s_hdr.len > names + 1)
			w->s_hdr.p[w->s_hdr.len++] = ',';
		memcpy(w->s_hdr.p + w->s_hdr.len, w->s_hdr.p + h[i].noff,
		    h[i].nlen);
		w->s_hdr.len += h[i].nlen;
		if (buf_append(&w->s_hdr, h[i].count > 1 ? ":[" : ":",
		    h[i].count > 1 ? 2 : 1) == -1)
			return RECORD_NOMEM;
		for (k = i; k != 0; k = h[k].next) {
			if ((k != i && buf_append(&w->s_hdr, ",", 1) == -1))
				return RECORD_NOMEM;
			if ((rc = record_append_string(w, &w->s_hdr, h[k].val,
			    h[k].vlen)) != 0)
				return rc;
		}
		if (h[i].count > 1 && buf_append(&w->s_hdr, "]", 1) == -1)
			return RECORD_NOMEM;
	}
	return buf_append(&w->s_hdr, "}", 1) == -1 ? RECORD_NOMEM : 0;
}

/*
 * The -I headers as the text of an object in s_hdr: a name seen once has
 * a string, a repeated one an array of its values in order, in the order
 * names first appear.  Repeats are found through a hash table of the
 * escaped names, so the work is linear in the number of headers.
 */
static int
record_headers(struct record *w, const struct rec *r)
{
	struct hdr	*h;
	uint32_t	*tab;
	size_t		 n = r->res.resp_headers ? r->res.nresp_headers : 0;
	size_t		 names, tsize;
	int		 rc;

	buf_clear(&w->s_hdr);
	if (n >= UINT32_MAX || n > SIZE_MAX / 4 / sizeof(*h))
		return RECORD_TOOBIG;
	for (tsize = 16; tsize < 2 * n; tsize *= 2)
		;
	buf_clear(&w->hent);
	buf_clear(&w->htab);
	if (buf_reserve(&w->hent, (n + 1) * sizeof(*h)) == -1 ||
	    buf_reserve(&w->htab, tsize * sizeof(*tab)) == -1)
		return RECORD_NOMEM;
	h = (struct hdr *)(void *)w->hent.p;
	tab = (uint32_t *)(void *)w->htab.p;
	memset(tab, 0, tsize * sizeof(*tab));
	/* Escaped names go first in s_hdr, the object is written after. */
	if ((rc = record_header_names(w, r, h, n, tab, tsize - 1)) != 0)
		return rc;
	names = w->s_hdr.len;
	if ((rc = record_header_object(w, h, n, names)) != 0)
		return rc;
	/* The object moves to the front; the names were only scratch. */
	memmove(w->s_hdr.p, w->s_hdr.p + names, w->s_hdr.len - names);
	w->s_hdr.len -= names;
	w->s_hdr.p[w->s_hdr.len] = '\0';
	return 0;
}

/* How formatting a record can fail, said in the record that replaces it. */
static const char *
record_why(int rc)
{
	return rc == RECORD_TOOBIG ? "record too large to format" :
	    "out of memory formatting the record";
}

/*
 * Set index, url, ok, status, http_version, effective_url, redirects,
 * content_type and size; 0 or a string helper's failure.
 */
static int
record_result(struct record *w, const struct rec *r)
{
	static const char *const versions[] = {
		[CURL_HTTP_VERSION_1_0] = "\"1.0\"",
		[CURL_HTTP_VERSION_1_1] = "\"1.1\"",
		[CURL_HTTP_VERSION_2_0] = "\"2\"",
		[CURL_HTTP_VERSION_3] = "\"3\"",
	};
	int rc;

	if ((rc = record_string(w, &w->s_url, r->req.url.p ? r->req.url.p : "",
	    w->cut == CUT_SMALL && r->req.url.len > CUT_URL_LEN ? CUT_URL_LEN :
	    r->req.url.len)) != 0)
		return rc;
	set_int(w->f[FLD_INDEX], w->num[FLD_INDEX], (int64_t)r->req.index);
	set_raw(w->f[FLD_URL], w->s_url.p);
	set_type(w->f[FLD_OK], record_kind(w, r) == ERR_NONE ? cJSON_True :
	    cJSON_False);
	if (r->res.status > 0)
		set_int(w->f[FLD_STATUS], w->num[FLD_STATUS], r->res.status);
	else
		set_null(w->f[FLD_STATUS]);
	if (r->res.http_version > 0 && r->res.http_version <= CURL_HTTP_VERSION_3 &&
	    versions[r->res.http_version] != NULL)
		set_raw(w->f[FLD_HTTP_VERSION], (char *)versions[r->res.http_version]);
	else
		set_null(w->f[FLD_HTTP_VERSION]);
	if (w->cut == CUT_SMALL)
		set_null(w->f[FLD_EFFECTIVE_URL]);
	else if (r->res.effective_url != NULL && strcmp(r->res.effective_url,
	    r->req.url.p ? r->req.url.p : "") == 0)
		/* The usual case: no redirect, a URL given in full. */
		set_raw(w->f[FLD_EFFECTIVE_URL], w->s_url.p);
	else if ((rc = record_opt_string(w, w->f[FLD_EFFECTIVE_URL],
	    &w->s_eff, r->res.effective_url)) != 0)
		return rc;
	set_int(w->f[FLD_REDIRECTS], w->num[FLD_REDIRECTS], r->res.redirects);
	if ((rc = record_opt_string(w, w->f[FLD_CONTENT_TYPE], &w->s_ctype,
	    w->cut == CUT_SMALL ? NULL : r->res.content_type)) != 0)
		return rc;
	set_int(w->f[FLD_SIZE], w->num[FLD_SIZE], (int64_t)r->res.size);
	return 0;
}

/*
 * --hash: the object of each algorithm asked for and its hex digest, or
 * null when the record has no body to speak for (failed, or not 2xx
 * under -o).
 */
static int
record_hash(struct record *w, const struct rec *r)
{
	const char *const *names = digest_names;
	int i, n = 0;

	buf_clear(&w->s_hash);
	for (i = 0; i < HASH_SLOTS; i++) {
		if (!(w->hashes & (1u << i)))
			continue;
		if (r->res.hash[i][0] == '\0' || record_kind(w, r) != ERR_NONE) {
			set_null(w->f[FLD_HASH]);
			return 0;
		}
		if (buf_append(&w->s_hash, n ? ", \"" : "{\"", n ? 3 : 2) ==
		    -1 ||
		    buf_append(&w->s_hash, names[i], strlen(names[i])) == -1 ||
		    buf_append(&w->s_hash, "\": \"", 4) == -1 ||
		    buf_append(&w->s_hash, r->res.hash[i], strlen(r->res.hash[i])) == -1 ||
		    buf_append(&w->s_hash, "\"", 1) == -1)
			return RECORD_NOMEM;
		n++;
	}
	if (buf_append(&w->s_hash, "}", 2) == -1)
		return RECORD_NOMEM;
	w->s_hash.len--;
	set_raw(w->f[FLD_HASH], w->s_hash.p);
	return 0;
}

/*
 * Set body, id, headers and file, clearing in *mask the bits of those
 * the record leaves out; a cut record leaves out body, headers and file.
 */
static int
record_extras(struct record *w, const struct rec *r, unsigned *mask)
{
	int rc;

	if (r->res.resp_body != NULL && w->body_mode != BODY_NONE &&
	    w->cut == CUT_NONE) {
		if ((rc = record_body(w, r->res.resp_body)) != 0)
			return rc;
	} else
		*mask &= ~((1u << FLD_BODY) | (1u << FLD_BODY_ENCODING));
	if (r->req.has_id && w->cut != CUT_SMALL)
		set_raw(w->f[FLD_ID], r->req.id.p);
	else
		*mask &= ~(1u << FLD_ID);
	if (w->include_headers && w->cut == CUT_NONE) {
		if ((rc = record_headers(w, r)) != 0)
			return rc;
		set_raw(w->f[FLD_HEADERS], w->s_hdr.p);
	} else
		*mask &= ~(1u << FLD_HEADERS);
	if (w->to_files && r->save.no_file && w->cut == CUT_NONE)
		set_null(w->f[FLD_FILE]);
	else if (w->to_files && r->save.file.len > 0 && w->cut == CUT_NONE) {
		if ((rc = record_string(w, &w->s_file, r->save.file.p, r->save.file.len)) !=
		    0)
			return rc;
		set_raw(w->f[FLD_FILE], w->s_file.p);
	} else
		*mask &= ~(1u << FLD_FILE);
	if (w->hashes) {
		if ((rc = record_hash(w, r)) != 0)
			return rc;
	} else
		*mask &= ~(1u << FLD_HASH);
	return 0;
}

/*
 * Set not_modified, etag, last_modified, remote_ip, remote_port and
 * connection_reused: always there, null when unknown.
 */
static int
record_revalidation(struct record *w, const struct rec *r)
{
	int rc;

	set_type(w->f[FLD_NOT_MODIFIED], r->res.not_modified ? cJSON_True :
	    cJSON_False);
	if ((rc = record_opt_string(w, w->f[FLD_ETAG], &w->s_etag,
	    r->res.etag)) != 0 || (rc = record_opt_string(w,
	    w->f[FLD_LAST_MODIFIED], &w->s_lm, r->res.last_modified)) != 0 ||
	    (rc = record_opt_string(w, w->f[FLD_REMOTE_IP], &w->s_ip,
	    r->res.remote_ip)) != 0)
		return rc;
	if (r->res.remote_ip != NULL)
		set_int(w->f[FLD_REMOTE_PORT], w->num[FLD_REMOTE_PORT],
		    r->res.remote_port);
	else
		set_null(w->f[FLD_REMOTE_PORT]);
	set_type(w->f[FLD_CONNECTION_REUSED], r->res.connection_reused ?
	    cJSON_True : cJSON_False);
	return 0;
}

/* Set the time object and attempts. */
static void
record_times(struct record *w, const struct rec *r)
{
	const double	v[T_COUNT] = {
		[T_QUEUE] = r->queue, [T_DNS] = r->res.time.dns,
		[T_CONNECT] = r->res.time.connect, [T_TLS] = r->res.time.tls,
		[T_TTFB] = r->res.time.ttfb, [T_TOTAL] = r->res.time.total
	};
	int		i;

	for (i = 0; i < T_COUNT; i++)
		set_secs(w->t[i], w->num[FLD_COUNT + i], v[i]);
	set_int(w->f[FLD_ATTEMPTS], w->num[FLD_ATTEMPTS], r->attempts);
}

/* Set error: null, or the object of kind, message and curl_code. */
static int
record_error(struct record *w, const struct rec *r)
{
	unsigned	emask = (1u << E_KIND) | (1u << E_MESSAGE);
	const char	*kind = err_kind_name(record_kind(w, r));
	const char	*msg = w->cut != CUT_NONE ? w->why : r->res.msg;
	int		 rc;

	if (record_kind(w, r) == ERR_NONE) {
		w->f[FLD_ERROR] = w->error_null;
		return 0;
	}
	buf_clear(&w->s_kind);
	if (buf_append(&w->s_kind, "\"", 1) == -1 ||
	    buf_append(&w->s_kind, kind, strlen(kind)) == -1 ||
	    buf_append(&w->s_kind, "\"", 1) == -1)
		return RECORD_NOMEM;
	if ((rc = record_string(w, &w->s_msg, msg, strlen(msg))) != 0)
		return rc;
	set_raw(w->e[E_KIND], w->s_kind.p);
	set_raw(w->e[E_MESSAGE], w->s_msg.p);
	if (r->res.curl_code >= 0 && w->cut == CUT_NONE) {
		set_int(w->e[E_CURL_CODE], w->num[FLD_COUNT + T_COUNT +
		    E_CURL_CODE], r->res.curl_code);
		emask |= 1u << E_CURL_CODE;
	}
	record_link(w->error_obj, w->e, E_COUNT, emask);
	w->f[FLD_ERROR] = w->error_obj;
	return 0;
}

/*
 * Write object o's members into p as cJSON_PrintUnformatted would: names
 * are ours (plain ASCII, nothing to escape), values raw text, literals or
 * objects of the same.  Returns the end of what was written.
 */
static char *
record_write_object(char *p, const cJSON *o)
{
	const cJSON	*n;
	size_t		 len;

	*p++ = '{';
	for (n = o->child; n != NULL; n = n->next) {
		if (n != o->child)
			*p++ = ',';
		*p++ = '"';
		memcpy(p, n->string, (size_t)n->valueint);
		p += n->valueint;
		*p++ = '"';
		*p++ = ':';
		switch (n->type & 0xff) {
		case cJSON_Raw:
			len = strlen(n->valuestring);
			memcpy(p, n->valuestring, len);
			p += len;
			break;
		case cJSON_True:
			memcpy(p, "true", 4);
			p += 4;
			break;
		case cJSON_False:
			memcpy(p, "false", 5);
			p += 5;
			break;
		case cJSON_Object:
			p = record_write_object(p, n);
			break;
		default:
			memcpy(p, "null", 4);
			p += 4;
			break;
		}
	}
	*p++ = '}';
	return p;
}

/*
 * Write the tree, fields in mask, as one line with its newline into line,
 * directly (no printer: the values are raw text already).  Every value
 * is raw text of a known length (the url may be written twice, as
 * effective_url too); the names, numbers and punctuation take less than
 * the 1024 added.  Sums stay far below SIZE_MAX: each part was checked
 * against RECORD_LINE_MAX.
 */
static int
record_print(struct record *w, const struct rec *r, unsigned mask,
    struct buf *line)
{
	size_t need;

	record_link(w->root, w->f, FLD_COUNT, mask);
	need = w->s_url.len * 2 + w->s_eff.len + w->s_ctype.len + w->s_msg.len +
	    w->s_file.len + w->s_hdr.len + w->s_kind.len + w->s_etag.len +
	    w->s_lm.len + w->s_ip.len + w->s_hash.len +
	    (mask & (1u << FLD_BODY) ? w->s_body.len : 0) +
	    (mask & (1u << FLD_ID) ? r->req.id.len : 0) + 1024;
	if (need > RECORD_LINE_MAX)
		return RECORD_TOOBIG;
	buf_clear(line);
	if (buf_reserve(line, need) == -1)
		return RECORD_NOMEM;
	line->len = (size_t)(record_write_object(line->p, w->root) - line->p);
	line->p[line->len++] = '\n';
	line->p[line->len] = '\0';
	return 0;
}

/*
 * Format r as one line of JSON, newline included, into line; NULL, or why
 * it could not be; w->cut says what it leaves out.
 */
static const char *
record_line(struct record *w, const struct rec *r, struct buf *line)
{
	unsigned	mask = (1u << FLD_COUNT) - 1;
	int		rc;

	buf_clear(&w->s_eff);
	buf_clear(&w->s_ctype);
	buf_clear(&w->s_body);
	buf_clear(&w->s_file);
	buf_clear(&w->s_hash);
	buf_clear(&w->s_msg);
	buf_clear(&w->s_hdr);
	buf_clear(&w->s_etag);
	buf_clear(&w->s_lm);
	buf_clear(&w->s_ip);
	if ((rc = record_result(w, r)) != 0 ||
	    (rc = record_revalidation(w, r)) != 0 ||
	    (rc = record_extras(w, r, &mask)) != 0)
		return record_why(rc);
	record_times(w, r);
	if ((rc = record_error(w, r)) != 0 ||
	    (rc = record_print(w, r, mask, line)) != 0)
		return record_why(rc);
	return NULL;
}

/* Give back what a record too large to format left in the buffers. */
static void
record_shrink(struct record *w)
{
	struct buf *b[] = { &w->s_body, &w->s_hdr, &w->repair, &w->hent,
	    &w->htab };
	size_t i;

	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		buf_clear(b[i]);
		buf_trim_capacity(b[i], RECORD_KEEP);
	}
}

/*
 * Format r as one line of JSON, newline included, into line.  A record
 * that cannot be (no memory, or more than a line can hold) becomes an
 * error record of kind other saying so, with its url, index and id but no
 * body; then smaller still, its url cut, without id.  -1 only when not
 * even that fits in memory.
 */
int
record_format(struct record *w, const struct rec *r, struct buf *line)
{
	const char	*why;
	int		 rc = -1;

	w->cut = CUT_NONE;
	if ((why = record_line(w, r, line)) == NULL)
		return 0;
	record_shrink(w);
	w->cut = CUT_ERROR;
	w->why = why;
	if (record_line(w, r, line) == NULL)
		rc = 0;
	else {
		record_shrink(w);
		w->cut = CUT_SMALL;
		if (record_line(w, r, line) == NULL)
			rc = 0;
	}
	w->cut = CUT_NONE;
	return rc;
}

/*
 * Format r and hand its line to the reorder ring: -1 with errno set when
 * writing failed, or ENOMEM when not even a short error record fits.
 */
int
record_put(struct record *w, const struct rec *r)
{
	if (record_format(w, r, &w->line) == -1) {
		errno = ENOMEM;
		return -1;
	}
	return reorder_put(w->reorder, r->seq, &w->line);
}
