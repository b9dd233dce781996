/*
 * stats_def: the run's counters as stats.c keeps them and
 * stats_report.c prints them at the end; no other module includes this.
 */
#ifndef GATHER_STATS_DEF_H
#define GATHER_STATS_DEF_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "gather/hist.h"
#include "gather/rec.h"

#define PROGRESS_EVERY	0.1	/* seconds between looks at the counters */
#define PROGRESS_STALE	1.0	/* redraw this often even when idle */
#define RATE_SAMPLES	50	/* samples of the rate window, one per tick */
#define LINE_MAX_COLS	79	/* the progress line never wraps at 80 */

#define NKINDS		(ERR_OTHER + 1)
#define SLOWED_MAX	100	/* hosts --stats names; the rest are counted */

enum status_class {
	CLASS_NONE,		/* no response */
	CLASS_1XX, CLASS_2XX, CLASS_3XX, CLASS_4XX, CLASS_5XX,
	CLASS_OTHER,		/* a status outside 100-599 */
	NCLASSES
};

struct stats {
	struct ev_loop	*evl;
	ev_timer	 progress_w;
	int		 progress;	/* the line is wanted */
	int		 final_only;	/* stdout is this terminal: a count at
					   the end instead of a live line */
	int		 timer_on;
	int		 drawn;		/* a line is on the terminal */
	int		 finished;
	int		 mode;		/* 0, STATS_TEXT or STATS_JSON */
	int		 verbose;	/* -v lines are wanted */
	double		 t0;		/* monotonic seconds at the start */

	uint64_t	 total;		/* records expected, when known */
	int		 has_total;
	uint64_t	 records;
	uint64_t	 ok;
	uint64_t	 bytes;
	uint64_t	 inflight;
	uint64_t	 kinds[NKINDS];
	uint64_t	 classes[NCLASSES];
	uint64_t	 gen;		/* bumped by every change */

	/* Progress: what is on the terminal, and the rate window. */
	uint64_t	 gen_drawn;
	double		 t_drawn;
	char		 line[LINE_MAX_COLS + 1];
	double		 win_t[RATE_SAMPLES];
	uint64_t	 win_n[RATE_SAMPLES];
	size_t		 win_head, win_len;

	struct hist	 lat;

	/* Politeness: pauses, and hosts whose --adaptive limit came down. */
	uint64_t	 pauses;
	struct slowed {
		char	*host;
		long	 lowest, final;
	}		*slowed;
	size_t		 nslowed;
	uint64_t	 slowed_more;	/* past SLOWED_MAX */
};

extern const char *const		 stats_class_names[NCLASSES];
extern const enum status_class	 stats_class_order[NCLASSES];

void	 stats_fmt_digits(char *, size_t, double, double, double,
	    const char *);
void	 stats_print_text(const struct stats *, double);
void	 stats_print_json(const struct stats *, double);

#endif
