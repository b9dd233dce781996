/*
 * hosts: host:port -> transfers in flight, kept in an htab.  An entry is
 * made when a host's first transfer starts and dropped when its last one
 * ends.  Admission asks about one host many times over (each look at the
 * due list asks for every record on it, and a list is mostly a few
 * hosts), so the entry last found is kept and compared first.
 */
#include "gather/hosts.h"

#include <stdlib.h>
#include <string.h>

#include "gather/htab.h"

struct hosts {
	struct htab	*t;		/* key -> long */
	long		*last;		/* the entry last found, or NULL */
};

/* An empty table. */
struct hosts *
hosts_new(void)
{
	struct hosts *hs;

	if ((hs = calloc(1, sizeof(*hs))) == NULL)
		return NULL;
	if ((hs->t = htab_new(sizeof(long), 0)) == NULL) {
		free(hs);
		return NULL;
	}
	return hs;
}

/* key's entry, or NULL. */
static long *
hosts_find(struct hosts *hs, const char *key)
{
	long *n;

	if (hs->last != NULL && strcmp(htab_key(hs->last), key) == 0)
		return hs->last;
	if ((n = htab_get(hs->t, key, strlen(key))) != NULL)
		hs->last = n;
	return n;
}

/* Transfers in flight to key. */
long
hosts_count(struct hosts *hs, const char *key)
{
	const long *n = hosts_find(hs, key);

	return n != NULL ? *n : 0;
}

/* One more transfer to key; -1 when out of memory. */
int
hosts_inc(struct hosts *hs, const char *key)
{
	size_t	 len = strlen(key);
	long	*n;

	if ((n = hosts_find(hs, key)) == NULL &&
	    (n = htab_add(hs->t, key, len, htab_hash(hs->t, key, len))) ==
	    NULL)
		return -1;
	(*n)++;
	return 0;
}

/* One fewer transfer to key, dropping its entry at zero. */
void
hosts_dec(struct hosts *hs, const char *key)
{
	long *n = hosts_find(hs, key);

	if (n == NULL || --*n > 0)
		return;
	if (n == hs->last)
		hs->last = NULL;
	htab_del(hs->t, n);
}

/* Free the table. */
void
hosts_free(struct hosts *hs)
{
	if (hs == NULL)
		return;
	htab_free(hs->t);
	free(hs);
}
