/*
 * err_kind: the error kinds' names, as the output spells them.
 */
#include "gather/err_kind.h"

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
	[ERR_CHECKSUM] = "checksum",
	[ERR_EXPECTATION] = "expectation",
	[ERR_OTHER] = "other",
};

/* The name kind k has in the output's error.kind. */
const char *
err_kind_name(enum err_kind k)
{
	return kind_names[k];
}
