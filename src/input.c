/*
 * input: turns URL arguments, then lines of a file or of stdin, into
 * records.  Lines are trimmed; blank and # lines are skipped and get no
 * index.  Reading is pulled by the scheduler a record at a time, so an
 * endless producer works and memory stays at one fixed buffer.
 */
#include "gather/input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define INPUT_BUF	(2 * INPUT_LINE_MAX + 4096)
#define BAD_URL_MAX	256

struct input {
	struct ev_loop	*evl;
	ev_io		 io;
	input_ready_fn	 ready;
	void		*arg;

	char	       **urls;		/* URL arguments not yet taken */
	size_t		 nurls;
	int		 fd;		/* -1 when there is no stream */
	int		 own_fd;
	int		 regular;	/* a file: read() never waits */
	int		 readable;	/* the watcher said so */
	int		 eof;
	int		 skipping;	/* inside an over-long line */
	int		 err;		/* errno of a failed read */
	char		 errmsg[256];

	uint64_t	 next_index;
	uint64_t	 shard_k, shard_n;	/* shard_n 0: every record */
	size_t		 start, end;	/* unread bytes are buf[start..end) */
	char		 buf[INPUT_BUF];
};

static void
input_io_cb(struct ev_loop *evl, ev_io *w, int revents)
{
	struct input *in = w->data;

	(void)revents;
	ev_io_stop(evl, w);
	in->readable = 1;
	in->ready(in->arg);
}

/* Open the stream part of the input; NULL and a reason when it fails. */
struct input *
input_new(struct ev_loop *evl, const struct opts *o, input_ready_fn ready,
    void *arg, char *err, size_t errlen)
{
	struct input	*in;
	struct stat	 st;

	if ((in = calloc(1, sizeof(*in))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	in->evl = evl;
	in->ready = ready;
	in->arg = arg;
	in->urls = o->urls;
	in->nurls = o->nurls;
	in->shard_k = (uint64_t)o->shard_k;
	in->shard_n = (uint64_t)o->shard_n;
	in->fd = -1;

	if (o->input != NULL && strcmp(o->input, "-") != 0) {
		if ((in->fd = open(o->input, O_RDONLY | O_CLOEXEC)) == -1) {
			snprintf(err, errlen, "cannot open '%s': %s", o->input,
			    strerror(errno));
			free(in);
			return NULL;
		}
		in->own_fd = 1;
	} else if (o->input != NULL || o->nurls == 0)
		in->fd = STDIN_FILENO;

	if (in->fd != -1) {
		if (fstat(in->fd, &st) == -1 || S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "cannot read '%s': %s",
			    o->input ? o->input : "-",
			    S_ISDIR(st.st_mode) ? "is a directory" :
			    strerror(errno));
			if (in->own_fd)
				close(in->fd);
			free(in);
			return NULL;
		}
		in->regular = S_ISREG(st.st_mode);
		ev_io_init(&in->io, input_io_cb, in->fd, EV_READ);
		in->io.data = in;
	} else
		in->eof = 1;
	return in;
}

/* Trim blanks and CR at both ends of [*p, *p + *n). */
static void
input_trim(const char **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t' || **p == '\r')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' ||
	    (*p)[*n - 1] == '\r'))
		(*n)--;
}

/* A method or header name: visible ASCII without separators. */
static int
input_token_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == ':' || s[i] == ';')
			return 0;
	return n > 0;
}

/* Add "name: value" to r's headers; -1 when it would be unsafe. */
static int
input_header(struct rec *r, const char *name, size_t nlen, const char *val)
{
	if (!input_token_ok(name, nlen) || strpbrk(val, "\r\n") != NULL)
		return -1;
	if (buf_append(&r->headers, name, nlen) == -1 ||
	    buf_append(&r->headers, ": ", 2) == -1 ||
	    buf_append(&r->headers, val, strlen(val) + 1) == -1)
		return -1;
	r->nheaders++;
	return 0;
}

/* The headers of a request object: {"K": "V"} or ["K: V", ...]. */
static const char *
input_headers(struct rec *r, const cJSON *h)
{
	const cJSON	*it;
	const char	*colon, *v;

	if (cJSON_IsObject(h)) {
		cJSON_ArrayForEach(it, h) {
			if (!cJSON_IsString(it))
				return "header values must be strings";
			if (input_header(r, it->string, strlen(it->string),
			    it->valuestring) == -1)
				return "invalid header name or value";
		}
		return NULL;
	}
	if (!cJSON_IsArray(h))
		return "headers must be an object or an array of strings";
	cJSON_ArrayForEach(it, h) {
		if (!cJSON_IsString(it) ||
		    (colon = strchr(it->valuestring, ':')) == NULL)
			return "headers must be \"Name: value\" strings";
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		if (input_header(r, it->valuestring,
		    (size_t)(colon - it->valuestring), v) == -1)
			return "invalid header name or value";
	}
	return NULL;
}

/* Fill r from a request object; NULL, or why it is bad. */
static const char *
input_fields(struct rec *r, cJSON *o, char *tmp, size_t tmplen)
{
	cJSON	*it;

	cJSON_ArrayForEach(it, o) {
		const char *k = it->string;

		if (strcmp(k, "url") == 0 || strcmp(k, "id") == 0)
			continue;
		if (strcmp(k, "method") == 0) {
			if (!cJSON_IsString(it) || !input_token_ok(
			    it->valuestring, strlen(it->valuestring)))
				return "method must be a word such as POST";
			if (buf_set(&r->method, it->valuestring,
			    strlen(it->valuestring)) == -1)
				return "out of memory";
		} else if (strcmp(k, "headers") == 0) {
			const char *why = input_headers(r, it);
			if (why != NULL)
				return why;
		} else if (strcmp(k, "body") == 0) {
			continue;	/* taken from the raw text */
		} else if (strcmp(k, "timeout") == 0) {
			if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0) ||
			    it->valuedouble > 1e9)
				return "timeout must be a number of seconds";
			r->timeout = it->valuedouble;
		} else {
			snprintf(tmp, tmplen, "unknown field \"%.64s\" in the "
			    "request object", k);
			return tmp;
		}
	}
	return NULL;
}

/*
 * id and body from the object's own text: id is echoed exactly as written
 * (cJSON would turn big numbers into doubles and cut strings at \u0000),
 * and a string body keeps every byte it decodes to, NULs included.  A NUL
 * anywhere else (url, method, headers) is refused: it cannot be sent.
 */
static const char *
input_raw_fields(struct rec *r, cJSON *o, const char *p, size_t n)
{
	const char	*ids = NULL, *bs = NULL, *q;
	size_t		 idn = 0, bn = 0, i;
	cJSON		*id, *body;
	char		*json;

	id = cJSON_GetObjectItemCaseSensitive(o, "id");
	body = cJSON_GetObjectItemCaseSensitive(o, "body");
	if (id != NULL && json_member_raw(p, n, "id", &ids, &idn) == -1)
		ids = NULL;
	if (body != NULL && json_member_raw(p, n, "body", &bs, &bn) == -1)
		bs = NULL;

	/* An escaped NUL is fine only inside the id or the body. */
	for (q = p; (q = json_find_nul_escape(q, (size_t)(p + n - q))) != NULL;
	    q += 6)
		if (!((ids && q >= ids && q < ids + idn) ||
		    (bs && q >= bs && q < bs + bn)))
			return "a NUL (\\u0000) in a request object's url, "
			    "method or headers";

	if (id != NULL) {
		r->has_id = 1;
		for (i = 0; ids != NULL && i < idn; i++)
			if ((unsigned char)ids[i] < 0x20)
				ids = NULL;	/* printed escaped instead */
		if (ids != NULL) {
			if (buf_set(&r->id, ids, idn) == -1)
				return "out of memory";
		} else {
			if ((json = cJSON_PrintUnformatted(id)) == NULL)
				return "out of memory";
			i = (size_t)buf_set(&r->id, json, strlen(json));
			cJSON_free(json);
			if (i != 0)
				return "out of memory";
		}
	}
	if (body != NULL) {
		r->has_body = 1;
		buf_clear(&r->body);
		if (cJSON_IsString(body) && bs != NULL) {
			if (json_unescape(&r->body, bs, bn) == -1)
				return "malformed body string";
		} else if (bs != NULL) {
			if (buf_set(&r->body, bs, bn) == -1)
				return "out of memory";
		} else {
			if ((json = cJSON_IsString(body) ? NULL :
			    cJSON_PrintUnformatted(body)) == NULL &&
			    !cJSON_IsString(body))
				return "out of memory";
			i = (size_t)buf_set(&r->body, json ? json :
			    body->valuestring, strlen(json ? json :
			    body->valuestring));
			cJSON_free(json);
			if (i != 0)
				return "out of memory";
		}
	}
	return NULL;
}

/* A line starting with {: a request object. */
static enum input_status
input_object(struct rec *r, const char *p, size_t n)
{
	const char	*end = NULL, *why;
	char		 tmp[128];
	cJSON		*o, *url;

	if (!utf8_valid((const unsigned char *)p, n)) {
		rec_fail(r, ERR_BAD_INPUT, "request object is not valid UTF-8");
		return IN_BAD;
	}
	if ((o = cJSON_ParseWithLengthOpts(p, n, &end, 0)) == NULL) {
		rec_fail(r, ERR_BAD_INPUT, "malformed request object");
		return IN_BAD;
	}
	if (end != p + n) {
		cJSON_Delete(o);
		rec_fail(r, ERR_BAD_INPUT, "trailing bytes after the request "
		    "object");
		return IN_BAD;
	}
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		rec_fail(r, ERR_BAD_INPUT, "a request object must be an "
		    "object");
		return IN_BAD;
	}
	/* Before the url is taken: a url cut at a NUL is not the url. */
	if ((why = input_raw_fields(r, o, p, n)) != NULL) {
		cJSON_Delete(o);
		rec_fail(r, ERR_BAD_INPUT, "%s", why);
		return IN_BAD;
	}
	url = cJSON_GetObjectItemCaseSensitive(o, "url");
	if (cJSON_IsString(url) && buf_set(&r->url, url->valuestring,
	    strlen(url->valuestring)) == -1) {
		cJSON_Delete(o);
		rec_fail(r, ERR_OTHER, "out of memory");
		return IN_BAD;
	}
	why = cJSON_IsString(url) ? input_fields(r, o, tmp, sizeof(tmp)) :
	    "a request object needs a string \"url\"";
	cJSON_Delete(o);
	if (why != NULL) {
		rec_fail(r, ERR_BAD_INPUT, "%s", why);
		return IN_BAD;
	}
	return IN_RECORD;
}

/*
 * Turn one raw line into r's request: IN_RECORD, IN_BAD (r failed), or
 * IN_AGAIN for a blank or comment line, which is no record at all.
 */
enum input_status
input_parse_line(const char *p, size_t n, struct rec *r)
{
	input_trim(&p, &n);
	if (n == 0 || *p == '#')
		return IN_AGAIN;
	if (buf_set(&r->url, p, n) == -1) {
		rec_fail(r, ERR_OTHER, "out of memory");
		return IN_BAD;
	}
	if (*p == '{')
		return input_object(r, p, n);
	return IN_RECORD;
}

/* Number the next record; 0 when it belongs to another --shard. */
static int
input_take_index(struct input *in, struct rec *r)
{
	r->index = in->next_index++;
	return in->shard_n == 0 || r->index % in->shard_n == in->shard_k;
}

/* Parse a line and number it when it is a record of this shard. */
static enum input_status
input_line(struct input *in, const char *p, size_t n, struct rec *r)
{
	input_trim(&p, &n);
	if (n == 0 || *p == '#' || !input_take_index(in, r))
		return IN_AGAIN;
	return input_parse_line(p, n, r);
}

/* A line longer than INPUT_LINE_MAX: a bad record named by its head. */
static enum input_status
input_too_long(struct input *in, struct rec *r)
{
	const char *p = in->buf + in->start;

	in->skipping = 1;
	while (p < in->buf + in->end && (*p == ' ' || *p == '\t' ||
	    *p == '\r'))
		p++;
	if ((p < in->buf + in->end && *p == '#') || !input_take_index(in, r))
		return IN_AGAIN;
	if (buf_set(&r->url, in->buf + in->start, BAD_URL_MAX) == -1)
		rec_fail(r, ERR_OTHER, "out of memory");
	else
		rec_fail(r, ERR_BAD_INPUT, "line longer than %d bytes",
		    INPUT_LINE_MAX);
	return IN_BAD;
}

/* Read once from the stream; returns 0, or -1 when it must wait. */
static int
input_fill(struct input *in)
{
	ssize_t n;

	if (!in->regular && !in->readable) {
		if (!ev_is_active(&in->io))
			ev_io_start(in->evl, &in->io);
		return -1;
	}
	if (in->start > 0) {
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
	}
	do
		n = read(in->fd, in->buf + in->end, sizeof(in->buf) - in->end);
	while (n == -1 && errno == EINTR);
	in->readable = 0;
	if (n == 0)
		in->eof = 1;
	else if (n > 0)
		in->end += (size_t)n;
	else if (errno == EAGAIN || errno == EWOULDBLOCK)
		return input_fill(in);
	else {
		in->err = errno;
		snprintf(in->errmsg, sizeof(in->errmsg), "cannot read input: %s",
		    strerror(errno));
	}
	return 0;
}

/* The next record, or why there is none now. */
enum input_status
input_next(struct input *in, struct rec *r)
{
	enum input_status	 st;
	char			*nl;
	size_t			 len;

	while (in->nurls > 0) {
		const char *u = *in->urls++;
		in->nurls--;
		if ((st = input_line(in, u, strlen(u), r)) != IN_AGAIN)
			return st;
	}
	for (;;) {
		if (in->err)
			return IN_ERROR;
		len = in->end - in->start;
		nl = memchr(in->buf + in->start, '\n', len);
		if (in->skipping) {
			in->start = nl ? (size_t)(nl - in->buf) + 1 : in->end;
			if (nl)
				in->skipping = 0;
			else if (in->eof)
				return IN_EOF;
			else if (input_fill(in) == -1)
				return IN_AGAIN;
			continue;
		}
		if (nl != NULL || (in->eof && len > 0)) {
			size_t n = nl ? (size_t)(nl - (in->buf + in->start)) : len;
			if (n > INPUT_LINE_MAX) {
				st = input_too_long(in, r);
				if (nl) {
					in->start += n + 1;
					in->skipping = 0;
				} else
					in->start = in->end;
				if (st != IN_AGAIN)
					return st;
				continue;
			}
			st = input_line(in, in->buf + in->start, n, r);
			in->start += nl ? n + 1 : n;
			if (st != IN_AGAIN)
				return st;
			continue;
		}
		if (len > INPUT_LINE_MAX) {
			if ((st = input_too_long(in, r)) != IN_AGAIN)
				return st;
			continue;
		}
		if (in->eof)
			return IN_EOF;
		if (input_fill(in) == -1)
			return IN_AGAIN;
	}
}

const char *
input_error(const struct input *in)
{
	return in->errmsg;
}

/* Stop reading for good: no record after this one is taken. */
void
input_stop(struct input *in)
{
	ev_io_stop(in->evl, &in->io);
	in->nurls = 0;
	in->eof = 1;
	in->start = in->end = 0;
}

void
input_free(struct input *in)
{
	if (in == NULL)
		return;
	ev_io_stop(in->evl, &in->io);
	if (in->own_fd)
		close(in->fd);
	free(in);
}
