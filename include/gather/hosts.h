/*
 * hosts: transfers in flight per host:port, for --per-host.  Only hosts
 * with something in flight have an entry, so the table stays as small as
 * the concurrency, whatever the length of the list.
 */
#ifndef GATHER_HOSTS_H
#define GATHER_HOSTS_H

struct hosts;

struct hosts	*hosts_new(void);
long		 hosts_count(struct hosts *, const char *);
int		 hosts_inc(struct hosts *, const char *);
void		 hosts_dec(struct hosts *, const char *);
void		 hosts_free(struct hosts *);

#endif
