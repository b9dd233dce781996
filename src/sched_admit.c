/*
 * sched_admit: whether a record may start now, beyond a free slot: --rate
 * (one start per gap), --per-host (a host's transfers in flight), a pause
 * a Retry-After set, a --per-host-rate turn and an --adaptive limit; and
 * what an attempt's answer tells its host.  A record that may not start
 * yet stays on the due list; a host that will allow it at a known time
 * wakes the pump then, on one timer.
 *
 * Two clocks: --rate, pauses and turns are moments on libev's clock
 * (ev_time, ev_now), the one their timers run on; a record's queue time is
 * a duration, taken on clock_mono's, which never jumps (sched.c).
 */
#include "sched_int.h"

#include <stddef.h>

#include "gather/hosts.h"
#include "gather/policy.h"
#include "gather/polite.h"
#include "gather/stats.h"
#include "gather/url.h"

/* --rate: whether a start may happen now, taking the turn if so. */
int
sched_admit_rate(struct sched *s)
{
	double now, wait;

	if (s->rate_gap <= 0)
		return 1;
	now = ev_time();
	if ((wait = policy_rate_wait(now, s->next_start)) > 0) {
		if (!ev_is_active(&s->rate_w)) {
			ev_timer_set(&s->rate_w, wait, 0.);
			ev_timer_start(s->evl, &s->rate_w);
		}
		return 0;
	}
	s->next_start = policy_rate_next(now, s->next_start, s->rate_gap);
	return 1;
}

/* --per-host: whether n's host has room for one more transfer. */
static int
sched_admit_room(struct sched *s, struct sched_node *n)
{
	if (s->hosts == NULL)
		return 1;
	if (n->host.len == 0 && url_host_key(s->cu, n->rec.req.url.p,
	    &n->host) == -1)
		return 1;
	return hosts_count(s->hosts, n->host.p) < s->o->per_host;
}

/* n's host's politeness entry, looked up once per record; NULL: none. */
static struct polite_host *
sched_admit_polite_host(struct sched *s, struct sched_node *n)
{
	if (n->ph != NULL)
		return n->ph;
	if (s->cu == NULL && (s->cu = curl_url()) == NULL)
		return NULL;
	if (n->host.len == 0 && url_host_key(s->cu, n->rec.req.url.p,
	    &n->host) == -1)
		return NULL;
	if (n->host.len == 0)
		return NULL;
	return n->ph = polite_get(s->polite, n->host.p);
}

/* Wake the pump at time at (ev_time's clock), unless it wakes sooner. */
static void
sched_admit_wake(struct sched *s, double at)
{
	if (ev_is_active(&s->host_w)) {
		if (s->host_at <= at)
			return;
		ev_timer_stop(s->evl, &s->host_w);
	}
	s->host_at = at;
	/* From ev_now, which is not after ev_time: never early. */
	ev_timer_set(&s->host_w, at > ev_now(s->evl) ? at - ev_now(s->evl) :
	    0., 0.);
	ev_timer_start(s->evl, &s->host_w);
}

/*
 * Whether n's host lets it start now: --per-host, then a pause,
 * --per-host-rate and --adaptive; a host that will allow it at a known
 * time wakes the pump then.
 */
int
sched_admit_host(struct sched *s, struct sched_node *n)
{
	struct polite_host	*h;
	double			 at;

	if (!sched_admit_room(s, n))
		return 0;
	if (!s->polite_on && !(s->pause_end > ev_now(s->evl)))
		return 1;
	if ((h = sched_admit_polite_host(s, n)) == NULL)
		return 1;
	if (polite_allows(s->polite, h, ev_time(), &at))
		return 1;
	if (at > 0)
		sched_admit_wake(s, at);
	return 0;
}

/*
 * Tell n's host how n's attempt (counted there when counted) ended: a
 * Retry-After on a 429 or 503 pauses the host, capped as the retry's wait
 * is; --adaptive moves its limit.
 */
void
sched_admit_answer(struct sched *s, struct sched_node *n, int counted)
{
	struct polite_host	*h = n->ph;
	double			 now, secs, until;

	secs = n->rec.res.retry_after > 0 ? policy_wait(n->rec.res.retry_after,
	    1, 0, s->o->retry_max_delay, 0) : 0;
	if (secs > 0 && (h != NULL || (h = sched_admit_polite_host(s, n)) != NULL)) {
		now = ev_time();
		if (polite_pause(h, now, secs, &until))
			stats_pause(s->p.stats, &n->rec, polite_key(h),
			    until - now);
		if (until > s->pause_end)
			s->pause_end = until;
	}
	if (h != NULL && counted && polite_answer(s->polite, h, n->rec.res.kind,
	    n->rec.res.status, n->ph_epoch))
		stats_limit(s->p.stats, &n->rec, polite_key(h),
		    polite_limit(h));
}
