/*
 * field: what each field of a record's line says, set into the nodes of
 * the formatter's tree (record.c) from the record: the strings escaped
 * and made valid UTF-8, the numbers formatted, the body embedded or
 * encoded, -I's headers grouped by name.  Apart from record.c so that the
 * formatter's state and its fallbacks read on their own.
 */
#include <stdint.h>
#include <string.h>

#include <curl/curl.h>

#include "gather/digest.h"
#include "gather/json.h"
#include "gather/text.h"

#include "record_int.h"

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

/*
 * Append s as a JSON string to dst, repairing invalid UTF-8 first: 0,
 * RECORD_NOMEM, or RECORD_TOOBIG when it could not fit in a line.
 */
static int
field_append_string(struct record *w, struct buf *dst, const char *s, size_t n)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 len;
	int			 plain;

	if (n > RECORD_LINE_MAX)
		return RECORD_TOOBIG;
	/* Most strings (URLs, most header values) need no escape: one pass. */
	if ((plain = json_plain_prefix(u, n) == n))
		len = n + 2;
	else {
		if (!utf8_valid(u, n)) {
			buf_clear(&w->repair);
			if (utf8_repair(&w->repair, u, n) == -1)
				return RECORD_NOMEM;
			u = (const unsigned char *)w->repair.p;
			n = w->repair.len;
		}
		len = json_escaped_len(u, n);
	}
	if (len > RECORD_LINE_MAX || dst->len > RECORD_LINE_MAX - len)
		return RECORD_TOOBIG;
	if (buf_reserve(dst, len) == -1)
		return RECORD_NOMEM;
	if (!plain) {
		dst->len += json_escape(dst->p + dst->len, u, n);
		return 0;
	}
	dst->p[dst->len] = '"';
	memcpy(dst->p + dst->len + 1, u, n);
	dst->len += len;
	dst->p[dst->len - 1] = '"';
	dst->p[dst->len] = '\0';
	return 0;
}

/* Escape s as a JSON string into dst, repairing invalid UTF-8 first. */
static int
field_string(struct record *w, struct buf *dst, const char *s, size_t n)
{
	buf_clear(dst);
	return field_append_string(w, dst, s, n);
}

/* Base64 of s as a JSON string into dst. */
static int
field_base64(struct buf *dst, const char *s, size_t n)
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
field_opt_string(struct record *w, cJSON *n, struct buf *dst, const char *s)
{
	int rc;

	if (s == NULL) {
		set_null(n);
		return 0;
	}
	if ((rc = field_string(w, dst, s, strlen(s))) != 0)
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
field_body(struct record *w, const struct buf *b)
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
		if ((rc = field_base64(&w->s_body, b->p, b->len)) != 0)
			return rc;
		enc = "\"base64\"";
	} else if ((rc = field_string(w, &w->s_body, b->p ? b->p : "",
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
field_kind(const struct record *w, const struct rec *r)
{
	return w->cut != CUT_NONE ? ERR_OTHER : r->res.kind;
}

/*
 * The escaped names of r's n headers into s_hdr, one copy per name, with
 * h[1..n] describing each header and repeats chained from the first of
 * their name through tab, a hash table of mask + 1 entries.
 */
static int
field_header_names(struct record *w, const struct rec *r, struct hdr *h,
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
		if ((rc = field_append_string(w, &w->s_hdr, name, nlen)) != 0)
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
field_header_object(struct record *w, const struct hdr *h, size_t n,
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
			if ((rc = field_append_string(w, &w->s_hdr, h[k].val,
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
field_headers(struct record *w, const struct rec *r)
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
	if ((rc = field_header_names(w, r, h, n, tab, tsize - 1)) != 0)
		return rc;
	names = w->s_hdr.len;
	if ((rc = field_header_object(w, h, n, names)) != 0)
		return rc;
	/* The object moves to the front; the names were only scratch. */
	memmove(w->s_hdr.p, w->s_hdr.p + names, w->s_hdr.len - names);
	w->s_hdr.len -= names;
	w->s_hdr.p[w->s_hdr.len] = '\0';
	return 0;
}

/*
 * Set index, url, ok, status, http_version, effective_url, redirects,
 * content_type and size; 0 or a string helper's failure.
 */
int
field_result(struct record *w, const struct rec *r)
{
	static const char *const versions[] = {
		[CURL_HTTP_VERSION_1_0] = "\"1.0\"",
		[CURL_HTTP_VERSION_1_1] = "\"1.1\"",
		[CURL_HTTP_VERSION_2_0] = "\"2\"",
		[CURL_HTTP_VERSION_3] = "\"3\"",
	};
	int rc;

	if ((rc = field_string(w, &w->s_url, r->req.url.p ? r->req.url.p : "",
	    w->cut == CUT_SMALL && r->req.url.len > CUT_URL_LEN ? CUT_URL_LEN :
	    r->req.url.len)) != 0)
		return rc;
	set_int(w->f[FLD_INDEX], w->num[FLD_INDEX], (int64_t)r->req.index);
	set_raw(w->f[FLD_URL], w->s_url.p);
	set_type(w->f[FLD_OK], field_kind(w, r) == ERR_NONE ? cJSON_True :
	    cJSON_False);
	if (r->res.status > 0)
		set_int(w->f[FLD_STATUS], w->num[FLD_STATUS], r->res.status);
	else
		set_null(w->f[FLD_STATUS]);
	if (r->res.http_version > 0 &&
	    r->res.http_version <= CURL_HTTP_VERSION_3 &&
	    versions[r->res.http_version] != NULL)
		set_raw(w->f[FLD_HTTP_VERSION],
		    (char *)versions[r->res.http_version]);
	else
		set_null(w->f[FLD_HTTP_VERSION]);
	if (w->cut == CUT_SMALL)
		set_null(w->f[FLD_EFFECTIVE_URL]);
	else if (r->res.effective_url != NULL && strcmp(r->res.effective_url,
	    r->req.url.p ? r->req.url.p : "") == 0)
		/* The usual case: no redirect, a URL given in full. */
		set_raw(w->f[FLD_EFFECTIVE_URL], w->s_url.p);
	else if ((rc = field_opt_string(w, w->f[FLD_EFFECTIVE_URL],
	    &w->s_eff, r->res.effective_url)) != 0)
		return rc;
	set_int(w->f[FLD_REDIRECTS], w->num[FLD_REDIRECTS], r->res.redirects);
	if ((rc = field_opt_string(w, w->f[FLD_CONTENT_TYPE], &w->s_ctype,
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
field_hash(struct record *w, const struct rec *r)
{
	const char *const *names = digest_names;
	int i, n = 0;

	buf_clear(&w->s_hash);
	for (i = 0; i < HASH_SLOTS; i++) {
		if (!(w->hashes & (1u << i)))
			continue;
		if (r->res.hash == NULL || r->res.hash[i][0] == '\0' ||
		    field_kind(w, r) != ERR_NONE) {
			set_null(w->f[FLD_HASH]);
			return 0;
		}
		if (buf_append(&w->s_hash, n ? ", \"" : "{\"", n ? 3 : 2) ==
		    -1 ||
		    buf_append(&w->s_hash, names[i], strlen(names[i])) == -1 ||
		    buf_append(&w->s_hash, "\": \"", 4) == -1 ||
		    buf_append(&w->s_hash, r->res.hash[i],
		    strlen(r->res.hash[i])) == -1 ||
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
int
field_extras(struct record *w, const struct rec *r, unsigned *mask)
{
	int rc;

	if (r->res.resp_body != NULL && w->body_mode != BODY_NONE &&
	    w->cut == CUT_NONE) {
		if ((rc = field_body(w, r->res.resp_body)) != 0)
			return rc;
	} else
		*mask &= ~((1u << FLD_BODY) | (1u << FLD_BODY_ENCODING));
	if (r->req.has_id && w->cut != CUT_SMALL)
		set_raw(w->f[FLD_ID], r->req.id.p);
	else
		*mask &= ~(1u << FLD_ID);
	if (w->include_headers && w->cut == CUT_NONE) {
		if ((rc = field_headers(w, r)) != 0)
			return rc;
		set_raw(w->f[FLD_HEADERS], w->s_hdr.p);
	} else
		*mask &= ~(1u << FLD_HEADERS);
	if (w->to_files && r->save.no_file && w->cut == CUT_NONE)
		set_null(w->f[FLD_FILE]);
	else if (w->to_files && r->save.file.len > 0 && w->cut == CUT_NONE) {
		if ((rc = field_string(w, &w->s_file, r->save.file.p,
		    r->save.file.len)) != 0)
			return rc;
		set_raw(w->f[FLD_FILE], w->s_file.p);
	} else
		*mask &= ~(1u << FLD_FILE);
	if (w->hashes) {
		if ((rc = field_hash(w, r)) != 0)
			return rc;
	} else
		*mask &= ~(1u << FLD_HASH);
	return 0;
}

/*
 * Set not_modified, etag, last_modified, remote_ip, remote_port and
 * connection_reused: always there, null when unknown.
 */
int
field_revalidation(struct record *w, const struct rec *r)
{
	int rc;

	set_type(w->f[FLD_NOT_MODIFIED], r->res.not_modified ? cJSON_True :
	    cJSON_False);
	if ((rc = field_opt_string(w, w->f[FLD_ETAG], &w->s_etag,
	    r->res.etag)) != 0 || (rc = field_opt_string(w,
	    w->f[FLD_LAST_MODIFIED], &w->s_lm, r->res.last_modified)) != 0 ||
	    (rc = field_opt_string(w, w->f[FLD_REMOTE_IP], &w->s_ip,
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
void
field_times(struct record *w, const struct rec *r)
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
int
field_error(struct record *w, const struct rec *r)
{
	unsigned	emask = (1u << E_KIND) | (1u << E_MESSAGE);
	const char	*kind = err_kind_name(field_kind(w, r));
	const char	*msg;
	int		 rc;

	if (field_kind(w, r) == ERR_NONE) {
		w->f[FLD_ERROR] = w->error_null;
		return 0;
	}
	msg = w->cut != CUT_NONE ? w->why : rec_msg(r);
	buf_clear(&w->s_kind);
	if (buf_append(&w->s_kind, "\"", 1) == -1 ||
	    buf_append(&w->s_kind, kind, strlen(kind)) == -1 ||
	    buf_append(&w->s_kind, "\"", 1) == -1)
		return RECORD_NOMEM;
	if ((rc = field_string(w, &w->s_msg, msg, strlen(msg))) != 0)
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

