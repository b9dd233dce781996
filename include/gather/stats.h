/*
 * stats: counts and timings of the run, for the --progress line on stderr
 * and the --stats summary at the end, and the -v line of each attempt.
 * The hot path only bumps counters and one histogram bucket; formatting
 * happens at most ten times a second.
 */
#ifndef GATHER_STATS_H
#define GATHER_STATS_H

#include <stdint.h>

#include <ev.h>

#include "gather/cli.h"
#include "gather/rec.h"

struct stats;

struct stats	*stats_new(struct ev_loop *, const struct opts *);
void		 stats_set_total(struct stats *, uint64_t);
int		 stats_progress(const struct stats *);
void		 stats_attempt_start(struct stats *);
void		 stats_attempt_end(struct stats *);
void		 stats_record(struct stats *, const struct rec *);
void		 stats_log(struct stats *, const struct rec *,
		    const char *);
void		 stats_pause(struct stats *, const struct rec *,
		    const char *, double);
void		 stats_limit(struct stats *, const struct rec *,
		    const char *, long);
void		 stats_host_limit(struct stats *, const char *, long, long);
void		 stats_finish(struct stats *);
void		 stats_free(struct stats *);

#endif
