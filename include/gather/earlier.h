/*
 * earlier: reads an earlier run's output (jsonl, or the array of --format
 * json) a line at a time with bounded memory, checks each line is one of
 * gather's records in strict JSON, and hands each ok record on.  Shared by
 * --resume and --revalidate, which keep only what they index.
 */
#ifndef GATHER_EARLIER_H
#define GATHER_EARLIER_H

#include <stddef.h>
#include <stdint.h>

#include "gather/json.h"

/* Members a reader may ask for besides index, url and ok. */
#define EARLIER_WANT_MAX	4

/* One ok record of the earlier output (or failed one, when asked). */
struct earlier_rec {
	uint64_t	 index;
	int		 ok;
	const char	*url;		/* unescaped, url_len bytes */
	size_t		 url_len;
	struct json_span want[EARLIER_WANT_MAX];	/* p NULL: absent */
};

/* What to read and who takes the records: 0, or -2 when out of memory. */
struct earlier_spec {
	const char	*opt;		/* the option, for messages */
	const char	*cut;		/* a long line's head ends before it */
	const char	*want[EARLIER_WANT_MAX];	/* quoted names or NULL */
	int		 failed;	/* hand on records not ok too */
	int		(*fn)(void *, const struct earlier_rec *);
	void		*arg;
};

int	 earlier_read(const char *, const struct earlier_spec *, char *,
	    size_t);

/* Pure parts, exposed for the unit tests. */
int	 earlier_parse_index(const char *, size_t, uint64_t *);
long	 earlier_last_object(const char *, size_t);

#endif
