/*
 * loop: libev drives libcurl.  Transfers run in lanes: multi handles of at
 * most LOOP_LANE transfers each, all on the one libev loop, each given to
 * one host (a busy host gets several), so that a lane's connection cache
 * holds only its host's connections.  libcurl 7.88.1 scans a multi
 * handle's cache linearly when it looks for a connection, on every
 * curl_multi_remove_handle and whenever the cache is over
 * CURLMOPT_MAXCONNECTS: bounded lanes of one host keep that scan short
 * and make every idle connection in it one its next transfer can reuse.
 * HTTP/2 multiplexes a host's transfers on one connection per lane.
 * Lanes are made as hosts come, up to LOOP_LANES_SPARE more than the
 * slots need; with more hosts than that, the last ones share lanes.
 *
 * Each socket libcurl reports gets an ev_io (its state hung on the socket
 * with curl_multi_assign); each lane's timeout is an ev_timer of its own.
 * After every socket_action that lane's finished transfers are drained
 * and handed on, outside any libcurl callback, so the receiver may remove
 * and re-add handles freely.  A small table maps each easy handle in
 * flight to its lane, for removal.  One CURLSH holds the DNS and TLS
 * session caches for all of them, and with cookies in use the run's one
 * cookie store.
 *
 * Descriptors: main.c counts what the run may hold; the loop gives the
 * descriptors left for connections out to lanes as caps, one at a time
 * as a lane needs them (CURLMOPT_MAX_TOTAL_CONNECTIONS and MAXCONNECTS:
 * a lane never opens or caches more), and admits no more transfers to a
 * lane than its cap.  Once all are given out, a transfer waits in its
 * host's lane until a transfer there ends and leaves a connection of its
 * host free, rather than closing another host's idle connection to open
 * one.  libcurl's threaded resolver holds two more per lookup while it
 * runs: transfers to a host name not looked up lately wait in the loop
 * while one of them (its gate) looks it up, LOOP_LOOKUPS at most at once.
 */
#include "gather/loop.h"

#include <limits.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

struct mh;

struct sock {
	ev_io		 io;
	curl_socket_t	 fd;
	struct mh	*mh;
	struct sock	*prev, *next;	/* all live sockets, freed at the end */
};

/*
 * One lane: a multi handle and its timer, given to one host (two or more
 * only once the lanes ran out), with the transfers that wait for room.
 */
struct mh {
	CURLM		*multi;		/* NULL: not made yet */
	ev_timer	 timer;
	struct loop	*lp;
	int		 running;
	uint32_t	 host;		/* loop_host_hash of its host */
	unsigned	 hosts;		/* hosts given it (0: free) */
	unsigned	 load;		/* transfers admitted */
	unsigned	 cap;		/* the most connections it opens */
	struct wait	*qhead, *qtail;	/* transfers waiting for room */
};
/* Which multi handle an easy handle in flight was added to. */
struct held {
	CURL		*e;		/* NULL: free */
	size_t		 m;
	uint32_t	 host;		/* loop_host_hash of its URL */
	uint8_t		 dns;		/* HELD_* */
	uint8_t		 lookup;	/* its host name needs a lookup */
	uint8_t		 shared;	/* counted in its hint's shared */
};

#define HELD_ADDED	0	/* in its multi handle */
#define HELD_GATE	1	/* added, its host's first lookup */
#define HELD_WAITING	2	/* not added yet: behind its host's lookup */
#define HELD_QUEUED	3	/* not admitted yet: waits for room in its lane */

/*
 * A host name whose lookup is under way: the transfer doing it (the
 * gate, or none while too many lookups run) and the ones waiting for it.
 */
struct pend {
	uint32_t	 host;
	unsigned	 gates;		/* transfers looking it up */
	int		 failed;	/* a lookup of it failed: several try */
	int		 ready;		/* on the queue of hosts to look up */
	struct wait	*head, *tail;
	struct pend	*next;		/* in its bucket */
	struct pend	*next_ready;
};

struct wait {
	CURL		*e;
	struct wait	*next;
};

/* A host name looked up lately (0: free). */
struct known {
	uint32_t	 host;
	ev_tstamp	 until;
};

#define LOOP_PEND_BUCKETS	256	/* a power of two */
#define LOOP_KNOWN	4096	/* host names remembered; a power of two */
/* libcurl keeps a lookup 60 s: trust it a little less. */
#define LOOP_KNOWN_SECS	50.

/*
 * The lane a host last went to, plus one (0: none), and how many of its
 * transfers are in lanes it does not have to itself.
 */
struct hint {
	uint32_t	 hash;
	uint32_t	 m;
	unsigned	 shared;
};

#define LOOP_HINTS	4096	/* hosts remembered; a power of two */

struct loop {
	struct ev_loop	*evl;
	CURLSH		*share;
	struct mh	*mh;		/* maxmh of them, never moved */
	size_t		 nmh;		/* made so far */
	size_t		 maxmh;
	size_t		 base;		/* lanes main.c counted descriptors for */
	unsigned long	 budget;	/* descriptors for connections and */
	unsigned long	 reserved;	/* lanes past base; and those given */
	struct held	*held;		/* open addressing, linear probing */
	size_t		 heldcap;	/* a power of two */
	size_t		 nheld;
	struct hint	*hints;		/* LOOP_HINTS of them */
	loop_done_fn	 done;
	void		*arg;
	struct sock	*socks;
	CURL		*cookies;	/* never runs: loads and writes cookies */
	struct pend	*pend[LOOP_PEND_BUCKETS];
	struct pend	*ready, *ready_tail;	/* hosts waiting for a lookup */
	struct known	*known;
	unsigned	 lookups;	/* gates out */
	int		 released;	/* gates passed, waiters to add */
	int		 queued;	/* a lane with waiters may have room */
	unsigned long	 lanefds;	/* descriptors of lanes past base */
	unsigned long	 slots;		/* transfers at most at once */
	unsigned long	 inflight;	/* transfers admitted, in all lanes */
	ev_prepare	 prep;		/* adds them, outside libcurl */
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

/*
 * Whether libcurl must look up the host of url: not for an IPv4 or a
 * bracketed IPv6 address (a name given with --resolve is looked up once,
 * from libcurl's cache).
 */
int
loop_needs_lookup(const char *url)
{
	const char	*p, *s = url;
	size_t		 n;

	if (url == NULL)
		return 0;
	if ((p = strstr(url, "://")) != NULL && p - url <= 16)
		s = p + 3;
	n = strcspn(s, "/?#");
	if ((p = memchr(s, '@', n)) != NULL) {
		n -= (size_t)(p + 1 - s);
		s = p + 1;
	}
	if (n > 0 && *s == '[')
		return 0;
	for (; n > 0 && *s != ':'; s++, n--)
		if ((*s < '0' || *s > '9') && *s != '.')
			return 1;
	return 0;
}

/* Whether the host of hash h was looked up lately. */
static int
loop_known(const struct loop *lp, uint32_t h)
{
	const struct known *k = &lp->known[h & (LOOP_KNOWN - 1)];

	return k->host == h && k->until > ev_now(lp->evl);
}

/* The lookup of h under way, made when make is set (NULL: none). */
static struct pend *
loop_pend(struct loop *lp, uint32_t h, int make)
{
	struct pend **pp = &lp->pend[h & (LOOP_PEND_BUCKETS - 1)];

	while (*pp != NULL && (*pp)->host != h)
		pp = &(*pp)->next;
	if (*pp == NULL && make && (*pp = calloc(1, sizeof(**pp))) != NULL)
		(*pp)->host = h;
	return *pp;
}

/* Drop pd, which has no gate, no waiters and is not queued. */
static void
loop_pend_drop(struct loop *lp, struct pend *pd)
{
	struct pend **pp = &lp->pend[pd->host & (LOOP_PEND_BUCKETS - 1)];

	while (*pp != pd)
		pp = &(*pp)->next;
	*pp = pd->next;
	free(pd);
}

/* Queue pd for a lookup as soon as fewer than LOOP_LOOKUPS run. */
static void
loop_ready_push(struct loop *lp, struct pend *pd)
{
	if (pd->ready)
		return;
	pd->ready = 1;
	pd->next_ready = NULL;
	if (lp->ready_tail != NULL)
		lp->ready_tail->next_ready = pd;
	else
		lp->ready = pd;
	lp->ready_tail = pd;
}

/* Hand e to its multi handle; -1 when libcurl refuses it. */
static int
loop_start(struct loop *lp, CURL *e, size_t m)
{
	curl_easy_setopt(e, CURLOPT_SHARE, lp->share);
	if (curl_multi_add_handle(lp->mh[m].multi, e) != CURLM_OK) {
		curl_easy_setopt(e, CURLOPT_SHARE, NULL);
		return -1;
	}
	return 0;
}

/*
 * Start a waiting transfer: as its host's gate, or plainly once the host
 * is known.  One libcurl refuses ends at once, as out of memory.
 */
static void
loop_wake(struct loop *lp, CURL *e, int gate)
{
	struct held *hd = &lp->held[loop_held_find(lp, e)];

	hd->dns = gate ? HELD_GATE : HELD_ADDED;
	if (loop_start(lp, e, hd->m) == 0)
		return;
	if (gate)
		lp->lookups--;
	hd->dns = HELD_ADDED;
	lp->done(lp->arg, e, CURLE_OUT_OF_MEMORY);
}

/* Take the first waiter of pd off its list (NULL: none). */
static CURL *
loop_pend_pop(struct pend *pd)
{
	struct wait	*w = pd->head;
	CURL		*e;

	if (w == NULL)
		return NULL;
	if ((pd->head = w->next) == NULL)
		pd->tail = NULL;
	e = w->e;
	free(w);
	return e;
}

/*
 * The deferred work, never inside a libcurl callback: add the waiters
 * of every host whose lookup passed, then start queued lookups while
 * fewer than LOOP_LOOKUPS run.
 */
static void
loop_release(struct loop *lp)
{
	struct pend	*pd, *next;
	CURL		*e;
	size_t		 i;

	while (lp->released) {
		lp->released = 0;
		for (i = 0; i < LOOP_PEND_BUCKETS; i++)
			for (pd = lp->pend[i]; pd != NULL; pd = next) {
				next = pd->next;
				if (!loop_known(lp, pd->host))
					continue;
				while ((e = loop_pend_pop(pd)) != NULL)
					loop_wake(lp, e, 0);
				if (pd->gates == 0 && !pd->ready)
					loop_pend_drop(lp, pd);
			}
	}
	while (lp->ready != NULL && lp->lookups < LOOP_LOOKUPS) {
		pd = lp->ready;
		if ((lp->ready = pd->next_ready) == NULL)
			lp->ready_tail = NULL;
		pd->ready = 0;
		if ((e = loop_pend_pop(pd)) == NULL) {
			if (pd->gates == 0)
				loop_pend_drop(lp, pd);
			continue;
		}
		pd->gates++;
		lp->lookups++;
		/* After a failed lookup the others try in turn, a few at once. */
		if (pd->failed && pd->head != NULL)
			loop_ready_push(lp, pd);
		loop_wake(lp, e, 1);
	}
}

static void	loop_serve(struct loop *);

/* Before the loop polls: the deferred work, if any. */
static void
loop_prepare_cb(struct ev_loop *evl, ev_prepare *w, int revents)
{
	struct loop *lp = w->data;

	(void)evl;
	(void)revents;
	if (lp->released || (lp->ready != NULL && lp->lookups < LOOP_LOOKUPS))
		loop_release(lp);
	if (lp->queued)
		loop_serve(lp);
}

/*
 * A gate of host h is past its lookup (passed) or its lookup failed: the
 * host is known, and its waiters are added before the loop next polls;
 * or the waiters are queued to try the lookup again, a few at once.
 */
static void
loop_gate_end(struct loop *lp, uint32_t h, int passed)
{
	struct pend		*pd = loop_pend(lp, h, 0);
	struct known		*k = &lp->known[h & (LOOP_KNOWN - 1)];

	lp->lookups--;
	if (passed) {
		k->host = h;
		k->until = ev_now(lp->evl) + LOOP_KNOWN_SECS;
	}
	if (pd == NULL)
		return;
	if (pd->gates > 0)
		pd->gates--;
	if (passed)
		lp->released = 1;
	else {
		pd->failed = 1;
		if (pd->head != NULL)
			loop_ready_push(lp, pd);
		else if (!pd->ready && pd->gates == 0)
			loop_pend_drop(lp, pd);
	}
}

/*
 * A transfer to a host name not looked up lately waits while another
 * transfer looks it up, or while LOOP_LOOKUPS lookups run: each lookup
 * holds two descriptors of libcurl's resolver thread until it ends.
 * 0: e may start now (as its host's gate when *gate is set), 1: e waits,
 * -1: out of memory.
 */
static int
loop_gate(struct loop *lp, CURL *e, uint32_t h, int *gate)
{
	struct pend	*pd;
	struct wait	*w;

	*gate = 0;
	if ((pd = loop_pend(lp, h, 1)) == NULL)
		return -1;
	if ((pd->gates == 0 || pd->failed) && !pd->ready && pd->head == NULL &&
	    lp->lookups < LOOP_LOOKUPS) {
		pd->gates++;
		*gate = 1;
		lp->lookups++;
		return 0;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		if (pd->gates == 0 && !pd->ready && pd->head == NULL)
			loop_pend_drop(lp, pd);
		return -1;
	}
	w->e = e;
	if (pd->tail != NULL)
		pd->tail->next = w;
	else
		pd->head = w;
	pd->tail = w;
	if (pd->gates == 0 || pd->failed)
		loop_ready_push(lp, pd);
	return 1;
}

/* Forget waiting e of host h (a transfer stopped before it started). */
static void
loop_unwait(struct loop *lp, CURL *e, uint32_t h)
{
	struct pend	*pd = loop_pend(lp, h, 0);
	struct wait	**wp, *w, *prev = NULL;

	if (pd == NULL)
		return;
	for (wp = &pd->head; *wp != NULL && (*wp)->e != e; wp = &(*wp)->next)
		prev = *wp;
	if ((w = *wp) == NULL)
		return;
	*wp = w->next;
	if (pd->tail == w)
		pd->tail = prev;
	free(w);
	if (pd->head == NULL && pd->gates == 0 && !pd->ready)
		loop_pend_drop(lp, pd);
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

/*
 * A gate e ended with rc: its lookup passed unless rc says it failed
 * (with --unix-socket, say, no socket of its own ever told).
 */
static void
loop_gate_done(struct loop *lp, CURL *e, CURLcode rc)
{
	struct held *hd = &lp->held[loop_held_find(lp, e)];

	if (hd->e != e || hd->dns != HELD_GATE ||
	    rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY)
		return;
	hd->dns = HELD_ADDED;
	loop_gate_end(lp, hd->host, 1);
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
		if (lp->lookups > 0)
			loop_gate_done(lp, e, rc);
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

/*
 * A socket s of e: a gate is past its host's lookup once it has a socket
 * that is not the resolver's socket pair (a unix one).
 */
static void
loop_passed(struct loop *lp, CURL *e, curl_socket_t s)
{
	struct held		*hd = &lp->held[loop_held_find(lp, e)];
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	if (hd->e == e && hd->dns == HELD_GATE &&
	    getsockname(s, (struct sockaddr *)&ss, &len) == 0 &&
	    ss.ss_family != AF_UNIX) {
		hd->dns = HELD_ADDED;
		loop_gate_end(lp, hd->host, 1);
	}
}

/* CURLMOPT_SOCKETFUNCTION: watch s for what libcurl wants, or stop. */
static int
loop_socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *sockp)
{
	struct mh	*mh = userp;
	struct loop	*lp = mh->lp;
	struct sock	*sk = sockp;
	int		 events = 0;

	if (e != NULL && lp->lookups > 0 && what != CURL_POLL_REMOVE)
		loop_passed(lp, e, s);
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

/* Make lane mh of lp: its limits are set as it is given connections. */
static int
loop_mh_init(struct loop *lp, struct mh *mh)
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
	return 0;
}

/*
 * Close shared lane mh, which has no transfer left: its idle connections
 * are of hosts that moved to lanes of their own, and its descriptors go
 * back to the budget.  Never from inside a libcurl callback.
 */
static void
loop_lane_close(struct loop *lp, struct mh *mh)
{
	size_t i = (size_t)(mh - lp->mh);

	ev_timer_stop(lp->evl, &mh->timer);
	/* Cleanup closes the cached connections, reporting their sockets. */
	curl_multi_cleanup(mh->multi);
	ev_timer_stop(lp->evl, &mh->timer);
	mh->multi = NULL;
	lp->reserved -= mh->cap;
	if (i >= lp->base) {
		lp->reserved -= LOOP_FDS_PER_MULTI;
		lp->lanefds -= LOOP_FDS_PER_MULTI;
	}
	mh->cap = mh->load = mh->hosts = 0;
	mh->host = 0;
	mh->running = 0;
}

/* The most connections lane mh may hold: a cache for each of its hosts. */
static unsigned
loop_lane_max(const struct mh *mh)
{
	return mh->hosts > 1 ? LOOP_LANE * LOOP_CACHE_PER_SLOT : LOOP_LANE;
}

/*
 * Give lane mh up to n more connections from the budget; how many it got.
 * libcurl then opens no more than its cap (at the cap it closes the lane's
 * oldest idle connection first) and caches no more than that.
 */
static unsigned
loop_lane_grow(struct loop *lp, struct mh *mh, unsigned n)
{
	unsigned long	left = lp->budget - lp->reserved;
	unsigned	max = loop_lane_max(mh);

	if (mh->cap >= max)
		return 0;
	if (n > max - mh->cap)
		n = max - mh->cap;
	if (n > left)
		n = (unsigned)left;
	if (n == 0)
		return 0;
	mh->cap += n;
	lp->reserved += n;
	curl_multi_setopt(mh->multi, CURLMOPT_MAXCONNECTS, (long)mh->cap);
	curl_multi_setopt(mh->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)mh->cap);
	return n;
}

/*
 * Descriptors of the budget not given out that no slot may still need:
 * room for idle connections beyond one per slot.
 */
static unsigned long
loop_spare(const struct loop *lp)
{
	unsigned long	left = lp->budget - lp->reserved;
	unsigned long	want = lp->slots > lp->inflight ?
			    lp->slots - lp->inflight : 0;

	return left > want ? left - want : 0;
}

/*
 * Whether lane mh takes one more transfer now, its cap grown if it must;
 * a shared lane takes the spare descriptors too, as room for idle
 * connections of its hosts.
 */
static int
loop_lane_room(struct loop *lp, struct mh *mh)
{
	unsigned long spare;

	if (mh->load >= LOOP_LANE)
		return 0;
	if (mh->hosts > 1 && (spare = loop_spare(lp)) > 0)
		loop_lane_grow(lp, mh, spare > LOOP_LANE ? LOOP_LANE :
		    (unsigned)spare);
	return mh->load < mh->cap || loop_lane_grow(lp, mh, 1) == 1;
}

/*
 * The idle room a lane past the free ones must leave before it is made
 * for a host not yet seen to be busy: half a lane's slots.
 */
static unsigned long
loop_idle_min(const struct loop *lp)
{
	unsigned long slots = lp->slots < LOOP_LANE ? lp->slots : LOOP_LANE;

	return slots / 2;
}

/*
 * A new lane for host h, or NULL when there are maxmh already or the
 * budget has no connection left for it.  Past the lanes main.c counted,
 * a lane's own two descriptors come from the budget too: while that
 * leaves a connection for every slot not yet in flight, or for the first
 * LOOP_LANES_CHEAP such lanes whatever it leaves (a few slots may then
 * wait for a connection of their host, which near the limit costs less
 * than hosts sharing lanes and closing each other's idle connections).
 */
static struct mh *
loop_lane_make(struct loop *lp, uint32_t h, int unproven)
{
	struct mh	*mh;
	unsigned long	 own;
	size_t		 i;

	for (i = 0; i < lp->nmh && lp->mh[i].multi != NULL; i++)
		;
	own = i >= lp->base ? LOOP_FDS_PER_MULTI : 0;
	if (i == lp->maxmh || lp->budget - lp->reserved < own + 1 ||
	    (loop_spare(lp) < own &&
	    lp->lanefds + own > LOOP_LANES_CHEAP * LOOP_FDS_PER_MULTI))
		return NULL;
	if (own > 0 && unproven && loop_spare(lp) < own + loop_idle_min(lp))
		return NULL;
	mh = &lp->mh[i];
	if (loop_mh_init(lp, mh) == -1)
		return NULL;
	if (i == lp->nmh)
		lp->nmh++;
	lp->reserved += own;
	lp->lanefds += own;
	mh->host = h;
	mh->hosts = 1;
	loop_lane_grow(lp, mh, 1);
	return mh;
}

/*
 * The lanes have run out and host h has none: it shares the one with
 * most room (its cache then grows to hold several hosts' connections,
 * as far as the budget goes).
 */
static struct mh *
loop_lane_share(struct loop *lp)
{
	struct mh	*mh, *best = NULL;
	size_t		 i;
	long		 room, most = LONG_MIN;

	for (i = 0; i < lp->nmh; i++) {
		mh = &lp->mh[i];
		if (mh->multi == NULL)
			continue;
		room = (long)mh->cap - (long)mh->load;
		if (room > most) {
			most = room;
			best = mh;
		}
	}
	if (best != NULL)
		best->hosts++;
	return best;
}

/* Whether lane mh has a connection for one more transfer without growing. */
static int
loop_lane_idle(const struct mh *mh)
{
	return mh->qhead == NULL && mh->load < mh->cap && mh->load < LOOP_LANE;
}

/*
 * Whether the host of ht, in shared lane mh, is busy enough for a lane of
 * its own: LOOP_LANE_MIN transfers there at once, or a second one when
 * the slots, shared out over the lane's hosts, give each that many.
 */
static int
loop_busy(const struct loop *lp, const struct hint *ht, const struct mh *mh)
{
	return ht->shared >= LOOP_LANE_MIN || (ht->shared > 0 &&
	    lp->slots >= (unsigned long)LOOP_LANE_MIN * mh->hosts);
}

/*
 * Host h's own lane (given it alone) to add to: an idle one, else the
 * one with fewest transfers; NULL when it has none.
 */
static struct mh *
loop_lane_own(struct loop *lp, uint32_t h)
{
	struct mh	*mh, *own = NULL;
	size_t		 i;

	for (i = 0; i < lp->nmh; i++) {
		mh = &lp->mh[i];
		if (mh->host != h || mh->hosts != 1)
			continue;
		if (loop_lane_idle(mh))
			return mh;
		if (own == NULL || mh->load < own->load)
			own = mh;
	}
	return own;
}

/*
 * The lane for a transfer to host h: the one it went to last when that
 * has a connection more than its transfers (unless it is shared and the
 * host busy enough for a lane of its own), else one of its own that has
 * or can be given one, else a new one, else one of its own to wait in (for a transfer of its host to end: its idle
 * connections are the ones it reuses), else a shared one.
 */
static struct mh *
loop_lane_for(struct loop *lp, uint32_t h)
{
	struct hint	*ht = &lp->hints[h & (LOOP_HINTS - 1)];
	struct mh	*mh, *last = NULL, *made;
	int		 busy = 0;

	if (ht->hash != h) {
		ht->hash = h;
		ht->m = 0;
		ht->shared = 0;
	}
	/* Not a lane closed since, or made again for another host. */
	if (ht->m != 0 && lp->mh[ht->m - 1].multi != NULL &&
	    (lp->mh[ht->m - 1].hosts > 1 || lp->mh[ht->m - 1].host == h)) {
		last = &lp->mh[ht->m - 1];
		busy = last->hosts > 1 && loop_busy(lp, ht, last);
		if (loop_lane_idle(last) && !busy)
			return last;
	}
	if ((mh = loop_lane_own(lp, h)) != NULL && (loop_lane_idle(mh) ||
	    (mh->qhead == NULL && loop_lane_room(lp, mh))))
		goto found;
	if ((made = loop_lane_make(lp, h, mh == NULL && !busy)) != NULL)
		mh = made;
	else if (mh == NULL && (mh = last) == NULL &&
	    (mh = loop_lane_share(lp)) == NULL)
		return NULL;
found:
	ht->m = (uint32_t)(mh - lp->mh + 1);
	return mh;
}

/*
 * A loop for slots transfers at once, with at most conn_max connections
 * open (0: no limit but its own): idle ones included, however many
 * hosts the list goes round.  Lanes are made as hosts come, up to
 * LOOP_LANES_SPARE more than the slots need; those past loop_multis'
 * count take their own descriptors from conn_max.
 */
struct loop *
loop_new(struct ev_loop *evl, long slots, long conn_max, loop_done_fn done,
    void *arg)
{
	struct loop	*lp;

	if ((lp = calloc(1, sizeof(*lp))) == NULL)
		return NULL;
	lp->evl = evl;
	lp->done = done;
	lp->arg = arg;
	if (slots < 1)
		slots = 1;
	lp->base = loop_multis(slots);
	lp->slots = (unsigned long)slots;
	lp->maxmh = lp->base + LOOP_LANES_SPARE;
	lp->budget = conn_max > 0 ? (unsigned long)conn_max : ULONG_MAX / 4;
	if ((lp->mh = calloc(lp->maxmh, sizeof(*lp->mh))) == NULL ||
	    (lp->hints = calloc(LOOP_HINTS, sizeof(*lp->hints))) == NULL ||
	    (lp->known = calloc(LOOP_KNOWN, sizeof(*lp->known))) == NULL ||
	    loop_held_grow(lp) == -1)
		goto fail;
	/* Unreferenced: it never keeps the loop running by itself. */
	ev_prepare_init(&lp->prep, loop_prepare_cb);
	lp->prep.data = lp;
	ev_prepare_start(evl, &lp->prep);
	ev_unref(evl);
	/*
	 * One process, one thread: the share needs no lock callbacks.  DNS
	 * and TLS sessions are global; connections stay per lane, or every
	 * lookup would scan them all again.
	 */
	if ((lp->share = curl_share_init()) == NULL ||
	    curl_share_setopt(lp->share, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
	    curl_share_setopt(lp->share, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
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
 * A handle that never runs loads the n files once, now, and is how
 * loop_cookie_list reads the store at the end (no CURLOPT_COOKIEJAR:
 * gather writes the jar itself, see jar.c).  Call before the first
 * loop_add.
 */
int
loop_share_cookies(struct loop *lp, char *const *files, size_t n)
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
	return 0;
}

/*
 * The run's cookies, one Netscape-format line each (the caller frees the
 * list); NULL when there are none or no store.  *ok is 0 when libcurl
 * could not give them.
 */
struct curl_slist *
loop_cookie_list(struct loop *lp, int *ok)
{
	struct curl_slist *list = NULL;

	*ok = 1;
	if (lp == NULL || lp->cookies == NULL)
		return NULL;
	if (curl_easy_getinfo(lp->cookies, CURLINFO_COOKIELIST, &list) !=
	    CURLE_OK)
		*ok = 0;
	return list;
}

/*
 * Admit e (its entry hd) into its lane: after its host's lookup when
 * the name needs one (loop_gate).  -1 when it cannot start.
 */
static int
loop_admit(struct loop *lp, struct held *hd, CURL *e)
{
	struct mh	*mh = &lp->mh[hd->m];
	int		 gate = 0, w = 0;

	if (hd->lookup && !loop_known(lp, hd->host) &&
	    (w = loop_gate(lp, e, hd->host, &gate)) == -1)
		return -1;
	mh->load++;
	lp->inflight++;
	if (w == 1) {
		hd->dns = HELD_WAITING;
		return 0;
	}
	hd->dns = gate ? HELD_GATE : HELD_ADDED;
	if (loop_start(lp, e, hd->m) == -1) {
		if (gate)
			loop_gate_end(lp, hd->host, 0);
		mh->load--;
		lp->inflight--;
		hd->dns = HELD_ADDED;
		return -1;
	}
	return 0;
}

/* Put e at the end of lane mh's queue; -1 when out of memory. */
static int
loop_enqueue(struct mh *mh, CURL *e)
{
	struct wait *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->e = e;
	if (mh->qtail != NULL)
		mh->qtail->next = w;
	else
		mh->qhead = w;
	mh->qtail = w;
	return 0;
}

/* Take e off lane mh's queue. */
static void
loop_dequeue(struct mh *mh, CURL *e)
{
	struct wait	**wp, *w, *prev = NULL;

	for (wp = &mh->qhead; *wp != NULL && (*wp)->e != e; wp = &(*wp)->next)
		prev = *wp;
	if ((w = *wp) == NULL)
		return;
	*wp = w->next;
	if (mh->qtail == w)
		mh->qtail = prev;
	free(w);
}

/*
 * Admit the waiters of every lane that has room again, outside libcurl;
 * one that cannot start ends at once, as out of memory.
 */
static void
loop_serve(struct loop *lp)
{
	struct mh	*mh;
	struct wait	*w;
	struct held	*hd;
	CURL		*e;
	size_t		 i;

	lp->queued = 0;
	for (i = 0; i < lp->nmh; i++) {
		mh = &lp->mh[i];
		if (mh->multi != NULL && mh->hosts > 1 && mh->load == 0 &&
		    mh->qhead == NULL) {
			loop_lane_close(lp, mh);
			continue;
		}
		while ((w = mh->qhead) != NULL && loop_lane_room(lp, mh)) {
			if ((mh->qhead = w->next) == NULL)
				mh->qtail = NULL;
			e = w->e;
			free(w);
			hd = &lp->held[loop_held_find(lp, e)];
			if (hd->e != e)
				continue;
			if (loop_admit(lp, hd, e) == -1) {
				/* loop_remove gives the place back. */
				mh->load++;
				lp->inflight++;
				lp->done(lp->arg, e, CURLE_OUT_OF_MEMORY);
			}
		}
	}
}

/*
 * Start a transfer to url in its host's lane; libcurl arms that lane's
 * timer, which gets it going.  With no room in the lane it waits there
 * for a transfer of the lane to end; a transfer to a host name not
 * looked up lately may wait for another's lookup (loop_gate).
 */
int
loop_add(struct loop *lp, CURL *e, const char *url)
{
	struct held	*hd;
	struct mh	*mh;
	uint32_t	 h = loop_host_hash(url);
	size_t		 m;

	if (lp->held[loop_held_find(lp, e)].e == e ||
	    (mh = loop_lane_for(lp, h)) == NULL)
		return -1;
	m = (size_t)(mh - lp->mh);
	if (loop_held_put(lp, e, m) == -1)
		return -1;
	hd = &lp->held[loop_held_find(lp, e)];
	hd->host = h;
	hd->lookup = (uint8_t)loop_needs_lookup(url);
	hd->dns = HELD_ADDED;
	hd->shared = mh->hosts > 1 || mh->host != h;
	lp->hints[h & (LOOP_HINTS - 1)].shared += hd->shared;
	if (mh->qhead == NULL && loop_lane_room(lp, mh)) {
		if (loop_admit(lp, hd, e) == 0)
			return 0;
	} else if (loop_enqueue(mh, e) == 0) {
		hd->dns = HELD_QUEUED;
		return 0;
	}
	loop_held_del(lp, loop_held_find(lp, e));
	return -1;
}

/* Take e out of its lane; a handle not in flight is left alone. */
void
loop_remove(struct loop *lp, CURL *e)
{
	struct mh	*mh;
	struct hint	*ht;
	size_t		 i;
	uint32_t	 h;
	uint8_t		 dns;

	i = loop_held_find(lp, e);
	if (lp->held[i].e == NULL)
		return;
	mh = &lp->mh[lp->held[i].m];
	h = lp->held[i].host;
	dns = lp->held[i].dns;
	ht = &lp->hints[h & (LOOP_HINTS - 1)];
	if (lp->held[i].shared && ht->hash == h && ht->shared > 0)
		ht->shared--;
	loop_held_del(lp, i);
	if (dns == HELD_QUEUED) {
		loop_dequeue(mh, e);
		return;
	}
	mh->load--;
	lp->inflight--;
	if (mh->qhead != NULL || (mh->load == 0 && mh->hosts > 1))
		lp->queued = 1;
	if (dns == HELD_WAITING) {
		loop_unwait(lp, e, h);
		return;
	}
	curl_multi_remove_handle(mh->multi, e);
	/* The share must be free of handles when loop_free cleans it up. */
	curl_easy_setopt(e, CURLOPT_SHARE, NULL);
	/* Gone before its lookup ended: the next waiter tries. */
	if (dns == HELD_GATE)
		loop_gate_end(lp, h, 0);
}

/* The lane e is in, or -1 when it is not in flight. */
long
loop_which(const struct loop *lp, const CURL *e)
{
	size_t i = loop_held_find(lp, e);

	return lp->held[i].e == NULL ? -1 : (long)lp->held[i].m;
}

/* Whether e waits for room in its lane (not admitted yet). */
int
loop_waits(const struct loop *lp, const CURL *e)
{
	size_t i = loop_held_find(lp, e);

	return lp->held[i].e == e && lp->held[i].dns == HELD_QUEUED;
}

/* Free the lookups under way and their waiters (none at a normal end). */
static void
loop_pend_free(struct loop *lp)
{
	struct pend	*pd;
	size_t		 i;

	for (i = 0; i < LOOP_PEND_BUCKETS; i++)
		while ((pd = lp->pend[i]) != NULL) {
			lp->pend[i] = pd->next;
			while (loop_pend_pop(pd) != NULL)
				;
			free(pd);
		}
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
	if (lp->known != NULL) {
		ev_ref(lp->evl);
		ev_prepare_stop(lp->evl, &lp->prep);
	}
	loop_pend_free(lp);
	for (i = 0; lp->mh != NULL && i < lp->nmh; i++) {
		mh = &lp->mh[i];
		while (mh->qhead != NULL)
			loop_dequeue(mh, mh->qhead->e);
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
	/* It must leave the share before the share is cleaned up. */
	if (lp->cookies != NULL)
		curl_easy_cleanup(lp->cookies);
	/* After the connections, which may still point into its caches. */
	if (lp->share != NULL)
		curl_share_cleanup(lp->share);
	free(lp->held);
	free(lp->known);
	free(lp->hints);
	free(lp->mh);
	free(lp);
}
