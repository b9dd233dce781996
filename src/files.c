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
	rc = buf_append(&f->name, s, strlen(s));
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

/* Expand the template for r into f->name, made safe. */
static int
files_expand(struct files *f, const struct rec *r)
{
	const char	*p;
	char		 num[32];
	int		 rc = 0;

	buf_clear(&f->name);
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
		} else if (strncmp(p, "{id}", 4) == 0) {
			/* A string id gives its text, any other compact JSON. */
			if (r->has_id)
				rc = files_id(f, r);
			p += 4;
		} else
			rc = buf_append(&f->name, p++, 1);
	}
	if (rc == -1)
		return -1;
	files_safe(&f->name);
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
 * Open r->file for writing without following a symbolic link or blocking
 * on a FIFO, and truncate it only once fstat() has shown a regular file
 * with no other link: a name in DIR must never reach a file elsewhere.
 * excl: the file must be new.  Returns a descriptor, -2 when excl and
 * the name exists, or -1 with a reason in err.
 */
static int
files_create(struct files *f, struct rec *r, int excl, char *err,
    size_t errlen)
{
	struct stat	 st;
	const char	*name, *why;
	int		 fd, e, fl;

	name = strrchr(r->file.p, '/');
	name = name != NULL ? name + 1 : r->file.p;
	fd = openat(f->dirfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC | (excl ? O_EXCL : 0), 0666);
	if (fd == -1) {
		e = errno;
		if (excl && e == EEXIST)
			return -2;
		/* Name what is in the way rather than say ELOOP or ENXIO. */
		if (fstatat(f->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISREG(st.st_mode))
			snprintf(err, errlen, "refusing to write '%s': %s",
			    r->file.p, S_ISLNK(st.st_mode) ?
			    "is a symbolic link" : "not a regular file");
		else
			snprintf(err, errlen, "cannot open '%s': %s",
			    r->file.p, strerror(e));
		return -1;
	}
	why = NULL;
	if (fstat(fd, &st) == -1)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_nlink > 1)
		why = "has other hard links";
	else if (st.st_nlink == 0)
		why = "was removed as it was opened";
	if (why != NULL) {
		close(fd);
		snprintf(err, errlen, "refusing to write '%s': %s", r->file.p,
		    why);
		return -1;
	}
	/*
	 * O_NONBLOCK was for the open only: a write to a regular file that
	 * said EAGAIN would end the transfer.
	 */
	if ((st.st_size > 0 && ftruncate(fd, 0) == -1) ||
	    (fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
		e = errno;
		close(fd);
		snprintf(err, errlen, "cannot open '%s': %s", r->file.p,
		    strerror(e));
		return -1;
	}
	return fd;
}

/*
 * Open the file for r's body, truncated.  The name is chosen on the first
 * attempt and kept in r->file for retries.  Returns a descriptor, or -1
 * with a reason in err.
 */
int
files_open(struct files *f, struct rec *r, char *err, size_t errlen)
{
	struct name	*e;
	char		 num[24];
	size_t		 base;
	uint64_t	 h, n;
	int		 fd;

	if (r->file.len > 0)
		return files_create(f, r, 0, err, errlen);
	if (files_expand(f, r) == -1)
		goto nomem;
	if (f->unique) {
		if (files_path(f, r) == -1)
			goto nomem;
		return files_create(f, r, 0, err, errlen);
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
		if ((fd = files_create(f, r, f->forgot, err, errlen)) != -2)
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
	if (fd != -1)
		close(fd);
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
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
	name = strrchr(r->file.p, '/');
	name = name != NULL ? name + 1 : r->file.p;
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
