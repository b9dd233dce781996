/*
 * jar: --cookie-jar FILE, written by gather rather than by libcurl, whose
 * Curl_fopen opens the path through a symbolic link with O_TRUNC before
 * its rename.  The cookies go to a new file beside FILE that is then
 * renamed over it: a link at FILE is replaced, its target never touched.
 */
#ifndef GATHER_JAR_H
#define GATHER_JAR_H

#include <stddef.h>

#include <curl/curl.h>

int	jar_check(const char *, char *, size_t);
int	jar_write(const char *, const struct curl_slist *, char *, size_t);

#endif
