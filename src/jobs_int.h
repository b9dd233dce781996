/*
 * jobs_int: what the parent's side of -j (jobs.c) and a worker's
 * (jobs_feed.c) agree on: the wire format of a record sent to a worker and
 * of the lines that come back, and the parsing of a record's line back into
 * the parent's record (jobs_read.c).  Private to those three files.
 */
#ifndef GATHER_JOBS_INT_H
#define GATHER_JOBS_INT_H

#include <stdint.h>

#include "gather/buf.h"
#include "gather/rec.h"

/* Read this much from a socket at a time. */
#define JOBS_READ	65536
/* A worker's line that is a cookie (then a Netscape line), and its last. */
#define JOBS_COOKIE	"C"
#define JOBS_COOKIES_END "E"
/* The byte strings of a record on the wire. */
#define JOBS_BUFS	8
/* Seconds a worker told to stop, or to end, has before it is killed. */
#define JOBS_STOP_WAIT	5

/* A record's fixed part on the wire; the byte strings follow it. */
struct wire {
	uint32_t	len;		/* the whole message */
	uint64_t	index;
	int32_t		has_body, body_json, has_id, claimed;
	int32_t		stop;		/* a stop: the kind; n[0] its message */
	double		timeout;
	uint32_t	nheaders;
	uint32_t	n[JOBS_BUFS];	/* url method headers body user bearer id file */
	char		sha256[65];
};

void	jobs_read_rec(struct rec *, struct buf *, const char *, size_t);

#endif
