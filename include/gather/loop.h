/*
 * loop: the glue between libev and libcurl's multi interface.  libcurl
 * says which sockets to watch and when to time out; libev watches; every
 * event is handed back through curl_multi_socket_action, and finished
 * transfers are handed to the done callback.  It knows nothing of records.
 */
#ifndef GATHER_LOOP_H
#define GATHER_LOOP_H

#include <curl/curl.h>
#include <ev.h>

typedef void	(*loop_done_fn)(void *, CURL *, CURLcode);

struct loop;

struct loop	*loop_new(struct ev_loop *, long, loop_done_fn, void *);
int		 loop_add(struct loop *, CURL *);
void		 loop_remove(struct loop *, CURL *);
void		 loop_free(struct loop *);

#endif
