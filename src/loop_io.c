/*
 * loop_io: the evhiperfifo pattern, per lane.  Each socket libcurl
 * reports gets an ev_io (its state hung on the socket with
 * curl_multi_assign); each lane's timeout is an ev_timer of its own.
 * Every event goes back to its lane through curl_multi_socket_action,
 * after which that lane's finished transfers are drained and handed to
 * the done callback, outside any libcurl callback, so the receiver may
 * remove and re-add handles freely.
 */
#include "loop_int.h"

#include <stdlib.h>
#include <string.h>

/*
 * A socket's state, or NULL when memory ran out: one is kept spare, so
 * that a socket libcurl opens is watched even then, and made again when
 * memory allows.
 */
static struct sock *
loop_io_sock_new(struct loop *lp)
{
	struct sock *sk;

	if (lp->spare == NULL)
		lp->spare = calloc(1, sizeof(*lp->spare));
	if ((sk = calloc(1, sizeof(*sk))) == NULL && (sk = lp->spare) != NULL)
		lp->spare = NULL;
	return sk;
}

/* Stop a socket's watcher and forget it (kept as the spare if none is). */
static void
loop_io_sock_free(struct loop *lp, struct sock *sk)
{
	ev_io_stop(lp->evl, &sk->io);
	if (sk->prev)
		sk->prev->next = sk->next;
	else
		lp->socks = sk->next;
	if (sk->next)
		sk->next->prev = sk->prev;
	if (lp->spare == NULL) {
		memset(sk, 0, sizeof(*sk));
		lp->spare = sk;
	} else
		free(sk);
}

/*
 * No memory to watch a socket of e: e is doomed, to end as out of memory
 * before the loop next polls, outside libcurl (loop_io_reap).  libcurl
 * 7.88 takes a -1 from the socket callback as the end of the whole multi
 * handle, whose transfers then never finish.  A socket of no transfer in
 * flight goes unwatched; its transfer's timeout still ends it.
 */
static void
loop_io_doom(struct loop *lp, CURL *e)
{
	struct held *hd;

	if (e == NULL || (hd = &lp->held[loop_held_find(lp, e)])->e != e)
		return;
	hd->doomed = 1;
	lp->doomed = 1;
}

/* End every doomed transfer as out of memory. */
void
loop_io_reap(struct loop *lp)
{
	size_t i;

	lp->doomed = 0;
	for (i = 0; i < lp->heldcap; i++) {
		if (lp->held[i].e == NULL || !lp->held[i].doomed)
			continue;
		lp->held[i].doomed = 0;
		lp->done(lp->arg, lp->held[i].e, CURLE_OUT_OF_MEMORY);
		i = (size_t)-1;	/* the table changed: look again */
	}
}

/* Hand every finished transfer of one multi handle to the done callback. */
static void
loop_io_drain(struct mh *mh)
{
	struct loop	*lp = mh->lp;
	CURLMsg		*m;
	CURL		*e;
	CURLcode	 rc;
	int		 left;

	while ((m = curl_multi_info_read(mh->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		/* m is invalid once the handle is removed: copy first. */
		e = m->easy_handle;
		rc = m->data.result;
		if (lp->lookups > 0)
			loop_lookup_done(lp, e, rc);
		lp->done(lp->arg, e, rc);
	}
}

/* A socket is ready: tell its multi handle, then hand on what finished. */
static void
loop_io_cb(struct ev_loop *evl, ev_io *w, int revents)
{
	struct sock	*sk = w->data;
	struct mh	*mh = sk->mh;
	int		 action = 0;

	(void)evl;
	if (revents & EV_READ)
		action |= CURL_CSELECT_IN;
	if (revents & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	/* sk may be freed inside this call; use only mh afterwards. */
	curl_multi_socket_action(mh->multi, sk->fd, action, &mh->running);
	loop_io_drain(mh);
}

/* A multi handle's timeout expired: let it act, outside libcurl's callback. */
static void
loop_io_timer_cb(struct ev_loop *evl, ev_timer *w, int revents)
{
	struct mh *mh = w->data;

	(void)evl;
	(void)revents;
	curl_multi_socket_action(mh->multi, CURL_SOCKET_TIMEOUT, 0,
	    &mh->running);
	loop_io_drain(mh);
}

/* CURLMOPT_SOCKETFUNCTION: watch s for what libcurl wants, or stop. */
static int
loop_io_socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct mh	*mh = userp;
	struct loop	*lp = mh->lp;
	struct sock	*sk = sockp;
	int		 events = 0;

	if (e != NULL && lp->lookups > 0 && what != CURL_POLL_REMOVE)
		loop_lookup_passed(lp, e, s);
	if (what == CURL_POLL_REMOVE) {
		if (sk != NULL) {
			curl_multi_assign(mh->multi, s, NULL);
			loop_io_sock_free(lp, sk);
		}
		return 0;
	}
	if (sk == NULL) {
		if ((sk = loop_io_sock_new(lp)) == NULL) {
			loop_io_doom(lp, e);
			return 0;
		}
		sk->mh = mh;
		if ((sk->next = lp->socks) != NULL)
			sk->next->prev = sk;
		lp->socks = sk;
		curl_multi_assign(mh->multi, s, sk);
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

/* CURLMOPT_TIMERFUNCTION: (re)arm this multi's timer; never act from here. */
static int
loop_io_timeout_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct mh *mh = userp;

	(void)m;
	ev_timer_stop(mh->lp->evl, &mh->timer);
	if (timeout_ms >= 0) {
		ev_timer_set(&mh->timer, timeout_ms / 1000.0, 0.);
		ev_timer_start(mh->lp->evl, &mh->timer);
	}
	return 0;
}

/* Make lane mh of lp: its limits are set as it is given connections. */
int
loop_io_lane_init(struct loop *lp, struct mh *mh)
{
	if ((mh->multi = curl_multi_init()) == NULL)
		return -1;
	mh->lp = lp;
	ev_timer_init(&mh->timer, loop_io_timer_cb, 0., 0.);
	mh->timer.data = mh;
	curl_multi_setopt(mh->multi, CURLMOPT_SOCKETFUNCTION,
	    loop_io_socket_cb);
	curl_multi_setopt(mh->multi, CURLMOPT_SOCKETDATA, mh);
	curl_multi_setopt(mh->multi, CURLMOPT_TIMERFUNCTION,
	    loop_io_timeout_cb);
	curl_multi_setopt(mh->multi, CURLMOPT_TIMERDATA, mh);
	return 0;
}
