/*
 * stray: see stray.h.  libcurl does not say which socket a request goes
 * out on (CURLINFO_ACTIVESOCKET knows only the previous transfer of the
 * same handle, and every transfer here has a fresh one), but the
 * pre-request callback gives the connection's ports: a table from local
 * port to descriptor, filled when a transfer's own new socket is first
 * used, finds a reused connection's socket.  The common case costs one
 * recv(MSG_PEEK) that finds nothing; only when bytes are waiting is the
 * descriptor checked (both ends' addresses) to be the connection meant,
 * so that a stale entry never touches another connection.
 */
#include "gather/stray.h"

#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct stray {
	int	fd[65536];	/* local port -> descriptor + 1, 0: none */
};

/* An empty table. */
struct stray *
stray_new(void)
{
	return calloc(1, sizeof(struct stray));
}

/* Free the table. */
void
stray_free(struct stray *t)
{
	free(t);
}

/* Remember s in opened[STRAY_OPENED], the sockets one transfer opened. */
void
stray_opened(int *opened, int s)
{
	memmove(opened, opened + 1, (STRAY_OPENED - 1) * sizeof(*opened));
	opened[STRAY_OPENED - 1] = s;
}

/* The port of a, or -1 when it is not an internet address. */
static int
stray_port(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	if (a->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	return -1;
}

/* Whether fd's local port is lport; -1 when fd is no such socket. */
static int
stray_local_is(int fd, int lport)
{
	struct sockaddr_storage	a;
	socklen_t		n = sizeof(a);

	return getsockname(fd, (struct sockaddr *)&a, &n) == 0 &&
	    stray_port(&a) == lport;
}

/* Whether fd's peer is ip:port, ip as libcurl writes it. */
static int
stray_peer_is(int fd, const char *ip, int port)
{
	struct sockaddr_storage	a;
	socklen_t		n = sizeof(a);
	char			s[INET6_ADDRSTRLEN];
	const void		*addr;

	if (getpeername(fd, (struct sockaddr *)&a, &n) == -1 ||
	    stray_port(&a) != port)
		return 0;
	addr = a.ss_family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)&a)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)&a)->sin6_addr;
	return inet_ntop(a.ss_family, addr, s, sizeof(s)) != NULL &&
	    strcmp(s, ip) == 0;
}

/*
 * Before a request goes out on the connection ip:port from lport: shut
 * its socket down when bytes are already waiting on it.  opened: the
 * sockets this transfer made (-1 for none).  1 when it was shut down.
 */
int
stray_check(struct stray *t, const int *opened, const char *ip, int port,
    int lport)
{
	char	c;
	int	i, fd;

	if (t == NULL || lport <= 0 || lport > 65535)
		return 0;
	for (i = 0; i < STRAY_OPENED; i++)
		if (opened[i] >= 0 && stray_local_is(opened[i], lport))
			t->fd[lport] = opened[i] + 1;
	if ((fd = t->fd[lport] - 1) < 0 ||
	    recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0 ||
	    !stray_local_is(fd, lport) || !stray_peer_is(fd, ip, port))
		return 0;
	shutdown(fd, SHUT_RDWR);
	return 1;
}
