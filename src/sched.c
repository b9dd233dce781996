/*
 * sched: the semaphore, admission and the end of the run.  Admission is
 * pull-based: whenever a slot frees up (or input becomes readable) the
 * pump reads records until the slots or the reorder window are full, so
 * a handle joins libcurl only when it really starts and -t counts from
 * there.  Every record read leaves through sched_finish exactly once.
 */
#include "gather/sched.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gather/gather.h"
#include "gather/input.h"
#include "gather/loop.h"
#include "gather/out.h"
#include "gather/rec.h"
#include "gather/xfer.h"

enum stop {
	STOP_NONE,
	STOP_EPIPE,		/* the reader of stdout left */
	STOP_WRITE,		/* stdout failed otherwise */
	STOP_SIGNAL
};

struct sched {
	struct app	*app;
	long		 inflight;
	struct rec	*running;	/* records with a transfer */
	struct rec	*free_recs;
	uint64_t	 next_seq;
	struct buf	 line;		/* the record being written */
	int		 input_done;
	int		 input_failed;
	int		 failed;	/* some record was not ok */
	enum stop	 stop;
	int		 signo;
	ev_prepare	 flush_w;
	ev_signal	 sigint_w, sigterm_w;
};

static void	sched_pump(struct sched *);

static struct rec *
sched_rec_get(struct sched *s)
{
	struct rec *r;

	if ((r = s->free_recs) != NULL)
		s->free_recs = r->next;
	else if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	rec_reset(r);
	return r;
}

static void
sched_rec_put(struct sched *s, struct rec *r)
{
	rec_reset(r);
	r->next = s->free_recs;
	s->free_recs = r;
}

/* Stop the run because stdout failed; quietly when the reader left. */
static void
sched_output_failed(struct sched *s)
{
	if (s->stop == STOP_NONE || s->stop == STOP_SIGNAL) {
		if (errno == EPIPE)
			s->stop = STOP_EPIPE;
		else {
			s->stop = STOP_WRITE;
			fprintf(stderr, "gather: cannot write output: %s\n",
			    strerror(errno));
		}
	}
	ev_break(s->app->evl, EVBREAK_ALL);
}

static void
sched_log(struct sched *s, const struct rec *r)
{
	if (s->app->opts.verbose == 0 || s->app->opts.quiet)
		return;
	if (r->kind == ERR_NONE)
		fprintf(stderr, "gather: [%llu] %ld %.3fs %s\n",
		    (unsigned long long)r->index, r->status, r->time.total,
		    r->url.p);
	else
		fprintf(stderr, "gather: [%llu] %s: %s %s\n",
		    (unsigned long long)r->index, err_kind_name(r->kind),
		    r->msg, r->url.p);
}

/* Write r's record (in order) and recycle r and its transfer. */
static void
sched_finish(struct sched *s, struct rec *r)
{
	struct app *a = s->app;

	if (r->kind != ERR_NONE)
		s->failed = 1;
	sched_log(s, r);
	if (s->stop != STOP_EPIPE && s->stop != STOP_WRITE) {
		if (out_record(a->out, r, &s->line) == -1) {
			errno = ENOMEM;
			sched_output_failed(s);
		} else if (gather_put(a->gather, r->seq, &s->line) == -1)
			sched_output_failed(s);
	}
	if (r->xfer != NULL) {
		xfer_put(a->pool, r->xfer);
		r->xfer = NULL;
	}
	sched_rec_put(s, r);
}

/* Start r's transfer, or finish it at once when it cannot start. */
static void
sched_start(struct sched *s, struct rec *r)
{
	struct app	*a = s->app;
	struct xfer	*x;

	if ((x = xfer_get(a->pool)) == NULL) {
		rec_fail(r, ERR_OTHER, "out of memory");
		sched_finish(s, r);
		return;
	}
	r->xfer = x;
	if (xfer_prepare(x, r) == -1) {
		sched_finish(s, r);
		return;
	}
	r->attempts++;
	if (r->attempts == 1) {
		r->t_start = ev_now(a->evl);
		r->time.queue = r->t_start - r->t_read;
	}
	if (loop_add(a->loop, xfer_easy(x)) == -1) {
		rec_fail(r, ERR_OTHER, "libcurl refused the transfer");
		sched_finish(s, r);
		return;
	}
	s->inflight++;
	r->prev = NULL;
	if ((r->next = s->running) != NULL)
		r->next->prev = r;
	s->running = r;
}

static void
sched_unlink(struct sched *s, struct rec *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		s->running = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
	s->inflight--;
}

/* The loop's done callback: a transfer ended with rc. */
void
sched_done(void *arg, CURL *e, CURLcode rc)
{
	struct sched	*s = arg;
	struct xfer	*x = xfer_of(e);
	struct rec	*r = xfer_rec(x);

	loop_remove(s->app->loop, e);
	sched_unlink(s, r);
	xfer_finish(x, rc);
	sched_finish(s, r);
	sched_pump(s);
}

/* End every running transfer now with kind, writing its record. */
static void
sched_cancel_running(struct sched *s, enum err_kind kind, const char *why)
{
	struct rec *r;

	while ((r = s->running) != NULL) {
		loop_remove(s->app->loop, xfer_easy(r->xfer));
		sched_unlink(s, r);
		xfer_finish(r->xfer, CURLE_ABORTED_BY_CALLBACK);
		r->kind = kind;
		r->curl_code = -1;
		snprintf(r->msg, sizeof(r->msg), "%s", why);
		sched_finish(s, r);
	}
}

/* Break out of the loop once nothing is left to do. */
static void
sched_check_end(struct sched *s)
{
	if ((s->input_done || s->stop != STOP_NONE) && s->inflight == 0)
		ev_break(s->app->evl, EVBREAK_ALL);
}

/* Read and start records while slots and window allow. */
static void
sched_pump(struct sched *s)
{
	struct app		*a = s->app;
	struct rec		*r;
	enum input_status	 st;

	while (s->stop == STOP_NONE && !s->input_done &&
	    s->inflight < a->opts.concurrency &&
	    gather_room(a->gather, s->next_seq)) {
		if ((r = sched_rec_get(s)) == NULL) {
			fprintf(stderr, "gather: out of memory\n");
			s->input_done = s->input_failed = 1;
			break;
		}
		st = input_next(a->in, r);
		if (st == IN_AGAIN) {
			sched_rec_put(s, r);
			return;
		}
		if (st == IN_EOF || st == IN_ERROR) {
			sched_rec_put(s, r);
			s->input_done = 1;
			if (st == IN_ERROR) {
				s->input_failed = 1;
				fprintf(stderr, "gather: %s\n",
				    input_error(a->in));
			}
			break;
		}
		r->seq = s->next_seq++;
		r->t_read = ev_now(a->evl);
		if (st == IN_BAD)
			sched_finish(s, r);
		else
			sched_start(s, r);
	}
	sched_check_end(s);
}

void
sched_input_ready(void *arg)
{
	sched_pump(arg);
}

/* Before the loop waits: write what is pending, so output streams. */
static void
sched_flush_cb(struct ev_loop *evl, ev_prepare *w, int revents)
{
	struct sched *s = w->data;

	(void)evl;
	(void)revents;
	if (s->stop != STOP_EPIPE && s->stop != STOP_WRITE &&
	    out_flush(s->app->out) == -1)
		sched_output_failed(s);
}

/* SIGINT, SIGTERM: cancel what runs, write every record read, stop. */
static void
sched_signal_cb(struct ev_loop *evl, ev_signal *w, int revents)
{
	struct sched *s = w->data;

	(void)revents;
	if (s->stop == STOP_SIGNAL) {
		/* A second signal: leave now. */
		_exit(128 + w->signum);
	}
	s->stop = STOP_SIGNAL;
	s->signo = w->signum;
	input_stop(s->app->in);
	sched_cancel_running(s, ERR_CANCELLED, w->signum == SIGINT ?
	    "cancelled by SIGINT" : "cancelled by SIGTERM");
	ev_break(evl, EVBREAK_ALL);
}

struct sched *
sched_new(struct app *a)
{
	struct sched *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->app = a;
	ev_prepare_init(&s->flush_w, sched_flush_cb);
	s->flush_w.data = s;
	ev_signal_init(&s->sigint_w, sched_signal_cb, SIGINT);
	s->sigint_w.data = s;
	ev_signal_init(&s->sigterm_w, sched_signal_cb, SIGTERM);
	s->sigterm_w.data = s;
	return s;
}

/* Run until every record read has been written, or the run is stopped. */
void
sched_run(struct sched *s)
{
	struct app *a = s->app;

	ev_prepare_start(a->evl, &s->flush_w);
	ev_signal_start(a->evl, &s->sigint_w);
	ev_signal_start(a->evl, &s->sigterm_w);
	sched_pump(s);
	if (!((s->input_done || s->stop != STOP_NONE) && s->inflight == 0))
		ev_run(a->evl, 0);
	if (s->stop != STOP_EPIPE && s->stop != STOP_WRITE &&
	    out_finish(a->out) == -1)
		sched_output_failed(s);
	ev_prepare_stop(a->evl, &s->flush_w);
	ev_signal_stop(a->evl, &s->sigint_w);
	ev_signal_stop(a->evl, &s->sigterm_w);
}

int
sched_status(const struct sched *s)
{
	switch (s->stop) {
	case STOP_EPIPE:
		return EXIT_SIGPIPE;
	case STOP_SIGNAL:
		return 128 + s->signo;
	case STOP_WRITE:
		return EXIT_SOME_FAILED;
	default:
		break;
	}
	if (s->input_failed)
		return EXIT_INPUT;
	return s->failed ? EXIT_SOME_FAILED : EXIT_ALL_OK;
}

/* Drop what still runs (after a closed stdout) and free every record. */
void
sched_free(struct sched *s)
{
	struct rec *r;

	if (s == NULL)
		return;
	while ((r = s->running) != NULL) {
		loop_remove(s->app->loop, xfer_easy(r->xfer));
		sched_unlink(s, r);
		xfer_put(s->app->pool, r->xfer);
		r->xfer = NULL;
		sched_rec_put(s, r);
	}
	while ((r = s->free_recs) != NULL) {
		s->free_recs = r->next;
		rec_free(r);
	}
	buf_free(&s->line);
	free(s);
}
