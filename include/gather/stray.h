/*
 * stray: bytes a server sent on a kept HTTP/1.1 connection after the end
 * of a response.  libcurl 7.88.1 closes a connection when such bytes come
 * in the same read as the body, but reuses an idle one on which they
 * arrived later (its liveness check sees only a closed socket), and the
 * next request then takes them as its answer.  Before each request is
 * sent, gather looks at the connection: bytes already waiting there
 * cannot be the answer to a request not yet sent, so the connection is
 * shut down, which makes libcurl retry the request on a new one.
 */
#ifndef GATHER_STRAY_H
#define GATHER_STRAY_H

struct stray;

/* The sockets a transfer opened itself, newest last. */
#define STRAY_OPENED	2

struct stray	*stray_new(void);
void		 stray_free(struct stray *);
void		 stray_opened(int *, int);
int		 stray_check(struct stray *, const int *, const char *, int,
		    int);

#endif
