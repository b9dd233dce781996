/*
 * polite: a chained hash of host:port -> what politeness remembers of it.
 * A record waiting for or running on a host holds a reference to its
 * entry, so that sched looks a host up once per record, not once per
 * look at the due list.  An entry nobody holds is kept while it still
 * means something (a pause or a --per-host-rate turn in the future, an
 * --adaptive limit that came down, which --stats reports) and freed
 * otherwise; idle entries whose time has passed are swept when they pile
 * up, so a crawl over a million hosts does not keep a million entries.
 */
#include "gather/polite.h"

#include <stdlib.h>
#include <string.h>

#include "gather/policy.h"
#include "gather/text.h"

#define MIN_BUCKETS	64
#define MIN_IDLE	4096	/* idle entries before a sweep */

struct polite_host {
	struct polite_host	*next;		/* in its bucket */
	long			 refs;		/* records holding it */
	long			 inflight;	/* transfers started through it */
	double			 pause_until;	/* no start before; 0 = none */
	double			 next_start;	/* --per-host-rate's next turn */
	struct aimd		 aimd;		/* --adaptive */
	char			 key[];
};

struct polite {
	struct polite_host	**b;
	size_t			 nb;		/* buckets, a power of two */
	size_t			 n;		/* entries */
	size_t			 idle;		/* entries with no reference */
	size_t			 idle_max;	/* sweep past this */
	double			 rate_gap;	/* --per-host-rate, seconds */
	int			 adaptive;
	long			 cap;		/* --adaptive's cap */
	double			 now;		/* the last time given */
};

/* The bucket of key among nb. */
static size_t
polite_bucket(const char *key, size_t nb)
{
	return text_hash(key, strlen(key), 0) & (nb - 1);
}

/* Where key's entry is, or would be linked in. */
static struct polite_host **
polite_find(const struct polite *p, const char *key)
{
	struct polite_host **hp = &p->b[polite_bucket(key, p->nb)];

	while (*hp != NULL && strcmp((*hp)->key, key) != 0)
		hp = &(*hp)->next;
	return hp;
}

/* Twice the buckets when chains grow long; as they are when out of memory. */
static void
polite_grow(struct polite *p)
{
	struct polite_host	**nb, *h;
	size_t			  i, n = p->nb * 2, j;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i < p->nb; i++)
		while ((h = p->b[i]) != NULL) {
			p->b[i] = h->next;
			j = polite_bucket(h->key, n);
			h->next = nb[j];
			nb[j] = h;
		}
	free(p->b);
	p->b = nb;
	p->nb = n;
}

/* A table for o's --per-host-rate and --adaptive. */
struct polite *
polite_new(const struct opts *o)
{
	struct polite *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->nb = MIN_BUCKETS;
	if ((p->b = calloc(p->nb, sizeof(*p->b))) == NULL) {
		free(p);
		return NULL;
	}
	p->idle_max = MIN_IDLE;
	p->rate_gap = policy_rate_gap(o->per_host_rate);
	p->adaptive = o->adaptive;
	p->cap = o->per_host > 0 ? o->per_host : o->concurrency;
	return p;
}

/* Whether h still means something at now though nobody holds it. */
static int
polite_keep(const struct polite *p, const struct polite_host *h, double now)
{
	return h->pause_until > now || h->next_start > now ||
	    (p->adaptive && h->aimd.lowest > 0);
}

/* Free the idle entries that no longer mean anything. */
static void
polite_sweep(struct polite *p)
{
	struct polite_host	**hp, *h;
	size_t			  i;

	for (i = 0; i < p->nb; i++)
		for (hp = &p->b[i]; (h = *hp) != NULL;) {
			if (h->refs == 0 && !polite_keep(p, h, p->now)) {
				*hp = h->next;
				free(h);
				p->n--;
				p->idle--;
			} else
				hp = &h->next;
		}
	p->idle_max = p->idle * 2 > MIN_IDLE ? p->idle * 2 : MIN_IDLE;
}

/* key's entry, made when new, with one more reference; NULL: no memory. */
struct polite_host *
polite_get(struct polite *p, const char *key)
{
	struct polite_host	**hp = polite_find(p, key), *h;
	size_t			  len;

	if ((h = *hp) != NULL) {
		if (h->refs++ == 0)
			p->idle--;
		return h;
	}
	len = strlen(key) + 1;
	if ((h = calloc(1, sizeof(*h) + len)) == NULL)
		return NULL;
	memcpy(h->key, key, len);
	policy_aimd_init(&h->aimd, p->cap);
	h->refs = 1;
	*hp = h;
	if (++p->n > p->nb * 2)
		polite_grow(p);
	return h;
}

/* One reference fewer at now; an entry left meaning nothing goes. */
void
polite_put(struct polite *p, struct polite_host *h, double now)
{
	struct polite_host **hp;

	p->now = now;
	if (--h->refs > 0)
		return;
	if (!polite_keep(p, h, now)) {
		hp = polite_find(p, h->key);
		*hp = h->next;
		free(h);
		p->n--;
		return;
	}
	if (++p->idle > p->idle_max)
		polite_sweep(p);
}

/* The entry's host:port. */
const char *
polite_key(const struct polite_host *h)
{
	return h->key;
}

/* --adaptive: h's limit now. */
long
polite_limit(const struct polite_host *h)
{
	return h->aimd.limit;
}

/*
 * Whether h allows a start at now: 1 if so; else 0, with *at the time to
 * look again (a pause or a rate turn), or 0 when only the end of one of
 * its transfers can make room.
 */
int
polite_allows(const struct polite *p, const struct polite_host *h,
    double now, double *at)
{
	double when = h->pause_until > h->next_start ? h->pause_until :
	    h->next_start;

	*at = 0;
	if (when > now) {
		*at = when;
		return 0;
	}
	return !p->adaptive || h->inflight < h->aimd.limit;
}

/* A transfer to h starts at now: its rate turn taken; returns the epoch. */
unsigned
polite_start(struct polite *p, struct polite_host *h, double now)
{
	h->inflight++;
	if (p->rate_gap > 0)
		h->next_start = policy_rate_next(now, h->next_start,
		    p->rate_gap);
	return h->aimd.epoch;
}

/* A transfer to h left libcurl. */
void
polite_end(struct polite_host *h)
{
	if (h->inflight > 0)
		h->inflight--;
}

/*
 * --adaptive: an attempt to h started at epoch ended as kind with status;
 * 1 when its limit came down.
 */
int
polite_answer(struct polite *p, struct polite_host *h, enum err_kind kind,
    long status, unsigned epoch)
{
	if (!p->adaptive)
		return 0;
	switch (policy_aimd_signal(kind, status)) {
	case AIMD_OK:
		policy_aimd_ok(&h->aimd);
		return 0;
	case AIMD_BACK:
		return policy_aimd_back(&h->aimd, epoch);
	default:
		return 0;
	}
}

/*
 * A Retry-After of secs at now pauses h: no start before now + secs, or
 * before an earlier pause's end if later, which goes in *until.  1 when
 * h was not paused yet: a burst of 429s is one pause, made as long as
 * the longest of them asks.
 */
int
polite_pause(struct polite_host *h, double now, double secs, double *until)
{
	int fresh = h->pause_until <= now;

	if (now + secs > h->pause_until)
		h->pause_until = now + secs;
	*until = h->pause_until;
	return fresh;
}

/* Call fn with each host whose --adaptive limit came down. */
void
polite_report(const struct polite *p, polite_report_fn fn, void *arg)
{
	const struct polite_host	*h;
	size_t				 i;

	for (i = 0; i < p->nb; i++)
		for (h = p->b[i]; h != NULL; h = h->next)
			if (h->aimd.lowest > 0)
				fn(arg, h->key, h->aimd.lowest,
				    h->aimd.limit);
}

/* Free the table and every entry. */
void
polite_free(struct polite *p)
{
	struct polite_host	*h;
	size_t			 i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nb; i++)
		while ((h = p->b[i]) != NULL) {
			p->b[i] = h->next;
			free(h);
		}
	free(p->b);
	free(p);
}
