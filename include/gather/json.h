/*
 * json: a strict (RFC 8259) check of JSON text in one linear pass, and
 * walking the members of text that passed it, so that request objects and
 * --body json never depend on what a lenient parser lets through.
 */
#ifndef GATHER_JSON_H
#define GATHER_JSON_H

#include <stddef.h>

/* Deepest nesting of objects and arrays accepted. */
#define JSON_DEPTH_MAX	512

/* A piece of JSON text: a whole value, or a member's quoted name. */
struct json_span {
	const char	*p;
	size_t		 n;
};

int	 json_valid(const char *, size_t);
int	 json_next(const char *, size_t, size_t *, struct json_span *,
	    struct json_span *);
int	 json_string_has_nul(const struct json_span *);
size_t	 json_compact(char *, const char *, size_t);

#endif
