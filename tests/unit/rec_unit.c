/*
 * Unit tests for the record's own operations (rec.c): what a slot pays
 * for its record, room for a digest or a message made only once a record
 * uses it and kept for the next, and failures whole and bounded.
 */
#include <stdlib.h>
#include <string.h>

#include "gather/rec.h"

#define CHECK_NAME "rec_unit"
#include "check.h"

/* A record is part of every slot's cost: no inline digests or message. */
static void
test_size(void)
{
	CHECK(sizeof(struct rec) < 1024);
	CHECK(sizeof(struct rec_res) < 512);
}

/* A new record holds no room for digests or a message until it fails. */
static void
test_lazy(void)
{
	struct rec r;

	memset(&r, 0, sizeof(r));
	rec_reset(&r);
	CHECK(r.res.hash == NULL);
	CHECK(r.res.msg.cap == 0);
	CHECK(strcmp(rec_msg(&r), "") == 0);
	CHECK(r.res.curl_code == -1);
	rec_unfail(&r);
	CHECK(r.res.msg.cap == 0);
	rec_free_bufs(&r);
}

/* A failure's message: bounded, cleared by rec_unfail, room kept. */
static void
test_fail(void)
{
	struct rec	 r;
	char		 big[REC_MSG_MAX * 2];

	memset(&r, 0, sizeof(r));
	rec_reset(&r);
	rec_fail_curl(&r, ERR_CONNECT, 7, "no route to %s", "example.test");
	CHECK(r.res.kind == ERR_CONNECT);
	CHECK(r.res.curl_code == 7);
	CHECK(strcmp(rec_msg(&r), "no route to example.test") == 0);
	CHECK(r.res.msg.cap == REC_MSG_MAX);

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	rec_fail(&r, ERR_OTHER, "%s", big);
	CHECK(strlen(rec_msg(&r)) == REC_MSG_MAX - 1);
	CHECK(r.res.curl_code == -1);

	rec_unfail(&r);
	CHECK(r.res.kind == ERR_NONE);
	CHECK(strcmp(rec_msg(&r), "") == 0);

	rec_fail(&r, ERR_HTTP, "HTTP status %d", 503);
	rec_reset(&r);
	CHECK(r.res.kind == ERR_NONE);
	CHECK(strcmp(rec_msg(&r), "") == 0);
	CHECK(r.res.msg.cap == REC_MSG_MAX);	/* kept for the next record */
	rec_free_bufs(&r);
}

/* Digests made once stay with the record, emptied for the next one. */
static void
test_hash(void)
{
	struct rec r;

	memset(&r, 0, sizeof(r));
	rec_reset(&r);
	if ((r.res.hash = calloc(HASH_SLOTS, sizeof(*r.res.hash))) == NULL)
		abort();
	strcpy(r.res.hash[0], "abc");
	rec_reset(&r);
	CHECK(r.res.hash != NULL);
	CHECK(r.res.hash[0][0] == '\0');
	rec_free_bufs(&r);
	CHECK(r.res.hash == NULL);
}

int
main(void)
{
	test_size();
	test_lazy();
	test_fail();
	test_hash();
	return check_report();
}
