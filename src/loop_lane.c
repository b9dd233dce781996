/*
 * loop_lane: which lane a transfer goes to, and how many connections
 * each lane may hold.  A lane is a multi handle given to one host (a busy
 * host gets several), so that its connection cache holds only that
 * host's connections: libcurl 7.88.1 scans a multi handle's cache
 * linearly when it looks for a connection, on every
 * curl_multi_remove_handle and whenever the cache is over
 * CURLMOPT_MAXCONNECTS, and bounded lanes of one host keep that scan
 * short and make every idle connection in it one its next transfer can
 * reuse.  HTTP/2 multiplexes a host's transfers on one connection per
 * lane.
 *
 * Descriptors: main.c counts what the run may hold; the loop gives the
 * descriptors left for connections out to lanes as caps, one at a time
 * as a lane needs them (CURLMOPT_MAX_TOTAL_CONNECTIONS and MAXCONNECTS:
 * a lane never opens or caches more), and admits no more transfers to a
 * lane than its cap.  Lanes past the ones main.c counted cost two
 * descriptors of their own (libcurl's socket pair), and each holds idle
 * connections only its host can reuse.  So while the budget leaves idle
 * room of half a lane's slots, a new host gets a lane at once (up to
 * LOOP_LANES_SPARE more than the slots need); when it is tighter, a new
 * host shares a lane with others until it is busy enough to earn one
 * (loop_lane_busy), and a shared lane takes the spare descriptors as
 * room for its hosts' idle connections.  A shared lane left with no
 * transfer (its hosts moved to lanes of their own) is closed, and its
 * descriptors go back to the budget.  Once all are given out, a
 * transfer waits in its host's lane until a transfer there ends and
 * leaves a connection of its host free, rather than closing another
 * host's idle connection to open one.
 */
#include "loop_int.h"

#include <limits.h>

/*
 * Close shared lane mh, which has no transfer left: its idle connections
 * are of hosts that moved to lanes of their own, and its descriptors go
 * back to the budget.  Never from inside a libcurl callback.
 */
void
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
loop_lane_spare(const struct loop *lp)
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
int
loop_lane_room(struct loop *lp, struct mh *mh)
{
	unsigned long spare;

	if (mh->load >= LOOP_LANE)
		return 0;
	if (mh->hosts > 1 && (spare = loop_lane_spare(lp)) > 0)
		loop_lane_grow(lp, mh, spare > LOOP_LANE ? LOOP_LANE :
		    (unsigned)spare);
	return mh->load < mh->cap || loop_lane_grow(lp, mh, 1) == 1;
}

/*
 * The idle room a lane past the free ones must leave before it is made
 * for a host not yet seen to be busy: half a lane's slots.
 */
static unsigned long
loop_lane_idle_min(const struct loop *lp)
{
	unsigned long slots = lp->slots < LOOP_LANE ? lp->slots : LOOP_LANE;

	return slots / 2;
}

/*
 * A new lane for host h (in the place of a closed one if there is one),
 * or NULL when there are maxmh already or the budget has no connection
 * left for it.  Past the lanes main.c counted, a lane's own two
 * descriptors come from the budget too: while that leaves a connection
 * for every slot not yet in flight, or for the first LOOP_LANES_CHEAP
 * such lanes whatever it leaves (a few slots may then wait for a
 * connection of their host, which near the limit costs less than busy
 * hosts sharing lanes and closing each other's idle connections).  For a
 * host not yet seen busy (unproven), only while it also leaves idle room
 * of half a lane's slots: else the host shares a lane for now.
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
	    (loop_lane_spare(lp) < own &&
	    lp->lanefds + own > LOOP_LANES_CHEAP * LOOP_FDS_PER_MULTI))
		return NULL;
	if (own > 0 && unproven &&
	    loop_lane_spare(lp) < own + loop_lane_idle_min(lp))
		return NULL;
	mh = &lp->mh[i];
	if (loop_io_lane_init(lp, mh) == -1)
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
 * Host h has no lane of its own and gets none (the lanes have run out, or
 * descriptors are short and it has not earned one): it shares the one
 * with most room, whose cache then holds several hosts' connections, as
 * far as the budget goes.
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

/*
 * Whether the host of ht, in shared lane mh, is busy enough for a lane of
 * its own: LOOP_LANE_MIN transfers there at once, or a second one when
 * the slots, shared out over the lane's hosts, give each that many.
 */
static int
loop_lane_busy(const struct loop *lp, const struct hint *ht,
    const struct mh *mh)
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
 * or can be given one, else a new one, else one of its own to wait in
 * (for a transfer of its host to end: its idle connections are the ones
 * it reuses), else the shared one it was in, else a shared one.
 */
struct mh *
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
		busy = last->hosts > 1 && loop_lane_busy(lp, ht, last);
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
