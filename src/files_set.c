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
#include "gather/text.h"
#include "files_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * FNV-1a over the name, keyed by a per-run seed and mixed at the end, so
 * that a list of URLs cannot be made to pile its names into one chain.
 */
uint64_t
files_set_hash(const struct files *f, const char *s, size_t n)
{
	uint64_t	h = text_hash(s, n, f->seed);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* The table's entry for name, or NULL. */
struct name *
files_set_find(const struct files *f, const char *s, size_t n, uint64_t h)
{
	size_t i;

	if (f->setcap == 0)
		return NULL;
	for (i = h & (f->setcap - 1); f->set[i].s != NULL;
	    i = (i + 1) & (f->setcap - 1))
		if (f->set[i].hash == h && strncmp(f->set[i].s, s, n) == 0 &&
		    f->set[i].s[n] == '\0')
			return &f->set[i];
	return NULL;
}

/*
 * Empty the table, keeping each entry's next suffix in the hash-indexed
 * floor so that a name that comes back does not probe from .1 again.
 */
static void
files_set_forget(struct files *f)
{
	struct name	*e;
	uint64_t	*fl;
	size_t		 i;

	for (i = 0; i < f->setcap; i++) {
		e = &f->set[i];
		if (e->s == NULL)
			continue;
		fl = &f->floor[e->hash % FLOOR_LEN];
		if (*fl < e->next)
			*fl = e->next;
		free(e->s);
		e->s = NULL;
	}
	f->setlen = 0;
	f->forgot = 1;
}

/*
 * Add name (not in the table): whether it was given to a record, and the
 * suffix below which all of its are taken; -1 when out of memory.
 */
static int
files_set_add(struct files *f, const char *s, size_t n, uint64_t h,
    uint64_t next, int used)
{
	struct name	*set;
	size_t		 i, j, cap;

	if (f->setlen >= TABLE_MAX)
		files_set_forget(f);
	if ((f->setlen + 1) * 2 > f->setcap) {
		cap = f->setcap ? f->setcap * 2 : 64;
		if ((set = calloc(cap, sizeof(*set))) == NULL)
			return -1;
		for (i = 0; i < f->setcap; i++) {
			if (f->set[i].s == NULL)
				continue;
			for (j = f->set[i].hash & (cap - 1); set[j].s != NULL;
			    j = (j + 1) & (cap - 1))
				;
			set[j] = f->set[i];
		}
		free(f->set);
		f->set = set;
		f->setcap = cap;
	}
	for (i = h & (f->setcap - 1); f->set[i].s != NULL;
	    i = (i + 1) & (f->setcap - 1))
		;
	if ((f->set[i].s = malloc(n + 1)) == NULL)
		return -1;
	memcpy(f->set[i].s, s, n);
	f->set[i].s[n] = '\0';
	f->set[i].hash = h;
	f->set[i].next = next;
	f->set[i].used = used;
	f->setlen++;
	return 0;
}

/*
 * Whether this run gave the name in f->name to a record, or (known) found
 * it to be another URL's.
 */
int
files_set_taken(const struct files *f, int known)
{
	const struct name	*e;
	uint64_t		 h = files_set_hash(f, f->name.p, f->name.len);

	e = files_set_find(f, f->name.p, f->name.len, h);
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
	struct name	*e;
	uint64_t	 h;

	if (f->unique || f->seen.len == 0)
		return 0;
	h = files_set_hash(f, f->name.p, f->name.len);
	if ((e = files_set_find(f, f->name.p, f->name.len, h)) != NULL)
		e->known = 1;
	else if (files_set_add(f, f->name.p, f->name.len, h, 0, 0) == -1 ||
	    (e = files_set_find(f, f->name.p, f->name.len, h)) == NULL)
		return -1;
	else
		e->known = 1;
	if (files_set_key(f, f->seen.p, f->seen.len, base) == -1)
		return -1;
	h = files_set_hash(f, f->key.p, f->key.len);
	if ((e = files_set_find(f, f->key.p, f->key.len, h)) != NULL) {
		e->next = n;
		return 0;
	}
	return files_set_add(f, f->key.p, f->key.len, h, n, 0);
}

/* Where an earlier walk saw this URL's file of the template's name, or -1. */
int64_t
files_set_known_at(struct files *f, size_t base)
{
	const struct name *e;

	if (f->unique || files_set_key(f, f->mark.p, f->mark.len, base) == -1)
		return -1;
	e = files_set_find(f, f->key.p, f->key.len, files_set_hash(f, f->key.p,
	    f->key.len));
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
	uint64_t	 next, hn;

	if (f->unique)
		return 0;
	if (n > 0) {
		hn = files_set_hash(f, f->name.p, f->name.len);
		e = files_set_find(f, f->name.p, f->name.len, hn);
		if (e != NULL)
			e->used = 1;
		else if (files_set_add(f, f->name.p, f->name.len, hn, 0, 1) ==
		    -1)
			return -1;
	}
	/* Remembering may have emptied the table: look the base up again. */
	if ((e = files_set_find(f, f->name.p, base, h)) == NULL) {
		next = f->forgot ? f->floor[h % FLOOR_LEN] : 0;
		if (files_set_add(f, f->name.p, base, h, next > min ? next :
		    min, n == 0) == -1 ||
		    (e = files_set_find(f, f->name.p, base, h)) == NULL)
			return -1;
	} else if (n == 0)
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

/* Free the table's names. */
void
files_set_free(struct files *f)
{
	size_t i;

	for (i = 0; i < f->setcap; i++)
		free(f->set[i].s);
	free(f->set);
}
