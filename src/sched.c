/*
 * sched: the semaphore, admission, retries and the end of the run.
 * Admission is pull-based: whenever a slot frees up, a retry comes due or
 * input becomes readable, the pump starts records until the slots or the
 * reorder window are full, so a handle joins libcurl only when it really
 * starts and -t counts from there.  A record waiting to retry sits on its
 * own timer and holds no slot.  Every record read leaves through
 * sched_finish exactly once, whatever ends the run.
 */
#include "gather/sched.h"

#include <errno.h>
#include <poll.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gather/gather.h"
#include "gather/hosts.h"
#include "gather/input.h"
#include "gather/loop.h"
#include "gather/out.h"
#include "gather/rec.h"
#include "gather/resume.h"
#include "gather/stats.h"
#include "gather/xfer.h"

enum stop {
	STOP_NONE,
	STOP_FAIL_FAST,
	STOP_DEADLINE,
	STOP_SIGNAL,
	STOP_CHANGED,		/* --resume: the input is not FILE's */
	STOP_EPIPE,		/* the reader of stdout left */
	STOP_WRITE		/* stdout failed otherwise */
};

/* A list of records through their prev/next links. */
struct rec_list {
	struct rec	*head, *tail;
	long		 n;
};

struct sched {
	struct app	*app;
	struct rec_list	 running;	/* transfers in libcurl: the slots */
	struct rec_list	 waiting;	/* retry timers pending */
	struct rec_list	 due;		/* read or due, waiting for a start */
	struct rec	*free_recs;
	struct hosts	*hosts;		/* --per-host counts */
	struct resume	*resume;
	uint64_t	 next_seq;
	uint64_t	 rng;
	double		 deadline_at;
	double		 rate_gap;	/* --rate: seconds between starts */
	double		 next_start;	/* --rate: earliest next start */
	struct buf	 line;		/* the record being written */
	int		 input_done;
	int		 input_failed;
	int		 failed;	/* some record was not ok */
	enum stop	 stop;
	int		 signo;
	ev_prepare	 flush_w;
	ev_timer	 deadline_w;
	ev_timer	 rate_w;
	ev_io		 stdout_w;	/* notices a reader that left */
	ev_signal	 sigint_w, sigterm_w;
};

static void	sched_pump(struct sched *);

static void
list_add(struct rec_list *l, struct rec *r)
{
	r->next = NULL;
	if ((r->prev = l->tail) != NULL)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
	l->n++;
}

static void
list_del(struct rec_list *l, struct rec *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		l->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		l->tail = r->prev;
	r->prev = r->next = NULL;
	l->n--;
}

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
	if (s->stop != STOP_EPIPE && s->stop != STOP_WRITE) {
		if (errno == EPIPE)
			s->stop = STOP_EPIPE;
		else {
			s->stop = STOP_WRITE;
			fprintf(stderr, "gather: cannot write output: %s\n",
			    strerror(errno));
		}
	}
	input_stop(s->app->in);
	ev_break(s->app->evl, EVBREAK_ALL);
}

static int
sched_output_dead(const struct sched *s)
{
	return s->stop == STOP_EPIPE || s->stop == STOP_WRITE;
}

static void
sched_log(const struct sched *s, const struct rec *r, const char *what)
{
	if (s->app->opts.verbose == 0 || s->app->opts.quiet)
		return;
	if (r->kind == ERR_NONE)
		fprintf(stderr, "gather: [%llu] %s%ld %.3fs %s\n",
		    (unsigned long long)r->index, what, r->status,
		    r->time.total, r->url.p);
	else
		fprintf(stderr, "gather: [%llu] %s%s: %s %s\n",
		    (unsigned long long)r->index, what, err_kind_name(r->kind),
		    r->msg, r->url.p);
}

static void	sched_cancel_all(struct sched *, enum err_kind, const char *);

/* Write r's record (in order) and recycle r and its transfer. */
static void
sched_finish(struct sched *s, struct rec *r)
{
	struct app	*a = s->app;
	int		 failed = r->kind != ERR_NONE;

	if (failed)
		s->failed = 1;
	sched_log(s, r, "");
	stats_record(a->stats, r);
	if (!sched_output_dead(s)) {
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
	if (failed && a->opts.fail_fast && s->stop == STOP_NONE) {
		s->stop = STOP_FAIL_FAST;
		input_stop(a->in);
		sched_cancel_all(s, ERR_CANCELLED, "cancelled by --fail-fast "
		    "after an earlier failure");
	}
}

/* Start r's transfer (a first attempt or a retry), or finish it. */
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
		r->t_start = ev_time();
		r->time.queue = r->t_start - r->t_read;
	}
	if (loop_add(a->loop, xfer_easy(x), r->url.p) == -1) {
		rec_fail(r, ERR_OTHER, "libcurl refused the transfer");
		sched_finish(s, r);
		return;
	}
	if (s->hosts != NULL && hosts_inc(s->hosts, r->host.p) == -1) {
		loop_remove(a->loop, xfer_easy(x));
		rec_fail(r, ERR_OTHER, "out of memory");
		sched_finish(s, r);
		return;
	}
	list_add(&s->running, r);
	stats_attempt_start(a->stats);
}

/* Take r's transfer out of libcurl and give its slot back. */
static void
sched_detach(struct sched *s, struct rec *r)
{
	loop_remove(s->app->loop, xfer_easy(r->xfer));
	list_del(&s->running, r);
	stats_attempt_end(s->app->stats);
	if (s->hosts != NULL)
		hosts_dec(s->hosts, r->host.p);
}

/*
 * --rate: whether a start may happen now, taking the turn if so.  Starts
 * are spaced by rate_gap.
 */
static int
sched_rate_take(struct sched *s)
{
	double now;

	if (s->rate_gap <= 0)
		return 1;
	now = ev_time();
	if (now < s->next_start) {
		if (!ev_is_active(&s->rate_w)) {
			ev_timer_set(&s->rate_w, s->next_start - now, 0.);
			ev_timer_start(s->app->evl, &s->rate_w);
		}
		return 0;
	}
	/*
	 * Timers fire up to a millisecond late; within a few gaps of the
	 * schedule keep to it so lateness does not add up, but after an idle
	 * spell start afresh rather than burst to catch up.
	 */
	s->next_start = now - s->next_start < 4 * s->rate_gap ?
	    s->next_start + s->rate_gap : now + s->rate_gap;
	return 1;
}

/* --per-host: whether r's host has room for one more transfer. */
static int
sched_host_room(struct sched *s, struct rec *r)
{
	if (s->hosts == NULL)
		return 1;
	if (r->host.len == 0 && xfer_host_key(s->app->pool, r->url.p,
	    &r->host) == -1)
		return 1;
	return hosts_count(s->hosts, r->host.p) < s->app->opts.per_host;
}

/* Whether r's outcome is worth another attempt. */
static int
sched_transient(const struct rec *r)
{
	switch (r->kind) {
	case ERR_DNS:
	case ERR_CONNECT:
	case ERR_TIMEOUT:
	case ERR_RESET:
		return 1;
	case ERR_NONE:
		return r->status == 408 || r->status == 429 ||
		    r->status == 500 || r->status == 502 ||
		    r->status == 503 || r->status == 504;
	default:
		return 0;
	}
}

/* A uniform double in [0, 1) from xorshift64*. */
static double
sched_random(struct sched *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return (double)((s->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/*
 * Seconds to wait before the next attempt: Retry-After when the server
 * gave one on 429 or 503, else full jitter over an exponential backoff;
 * capped by --retry-max-delay either way.
 */
static double
sched_backoff(struct sched *s, const struct rec *r)
{
	const struct opts	*o = &s->app->opts;
	double			 cap;

	if (r->retry_after >= 0)
		return fmin(r->retry_after, o->retry_max_delay);
	cap = fmin(o->retry_max_delay,
	    o->retry_delay * ldexp(1.0, r->attempts - 1 > 60 ? 60 :
	    r->attempts - 1));
	return sched_random(s) * cap;
}

static void
sched_retry_cb(struct ev_loop *evl, ev_timer *w, int revents)
{
	struct rec	*r = (struct rec *)((char *)w - offsetof(struct rec,
			    retry_w));
	struct sched	*s = w->data;

	(void)evl;
	(void)revents;
	list_del(&s->waiting, r);
	list_add(&s->due, r);
	sched_pump(s);
}

/* Put r on its retry timer if it deserves one; 1 when it does. */
static int
sched_retry(struct sched *s, struct rec *r)
{
	const struct opts	*o = &s->app->opts;
	double			 wait;

	if (s->stop != STOP_NONE || r->attempts > o->retries ||
	    !sched_transient(r))
		return 0;
	wait = sched_backoff(s, r);
	/* No wait runs past the deadline. */
	if (s->deadline_at > 0 && ev_now(s->app->evl) + wait >= s->deadline_at)
		return 0;
	sched_log(s, r, "retry: ");
	xfer_put(s->app->pool, r->xfer);
	r->xfer = NULL;
	/* What pointed into the transfer is gone with it. */
	r->effective_url = r->content_type = NULL;
	r->resp_body = r->resp_headers = NULL;
	r->nresp_headers = 0;
	ev_timer_init(&r->retry_w, sched_retry_cb, wait, 0.);
	r->retry_w.data = s;
	ev_timer_start(s->app->evl, &r->retry_w);
	list_add(&s->waiting, r);
	return 1;
}

/* The loop's done callback: a transfer ended with rc. */
void
sched_done(void *arg, CURL *e, CURLcode rc)
{
	struct sched	*s = arg;
	struct xfer	*x = xfer_of(e);
	struct rec	*r = xfer_rec(x);

	sched_detach(s, r);
	xfer_finish(x, rc);
	if (!sched_retry(s, r)) {
		if (s->app->opts.fail && r->kind == ERR_NONE &&
		    r->status >= 400) {
			r->kind = ERR_HTTP;
			snprintf(r->msg, sizeof(r->msg), "HTTP status %ld",
			    r->status);
		}
		sched_finish(s, r);
	}
	sched_pump(s);
}

/* End every record read and unfinished now with kind, writing each. */
static void
sched_cancel_all(struct sched *s, enum err_kind kind, const char *why)
{
	struct rec *r;

	while ((r = s->running.head) != NULL) {
		sched_detach(s, r);
		xfer_finish(r->xfer, CURLE_ABORTED_BY_CALLBACK);
		r->kind = kind;
		r->curl_code = -1;
		snprintf(r->msg, sizeof(r->msg), "%s", why);
		sched_finish(s, r);
	}
	while ((r = s->waiting.head) != NULL || (r = s->due.head) != NULL) {
		if (ev_is_active(&r->retry_w)) {
			ev_timer_stop(s->app->evl, &r->retry_w);
			list_del(&s->waiting, r);
		} else
			list_del(&s->due, r);
		r->kind = kind;
		r->curl_code = -1;
		snprintf(r->msg, sizeof(r->msg), "%s", why);
		sched_finish(s, r);
	}
}

/* Whether nothing is left to do: no input to read, no record unfinished. */
static int
sched_done_all(const struct sched *s)
{
	return (s->input_done || s->stop != STOP_NONE) && s->running.n == 0 &&
	    s->waiting.n == 0 && s->due.n == 0;
}

/* Break out of the loop once nothing is left to do. */
static void
sched_check_end(struct sched *s)
{
	if (sched_done_all(s))
		ev_break(s->app->evl, EVBREAK_ALL);
}

/* --resume: whether r was done before; stops the run if the input changed. */
static int
sched_resumed(struct sched *s, struct rec *r)
{
	switch (resume_check(s->resume, r->index, r->url.p, r->url.len)) {
	case RESUME_RUN:
		return 0;
	case RESUME_SKIP:
		return 1;
	case RESUME_CHANGED:
		break;
	}
	fprintf(stderr, "gather: --resume: record %llu is not the one the "
	    "earlier run had at that index: the input changed\n",
	    (unsigned long long)r->index);
	s->stop = STOP_CHANGED;
	input_stop(s->app->in);
	sched_cancel_all(s, ERR_CANCELLED, "cancelled: the input does not "
	    "match the --resume file");
	return 1;
}

/*
 * Start what may start: first records already read (due retries, and
 * records held back because their host was full), in order, then new
 * records from the input while slots, the window and --rate allow.  A
 * record whose host is full waits on the due list while reading goes on
 * past it, at most a window ahead.
 */
static void
sched_pump(struct sched *s)
{
	struct app		*a = s->app;
	struct rec		*r, *next;
	enum input_status	 st;

	for (r = s->due.head; r != NULL && s->stop == STOP_NONE &&
	    s->running.n < a->opts.concurrency; r = next) {
		next = r->next;
		if (!sched_host_room(s, r))
			continue;
		if (!sched_rate_take(s))
			goto out;
		list_del(&s->due, r);
		sched_start(s, r);
	}
	while (s->stop == STOP_NONE && !s->input_done &&
	    s->running.n < a->opts.concurrency && s->due.n < a->opts.window &&
	    gather_room(a->gather, s->next_seq)) {
		if ((r = sched_rec_get(s)) == NULL) {
			fprintf(stderr, "gather: out of memory\n");
			s->input_done = s->input_failed = 1;
			break;
		}
		st = input_next(a->in, r);
		if (st == IN_AGAIN) {
			sched_rec_put(s, r);
			goto out;
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
		if (s->resume != NULL && sched_resumed(s, r)) {
			sched_rec_put(s, r);
			continue;
		}
		r->seq = s->next_seq++;
		r->t_read = ev_time();
		if (st == IN_BAD)
			sched_finish(s, r);
		else if (!sched_host_room(s, r))
			list_add(&s->due, r);
		else if (sched_rate_take(s))
			sched_start(s, r);
		else {
			/* Its turn comes with the rate timer; read no further. */
			list_add(&s->due, r);
			break;
		}
	}
out:
	sched_check_end(s);
}

static void
sched_rate_cb(struct ev_loop *evl, ev_timer *w, int revents)
{
	(void)evl;
	(void)revents;
	sched_pump(w->data);
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
	if (!sched_output_dead(s) && out_flush(s->app->out) == -1)
		sched_output_failed(s);
}

/*
 * stdout is a pipe or socket: an error on it means the reader left.  Ask
 * poll() to be sure, so that anything else stops the watching instead of
 * spinning on it.
 */
static void
sched_stdout_cb(struct ev_loop *evl, ev_io *w, int revents)
{
	struct sched	*s = w->data;
	struct pollfd	 pfd = { .fd = w->fd, .events = POLLOUT };

	(void)revents;
	ev_ref(evl);
	ev_io_stop(evl, w);
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP))) {
		errno = EPIPE;
		sched_output_failed(s);
	}
}

/* --deadline: whatever is unfinished ends now. */
static void
sched_deadline_cb(struct ev_loop *evl, ev_timer *w, int revents)
{
	struct sched *s = w->data;

	(void)evl;
	(void)revents;
	if (s->stop != STOP_NONE)
		return;
	s->stop = STOP_DEADLINE;
	input_stop(s->app->in);
	sched_cancel_all(s, ERR_DEADLINE, "the --deadline of the run passed");
	sched_check_end(s);
}

/*
 * The only global: how many SIGINT/SIGTERM arrived.  Our handler stands in
 * front of libev's so that a second signal ends the process even while a
 * write to a stuck stdout blocks the loop; the first is fed to libev.
 */
static volatile sig_atomic_t signals_seen;

static void
sched_sig_handler(int signo)
{
	if (signals_seen++ > 0)
		_exit(128 + signo);
	ev_feed_signal(signo);
}

/* Watch SIGINT and SIGTERM: libev's watchers, behind our handler. */
static void
sched_signals_start(struct sched *s)
{
	struct sigaction sa;

	ev_signal_start(s->app->evl, &s->sigint_w);
	ev_signal_start(s->app->evl, &s->sigterm_w);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sched_sig_handler;
	sigfillset(&sa.sa_mask);
	/* It runs even inside a blocked write, so a second signal still ends us. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* SIGINT, SIGTERM: cancel what runs, write every record read, stop. */
static void
sched_signal_cb(struct ev_loop *evl, ev_signal *w, int revents)
{
	struct sched *s = w->data;

	(void)revents;
	s->signo = w->signum;
	if (!sched_output_dead(s))
		s->stop = STOP_SIGNAL;
	input_stop(s->app->in);
	sched_cancel_all(s, ERR_CANCELLED, w->signum == SIGINT ?
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
	s->resume = a->resume;
	s->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^
	    0x9e3779b97f4a7c15ULL;
	ev_prepare_init(&s->flush_w, sched_flush_cb);
	s->flush_w.data = s;
	ev_timer_init(&s->deadline_w, sched_deadline_cb, a->opts.deadline, 0.);
	s->deadline_w.data = s;
	ev_timer_init(&s->rate_w, sched_rate_cb, 0., 0.);
	s->rate_w.data = s;
	if (a->opts.rate > 0)
		s->rate_gap = 1.0 / a->opts.rate;
	if (a->opts.per_host > 0 && (s->hosts = hosts_new()) == NULL) {
		free(s);
		return NULL;
	}
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
	struct app	*a = s->app;
	struct stat	 st;

	ev_prepare_start(a->evl, &s->flush_w);
	if (fstat(STDOUT_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		ev_io_init(&s->stdout_w, sched_stdout_cb, STDOUT_FILENO,
		    EV_READ);
		s->stdout_w.data = s;
		ev_io_start(a->evl, &s->stdout_w);
		/* It must not keep the loop alive by itself. */
		ev_unref(a->evl);
	}
	sched_signals_start(s);
	if (a->opts.deadline > 0) {
		s->deadline_at = ev_now(a->evl) + a->opts.deadline;
		ev_timer_start(a->evl, &s->deadline_w);
	}
	sched_pump(s);
	if (!sched_done_all(s))
		ev_run(a->evl, 0);
	if (!sched_output_dead(s) && out_finish(a->out) == -1)
		sched_output_failed(s);
	ev_timer_stop(a->evl, &s->deadline_w);
	ev_timer_stop(a->evl, &s->rate_w);
	if (ev_is_active(&s->stdout_w)) {
		ev_ref(a->evl);
		ev_io_stop(a->evl, &s->stdout_w);
	}
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
	case STOP_WRITE:
		return EXIT_SOME_FAILED;
	case STOP_CHANGED:
		return EXIT_USAGE;
	default:
		break;
	}
	if (s->signo != 0)
		return 128 + s->signo;
	if (s->input_failed)
		return EXIT_INPUT;
	return s->failed ? EXIT_SOME_FAILED : EXIT_ALL_OK;
}

/* Drop what is left (after a closed stdout) and free every record. */
void
sched_free(struct sched *s)
{
	struct rec *r;

	if (s == NULL)
		return;
	while ((r = s->running.head) != NULL) {
		sched_detach(s, r);
		xfer_put(s->app->pool, r->xfer);
		r->xfer = NULL;
		sched_rec_put(s, r);
	}
	while ((r = s->waiting.head) != NULL) {
		ev_timer_stop(s->app->evl, &r->retry_w);
		list_del(&s->waiting, r);
		sched_rec_put(s, r);
	}
	while ((r = s->due.head) != NULL) {
		list_del(&s->due, r);
		sched_rec_put(s, r);
	}
	while ((r = s->free_recs) != NULL) {
		s->free_recs = r->next;
		rec_free(r);
	}
	hosts_free(s->hosts);
	buf_free(&s->line);
	free(s);
}
