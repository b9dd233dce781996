/*
 * sched: the semaphore, admission and retries.  Admission is pull-based:
 * whenever a slot frees up, a retry comes due or input becomes readable,
 * the pump starts records until the slots or the reorder window are full,
 * so a handle joins libcurl only when it really starts and -t counts from
 * there.  A record waiting to retry sits on its own timer and holds no
 * slot.  Every record read leaves through sched_retire exactly once,
 * whatever ends the run; ending the others (--fail-fast, a changed
 * --resume input) is left to the top of the pump, so that sched_retire
 * never runs inside itself.  A record retired goes to the output stage
 * (output.c), which formats and writes it; what the earlier outputs say
 * of a record read is filter.c's to look up.
 *
 * Politeness is admission too: a record whose host is paused by a
 * Retry-After, has no --per-host-rate turn yet or is at its --adaptive
 * limit waits on the due list, holding no slot, while records for other
 * hosts start past it within the window; one timer wakes the pump when
 * the nearest pause or turn ends.  Without --per-host-rate and
 * --adaptive no host is looked up until some host is paused.
 *
 * Admission's rules (--rate, --per-host, pauses, turns) are
 * sched_admit.c's.
 */
#include "gather/sched.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gather/clock.h"
#include "gather/ends.h"
#include "gather/expect.h"
#include "gather/filter.h"
#include "gather/hosts.h"
#include "gather/input.h"
#include "gather/jobs.h"
#include "gather/loop.h"
#include "gather/msg.h"
#include "gather/output.h"
#include "gather/policy.h"
#include "gather/polite.h"
#include "gather/record.h"
#include "gather/stats.h"
#include "gather/url.h"
#include "gather/xfer.h"

#include "rlist.h"
#include "sched_int.h"

/* How long a worker of -j holds its lines, and how many bytes it holds. */
#define SCHED_LINGER	0.001
#define SCHED_BATCH	(16 * 1024)


static void	sched_pump(struct sched *);
static int	sched_read(struct sched *, struct sched_node **,
		    enum input_status *);

/* A node with a cleared record, from the free list or new. */
static struct sched_node *
sched_node_get(struct sched *s)
{
	struct sched_node *n;

	if ((n = s->free_nodes) != NULL)
		s->free_nodes = n->next;
	else if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	else
		rec_reset(&n->rec);
	return n;
}

/* Back to the free list, cleared, its buffers kept for the next record. */
static void
sched_node_put(struct sched *s, struct sched_node *n)
{
	if (n->ph != NULL)
		polite_put(s->polite, n->ph, ev_now(s->evl));
	n->ph = NULL;
	n->ph_epoch = 0;
	n->ph_busy = 0;
	n->xfer = NULL;
	if (n->host.len > 0)
		buf_clear(&n->host);
	rec_reset(&n->rec);
	n->prev = NULL;
	n->next = s->free_nodes;
	s->free_nodes = n;
}

/* End the rest of the run as kind once back at the top of the pump. */
static void
sched_abort_at_top(struct sched *s, enum err_kind kind, const char *why)
{
	s->cancel = kind;
	s->cancel_why = why;
}

/*
 * Write n's record (in order), or line when a worker formatted it, and
 * recycle n and its transfer.
 */
static void
sched_retire_line(struct sched *s, struct sched_node *n, struct buf *line)
{
	const char	*why;
	int		 failed;

	/* -o: the verdict is in; NAME.part becomes NAME or goes. */
	if (n->xfer != NULL)
		xfer_settle(n->xfer);
	/* A record that could not be formatted went out as an error. */
	if ((why = output_put(s->p.output, &n->rec, line)) != NULL)
		rec_fail(&n->rec, ERR_OTHER, "%s", why);
	if ((failed = n->rec.res.kind != ERR_NONE) != 0)
		s->failed = 1;
	stats_log(s->p.stats, &n->rec, "");
	stats_record(s->p.stats, &n->rec);
	if (n->xfer != NULL) {
		xfer_put(s->p.pool, n->xfer);
		n->xfer = NULL;
	}
	sched_node_put(s, n);
	if (failed && ends_failed(s->p.ends))
		sched_abort_at_top(s, ERR_CANCELLED, "cancelled by --fail-fast "
		    "after an earlier failure");
}

/* Write n's record (in order) and recycle n and its transfer. */
static void
sched_retire(struct sched *s, struct sched_node *n)
{
	sched_retire_line(s, n, NULL);
}

/* Finish n as failed with kind and msg, before its transfer started. */
static void
sched_retire_unstarted(struct sched *s, struct sched_node *n,
    enum err_kind kind, const char *msg)
{
	rec_fail(&n->rec, kind, "%s", msg);
	sched_retire(s, n);
}

/* -j: hand n to the worker of its host, holding its slot until it is back. */
static void
sched_start_remote(struct sched *s, struct sched_node *n)
{
	n->rec.queue = clock_mono() - n->t_read;
	if (jobs_send(s->p.jobs, &n->rec) == -1) {
		sched_retire(s, n);
		return;
	}
	if (s->hosts != NULL && hosts_inc(s->hosts, n->host.p) == -1) {
		jobs_forget(s->p.jobs, &n->rec);
		sched_retire_unstarted(s, n, ERR_OTHER, "out of memory");
		return;
	}
	rlist_add(&s->running, n);
	stats_attempt_start(s->p.stats);
}

/* Start n's transfer (a first attempt or a retry), or finish it. */
static void
sched_start(struct sched *s, struct sched_node *n)
{
	struct xfer	*x;
	int		 rc;

	if (s->p.jobs != NULL) {
		sched_start_remote(s, n);
		return;
	}
	if ((x = xfer_get(s->p.pool)) == NULL) {
		sched_retire_unstarted(s, n, ERR_OTHER, "out of memory");
		return;
	}
	n->xfer = x;
	if (xfer_prepare(x, &n->rec) == -1) {
		sched_retire(s, n);
		return;
	}
	n->rec.attempts++;
	if (n->rec.attempts == 1)
		n->rec.queue = clock_mono() - n->t_read;
	if ((rc = loop_add(s->p.loop, xfer_easy(x), n->rec.req.url.p)) != 0) {
		sched_retire_unstarted(s, n, ERR_OTHER, rc == LOOP_NOMEM ?
		    "out of memory" : "libcurl refused the transfer");
		return;
	}
	if (s->hosts != NULL && hosts_inc(s->hosts, n->host.p) == -1) {
		loop_remove(s->p.loop, xfer_easy(x));
		sched_retire_unstarted(s, n, ERR_OTHER, "out of memory");
		return;
	}
	if (n->ph != NULL) {
		n->ph_epoch = polite_start(s->polite, n->ph, ev_time());
		n->ph_busy = 1;
	}
	rlist_add(&s->running, n);
	stats_attempt_start(s->p.stats);
}

/* Take n's transfer out of libcurl and give its slot back. */
static void
sched_detach(struct sched *s, struct sched_node *n)
{
	if (s->p.jobs != NULL)
		jobs_forget(s->p.jobs, &n->rec);
	else
		loop_remove(s->p.loop, xfer_easy(n->xfer));
	rlist_del(&s->running, n);
	stats_attempt_end(s->p.stats);
	if (s->hosts != NULL)
		hosts_dec(s->hosts, n->host.p);
	if (n->ph_busy) {
		polite_end(n->ph);
		n->ph_busy = 0;
	}
}

/* A retry came due: n joins the records waiting for a start. */
static void
sched_retry_cb(struct ev_loop *evl, ev_timer *w, int revents)
{
	struct sched_node	*n = (struct sched_node *)(void *)((char *)w -
				    offsetof(struct sched_node, retry_w));
	struct sched		*s = w->data;

	(void)evl;
	(void)revents;
	rlist_del(&s->waiting, n);
	rlist_add(&s->due, n);
	sched_pump(s);
}

/* Put n on its retry timer if it deserves one; 1 when it does. */
static int
sched_retry_later(struct sched *s, struct sched_node *n)
{
	double wait, deadline_at = ends_deadline_at(s->p.ends);

	if (ends_stopped(s->p.ends) || n->rec.attempts > s->o->retries ||
	    !policy_retryable(&s->o->retry_on, n->rec.res.kind,
	    n->rec.res.status))
		return 0;
	wait = policy_wait(n->rec.res.retry_after, n->rec.attempts,
	    s->o->retry_delay, s->o->retry_max_delay, policy_uniform(&s->rng));
	/* No wait runs past the deadline. */
	if (deadline_at > 0 && ev_now(s->evl) + wait >= deadline_at)
		return 0;
	stats_log(s->p.stats, &n->rec, "retry: ");
	xfer_settle(n->xfer);
	xfer_put(s->p.pool, n->xfer);
	n->xfer = NULL;
	ev_timer_init(&n->retry_w, sched_retry_cb, wait, 0.);
	n->retry_w.data = s;
	ev_timer_start(s->evl, &n->retry_w);
	rlist_add(&s->waiting, n);
	return 1;
}

/* The loop's done callback: a transfer ended with rc. */
void
sched_transfer_done(void *arg, CURL *e, CURLcode rc)
{
	struct sched		*s = arg;
	struct xfer		*x = xfer_of(e);
	struct sched_node	*n = sched_node_of(xfer_rec(x));
	int			 counted = n->ph_busy;

	sched_detach(s, n);
	xfer_finish(x, rc);
	sched_admit_answer(s, n, counted);
	if (!sched_retry_later(s, n)) {
		xfer_fail_status(x);
		/* --expect: an otherwise ok record; a miss may be retried. */
		if (s->p.expect == NULL || n->rec.res.kind != ERR_NONE ||
		    expect_rec(s->p.expect, s->p.record, &n->rec) ||
		    !sched_retry_later(s, n))
			sched_retire(s, n);
	}
	sched_pump(s);
}

/* -j: a worker sent n back as line, or (line NULL) lost it. */
void
sched_remote_done(void *arg, struct rec *r, struct buf *line)
{
	struct sched		*s = arg;
	struct sched_node	*n = sched_node_of(r);

	sched_detach(s, n);
	sched_retire_line(s, n, line);
	sched_pump(s);
}

/* End n, read and unfinished, as kind, saying why. */
static void
sched_abort_one(struct sched *s, struct sched_node *n, enum err_kind kind,
    const char *why)
{
	rec_fail(&n->rec, kind, "%s", why);
	sched_retire(s, n);
}

/*
 * End every record read and unfinished now with kind, writing each.  With
 * -j the workers are told to end theirs as this process would, and the
 * records come back from them.
 */
static void
sched_abort_all(struct sched *s, enum err_kind kind, const char *why)
{
	struct sched_node *n;

	if (s->p.jobs != NULL && s->running.n > 0)
		jobs_stop(s->p.jobs, kind, why);
	while (s->p.jobs == NULL && (n = s->running.head) != NULL) {
		sched_detach(s, n);
		if (n->xfer != NULL)
			xfer_finish(n->xfer, CURLE_ABORTED_BY_CALLBACK);
		sched_abort_one(s, n, kind, why);
	}
	while ((n = s->waiting.head) != NULL || (n = s->due.head) != NULL) {
		if (ev_is_active(&n->retry_w)) {
			ev_timer_stop(s->evl, &n->retry_w);
			rlist_del(&s->waiting, n);
		} else
			rlist_del(&s->due, n);
		sched_abort_one(s, n, kind, why);
	}
}

/* Read no more records. */
static void
sched_input_stop(struct sched *s)
{
	if (s->p.feed != NULL)
		jobs_feed_stop(s->p.feed);
	else
		input_stop(s->p.in);
}

/* End the rest of the run if sched_retire or the pump asked for it. */
static void
sched_abort_if_asked(struct sched *s)
{
	enum err_kind kind = s->cancel;

	if (kind == ERR_NONE)
		return;
	s->cancel = ERR_NONE;
	sched_input_stop(s);
	sched_abort_all(s, kind, s->cancel_why);
}

/* Whether nothing is left to do: no input to read, no record unfinished. */
static int
sched_nothing_left(const struct sched *s)
{
	return (s->input_done || ends_stopped(s->p.ends)) &&
	    s->running.n == 0 && s->waiting.n == 0 && s->due.n == 0;
}

/*
 * The ends' stop callback: the run stops now.  Records read end as kind
 * (with -j once the workers sent them back), or with ERR_NONE (the output
 * failed) are left to sched_free.
 */
void
sched_halt(void *arg, enum err_kind kind, const char *why)
{
	struct sched *s = arg;

	sched_input_stop(s);
	if (kind != ERR_NONE)
		sched_abort_all(s, kind, why);
	if (kind == ERR_NONE || sched_nothing_left(s))
		ev_break(s->evl, EVBREAK_ALL);
}

/*
 * A -j worker whose parent stopped the run: the records it sent before
 * saying so end as kind unstarted, as they would have in one process, and
 * the transfers here end as kind too.  The parent's hang-up ends the loop.
 */
static void
sched_halt_remote(struct sched *s, enum err_kind kind, const char *why)
{
	struct sched_node	*n;
	enum input_status	 st;

	s->halted = 1;
	while (sched_read(s, &n, &st) == 1) {
		n->rec.seq = s->next_seq++;
		n->t_read = clock_mono();
		sched_abort_one(s, n, kind, why);
	}
	sched_abort_all(s, kind, why);
}

/*
 * What the earlier outputs say of n, just read: 1 when it is not to be
 * fetched; a --resume file made for another input stops the run.
 */
static int
sched_filtered(struct sched *s, struct sched_node *n, enum input_status st)
{
	switch (filter_earlier(s->p.resume, s->p.revalidate, &n->rec,
	    st == IN_BAD)) {
	case RESUME_RUN:
		return 0;
	case RESUME_SKIP:
		return 1;
	case RESUME_CHANGED:
		break;
	}
	msg_error("--resume: record %llu is not the one the "
	    "earlier run had at that index: the input changed",
	    (unsigned long long)n->rec.req.index);
	ends_input_changed(s->p.ends);
	sched_abort_at_top(s, ERR_CANCELLED, "cancelled: the input does not "
	    "match the --resume file");
	return 1;
}

/*
 * Start the due records (retries, records held for their host) in order;
 * 0 when --rate stopped them, and no new record is to be read either.
 */
static int
sched_pump_due(struct sched *s)
{
	struct sched_node *n, *next;

	for (n = s->due.head; n != NULL && !ends_stopped(s->p.ends) &&
	    s->running.n < s->o->concurrency; n = next) {
		next = n->next;
		if (!sched_admit_host(s, n))
			continue;
		if (!sched_admit_rate(s))
			return 0;
		rlist_del(&s->due, n);
		sched_start(s, n);
	}
	return 1;
}

/*
 * The next record from the input into *np: 1 when there is one to place,
 * 0 when reading is to stop for now, -1 when there is no more.
 */
static int
sched_read(struct sched *s, struct sched_node **np, enum input_status *stp)
{
	struct sched_node *n;

	if ((n = sched_node_get(s)) == NULL) {
		/* A record in flight gives its node back: read on then. */
		if (s->running.n > 0 || s->waiting.n > 0 || s->due.n > 0)
			return 0;
		msg_nomem();
		s->input_done = s->failed = 1;
		return -1;
	}
	*stp = s->p.feed != NULL ? jobs_feed_next(s->p.feed, &n->rec) :
	    input_next(s->p.in, &n->rec);
	switch (*stp) {
	case IN_AGAIN:
		sched_node_put(s, n);
		return 0;
	case IN_ERROR:
		s->input_failed = 1;
		msg_error("%s", s->p.feed != NULL ? "-j: a "
		    "record from the parent was lost" : input_error(s->p.in));
		/* FALLTHROUGH */
	case IN_EOF:
		sched_node_put(s, n);
		s->input_done = 1;
		return -1;
	default:
		break;
	}
	*np = n;
	return 1;
}

/*
 * Read and start new records while slots, the window and --rate allow.
 * A record whose host is full waits on the due list while reading goes on
 * past it, at most a window ahead.
 */
static void
sched_pump_input(struct sched *s)
{
	struct sched_node	*n;
	enum input_status	 st;

	while (!ends_stopped(s->p.ends) && !s->input_done &&
	    s->running.n < s->o->concurrency && s->due.n < s->o->window &&
	    output_room(s->p.output, s->next_seq)) {
		if (sched_read(s, &n, &st) <= 0)
			return;
		if (sched_filtered(s, n, st)) {
			sched_node_put(s, n);
			continue;
		}
		n->rec.seq = s->next_seq++;
		n->t_read = clock_mono();
		if (st == IN_BAD)
			sched_retire(s, n);
		else if (!sched_admit_host(s, n))
			rlist_add(&s->due, n);
		else if (sched_admit_rate(s))
			sched_start(s, n);
		else {
			/* Its turn comes with the rate timer; read no further. */
			rlist_add(&s->due, n);
			return;
		}
	}
}

/*
 * Start what may start: first records already read, in order, then new
 * records from the input; then end the run if something asked for it, or
 * if nothing is left to do.
 */
static void
sched_pump(struct sched *s)
{
	enum err_kind	 kind;
	const char	*why;

	/* A -j worker whose parent stopped the run early. */
	if (s->p.feed != NULL && !s->halted && (kind =
	    jobs_feed_stopped(s->p.feed, &why)) != ERR_NONE)
		sched_halt_remote(s, kind, why);
	/*
	 * A -j worker whose parent is done: what still runs, and what it
	 * sent but this worker has not read, is moot.
	 */
	if (s->p.feed != NULL && !s->hup && jobs_feed_hup(s->p.feed)) {
		s->hup = s->input_done = 1;
		sched_abort_at_top(s, ERR_CANCELLED, "cancelled: the first "
		    "process ended the run");
	}
	if (sched_pump_due(s))
		sched_pump_input(s);
	sched_abort_if_asked(s);
	if (sched_nothing_left(s))
		ev_break(s->evl, EVBREAK_ALL);
}

/* --rate: the next start is due. */
static void
sched_rate_cb(struct ev_loop *evl, ev_timer *w, int revents)
{
	(void)evl;
	(void)revents;
	sched_pump(w->data);
}

/* A host's pause or --per-host-rate turn ended. */
static void
sched_host_cb(struct ev_loop *evl, ev_timer *w, int revents)
{
	(void)evl;
	(void)revents;
	sched_pump(w->data);
}

/* The input's ready callback: records can be read again. */
void
sched_input_ready(void *arg)
{
	sched_pump(arg);
}

/*
 * Before the loop waits: write what is pending, so output streams.  A
 * worker of -j holds its lines for up to SCHED_LINGER seconds, or until
 * SCHED_BATCH bytes wait, so that the first process wakes once per batch
 * of records rather than once per loop turn of every worker.
 */
static void
sched_flush_cb(struct ev_loop *evl, ev_prepare *w, int revents)
{
	struct sched	*s = w->data;
	size_t		 n;

	(void)revents;
	if (s->p.feed != NULL && (n = output_pending(s->p.output)) <
	    SCHED_BATCH) {
		if (n > 0 && !ev_is_active(&s->linger_w)) {
			ev_timer_set(&s->linger_w, SCHED_LINGER, 0.);
			ev_timer_start(evl, &s->linger_w);
		}
		return;
	}
	ev_timer_stop(evl, &s->linger_w);
	output_flush(s->p.output);
}

/* A worker's lines have waited long enough. */
static void
sched_linger_cb(struct ev_loop *evl, ev_timer *w, int revents)
{
	struct sched *s = w->data;

	(void)evl;
	(void)revents;
	output_flush(s->p.output);
}

/* A scheduler for o on evl; sched_attach gives it its parts. */
struct sched *
sched_new(const struct opts *o, struct ev_loop *evl)
{
	struct sched *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->o = o;
	s->evl = evl;
	s->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^
	    0x9e3779b97f4a7c15ULL;
	ev_prepare_init(&s->flush_w, sched_flush_cb);
	s->flush_w.data = s;
	ev_init(&s->linger_w, sched_linger_cb);
	s->linger_w.data = s;
	ev_timer_init(&s->rate_w, sched_rate_cb, 0., 0.);
	s->rate_w.data = s;
	ev_timer_init(&s->host_w, sched_host_cb, 0., 0.);
	s->host_w.data = s;
	s->rate_gap = policy_rate_gap(o->rate);
	s->polite_on = o->per_host_rate > 0 || o->adaptive;
	if ((s->polite = polite_new(o)) == NULL ||
	    (o->per_host > 0 && ((s->hosts = hosts_new()) == NULL ||
	    (s->cu = curl_url()) == NULL))) {
		hosts_free(s->hosts);
		polite_free(s->polite);
		free(s);
		return NULL;
	}
	return s;
}

/* The modules s drives, made after s because they call back into it. */
void
sched_attach(struct sched *s, const struct sched_parts *p)
{
	s->p = *p;
}

/* polite_report's callback: one host whose --adaptive limit came down. */
static void
sched_report_cb(void *arg, const char *host, long lowest, long final)
{
	stats_host_limit(arg, host, lowest, final);
}

/* Run until every record read has been written, or the run is stopped. */
void
sched_run(struct sched *s)
{
	ev_prepare_start(s->evl, &s->flush_w);
	ends_start(s->p.ends);
	sched_pump(s);
	if (!sched_nothing_left(s))
		ev_run(s->evl, 0);
	output_finish(s->p.output);
	ends_stop(s->p.ends);
	polite_report(s->polite, sched_report_cb, s->p.stats);
	ev_timer_stop(s->evl, &s->rate_w);
	ev_timer_stop(s->evl, &s->host_w);
	ev_prepare_stop(s->evl, &s->flush_w);
	ev_timer_stop(s->evl, &s->linger_w);
}

/* The exit status the records leave (ends may have another say). */
int
sched_status(const struct sched *s)
{
	if (s->input_failed)
		return EXIT_INPUT;
	return s->failed ? EXIT_SOME_FAILED : EXIT_ALL_OK;
}

/* Drop what is left (after a closed stdout) and free every record. */
void
sched_free(struct sched *s)
{
	struct sched_node *n;

	if (s == NULL)
		return;
	while ((n = s->running.head) != NULL) {
		sched_detach(s, n);
		if (n->xfer != NULL)
			xfer_put(s->p.pool, n->xfer);
		n->xfer = NULL;
		sched_node_put(s, n);
	}
	while ((n = s->waiting.head) != NULL) {
		ev_timer_stop(s->evl, &n->retry_w);
		rlist_del(&s->waiting, n);
		sched_node_put(s, n);
	}
	while ((n = s->due.head) != NULL) {
		rlist_del(&s->due, n);
		sched_node_put(s, n);
	}
	while ((n = s->free_nodes) != NULL) {
		s->free_nodes = n->next;
		rec_free_bufs(&n->rec);
		buf_free(&n->host);
		free(n);
	}
	ev_timer_stop(s->evl, &s->host_w);
	hosts_free(s->hosts);
	polite_free(s->polite);
	curl_url_cleanup(s->cu);
	free(s);
}
