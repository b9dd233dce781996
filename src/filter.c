/*
 * filter: the look-ups in earlier outputs a record passes on its way from
 * the input to a transfer.  --shard drops another shard's records inside
 * input; these need the files --resume and --revalidate loaded, so they
 * sit here, and the scheduler only acts on the verdict (a changed input
 * stops the run, which is the scheduler's to do).
 */
#include "gather/filter.h"

#include <string.h>

#include "gather/revalidate.h"

/*
 * Whether r, just read, is to be fetched (RESUME_RUN), was done before
 * (RESUME_SKIP) or is not the record --resume had at its index; a record
 * to fetch gets the validators --revalidate has for its URL.  bad: r is
 * a record that already failed, which has no URL to look up.
 */
enum resume_verdict
filter_earlier(struct resume *res, struct revalidate *rv, struct rec *r,
    int bad)
{
	enum resume_verdict v = RESUME_RUN;

	/* A record memory ran out reading may not have its own url. */
	if (res != NULL &&
	    (v = resume_check(res, r->req.index, bad && r->res.kind ==
	    ERR_OTHER && strcmp(rec_msg(r), "out of memory") == 0 ? NULL :
	    r->req.url.p, r->req.url.len)) != RESUME_RUN)
		return v;
	/* --revalidate: the url's validators, by a hash of it. */
	if (rv != NULL && !bad)
		(void)revalidate_find(rv, r->req.url.p, r->req.url.len,
		    &r->req.was);
	return RESUME_RUN;
}
