/*
 * loop: the glue between libev and libcurl's multi interface.  libcurl
 * says which sockets to watch and when to time out; libev watches; every
 * event is handed back through curl_multi_socket_action, and finished
 * transfers are handed to the done callback.  It knows nothing of records.
 *
 * Transfers run in lanes, multi handles of one host each (a busy host
 * has several; near the descriptor limit, hosts with few transfers share
 * one) on the one libev loop, so that a lane's connection cache holds
 * only its host's connections and libcurl's linear scans of it stay
 * short; they share one DNS cache and one TLS session cache.  The
 * connections they hold, idle ones included, stay within the descriptors
 * given to loop_new.
 */
#ifndef GATHER_LOOP_H
#define GATHER_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <ev.h>

/* At most this many transfers at once in one lane (a multi handle). */
#define LOOP_SLOTS_PER_MULTI	250
#define LOOP_LANE		LOOP_SLOTS_PER_MULTI
/* Lanes made beyond the ones the slots need, for hosts of their own. */
#define LOOP_LANES_SPARE	64
/* Lanes past one per 250 slots made even when slots may wait for it. */
#define LOOP_LANES_CHEAP	8
/* A lane shared by several hosts caches this many connections per slot. */
#define LOOP_CACHE_PER_SLOT	4
/*
 * Transfers of a host in shared lanes that earn it a lane of its own when
 * descriptors are short (the lane's own two are then worth it).
 */
#define LOOP_LANE_MIN		8
/* Host name lookups at once (each holds two descriptors while it runs). */
#define LOOP_LOOKUPS		8
/* Descriptors each multi handle holds of its own (libcurl's socketpair). */
#define LOOP_FDS_PER_MULTI	2
/* loop_add's word for running out of memory (-1: libcurl refused). */
#define LOOP_NOMEM		(-2)

typedef void	(*loop_done_fn)(void *, CURL *, CURLcode);

struct loop;

struct loop	*loop_new(struct ev_loop *, long, long, loop_done_fn, void *);
int		 loop_share_cookies(struct loop *, char *const *, size_t);
struct curl_slist *loop_cookie_list(struct loop *, int *);
int		 loop_cookie_set(struct loop *, const char *);
int		 loop_add(struct loop *, CURL *, const char *);
void		 loop_remove(struct loop *, CURL *);
void		 loop_free(struct loop *);
long		 loop_which(const struct loop *, const CURL *);
int		 loop_waits(const struct loop *, const CURL *);

/* Pure helpers, exposed for the unit tests. */
size_t		 loop_multis(long);
uint32_t	 loop_host_hash(const char *);
int		 loop_needs_lookup(const char *);

#endif
