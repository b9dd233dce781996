/*
 * jar: --cookie-jar FILE, written by gather rather than by libcurl, whose
 * Curl_fopen opens the path through a symbolic link with O_TRUNC before
 * its rename.  The cookies go to a new file beside FILE that is then
 * renamed over it: a link at FILE is replaced, its target never touched.
 * With -j, the workers' stores are made one first (jar_changes).
 */
#ifndef GATHER_JAR_H
#define GATHER_JAR_H

#include <stddef.h>

#include <curl/curl.h>

/* jar_changes' callback: one COOKIELIST line to set in a store. */
typedef void	(*jar_set_fn)(void *, const char *);

int	jar_check(const char *, char *, size_t);
int	jar_write(const char *, const struct curl_slist *, char *, size_t);
int	jar_changes(const struct curl_slist *, const struct curl_slist *,
	    jar_set_fn, void *);

#endif
