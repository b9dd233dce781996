/*
 * loop: libev drives libcurl.  Transfers run in lanes, multi handles of
 * at most LOOP_LANE transfers each on the one libev loop (loop_lane.c
 * says which lane a transfer goes to and how many connections a lane may
 * hold); each socket and timer libcurl asks for is a libev watcher
 * (loop_io.c); transfers to a host name not looked up lately wait for one
 * lookup (loop_lookup.c).  This file is what ties them together: the loop
 * itself, a transfer's way in (loop_add: its lane, its lookup, a place in
 * its lane's queue while the lane has no room) and out (loop_remove), and
 * the deferred work run before the loop polls, never inside a libcurl
 * callback.  A small table maps each easy handle in flight to its lane,
 * for removal.  One CURLSH holds the DNS and TLS session caches for all
 * lanes, and with cookies in use the run's one cookie store.
 */
#include "loop_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static void	loop_serve(struct loop *);

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
 * Where e's entry would be first looked for in a table of mask + 1.
 * Pointers are aligned: drop the low bits, spread the rest, and take bits
 * of the product's upper half: its low bits depend only on the pointer's
 * low bits, which easy handles a fixed size apart share.
 */
static size_t
loop_held_home(const CURL *e, size_t mask)
{
	return (size_t)((((uintptr_t)e >> 4) * 0x9e3779b97f4a7c15ull) >> 32) &
	    mask;
}

/* The slot of e in the table, or of the free place where it would go. */
size_t
loop_held_find(const struct loop *lp, const CURL *e)
{
	size_t i;

	i = loop_held_home(e, lp->heldcap - 1);
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

/* Note that e is in multi handle m; kept at most a quarter full. */
static int
loop_held_put(struct loop *lp, CURL *e, size_t m)
{
	size_t i;

	if ((lp->nheld + 1) * 4 > lp->heldcap && loop_held_grow(lp) == -1)
		return -1;
	i = loop_held_find(lp, e);
	if (lp->held[i].e == NULL)
		lp->nheld++;
	lp->held[i].e = e;
	lp->held[i].m = m;
	lp->held[i].doomed = 0;
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
		home = loop_held_home(lp->held[j].e, mask);
		/* Move j to the hole when its home is not in (i, j]. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			lp->held[i] = lp->held[j];
			lp->held[j].e = NULL;
			i = j;
		}
	}
}

/* Hand e to its multi handle; -1 when libcurl refuses it, LOOP_NOMEM. */
int
loop_start(struct loop *lp, CURL *e, size_t m)
{
	CURLMcode mc;

	curl_easy_setopt(e, CURLOPT_SHARE, lp->share);
	if ((mc = curl_multi_add_handle(lp->mh[m].multi, e)) != CURLM_OK) {
		curl_easy_setopt(e, CURLOPT_SHARE, NULL);
		return mc == CURLM_OUT_OF_MEMORY ? LOOP_NOMEM : -1;
	}
	return 0;
}

/* Before the loop polls: the deferred work, if any. */
static void
loop_prepare_cb(struct ev_loop *evl, ev_prepare *w, int revents)
{
	struct loop *lp = w->data;

	(void)evl;
	(void)revents;
	if (lp->released || (lp->ready != NULL && lp->lookups < LOOP_LOOKUPS))
		loop_lookup_release(lp);
	if (lp->queued)
		loop_serve(lp);
	if (lp->doomed)
		loop_io_reap(lp);
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

/* Set one cookie, a COOKIELIST line, in the run's store; -1 if refused. */
int
loop_cookie_set(struct loop *lp, const char *line)
{
	if (lp == NULL || lp->cookies == NULL)
		return -1;
	return curl_easy_setopt(lp->cookies, CURLOPT_COOKIELIST, line) ==
	    CURLE_OK ? 0 : -1;
}

/*
 * Admit e (its entry hd) into its lane: after its host's lookup when
 * the name needs one (loop_lookup_gate).  -1 when it cannot start,
 * LOOP_NOMEM when memory ran out.
 */
static int
loop_admit(struct loop *lp, struct held *hd, CURL *e)
{
	struct mh	*mh = &lp->mh[hd->m];
	int		 gate = 0, w = 0, rc;

	if (hd->lookup && !loop_lookup_known(lp, hd->host) &&
	    (w = loop_lookup_gate(lp, e, hd->host, &gate)) == -1)
		return LOOP_NOMEM;
	mh->load++;
	lp->inflight++;
	if (w == 1) {
		hd->dns = HELD_WAITING;
		return 0;
	}
	hd->dns = gate ? HELD_GATE : HELD_ADDED;
	if ((rc = loop_start(lp, e, hd->m)) != 0) {
		if (gate)
			loop_lookup_end(lp, hd->host, 0);
		mh->load--;
		lp->inflight--;
		hd->dns = HELD_ADDED;
		return rc;
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
			if (loop_admit(lp, hd, e) != 0) {
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
 * looked up lately may wait for another's lookup (loop_lookup_gate).
 * -1 when it cannot start, LOOP_NOMEM when memory ran out.
 */
int
loop_add(struct loop *lp, CURL *e, const char *url)
{
	struct held	*hd;
	struct mh	*mh;
	uint32_t	 h = loop_host_hash(url);
	size_t		 m;
	int		 rc = LOOP_NOMEM;

	if (lp->held[loop_held_find(lp, e)].e == e ||
	    ((mh = loop_lane_last(lp, h)) == NULL &&
	    (mh = loop_lane_for(lp, h)) == NULL))
		return -1;
	m = (size_t)(mh - lp->mh);
	if (loop_held_put(lp, e, m) == -1)
		return LOOP_NOMEM;
	hd = &lp->held[loop_held_find(lp, e)];
	hd->host = h;
	hd->lookup = (uint8_t)loop_needs_lookup(url);
	hd->dns = HELD_ADDED;
	hd->shared = mh->hosts > 1 || mh->host != h;
	lp->hints[h & (LOOP_HINTS - 1)].shared += hd->shared;
	/* A shared lane's room may grow even when it has some (idle room). */
	if ((mh->hosts == 1 && loop_lane_idle(mh)) ||
	    (mh->qhead == NULL && loop_lane_room(lp, mh))) {
		if ((rc = loop_admit(lp, hd, e)) == 0)
			return 0;
	} else if (loop_enqueue(mh, e) == 0) {
		hd->dns = HELD_QUEUED;
		return 0;
	}
	loop_held_del(lp, loop_held_find(lp, e));
	return rc;
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
		loop_lookup_unwait(lp, e, h);
		return;
	}
	curl_multi_remove_handle(mh->multi, e);
	/* The share must be free of handles when loop_free cleans it up. */
	curl_easy_setopt(e, CURLOPT_SHARE, NULL);
	/* Gone before its lookup ended: the next waiter tries. */
	if (dns == HELD_GATE)
		loop_lookup_end(lp, h, 0);
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
	loop_lookup_free(lp);
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
	free(lp->spare);
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
