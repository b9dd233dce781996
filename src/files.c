/*
 * files: -o DIR and --name TEMPLATE: the directory, and the choice of each
 * record's name, so that no URL names, continues, revalidates, replaces
 * or removes another's file.  A name is chosen by walking the template's
 * name, then NAME.1, NAME.2, ...: a name this run gave to another record,
 * or whose NAME or NAME.part carries another URL's mark, is skipped; the
 * first that carries this URL's mark is taken, so that a rerun, a
 * reordered list or shards sharing DIR give each URL the file it had.
 * Without a mark (a file from before 0.3, another tool's, or a file
 * system without user xattrs) a file is nobody's: the first such name is
 * taken and replaced if the walk meets no name of this URL's before one
 * that is not there.  A produced name that ends in ".part" always gets a
 * suffix, so that no record's NAME is another's NAME.part.  The name
 * comes from files_name.c, what this run gave out is files_set.c's, and
 * the file is made and renamed by files_part.c.
 */
#include "files_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

/* Suffixes tried for one name before the record fails. */
#define SUFFIX_MAX	100000

/* mkdir -p. */
static int
files_mkdirs(const char *dir)
{
	char	path[4096], *p;

	if (strlen(dir) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(path, dir);
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0777) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, 0777) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* The -o directory, made and opened; NULL with a reason in err. */
struct files *
files_new(const struct opts *o, char *err, size_t errlen)
{
	struct files	*f;
	uint64_t	 seed;

	if ((f = calloc(1, sizeof(*f))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->dir = o->output_dir;
	f->tmpl = o->name_template;
	f->cont = o->cont;
	f->prefix = strlen(f->dir);
	if (f->prefix > 0 && f->dir[f->prefix - 1] != '/')
		f->prefix++;
	/* Only a bare {index} cannot collide: "{name}{index}" can. */
	f->unique = strcmp(f->tmpl, "{index}") == 0;
	/* Not a secret, only different from run to run. */
	seed = ((uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL) ^
	    ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)f;
	if (files_mkdirs(f->dir) == -1 ||
	    (f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		snprintf(err, errlen, "cannot use directory '%s': %s", f->dir,
		    strerror(errno));
		free(f);
		return NULL;
	}
	if ((f->cu = curl_url()) == NULL ||
	    (f->set = htab_new(sizeof(struct name), seed)) == NULL) {
		curl_url_cleanup(f->cu);
		close(f->dirfd);
		free(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return f;
}

/* Close the directory and free the name table. */
void
files_free(struct files *f)
{
	if (f == NULL)
		return;
	htab_free(f->set);
	buf_free(&f->name);
	buf_free(&f->seg);
	buf_free(&f->out);
	buf_free(&f->mark);
	buf_free(&f->seen);
	buf_free(&f->key);
	curl_url_cleanup(f->cu);
	close(f->dirfd);
	free(f);
}

/*
 * The directory that holds rel under DIR, each segment of {path} made
 * with mkdirat() and opened with O_NOFOLLOW|O_DIRECTORY, so that a
 * symbolic link planted on the way leads nowhere; its descriptor (DIR's
 * own for a plain name) and in *leaf the name inside it, or -1.
 */
static int
files_subdir_open(struct files *f, const char *rel, const char **leaf)
{
	char		 seg[NAME_MAX + 1];
	const char	*p = rel, *slash;
	size_t		 n;
	int		 fd = f->dirfd, nfd, e;

	while ((slash = strchr(p, '/')) != NULL) {
		if ((n = (size_t)(slash - p)) > NAME_MAX) {
			errno = ENAMETOOLONG;
			nfd = -1;
		} else {
			memcpy(seg, p, n);
			seg[n] = '\0';
			if (mkdirat(fd, seg, 0777) == -1 && errno != EEXIST)
				nfd = -1;
			else
				nfd = openat(fd, seg, O_RDONLY | O_DIRECTORY |
				    O_NOFOLLOW | O_CLOEXEC);
		}
		e = errno;
		if (fd != f->dirfd)
			close(fd);
		if ((fd = nfd) == -1) {
			errno = e;
			return -1;
		}
		p = slash + 1;
	}
	*leaf = p;
	return fd;
}

/*
 * The directory that holds r->save.file (made as needed): its descriptor and
 * in *leaf the name inside it, or -1 with a reason in err.
 */
int
files_subdir(struct files *f, const struct rec *r, const char **leaf,
    char *err, size_t errlen)
{
	int dfd, e;

	if ((dfd = files_subdir_open(f, r->save.file.p + f->prefix, leaf)) == -1) {
		e = errno;
		snprintf(err, errlen, e == ELOOP || e == ENOTDIR ?
		    "refusing to write '%s': a directory on its way is a "
		    "symbolic link or not a directory" : "cannot open '%s': %s",
		    r->save.file.p, strerror(e));
	}
	return dfd;
}

/* One walk over a template name's suffixes. */
struct walk {
	int		 want_file;	/* --revalidate: only a NAME counts */
	int		 dfd;		/* the directory the name is in */
	size_t		 base;		/* bytes of the template's name */
	size_t		 leafoff;	/* where the leaf starts in f->name */
	uint64_t	 h;		/* the template name's hash */
	uint64_t	 n;		/* the suffix looked at, then chosen */
	uint64_t	 min;		/* the lowest suffix allowed */
	uint64_t	 best;		/* nobody's first, or UINT64_MAX */
};

/*
 * Start w for r: the template's name in f->name, r's mark, the first
 * suffix not known to be taken and the directory opened; -1 with a
 * reason in err.
 */
static int
files_walk_start(struct files *f, struct rec *r, struct walk *w, char *err,
    size_t errlen)
{
	const struct name	*e;
	const char		*slash, *leaf;

	if (files_name_expand(f, r) == -1 || files_part_mark_of(f, r) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w->base = f->name.len;
	slash = strrchr(f->name.p, '/');
	w->leafoff = slash != NULL ? (size_t)(slash + 1 - f->name.p) : 0;
	w->min = files_name_is_part(f->name.p, w->base) ? 1 : 0;
	w->h = htab_hash(f->set, f->name.p, w->base);
	e = f->unique ? NULL : htab_find(f->set, f->name.p, w->base, w->h);
	w->n = e != NULL ? e->next : f->forgot ? f->floor[w->h % FLOOR_LEN] :
	    0;
	if (w->n < w->min)
		w->n = w->min;
	w->best = UINT64_MAX;
	if (files_name_file(f, r) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w->dfd = files_subdir(f, r, &leaf, err, errlen);
	buf_clear(&r->save.file);
	return w->dfd == -1 ? -1 : 0;
}

/* Whether an earlier walk saw this URL's name and it still is: then w->n. */
static int
files_walk_known(struct files *f, struct walk *w)
{
	enum owner	name;
	int64_t		at;

	if ((at = files_set_known_at(f, w->base)) < 0 ||
	    files_name_suffix(f, w->base, (uint64_t)at) == -1 ||
	    files_set_taken(f, 0) ||
	    files_part_claim(f, w->dfd, f->name.p + w->leafoff, &name) !=
	    OWN_US || (w->want_file && name != OWN_US))
		return 0;
	w->n = (uint64_t)at;
	return 1;
}

/*
 * Judge suffix w->n: 1 when it is the one (w->n then says which), 0 when
 * want_file finds none, -1 to go on, -2 when out of memory.
 */
static int
files_walk_judge(struct files *f, struct walk *w)
{
	enum owner c, name;

	if (files_name_suffix(f, w->base, w->n) == -1)
		return -2;
	/* Given out in this run, or known to be another URL's. */
	if (!f->unique && files_set_taken(f, 1))
		return -1;
	c = files_part_claim(f, w->dfd, f->name.p + w->leafoff, &name);
	if (c == OWN_OTHER && files_set_known(f, w->base, w->n) == -1)
		return -2;
	if (w->want_file && c == OWN_ABSENT)
		return 0;
	if (w->want_file && c == OWN_US)
		return name == OWN_US;
	if (c == OWN_US || (c == OWN_ABSENT && w->best == UINT64_MAX))
		return 1;
	if (c == OWN_ABSENT) {
		w->n = w->best;
		return 1;
	}
	if (c == OWN_NOBODY && w->best == UINT64_MAX && !f->forgot)
		w->best = w->n;
	return -1;
}

/*
 * Walk r's names from the first suffix not taken: the name to use into
 * w->n.  want_file: only a NAME of this URL's counts (--revalidate), and
 * 1 is returned when one is found, 0 when not.  Otherwise 1 always: this
 * URL's name, else the first of nobody's before a name that is free,
 * else that free name.  -1 with a reason in err.
 */
static int
files_walk(struct files *f, struct rec *r, struct walk *w, char *err,
    size_t errlen)
{
	uint64_t	end;
	int		found = -1;

	if (files_walk_start(f, r, w, err, errlen) == -1)
		return -1;
	if (files_walk_known(f, w))
		found = 1;
	for (end = w->n + SUFFIX_MAX; found == -1 && w->n < end; w->n++)
		if ((found = files_walk_judge(f, w)) != -1)
			break;
	if (w->dfd != f->dirfd)
		close(w->dfd);
	if (found == -2) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (found == -1 && !w->want_file) {
		snprintf(err, errlen, "no name for '%s': %d suffixes belong to "
		    "other URLs", f->name.p, SUFFIX_MAX);
		return -1;
	}
	return found == 1;
}

/*
 * Choose r's name (r->save.file) and take it for this run; want_file as for
 * files_walk.  1 when chosen, 0 when want_file found none, -1 with a
 * reason in err.
 */
static int
files_choose(struct files *f, struct rec *r, int want_file, char *err,
    size_t errlen)
{
	struct walk	w = { .want_file = want_file };
	int		rc;

	if ((rc = files_walk(f, r, &w, err, errlen)) != 1)
		return rc;
	if (files_name_suffix(f, w.base, w.n) == -1 ||
	    files_name_file(f, r) == -1 ||
	    files_set_take(f, w.base, w.h, w.n, w.min) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 1;
}

/*
 * Open NAME.part for r's body into pt, truncated unless it continues.
 * The name is chosen on the first attempt and kept in r->save.file for
 * retries.  Returns 0, or -1 with a reason in err.
 */
int
files_open(struct files *f, struct rec *r, struct part *pt, char *err,
    size_t errlen)
{
	int rc, tries;

	if (files_part_mark_of(f, r) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (tries = 0; tries < 16; tries++) {
		if (r->save.file.len == 0 && files_choose(f, r, 0, err, errlen) ==
		    -1)
			return -1;
		if ((rc = files_part_create(f, r, pt, err, errlen)) != -2)
			return rc;
		/* Another process took the name: it stays taken here. */
		buf_clear(&r->save.file);
		if (files_part_mark_of(f, r) == -1)
			break;
	}
	snprintf(err, errlen, "no name for the body of '%s': other processes "
	    "keep taking them", r->req.url.p);
	return -1;
}

/*
 * --revalidate: whether this URL's file from an earlier run is there, a
 * regular file of one link marked with this URL, that a 304 keeps.  Its
 * name goes to r->save.file and is taken for this run, so that nothing else
 * overwrites it; nothing is opened.  1 when it is there, 0 when not (r is
 * then fetched plainly), -1 when out of memory.
 */
int
files_existing(struct files *f, struct rec *r)
{
	struct stat	 st;
	char		 err[256];
	int		 rc;

	if (r->save.file.len == 0) {
		rc = files_choose(f, r, 1, err, sizeof(err));
		/* A directory that cannot be used: files_open says why. */
		if (rc != 1)
			return rc == -1 && strcmp(err, "out of memory") == 0 ?
			    -1 : 0;
		return 1;
	}
	/* A retry: the name is this record's; is the file still there? */
	if (files_part_mark_of(f, r) == -1)
		return -1;
	if (fstatat(f->dirfd, r->save.file.p + f->prefix, &st,
	    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1)
		return 0;
	return 1;
}

/*
 * -j: choose r's name in the first process, where every name of the run
 * is given out, as r's first attempt would (--revalidate's look for this
 * URL's file first), so that two workers never take one name and each
 * record gets the name it would get without -j; r->save.claimed tells the
 * worker which it was.  0, or -1 with a reason in err.
 */
int
files_claim(struct files *f, struct rec *r, char *err, size_t errlen)
{
	int rc;

	if (r->req.was.etag != NULL || r->req.was.modified != 0) {
		if ((rc = files_existing(f, r)) == 1) {
			r->save.claimed = CLAIM_FILE;
			return 0;
		}
		if (rc == -1) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	if (files_part_mark_of(f, r) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (files_choose(f, r, 0, err, errlen) == -1)
		return -1;
	r->save.claimed = CLAIM_NAME;
	return 0;
}
