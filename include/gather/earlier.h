/*
 * earlier: reads an earlier run's output (jsonl, or the array of --format
 * json) a line at a time with bounded memory, checks each line is one of
 * gather's records in strict JSON, and hands each ok record on.  Shared by
 * --resume and --revalidate, which keep only what they index, and by
 * --merge, which pulls every record of several outputs in turn.
 */
#ifndef GATHER_EARLIER_H
#define GATHER_EARLIER_H

#include <stddef.h>
#include <stdint.h>

#include "gather/json.h"

/* Members a reader may ask for besides index, url and ok. */
#define EARLIER_WANT_MAX	4

/* One record of the earlier output. */
struct earlier_rec {
	uint64_t	 index;
	int		 ok;
	const char	*url;		/* unescaped, url_len bytes */
	size_t		 url_len;
	struct json_span want[EARLIER_WANT_MAX];	/* p NULL: absent */
	struct json_span text;	/* the record as written, framing off */
	int		 cut;	/* text is a long line's head: see earlier_rest */
};

/* What to read and who takes the ok records: 0, or -2 when out of memory. */
struct earlier_spec {
	const char	*opt;		/* the option, for messages */
	const char	*cut;		/* a long line's head ends before it */
	const char	*want[EARLIER_WANT_MAX];	/* quoted names or NULL */
	int		 failed;	/* hand on records not ok too */
	int		(*fn)(void *, const struct earlier_rec *);
	void		*arg;
	int		 dash;		/* "-" is stdin */
};

int	 earlier_read(const char *, const struct earlier_spec *, char *,
	    size_t);

/*
 * Pulling records one at a time ("-" is stdin): earlier_pull gives 1 and a
 * record whose text stays valid until the next pull, 0 at the end, -1 and
 * a one-line reason naming the file and line, -2 when out of memory.
 */
struct earlier;

struct earlier	*earlier_open(const char *, const struct earlier_spec *,
		    char *, size_t);
int		 earlier_pull(struct earlier *, struct earlier_rec *, char *,
		    size_t);
int		 earlier_rest(struct earlier *, int (*)(void *, const char *,
		    size_t), void *);
unsigned long	 earlier_lineno(const struct earlier *);
void		 earlier_close(struct earlier *);

/* Pure parts, exposed for the unit tests. */
int	 earlier_parse_index(const char *, size_t, uint64_t *);
long	 earlier_last_object(const char *, size_t);

#endif
