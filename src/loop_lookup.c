/*
 * loop_lookup: libcurl's threaded resolver holds two descriptors per
 * lookup while it runs, which the descriptor budget cannot count if every
 * transfer to a new host name starts its own.  Transfers to a host name
 * not looked up lately wait in the loop while one of them (its gate)
 * looks it up, LOOP_LOOKUPS at most at once; once the gate has a socket
 * of its own the name is known for LOOP_KNOWN_SECS and its waiters are
 * added.  After a failed lookup the waiters try in turn, a few at once.
 */
#include "loop_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
int
loop_lookup_known(const struct loop *lp, uint32_t h)
{
	const struct known *k = &lp->known[h & (LOOP_KNOWN - 1)];

	return k->host == h && k->until > ev_now(lp->evl);
}

/* The lookup of h under way, made when make is set (NULL: none). */
static struct pend *
loop_lookup_pend(struct loop *lp, uint32_t h, int make)
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
loop_lookup_drop(struct loop *lp, struct pend *pd)
{
	struct pend **pp = &lp->pend[pd->host & (LOOP_PEND_BUCKETS - 1)];

	while (*pp != pd)
		pp = &(*pp)->next;
	*pp = pd->next;
	free(pd);
}

/* Queue pd for a lookup as soon as fewer than LOOP_LOOKUPS run. */
static void
loop_lookup_queue(struct loop *lp, struct pend *pd)
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

/*
 * Start a waiting transfer: as its host's gate, or plainly once the host
 * is known.  One libcurl refuses ends at once, as out of memory.
 */
static void
loop_lookup_wake(struct loop *lp, CURL *e, int gate)
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
loop_lookup_pop(struct pend *pd)
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
void
loop_lookup_release(struct loop *lp)
{
	struct pend	*pd, *next;
	CURL		*e;
	size_t		 i;

	while (lp->released) {
		lp->released = 0;
		for (i = 0; i < LOOP_PEND_BUCKETS; i++)
			for (pd = lp->pend[i]; pd != NULL; pd = next) {
				next = pd->next;
				if (!loop_lookup_known(lp, pd->host))
					continue;
				while ((e = loop_lookup_pop(pd)) != NULL)
					loop_lookup_wake(lp, e, 0);
				if (pd->gates == 0 && !pd->ready)
					loop_lookup_drop(lp, pd);
			}
	}
	while (lp->ready != NULL && lp->lookups < LOOP_LOOKUPS) {
		pd = lp->ready;
		if ((lp->ready = pd->next_ready) == NULL)
			lp->ready_tail = NULL;
		pd->ready = 0;
		if ((e = loop_lookup_pop(pd)) == NULL) {
			if (pd->gates == 0)
				loop_lookup_drop(lp, pd);
			continue;
		}
		pd->gates++;
		lp->lookups++;
		/* After a failed lookup the others try in turn, a few at once. */
		if (pd->failed && pd->head != NULL)
			loop_lookup_queue(lp, pd);
		loop_lookup_wake(lp, e, 1);
	}
}

/*
 * A gate of host h is past its lookup (passed) or its lookup failed: the
 * host is known, and its waiters are added before the loop next polls;
 * or the waiters are queued to try the lookup again, a few at once.
 */
void
loop_lookup_end(struct loop *lp, uint32_t h, int passed)
{
	struct pend		*pd = loop_lookup_pend(lp, h, 0);
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
			loop_lookup_queue(lp, pd);
		else if (!pd->ready && pd->gates == 0)
			loop_lookup_drop(lp, pd);
	}
}

/*
 * A transfer to a host name not looked up lately waits while another
 * transfer looks it up, or while LOOP_LOOKUPS lookups run: each lookup
 * holds two descriptors of libcurl's resolver thread until it ends.
 * 0: e may start now (as its host's gate when *gate is set), 1: e waits,
 * -1: out of memory.
 */
int
loop_lookup_gate(struct loop *lp, CURL *e, uint32_t h, int *gate)
{
	struct pend	*pd;
	struct wait	*w;

	*gate = 0;
	if ((pd = loop_lookup_pend(lp, h, 1)) == NULL)
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
			loop_lookup_drop(lp, pd);
		return -1;
	}
	w->e = e;
	if (pd->tail != NULL)
		pd->tail->next = w;
	else
		pd->head = w;
	pd->tail = w;
	if (pd->gates == 0 || pd->failed)
		loop_lookup_queue(lp, pd);
	return 1;
}

/* Forget waiting e of host h (a transfer stopped before it started). */
void
loop_lookup_unwait(struct loop *lp, CURL *e, uint32_t h)
{
	struct pend	*pd = loop_lookup_pend(lp, h, 0);
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
		loop_lookup_drop(lp, pd);
}

/*
 * A gate e ended with rc: its lookup passed unless rc says it failed
 * (with --unix-socket, say, no socket of its own ever told).
 */
void
loop_lookup_done(struct loop *lp, CURL *e, CURLcode rc)
{
	struct held *hd = &lp->held[loop_held_find(lp, e)];

	if (hd->e != e || hd->dns != HELD_GATE ||
	    rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY)
		return;
	hd->dns = HELD_ADDED;
	loop_lookup_end(lp, hd->host, 1);
}

/*
 * A socket s of e: a gate is past its host's lookup once it has a socket
 * that is not the resolver's socket pair (a unix one).
 */
void
loop_lookup_passed(struct loop *lp, CURL *e, curl_socket_t s)
{
	struct held		*hd = &lp->held[loop_held_find(lp, e)];
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	if (hd->e == e && hd->dns == HELD_GATE &&
	    getsockname(s, (struct sockaddr *)&ss, &len) == 0 &&
	    ss.ss_family != AF_UNIX) {
		hd->dns = HELD_ADDED;
		loop_lookup_end(lp, hd->host, 1);
	}
}

/* Free the lookups under way and their waiters (none at a normal end). */
void
loop_lookup_free(struct loop *lp)
{
	struct pend	*pd;
	size_t		 i;

	for (i = 0; i < LOOP_PEND_BUCKETS; i++)
		while ((pd = lp->pend[i]) != NULL) {
			lp->pend[i] = pd->next;
			while (loop_lookup_pop(pd) != NULL)
				;
			free(pd);
		}
}
