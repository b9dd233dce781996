/*
 * files_set: the names this run gave out, so that no two records of a run
 * get one name.  The table keeps, per template name, the lowest suffix not
 * yet given (below it every suffix is taken), so that a fixed name costs
 * O(1) per record when DIR holds no other URL's files, and where a walk
 * saw another URL's file, so that later records skip it without a look at
 * DIR and that URL's record finds it at once.  The table is bounded: when
 * it is full it is emptied, each entry's next suffix being kept in a
 * small array indexed by the name's hash.  From then on names without a
 * mark are skipped too, as the run may have made them itself.
 */
#include "gather/htab.h"
#include "files_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Keep the entry v's next suffix in the floor; every entry goes. */
static int
files_set_floor(void *arg, void *v)
{
	struct files		*f = arg;
	const struct name	*e = v;
	uint64_t		*fl = &f->floor[htab_hash_of(e) % FLOOR_LEN];

	if (*fl < e->next)
		*fl = e->next;
	return 1;
}

/*
 * Empty the table, keeping each entry's next suffix in the hash-indexed
 * floor so that a name that comes back does not probe from .1 again.
 */
static void
files_set_forget(struct files *f)
{
	(void)htab_sweep(f->set, files_set_floor, f);
	f->forgot = 1;
}

/*
 * A new entry, zeroed, for the n bytes of s of hash h (not in the table),
 * the table emptied first when full; NULL when out of memory.
 */
static struct name *
files_set_add(struct files *f, const char *s, size_t n, uint64_t h)
{
	if (htab_count(f->set) >= TABLE_MAX)
		files_set_forget(f);
	return htab_add(f->set, s, n, h);
}

/* The entry for the n bytes of s, made when new; NULL: no memory. */
static struct name *
files_set_entry(struct files *f, const char *s, size_t n)
{
	struct name	*e;
	uint64_t	 h = htab_hash(f->set, s, n);

	if ((e = htab_find(f->set, s, n, h)) != NULL)
		return e;
	return files_set_add(f, s, n, h);
}

/*
 * Whether this run gave the name in f->name to a record, or (known) found
 * it to be another URL's.
 */
int
files_set_taken(const struct files *f, int known)
{
	const struct name *e = htab_get(f->set, f->name.p, f->name.len);

	return e != NULL && (e->used || (known && e->known));
}

/* f->key for the mark m (n bytes) and the template's name (base bytes). */
static int
files_set_key(struct files *f, const char *m, size_t n, size_t base)
{
	return buf_set(&f->key, "\1", 1) == -1 ||
	    buf_append(&f->key, m, n) == -1 ||
	    buf_append(&f->key, "\1", 1) == -1 ||
	    buf_append(&f->key, f->name.p, base) == -1 ? -1 : 0;
}

/*
 * The walk found f->name (base with suffix n) to be the URL in f->seen's:
 * remember it, so that later records skip it without a look at DIR and
 * that URL's record finds it at once.  -1 when out of memory.
 */
int
files_set_known(struct files *f, size_t base, uint64_t n)
{
	struct name *e;

	if (f->unique || f->seen.len == 0)
		return 0;
	if ((e = files_set_entry(f, f->name.p, f->name.len)) == NULL)
		return -1;
	e->known = 1;
	if (files_set_key(f, f->seen.p, f->seen.len, base) == -1 ||
	    (e = files_set_entry(f, f->key.p, f->key.len)) == NULL)
		return -1;
	e->next = n;
	return 0;
}

/* Where an earlier walk saw this URL's file of the template's name, or -1. */
int64_t
files_set_known_at(struct files *f, size_t base)
{
	const struct name *e;

	if (f->unique || files_set_key(f, f->mark.p, f->mark.len, base) == -1)
		return -1;
	e = htab_get(f->set, f->key.p, f->key.len);
	return e != NULL ? (int64_t)e->next : -1;
}

/*
 * Note that f->name, the template's name base with suffix n, is given
 * out, and move the base's next suffix past what is taken; -1 when out
 * of memory.  f->name is clobbered.
 */
int
files_set_take(struct files *f, size_t base, uint64_t h, uint64_t n,
    uint64_t min)
{
	struct name	*e;
	uint64_t	 next;

	if (f->unique)
		return 0;
	if (n > 0) {
		if ((e = files_set_entry(f, f->name.p, f->name.len)) == NULL)
			return -1;
		e->used = 1;
	}
	/* Remembering may have emptied the table: look the base up again. */
	if ((e = htab_find(f->set, f->name.p, base, h)) == NULL) {
		if ((e = files_set_add(f, f->name.p, base, h)) == NULL)
			return -1;
		next = f->forgot ? f->floor[h % FLOOR_LEN] : 0;
		e->next = next > min ? next : min;
	}
	if (n == 0)
		e->used = 1;
	if (f->forgot) {
		/* What this run made can no longer be told: go past it. */
		if (e->next <= n)
			e->next = n + 1;
		return 0;
	}
	for (next = e->next; ; next++) {
		if (files_name_suffix(f, base, next) == -1)
			return -1;
		if (!(next == 0 ? e->used || e->known : files_set_taken(f, 1)))
			break;
	}
	/* e is still valid: files_name_suffix does not touch the table. */
	e->next = next;
	return 0;
}
