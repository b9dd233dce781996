/*
 * xfer: easy handles, pooled.  A handle keeps its connection-independent
 * options between transfers, so a transfer costs a URL and a few setopts.
 * Bodies are kept in a buffer that is reused from transfer to transfer, or
 * only counted with --body none; --max-body is enforced on decoded bytes as
 * they arrive, whether or not the server sent a Content-Length.
 */
#include "gather/xfer.h"

#include <stdlib.h>
#include <string.h>

/* Buffers larger than this are given back after their record is written. */
#define BODY_KEEP	(256 * 1024)

struct xfer {
	CURL		*easy;
	CURLU		*cu;		/* parses the URL before it is started */
	struct rec	*rec;
	struct buf	 body;
	uint64_t	 received;
	uint64_t	 max_body;	/* 0 = no limit */
	int		 keep_body;
	int		 too_large;
	char		 errbuf[CURL_ERROR_SIZE];
	struct xfer	*next;
};

struct xfer_pool {
	const struct opts	*o;
	struct xfer		*free;
	char			 ua[64];
};

/* Keep (or count) body bytes; abort once they pass --max-body. */
static size_t
xfer_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer	*x = arg;
	size_t		 n = size * nmemb;

	if (x->max_body && x->received + n > x->max_body) {
		x->too_large = 1;
		return 0;
	}
	x->received += n;
	if (x->keep_body && buf_append(&x->body, data, n) == -1)
		return 0;
	return n;
}

static struct xfer *
xfer_new(struct xfer_pool *p)
{
	const struct opts	*o = p->o;
	struct xfer		*x;
	CURL			*e;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	if ((x->easy = e = curl_easy_init()) == NULL ||
	    (x->cu = curl_url()) == NULL) {
		curl_easy_cleanup(x->easy);
		free(x);
		return NULL;
	}
	x->max_body = o->max_body;
	x->keep_body = o->body != BODY_NONE;

	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, xfer_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, p->ua);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(o->timeout * 1000));
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(o->connect_timeout * 1000));
	if (o->max_body)
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)o->max_body);
	return x;
}

static void
xfer_free(struct xfer *x)
{
	curl_easy_cleanup(x->easy);
	curl_url_cleanup(x->cu);
	buf_free(&x->body);
	free(x);
}

struct xfer_pool *
xfer_pool_new(const struct opts *o)
{
	struct xfer_pool *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->o = o;
	snprintf(p->ua, sizeof(p->ua), "gather/%s", GATHER_VERSION);
	return p;
}

void
xfer_pool_free(struct xfer_pool *p)
{
	struct xfer *x;

	if (p == NULL)
		return;
	while ((x = p->free) != NULL) {
		p->free = x->next;
		xfer_free(x);
	}
	free(p);
}

/* A handle from the pool, made on first need: at most -c ever exist. */
struct xfer *
xfer_get(struct xfer_pool *p)
{
	struct xfer *x;

	if ((x = p->free) != NULL) {
		p->free = x->next;
		return x;
	}
	return xfer_new(p);
}

/* Back to the pool; the body's memory is kept unless it grew large. */
void
xfer_put(struct xfer_pool *p, struct xfer *x)
{
	x->rec = NULL;
	buf_clear(&x->body);
	buf_trim_capacity(&x->body, BODY_KEEP);
	x->next = p->free;
	p->free = x;
}

/* Set up x to fetch r; -1 with r failed when r's URL is unusable. */
int
xfer_prepare(struct xfer *x, struct rec *r)
{
	CURLUcode uc;

	if (strlen(r->url.p) != r->url.len) {
		rec_fail(r, ERR_INVALID_URL, "URL contains a NUL byte");
		return -1;
	}
	uc = curl_url_set(x->cu, CURLUPART_URL, r->url.p, CURLU_GUESS_SCHEME);
	if (uc == CURLUE_UNSUPPORTED_SCHEME) {
		rec_fail(r, ERR_UNSUPPORTED_PROTOCOL, "%s",
		    curl_url_strerror(uc));
		return -1;
	}
	if (uc != CURLUE_OK) {
		rec_fail(r, ERR_INVALID_URL, "%s", curl_url_strerror(uc));
		return -1;
	}
	x->rec = r;
	x->received = 0;
	x->too_large = 0;
	x->errbuf[0] = '\0';
	buf_clear(&x->body);
	curl_easy_setopt(x->easy, CURLOPT_URL, r->url.p);
	return 0;
}

CURL *
xfer_easy(const struct xfer *x)
{
	return x->easy;
}

struct xfer *
xfer_of(CURL *e)
{
	struct xfer *x = NULL;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
	return x;
}

struct rec *
xfer_rec(const struct xfer *x)
{
	return x->rec;
}

/* The error kind of a libcurl result. */
static enum err_kind
xfer_classify(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return ERR_NONE;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return ERR_UNSUPPORTED_PROTOCOL;
	case CURLE_URL_MALFORMAT:
		return ERR_INVALID_URL;
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
		return ERR_DNS;
	case CURLE_COULDNT_CONNECT:
	case CURLE_PROXY:
		return ERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return ERR_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_USE_SSL_FAILED:
		return ERR_TLS;
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2_STREAM:
		return ERR_RESET;
	case CURLE_FILESIZE_EXCEEDED:
		return ERR_TOO_LARGE;
	case CURLE_TOO_MANY_REDIRECTS:
		return ERR_TOO_MANY_REDIRECTS;
	case CURLE_WRITE_ERROR:
		return ERR_IO;
	case CURLE_ABORTED_BY_CALLBACK:
		return ERR_CANCELLED;
	default:
		return ERR_OTHER;
	}
}

/* Fill x's record with the outcome of the transfer that ended with rc. */
void
xfer_finish(struct xfer *x, CURLcode rc)
{
	struct rec	*r = x->rec;
	CURL		*e = x->easy;
	curl_off_t	 t;
	char		*s;

	r->status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
	r->http_version = 0;
	curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &r->http_version);
	r->redirects = 0;
	curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &r->redirects);
	s = NULL;
	curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &s);
	r->effective_url = s;
	s = NULL;
	curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &s);
	r->content_type = s;
	r->size = x->received;
	r->body = x->keep_body && rc == CURLE_OK ? &x->body : NULL;

	t = 0; curl_easy_getinfo(e, CURLINFO_NAMELOOKUP_TIME_T, &t);
	r->time.dns = t / 1e6;
	t = 0; curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &t);
	r->time.connect = t / 1e6;
	t = 0; curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &t);
	r->time.tls = t / 1e6;
	t = 0; curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &t);
	r->time.ttfb = t / 1e6;
	t = 0; curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &t);
	r->time.total = t / 1e6;

	r->kind = xfer_classify(rc);
	r->curl_code = rc == CURLE_OK ? -1 : (int)rc;
	r->msg[0] = '\0';
	if (x->too_large) {
		r->kind = ERR_TOO_LARGE;
		snprintf(r->msg, sizeof(r->msg), "body larger than %llu bytes",
		    (unsigned long long)x->max_body);
	} else if (rc == CURLE_FILESIZE_EXCEEDED)
		snprintf(r->msg, sizeof(r->msg), "Content-Length larger than "
		    "%llu bytes", (unsigned long long)x->max_body);
	else if (rc != CURLE_OK)
		snprintf(r->msg, sizeof(r->msg), "%s", x->errbuf[0] ?
		    x->errbuf : curl_easy_strerror(rc));
}
