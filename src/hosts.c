/*
 * hosts: a small chained hash of host:port -> transfers in flight.  An
 * entry is made when a host's first transfer starts and dropped when its
 * last one ends.
 */
#include "gather/hosts.h"

#include <stdlib.h>
#include <string.h>

#include "gather/text.h"

#define NBUCKETS	256

struct host {
	struct host	*next;
	long		 n;
	char		 key[];
};

struct hosts {
	struct host	*b[NBUCKETS];
};

/* The bucket of key. */
static size_t
hosts_bucket(const char *key)
{
	return text_hash(key, strlen(key), 0) % NBUCKETS;
}

/* Where key's entry is, or would be linked in. */
static struct host **
hosts_find(const struct hosts *hs, const char *key)
{
	struct host * const *p = &hs->b[hosts_bucket(key)];

	while (*p != NULL && strcmp((*p)->key, key) != 0)
		p = &(*p)->next;
	return (struct host **)p;
}

/* An empty table. */
struct hosts *
hosts_new(void)
{
	return calloc(1, sizeof(struct hosts));
}

/* Transfers in flight to key. */
long
hosts_count(const struct hosts *hs, const char *key)
{
	struct host *h = *hosts_find(hs, key);

	return h ? h->n : 0;
}

/* One more transfer to key; -1 when out of memory. */
int
hosts_inc(struct hosts *hs, const char *key)
{
	struct host	**p = hosts_find(hs, key);
	size_t		  len;

	if (*p == NULL) {
		len = strlen(key) + 1;
		if ((*p = calloc(1, sizeof(**p) + len)) == NULL)
			return -1;
		memcpy((*p)->key, key, len);
	}
	(*p)->n++;
	return 0;
}

/* One fewer transfer to key, dropping its entry at zero. */
void
hosts_dec(struct hosts *hs, const char *key)
{
	struct host **p = hosts_find(hs, key), *h = *p;

	if (h != NULL && --h->n <= 0) {
		*p = h->next;
		free(h);
	}
}

/* Free the table. */
void
hosts_free(struct hosts *hs)
{
	struct host	*h;
	size_t		 i;

	if (hs == NULL)
		return;
	for (i = 0; i < NBUCKETS; i++)
		while ((h = hs->b[i]) != NULL) {
			hs->b[i] = h->next;
			free(h);
		}
	free(hs);
}
