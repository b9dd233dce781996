/*
 * rec: the error kinds' names and the small operations every module does
 * on a record: clearing it for reuse and marking it failed.
 */
#include "gather/rec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_names[] = {
	[ERR_NONE] = "none",
	[ERR_BAD_INPUT] = "bad_input",
	[ERR_INVALID_URL] = "invalid_url",
	[ERR_UNSUPPORTED_PROTOCOL] = "unsupported_protocol",
	[ERR_DNS] = "dns",
	[ERR_CONNECT] = "connect",
	[ERR_TLS] = "tls",
	[ERR_TIMEOUT] = "timeout",
	[ERR_RESET] = "reset",
	[ERR_TOO_LARGE] = "too_large",
	[ERR_TOO_MANY_REDIRECTS] = "too_many_redirects",
	[ERR_HTTP] = "http",
	[ERR_CANCELLED] = "cancelled",
	[ERR_DEADLINE] = "deadline",
	[ERR_IO] = "io",
	[ERR_OTHER] = "other",
};

const char *
err_kind_name(enum err_kind k)
{
	return kind_names[k];
}

/* Clear the result and bookkeeping, keeping the url buffer's memory. */
void
rec_reset(struct rec *r)
{
	struct buf url = r->url;

	memset(r, 0, sizeof(*r));
	r->url = url;
	buf_clear(&r->url);
	r->curl_code = -1;
}

/* Mark r failed with kind and a message (no libcurl code). */
void
rec_fail(struct rec *r, enum err_kind kind, const char *fmt, ...)
{
	va_list ap;

	r->kind = kind;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
}
