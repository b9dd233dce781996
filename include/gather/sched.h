/*
 * sched: decides what runs when.  It holds the semaphore (-c), the
 * per-host counts and the window: it reads a record only when a slot and
 * a place in the reorder window are free, starts its transfer, takes it
 * back when libcurl is done, retries it or hands it on to be formatted.
 * When the run ends, for whatever reason, every record read gets its
 * record.
 */
#ifndef GATHER_SCHED_H
#define GATHER_SCHED_H

#include <curl/curl.h>
#include <ev.h>

#include "gather/cli.h"
#include "gather/rec.h"

/* The modules the scheduler drives; none is owned by it. */
struct sched_parts {
	struct loop		*loop;
	struct xfer_pool	*pool;
	struct input		*in;
	struct ends		*ends;
	struct record		*record;	/* formats for --expect */
	struct output		*output;	/* where records go */
	struct resume		*resume;	/* NULL without --resume */
	struct revalidate	*revalidate;	/* NULL without --revalidate */
	struct stats		*stats;
	struct expect		*expect;	/* NULL without --expect */
	struct jobs		*jobs;		/* -j: the parent's workers */
	struct jobs_feed	*feed;		/* -j: a worker's records */
};

struct sched;

struct sched	*sched_new(const struct opts *, struct ev_loop *);
void		 sched_attach(struct sched *, const struct sched_parts *);
void		 sched_run(struct sched *);
int		 sched_status(const struct sched *);
void		 sched_transfer_done(void *, CURL *, CURLcode);
void		 sched_remote_done(void *, struct rec *, struct buf *);
void		 sched_input_ready(void *);
void		 sched_halt(void *, enum err_kind, const char *);
void		 sched_free(struct sched *);

#endif
