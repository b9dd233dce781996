/*
 * htab: the one hash table, byte-string keys to fixed-size values.  Each
 * entry is one allocation that holds its value and a copy of its key, and
 * stays where it is until deleted, so that a caller may keep a pointer to
 * a value (polite's hosts are held by the records waiting on them).  The
 * hash is seeded per table, so that input cannot be made to pile keys
 * into one chain when the seed differs from run to run.
 */
#ifndef GATHER_HTAB_H
#define GATHER_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct htab;

/* Whether the entry whose value is the second argument is to go. */
typedef int	(*htab_drop_fn)(void *, void *);
/* Called with each entry's value. */
typedef void	(*htab_each_fn)(void *, const void *);

struct htab	*htab_new(size_t, uint64_t);
uint64_t	 htab_hash(const struct htab *, const char *, size_t);
void		*htab_find(const struct htab *, const char *, size_t,
		    uint64_t);
void		*htab_get(const struct htab *, const char *, size_t);
void		*htab_add(struct htab *, const char *, size_t, uint64_t);
void		 htab_del(struct htab *, void *);
const char	*htab_key(const void *);
uint64_t	 htab_hash_of(const void *);
size_t		 htab_count(const struct htab *);
size_t		 htab_sweep(struct htab *, htab_drop_fn, void *);
void		 htab_each(const struct htab *, htab_each_fn, void *);
void		 htab_free(struct htab *);

#endif
