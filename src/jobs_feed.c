/*
 * jobs_feed: a worker's side of -j.  In place of the input, the worker
 * reads the records its parent sends on its socket (jobs_feed_next); the
 * parent's stop message, which comes after every record it sent, is looked
 * for as bytes arrive, even while every slot is busy, so that a stopped
 * run's transfers end at once with the kind and message it carries.  At the
 * end, under --cookie-jar, the worker's cookies follow its records on the
 * same socket (jobs_feed_cookies).
 */
#include "gather/jobs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gather/msg.h"
#include "gather/writer.h"

#include "jobs_int.h"

struct jobs_feed {
	struct ev_loop		*evl;
	int			 fd;
	ev_io			 rio;
	struct buf		 in;
	size_t			 off;
	size_t			 scan;		/* messages before it have no stop */
	int			 eof;
	int			 hup;		/* the parent is done with us */
	enum err_kind		 stop;		/* the parent stopped the run */
	struct buf		 why;		/* the stop's message */
	input_ready_fn		 ready;
	void			*arg;
};

/*
 * Look through the whole messages not yet looked at for the parent's
 * stop, which comes after every record it sent: its kind and message.
 */
static void
jobs_feed_scan(struct jobs_feed *f)
{
	struct wire m;

	while (f->stop == ERR_NONE && f->in.len - f->scan >= sizeof(m)) {
		memcpy(&m, f->in.p + f->scan, sizeof(m));
		if (f->in.len - f->scan < m.len)
			return;
		if (m.stop != 0) {
			if (buf_set(&f->why, f->in.p + f->scan + sizeof(m),
			    m.n[0]) == -1 || buf_append(&f->why, "", 1) == -1)
				buf_clear(&f->why);
			f->stop = (enum err_kind)m.stop;
			return;
		}
		f->scan += m.len;
	}
}

/* The worker's socket is readable: take what the parent sent. */
static void
jobs_feed_cb(struct ev_loop *evl, ev_io *io, int revents)
{
	struct jobs_feed	*f = io->data;
	ssize_t			 k;

	(void)revents;
	if (f->off > 0) {
		memmove(f->in.p, f->in.p + f->off, f->in.len - f->off);
		f->in.len -= f->off;
		f->scan -= f->off;
		f->off = 0;
	}
	/* No memory to read more: end with what was read (the parent tells). */
	if (buf_reserve(&f->in, f->in.len + JOBS_READ) == -1) {
		msg_nomem();
		k = 0;
	} else
		/* Not O_NONBLOCK: the records written back on fd may wait. */
		k = recv(f->fd, f->in.p + f->in.len, JOBS_READ, MSG_DONTWAIT);
	if (k == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (k <= 0) {
		f->eof = f->hup = 1;
		ev_io_stop(evl, io);
	} else {
		f->in.len += (size_t)k;
		jobs_feed_scan(f);
	}
	f->ready(f->arg);
}

/* A worker's feed from fd; ready runs when records may be read. */
struct jobs_feed *
jobs_feed_new(struct ev_loop *evl, int fd, input_ready_fn ready, void *arg)
{
	struct jobs_feed *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->evl = evl;
	f->fd = fd;
	f->ready = ready;
	f->arg = arg;
	ev_io_init(&f->rio, jobs_feed_cb, fd, EV_READ);
	f->rio.data = f;
	ev_io_start(evl, &f->rio);
	return f;
}

/* The next record the parent sent, into r. */
enum input_status
jobs_feed_next(struct jobs_feed *f, struct rec *r)
{
	struct buf	*b[JOBS_BUFS] = { &r->req.url, &r->req.method,
			    &r->req.headers, &r->req.body, &r->req.user,
			    &r->req.bearer, &r->req.id, &r->save.file };
	struct wire	 m;
	const char	*p;
	int		 i;

	if (f->in.len - f->off < sizeof(m) ||
	    (memcpy(&m, f->in.p + f->off, sizeof(m)), f->in.len - f->off <
	    m.len) || m.stop != 0)
		return f->eof ? IN_EOF : IN_AGAIN;
	p = f->in.p + f->off + sizeof(m);
	r->req.index = m.index;
	r->req.has_body = m.has_body;
	r->req.body_json = m.body_json;
	r->req.has_id = m.has_id;
	r->save.claimed = (enum claim)m.claimed;
	r->req.timeout = m.timeout;
	r->req.nheaders = m.nheaders;
	memcpy(r->req.sha256, m.sha256, sizeof(r->req.sha256));
	f->off += m.len;
	for (i = 0; i < JOBS_BUFS; i++) {
		if (buf_set(b[i], p, m.n[i]) == -1) {
			/* The record is had, not its fields: it ends here. */
			r->req.has_id = 0;
			rec_fail(r, ERR_OTHER, "out of memory");
			return IN_BAD;
		}
		p += m.n[i];
	}
	return IN_RECORD;
}

/* Read no more. */
void
jobs_feed_stop(struct jobs_feed *f)
{
	if (f == NULL)
		return;
	ev_io_stop(f->evl, &f->rio);
	f->eof = 1;
}

/* Free the feed (its socket belongs to the worker's writer too). */
void
jobs_feed_free(struct jobs_feed *f)
{
	if (f == NULL)
		return;
	ev_io_stop(f->evl, &f->rio);
	buf_free(&f->in);
	buf_free(&f->why);
	free(f);
}

/* Whether the parent closed its side: the run is over for this worker. */
int
jobs_feed_hup(const struct jobs_feed *f)
{
	return f != NULL && f->hup;
}

/*
 * Whether the parent stopped the run: the kind its unfinished records are
 * to end as, and in *why the message; ERR_NONE when it did not.
 */
enum err_kind
jobs_feed_stopped(const struct jobs_feed *f, const char **why)
{
	if (f == NULL || f->stop == ERR_NONE)
		return ERR_NONE;
	*why = f->why.len > 0 ? f->why.p : "cancelled";
	return f->stop;
}

/*
 * A worker's last words under --cookie-jar, after the records it wrote:
 * its cookies, a line each after JOBS_COOKIE, then JOBS_COOKIES_END.
 */
int
jobs_feed_cookies(struct jobs_feed *f, const struct curl_slist *list)
{
	const struct curl_slist *c;

	for (c = list; c != NULL; c = c->next)
		if (writer_write(f->fd, JOBS_COOKIE, 1) == -1 ||
		    writer_write(f->fd, c->data, strlen(c->data)) == -1 ||
		    writer_write(f->fd, "\n", 1) == -1)
			return -1;
	return writer_write(f->fd, JOBS_COOKIES_END "\n", 2);
}
