/*
 * record: a finished record becomes one line of JSON, handed on to the
 * reorder ring.  The record's cJSON tree is made once and reused:
 * per record its nodes get new values (field.c) and are linked in the
 * order of the fields present, and the tree is printed into the caller's
 * buffer without allocating.  Outside strings are escaped by text's
 * json_escape (which, unlike a C-string API, keeps NUL bytes) and hung in
 * the tree as raw JSON.  A record that cannot be made into a line is
 * written as a smaller one that says why.
 */
#include "gather/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gather/reorder.h"

#include "record_int.h"

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

static const char *const time_names[T_COUNT] = {
	"queue", "dns", "connect", "tls", "ttfb", "total"
};

static const char *const error_names[E_COUNT] = {
	"kind", "message", "curl_code"
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
void
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

/* How formatting a record can fail, said in the record that replaces it. */
static const char *
record_why(int rc)
{
	return rc == RECORD_TOOBIG ? "record too large to format" :
	    "out of memory formatting the record";
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
	if ((rc = field_result(w, r)) != 0 ||
	    (rc = field_revalidation(w, r)) != 0 ||
	    (rc = field_extras(w, r, &mask)) != 0)
		return record_why(rc);
	field_times(w, r);
	if ((rc = field_error(w, r)) != 0 ||
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
	w->replaced = NULL;
	if ((why = record_line(w, r, line)) == NULL)
		return 0;
	record_shrink(w);
	w->cut = CUT_ERROR;
	w->why = w->replaced = why;
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
 * Why the record record_format made last is an error record in place of
 * the one it was given (so that the run counts it failed), or NULL.
 */
const char *
record_replaced(const struct record *w)
{
	return w->replaced;
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
