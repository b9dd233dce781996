/*
 * ends: the ways a run ends before its input does.  Each sets why the run
 * stopped, once, and calls the scheduler's stop callback from the top of
 * a libev callback (never from inside the scheduler's own work), so that
 * ending the records never re-enters the code that was finishing one.
 * The exception, --fail-fast and a changed --resume input, are noticed by
 * the scheduler itself, which ends the records once it is back at its top.
 */
#include "gather/ends.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gather/msg.h"

enum stop {
	STOP_NONE,
	STOP_FAIL_FAST,
	STOP_DEADLINE,
	STOP_SIGNAL,
	STOP_CHANGED,		/* --resume: the input is not FILE's */
	STOP_EPIPE,		/* the reader of stdout left */
	STOP_WRITE		/* stdout failed otherwise */
};

struct ends {
	struct ev_loop		*evl;
	const struct opts	*o;
	ends_stop_fn		 stop_fn;
	void			*arg;
	enum stop		 stop;
	int			 signo;
	double			 deadline_at;	/* 0: no --deadline */
	ev_timer		 deadline_w;
	ev_io			 stdout_w;	/* notices a reader that left */
	ev_signal		 sigint_w, sigterm_w;
};

/*
 * The only global: how many SIGINT/SIGTERM arrived.  Our handler stands in
 * front of libev's so that a second signal ends the process even while a
 * write to a stuck stdout blocks the loop; the first is fed to libev.
 */
static volatile sig_atomic_t signals_seen;

/* SIGINT, SIGTERM: the first goes to libev, the second ends the process. */
static void
ends_sig_handler(int signo)
{
	if (signals_seen++ > 0)
		_exit(128 + signo);
	ev_feed_signal(signo);
}

/* SIGINT, SIGTERM: cancel what runs, write every record read, stop. */
static void
ends_signal_cb(struct ev_loop *evl, ev_signal *w, int revents)
{
	struct ends *e = w->data;

	(void)evl;
	(void)revents;
	e->signo = w->signum;
	if (!ends_output_dead(e))
		e->stop = STOP_SIGNAL;
	e->stop_fn(e->arg, ERR_CANCELLED, w->signum == SIGINT ?
	    "cancelled by SIGINT" : "cancelled by SIGTERM");
}

/* --deadline: whatever is unfinished ends now. */
static void
ends_deadline_cb(struct ev_loop *evl, ev_timer *w, int revents)
{
	struct ends *e = w->data;

	(void)evl;
	(void)revents;
	if (e->stop != STOP_NONE)
		return;
	e->stop = STOP_DEADLINE;
	e->stop_fn(e->arg, ERR_DEADLINE, "the --deadline of the run passed");
}

/*
 * stdout is a pipe or socket: an error on it means the reader left.  Ask
 * poll() to be sure, so that anything else stops the watching instead of
 * spinning on it.
 */
static void
ends_stdout_cb(struct ev_loop *evl, ev_io *w, int revents)
{
	struct ends	*e = w->data;
	struct pollfd	 pfd = { .fd = w->fd, .events = POLLOUT };

	(void)revents;
	ev_ref(evl);
	ev_io_stop(evl, w);
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP)))
		ends_output_failed(e, EPIPE);
}

/* The ends of a run of o on evl; stop_fn(arg, ...) ends its records. */
struct ends *
ends_new(struct ev_loop *evl, const struct opts *o, ends_stop_fn stop_fn,
    void *arg)
{
	struct ends *e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->evl = evl;
	e->o = o;
	e->stop_fn = stop_fn;
	e->arg = arg;
	ev_timer_init(&e->deadline_w, ends_deadline_cb, o->deadline, 0.);
	e->deadline_w.data = e;
	ev_signal_init(&e->sigint_w, ends_signal_cb, SIGINT);
	e->sigint_w.data = e;
	ev_signal_init(&e->sigterm_w, ends_signal_cb, SIGTERM);
	e->sigterm_w.data = e;
	return e;
}

/* Watch SIGINT and SIGTERM: libev's watchers, behind our handler. */
static void
ends_signals_start(struct ends *e)
{
	struct sigaction sa;

	ev_signal_start(e->evl, &e->sigint_w);
	ev_signal_start(e->evl, &e->sigterm_w);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ends_sig_handler;
	sigfillset(&sa.sa_mask);
	/* It runs even inside a blocked write, so a second signal still ends us. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Start watching: stdout's reader, the signals and the deadline. */
void
ends_start(struct ends *e)
{
	struct stat st;

	if (fstat(STDOUT_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		ev_io_init(&e->stdout_w, ends_stdout_cb, STDOUT_FILENO,
		    EV_READ);
		e->stdout_w.data = e;
		ev_io_start(e->evl, &e->stdout_w);
		/* It must not keep the loop alive by itself. */
		ev_unref(e->evl);
	}
	ends_signals_start(e);
	if (e->o->deadline > 0) {
		e->deadline_at = ev_now(e->evl) + e->o->deadline;
		ev_timer_start(e->evl, &e->deadline_w);
	}
}

/* Stop every watcher ends_start started. */
void
ends_stop(struct ends *e)
{
	ev_timer_stop(e->evl, &e->deadline_w);
	if (ev_is_active(&e->stdout_w)) {
		ev_ref(e->evl);
		ev_io_stop(e->evl, &e->stdout_w);
	}
	ev_signal_stop(e->evl, &e->sigint_w);
	ev_signal_stop(e->evl, &e->sigterm_w);
}

/* Whether the run has been stopped, for whatever reason. */
int
ends_stopped(const struct ends *e)
{
	return e->stop != STOP_NONE;
}

/* Whether the output failed, so that nothing more is written. */
int
ends_output_dead(const struct ends *e)
{
	return e->stop == STOP_EPIPE || e->stop == STOP_WRITE;
}

/* When --deadline passes, in ev_now() time; 0 without one. */
double
ends_deadline_at(const struct ends *e)
{
	return e->deadline_at;
}

/* Stop the run because the output failed with err; quietly for EPIPE. */
void
ends_output_failed(struct ends *e, int err)
{
	if (!ends_output_dead(e)) {
		if (err == EPIPE)
			e->stop = STOP_EPIPE;
		else {
			e->stop = STOP_WRITE;
			/* Not even a short error record could be kept. */
			if (err == ENOMEM)
				msg_nomem();
			else
				msg_error("cannot write output: %s",
				    strerror(err));
		}
	}
	e->stop_fn(e->arg, ERR_NONE, NULL);
}

/*
 * A record failed: 1 when --fail-fast stops the run for it now, and the
 * caller is to cancel the rest.
 */
int
ends_failed(struct ends *e)
{
	if (!e->o->fail_fast || e->stop != STOP_NONE)
		return 0;
	e->stop = STOP_FAIL_FAST;
	return 1;
}

/* --resume FILE does not match the input: the run stops, exit 2. */
void
ends_input_changed(struct ends *e)
{
	e->stop = STOP_CHANGED;
}

/* The exit status the way the run ended sets, or -1 when it sets none. */
int
ends_status(const struct ends *e)
{
	switch (e->stop) {
	case STOP_EPIPE:
		return EXIT_SIGPIPE;
	case STOP_WRITE:
		return EXIT_SOME_FAILED;
	case STOP_CHANGED:
		return EXIT_USAGE;
	default:
		break;
	}
	if (e->signo != 0)
		return 128 + e->signo;
	return -1;
}

/* Free e; its watchers must have been stopped. */
void
ends_free(struct ends *e)
{
	free(e);
}
