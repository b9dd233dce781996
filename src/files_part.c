/*
 * files_part: NAME.part from its making to its rename, and the marks that
 * say whose a file is.  A file is written only when fstat() shows a
 * regular file with one link.  NAME.part is made under a temporary name,
 * marked with the record's URL (the xattr user.gather.url, the URL itself
 * or, past 1 KiB, its SHA-256) and only then given its name without
 * replacing anything, so two processes cannot both claim it; the mark
 * goes with it when it becomes NAME.  A part that outlives gather is
 * continued only when it also carries the validator its If-Range will
 * send (user.gather.if-range).
 */
#define _GNU_SOURCE		/* renameat2 */
#include "files_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

/* Where a NAME.part keeps the validator its If-Range will send. */
#define PART_XATTR	"user.gather.if-range"
/* Where NAME and NAME.part keep the URL they were made for. */
#define URL_XATTR	"user.gather.url"
/* A URL longer than this is marked by its SHA-256. */
#define MARK_URL_MAX	1024
/* The longest validator kept: an ETag or an HTTP date. */
#define VALIDATOR_MAX	1024

/* r's URL mark into f->mark: the URL, or past MARK_URL_MAX its SHA-256. */
int
files_part_mark_of(struct files *f, const struct rec *r)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	len = 0, i;
	char		hex[3];

	if (r->req.url.len <= MARK_URL_MAX)
		return buf_set(&f->mark, r->req.url.p, r->req.url.len);
	if (!EVP_Digest(r->req.url.p, r->req.url.len, md, &len, EVP_sha256(), NULL) ||
	    buf_set(&f->mark, "sha256:", 7) == -1)
		return -1;
	for (i = 0; i < len; i++) {
		snprintf(hex, sizeof(hex), "%02x", md[i]);
		if (buf_append(&f->mark, hex, 2) == -1)
			return -1;
	}
	return 0;
}

/*
 * Whose the open file fd is, by its URL mark; another URL's mark goes to
 * f->seen (empty when it could not be read).
 */
static enum owner
files_part_owner_fd(struct files *f, int fd)
{
	char	v[MARK_URL_MAX + 80];
	ssize_t	n;

	buf_clear(&f->seen);
	if ((n = fgetxattr(fd, URL_XATTR, v, sizeof(v))) == -1)
		return errno == ERANGE ? OWN_OTHER : OWN_NOBODY;
	if ((size_t)n == f->mark.len && memcmp(v, f->mark.p, (size_t)n) == 0)
		return OWN_US;
	if (n > 0)
		(void)buf_set(&f->seen, v, (size_t)n);
	return n == 0 ? OWN_NOBODY : OWN_OTHER;
}

/* Whose leaf in dfd is; a file that is not regular is nobody's. */
static enum owner
files_part_owner(struct files *f, int dfd, const char *leaf)
{
	struct stat	st;
	enum owner	o;
	int		fd;

	if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? OWN_ABSENT : OWN_NOBODY;
	if (!S_ISREG(st.st_mode))
		return OWN_NOBODY;
	if ((fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? OWN_ABSENT : OWN_NOBODY;
	o = files_part_owner_fd(f, fd);
	close(fd);
	return o;
}

/*
 * Whose the name leaf is, judged by NAME and NAME.part together: another
 * URL's if either says so, else this URL's if either says so.  *name
 * gets what NAME alone says.
 */
enum owner
files_part_claim(struct files *f, int dfd, const char *leaf, enum owner *name)
{
	char		part[NAME_MAX + 1];
	enum owner	a, b;

	snprintf(part, sizeof(part), "%s.part", leaf);
	if ((a = *name = files_part_owner(f, dfd, leaf)) == OWN_OTHER)
		return OWN_OTHER;
	b = files_part_owner(f, dfd, part);
	if (a == OWN_OTHER || b == OWN_OTHER)
		return OWN_OTHER;
	if (a == OWN_US || b == OWN_US)
		return OWN_US;
	if (a == OWN_NOBODY || b == OWN_NOBODY)
		return OWN_NOBODY;
	return OWN_ABSENT;
}

/* Why NAME may not be replaced in dfd, or NULL: a FIFO, a link... */
static const char *
files_part_target_why(int dfd, const char *leaf)
{
	struct stat st;

	if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return NULL;
	if (S_ISLNK(st.st_mode))
		return "is a symbolic link";
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if (st.st_nlink > 1)
		return "has other hard links";
	return NULL;
}

/*
 * Whether validator v (n bytes) may be sent as If-Range: a strong ETag
 * ("..." of visible bytes and no quote inside) or an HTTP date; never a
 * CR, LF or other control byte.
 */
int
files_validator_ok(const char *v, size_t n)
{
	char	date[64];
	size_t	i;

	if (n < 2 || n >= VALIDATOR_MAX)
		return 0;
	if (v[0] == '"') {
		for (i = 1; i < n - 1; i++)
			if ((unsigned char)v[i] <= 0x20 || v[i] == '"' ||
			    v[i] == 0x7f)
				return 0;
		return v[n - 1] == '"';
	}
	if (n >= sizeof(date))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] >= 0x7f)
			return 0;
	memcpy(date, v, n);
	date[n] = '\0';
	return curl_getdate(date, NULL) != -1;
}

/*
 * Whether NAME.part, open as fd with st and this URL's, is to be
 * continued: on a retry of this run, or under --continue, when it holds
 * bytes and a well-formed validator its first response gave (see
 * files_mark).  Fills r->save.validator.
 */
static int
files_part_continues(struct files *f, struct rec *r, int fd,
    const struct stat *st)
{
	char	v[VALIDATOR_MAX];
	ssize_t	n;

	buf_clear(&r->save.validator);
	if ((r->attempts == 0 && !f->cont) || st->st_size <= 0 ||
	    files_part_owner_fd(f, fd) != OWN_US)
		return 0;
	if ((n = fgetxattr(fd, PART_XATTR, v, sizeof(v))) <= 0 ||
	    !files_validator_ok(v, (size_t)n))
		return 0;
	return buf_set(&r->save.validator, v, (size_t)n) == 0;
}

/*
 * A new NAME.part: made under a temporary name, marked with this URL and
 * renamed to part without replacing anything.  The fd, -2 when part
 * appeared meanwhile, or -1 with errno set.
 */
static int
files_part_new(struct files *f, int dfd, const char *part)
{
	char	tmp[NAME_MAX + 1];
	int	fd, e, tries;

	snprintf(tmp, sizeof(tmp), ".%.200s.%ld", part, (long)getpid());
	for (tries = 0; ; tries++) {
		fd = openat(dfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0666);
		/* One left by a process of this pid that was killed. */
		if (fd == -1 && errno == EEXIST && tries == 0 &&
		    unlinkat(dfd, tmp, 0) == 0)
			continue;
		break;
	}
	if (fd == -1)
		return -1;
	if (fsetxattr(fd, URL_XATTR, f->mark.p, f->mark.len, 0) == -1 &&
	    errno != ENOTSUP)
		goto fail;
	if (renameat2(dfd, tmp, dfd, part, RENAME_NOREPLACE) == -1) {
		if (errno != EINVAL && errno != ENOSYS)
			goto fail;
		/* A file system without it: a link cannot replace either. */
		if (linkat(dfd, tmp, dfd, part, 0) == -1)
			goto fail;
		(void)unlinkat(dfd, tmp, 0);
	}
	return fd;
fail:
	e = errno;
	(void)unlinkat(dfd, tmp, 0);
	close(fd);
	errno = e;
	return e == EEXIST ? -2 : -1;
}

/*
 * Open NAME.part without following a symbolic link or blocking on a
 * FIFO: this URL's own, or a new one in place of nobody's.  The fd with
 * *st filled, -2 when another URL has it now, or -1 with a reason in why.
 */
static int
files_part_fd(struct files *f, int dfd, const char *part, struct stat *st,
    const char **why)
{
	int		fd;
	enum owner	o;

	*why = NULL;
	fd = openat(dfd, part, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		fd = files_part_new(f, dfd, part);
	if (fd == -2)
		return -2;
	if (fd == -1) {
		*why = strerror(errno);
		if (fstatat(dfd, part, st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISREG(st->st_mode))
			*why = S_ISLNK(st->st_mode) ? "is a symbolic link" :
			    "not a regular file";
		return -1;
	}
	if (fstat(fd, st) == -1)
		*why = strerror(errno);
	else if (!S_ISREG(st->st_mode))
		*why = "not a regular file";
	else if (st->st_nlink > 1)
		*why = "has other hard links";
	else if (st->st_nlink == 0)
		*why = "was removed as it was opened";
	if (*why != NULL) {
		close(fd);
		return -1;
	}
	if ((o = files_part_owner_fd(f, fd)) == OWN_US)
		return fd;
	close(fd);
	if (o == OWN_OTHER)
		return -2;
	/* Nobody's (another tool's, or from before marks): replaced. */
	if (unlinkat(dfd, part, 0) == -1 && errno != ENOENT) {
		*why = strerror(errno);
		return -1;
	}
	return files_part_fd(f, dfd, part, st, why);
}

/*
 * Open leaf's NAME.part in dfd once NAME is nothing the rename must not
 * replace, and while NAME is no other URL's: the fd with *st filled, -2
 * when the name turned out to be another URL's, or -1 with a reason in
 * why.
 */
static int
files_part_open(struct files *f, int dfd, const char *leaf, struct stat *st,
    const char **why)
{
	char	part[NAME_MAX + 1];
	int	fd;

	snprintf(part, sizeof(part), "%s.part", leaf);
	/* Another process made it another URL's after it was chosen. */
	if (files_part_owner(f, dfd, leaf) == OWN_OTHER)
		return -2;
	if ((*why = files_part_target_why(dfd, leaf)) != NULL ||
	    (fd = files_part_fd(f, dfd, part, st, why)) < 0)
		return *why != NULL ? -1 : -2;
	if (files_part_owner(f, dfd, leaf) == OWN_OTHER) {
		/* NAME became another URL's as the part was made. */
		if (st->st_size == 0)
			(void)unlinkat(dfd, part, 0);
		close(fd);
		return -2;
	}
	return fd;
}

/*
 * Ready the open NAME.part fd with st for r's body: continued or
 * truncated, at its end, and blocking again.  NULL, or why not.
 */
static const char *
files_part_ready(struct files *f, struct rec *r, struct part *pt, int fd,
    const struct stat *st)
{
	int fl;

	pt->have = files_part_continues(f, r, fd, st) ? (uint64_t)st->st_size :
	    0;
	/*
	 * O_NONBLOCK was for the open only: a write to a regular file that
	 * said EAGAIN would end the transfer.
	 */
	if ((pt->have == 0 && st->st_size > 0 && ftruncate(fd, 0) == -1) ||
	    lseek(fd, (off_t)pt->have, SEEK_SET) == -1 ||
	    (fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
		return strerror(errno);
	if (pt->have == 0)
		(void)fremovexattr(fd, PART_XATTR);
	return NULL;
}

/*
 * Open r->save.file's NAME.part into pt, truncated unless it continues, once
 * NAME is nothing the rename must not replace.  0, -2 when the name
 * turned out to be another URL's, or -1 with a reason in err.
 */
int
files_part_create(struct files *f, struct rec *r, struct part *pt, char *err,
    size_t errlen)
{
	struct stat	 st;
	const char	*leaf, *why = NULL;
	int		 fd, dfd;

	if ((dfd = files_subdir(f, r, &leaf, err, errlen)) == -1)
		return -1;
	if ((fd = files_part_open(f, dfd, leaf, &st, &why)) >= 0 &&
	    (why = files_part_ready(f, r, pt, fd, &st)) != NULL) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		if (dfd != f->dirfd)
			close(dfd);
		if (fd == -2)
			return -2;
		snprintf(err, errlen, "refusing to write '%s': %s", r->save.file.p,
		    why);
		return -1;
	}
	pt->fd = fd;
	pt->dirfd = dfd;
	pt->leaf = leaf;
	return 0;
}

/*
 * Mark NAME.part as continuable with the validator that If-Range will
 * send, or unmark it: a .part that outlives gather (killed, or kept on
 * purpose) is continued only when it says what it is a part of.
 */
void
files_mark(struct part *pt, const char *v, size_t len)
{
	if (len > 0 && files_validator_ok(v, len))
		(void)fsetxattr(pt->fd, PART_XATTR, v, len, 0);
	else
		(void)fremovexattr(pt->fd, PART_XATTR);
}

/*
 * Rename NAME.part to NAME within its directory: NAME appears whole or
 * not at all, and keeps the part's URL mark.  Never over another URL's
 * NAME.  0, or -1 with a reason in err.
 */
int
files_commit(struct files *f, struct part *pt, struct rec *r, char *err,
    size_t errlen)
{
	char	part[NAME_MAX + 1];

	snprintf(part, sizeof(part), "%s.part", pt->leaf);
	(void)fremovexattr(pt->fd, PART_XATTR);
	if (files_part_mark_of(f, r) == 0 &&
	    files_part_owner(f, pt->dirfd, pt->leaf) == OWN_OTHER) {
		snprintf(err, errlen, "refusing to replace '%s': it belongs "
		    "to another URL", r->save.file.p);
		return -1;
	}
	if (renameat(pt->dirfd, part, pt->dirfd, pt->leaf) == -1) {
		snprintf(err, errlen, "cannot rename '%s.part' to '%s': %s",
		    r->save.file.p, r->save.file.p, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Close NAME.part and its directory; remove it unless keep, so that only
 * a part that can be continued is left behind, and only while the name
 * still is the file this record wrote.
 */
void
files_close(struct files *f, struct part *pt, struct rec *r, int keep)
{
	struct stat	a, b;
	char		part[NAME_MAX + 1];

	(void)r;
	if (pt->fd == -1)
		return;
	if (!keep) {
		snprintf(part, sizeof(part), "%s.part", pt->leaf);
		if (fstat(pt->fd, &a) == 0 && fstatat(pt->dirfd, part, &b,
		    AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			(void)unlinkat(pt->dirfd, part, 0);
	}
	close(pt->fd);
	if (pt->dirfd != f->dirfd)
		close(pt->dirfd);
	pt->fd = pt->dirfd = -1;
	pt->leaf = NULL;
	pt->have = 0;
}

/*
 * Forget NAME.part's bytes: the next attempt starts afresh.  -1 with
 * errno set.
 */
int
files_discard(struct part *pt)
{
	(void)fremovexattr(pt->fd, PART_XATTR);
	if (ftruncate(pt->fd, 0) == -1 || lseek(pt->fd, 0, SEEK_SET) == -1)
		return -1;
	pt->have = 0;
	return 0;
}
