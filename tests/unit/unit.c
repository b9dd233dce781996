/*
 * Unit tests for the pure helpers: UTF-8 checking and repair, base64,
 * JSON escaping, the reorder ring and the clocks (command-line values are
 * tested in units_unit.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gather/cli.h"
#include "gather/clock.h"
#include "gather/reorder.h"
#include "gather/writer.h"
#include "gather/buf.h"
#include "gather/text.h"

#define CHECK_NAME "unit"
#include "check.h"

static int
valid(const char *s, size_t n)
{
	return utf8_valid((const unsigned char *)s, n);
}

static void
test_utf8(void)
{
	struct buf b = { 0 };

	CHECK(valid("", 0));
	CHECK(valid("plain ascii text, long enough to use words", 42));
	CHECK(valid("h\xc3\xa9llo", 6));
	CHECK(valid("\xe6\x97\xa5\xe6\x9c\xac", 6));
	CHECK(valid("\xf0\x9f\x8e\x89", 4));
	CHECK(valid("a\0b", 3));			/* NUL is valid UTF-8 */
	CHECK(!valid("\xff", 1));
	CHECK(!valid("\xc3", 1));			/* truncated */
	CHECK(!valid("\xc0\xaf", 2));			/* overlong */
	CHECK(!valid("\xe0\x80\xaf", 3));		/* overlong */
	CHECK(!valid("\xed\xa0\x80", 3));		/* surrogate */
	CHECK(!valid("\xf4\x90\x80\x80", 4));		/* > U+10FFFF */
	CHECK(!valid("abcdefgh\x80", 9));
	CHECK(utf8_valid_prefix((const unsigned char *)"ab\xffz", 4) == 2);

	CHECK(utf8_repair(&b, (const unsigned char *)"a\xff" "b", 3) == 0);
	CHECK(b.len == 5 && memcmp(b.p, "a\xef\xbf\xbd" "b", 5) == 0);
	buf_clear(&b);
	CHECK(utf8_repair(&b, (const unsigned char *)"\xe6\x97", 2) == 0);
	CHECK(b.len == 6);
	buf_free(&b);
}

static void
test_base64(void)
{
	char out[32];

	CHECK(base64_encode(out, (const unsigned char *)"", 0) == 0 &&
	    strcmp(out, "") == 0);
	CHECK(base64_encode(out, (const unsigned char *)"f", 1) == 4 &&
	    strcmp(out, "Zg==") == 0);
	CHECK(base64_encode(out, (const unsigned char *)"fo", 2) == 4 &&
	    strcmp(out, "Zm8=") == 0);
	CHECK(base64_encode(out, (const unsigned char *)"foobar", 6) == 8 &&
	    strcmp(out, "Zm9vYmFy") == 0);
	CHECK(base64_encode(out, (const unsigned char *)"\xff\xfe\x00", 3) ==
	    4 && strcmp(out, "//4A") == 0);
	CHECK(base64_len(0) == 0 && base64_len(1) == 4 && base64_len(3) == 4 &&
	    base64_len(4) == 8);
}

static void
test_json_escape(void)
{
	char		 out[64];
	const char	*in = "a\"b\\c\n\t\x01\0z";
	size_t		 n = 10, len;

	len = json_escape(out, (const unsigned char *)in, n);
	CHECK(len == json_escaped_len((const unsigned char *)in, n));
	CHECK(strcmp(out, "\"a\\\"b\\\\c\\n\\t\\u0001\\u0000z\"") == 0);
	len = json_escape(out, (const unsigned char *)"h\xc3\xa9", 3);
	CHECK(len == 5 && strcmp(out, "\"h\xc3\xa9\"") == 0);
}

/* json_plain_prefix stops at the first byte json_escape would change. */
static void
test_json_plain_prefix(void)
{
	unsigned char	 s[40];
	size_t		 i, at, want;
	int		 c;
	const int	 stops[] = { 0, 1, 0x1f, '"', '\\', 0x80, 0xc3, 0xff };

	memset(s, 'a', sizeof(s));
	CHECK(json_plain_prefix(s, 0) == 0);
	CHECK(json_plain_prefix(s, sizeof(s)) == sizeof(s));
	for (at = 0; at < sizeof(s); at++)
		for (i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
			s[at] = (unsigned char)stops[i];
			CHECK(json_plain_prefix(s, sizeof(s)) == at);
			CHECK(json_plain_prefix(s, at) == at);
			s[at] = 'a';
		}
	/* Every byte alone, in each place of a word. */
	for (c = 0; c < 256; c++)
		for (at = 0; at < 16; at++) {
			s[at] = (unsigned char)c;
			want = c >= 0x20 && c < 0x80 && c != '"' && c != '\\' ?
			    sizeof(s) : at;
			CHECK(json_plain_prefix(s, sizeof(s)) == want);
			s[at] = 'a';
		}
	/* Neighbours that borrow in the subtraction: 0x20 after 0x21, 0x7f. */
	memcpy(s, " !\x7f #~\x7f  !\x7f #~\x7f !", 17);
	CHECK(json_plain_prefix(s, 17) == 17);
}

/*
 * Waiting lines: a short one is copied (the caller keeps its buffer), a
 * long one is taken (the caller's comes back empty); all come out in
 * order, blocks used again.
 */
static void
test_gather_pool(struct reorder *g, struct writer *w, int fd)
{
	struct buf	 line = { 0 }, want = { 0 };
	char		*p, got[16384];
	size_t		 i, k, len;
	ssize_t		 n;
	off_t		 start = lseek(fd, 0, SEEK_END);

	/* seq 5 .. 7 wait behind 4 (the huge line's 3 and 4 went out). */
	for (k = 0; k < 3; k++) {
		buf_clear(&line);
		len = k == 1 ? 6000 : 100 + k * 300;
		for (i = 0; i + 1 < len; i++)
			buf_append(&line, &"xyz"[k], 1);
		buf_append(&line, "\n", 1);
		buf_append(&want, line.p, line.len);
		p = line.p;
		CHECK(reorder_put(g, 6 + k, &line) == 0);
		if (k == 1)
			CHECK(line.len == 0 && line.p != p);
		else
			CHECK(line.p == p);
	}
	buf_set(&line, "e\n", 2);
	CHECK(reorder_put(g, 5, &line) == 0);
	writer_flush(w);
	n = pread(fd, got, sizeof(got), start);
	CHECK(n == (ssize_t)want.len + 2 && memcmp(got, "e\n", 2) == 0 &&
	    memcmp(got + 2, want.p, want.len) == 0);
	buf_free(&line);
	buf_free(&want);
}

/* The reorder ring: lines come out in seq order, and room is bounded. */
static void
test_gather(void)
{
	struct opts	 o;
	struct writer	*w;
	struct reorder	*g;
	struct buf	 line = { 0 }, big = { 0 };
	char		 path[] = "/tmp/gather-unit-XXXXXX", got[64];
	int		 fd;
	ssize_t		 n;

	memset(&o, 0, sizeof(o));
	if ((fd = mkstemp(path)) == -1) {
		CHECK(!"mkstemp");
		return;
	}
	unlink(path);
	w = writer_new(o.format, fd);
	g = reorder_new(4, 0, w);
	CHECK(reorder_room(g, 0) && reorder_room(g, 3) && !reorder_room(g, 4));
	buf_set(&line, "c\n", 2);
	CHECK(reorder_put(g, 2, &line) == 0);
	buf_set(&line, "b\n", 2);
	CHECK(reorder_put(g, 1, &line) == 0);
	CHECK(!reorder_room(g, 4));
	buf_set(&line, "a\n", 2);
	CHECK(reorder_put(g, 0, &line) == 0);	/* flushes a, b, c */
	CHECK(reorder_room(g, 6) && !reorder_room(g, 7));

	/* A huge waiting line closes admission until it is written. */
	buf_reserve(&big, 65 * 1024 * 1024);
	memset(big.p, 'x', 65 * 1024 * 1024 - 1);
	big.p[65 * 1024 * 1024 - 1] = '\n';
	big.len = 65 * 1024 * 1024;
	CHECK(reorder_put(g, 4, &big) == 0);
	CHECK(!reorder_room(g, 5));
	buf_set(&line, "d\n", 2);
	CHECK(reorder_put(g, 3, &line) == 0);
	CHECK(reorder_room(g, 5));
	writer_flush(w);

	n = pread(fd, got, 8, 0);
	CHECK(n == 8 && memcmp(got, "a\nb\nc\nd\n", 8) == 0);
	test_gather_pool(g, w, fd);
	reorder_free(g);
	writer_free(w);
	buf_free(&line);
	buf_free(&big);
	close(fd);
}

/* The monotonic clock does not go back; the wall clock is time(2)'s. */
static void
test_clock(void)
{
	double	a = clock_mono(), b = clock_mono(), w = clock_wall();
	time_t	t = time(NULL);

	CHECK(a > 0 && b >= a);
	CHECK(w >= (double)t - 2 && w <= (double)t + 2);
}

/* Run every test. */
int
main(void)
{
	test_utf8();
	test_clock();
	test_base64();
	test_json_escape();
	test_json_plain_prefix();
	test_gather();
	return check_report();
}
