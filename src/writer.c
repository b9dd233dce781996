/*
 * writer: formatted lines to the output descriptor, framed for --format
 * (one per line, or the elements of one array).  Lines are gathered into
 * large writes, a line is never split by a write of ours, and a reader
 * that left shows up as -1 with errno EPIPE: SIGPIPE is ignored.
 */
#include "gather/writer.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "gather/buf.h"

/* Write what is pending once this much is buffered. */
#define WRITER_CHUNK	(64 * 1024)

struct writer {
	int		 fd;
	int		 tty;		/* write every line at once */
	enum format	 format;
	uint64_t	 written;	/* records written so far */
	struct buf	 pending;	/* bytes not yet written */
};

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
	free(w);
}

/* Write all of p; -1 with errno set when the reader is gone or worse. */
static int
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

/* Queue one formatted record for the output, framed for --format. */
int
writer_emit(struct writer *w, const char *p, size_t n)
{
	const char *sep = w->written ? "," : "[";

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

/* End the output: close the array of --format json, whatever happened. */
int
writer_finish(struct writer *w)
{
	if (w->format == FORMAT_JSON &&
	    buf_append(&w->pending, w->written ? "]\n" : "[]\n", w->written ?
	    2 : 3) == -1)
		return -1;
	return writer_flush(w);
}
