/*
 * polite: host:port -> what politeness remembers of it, kept in an htab.
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

#include "gather/htab.h"
#include "gather/policy.h"

#define MIN_IDLE	4096	/* idle entries before a sweep */

/* An htab value: the key is the table's. */
struct polite_host {
	long		 refs;		/* records holding it */
	long		 inflight;	/* transfers started through it */
	double		 pause_until;	/* no start before; 0 = none */
	double		 next_start;	/* --per-host-rate's next turn */
	struct aimd	 aimd;		/* --adaptive */
};

struct polite {
	struct htab	*t;		/* key -> struct polite_host */
	size_t		 idle;		/* entries with no reference */
	size_t		 idle_max;	/* sweep past this */
	double		 rate_gap;	/* --per-host-rate, seconds */
	int		 adaptive;
	long		 cap;		/* --adaptive's cap */
	double		 now;		/* the last time given */
};

/* A table for o's --per-host-rate and --adaptive. */
struct polite *
polite_new(const struct opts *o)
{
	struct polite *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->t = htab_new(sizeof(struct polite_host), 0)) == NULL) {
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

/* Whether the entry h is idle and means nothing any more: then it goes. */
static int
polite_idle_gone(void *arg, void *v)
{
	struct polite			*p = arg;
	const struct polite_host	*h = v;

	return h->refs == 0 && !polite_keep(p, h, p->now);
}

/* Free the idle entries that no longer mean anything. */
static void
polite_sweep(struct polite *p)
{
	p->idle -= htab_sweep(p->t, polite_idle_gone, p);
	p->idle_max = p->idle * 2 > MIN_IDLE ? p->idle * 2 : MIN_IDLE;
}

/* key's entry, made when new, with one more reference; NULL: no memory. */
struct polite_host *
polite_get(struct polite *p, const char *key)
{
	struct polite_host	*h;
	size_t			 len = strlen(key);
	uint64_t		 hash = htab_hash(p->t, key, len);

	if ((h = htab_find(p->t, key, len, hash)) != NULL) {
		if (h->refs++ == 0)
			p->idle--;
		return h;
	}
	if ((h = htab_add(p->t, key, len, hash)) == NULL)
		return NULL;
	policy_aimd_init(&h->aimd, p->cap);
	h->refs = 1;
	return h;
}

/* One reference fewer at now; an entry left meaning nothing goes. */
void
polite_put(struct polite *p, struct polite_host *h, double now)
{
	p->now = now;
	if (--h->refs > 0)
		return;
	if (!polite_keep(p, h, now)) {
		htab_del(p->t, h);
		return;
	}
	if (++p->idle > p->idle_max)
		polite_sweep(p);
}

/* The entry's host:port. */
const char *
polite_key(const struct polite_host *h)
{
	return htab_key(h);
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

/* What polite_report calls for each entry. */
struct polite_each {
	polite_report_fn	 fn;
	void			*arg;
};

/* Report the entry v if its --adaptive limit came down. */
static void
polite_report_one(void *arg, const void *v)
{
	const struct polite_each	*pe = arg;
	const struct polite_host	*h = v;

	if (h->aimd.lowest > 0)
		pe->fn(pe->arg, htab_key(h), h->aimd.lowest, h->aimd.limit);
}

/* Call fn with each host whose --adaptive limit came down. */
void
polite_report(const struct polite *p, polite_report_fn fn, void *arg)
{
	struct polite_each pe = { fn, arg };

	htab_each(p->t, polite_report_one, &pe);
}

/* Free the table and every entry. */
void
polite_free(struct polite *p)
{
	if (p == NULL)
		return;
	htab_free(p->t);
	free(p);
}
