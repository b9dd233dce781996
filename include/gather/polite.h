/*
 * polite: what gather remembers of each host:port to be polite to it: a
 * pause a Retry-After asked for, the next start --per-host-rate allows,
 * and the concurrency limit --adaptive learns.  sched asks it whether a
 * record's host allows a start and tells it what came back; the maths
 * lives in policy, and no clock is read here: the time comes in.
 */
#ifndef GATHER_POLITE_H
#define GATHER_POLITE_H

#include "gather/cli.h"
#include "gather/rec.h"

struct polite;
struct polite_host;

/* One host whose --adaptive limit came down, for --stats. */
typedef void	(*polite_report_fn)(void *, const char *, long, long);

struct polite	*polite_new(const struct opts *);
struct polite_host *polite_get(struct polite *, const char *);
void		 polite_put(struct polite *, struct polite_host *, double);
const char	*polite_key(const struct polite_host *);
long		 polite_limit(const struct polite_host *);
int		 polite_allows(const struct polite *,
		    const struct polite_host *, double, double *);
unsigned	 polite_start(struct polite *, struct polite_host *, double);
void		 polite_end(struct polite_host *);
int		 polite_answer(struct polite *, struct polite_host *,
		    enum err_kind, long, unsigned);
int		 polite_pause(struct polite_host *, double, double, double *);
void		 polite_report(const struct polite *, polite_report_fn,
		    void *);
void		 polite_free(struct polite *);

#endif
