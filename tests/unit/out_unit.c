/*
 * Unit tests for record_format(), the formatter, where a bats test would be
 * too slow or too big: a body whose record would pass 2 GiB, a record that
 * runs out of memory, -I with a great many headers, and --body json
 * embedding only strict JSON, exactly as written.
 */
#define _DEFAULT_SOURCE	/* MAP_ANONYMOUS, MAP_NORESERVE */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "gather/cli.h"
#include "gather/record.h"
#include "gather/rec.h"
#include "gather/buf.h"
#include "gather/text.h"

#define CHECK_NAME "out_unit"
#include "check.h"

static struct record *
writer(enum body_mode mode, int headers)
{
	struct opts	 o;
	struct record	*w;

	memset(&o, 0, sizeof(o));
	o.body = mode;
	o.format = FORMAT_JSONL;
	o.include_headers = headers;
	if ((w = record_new(&o, NULL)) == NULL)
		abort();
	return w;
}

static void
rec_init(struct rec *r, uint64_t index, const char *url)
{
	memset(r, 0, sizeof(*r));
	r->req.index = index;
	r->res.curl_code = -1;
	r->res.status = 200;
	if (buf_set(&r->req.url, url, strlen(url)) == -1)
		abort();
}

/* The line as a parsed document; NULL unless it is one JSON object line. */
static cJSON *
parse(const struct buf *line)
{
	if (line->len == 0 || line->p[line->len - 1] != '\n' ||
	    memchr(line->p, '\n', line->len - 1) != NULL)
		return NULL;
	return cJSON_ParseWithLength(line->p, line->len - 1);
}

/* kind and message of a record line, checked against the expected ones. */
static int
is_error(const struct buf *line, const char *kind, const char *msg)
{
	cJSON	*d = parse(line), *e;
	int	 ok;

	e = cJSON_GetObjectItemCaseSensitive(d, "error");
	ok = d != NULL && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(d,
	    "ok")) && strcmp(cJSON_GetObjectItemCaseSensitive(e,
	    "kind")->valuestring, kind) == 0 &&
	    strcmp(cJSON_GetObjectItemCaseSensitive(e,
	    "message")->valuestring, msg) == 0 &&
	    cJSON_GetObjectItemCaseSensitive(d, "body") == NULL;
	cJSON_Delete(d);
	return ok;
}

/* A body that would make a record over 2 GiB: other, and the next is fine. */
static void
test_too_large(void)
{
	struct record	*w = writer(BODY_BASE64, 0);
	struct buf	 line = { 0 }, body = { 0 };
	struct rec	 r;
	size_t		 n = (size_t)1800 * 1024 * 1024;
	void		*m;

	/* Never touched: base64 is refused from the length alone. */
	m = mmap(NULL, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		fprintf(stderr, "out_unit: no address space, skipped\n");
		return;
	}
	body.p = m;
	body.len = n;
	rec_init(&r, 7, "http://h/big");
	r.req.has_id = 1;
	buf_set(&r.req.id, "{\"k\":[1]}", 9);
	r.res.resp_body = &body;
	r.res.size = n;
	CHECK(record_format(w, &r, &line) == 0);
	CHECK(is_error(&line, "other", "record too large to format"));
	CHECK(strstr(line.p, "\"index\":7,\"url\":\"http://h/big\","
	    "\"id\":{\"k\":[1]},\"ok\":false,\"status\":200") != NULL);
	munmap(m, n);
	memset(&body, 0, sizeof(body));

	/* The next record is whole again. */
	buf_set(&body, "hi", 2);
	r.req.index = 8;
	CHECK(record_format(w, &r, &line) == 0);
	CHECK(strstr(line.p, "\"body\":\"aGk=\"") != NULL &&
	    strstr(line.p, "\"error\":null") != NULL);
	buf_free(&body);
	buf_free(&line);
	buf_free(&r.req.url);
	buf_free(&r.req.id);
	record_free(w);
}

/* Size of the address space in use, from /proc. */
static rlim_t
vm_size(void)
{
	FILE		*f = fopen("/proc/self/statm", "r");
	unsigned long	 pages = 0;

	if (f == NULL || fscanf(f, "%lu", &pages) != 1)
		pages = 0;
	if (f)
		fclose(f);
	return (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE);
}

/* Out of memory while formatting: other with its message, run goes on. */
static void
test_no_memory(void)
{
	struct record	*w = writer(BODY_TEXT, 1);
	struct buf	 line = { 0 }, body = { 0 }, hdrs = { 0 };
	struct rec	 r;
	struct rlimit	 old, lim;
	size_t		 n = (size_t)200 * 1024 * 1024;
	void		*m;
	int		 rc;

	/* 200 MiB of NULs: 1.2 GB once escaped, far over the limit below. */
	m = mmap(NULL, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED || getrlimit(RLIMIT_AS, &old) == -1) {
		fprintf(stderr, "out_unit: no address space, skipped\n");
		return;
	}
	body.p = m;
	body.len = n;
	rec_init(&r, 3, "http://h/nul");
	buf_append(&hdrs, "x-a\0" "1\0", 6);
	r.res.resp_headers = &hdrs;
	r.res.nresp_headers = 1;
	r.res.resp_body = &body;
	buf_reserve(&line, 4096);
	lim = old;
	lim.rlim_cur = vm_size() + 64 * 1024 * 1024;
	if (setrlimit(RLIMIT_AS, &lim) == -1) {
		fprintf(stderr, "out_unit: setrlimit failed, skipped\n");
		munmap(m, n);
		return;
	}
	rc = record_format(w, &r, &line);
	setrlimit(RLIMIT_AS, &old);
	CHECK(rc == 0);
	CHECK(is_error(&line, "other", "out of memory formatting the record"));
	CHECK(strstr(line.p, "\"index\":3,\"url\":\"http://h/nul\"") != NULL);
	munmap(m, n);
	memset(&body, 0, sizeof(body));

	buf_set(&body, "ok", 2);
	CHECK(record_format(w, &r, &line) == 0);
	CHECK(strstr(line.p, "\"body\":\"ok\"") != NULL &&
	    strstr(line.p, "\"headers\":{\"x-a\":\"1\"}") != NULL);
	buf_free(&body);
	buf_free(&hdrs);
	buf_free(&line);
	buf_free(&r.req.url);
	record_free(w);
}

static void
on_alarm(int sig)
{
	(void)sig;
	write(2, "out_unit: -I headers took too long (quadratic?)\n", 48);
	_exit(1);
}

/*
 * -I with 200,000 headers, all names different but one repeated: linear
 * work takes milliseconds, a lookup per header through all names before
 * it takes minutes, and the alarm ends that.
 */
static void
test_many_headers(void)
{
	struct record	*w = writer(BODY_NONE, 1);
	struct buf	 line = { 0 }, hdrs = { 0 };
	struct rec	 r;
	char		 tmp[64];
	size_t		 i, n = 200000;
	cJSON		*d, *h, *rep;

	for (i = 0; i < n; i++) {
		int k = snprintf(tmp, sizeof(tmp), "%s%zu%cv%zu",
		    i % 2 ? "rep" : "x-", i % 2 ? (size_t)0 : i, '\0', i);
		buf_append(&hdrs, tmp, (size_t)k + 1);
	}
	rec_init(&r, 0, "http://h/");
	r.res.resp_headers = &hdrs;
	r.res.nresp_headers = n;
	signal(SIGALRM, on_alarm);
	alarm(20);
	CHECK(record_format(w, &r, &line) == 0);
	alarm(0);
	d = parse(&line);
	h = cJSON_GetObjectItemCaseSensitive(d, "headers");
	rep = cJSON_GetObjectItemCaseSensitive(h, "rep0");
	CHECK(cJSON_GetArraySize(h) == (int)(n / 2 + 1));
	CHECK(cJSON_IsArray(rep) && cJSON_GetArraySize(rep) == (int)(n / 2));
	CHECK(cJSON_IsString(cJSON_GetArrayItem(rep, 1)) &&
	    strcmp(cJSON_GetArrayItem(rep, 1)->valuestring, "v3") == 0);
	CHECK(strncmp(line.p + (strstr(line.p, "\"headers\":") - line.p),
	    "\"headers\":{\"x-0\":\"v0\",\"rep0\":[\"v1\",\"v3\",", 40) == 0);
	cJSON_Delete(d);
	buf_free(&hdrs);
	buf_free(&line);
	buf_free(&r.req.url);
	record_free(w);
}

/* --body json: strict JSON embedded as written, anything else as auto. */
static void
test_body_json(void)
{
	static const struct {
		const char	*body, *want;
	} cases[] = {
		{ "1e999", "\"body\":1e999,\"body_encoding\":\"json\"" },
		{ " {\"a\" : 1.50,\n \"b\": [ 12345678901234567890 ] }\n",
		    "\"body\":{\"a\":1.50,\"b\":[12345678901234567890]},"
		    "\"body_encoding\":\"json\"" },
		{ "\"a\\u0000b\"", "\"body\":\"a\\u0000b\","
		    "\"body_encoding\":\"json\"" },
		{ "01", "\"body\":\"01\",\"body_encoding\":\"utf-8\"" },
		{ "NaN", "\"body\":\"NaN\",\"body_encoding\":\"utf-8\"" },
		{ "[1,]", "\"body\":\"[1,]\",\"body_encoding\":\"utf-8\"" },
		{ "{'a':1}", "\"body\":\"{'a':1}\",\"body_encoding\":\"utf-8\"" },
		{ "\"\\ud800\"", "\"body\":\"\\\"\\\\ud800\\\"\","
		    "\"body_encoding\":\"utf-8\"" },
		{ "[1] x", "\"body\":\"[1] x\",\"body_encoding\":\"utf-8\"" },
		{ "\"\xff\"", "\"body\":\"Iv8i\",\"body_encoding\":\"base64\"" },
	};
	struct record	*w = writer(BODY_JSON, 0);
	struct buf	 line = { 0 }, body = { 0 };
	struct rec	 r;
	size_t		 i;

	rec_init(&r, 0, "http://h/");
	r.res.resp_body = &body;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_set(&body, cases[i].body, strlen(cases[i].body));
		CHECK(record_format(w, &r, &line) == 0);
		CHECK(strstr(line.p, cases[i].want) != NULL);
		if (strstr(line.p, cases[i].want) == NULL)
			fprintf(stderr, "out_unit: got %s", line.p);
	}
	buf_free(&body);
	buf_free(&line);
	buf_free(&r.req.url);
	record_free(w);
}

int
main(void)
{
	test_body_json();
	test_many_headers();
	test_too_large();
	test_no_memory();
	return check_report();
}
