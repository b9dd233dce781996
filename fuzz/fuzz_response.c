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
 *
 * Then the whole program, main() and all (compiled in as gather_main),
 * runs three times on the same URL through its command line, as a user
 * would: -o DIR, then -o DIR --continue, then --revalidate with the first
 * run's output (and -o).  The first run is answered by the bytes before a
 * line "@@next@@" in the input, the others by the bytes after it (all the
 * input when there is no such line), so that a .part left by a short body
 * meets a 206, a Content-Range or an ETag.  Each run must write one line
 * of strict JSON to stdout, and nothing may appear outside DIR but the
 * harness's own files.  Going through argv keeps the target honest when
 * the download code changes underneath it.
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
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
int	gather_main(int, char **);

/* The line that splits an input into the first and the later answers. */
static const char next_mark[] = "\n@@next@@\n";

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
	/*
	 * On this thread's stack, not the heap: a thread still draining
	 * when libFuzzer looks for leaks must not hold the only pointer.
	 * -max_len is 8192; longer seeds are cut.
	 */
	char			 copy[65536];
	char			 req[8192];
	size_t			 got = 0, done, n;
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
	n = resp.b.len < sizeof(copy) ? resp.b.len : sizeof(copy);
	if (n > 0)
		memcpy(copy, resp.b.p, n);
	pthread_mutex_unlock(&resp.lock);
	for (done = 0; done < n; done += (size_t)k)
		if ((k = write(fd, copy + done, n - done)) <= 0)
			break;
	shutdown(fd, SHUT_WR);
	/* Let the client see the end before the socket goes. */
	while (read(fd, req, sizeof(req)) > 0)
		;
}

/*
 * One connection's thread: a client that keeps its connection (the
 * engine's pool does) must not hold up the next one, gather_main's.
 */
static void *
conn(void *arg)
{
	int fd = (int)(intptr_t)arg;

	serve(fd);
	close(fd);
	return NULL;
}

/* The listener thread: a thread for each connection, forever. */
static void *
listener(void *arg)
{
	int		 ls = *(int *)arg, fd;
	struct timeval	 tv = { 3, 0 };
	pthread_t	 t;

	for (;;) {
		if ((fd = accept(ls, NULL, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			abort();
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (pthread_create(&t, NULL, conn, (void *)(intptr_t)fd) != 0)
			abort();
		pthread_detach(t);
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
	/* Not the default loop: gather_main makes and destroys that one. */
	if ((evl = ev_loop_new(EVFLAG_AUTO)) == NULL ||
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
	if (buf_set(&r.req.url, url, strlen(url)) == -1 ||
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
	if (r.res.kind == ERR_UNSUPPORTED_PROTOCOL)
		die("a response made an allowed protocol unsupported", NULL);
	buf_clear(&line);
	if (record_format(out, &r, &line) == -1)
		die("record_format failed", NULL);
	check_line(&line);
	xfer_put(pool, x);
	r.xfer = NULL;
}

/* The first next_mark in p[0..n), or NULL. */
static const uint8_t *
find_mark(const uint8_t *p, size_t n)
{
	size_t i, k = sizeof(next_mark) - 1;

	for (i = 0; i + k <= n; i++)
		if (p[i] == '\n' && memcmp(p + i, next_mark, k) == 0)
			return p + i;
	return NULL;
}

/* Serve p[0..n) to every connection from now on. */
static void
serve_next(const uint8_t *p, size_t n)
{
	pthread_mutex_lock(&resp.lock);
	if (buf_set(&resp.b, p, n) == -1)
		abort();
	pthread_mutex_unlock(&resp.lock);
}

/*
 * Run gather_main with the NULL-terminated argv, stdout into the file
 * path; then that file must hold exactly one line of strict JSON.
 */
static void
run_gather(char **argv, const char *path)
{
	static struct buf	 line;
	char			 chunk[4096];
	int			 argc, fd, saved;
	ssize_t			 k;

	for (argc = 0; argv[argc] != NULL; argc++)
		;
	fflush(stdout);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    (saved = dup(STDOUT_FILENO)) == -1 ||
	    dup2(fd, STDOUT_FILENO) == -1)
		abort();
	(void)gather_main(argc, argv);
	fflush(stdout);
	if (dup2(saved, STDOUT_FILENO) == -1)
		abort();
	close(saved);
	buf_clear(&line);
	if (lseek(fd, 0, SEEK_SET) == -1)
		abort();
	while ((k = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(&line, chunk, (size_t)k) == -1)
			abort();
	close(fd);
	/* FUZZ_RESPONSE_SHOW=1: what each run wrote, to replay a seed by. */
	if (getenv("FUZZ_RESPONSE_SHOW") != NULL)
		fprintf(stderr, "%s: %.*s", argv[argc - 2], (int)line.len,
		    line.p);
	check_line(&line);
}

/* Whether name is one of the harness's own files beside DIR. */
static int
own_file(const char *name)
{
	return strcmp(name, "out") == 0 || strcmp(name, "run1.jsonl") == 0 ||
	    strcmp(name, "run2.jsonl") == 0 || strcmp(name, "run3.jsonl") == 0;
}

/*
 * Remove the directory path and all under it.  With check set, abort when
 * it holds anything but regular files (under DIR, out) or own_file's
 * names (at the top).  depth: 0 the sandbox, 1 inside it, 2 inside DIR.
 */
static void
sweep(const char *path, int depth, int check)
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	char		 sub[4096];

	if ((d = opendir(path)) == NULL)
		abort();
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (lstat(sub, &st) == -1)
			abort();
		if (check && depth == 0 && !own_file(e->d_name)) {
			fprintf(stderr, "fuzz_response: '%s' outside -o\n", sub);
			abort();
		}
		if (check && depth == 1 && !S_ISREG(st.st_mode)) {
			fprintf(stderr, "fuzz_response: '%s' under -o is not a "
			    "regular file\n", sub);
			abort();
		}
		if (S_ISDIR(st.st_mode))
			sweep(sub, depth + 1, check);
		else if (unlink(sub) == -1)
			abort();
	}
	closedir(d);
	if (rmdir(path) == -1)
		abort();
}

/*
 * The three runs of the whole program: -o, -o --continue, --revalidate;
 * the first answered by first, the others by later.
 */
static void
run_downloads(const uint8_t *first, size_t nfirst, const uint8_t *later,
    size_t nlater)
{
	char	 top[] = "/tmp/fuzz_response.XXXXXX";
	char	 dir[64], run1[64], run2[64], run3[64];
	char	 a0[] = "gather", q[] = "-q", r[] = "--retries", r0[] = "0",
		 t[] = "-t", t1[] = "1", nl[] = "--no-location", o[] = "-o",
		 cont[] = "--continue", rv[] = "--revalidate";
	char	*argv1[] = { a0, q, r, r0, t, t1, nl, o, dir, url, NULL };
	char	*argv2[] = { a0, q, r, r0, t, t1, nl, o, dir, cont, url,
		    NULL };
	char	*argv3[] = { a0, q, r, r0, t, t1, nl, o, dir, rv, run1, url,
		    NULL };

	if (mkdtemp(top) == NULL)
		abort();
	snprintf(dir, sizeof(dir), "%s/out", top);
	snprintf(run1, sizeof(run1), "%s/run1.jsonl", top);
	snprintf(run2, sizeof(run2), "%s/run2.jsonl", top);
	snprintf(run3, sizeof(run3), "%s/run3.jsonl", top);
	serve_next(first, nfirst);
	run_gather(argv1, run1);
	serve_next(later, nlater);
	run_gather(argv2, run2);
	run_gather(argv3, run3);
	sweep(top, 0, 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 ready;
	const uint8_t	*m;

	if (!ready) {
		init();
		ready = 1;
	}
	fetch((const uint8_t *)plain, sizeof(plain) - 1);
	fetch(data, size);
	m = find_mark(data, size);
	if (m == NULL)
		run_downloads(data, size, data, size);
	else
		run_downloads(data, (size_t)(m - data),
		    m + sizeof(next_mark) - 1,
		    size - (size_t)(m - data) - (sizeof(next_mark) - 1));
	return 0;
}
