/*
 * rec: the small operations every module does on a record: clearing it
 * for reuse and marking it failed.
 */
#include "gather/rec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Buffers larger than this are given back when the record is reused. */
#define REC_KEEP	4096

static void
rec_buf_reuse(struct buf *b)
{
	buf_clear(b);
	buf_trim_capacity(b, REC_KEEP);
}

/* Clear everything for the next record, keeping the buffers' memory. */
void
rec_reset(struct rec *r)
{
	struct buf url = r->url, method = r->method, headers = r->headers;
	struct buf body = r->body, file = r->file, host = r->host, id = r->id;
	struct buf user = r->user, bearer = r->bearer;
	struct buf validator = r->validator;

	memset(r, 0, sizeof(*r));
	r->id = id;
	rec_buf_reuse(&r->id);
	r->url = url;
	r->method = method;
	r->headers = headers;
	r->body = body;
	r->file = file;
	r->host = host;
	r->user = user;
	r->bearer = bearer;
	r->validator = validator;
	rec_buf_reuse(&r->validator);
	rec_buf_reuse(&r->host);
	rec_buf_reuse(&r->user);
	rec_buf_reuse(&r->bearer);
	rec_buf_reuse(&r->url);
	rec_buf_reuse(&r->method);
	rec_buf_reuse(&r->headers);
	rec_buf_reuse(&r->body);
	rec_buf_reuse(&r->file);
	r->curl_code = -1;
	r->timeout = -1;
	r->retry_after = -1;
}

void
rec_free(struct rec *r)
{
	buf_free(&r->id);
	buf_free(&r->url);
	buf_free(&r->method);
	buf_free(&r->headers);
	buf_free(&r->body);
	buf_free(&r->file);
	buf_free(&r->host);
	buf_free(&r->user);
	buf_free(&r->bearer);
	buf_free(&r->validator);
	free(r);
}

/* Mark r failed with kind and a message (no libcurl code). */
void
rec_fail(struct rec *r, enum err_kind kind, const char *fmt, ...)
{
	va_list ap;

	r->kind = kind;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
}
