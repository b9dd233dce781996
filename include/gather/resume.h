/*
 * resume: --resume FILE, repeatable.  The indexes whose last record in
 * the earlier outputs (jsonl, or the array of --format json), read in
 * order, is ok, with a hash of each one's url, so that a rerun skips them
 * and notices when the input is not the one that run read.
 */
#ifndef GATHER_RESUME_H
#define GATHER_RESUME_H

#include <stddef.h>
#include <stdint.h>

struct resume;

enum resume_verdict {
	RESUME_RUN,		/* not done before: fetch it */
	RESUME_SKIP,		/* ok in FILE with the same url */
	RESUME_CHANGED		/* ok in FILE, but for another url */
};

struct resume	*resume_load(char *const *, size_t, char *, size_t);
enum resume_verdict resume_check(struct resume *, uint64_t, const char *,
		    size_t);
void		 resume_free(struct resume *);

#endif
