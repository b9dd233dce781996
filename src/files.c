/*
 * files: -o DIR and --name TEMPLATE.  A produced name never holds '/', a
 * NUL or a control byte, never starts with a dot and is valid UTF-8, so
 * with openat() on the directory and O_NOFOLLOW nothing can be written
 * outside it, and the record's "file" names the file byte for byte.  A
 * file is written only when fstat() shows a regular file with one link.
 *
 * Names are unique within the run.  The default {index} is unique by
 * construction.  Any other template uses a table of the names used so
 * far, each with the next suffix to try when it comes again, so that a
 * fixed name costs O(1) per record rather than a walk over .1, .2, ...
 * The table is bounded: when it is full it is emptied, each entry's next
 * suffix being kept in a small array indexed by the name's hash.  From
 * then on the table no longer knows every name this run used, so files
 * are created with O_EXCL and a name that exists (ours or not) gets the
 * next suffix: a file written earlier in the run is never overwritten,
 * and the hash array lets a name that comes back skip its used suffixes
 * instead of probing them one by one.  Before that point a file that
 * existed before the run is overwritten, as it always was.
 */
#include "gather/files.h"
#include "gather/text.h"
#include "gather/url.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

/* Room is left after this for a ".N" suffix within NAME_MAX. */
#define NAME_LEN	200
/* Names the table remembers exactly: at most about 4 MiB with NAME_LEN. */
#define TABLE_MAX	16384
/* Next suffixes kept by hash once the table has been emptied. */
#define FLOOR_LEN	4096
/* {path}: directories deeper than this are joined into one name. */
#define PATH_DEPTH	32
/* Where a NAME.part keeps the validator its If-Range will send. */
#define PART_XATTR	"user.gather.if-range"
/* The longest validator kept: an ETag or an HTTP date. */
#define VALIDATOR_MAX	1024

struct name {
	char		*s;		/* NULL: a free slot */
	uint64_t	 hash;
	uint64_t	 next;		/* the suffix to try when s comes again */
};

struct files {
	int		 dirfd;
	const char	*dir;		/* as given */
	const char	*tmpl;
	int		 unique;	/* the template is {index} */
	int		 forgot;	/* the table was emptied at least once */
	uint64_t	 seed;
	CURLU		*cu;
	struct name	*set;		/* open addressing, at most half full */
	size_t		 setcap, setlen;
	uint64_t	 floor[FLOOR_LEN];
	struct buf	 name;
	struct buf	 seg, out;	/* {path}: one segment, the whole */
	size_t		 seps[PATH_DEPTH];	/* {path}'s '/' in name */
	size_t		 nseps;
	size_t		 prefix;	/* bytes of "DIR/" in a record's file */
	int		 cont;		/* --continue */
};

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
	struct files *f;

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
	f->seed = ((uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL) ^
	    ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)f;
	if (files_mkdirs(f->dir) == -1 ||
	    (f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		snprintf(err, errlen, "cannot use directory '%s': %s", f->dir,
		    strerror(errno));
		free(f);
		return NULL;
	}
	if ((f->cu = curl_url()) == NULL) {
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
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->setcap; i++)
		free(f->set[i].s);
	free(f->set);
	buf_free(&f->name);
	buf_free(&f->seg);
	buf_free(&f->out);
	curl_url_cleanup(f->cu);
	close(f->dirfd);
	free(f);
}

/*
 * FNV-1a over the name, keyed by a per-run seed and mixed at the end, so
 * that a list of URLs cannot be made to pile its names into one chain.
 */
static uint64_t
files_hash(const struct files *f, const char *s, size_t n)
{
	uint64_t	h = text_hash(s, n, f->seed);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

/* The table's entry for name, or NULL. */
static struct name *
files_find(const struct files *f, const char *s, size_t n, uint64_t h)
{
	size_t i;

	if (f->setcap == 0)
		return NULL;
	for (i = h & (f->setcap - 1); f->set[i].s != NULL;
	    i = (i + 1) & (f->setcap - 1))
		if (f->set[i].hash == h && strncmp(f->set[i].s, s, n) == 0 &&
		    f->set[i].s[n] == '\0')
			return &f->set[i];
	return NULL;
}

/*
 * Empty the table, keeping each entry's next suffix in the hash-indexed
 * floor so that a name that comes back does not probe from .1 again.
 */
static void
files_forget(struct files *f)
{
	struct name	*e;
	uint64_t	*fl;
	size_t		 i;

	for (i = 0; i < f->setcap; i++) {
		e = &f->set[i];
		if (e->s == NULL)
			continue;
		fl = &f->floor[e->hash % FLOOR_LEN];
		if (*fl < e->next)
			*fl = e->next;
		free(e->s);
		e->s = NULL;
	}
	f->setlen = 0;
	f->forgot = 1;
}

/*
 * Record that name (not in the table) was used and that next is the
 * suffix to try when it comes again; -1 when out of memory.
 */
static int
files_remember(struct files *f, const char *s, size_t n, uint64_t h,
    uint64_t next)
{
	struct name	*set;
	size_t		 i, j, cap;

	if (f->setlen >= TABLE_MAX)
		files_forget(f);
	if ((f->setlen + 1) * 2 > f->setcap) {
		cap = f->setcap ? f->setcap * 2 : 64;
		if ((set = calloc(cap, sizeof(*set))) == NULL)
			return -1;
		for (i = 0; i < f->setcap; i++) {
			if (f->set[i].s == NULL)
				continue;
			for (j = f->set[i].hash & (cap - 1); set[j].s != NULL;
			    j = (j + 1) & (cap - 1))
				;
			set[j] = f->set[i];
		}
		free(f->set);
		f->set = set;
		f->setcap = cap;
	}
	for (i = h & (f->setcap - 1); f->set[i].s != NULL;
	    i = (i + 1) & (f->setcap - 1))
		;
	if ((f->set[i].s = malloc(n + 1)) == NULL)
		return -1;
	memcpy(f->set[i].s, s, n);
	f->set[i].s[n] = '\0';
	f->set[i].hash = h;
	f->set[i].next = next;
	f->setlen++;
	return 0;
}

/* Append a URL part (or "") for a placeholder. */
static int
files_url_part(struct files *f, const struct rec *r, CURLUPart part,
    int last_segment)
{
	char		*v = NULL;
	const char	*s;
	int		 rc;

	if (url_set(f->cu, r->url.p) != CURLUE_OK ||
	    curl_url_get(f->cu, part, &v, 0) != CURLUE_OK)
		return 0;
	s = v;
	if (last_segment && strrchr(s, '/') != NULL)
		s = strrchr(s, '/') + 1;
	/* A directory's URL is saved as browsers and wget name it. */
	if (last_segment && *s == '\0')
		s = "index.html";
	rc = buf_append(&f->name, s, strlen(s));
	curl_free(v);
	return rc;
}

/*
 * Append {path}: the URL's path, its segments as directories.  Where the
 * separators are is kept, so that each segment is made safe on its own
 * (files_safe_path); a backslash is no separator here, but would be to
 * whoever reads the name elsewhere, so it becomes '_'.
 */
static int
files_path_part(struct files *f, const struct rec *r)
{
	char		*v = NULL;
	const char	*s, *e;
	size_t		 i, start;
	int		 rc = 0, segs = 0;

	if (url_set(f->cu, r->url.p) != CURLUE_OK ||
	    curl_url_get(f->cu, CURLUPART_PATH, &v, 0) != CURLUE_OK)
		return 0;
	for (s = v; *s != '\0' && rc == 0; s = e) {
		e = s + strcspn(s, "/");
		if (e > s) {
			if (segs++ > 0 && f->nseps < PATH_DEPTH)
				f->seps[f->nseps++] = f->name.len;
			if (segs > 1)
				rc = buf_append(&f->name, "/", 1);
			start = f->name.len;
			if (rc == 0)
				rc = buf_append(&f->name, s, (size_t)(e - s));
			for (i = start; rc == 0 && i < f->name.len; i++)
				if (f->name.p[i] == '\\')
					f->name.p[i] = '_';
		}
		e += strspn(e, "/");
	}
	if (rc == 0 && (segs == 0 || v[strlen(v) - 1] == '/')) {
		if (segs > 0 && f->nseps < PATH_DEPTH)
			f->seps[f->nseps++] = f->name.len;
		if (segs > 0)
			rc = buf_append(&f->name, "/", 1);
		if (rc == 0)
			rc = buf_append(&f->name, "index.html", 10);
	}
	curl_free(v);
	return rc;
}

/* Append r's id: a string's text, other JSON compact. */
static int
files_id(struct files *f, const struct rec *r)
{
	cJSON	*v;
	char	*json;
	int	 rc;

	if (r->id.p[0] == '"' &&
	    json_unescape(&f->name, r->id.p, r->id.len) == 0)
		return 0;
	if ((r->id.p[0] == '{' || r->id.p[0] == '[') &&
	    (v = cJSON_ParseWithLength(r->id.p, r->id.len)) != NULL) {
		json = cJSON_PrintUnformatted(v);
		cJSON_Delete(v);
		if (json != NULL) {
			rc = buf_append(&f->name, json, strlen(json));
			cJSON_free(json);
			return rc;
		}
	}
	return buf_append(&f->name, r->id.p, r->id.len);
}

/*
 * Make name safe in place: '/', control bytes, bytes that are not UTF-8
 * and leading dots become '_', and a long name is cut to NAME_LEN bytes
 * at a character boundary, so that what "file" says is what was made.
 */
static void
files_safe(struct buf *name)
{
	unsigned char	*p = (unsigned char *)name->p;
	size_t		 i, len = name->len;

	for (i = 0; i < len; i++)
		if (p[i] == '/' || p[i] < 0x20 || p[i] == 0x7f)
			p[i] = '_';
	for (i = 0; i < len; i++) {
		i += utf8_valid_prefix(p + i, len - i);
		if (i < len)
			p[i] = '_';
	}
	if (len > NAME_LEN) {
		/* The bytes are UTF-8 now: back off continuation bytes. */
		for (len = NAME_LEN; len > 0 && (p[len] & 0xc0) == 0x80; len--)
			;
	}
	for (i = 0; i < len && p[i] == '.'; i++)
		p[i] = '_';
	name->len = len;
}

/*
 * Make f->name safe segment by segment at the separators {path} put
 * there; any other '/' is a byte of a name and becomes '_'.
 */
static int
files_safe_path(struct files *f)
{
	size_t	i, start, end;

	if (f->nseps == 0) {
		files_safe(&f->name);
		return 0;
	}
	buf_clear(&f->out);
	for (i = 0, start = 0; i <= f->nseps; i++, start = end + 1) {
		end = i < f->nseps ? f->seps[i] : f->name.len;
		if (buf_set(&f->seg, f->name.p + start, end - start) == -1)
			return -1;
		files_safe(&f->seg);
		if ((i > 0 && buf_append(&f->out, "/", 1) == -1) ||
		    buf_append(&f->out, f->seg.len ? f->seg.p : "_",
		    f->seg.len ? f->seg.len : 1) == -1)
			return -1;
	}
	return buf_set(&f->name, f->out.p, f->out.len);
}

/* Expand the template for r into f->name, made safe. */
static int
files_expand(struct files *f, const struct rec *r)
{
	const char	*p;
	char		 num[32];
	int		 rc = 0;

	buf_clear(&f->name);
	f->nseps = 0;
	for (p = f->tmpl; *p && rc == 0; ) {
		if (strncmp(p, "{index}", 7) == 0) {
			snprintf(num, sizeof(num), "%llu",
			    (unsigned long long)r->index);
			rc = buf_append(&f->name, num, strlen(num));
			p += 7;
		} else if (strncmp(p, "{host}", 6) == 0) {
			rc = files_url_part(f, r, CURLUPART_HOST, 0);
			p += 6;
		} else if (strncmp(p, "{name}", 6) == 0) {
			rc = files_url_part(f, r, CURLUPART_PATH, 1);
			p += 6;
		} else if (strncmp(p, "{path}", 6) == 0) {
			rc = files_path_part(f, r);
			p += 6;
		} else if (strncmp(p, "{id}", 4) == 0) {
			/* A string id gives its text, any other compact JSON. */
			if (r->has_id)
				rc = files_id(f, r);
			p += 4;
		} else
			rc = buf_append(&f->name, p++, 1);
	}
	if (rc == -1 || files_safe_path(f) == -1)
		return -1;
	if (f->name.len == 0 && buf_append(&f->name, "_", 1) == -1)
		return -1;
	f->name.p[f->name.len] = '\0';
	return 0;
}

/* r->file: DIR as given joined with f->name. */
static int
files_path(struct files *f, struct rec *r)
{
	size_t dirlen = strlen(f->dir);

	if (buf_set(&r->file, f->dir, dirlen) == -1 ||
	    (dirlen > 0 && f->dir[dirlen - 1] != '/' &&
	    buf_append(&r->file, "/", 1) == -1) ||
	    buf_append(&r->file, f->name.p, f->name.len) == -1)
		return -1;
	return 0;
}

/*
 * The directory that holds rel under DIR, each segment of {path} made
 * with mkdirat() and opened with O_NOFOLLOW|O_DIRECTORY, so that a
 * symbolic link planted on the way leads nowhere; its descriptor (DIR's
 * own for a plain name) and in *leaf the name inside it, or -1.
 */
static int
files_subdir(struct files *f, const char *rel, const char **leaf)
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

/* Why NAME may not be replaced in dfd, or NULL: a FIFO, a link... */
static const char *
files_target_why(int dfd, const char *leaf, int excl, int *exists)
{
	struct stat st;

	*exists = 0;
	if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return NULL;
	*exists = 1;
	if (excl)
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
 * Whether NAME.part, open as fd with st, is to be continued: on a retry
 * of this run, or under --continue, when it holds bytes and the validator
 * its first response gave (see files_mark).  Fills r->validator.
 */
static int
files_continues(struct files *f, struct rec *r, int fd,
    const struct stat *st)
{
	char	v[VALIDATOR_MAX];
	ssize_t	n;

	buf_clear(&r->validator);
	if ((r->attempts == 0 && !f->cont) || st->st_size <= 0)
		return 0;
	if ((n = fgetxattr(fd, PART_XATTR, v, sizeof(v))) <= 0)
		return 0;
	return buf_set(&r->validator, v, (size_t)n) == 0;
}

/*
 * Open NAME.part without following a symbolic link or blocking on a FIFO;
 * use it only once fstat() has shown a regular file with no other link,
 * and only when NAME itself is nothing the rename must not replace.
 * excl: NAME must be new.  Fills pt; returns 0, -2 when excl and NAME
 * exists, or -1 with a reason in err.
 */
static int
files_create(struct files *f, struct rec *r, struct part *pt, int excl,
    char *err, size_t errlen)
{
	struct stat	 st;
	char		 part[NAME_MAX + 1];
	const char	*leaf, *why;
	int		 fd, dfd, e, fl, exists;

	if ((dfd = files_subdir(f, r->file.p + f->prefix, &leaf)) == -1) {
		e = errno;
		snprintf(err, errlen, e == ELOOP || e == ENOTDIR ?
		    "refusing to write '%s': a directory on its way is a "
		    "symbolic link or not a directory" : "cannot open '%s': %s",
		    r->file.p, strerror(e));
		return -1;
	}
	why = files_target_why(dfd, leaf, excl, &exists);
	if (exists && excl) {
		if (dfd != f->dirfd)
			close(dfd);
		return -2;
	}
	snprintf(part, sizeof(part), "%s.part", leaf);
	fd = why != NULL ? -1 : openat(dfd, part, O_RDWR | O_CREAT |
	    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666);
	e = errno;
	if (fd == -1 && why == NULL) {
		why = strerror(e);
		if (fstatat(dfd, part, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISREG(st.st_mode))
			why = S_ISLNK(st.st_mode) ? "is a symbolic link" :
			    "not a regular file";
	} else if (fd != -1 && fstat(fd, &st) == -1)
		why = strerror(errno);
	else if (fd != -1 && !S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (fd != -1 && st.st_nlink > 1)
		why = "has other hard links";
	else if (fd != -1 && st.st_nlink == 0)
		why = "was removed as it was opened";
	if (why == NULL) {
		pt->have = files_continues(f, r, fd, &st) ?
		    (uint64_t)st.st_size : 0;
		/*
		 * O_NONBLOCK was for the open only: a write to a regular
		 * file that said EAGAIN would end the transfer.
		 */
		if ((pt->have == 0 && st.st_size > 0 && ftruncate(fd, 0) ==
		    -1) || lseek(fd, (off_t)pt->have, SEEK_SET) == -1 ||
		    (fl = fcntl(fd, F_GETFL)) == -1 ||
		    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
			why = strerror(errno);
	}
	if (why != NULL) {
		if (fd != -1)
			close(fd);
		if (dfd != f->dirfd)
			close(dfd);
		snprintf(err, errlen, "refusing to write '%s': %s", r->file.p,
		    why);
		return -1;
	}
	if (pt->have == 0)
		(void)fremovexattr(fd, PART_XATTR);
	pt->fd = fd;
	pt->dirfd = dfd;
	pt->leaf = leaf;
	return 0;
}

/*
 * Open NAME.part for r's body into pt, truncated unless it continues.
 * The name is chosen on the first attempt and kept in r->file for
 * retries.  Returns 0, or -1 with a reason in err.
 */
int
files_open(struct files *f, struct rec *r, struct part *pt, char *err,
    size_t errlen)
{
	struct name	*e;
	char		 num[24];
	size_t		 base;
	uint64_t	 h, n;
	int		 fd;

	if (r->file.len > 0)
		return files_create(f, r, pt, 0, err, errlen);
	if (files_expand(f, r) == -1)
		goto nomem;
	if (f->unique) {
		if (files_path(f, r) == -1)
			goto nomem;
		return files_create(f, r, pt, 0, err, errlen);
	}
	base = f->name.len;
	h = files_hash(f, f->name.p, base);
	e = files_find(f, f->name.p, base, h);
	n = e != NULL ? e->next : 0;
	for (;;) {
		f->name.len = base;
		f->name.p[base] = '\0';
		if (n > 0) {
			snprintf(num, sizeof(num), ".%" PRIu64, n);
			if (buf_append(&f->name, num, strlen(num)) == -1)
				goto nomem;
			/* The template itself made "x.1" earlier, say. */
			if (files_find(f, f->name.p, f->name.len,
			    files_hash(f, f->name.p, f->name.len)) != NULL) {
				n++;
				continue;
			}
		}
		if (files_path(f, r) == -1)
			goto nomem;
		if ((fd = files_create(f, r, pt, f->forgot, err, errlen)) != -2)
			break;
		/*
		 * It exists and the table cannot say whether this run made
		 * it: skip what the floor knows was used, else the next one.
		 */
		if (n == 0 && f->floor[h % FLOOR_LEN] > 0)
			n = f->floor[h % FLOOR_LEN];
		else
			n++;
	}
	/* e goes stale once the table changes: update it first. */
	if (e != NULL)
		e->next = n + 1;
	else if (files_remember(f, f->name.p, base, h, n + 1) == -1)
		goto fail;
	if (n > 0 && files_remember(f, f->name.p, f->name.len,
	    files_hash(f, f->name.p, f->name.len), 1) == -1)
		goto fail;
	return fd;
fail:
	if (fd == 0)
		files_close(f, pt, r, 1);
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/*
 * Mark NAME.part as continuable with the validator that If-Range will
 * send, or unmark it: a .part that outlives gather (killed, or kept on
 * purpose) is continued only when it says what it is a part of.
 */
void
files_mark(struct part *pt, const char *v, size_t len)
{
	if (len > 0 && len < VALIDATOR_MAX)
		(void)fsetxattr(pt->fd, PART_XATTR, v, len, 0);
	else
		(void)fremovexattr(pt->fd, PART_XATTR);
}

/*
 * Rename NAME.part to NAME within its directory: NAME appears whole or
 * not at all.  0, or -1 with a reason in err.
 */
int
files_commit(struct files *f, struct part *pt, struct rec *r, char *err,
    size_t errlen)
{
	char	part[NAME_MAX + 1];

	(void)f;
	snprintf(part, sizeof(part), "%s.part", pt->leaf);
	(void)fremovexattr(pt->fd, PART_XATTR);
	if (renameat(pt->dirfd, part, pt->dirfd, pt->leaf) == -1) {
		snprintf(err, errlen, "cannot rename '%s.part' to '%s': %s",
		    r->file.p, r->file.p, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Close NAME.part and its directory; remove it unless keep, so that only
 * a part that can be continued is left behind.
 */
void
files_close(struct files *f, struct part *pt, struct rec *r, int keep)
{
	char	part[NAME_MAX + 1];

	(void)r;
	if (pt->fd == -1)
		return;
	if (!keep) {
		snprintf(part, sizeof(part), "%s.part", pt->leaf);
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
 * --revalidate: whether the file the template names for r is there from
 * an earlier run, a regular file of one link that a 304 keeps.  Its name
 * goes to r->file and is taken for this run, so that nothing else
 * overwrites it; nothing is opened.  1 when it is there, 0 when not (r is
 * then fetched plainly), -1 when out of memory.
 */
int
files_existing(struct files *f, struct rec *r)
{
	struct stat	 st;
	const char	*name;
	uint64_t	 h = 0;

	if (r->file.len == 0) {
		if (files_expand(f, r) == -1)
			return -1;
		/* This run made it, or can no longer tell: not FILE's. */
		if (!f->unique && (f->forgot || files_find(f, f->name.p,
		    f->name.len, h = files_hash(f, f->name.p, f->name.len)) !=
		    NULL))
			return 0;
		if (files_path(f, r) == -1)
			return -1;
	}
	/* Only looked at: files_create opens it segment by segment. */
	name = r->file.p + f->prefix;
	if (fstatat(f->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		buf_clear(&r->file);
		return 0;
	}
	if (!f->unique && h != 0 && files_remember(f, f->name.p, f->name.len,
	    h, 1) == -1)
		return -1;
	return 1;
}
