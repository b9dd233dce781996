/*
 * writer: formatted lines to the output descriptor, framed for --format
 * (one per line, or the elements of one array).  Lines are gathered into
 * large writes, a line is never split by a write of ours, and a reader
 * that left shows up as -1 with errno EPIPE: SIGPIPE is ignored.
 *
 * --format tap: the scheduler hands on, in place of a JSON line, a case
 * made by writer_tap_case: a flag byte ('+' ok, '-' not ok), then the
 * rest of the test line and, for a failure, its YAML block.  The number
 * is added here, as the case is written, so that it follows the output
 * order with -u too; "TAP version 13" comes before the first case and
 * the plan 1..N after the last, from writer_finish, however the run
 * ended.  Version 13 because Debian 12's Test::Harness refuses 14.
 */
#include "gather/writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gather/buf.h"
#include "gather/rec.h"
#include "gather/text.h"

/* Write what is pending once this much is buffered. */
#define WRITER_CHUNK	(64 * 1024)

struct writer {
	int		 fd;
	int		 tty;		/* write every line at once */
	enum format	 format;
	uint64_t	 written;	/* records written so far */
	int		 started;	/* tap: the version line is queued */
	struct buf	 pending;	/* bytes not yet written */
	struct buf	 tapcase;	/* writer_emit_outcome's scratch */
};

/* The first line of a TAP stream. */
#define TAP_VERSION	"TAP version 13\n"


/* A writer of format to fd. */
struct writer *
writer_new(enum format format, int fd)
{
	struct writer *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->fd = fd;
	w->tty = isatty(fd);
	w->format = format;
	return w;
}

/* Free the writer and what it did not write. */
void
writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	buf_free(&w->pending);
	buf_free(&w->tapcase);
	free(w);
}

/* Write all n bytes of p on fd; -1 with errno set when the reader is gone. */
int
writer_write(int fd, const char *p, size_t n)
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

/* Queue n bytes at p, writing what waits when memory runs out. */
static int
writer_queue(struct writer *w, const char *p, size_t n)
{
	if (buf_append(&w->pending, p, n) == 0)
		return 0;
	if (writer_flush(w) == -1)
		return -1;
	return writer_write(w->fd, p, n);
}

/* tap: the version line once, before anything else. */
static int
writer_tap_start(struct writer *w)
{
	if (w->started)
		return 0;
	w->started = 1;
	return writer_queue(w, TAP_VERSION, sizeof(TAP_VERSION) - 1);
}

/* tap: the case at p (flag byte first) as test number written + 1. */
static int
writer_tap_emit(struct writer *w, const char *p, size_t n)
{
	char	head[40];
	int	len;

	if (n == 0 || writer_tap_start(w) == -1)
		return -1;
	len = snprintf(head, sizeof(head), "%sok %llu", p[0] == '+' ? "" :
	    "not ", (unsigned long long)++w->written);
	if (writer_queue(w, head, (size_t)len) == -1 ||
	    writer_queue(w, p + 1, n - 1) == -1)
		return -1;
	if (w->pending.len >= WRITER_CHUNK || w->tty)
		return writer_flush(w);
	return 0;
}

/* Queue one formatted record for the output, framed for --format. */
int
writer_emit(struct writer *w, const char *p, size_t n)
{
	const char *sep = w->written ? "," : "[";

	if (w->format == FORMAT_TAP)
		return writer_tap_emit(w, p, n);
	if (w->format == FORMAT_JSON && buf_append(&w->pending, sep, 1) ==
	    -1 && (writer_flush(w) == -1 || writer_write(w->fd, sep, 1) == -1))
		return -1;
	w->written++;
	if (w->pending.len == 0 && (n >= WRITER_CHUNK || w->tty))
		return writer_write(w->fd, p, n);
	if (buf_append(&w->pending, p, n) == -1) {
		/* No memory to queue it: write what waits, then the line. */
		if (writer_flush(w) == -1)
			return -1;
		return writer_write(w->fd, p, n);
	}
	if (w->pending.len >= WRITER_CHUNK || w->tty)
		return writer_flush(w);
	return 0;
}

/*
 * Queue more bytes of the record writer_emit began, without framing: a
 * line too long to hold, handed over in parts (--merge).
 */
int
writer_emit_more(struct writer *w, const char *p, size_t n)
{
	if (buf_append(&w->pending, p, n) == -1) {
		if (writer_flush(w) == -1)
			return -1;
		return writer_write(w->fd, p, n);
	}
	if (w->pending.len >= WRITER_CHUNK)
		return writer_flush(w);
	return 0;
}

/* How many bytes wait to be written. */
size_t
writer_pending(const struct writer *w)
{
	return w->pending.len;
}

/* Write what is pending: called before the loop waits, and at the end. */
int
writer_flush(struct writer *w)
{
	int rc;

	if (w->pending.len == 0)
		return 0;
	rc = writer_write(w->fd, w->pending.p, w->pending.len);
	buf_clear(&w->pending);
	buf_trim_capacity(&w->pending, 4 * WRITER_CHUNK);
	return rc;
}

/*
 * End the output, whatever happened: close the array of --format json,
 * or write the plan of --format tap.
 */
int
writer_finish(struct writer *w)
{
	char plan[32];

	if (w->format == FORMAT_TAP) {
		snprintf(plan, sizeof(plan), "1..%llu\n",
		    (unsigned long long)w->written);
		if (writer_tap_start(w) == -1 ||
		    writer_queue(w, plan, strlen(plan)) == -1)
			return -1;
	}
	if (w->format == FORMAT_JSON &&
	    writer_queue(w, w->written ? "]\n" : "[]\n", w->written ? 2 : 3) ==
	    -1)
		return -1;
	return writer_flush(w);
}

/* The outcome of r, a finished record, for a test report. */
void
writer_outcome(const struct rec *r, struct outcome *oc)
{
	oc->index = r->req.index;
	oc->url = r->req.url.p ? r->req.url.p : "";
	oc->url_len = r->req.url.len;
	oc->ok = r->res.kind == ERR_NONE;
	oc->kind = oc->ok ? NULL : err_kind_name(r->res.kind);
	oc->msg = oc->ok ? NULL : rec_msg(r);
	oc->status = r->res.status;
	oc->attempts = r->attempts;
	oc->time = r->res.time.total;
}

/*
 * Append the n bytes at s, made valid UTF-8, to b on one line: \ and the
 * one byte quote escaped with a backslash, control bytes as \xHH.  TAP
 * descriptions quote '#'; YAML's double-quoted scalars quote '"', and
 * TAP's YAMLish reader reads them back.
 */
static int
writer_escaped(struct buf *b, struct buf *tmp, const char *s, size_t n,
    unsigned char quote)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			 esc[8];
	size_t			 i, run;

	if (!utf8_valid(u, n)) {
		buf_clear(tmp);
		if (utf8_repair(tmp, u, n) == -1)
			return -1;
		u = (const unsigned char *)tmp->p;
		n = tmp->len;
	}
	for (i = 0; i < n; i = run + 1) {
		for (run = i; run < n && u[run] >= 0x20 && u[run] != 0x7f &&
		    u[run] != quote && u[run] != '\\'; run++)
			;
		if (buf_append(b, u + i, run - i) == -1)
			return -1;
		if (run == n)
			break;
		if (u[run] == quote || u[run] == '\\')
			snprintf(esc, sizeof(esc), "\\%c", u[run]);
		else
			snprintf(esc, sizeof(esc), "\\x%02x", u[run]);
		if (buf_append(b, esc, strlen(esc)) == -1)
			return -1;
	}
	return 0;
}

/* s for a TAP description: # and \ escaped as TAP says. */
static int
writer_tap_text(struct buf *b, struct buf *tmp, const char *s, size_t n)
{
	return writer_escaped(b, tmp, s, n, '#');
}

/* s as a YAML double-quoted scalar. */
static int
writer_yaml_string(struct buf *b, struct buf *tmp, const char *s, size_t n)
{
	if (buf_append(b, "\"", 1) == -1 ||
	    writer_escaped(b, tmp, s, n, '"') == -1)
		return -1;
	return buf_append(b, "\"", 1);
}

/* The YAML block of a failed case: index, url, kind, status, message, attempts. */
static int
writer_tap_yaml(struct buf *b, struct buf *tmp, const struct outcome *oc)
{
	char	num[64];
	int	len;

	len = snprintf(num, sizeof(num), "\n  ---\n  index: %llu\n  url: ",
	    (unsigned long long)oc->index);
	if (buf_append(b, num, (size_t)len) == -1 ||
	    writer_yaml_string(b, tmp, oc->url, oc->url_len) == -1 ||
	    buf_append(b, "\n  kind: ", 9) == -1 ||
	    writer_yaml_string(b, tmp, oc->kind, strlen(oc->kind)) == -1)
		return -1;
	if (oc->status > 0)
		len = snprintf(num, sizeof(num), "\n  status: %ld", oc->status);
	else
		len = snprintf(num, sizeof(num), "\n  status: ~");
	if (buf_append(b, num, (size_t)len) == -1 ||
	    buf_append(b, "\n  message: ", 12) == -1 ||
	    writer_yaml_string(b, tmp, oc->msg, strlen(oc->msg)) == -1)
		return -1;
	len = snprintf(num, sizeof(num), "\n  attempts: %ld\n  ...",
	    oc->attempts);
	return buf_append(b, num, (size_t)len);
}

/*
 * The TAP case of oc into b (cleared first), to be handed to writer_emit
 * of a --format tap writer: a flag byte, " - URL", and after a failure
 * its YAML block; the writer puts "ok N" or "not ok N" in front.
 */
int
writer_tap_case(struct buf *b, const struct outcome *oc)
{
	struct buf	tmp = { NULL, 0, 0 };
	int		rc;

	buf_clear(b);
	rc = buf_append(b, oc->ok ? "+ - " : "- - ", 4) == -1 ||
	    writer_tap_text(b, &tmp, oc->url, oc->url_len) == -1 ||
	    (!oc->ok && writer_tap_yaml(b, &tmp, oc) == -1) ||
	    buf_append(b, "\n", 1) == -1 ? -1 : 0;
	buf_free(&tmp);
	return rc;
}

/* Write oc as the next case of a --format tap writer. */
int
writer_emit_outcome(struct writer *w, const struct outcome *oc)
{
	if (writer_tap_case(&w->tapcase, oc) == -1) {
		errno = ENOMEM;
		return -1;
	}
	return writer_emit(w, w->tapcase.p, w->tapcase.len);
}
