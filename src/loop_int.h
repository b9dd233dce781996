/*
 * loop_int: what the loop's own sources share and nothing else sees.  The
 * module is split by concern: loop.c is the loop itself, a transfer's way
 * in and out and the deferred work; loop_lane.c gives transfers their
 * lanes and lanes their connections; loop_lookup.c holds transfers back
 * while their host name is looked up; loop_io.c turns libcurl's sockets
 * and timers into libev watchers.  struct loop and its parts are defined
 * here so that only these files know them.
 */
#ifndef GATHER_LOOP_INT_H
#define GATHER_LOOP_INT_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <ev.h>

#include "gather/loop.h"

struct mh;

struct sock {
	ev_io		 io;
	curl_socket_t	 fd;
	struct mh	*mh;
	struct sock	*prev, *next;	/* all live sockets, freed at the end */
};

/*
 * One lane: a multi handle and its timer, given to one host (shared by
 * several while descriptors are short, or once the lanes ran out), with
 * the transfers that wait for room.
 */
struct mh {
	CURLM		*multi;		/* NULL: not made yet, or closed */
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
	uint8_t		 doomed;	/* a socket of it could not be watched */
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
	size_t		 nmh;		/* used so far (some closed since) */
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
	struct sock	*spare;		/* for when memory runs out */
	int		 doomed;	/* some held transfer is doomed */
	CURL		*cookies;	/* never runs: loads and writes cookies */
	struct pend	*pend[LOOP_PEND_BUCKETS];
	struct pend	*ready, *ready_tail;	/* hosts waiting for a lookup */
	struct known	*known;
	unsigned	 lookups;	/* gates out */
	int		 released;	/* gates passed, waiters to add */
	int		 queued;	/* a lane with waiters may have room,
					   or a shared lane is empty */
	unsigned long	 lanefds;	/* descriptors of lanes past base */
	unsigned long	 slots;		/* transfers at most at once */
	unsigned long	 inflight;	/* transfers admitted, in all lanes */
	ev_prepare	 prep;		/* adds them, outside libcurl */
};

/* loop.c */
size_t		 loop_held_find(const struct loop *, const CURL *);
int		 loop_start(struct loop *, CURL *, size_t);

/* loop_lookup.c */
int		 loop_lookup_known(const struct loop *, uint32_t);
void		 loop_lookup_release(struct loop *);
void		 loop_lookup_end(struct loop *, uint32_t, int);
int		 loop_lookup_gate(struct loop *, CURL *, uint32_t, int *);
void		 loop_lookup_unwait(struct loop *, CURL *, uint32_t);
void		 loop_lookup_done(struct loop *, CURL *, CURLcode);
void		 loop_lookup_passed(struct loop *, CURL *, curl_socket_t);
void		 loop_lookup_free(struct loop *);

/* loop_io.c */
int		 loop_io_lane_init(struct loop *, struct mh *);
void		 loop_io_reap(struct loop *);

/* loop_lane.c */
void		 loop_lane_close(struct loop *, struct mh *);
int		 loop_lane_room(struct loop *, struct mh *);
struct mh	*loop_lane_for(struct loop *, uint32_t);

/* Whether lane mh has a connection for one more transfer without growing. */
static inline int
loop_lane_idle(const struct mh *mh)
{
	return mh->qhead == NULL && mh->load < mh->cap && mh->load < LOOP_LANE;
}

/*
 * The lane of its own host h went to last, when it has a connection for
 * one more transfer: loop_lane_for's first answer, inline for every
 * transfer of a run (NULL: ask loop_lane_for).
 */
static inline struct mh *
loop_lane_last(struct loop *lp, uint32_t h)
{
	const struct hint	*ht = &lp->hints[h & (LOOP_HINTS - 1)];
	struct mh		*mh;

	if (ht->hash != h || ht->m == 0)
		return NULL;
	mh = &lp->mh[ht->m - 1];
	return mh->multi != NULL && mh->hosts == 1 && mh->host == h &&
	    loop_lane_idle(mh) ? mh : NULL;
}

#endif
