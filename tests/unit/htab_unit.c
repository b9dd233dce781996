/*
 * Unit tests for htab: keys are byte strings of a length (a prefix of a
 * key is another key), values stay where they were made while the table
 * grows, delete, sweep and each see every entry once, and a value's key
 * and hash are found from the value alone; the hash is FNV-1a.
 */
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gather/htab.h"
#include "gather/text.h"

#define CHECK_NAME "htab_unit"
#include "check.h"

#define MANY	5000

struct val {
	long	n;
	double	d;
};

/* Drop the entries whose n is odd. */
static int
drop_odd(void *arg, void *v)
{
	(void)arg;
	return ((struct val *)v)->n % 2 != 0;
}

/* Add each entry's n to the sum at arg. */
static void
sum_n(void *arg, const void *v)
{
	*(long *)arg += ((const struct val *)v)->n;
}

/* A prefix of a key is another key; lengths, not NULs, end keys. */
static void
test_prefix(void)
{
	struct htab	*t = htab_new(sizeof(struct val), 7);
	struct val	*a, *b;

	CHECK(t != NULL);
	CHECK(htab_get(t, "abc", 3) == NULL);
	a = htab_add(t, "abc", 3, htab_hash(t, "abc", 3));
	b = htab_add(t, "abcdef", 2, htab_hash(t, "abcdef", 2));
	CHECK(a != NULL && b != NULL && a != b);
	CHECK(a->n == 0 && a->d == 0);
	a->n = 1;
	b->n = 2;
	CHECK(htab_get(t, "abc", 3) == a);
	CHECK(htab_get(t, "abX", 2) == b);
	CHECK(htab_get(t, "ab", 1) == NULL);
	CHECK(strcmp(htab_key(a), "abc") == 0);
	CHECK(strcmp(htab_key(b), "ab") == 0);
	CHECK(htab_hash_of(a) == htab_hash(t, "abc", 3));
	CHECK(htab_find(t, "abc", 3, htab_hash(t, "abc", 3)) == a);
	CHECK((uintptr_t)a % alignof(max_align_t) == 0);
	CHECK(htab_count(t) == 2);
	htab_del(t, a);
	CHECK(htab_get(t, "abc", 3) == NULL && htab_get(t, "ab", 2) == b);
	CHECK(htab_count(t) == 1);
	htab_free(t);
}

/* Growing keeps every value where it was; sweep and each see them all. */
static void
test_many(void)
{
	struct htab	*t = htab_new(sizeof(struct val), 0);
	struct val	*v[MANY];
	char		 key[32];
	long		 i, sum = 0;
	int		 same = 1;

	for (i = 0; i < MANY; i++) {
		snprintf(key, sizeof(key), "host%ld:80", i);
		v[i] = htab_add(t, key, strlen(key), htab_hash(t, key,
		    strlen(key)));
		v[i]->n = i;
	}
	CHECK(htab_count(t) == MANY);
	for (i = 0; i < MANY; i++) {
		snprintf(key, sizeof(key), "host%ld:80", i);
		same &= htab_get(t, key, strlen(key)) == v[i];
	}
	CHECK(same);
	htab_each(t, sum_n, &sum);
	CHECK(sum == (long)MANY * (MANY - 1) / 2);
	CHECK(htab_sweep(t, drop_odd, NULL) == MANY / 2);
	CHECK(htab_count(t) == MANY / 2);
	CHECK(htab_get(t, "host1:80", 8) == NULL);
	CHECK(htab_get(t, "host2:80", 8) == v[2]);
	sum = 0;
	htab_each(t, sum_n, &sum);
	CHECK(sum == (long)(MANY / 2) * (MANY - 2) / 2);
	htab_free(t);
	htab_free(NULL);
}

/* Another seed, another hash; the same seed, the same. */
static void
test_seed(void)
{
	struct htab	*a = htab_new(1, 1), *b = htab_new(1, 2),
			*c = htab_new(1, 1);

	CHECK(htab_hash(a, "x", 1) != htab_hash(b, "x", 1));
	CHECK(htab_hash(a, "x", 1) == htab_hash(c, "x", 1));
	htab_free(a);
	htab_free(b);
	htab_free(c);
}

/*
 * The hash under the table is text.c's FNV-1a (from its own basis), the
 * same whatever the length's remainder by the four bytes a turn.
 */
static void
test_fnv(void)
{
	CHECK(text_hash("", 0, 0) == 0x14650fb0739d0383ULL);
	CHECK(text_hash("a", 1, 0) == 0x44bd8ad473cd9906ULL);
	CHECK(text_hash("foobar", 6, 0) == 0x88fad7c0a8ff07f2ULL);
	CHECK(text_hash("127.0.0.1:8080", 14, 0) == 0x273715660830bc6aULL);
}

/* Run every test. */
int
main(void)
{
	test_fnv();
	test_prefix();
	test_seed();
	test_many();
	return check_report();
}
