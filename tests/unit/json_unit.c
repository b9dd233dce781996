/*
 * Unit tests for the strict JSON gate (json.c) and for what input makes of
 * request objects with it: what RFC 8259 allows passes, everything a
 * lenient parser would let through is refused, deep nesting included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gather/input.h"
#include "gather/json.h"
#include "gather/rec.h"
#include "gather/buf.h"
#include "gather/text.h"

#define CHECK_NAME "json_unit"
#include "check.h"

/* Check one text, given with its length so that NULs can be in it. */
static int
valid(const char *s, size_t n)
{
	return json_valid(s, n);
}

#define OK(lit)		CHECK(valid(lit, sizeof(lit) - 1))
#define BAD(lit)	CHECK(!valid(lit, sizeof(lit) - 1))

static void
test_accept(void)
{
	OK("{}");
	OK("[]");
	OK(" { } ");
	OK("\t[ ]\r\n");
	OK("0");
	OK("-0");
	OK("1");
	OK("-1");
	OK("10");
	OK("0.5");
	OK("-0.5e-3");
	OK("1e5");
	OK("1E+5");
	OK("1e999999");
	OK("123456789012345678901234567890");
	OK("true");
	OK("false");
	OK("null");
	OK("\"\"");
	OK("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"");
	OK("\"\\u0041\\u00e9\\uFFFF\"");
	OK("\"\\u0000\"");
	OK("\"\\ud83d\\ude00\"");	/* a pair */
	OK("\"h\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x8e\x89\"");
	OK("{\"a\":1,\"b\":[1,2,{\"c\":null}],\"d\":\"x\"}");
	OK("{ \"a\" : [ 1 , 2 ] , \"b\" : { } }");
	OK("[[[[[[]]]]]]");
	OK("\"\x7f\"");			/* DEL is not a control byte to JSON */
}

static void
test_reject(void)
{
	BAD("");
	BAD("   ");
	BAD("{");
	BAD("}");
	BAD("[1,]");
	BAD("{\"a\":1,}");
	BAD("[,1]");
	BAD("{,}");
	BAD("{\"a\" 1}");
	BAD("{\"a\":}");
	BAD("{1:2}");
	BAD("{'a':1}");
	BAD("['a']");
	BAD("[1 2]");
	BAD("{\"a\":1}x");
	BAD("{\"a\":1}{}");
	BAD("{\"a\":1} //");
	BAD("[1] /* c */");
	BAD("/* c */ [1]");
	BAD("[1}");
	BAD("{\"a\":1]");
	BAD("01");
	BAD("00");
	BAD("-01");
	BAD("1.");
	BAD("-.5");
	BAD(".5");
	BAD("1.e5");
	BAD("+1");
	BAD("-");
	BAD("1e");
	BAD("1e+");
	BAD("0x10");
	BAD("NaN");
	BAD("Infinity");
	BAD("-Infinity");
	BAD("nul");
	BAD("True");
	BAD("truex");
	BAD("\"abc");
	BAD("\"\\uZZZZ\"");
	BAD("\"\\u12\"");
	BAD("\"\\u12");
	BAD("\"\\u\"");
	BAD("\"\\x41\"");
	BAD("\"\\'\"");
	BAD("\"\\ud800\"");		/* lone high surrogate */
	BAD("\"\\udc00\"");		/* lone low surrogate */
	BAD("\"\\ud800\\u0041\"");	/* high, then not a low */
	BAD("\"\\ud800x\"");
	BAD("\"\\ud83d\\ud83d\"");
	BAD("\"a\tb\"");			/* raw control bytes */
	BAD("\"a\nb\"");
	BAD("\"a\x1f" "b\"");
	BAD("\"a\0b\"");
	BAD("[1,\0]");
	BAD("\"\xff\"");			/* invalid UTF-8 */
	BAD("\"\xc3\"");
	BAD("\"\xc0\xaf\"");
	BAD("\"\xed\xa0\x80\"");		/* a surrogate as UTF-8 */
	BAD("\xef\xbb\xbf{}");		/* a byte order mark */
	BAD("{\"\xff\":1}");
	BAD("[\"a\"\xc2\xa0]");		/* NBSP is not JSON white space */
}

/* Nesting to the bound passes; one more is refused without recursing. */
static void
test_depth(void)
{
	size_t	 n = 1000000, i;
	char	*s = malloc(2 * n);

	if (s == NULL)
		abort();
	for (i = 0; i < JSON_DEPTH_MAX; i++) {
		s[i] = '[';
		s[2 * JSON_DEPTH_MAX - 1 - i] = ']';
	}
	CHECK(valid(s, 2 * JSON_DEPTH_MAX));
	for (i = 0; i < JSON_DEPTH_MAX + 1; i++) {
		s[i] = i % 2 ? '[' : '{';
	}
	memset(s, '[', n);
	memset(s + n, ']', n);
	CHECK(!valid(s, 2 * n));
	s[0] = '{';
	s[1] = '"';
	s[2] = 'a';
	s[3] = '"';
	s[4] = ':';
	CHECK(!valid(s, n));
	free(s);
}

/* A long text is checked in time linear in its length (a rough bound). */
static void
test_linear(void)
{
	size_t	 n = 8 * 1024 * 1024, i;
	char	*s = malloc(n);

	if (s == NULL)
		abort();
	s[0] = '[';
	for (i = 1; i + 2 < n; i += 2) {
		s[i] = '1';
		s[i + 1] = ',';
	}
	s[i - 1] = ']';
	CHECK(valid(s, i));
	s[0] = '"';
	memset(s + 1, '\\', n - 2);
	s[n - 1] = '"';
	CHECK(valid(s, n) == ((n - 2) % 2 == 0));
	free(s);
}

static void
test_walk(void)
{
	static const char	 o[] = "{ \"a\" : 1 , \"b\":[1, {\"x\":\"]\"}],"
	    "\"c\\u0000\" : \"q\\\"\" }";
	struct json_span	 k, v;
	size_t			 pos = 0;
	char			 out[sizeof(o)];

	CHECK(valid(o, sizeof(o) - 1));
	CHECK(json_next(o, sizeof(o) - 1, &pos, &k, &v) == 0);
	CHECK(k.n == 3 && memcmp(k.p, "\"a\"", 3) == 0);
	CHECK(v.n == 1 && v.p[0] == '1');
	CHECK(json_next(o, sizeof(o) - 1, &pos, &k, &v) == 0);
	CHECK(v.n == 14 && memcmp(v.p, "[1, {\"x\":\"]\"}]", 14) == 0);
	CHECK(json_next(o, sizeof(o) - 1, &pos, &k, &v) == 0);
	CHECK(json_string_has_nul(&k));
	CHECK(!json_string_has_nul(&v));
	CHECK(json_next(o, sizeof(o) - 1, &pos, &k, &v) == -1);

	CHECK(json_compact(out, o, sizeof(o) - 1) ==
	    strlen("{\"a\":1,\"b\":[1,{\"x\":\"]\"}],\"c\\u0000\":\"q\\\"\"}"));
	CHECK(strcmp(out,
	    "{\"a\":1,\"b\":[1,{\"x\":\"]\"}],\"c\\u0000\":\"q\\\"\"}") == 0);
	CHECK(json_compact(out, "[\" a \\\\\" ,\n 1 ]", 15) == 11 &&
	    strcmp(out, "[\" a \\\\\",1]") == 0);
}

/* Parse one line; the record's kind afterwards (ERR_NONE when good). */
static enum err_kind
parse(struct rec *r, const char *s, size_t n)
{
	rec_reset(r);
	if (input_parse_line(s, n, r) == IN_AGAIN)
		return (enum err_kind)-1;
	return r->res.kind;
}

#define PARSE(r, lit)	parse(r, lit, sizeof(lit) - 1)

static void
test_input(void)
{
	struct rec *r = calloc(1, sizeof(*r));

	if (r == NULL)
		abort();
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"id\": 12345678901234567890}")
	    == ERR_NONE && strcmp(r->req.id.p, "12345678901234567890") == 0);
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"id\": 1e999}") ==
	    ERR_NONE && strcmp(r->req.id.p, "1e999") == 0);
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"id\": 01}") ==
	    ERR_BAD_INPUT && !r->req.has_id);
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"id\": \"\\uZZZZ\"}") ==
	    ERR_BAD_INPUT && !r->req.has_id);
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"id\": \"\\ud800\"}") ==
	    ERR_BAD_INPUT);
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"id\": -.5}") ==
	    ERR_BAD_INPUT);
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"id\": NaN}") ==
	    ERR_BAD_INPUT);
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"id\": \"a\tb\"}") ==
	    ERR_BAD_INPUT);
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"id\": \"a\0b\"}") ==
	    ERR_BAD_INPUT);
	CHECK(PARSE(r, "{\"url\": \"http://h/\",}") == ERR_BAD_INPUT);
	CHECK(PARSE(r, "{\"url\": \"http://h/\"} x") == ERR_BAD_INPUT);
	CHECK(PARSE(r, "{'url': 'http://h/'}") == ERR_BAD_INPUT);
	CHECK(PARSE(r, "{\"url\": \"http://h/\"} // c") == ERR_BAD_INPUT);
	/* The url is whole or refused, and trimmed like a line. */
	CHECK(PARSE(r, "{\"url\": \"http://h/\\u0000x\"}") == ERR_BAD_INPUT);
	CHECK(PARSE(r, "{\"url\": \" \\t http://h/a \\r\\n\"}") ==
	    ERR_NONE && strcmp(r->req.url.p, "http://h/a") == 0 && r->req.url.len == 10);
	CHECK(PARSE(r, "{\"\\u0075rl\": \"http://h/\"}") == ERR_NONE &&
	    strcmp(r->req.url.p, "http://h/") == 0);
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"url\": \"http://i/\"}") ==
	    ERR_BAD_INPUT);
	/* \u0000 in a method or a header is refused, in a body kept. */
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"method\": \"GE\\u0000T\"}")
	    == ERR_BAD_INPUT);
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"headers\": "
	    "{\"X\": \"a\\u0000b\"}}") == ERR_BAD_INPUT);
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"headers\": "
	    "{\"X\\u0000Y\": \"a\"}}") == ERR_BAD_INPUT);
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"headers\": "
	    "[\"X: a\\u0000b\"]}") == ERR_BAD_INPUT);
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"headers\": "
	    "{\"X-A\": \"1\", \"X-B\": \"\\u00e9\"}}") == ERR_NONE &&
	    r->req.nheaders == 2 && r->req.headers.len == 15 &&
	    memcmp(r->req.headers.p, "X-A: 1\0X-B: \xc3\xa9\0", 15) == 0);
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"body\": \"a\\u0000b\"}") ==
	    ERR_NONE && r->req.has_body && r->req.body.len == 3 &&
	    memcmp(r->req.body.p, "a\0b", 3) == 0);
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"body\": {\"n\": 1.50}}") ==
	    ERR_NONE && strcmp(r->req.body.p, "{\"n\": 1.50}") == 0);
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"timeout\": 2.5}") ==
	    ERR_NONE && r->req.timeout == 2.5);
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"timeout\": -1}") ==
	    ERR_BAD_INPUT);
	/* An id is echoed even when another field is bad, wherever it is. */
	CHECK(PARSE(r, "{\"url\": \"http://h/\", \"x\": 1, \"id\": [1]}") ==
	    ERR_BAD_INPUT && r->req.has_id && strcmp(r->req.id.p, "[1]") == 0);
	/* Deep nesting: bad_input, no stack overflow. */
	{
		size_t	 n = 200000, i;
		char	*s = malloc(n + 32);

		if (s == NULL)
			abort();
		i = (size_t)snprintf(s, 32, "{\"url\":\"h\",\"id\":");
		memset(s + i, '[', n - i);
		CHECK(parse(r, s, n) == ERR_BAD_INPUT);
		free(s);
	}
	rec_free(r);
}

int
main(void)
{
	test_accept();
	test_reject();
	test_depth();
	test_linear();
	test_walk();
	test_input();
	return check_report();
}
