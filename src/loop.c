/*
 * loop: libev drives libcurl.  Each socket libcurl reports gets an ev_io
 * (its state hung on the socket with curl_multi_assign); libcurl's single
 * timeout is one ev_timer.  After every socket_action the finished
 * transfers are drained and handed on, outside any libcurl callback, so the
 * receiver may remove and re-add handles freely.
 */
#include "gather/loop.h"

#include <stdlib.h>

struct sock {
	ev_io		 io;
	curl_socket_t	 fd;
	struct loop	*lp;
	struct sock	*prev, *next;	/* all live sockets, freed at the end */
};

struct loop {
	struct ev_loop	*evl;
	CURLM		*multi;
	ev_timer	 timer;
	loop_done_fn	 done;
	void		*arg;
	int		 running;
	struct sock	*socks;
};

static void
loop_sock_free(struct loop *lp, struct sock *sk)
{
	ev_io_stop(lp->evl, &sk->io);
	if (sk->prev)
		sk->prev->next = sk->next;
	else
		lp->socks = sk->next;
	if (sk->next)
		sk->next->prev = sk->prev;
	free(sk);
}

/* Hand every finished transfer to the done callback. */
static void
loop_drain(struct loop *lp)
{
	CURLMsg		*m;
	CURL		*e;
	CURLcode	 rc;
	int		 left;

	while ((m = curl_multi_info_read(lp->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		/* m is invalid once the handle is removed: copy first. */
		e = m->easy_handle;
		rc = m->data.result;
		lp->done(lp->arg, e, rc);
	}
}

static void
loop_io_cb(struct ev_loop *evl, ev_io *w, int revents)
{
	struct sock	*sk = w->data;
	struct loop	*lp = sk->lp;
	int		 action = 0;

	(void)evl;
	if (revents & EV_READ)
		action |= CURL_CSELECT_IN;
	if (revents & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	/* sk may be freed inside this call; use only lp afterwards. */
	curl_multi_socket_action(lp->multi, sk->fd, action, &lp->running);
	loop_drain(lp);
}

static void
loop_timer_cb(struct ev_loop *evl, ev_timer *w, int revents)
{
	struct loop *lp = w->data;

	(void)evl;
	(void)revents;
	curl_multi_socket_action(lp->multi, CURL_SOCKET_TIMEOUT, 0,
	    &lp->running);
	loop_drain(lp);
}

/* CURLMOPT_SOCKETFUNCTION: watch s for what libcurl wants, or stop. */
static int
loop_socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct loop	*lp = userp;
	struct sock	*sk = sockp;
	int		 events = 0;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (sk != NULL) {
			curl_multi_assign(lp->multi, s, NULL);
			loop_sock_free(lp, sk);
		}
		return 0;
	}
	if (sk == NULL) {
		if ((sk = calloc(1, sizeof(*sk))) == NULL)
			return -1;
		sk->lp = lp;
		if ((sk->next = lp->socks) != NULL)
			sk->next->prev = sk;
		lp->socks = sk;
		curl_multi_assign(lp->multi, s, sk);
	} else
		ev_io_stop(lp->evl, &sk->io);
	/* fd numbers are reused: always re-set the watcher. */
	sk->fd = s;
	if (what & CURL_POLL_IN)
		events |= EV_READ;
	if (what & CURL_POLL_OUT)
		events |= EV_WRITE;
	ev_io_init(&sk->io, loop_io_cb, s, events);
	sk->io.data = sk;
	ev_io_start(lp->evl, &sk->io);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: (re)arm the one timer; never act from here. */
static int
loop_timeout_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct loop *lp = userp;

	(void)m;
	ev_timer_stop(lp->evl, &lp->timer);
	if (timeout_ms >= 0) {
		ev_timer_set(&lp->timer, timeout_ms / 1000.0, 0.);
		ev_timer_start(lp->evl, &lp->timer);
	}
	return 0;
}

struct loop *
loop_new(struct ev_loop *evl, long maxconnects, loop_done_fn done, void *arg)
{
	struct loop *lp;

	if ((lp = calloc(1, sizeof(*lp))) == NULL)
		return NULL;
	if ((lp->multi = curl_multi_init()) == NULL) {
		free(lp);
		return NULL;
	}
	lp->evl = evl;
	lp->done = done;
	lp->arg = arg;
	ev_timer_init(&lp->timer, loop_timer_cb, 0., 0.);
	lp->timer.data = lp;
	curl_multi_setopt(lp->multi, CURLMOPT_SOCKETFUNCTION, loop_socket_cb);
	curl_multi_setopt(lp->multi, CURLMOPT_SOCKETDATA, lp);
	curl_multi_setopt(lp->multi, CURLMOPT_TIMERFUNCTION, loop_timeout_cb);
	curl_multi_setopt(lp->multi, CURLMOPT_TIMERDATA, lp);
	/*
	 * libcurl's cache shrinks with the handles in use; between two
	 * transfers that would close connections that are about to be used
	 * again.  Keep at least one per slot.
	 */
	curl_multi_setopt(lp->multi, CURLMOPT_MAXCONNECTS, maxconnects);
	return lp;
}

/* Start a transfer; libcurl arms the timer, which gets it going. */
int
loop_add(struct loop *lp, CURL *e)
{
	return curl_multi_add_handle(lp->multi, e) == CURLM_OK ? 0 : -1;
}

void
loop_remove(struct loop *lp, CURL *e)
{
	curl_multi_remove_handle(lp->multi, e);
}

/* Close everything; handles must have been removed already. */
void
loop_free(struct loop *lp)
{
	if (lp == NULL)
		return;
	ev_timer_stop(lp->evl, &lp->timer);
	/* Cleanup closes cached connections, reporting their sockets. */
	curl_multi_cleanup(lp->multi);
	ev_timer_stop(lp->evl, &lp->timer);
	while (lp->socks != NULL)
		loop_sock_free(lp, lp->socks);
	free(lp);
}
