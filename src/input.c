/*
 * input: turns URL arguments, then lines of a file or of stdin, into
 * records.  Lines are trimmed; blank and # lines are skipped and get no
 * index.  Reading is pulled by the scheduler a record at a time, so an
 * endless producer works and memory stays at one fixed buffer.
 */
#include "gather/input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INPUT_BUF	(2 * INPUT_LINE_MAX + 4096)
#define BAD_URL_MAX	256

struct input {
	struct ev_loop	*evl;
	ev_io		 io;
	input_ready_fn	 ready;
	void		*arg;

	char	       **urls;		/* URL arguments not yet taken */
	size_t		 nurls;
	int		 fd;		/* -1 when there is no stream */
	int		 own_fd;
	int		 regular;	/* a file: read() never waits */
	int		 readable;	/* the watcher said so */
	int		 eof;
	int		 skipping;	/* inside an over-long line */
	int		 err;		/* errno of a failed read */
	char		 errmsg[256];

	uint64_t	 next_index;
	size_t		 start, end;	/* unread bytes are buf[start..end) */
	char		 buf[INPUT_BUF];
};

static void
input_io_cb(struct ev_loop *evl, ev_io *w, int revents)
{
	struct input *in = w->data;

	(void)revents;
	ev_io_stop(evl, w);
	in->readable = 1;
	in->ready(in->arg);
}

/* Open the stream part of the input; NULL and a reason when it fails. */
struct input *
input_new(struct ev_loop *evl, const struct opts *o, input_ready_fn ready,
    void *arg, char *err, size_t errlen)
{
	struct input	*in;
	struct stat	 st;

	if ((in = calloc(1, sizeof(*in))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	in->evl = evl;
	in->ready = ready;
	in->arg = arg;
	in->urls = o->urls;
	in->nurls = o->nurls;
	in->fd = -1;

	if (o->input != NULL && strcmp(o->input, "-") != 0) {
		if ((in->fd = open(o->input, O_RDONLY | O_CLOEXEC)) == -1) {
			snprintf(err, errlen, "cannot open '%s': %s", o->input,
			    strerror(errno));
			free(in);
			return NULL;
		}
		in->own_fd = 1;
	} else if (o->input != NULL || o->nurls == 0)
		in->fd = STDIN_FILENO;

	if (in->fd != -1) {
		if (fstat(in->fd, &st) == -1 || S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "cannot read '%s': %s",
			    o->input ? o->input : "-",
			    S_ISDIR(st.st_mode) ? "is a directory" :
			    strerror(errno));
			if (in->own_fd)
				close(in->fd);
			free(in);
			return NULL;
		}
		in->regular = S_ISREG(st.st_mode);
		ev_io_init(&in->io, input_io_cb, in->fd, EV_READ);
		in->io.data = in;
	} else
		in->eof = 1;
	return in;
}

/* Trim blanks and CR at both ends of [*p, *p + *n). */
static void
input_trim(const char **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t' || **p == '\r')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' ||
	    (*p)[*n - 1] == '\r'))
		(*n)--;
}

/* Turn one raw line into a record; IN_AGAIN means "skipped, go on". */
static enum input_status
input_line(struct input *in, const char *p, size_t n, struct rec *r)
{
	input_trim(&p, &n);
	if (n == 0 || *p == '#')
		return IN_AGAIN;
	r->index = in->next_index++;
	if (buf_set(&r->url, p, n) == -1) {
		rec_fail(r, ERR_OTHER, "out of memory");
		return IN_BAD;
	}
	if (*p == '{') {
		rec_fail(r, ERR_BAD_INPUT, "request objects are not supported "
		    "by this version");
		return IN_BAD;
	}
	return IN_RECORD;
}

/* A line longer than INPUT_LINE_MAX: a bad record named by its head. */
static enum input_status
input_too_long(struct input *in, struct rec *r)
{
	r->index = in->next_index++;
	if (buf_set(&r->url, in->buf + in->start, BAD_URL_MAX) == -1)
		rec_fail(r, ERR_OTHER, "out of memory");
	else
		rec_fail(r, ERR_BAD_INPUT, "line longer than %d bytes",
		    INPUT_LINE_MAX);
	in->skipping = 1;
	return IN_BAD;
}

/* Read once from the stream; returns 0, or -1 when it must wait. */
static int
input_fill(struct input *in)
{
	ssize_t n;

	if (!in->regular && !in->readable) {
		if (!ev_is_active(&in->io))
			ev_io_start(in->evl, &in->io);
		return -1;
	}
	if (in->start > 0) {
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
	}
	do
		n = read(in->fd, in->buf + in->end, sizeof(in->buf) - in->end);
	while (n == -1 && errno == EINTR);
	in->readable = 0;
	if (n == 0)
		in->eof = 1;
	else if (n > 0)
		in->end += (size_t)n;
	else if (errno == EAGAIN || errno == EWOULDBLOCK)
		return input_fill(in);
	else {
		in->err = errno;
		snprintf(in->errmsg, sizeof(in->errmsg), "cannot read input: %s",
		    strerror(errno));
	}
	return 0;
}

/* The next record, or why there is none now. */
enum input_status
input_next(struct input *in, struct rec *r)
{
	enum input_status	 st;
	char			*nl;
	size_t			 len;

	while (in->nurls > 0) {
		const char *u = *in->urls++;
		in->nurls--;
		if ((st = input_line(in, u, strlen(u), r)) != IN_AGAIN)
			return st;
	}
	for (;;) {
		if (in->err)
			return IN_ERROR;
		len = in->end - in->start;
		nl = memchr(in->buf + in->start, '\n', len);
		if (in->skipping) {
			in->start = nl ? (size_t)(nl - in->buf) + 1 : in->end;
			if (nl)
				in->skipping = 0;
			else if (in->eof)
				return IN_EOF;
			else if (input_fill(in) == -1)
				return IN_AGAIN;
			continue;
		}
		if (nl != NULL || (in->eof && len > 0)) {
			size_t n = nl ? (size_t)(nl - (in->buf + in->start)) : len;
			if (n > INPUT_LINE_MAX) {
				st = input_too_long(in, r);
				if (nl) {
					in->start += n + 1;
					in->skipping = 0;
				} else
					in->start = in->end;
				return st;
			}
			st = input_line(in, in->buf + in->start, n, r);
			in->start += nl ? n + 1 : n;
			if (st != IN_AGAIN)
				return st;
			continue;
		}
		if (len > INPUT_LINE_MAX)
			return input_too_long(in, r);
		if (in->eof)
			return IN_EOF;
		if (input_fill(in) == -1)
			return IN_AGAIN;
	}
}

const char *
input_error(const struct input *in)
{
	return in->errmsg;
}

/* Stop reading for good: no record after this one is taken. */
void
input_stop(struct input *in)
{
	ev_io_stop(in->evl, &in->io);
	in->nurls = 0;
	in->eof = 1;
	in->start = in->end = 0;
}

void
input_free(struct input *in)
{
	if (in == NULL)
		return;
	ev_io_stop(in->evl, &in->io);
	if (in->own_fd)
		close(in->fd);
	free(in);
}
