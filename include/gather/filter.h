/*
 * filter: what the earlier outputs say about a record just read, beside
 * --shard's choice in input: --resume skips what was done, --revalidate
 * gives the rest their validators.
 */
#ifndef GATHER_FILTER_H
#define GATHER_FILTER_H

#include "gather/rec.h"
#include "gather/resume.h"

struct revalidate;

enum resume_verdict filter_earlier(struct resume *, struct revalidate *,
		    struct rec *, int);

#endif
