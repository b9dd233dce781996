/*
 * input: turns URL arguments, then lines of each -i file in turn, or of
 * stdin, into records with one index sequence.  A URL argument "-" reads
 * stdin at its place.  Lines are trimmed; blank and # lines are skipped
 * and get no index.  Reading is pulled by the scheduler a record at a
 * time, so an endless producer works and memory stays at one fixed
 * buffer; only the progress line's total reads regular files up front.
 */
#include "gather/input.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gather/json.h"
#include "gather/reqobj.h"
#include "gather/text.h"

#define INPUT_BUF	(2 * INPUT_LINE_MAX + 4096)
#define BAD_URL_MAX	256

/* One place records come from: a URL argument, or a stream to read. */
struct source {
	const char	*url;		/* the URL argument; NULL: a stream */
	const char	*name;		/* the stream's name, for messages */
	int		 fd;
	int		 own_fd;
	int		 regular;	/* a file: read() never waits */
};

struct input {
	struct ev_loop	*evl;
	ev_io		 io;
	input_ready_fn	 ready;
	void		*arg;

	struct source	*src;		/* in order */
	size_t		 nsrc;
	size_t		 cur;		/* the source being read */
	int		 fd;		/* the current stream's, or -1 */
	int		 regular;	/* the current stream's */
	int		 readable;	/* the watcher said so */
	int		 eof;
	int		 skipping;	/* inside an over-long line */
	int		 err;		/* errno of a failed read */
	char		 errmsg[256];

	uint64_t	 next_index;
	uint64_t	 shard_k, shard_n;	/* shard_n 0: every record */
	size_t		 start, end;	/* unread bytes are buf[start..end) */
	char		 buf[INPUT_BUF];
};


/* The stream became readable: stop watching until more is wanted. */
static void
input_io_cb(struct ev_loop *evl, ev_io *w, int revents)
{
	struct input *in = w->data;

	(void)revents;
	ev_io_stop(evl, w);
	in->readable = 1;
	in->ready(in->arg);
}

/* Open stream name ("-" is stdin) as the next source; -1 with a reason. */
static int
input_add_stream(struct input *in, const char *name, char *err,
    size_t errlen)
{
	struct source	*sv = &in->src[in->nsrc];
	struct stat	 st;

	sv->name = name;
	sv->fd = STDIN_FILENO;
	if (strcmp(name, "-") != 0) {
		if ((sv->fd = open(name, O_RDONLY | O_CLOEXEC)) == -1) {
			snprintf(err, errlen, "cannot open '%s': %s", name,
			    strerror(errno));
			return -1;
		}
		sv->own_fd = 1;
	}
	in->nsrc++;
	if (fstat(sv->fd, &st) == -1 || S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cannot read '%s': %s", name,
		    S_ISDIR(st.st_mode) ? "is a directory" : strerror(errno));
		return -1;
	}
	sv->regular = S_ISREG(st.st_mode);
	return 0;
}

/* Make the source at in->cur, if it is a stream, the one read from. */
static void
input_enter(struct input *in)
{
	ev_io_stop(in->evl, &in->io);
	in->fd = -1;
	in->eof = in->skipping = in->readable = 0;
	in->start = in->end = 0;
	if (in->cur >= in->nsrc || in->src[in->cur].url != NULL)
		return;
	in->fd = in->src[in->cur].fd;
	in->regular = in->src[in->cur].regular;
	ev_io_set(&in->io, in->fd, EV_READ);
}

/* Be done with the current source: close what we opened, go to the next. */
static void
input_advance(struct input *in)
{
	struct source *sv = &in->src[in->cur];

	ev_io_stop(in->evl, &in->io);
	if (sv->own_fd) {
		close(sv->fd);
		sv->own_fd = 0;
	}
	in->cur++;
	input_enter(in);
}

/*
 * Lay out the sources: URL arguments ("-" a stream), then each -i, or
 * stdin when there is neither; open every file now, so that one that
 * cannot be read stops the run before anything is fetched.
 */
struct input *
input_new(struct ev_loop *evl, const struct opts *o, input_ready_fn ready,
    void *arg, char *err, size_t errlen)
{
	struct input	*in;
	size_t		 i;
	int		 rc = 0;

	if ((in = calloc(1, sizeof(*in))) == NULL ||
	    (in->src = calloc(o->nurls + o->ninputs + 1,
	    sizeof(*in->src))) == NULL) {
		free(in);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	in->evl = evl;
	in->ready = ready;
	in->arg = arg;
	in->shard_k = (uint64_t)o->shard_k;
	in->shard_n = (uint64_t)o->shard_n;
	ev_io_init(&in->io, input_io_cb, -1, EV_READ);
	in->io.data = in;
	for (i = 0; i < o->nurls && rc == 0; i++) {
		if (strcmp(o->urls[i], "-") == 0)
			rc = input_add_stream(in, "-", err, errlen);
		else
			in->src[in->nsrc++].url = o->urls[i];
	}
	for (i = 0; i < o->ninputs && rc == 0; i++)
		rc = input_add_stream(in, o->inputs[i], err, errlen);
	if (rc == 0 && o->nurls == 0 && o->ninputs == 0)
		rc = input_add_stream(in, "-", err, errlen);
	if (rc == -1) {
		input_free(in);
		return NULL;
	}
	input_enter(in);
	return in;
}

/* Add the records of a regular file from its offset on to *n; -1 on error. */
static int
input_count_fd(int fd, uint64_t *n)
{
	char		 chunk[65536];
	const char	*p, *end, *nl;
	off_t		 off;
	ssize_t		 got;
	int		 inside = 0;	/* past a line's first non-blank */

	if ((off = lseek(fd, 0, SEEK_CUR)) == -1)
		return -1;
	while ((got = pread(fd, chunk, sizeof(chunk), off)) != 0) {
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			return -1;
		off += got;
		for (p = chunk, end = chunk + got; p < end;) {
			if (inside) {
				if ((nl = memchr(p, '\n', (size_t)(end - p))) ==
				    NULL)
					break;
				p = nl + 1;
				inside = 0;
			} else if (*p == ' ' || *p == '\t' || *p == '\r' ||
			    *p == '\n')
				p++;
			else {
				/* The line's first byte decides, as input_line. */
				*n += *p != '#';
				inside = 1;
			}
		}
	}
	return 0;
}

/*
 * How many records the input holds, counted up front for the progress
 * line; -1 when a source cannot say (a pipe, a terminal).  Only regular
 * files are read, with pread, so reading them later starts where it would.
 */
int
input_total(const struct input *in, uint64_t *total)
{
	const char	*p;
	size_t		 i, len;
	uint64_t	 n = 0;

	for (i = 0; i < in->nsrc; i++) {
		if ((p = in->src[i].url) != NULL) {
			len = strlen(p);
			text_trim(&p, &len);
			n += len > 0 && *p != '#';
		} else if (!in->src[i].regular ||
		    input_count_fd(in->src[i].fd, &n) == -1)
			return -1;
	}
	if (in->shard_n > 0)
		n = n / in->shard_n + (n % in->shard_n > in->shard_k);
	*total = n;
	return 0;
}

/*
 * Turn one raw line into r's request: IN_RECORD, IN_BAD (r failed), or
 * IN_AGAIN for a blank or comment line, which is no record at all.
 */
enum input_status
input_parse_line(const char *p, size_t n, struct rec *r)
{
	text_trim(&p, &n);
	if (n == 0 || *p == '#')
		return IN_AGAIN;
	if (*p == '{')
		return reqobj_parse(r, p, n);
	if (buf_set(&r->req.url, p, n) == -1) {
		rec_fail(r, ERR_OTHER, "out of memory");
		return IN_BAD;
	}
	return IN_RECORD;
}

/* Number the next record; 0 when it belongs to another --shard. */
static int
input_take_index(struct input *in, struct rec *r)
{
	r->req.index = in->next_index++;
	return in->shard_n == 0 || r->req.index % in->shard_n == in->shard_k;
}

/* Parse a line and number it when it is a record of this shard. */
static enum input_status
input_line(struct input *in, const char *p, size_t n, struct rec *r)
{
	text_trim(&p, &n);
	if (n == 0 || *p == '#' || !input_take_index(in, r))
		return IN_AGAIN;
	return input_parse_line(p, n, r);
}

/*
 * A line longer than INPUT_LINE_MAX once trimmed, which starts (trimmed)
 * at p: a bad record named by its first BAD_URL_MAX bytes.
 */
static enum input_status
input_too_long(struct input *in, const char *p, struct rec *r)
{
	in->skipping = 1;
	if (*p == '#' || !input_take_index(in, r))
		return IN_AGAIN;
	if (buf_set(&r->req.url, p, BAD_URL_MAX) == -1)
		rec_fail(r, ERR_OTHER, "out of memory");
	else
		rec_fail(r, ERR_BAD_INPUT, "line longer than %d bytes",
		    INPUT_LINE_MAX);
	return IN_BAD;
}

/*
 * The buffer holds more than INPUT_LINE_MAX bytes of a line whose end has
 * not come yet.  The limit is on the trimmed line, so blanks are not held:
 * leading ones are dropped, and a run of trailing ones is cut to what
 * keeps the line one byte over the limit, so that anything but blanks
 * after it still makes the line too long.  1 when the line is too long
 * whatever follows.
 */
static int
input_squeeze(struct input *in)
{
	size_t c;

	while (in->start < in->end && text_blank(in->buf[in->start]))
		in->start++;
	if (in->end - in->start <= INPUT_LINE_MAX)
		return 0;
	for (c = in->end; c > in->start && text_blank(in->buf[c - 1]); c--)
		;
	if (c - in->start > INPUT_LINE_MAX)
		return 1;
	in->end = in->start + INPUT_LINE_MAX + 1;
	return 0;
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

/* The next record of the current stream, or why there is none now. */
static enum input_status
input_stream(struct input *in, struct rec *r)
{
	enum input_status	 st;
	char			*nl;
	size_t			 len;

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
			const char *t = in->buf + in->start;
			size_t tn = n;

			text_trim(&t, &tn);
			if (tn > INPUT_LINE_MAX) {
				st = input_too_long(in, t, r);
				if (nl) {
					in->start += n + 1;
					in->skipping = 0;
				} else
					in->start = in->end;
				if (st != IN_AGAIN)
					return st;
				continue;
			}
			st = input_line(in, in->buf + in->start, n, r);
			in->start += nl ? n + 1 : n;
			if (st != IN_AGAIN)
				return st;
			continue;
		}
		if (len > INPUT_LINE_MAX && input_squeeze(in)) {
			if ((st = input_too_long(in, in->buf + in->start, r)) !=
			    IN_AGAIN)
				return st;
			continue;
		}
		if (in->eof)
			return IN_EOF;
		if (input_fill(in) == -1)
			return IN_AGAIN;
	}
}

/* The next record, or why there is none now. */
enum input_status
input_next(struct input *in, struct rec *r)
{
	enum input_status	 st;
	const char		*u;

	while (in->cur < in->nsrc) {
		if ((u = in->src[in->cur].url) != NULL) {
			input_advance(in);
			if ((st = input_line(in, u, strlen(u), r)) != IN_AGAIN)
				return st;
		} else if ((st = input_stream(in, r)) == IN_EOF)
			input_advance(in);
		else
			return st;	/* IN_AGAIN here: the stream waits */
	}
	return IN_EOF;
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
	in->cur = in->nsrc;
	in->fd = -1;
	in->eof = 1;
	in->start = in->end = 0;
}

/* Close the files we opened and free the input. */
void
input_free(struct input *in)
{
	size_t i;

	if (in == NULL)
		return;
	if (in->evl != NULL)
		ev_io_stop(in->evl, &in->io);
	for (i = 0; i < in->nsrc; i++)
		if (in->src[i].own_fd)
			close(in->src[i].fd);
	free(in->src);
	free(in);
}
