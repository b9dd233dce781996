/*
 * htab: the one hash table files, hosts and polite keep their entries in.
 * Chained, so that an entry never moves: a node holds its chain link, its
 * hash, its value (aligned as malloc aligns) and then its key with a NUL,
 * and a value's node is found from the value's address.  The buckets
 * double when there are more entries than buckets; they never shrink, as
 * no table here outgrows its peak by much for long.  The hash is text.c's
 * FNV-1a from the table's seed, mixed at the end so that the low bits the
 * bucket index takes depend on every byte.
 */
#include "gather/htab.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "gather/text.h"

#define MIN_BUCKETS	64

struct htab_node {
	struct htab_node	*next;
	uint64_t		 hash;
	size_t			 klen;
	size_t			 vsize;
};

/* Where a node's value starts: its header, rounded up for alignment. */
#define HDR	((sizeof(struct htab_node) + alignof(max_align_t) - 1) & \
		    ~(alignof(max_align_t) - 1))

struct htab {
	struct htab_node	**b;
	size_t			  nb;		/* buckets, a power of two */
	size_t			  n;		/* entries */
	size_t			  vsize;
	uint64_t		  seed;
};

/* The node whose value is at v. */
static struct htab_node *
htab_node(const void *v)
{
	return (struct htab_node *)(void *)((char *)(uintptr_t)v - HDR);
}

/* The value of node e. */
static void *
htab_val(const struct htab_node *e)
{
	return (char *)(uintptr_t)e + HDR;
}

/* An empty table of vsize-byte values hashed from seed; NULL: no memory. */
struct htab *
htab_new(size_t vsize, uint64_t seed)
{
	struct htab *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->nb = MIN_BUCKETS;
	if ((t->b = calloc(t->nb, sizeof(*t->b))) == NULL) {
		free(t);
		return NULL;
	}
	t->vsize = vsize;
	t->seed = seed;
	return t;
}

/* The hash of the n bytes of key in t. */
uint64_t
htab_hash(const struct htab *t, const char *key, size_t n)
{
	uint64_t h = text_hash(key, n, t->seed);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* The value of the n bytes of key whose hash is h, or NULL. */
static inline void *
htab_lookup(const struct htab *t, const char *key, size_t n, uint64_t h)
{
	const struct htab_node *e;

	for (e = t->b[h & (t->nb - 1)]; e != NULL; e = e->next)
		if (e->hash == h && e->klen == n &&
		    memcmp((const char *)htab_val(e) + e->vsize, key, n) == 0)
			return htab_val(e);
	return NULL;
}

/* The value of the n bytes of key whose hash is h, or NULL. */
void *
htab_find(const struct htab *t, const char *key, size_t n, uint64_t h)
{
	return htab_lookup(t, key, n, h);
}

/* The value of the n bytes of key, or NULL. */
void *
htab_get(const struct htab *t, const char *key, size_t n)
{
	return htab_lookup(t, key, n, htab_hash(t, key, n));
}

/* Twice the buckets; as they are when out of memory. */
static void
htab_grow(struct htab *t)
{
	struct htab_node	**nb, *e;
	size_t			  i, n = t->nb * 2, j;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i < t->nb; i++)
		while ((e = t->b[i]) != NULL) {
			t->b[i] = e->next;
			j = e->hash & (n - 1);
			e->next = nb[j];
			nb[j] = e;
		}
	free(t->b);
	t->b = nb;
	t->nb = n;
}

/*
 * A new entry for the n bytes of key, whose hash is h and which must not
 * be in t: its value, zeroed, or NULL when out of memory.
 */
void *
htab_add(struct htab *t, const char *key, size_t n, uint64_t h)
{
	struct htab_node	*e;
	char			*k;
	size_t			 i;

	if ((e = calloc(1, HDR + t->vsize + n + 1)) == NULL)
		return NULL;
	e->hash = h;
	e->klen = n;
	e->vsize = t->vsize;
	k = (char *)htab_val(e) + t->vsize;
	memcpy(k, key, n);
	k[n] = '\0';
	i = e->hash & (t->nb - 1);
	e->next = t->b[i];
	t->b[i] = e;
	if (++t->n > t->nb)
		htab_grow(t);
	return htab_val(e);
}

/* Delete the entry whose value is v. */
void
htab_del(struct htab *t, void *v)
{
	struct htab_node **p, *e = htab_node(v);

	for (p = &t->b[e->hash & (t->nb - 1)]; *p != NULL; p = &(*p)->next)
		if (*p == e) {
			*p = e->next;
			free(e);
			t->n--;
			return;
		}
}

/* The key of the entry whose value is v, NUL-terminated. */
const char *
htab_key(const void *v)
{
	return (const char *)v + htab_node(v)->vsize;
}

/* The hash of the entry whose value is v. */
uint64_t
htab_hash_of(const void *v)
{
	return htab_node(v)->hash;
}

/* The number of entries. */
size_t
htab_count(const struct htab *t)
{
	return t->n;
}

/* Delete each entry drop says is to go; how many went. */
size_t
htab_sweep(struct htab *t, htab_drop_fn drop, void *arg)
{
	struct htab_node	**p, *e;
	size_t			  i, gone = 0;

	for (i = 0; i < t->nb; i++)
		for (p = &t->b[i]; (e = *p) != NULL;) {
			if (drop(arg, htab_val(e))) {
				*p = e->next;
				free(e);
				gone++;
			} else
				p = &e->next;
		}
	t->n -= gone;
	return gone;
}

/* Call fn with each entry's value. */
void
htab_each(const struct htab *t, htab_each_fn fn, void *arg)
{
	const struct htab_node	*e;
	size_t			 i;

	for (i = 0; i < t->nb; i++)
		for (e = t->b[i]; e != NULL; e = e->next)
			fn(arg, htab_val(e));
}

/* Free the table and every entry. */
void
htab_free(struct htab *t)
{
	struct htab_node	*e;
	size_t			 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nb; i++)
		while ((e = t->b[i]) != NULL) {
			t->b[i] = e->next;
			free(e);
		}
	free(t->b);
	free(t);
}
