/*
 * policy: the maths of waiting between attempts and between starts.
 * Pure functions: the time and the random state come in as arguments, so
 * that no clock is read here and every answer can be checked by a unit
 * test.
 */
#ifndef GATHER_POLICY_H
#define GATHER_POLICY_H

#include <stdint.h>
#include <time.h>

#include "gather/err_kind.h"

/* Kinds and statuses counted by struct retry_set. */
#define RETRY_NKINDS	(ERR_OTHER + 1)
#define RETRY_NSTATUS	600

/* The failures worth another attempt: error kinds, and HTTP statuses. */
struct retry_set {
	uint32_t	kinds;			/* bit 1 << enum err_kind */
	uint8_t		status[RETRY_NSTATUS / 8];	/* bit per status */
};

double	policy_backoff(int, double, double, double);
double	policy_retry_after(const char *, time_t);
double	policy_wait(double, int, double, double, double);
int	policy_transient(enum err_kind, long);
void	policy_retry_default(struct retry_set *);
int	policy_retry_parse(struct retry_set *, const char *, char *, size_t);
void	policy_retry_all(struct retry_set *, int);
int	policy_retryable(const struct retry_set *, enum err_kind, long);
double	policy_uniform(uint64_t *);
double	policy_rate_gap(double);
double	policy_rate_wait(double, double);
double	policy_rate_next(double, double, double);

/*
 * --adaptive: one host's concurrency limit, grown by one after a round of
 * successful answers as large as the limit, halved on a sign of overload.
 * epoch counts the halvings, so that answers to requests started before
 * the last one do not halve it again for the same overload.
 */
struct aimd {
	long		limit;		/* transfers in flight at most */
	long		cap;		/* --per-host, else -c */
	long		lowest;		/* the least it was cut to; 0: never */
	long		round;		/* successes since the limit last moved */
	unsigned	epoch;		/* halvings so far */
};

/* What an answer says to --adaptive. */
enum aimd_signal {
	AIMD_NEUTRAL,		/* neither: a refused connection, a bad URL */
	AIMD_OK,		/* an answer, not an overload */
	AIMD_BACK		/* 429, 503, a timeout, a reset */
};

void	policy_aimd_init(struct aimd *, long);
enum aimd_signal policy_aimd_signal(enum err_kind, long);
void	policy_aimd_ok(struct aimd *);
int	policy_aimd_back(struct aimd *, unsigned);

#endif
