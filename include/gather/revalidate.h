/*
 * revalidate: --revalidate FILE.  The validators (ETag, Last-Modified)
 * that an earlier output has for each url it has as ok, indexed by a hash
 * of the url, so that a later run can ask only for what changed.
 */
#ifndef GATHER_REVALIDATE_H
#define GATHER_REVALIDATE_H

#include <stddef.h>
#include <stdint.h>

/* Longer validators are not kept: the record is fetched plainly. */
#define REVALIDATE_ETAG_MAX	1024

/* Room for an HTTP date and its NUL. */
#define REVALIDATE_DATE_LEN	32

struct revalidate;

/* What FILE says of one url. */
struct validators {
	const char	*etag;		/* not NUL-terminated, or NULL */
	size_t		 etag_len;
	int64_t		 modified;	/* seconds since the epoch, 0: none */
};

struct revalidate *revalidate_load(char *const *, size_t, char *, size_t);
int		 revalidate_find(struct revalidate *, const char *, size_t,
		    struct validators *);
void		 revalidate_free(struct revalidate *);
size_t		 revalidate_date(char *, int64_t);

/* The table's parts, exposed for the unit tests. */
struct revalidate *revalidate_new(void);
int		 revalidate_add(struct revalidate *, const char *, size_t,
		    const char *, size_t, int64_t);
void		 revalidate_seal(struct revalidate *);
int64_t		 revalidate_parse_date(const char *, size_t);

#endif
