/*
 * err_kind: how a record failed, the name each kind has in the output,
 * and the exit statuses a run ends with.  On their own so that a module
 * that only names kinds or exits need not pull in the record and libev.
 */
#ifndef GATHER_ERR_KIND_H
#define GATHER_ERR_KIND_H

enum err_kind {
	ERR_NONE,
	ERR_BAD_INPUT,
	ERR_INVALID_URL,
	ERR_UNSUPPORTED_PROTOCOL,
	ERR_DNS,
	ERR_CONNECT,
	ERR_TLS,
	ERR_TIMEOUT,
	ERR_RESET,
	ERR_TOO_LARGE,
	ERR_TOO_MANY_REDIRECTS,
	ERR_HTTP,
	ERR_CANCELLED,
	ERR_DEADLINE,
	ERR_IO,
	ERR_CHECKSUM,
	ERR_EXPECTATION,
	ERR_OTHER
};

/* Exit statuses, as documented in gather(1). */
enum exit_status {
	EXIT_ALL_OK = 0,
	EXIT_SOME_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_INPUT = 3,
	EXIT_SIGPIPE = 141
};

const char	*err_kind_name(enum err_kind);

#endif
