/*
 * loop: libev drives libcurl.  The slots are spread over k multi handles
 * (one per LOOP_SLOTS_PER_MULTI slots), all on the one libev loop: libcurl
 * 7.88.1 scans a multi handle's connection cache linearly when it looks
 * for a connection, on every curl_multi_remove_handle and whenever the
 * cache is over CURLMOPT_MAXCONNECTS, so bounding the transfers (and so
 * the connections) per multi handle keeps the CPU per request flat in -c.
 *
 * Each socket libcurl reports gets an ev_io (its state hung on the socket
 * with curl_multi_assign); each multi handle's timeout is an ev_timer of
 * its own.  After every socket_action that multi handle's finished
 * transfers are drained and handed on, outside any libcurl callback, so
 * the receiver may remove and re-add handles freely.
 *
 * A transfer goes to its host's home multi handle (hosts get homes in
 * turn as they first come), so that transfers to one host share its
 * connections (and HTTP/2 multiplexes them on one), or to the next one
 * with room when home is full.  A small table maps each easy handle in flight to its
 * multi handle, for removal; nothing depends on easy handles being reused.
 * One CURLSH holds the DNS and TLS session caches for all of them, and
 * with cookies in use the run's one cookie store.
 */
#include "gather/loop.h"

#include <stdlib.h>
#include <string.h>

struct mh;

struct sock {
	ev_io		 io;
	curl_socket_t	 fd;
	struct mh	*mh;
	struct sock	*prev, *next;	/* all live sockets, freed at the end */
};

/* One multi handle and its timer. */
struct mh {
	CURLM		*multi;
	ev_timer	 timer;
	struct loop	*lp;
	int		 running;
};

/* Which multi handle an easy handle in flight was added to. */
struct held {
	CURL		*e;		/* NULL: free */
	size_t		 m;
};

/* A host's home multi handle, plus one (0: free). */
struct home {
	uint32_t	 hash;
	uint32_t	 m;
};

#define LOOP_HOMES	4096	/* hosts remembered; a power of two */

struct loop {
	struct ev_loop	*evl;
	CURLSH		*share;
	struct mh	*mh;
	unsigned	*load;		/* transfers in each multi handle */
	size_t		 nmh;
	unsigned	 per;		/* slots per multi handle */
	struct held	*held;		/* open addressing, linear probing */
	size_t		 heldcap;	/* a power of two */
	size_t		 nheld;
	struct home	*homes;		/* LOOP_HOMES of them */
	size_t		 next_home;
	loop_done_fn	 done;
	void		*arg;
	struct sock	*socks;
	CURL		*cookies;	/* never runs: loads and writes cookies */
};

/* How many multi handles serve this many slots. */
size_t
loop_multis(long slots)
{
	if (slots < 1)
		return 1;
	return ((size_t)slots + LOOP_SLOTS_PER_MULTI - 1) /
	    LOOP_SLOTS_PER_MULTI;
}

/*
 * FNV-1a over the URL's authority (after any "scheme://", up to the path),
 * folded to lower case: the same host and port give the same value.
 */
uint32_t
loop_host_hash(const char *url)
{
	const char	*p, *s;
	uint32_t	 h = 2166136261u;
	unsigned char	 c;

	if (url == NULL)
		return h;
	s = url;
	if ((p = strstr(url, "://")) != NULL && p - url <= 16 &&
	    strcspn(url, "/?#") > (size_t)(p - url))
		s = p + 3;
	for (; *s != '\0' && *s != '/' && *s != '?' && *s != '#'; s++) {
		c = (unsigned char)*s;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 16777619u;
	}
	return h;
}

/*
 * The multi handle for a transfer whose host's home is home: the home
 * while it holds fewer than one and a half times per transfers (a little
 * over is cheaper than connections to that host in another multi handle
 * too), else the next one under per, else (more transfers than slots,
 * never in gather) the least loaded.  k * per covers the slots, so one
 * under per is there whenever a slot is free.
 */
size_t
loop_pick(const unsigned *load, size_t k, unsigned per, size_t home)
{
	size_t	i, m, best;

	if (k <= 1)
		return 0;
	home %= k;
	if (load[home] < per + per / 2)
		return home;
	best = home;
	for (i = 1, m = home + 1; i < k; i++, m++) {
		if (m == k)
			m = 0;
		if (load[m] < per)
			return m;
		if (load[m] < load[best])
			best = m;
	}
	return best;
}

/*
 * The home multi handle of the host of hash h: hosts get homes in turn
 * as they first come, so that a list over a few hosts spreads them
 * evenly (a hash modulo k would not).  The table is a fixed cache: a
 * host pushed out by another of the same slot gets a new home later.
 */
static size_t
loop_home(struct loop *lp, uint32_t h)
{
	struct home *hm = &lp->homes[h & (LOOP_HOMES - 1)];

	if (hm->m == 0 || hm->hash != h) {
		hm->hash = h;
		hm->m = (uint32_t)(lp->next_home + 1);
		lp->next_home = (lp->next_home + 1) % lp->nmh;
	}
	return hm->m - 1;
}

/* The slot of e in the table, or of the free place where it would go. */
static size_t
loop_held_find(const struct loop *lp, const CURL *e)
{
	size_t i;

	/* Pointers are aligned: drop the low bits, spread the rest. */
	i = (size_t)(((uintptr_t)e >> 4) * 0x9e3779b97f4a7c15ull) &
	    (lp->heldcap - 1);
	while (lp->held[i].e != NULL && lp->held[i].e != e)
		i = (i + 1) & (lp->heldcap - 1);
	return i;
}

/* Double the table (or make it), keeping what it holds. */
static int
loop_held_grow(struct loop *lp)
{
	struct held	*old = lp->held;
	size_t		 oldcap = lp->heldcap, i;

	lp->heldcap = oldcap == 0 ? 64 : oldcap * 2;
	if ((lp->held = calloc(lp->heldcap, sizeof(*lp->held))) == NULL) {
		lp->held = old;
		lp->heldcap = oldcap;
		return -1;
	}
	for (i = 0; i < oldcap; i++)
		if (old[i].e != NULL)
			lp->held[loop_held_find(lp, old[i].e)] = old[i];
	free(old);
	return 0;
}

/* Note that e is in multi handle m; kept at most half full. */
static int
loop_held_put(struct loop *lp, CURL *e, size_t m)
{
	size_t i;

	if ((lp->nheld + 1) * 2 > lp->heldcap && loop_held_grow(lp) == -1)
		return -1;
	i = loop_held_find(lp, e);
	if (lp->held[i].e == NULL)
		lp->nheld++;
	lp->held[i].e = e;
	lp->held[i].m = m;
	return 0;
}

/*
 * Forget the entry at slot i, shifting later entries of its run back so
 * that every lookup still finds its entry without tombstones.
 */
static void
loop_held_del(struct loop *lp, size_t i)
{
	size_t	mask = lp->heldcap - 1, j, home;

	lp->held[i].e = NULL;
	lp->nheld--;
	for (j = (i + 1) & mask; lp->held[j].e != NULL; j = (j + 1) & mask) {
		home = (size_t)(((uintptr_t)lp->held[j].e >> 4) *
		    0x9e3779b97f4a7c15ull) & mask;
		/* Move j to the hole when its home is not in (i, j]. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			lp->held[i] = lp->held[j];
			lp->held[j].e = NULL;
			i = j;
		}
	}
}

/* Stop a socket's watcher and forget it. */
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

/* Hand every finished transfer of one multi handle to the done callback. */
static void
loop_drain(struct mh *mh)
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
	loop_drain(mh);
}

/* A multi handle's timeout expired: let it act, outside libcurl's callback. */
static void
loop_timer_cb(struct ev_loop *evl, ev_timer *w, int revents)
{
	struct mh *mh = w->data;

	(void)evl;
	(void)revents;
	curl_multi_socket_action(mh->multi, CURL_SOCKET_TIMEOUT, 0,
	    &mh->running);
	loop_drain(mh);
}

/* CURLMOPT_SOCKETFUNCTION: watch s for what libcurl wants, or stop. */
static int
loop_socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct mh	*mh = userp;
	struct loop	*lp = mh->lp;
	struct sock	*sk = sockp;
	int		 events = 0;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (sk != NULL) {
			curl_multi_assign(mh->multi, s, NULL);
			loop_sock_free(lp, sk);
		}
		return 0;
	}
	if (sk == NULL) {
		if ((sk = calloc(1, sizeof(*sk))) == NULL)
			return -1;
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
loop_timeout_cb(CURLM *m, long timeout_ms, void *userp)
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

/* Make multi handle mh of lp, with a cache of cache connections. */
static int
loop_mh_init(struct loop *lp, struct mh *mh, long cache)
{
	if ((mh->multi = curl_multi_init()) == NULL)
		return -1;
	mh->lp = lp;
	ev_timer_init(&mh->timer, loop_timer_cb, 0., 0.);
	mh->timer.data = mh;
	curl_multi_setopt(mh->multi, CURLMOPT_SOCKETFUNCTION, loop_socket_cb);
	curl_multi_setopt(mh->multi, CURLMOPT_SOCKETDATA, mh);
	curl_multi_setopt(mh->multi, CURLMOPT_TIMERFUNCTION, loop_timeout_cb);
	curl_multi_setopt(mh->multi, CURLMOPT_TIMERDATA, mh);
	curl_multi_setopt(mh->multi, CURLMOPT_MAXCONNECTS, cache);
	return 0;
}

/*
 * A loop for slots transfers at once, with at most conn_max connections
 * open (0: no limit but its own).  libcurl's own cache size shrinks
 * with the handles in use, which between two transfers closes connections
 * about to be used again; and one connection per slot is not enough when
 * the list goes round more hosts than there are slots (each transfer
 * would close an idle connection to open another): cache several per
 * slot.
 */
struct loop *
loop_new(struct ev_loop *evl, long slots, long conn_max, loop_done_fn done,
    void *arg)
{
	struct loop	*lp;
	size_t		 i;
	long		 cache;

	if ((lp = calloc(1, sizeof(*lp))) == NULL)
		return NULL;
	lp->evl = evl;
	lp->done = done;
	lp->arg = arg;
	if (slots < 1)
		slots = 1;
	lp->nmh = loop_multis(slots);
	lp->per = (unsigned)(((size_t)slots + lp->nmh - 1) / lp->nmh);
	if ((lp->mh = calloc(lp->nmh, sizeof(*lp->mh))) == NULL ||
	    (lp->load = calloc(lp->nmh, sizeof(*lp->load))) == NULL ||
	    (lp->homes = calloc(LOOP_HOMES, sizeof(*lp->homes))) == NULL ||
	    loop_held_grow(lp) == -1)
		goto fail;
	/*
	 * One process, one thread: the share needs no lock callbacks.  DNS
	 * and TLS sessions are global; connections stay per multi handle,
	 * or every lookup would scan them all again.
	 */
	if ((lp->share = curl_share_init()) == NULL ||
	    curl_share_setopt(lp->share, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
	    curl_share_setopt(lp->share, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
		goto fail;
	/*
	 * Every cached connection holds a descriptor: within conn_max (the
	 * descriptors left for connections), never below one per slot.
	 */
	cache = (long)lp->per * LOOP_CACHE_PER_SLOT;
	if (conn_max > 0 && cache > conn_max / (long)lp->nmh)
		cache = conn_max / (long)lp->nmh;
	if (cache < (long)lp->per)
		cache = (long)lp->per;
	for (i = 0; i < lp->nmh; i++)
		if (loop_mh_init(lp, &lp->mh[i], cache) == -1)
			goto fail;
	return lp;
fail:
	loop_free(lp);
	return NULL;
}

/*
 * One cookie store for the run: the share holds it, so that every
 * transfer's fresh handle reads and adds to the same cookies (an easy
 * handle belongs to one share only, so it cannot be a share of its own).
 * A handle that never runs loads the n files once, now, and holds jar:
 * libcurl writes the store to jar when that handle is cleaned up, which
 * loop_free does once at the end however the run ended, signals included.
 * Call before the first loop_add.
 */
int
loop_share_cookies(struct loop *lp, char *const *files, size_t n,
    const char *jar)
{
	size_t i;

	if (curl_share_setopt(lp->share, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_COOKIE) != CURLSHE_OK ||
	    (lp->cookies = curl_easy_init()) == NULL ||
	    curl_easy_setopt(lp->cookies, CURLOPT_SHARE, lp->share) !=
	    CURLE_OK)
		return -1;
	for (i = 0; i < n; i++)
		if (curl_easy_setopt(lp->cookies, CURLOPT_COOKIEFILE,
		    files[i]) != CURLE_OK)
			return -1;
	if (n > 0 && curl_easy_setopt(lp->cookies, CURLOPT_COOKIELIST,
	    "RELOAD") != CURLE_OK)
		return -1;
	if (jar != NULL && curl_easy_setopt(lp->cookies, CURLOPT_COOKIEJAR,
	    jar) != CURLE_OK)
		return -1;
	return 0;
}

/*
 * Start a transfer to url (its host picks the multi handle); libcurl arms
 * that handle's timer, which gets it going.
 */
int
loop_add(struct loop *lp, CURL *e, const char *url)
{
	size_t m;

	if (lp->held[loop_held_find(lp, e)].e == e)
		return -1;
	m = lp->nmh == 1 ? 0 : loop_pick(lp->load, lp->nmh, lp->per,
	    loop_home(lp, loop_host_hash(url)));
	if (loop_held_put(lp, e, m) == -1)
		return -1;
	curl_easy_setopt(e, CURLOPT_SHARE, lp->share);
	if (curl_multi_add_handle(lp->mh[m].multi, e) != CURLM_OK) {
		curl_easy_setopt(e, CURLOPT_SHARE, NULL);
		loop_held_del(lp, loop_held_find(lp, e));
		return -1;
	}
	lp->load[m]++;
	return 0;
}

/* Take e out of its multi handle; a handle not in flight is left alone. */
void
loop_remove(struct loop *lp, CURL *e)
{
	size_t	i, m;

	i = loop_held_find(lp, e);
	if (lp->held[i].e == NULL)
		return;
	m = lp->held[i].m;
	loop_held_del(lp, i);
	curl_multi_remove_handle(lp->mh[m].multi, e);
	lp->load[m]--;
	/* The share must be free of handles when loop_free cleans it up. */
	curl_easy_setopt(e, CURLOPT_SHARE, NULL);
}

/* The multi handle e is in, or -1 when it is not in flight. */
long
loop_which(const struct loop *lp, const CURL *e)
{
	size_t i = loop_held_find(lp, e);

	return lp->held[i].e == NULL ? -1 : (long)lp->held[i].m;
}

/* Close everything; handles must have been removed already. */
void
loop_free(struct loop *lp)
{
	struct mh	*mh;
	struct sock	*sk;
	size_t		 i;

	if (lp == NULL)
		return;
	for (i = 0; lp->mh != NULL && i < lp->nmh; i++) {
		mh = &lp->mh[i];
		if (mh->multi == NULL)
			continue;
		ev_timer_stop(lp->evl, &mh->timer);
		/* Cleanup closes cached connections, reporting their sockets. */
		curl_multi_cleanup(mh->multi);
		ev_timer_stop(lp->evl, &mh->timer);
	}
	/* The rest of the list goes too: no need to unlink one by one. */
	while ((sk = lp->socks) != NULL) {
		lp->socks = sk->next;
		ev_io_stop(lp->evl, &sk->io);
		free(sk);
	}
	/* Writes the cookie jar, if any; it must leave the share first. */
	if (lp->cookies != NULL)
		curl_easy_cleanup(lp->cookies);
	/* After the connections, which may still point into its caches. */
	if (lp->share != NULL)
		curl_share_cleanup(lp->share);
	free(lp->held);
	free(lp->homes);
	free(lp->load);
	free(lp->mh);
	free(lp);
}
