/*
 * rec: the small operations every module does on a record: clearing it
 * for reuse, and failing it.  rec_fail and its siblings are the only
 * writers of a result's kind, curl_code and msg, so that a failure is
 * always whole: its kind, its libcurl code or none, and its message.
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

/* The record's buffers: what rec_reset keeps and rec_free_bufs frees. */
static const size_t rec_bufs[] = {
	offsetof(struct rec, req.url), offsetof(struct rec, req.method),
	offsetof(struct rec, req.headers), offsetof(struct rec, req.body),
	offsetof(struct rec, req.user), offsetof(struct rec, req.bearer),
	offsetof(struct rec, req.id),
	offsetof(struct rec, res.msg),
	offsetof(struct rec, res.store.effective_url),
	offsetof(struct rec, res.store.content_type),
	offsetof(struct rec, res.store.etag),
	offsetof(struct rec, res.store.last_modified),
	offsetof(struct rec, res.store.remote_ip),
	offsetof(struct rec, res.store.body),
	offsetof(struct rec, res.store.headers),
	offsetof(struct rec, save.file), offsetof(struct rec, save.validator),
};

#define REC_NBUFS	(sizeof(rec_bufs) / sizeof(rec_bufs[0]))
#define REC_BUF(r, i)	((struct buf *)(void *)((char *)(r) + rec_bufs[i]))

/* Clear everything for the next record, keeping the buffers' memory. */
void
rec_reset(struct rec *r)
{
	size_t i;

	r->seq = 0;
	r->attempts = 0;
	r->queue = 0;
	memset(&r->req, 0, offsetof(struct rec_req, url));
	memset(&r->res, 0, offsetof(struct rec_res, hash));
	memset(&r->save, 0, offsetof(struct rec_save, file));
	if (r->res.hash != NULL)
		for (i = 0; i < HASH_SLOTS; i++)
			r->res.hash[i][0] = '\0';
	for (i = 0; i < REC_NBUFS; i++)
		rec_buf_reuse(REC_BUF(r, i));
	r->req.timeout = -1;
	r->res.curl_code = -1;
	r->res.retry_after = -1;
}

/* Free r's buffers; r itself is its owner's to free. */
void
rec_free_bufs(struct rec *r)
{
	size_t i;

	for (i = 0; i < REC_NBUFS; i++)
		buf_free(REC_BUF(r, i));
	free(r->res.hash);
	r->res.hash = NULL;
}

static void	rec_set_failure(struct rec *, enum err_kind, int, const char *,
		    va_list) __attribute__((format(printf, 4, 0)));

/* The one writer of a failure: kind, libcurl's code (or -1), message. */
static void
rec_set_failure(struct rec *r, enum err_kind kind, int curl_code,
    const char *fmt, va_list ap)
{
	struct buf	*m = &r->res.msg;
	int		 n;

	r->res.kind = kind;
	r->res.curl_code = curl_code;
	r->res.msg_nomem = 0;
	buf_clear(m);
	/*
	 * No room for the message: the failure is that memory ran out, said
	 * without the heap, as every other out-of-memory record says it.
	 */
	if (buf_reserve(m, REC_MSG_MAX - 1) == -1) {
		r->res.kind = ERR_OTHER;
		r->res.curl_code = -1;
		r->res.msg_nomem = 1;
		return;
	}
	n = vsnprintf(m->p, REC_MSG_MAX, fmt, ap);
	m->len = n < 0 ? 0 : n >= REC_MSG_MAX ? REC_MSG_MAX - 1 : (size_t)n;
	m->p[m->len] = '\0';
}

/* Mark r failed with kind and a message (no libcurl code). */
void
rec_fail(struct rec *r, enum err_kind kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rec_set_failure(r, kind, -1, fmt, ap);
	va_end(ap);
}

/* Mark r failed with kind, libcurl's code curl_code and a message. */
void
rec_fail_curl(struct rec *r, enum err_kind kind, int curl_code,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rec_set_failure(r, kind, curl_code, fmt, ap);
	va_end(ap);
}

/* r's last attempt did not fail: no kind, no libcurl code, no message. */
void
rec_unfail(struct rec *r)
{
	r->res.kind = ERR_NONE;
	r->res.curl_code = -1;
	r->res.msg_nomem = 0;
	buf_clear(&r->res.msg);
}

/* r's failure message, "" when there is none. */
const char *
rec_msg(const struct rec *r)
{
	if (r->res.msg_nomem)
		return "out of memory";
	return r->res.msg.len > 0 ? r->res.msg.p : "";
}

/*
 * The kind of a file's failure said in msg: io, but other when the
 * reason is that memory ran out, which no disk or directory is to blame.
 */
enum err_kind
rec_io_kind(const char *msg)
{
	return strcmp(msg, "out of memory") == 0 ? ERR_OTHER : ERR_IO;
}
