/*
 * fuzz_response: libFuzzer target for what a server can say.  The fuzz
 * bytes are served, as they are, as the HTTP response to a real transfer:
 * gather's own xfer (handle pool, write and header callbacks, result
 * classification) driven by its own loop (libev and libcurl's multi
 * interface) against a listener on 127.0.0.1 in a thread of this process.
 * The finished record goes through record_format, which must give one line
 * of strict JSON, whatever arrived.
 *
 * Each input runs two transfers through the same pool, the first answered
 * by a plain response: a handle (or anything else) that keeps state from
 * one transfer to the next is exercised as gather exercises it, so that
 * a folded first header line after an ordinary response, say, is caught.
 *
 * Options are those of `gather -I --no-location -t 2`: redirects are not
 * followed, so that no Location can lead the fuzzer off the machine.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <ev.h>

#include "gather/cli.h"
#include "gather/loop.h"
#include "gather/record.h"
#include "gather/rec.h"
#include "gather/buf.h"
#include "gather/text.h"
#include "gather/xfer.h"

#include "strict_utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The response the first transfer of each input gets. */
static const char plain[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
    "X-Last: yes\r\nContent-Length: 2\r\n\r\nok";

/*
 * What the listener thread serves next: the main thread sets it, the
 * thread takes a copy, since a late connection may come after the fuzz
 * input is gone.  Nobody holds the lock while writing to a socket.
 */
static struct {
	pthread_mutex_t	 lock;
	struct buf	 b;
} resp = { PTHREAD_MUTEX_INITIALIZER, { 0 } };

static struct opts	 opts;
static struct xfer_pool	*pool;
static struct loop	*lp;
static struct record	*out;
static struct ev_loop	*evl;
static char		 url[64];
static int		 finished;
static CURLcode		 result;

static void
die(const char *what, const struct buf *line)
{
	fprintf(stderr, "fuzz_response: %s\n", what);
	if (line != NULL && line->p != NULL)
		fprintf(stderr, "line (%zu bytes): %.*s\n", line->len,
		    (int)(line->len > 4000 ? 4000 : line->len), line->p);
	abort();
}

/* Read a request up to its blank line (or a bound), then answer it. */
static void
serve(int fd)
{
	static struct buf	 copy;
	char			 req[8192];
	size_t			 got = 0, done;
	ssize_t			 k;

	while (got < sizeof(req) - 1) {
		if ((k = read(fd, req + got, sizeof(req) - 1 - got)) <= 0)
			break;
		got += (size_t)k;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	pthread_mutex_lock(&resp.lock);
	if (buf_set(&copy, resp.b.p ? resp.b.p : "", resp.b.len) == -1)
		abort();
	pthread_mutex_unlock(&resp.lock);
	for (done = 0; done < copy.len; done += (size_t)k)
		if ((k = write(fd, copy.p + done, copy.len - done)) <= 0)
			break;
	shutdown(fd, SHUT_WR);
	/* Let the client see the end before the socket goes. */
	while (read(fd, req, sizeof(req)) > 0)
		;
}

/* The listener thread: one connection at a time, forever. */
static void *
listener(void *arg)
{
	int		 ls = *(int *)arg, fd;
	struct timeval	 tv = { 3, 0 };

	for (;;) {
		if ((fd = accept(ls, NULL, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			abort();
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		serve(fd);
		close(fd);
	}
	return NULL;
}

/* The loop's done callback: take the handle out and stop the loop. */
static void
done_cb(void *arg, CURL *e, CURLcode rc)
{
	(void)arg;
	loop_remove(lp, e);
	result = rc;
	finished = 1;
	ev_break(evl, EVBREAK_ALL);
}

/* Start the listener and set up gather's engine, once. */
static void
init(void)
{
	static char		 a0[] = "gather", a1[] = "-I",
				 a2[] = "--no-location", a3[] = "-t",
				 a4[] = "2", a5[] = "http://127.0.0.1/";
	static char		*argv[] = { a0, a1, a2, a3, a4, a5, NULL };
	static int		 ls;
	struct sockaddr_in	 sa;
	socklen_t		 len = sizeof(sa);
	pthread_t		 t;
	char			 err[256];

	if (cli_parse(&opts, 6, argv, err, sizeof(err)) != CLI_RUN)
		die(err, NULL);
	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		abort();
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(ls, 16) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sa, &len) == -1)
		abort();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x",
	    ntohs(sa.sin_port));
	if (pthread_create(&t, NULL, listener, &ls) != 0)
		abort();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((evl = ev_default_loop(0)) == NULL ||
	    (pool = xfer_pool_new(&opts, NULL)) == NULL ||
	    (lp = loop_new(evl, 4, 0, done_cb, NULL)) == NULL ||
	    (out = record_new(&opts, NULL)) == NULL)
		abort();
}

/* The one check everything comes down to: LINE is one line of JSON. */
static void
check_line(const struct buf *line)
{
	const char	*end = NULL;
	cJSON		*doc;

	if (line->len == 0 || line->p[line->len - 1] != '\n')
		die("the line does not end with a newline", line);
	if (memchr(line->p, '\n', line->len - 1) != NULL)
		die("a newline inside the line", line);
	if (!strict_utf8((const unsigned char *)line->p, line->len))
		die("the line is not valid UTF-8", line);
	doc = cJSON_ParseWithLengthOpts(line->p, line->len - 1, &end, 0);
	if (doc == NULL || end != line->p + line->len - 1 ||
	    !cJSON_IsObject(doc))
		die("the line is not one JSON object", line);
	cJSON_Delete(doc);
}

/* One transfer of url answered with p, as sched would run it. */
static void
fetch(const uint8_t *p, size_t n)
{
	static struct buf	 line;
	static struct rec	 r;
	struct xfer		*x;

	pthread_mutex_lock(&resp.lock);
	if (buf_set(&resp.b, p, n) == -1)
		abort();
	pthread_mutex_unlock(&resp.lock);

	rec_reset(&r);
	if (buf_set(&r.url, url, strlen(url)) == -1 ||
	    (x = xfer_get(pool)) == NULL)
		abort();
	r.xfer = x;
	if (xfer_prepare(x, &r) == -1)
		die("a valid URL was refused", NULL);
	finished = 0;
	if (loop_add(lp, xfer_easy(x), url) == -1)
		abort();
	while (!finished)
		ev_run(evl, 0);
	xfer_finish(x, result);
	if (r.kind == ERR_UNSUPPORTED_PROTOCOL)
		die("a response made an allowed protocol unsupported", NULL);
	buf_clear(&line);
	if (record_format(out, &r, &line) == -1)
		die("record_format failed", NULL);
	check_line(&line);
	xfer_put(pool, x);
	r.xfer = NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		init();
		ready = 1;
	}
	fetch((const uint8_t *)plain, sizeof(plain) - 1);
	fetch(data, size);
	return 0;
}
