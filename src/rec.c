/*
 * rec: the small operations every module does on a record: clearing it
 * for reuse and marking it failed.
 */
#include "gather/rec.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Buffers larger than this are given back when the record is reused. */
#define REC_KEEP	4096

/* Empty b for reuse, giving back what a long value made it grow to. */
static void
rec_buf_reuse(struct buf *b)
{
	if (b->len > 0)
		buf_clear(b);
	if (b->cap > REC_KEEP)
		buf_trim_capacity(b, REC_KEEP);
}

/* The record's buffers: what rec_reset keeps and rec_free frees. */
static const size_t rec_bufs[] = {
	offsetof(struct rec, id), offsetof(struct rec, url),
	offsetof(struct rec, method), offsetof(struct rec, headers),
	offsetof(struct rec, body), offsetof(struct rec, file),
	offsetof(struct rec, host), offsetof(struct rec, user),
	offsetof(struct rec, bearer), offsetof(struct rec, validator),
	offsetof(struct rec, store.effective_url),
	offsetof(struct rec, store.content_type),
	offsetof(struct rec, store.etag),
	offsetof(struct rec, store.last_modified),
	offsetof(struct rec, store.remote_ip),
	offsetof(struct rec, store.body), offsetof(struct rec, store.headers),
};

#define REC_NBUFS	(sizeof(rec_bufs) / sizeof(rec_bufs[0]))
#define REC_BUF(r, i)	((struct buf *)(void *)((char *)(r) + rec_bufs[i]))

/* Clear everything for the next record, keeping the buffers' memory. */
void
rec_reset(struct rec *r)
{
	size_t i;

	memset(r, 0, offsetof(struct rec, url));
	for (i = 0; i < REC_NBUFS; i++)
		rec_buf_reuse(REC_BUF(r, i));
	r->res.curl_code = -1;
	r->req.timeout = -1;
	r->res.retry_after = -1;
}

/* Free r and its buffers. */
void
rec_free(struct rec *r)
{
	size_t i;

	for (i = 0; i < REC_NBUFS; i++)
		buf_free(REC_BUF(r, i));
	free(r);
}

/* Mark r failed with kind and a message (no libcurl code). */
void
rec_fail(struct rec *r, enum err_kind kind, const char *fmt, ...)
{
	va_list ap;

	r->res.kind = kind;
	va_start(ap, fmt);
	vsnprintf(r->res.msg, sizeof(r->res.msg), fmt, ap);
	va_end(ap);
}
