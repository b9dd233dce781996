/*
 * faultinj: an LD_PRELOAD library for tests/faults.bats that makes chosen
 * C library calls of gather fail, so that the paths taken when memory,
 * descriptors or the disk run out are run and checked, not only read.
 *
 *   GATHER_FAULT=NAME[,NAME...]:WHEN[:ERRNO]
 *       NAME   malloc calloc realloc strdup open openat write writev read
 *              fsetxattr fgetxattr rename renameat renameat2 socketpair
 *              fstat mkdirat unlinkat linkat ftruncate fork
 *       WHEN   N    the Nth call (counted over all NAMEs) fails
 *              N+   the Nth call and every one after it fail
 *              >S   (allocators) every call asking for S bytes or more
 *       ERRNO  a number; default ENOMEM for the allocators, fork and
 *              socketpair, EIO for the rest
 *   GATHER_FAULT_FD=FD     write, writev and read count only calls on FD
 *   GATHER_FAULT_ANY=1     count calls from every library too; by default
 *              only calls made by the program's own code count (libev
 *              and libjq abort when their allocations fail, by design)
 *   GATHER_FAULT_LOG=FILE  a line "NAME N" appended per failed call
 *
 * A failed call returns NULL or -1 with errno set and does nothing else.
 * faultinj_off() ends all injection: the coverage build calls it before
 * gcov writes its counts (tools/cov_exit.c).
 *
 * dlsym may itself call calloc: while the real functions are looked up,
 * allocations come from a static arena that free() knows to leave alone.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>

void	faultinj_off(void);

static struct {
	int		ready, off, any, fd, err, every;
	unsigned long	nth, count, size;
	char		names[256];
	uintptr_t	lo, hi;
	char		log[PATH_MAX];
} fi;

static char		arena[8192];
static size_t		arena_used;
static int		resolving;

static void	*(*real_malloc)(size_t);
static void	*(*real_calloc)(size_t, size_t);
static void	*(*real_realloc)(void *, size_t);
static void	(*real_free)(void *);

/* Keep the bounds of the program's own text (the first object loaded). */
static int
fi_main_range(struct dl_phdr_info *info, size_t size, void *data)
{
	int i;

	(void)size;
	(void)data;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];

		if (p->p_type != PT_LOAD || !(p->p_flags & PF_X))
			continue;
		fi.lo = info->dlpi_addr + p->p_vaddr;
		fi.hi = fi.lo + p->p_memsz;
	}
	return 1;
}

/* Look the real allocators up and read the environment, once. */
static void
fi_init(void)
{
	const char *s, *c;

	if (fi.ready || resolving)
		return;
	resolving = 1;
	real_malloc = dlsym(RTLD_NEXT, "malloc");
	real_calloc = dlsym(RTLD_NEXT, "calloc");
	real_realloc = dlsym(RTLD_NEXT, "realloc");
	real_free = dlsym(RTLD_NEXT, "free");
	resolving = 0;
	fi.ready = 1;
	dl_iterate_phdr(fi_main_range, NULL);
	fi.any = (s = getenv("GATHER_FAULT_ANY")) != NULL && *s == '1';
	fi.fd = (s = getenv("GATHER_FAULT_FD")) != NULL ? atoi(s) : -1;
	if ((s = getenv("GATHER_FAULT_LOG")) != NULL)
		snprintf(fi.log, sizeof(fi.log), "%s", s);
	if ((s = getenv("GATHER_FAULT")) == NULL || (c = strchr(s, ':')) ==
	    NULL || (size_t)(c - s) + 2 > sizeof(fi.names))
		return;
	fi.names[0] = ',';
	memcpy(fi.names + 1, s, (size_t)(c - s));
	strcpy(fi.names + 1 + (c - s), ",");
	c++;
	if (*c == '>')
		fi.size = strtoul(c + 1, (char **)&c, 10);
	else {
		fi.nth = strtoul(c, (char **)&c, 10);
		fi.every = *c == '+';
		c += fi.every;
	}
	fi.err = *c == ':' ? atoi(c + 1) : 0;
}

/* Append "NAME N" to GATHER_FAULT_LOG, past our own wrappers. */
static void
fi_log(const char *name)
{
	char	line[128];
	long	fd;
	int	n;

	if (fi.log[0] == '\0')
		return;
	n = snprintf(line, sizeof(line), "%s %lu\n", name, fi.count);
	fd = syscall(SYS_openat, AT_FDCWD, fi.log,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (n > 0)
		(void)!syscall(SYS_write, fd, line, (size_t)n);
	syscall(SYS_close, fd);
}

/*
 * Whether this call of NAME (made from RET, asking for SIZE bytes, on
 * descriptor FD or -1) is to fail; errno is then set to its error.
 */
static int
fi_fail(const char *name, void *ret, size_t size, int fd, int deferr)
{
	char	key[32];
	int	hit;

	fi_init();
	if (fi.off || fi.names[0] == '\0')
		return 0;
	snprintf(key, sizeof(key), ",%s,", name);
	if (strstr(fi.names, key) == NULL)
		return 0;
	if (!fi.any && ((uintptr_t)ret < fi.lo || (uintptr_t)ret >= fi.hi))
		return 0;
	if (fi.fd >= 0 && fd != -2 && fd != fi.fd)
		return 0;
	if (fi.size > 0)
		hit = size >= fi.size;
	else {
		fi.count++;
		hit = fi.count == fi.nth || (fi.every && fi.count > fi.nth);
	}
	if (!hit)
		return 0;
	fi_log(name);
	errno = fi.err != 0 ? fi.err : deferr;
	return 1;
}

/* End all injection (before the coverage counts are written). */
void
faultinj_off(void)
{
	fi.off = 1;
}

#define RET	__builtin_return_address(0)
#define NEXT(f)	static __typeof__(f) *next; \
	if (next == NULL) next = (__typeof__(f) *)dlsym(RTLD_NEXT, #f)

/* malloc, or NULL. */
void *
malloc(size_t n)
{
	if (resolving) {
		void *p = arena + arena_used;

		arena_used += (n + 15) & ~(size_t)15;
		return arena_used <= sizeof(arena) ? p : NULL;
	}
	if (fi_fail("malloc", RET, n, -2, ENOMEM))
		return NULL;
	return real_malloc(n);
}

/* calloc, or NULL; from the arena while dlsym runs. */
void *
calloc(size_t k, size_t n)
{
	/* The arena is zero: nothing is ever given back to it. */
	if (resolving)
		return malloc(k * n);
	if (fi_fail("calloc", RET, k * n, -2, ENOMEM))
		return NULL;
	return real_calloc(k, n);
}

/* realloc, or NULL with p untouched. */
void *
realloc(void *p, size_t n)
{
	fi_init();
	if (fi_fail("realloc", RET, n, -2, ENOMEM))
		return NULL;
	return real_realloc(p, n);
}

/* free, but never of the arena. */
void
free(void *p)
{
	if ((char *)p >= arena && (char *)p < arena + sizeof(arena))
		return;
	fi_init();
	real_free(p);
}

/* strdup, or NULL. */
char *
strdup(const char *s)
{
	size_t	n = strlen(s) + 1;
	char	*d;

	if (fi_fail("strdup", RET, n, -2, ENOMEM))
		return NULL;
	if ((d = real_malloc(n)) != NULL)
		memcpy(d, s, n);
	return d;
}

/* open, or -1. */
int
open(const char *path, int flags, ...)
{
	NEXT(open);
	va_list	ap;
	mode_t	mode;

	va_start(ap, flags);
	mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
	va_end(ap);
	if (fi_fail("open", RET, 0, -2, EIO))
		return -1;
	return next(path, flags, mode);
}

/* openat, or -1. */
int
openat(int dir, const char *path, int flags, ...)
{
	NEXT(openat);
	va_list	ap;
	mode_t	mode;

	va_start(ap, flags);
	mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
	va_end(ap);
	if (fi_fail("openat", RET, 0, -2, EIO))
		return -1;
	return next(dir, path, flags, mode);
}

/* write, or -1. */
ssize_t
write(int fd, const void *b, size_t n)
{
	NEXT(write);
	if (fi_fail("write", RET, n, fd, EIO))
		return -1;
	return next(fd, b, n);
}

/* writev, or -1. */
ssize_t
writev(int fd, const struct iovec *v, int n)
{
	NEXT(writev);
	if (fi_fail("writev", RET, 0, fd, EIO))
		return -1;
	return next(fd, v, n);
}

/* read, or -1. */
ssize_t
read(int fd, void *b, size_t n)
{
	NEXT(read);
	if (fi_fail("read", RET, n, fd, EIO))
		return -1;
	return next(fd, b, n);
}

/* fsetxattr, or -1. */
int
fsetxattr(int fd, const char *k, const void *v, size_t n, int flags)
{
	NEXT(fsetxattr);
	if (fi_fail("fsetxattr", RET, n, -2, EIO))
		return -1;
	return next(fd, k, v, n, flags);
}

/* fgetxattr, or -1. */
ssize_t
fgetxattr(int fd, const char *k, void *v, size_t n)
{
	NEXT(fgetxattr);
	if (fi_fail("fgetxattr", RET, n, -2, EIO))
		return -1;
	return next(fd, k, v, n);
}

/* rename, or -1. */
int
rename(const char *a, const char *b)
{
	NEXT(rename);
	if (fi_fail("rename", RET, 0, -2, EIO))
		return -1;
	return next(a, b);
}

/* renameat, or -1. */
int
renameat(int da, const char *a, int db, const char *b)
{
	NEXT(renameat);
	if (fi_fail("renameat", RET, 0, -2, EIO))
		return -1;
	return next(da, a, db, b);
}

/* renameat2, or -1. */
int
renameat2(int da, const char *a, int db, const char *b, unsigned int fl)
{
	NEXT(renameat2);
	if (fi_fail("renameat2", RET, 0, -2, EIO))
		return -1;
	return next(da, a, db, b, fl);
}

/* socketpair, or -1. */
int
socketpair(int d, int t, int p, int sv[2])
{
	NEXT(socketpair);
	if (fi_fail("socketpair", RET, 0, -2, ENOMEM))
		return -1;
	return next(d, t, p, sv);
}

/* fstat, or -1. */
int
fstat(int fd, struct stat *st)
{
	NEXT(fstat);
	if (fi_fail("fstat", RET, 0, -2, EIO))
		return -1;
	return next(fd, st);
}

/* mkdirat, or -1. */
int
mkdirat(int dir, const char *path, mode_t mode)
{
	NEXT(mkdirat);
	if (fi_fail("mkdirat", RET, 0, -2, EIO))
		return -1;
	return next(dir, path, mode);
}

/* unlinkat, or -1. */
int
unlinkat(int dir, const char *path, int flags)
{
	NEXT(unlinkat);
	if (fi_fail("unlinkat", RET, 0, -2, EIO))
		return -1;
	return next(dir, path, flags);
}

/* linkat, or -1. */
int
linkat(int da, const char *a, int db, const char *b, int flags)
{
	NEXT(linkat);
	if (fi_fail("linkat", RET, 0, -2, EIO))
		return -1;
	return next(da, a, db, b, flags);
}

/* ftruncate, or -1. */
int
ftruncate(int fd, off_t n)
{
	NEXT(ftruncate);
	if (fi_fail("ftruncate", RET, 0, -2, EIO))
		return -1;
	return next(fd, n);
}

/* fork, or -1. */
pid_t
fork(void)
{
	NEXT(fork);
	if (fi_fail("fork", RET, 0, -2, ENOMEM))
		return -1;
	return next();
}
