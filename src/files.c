/*
 * files: -o DIR and --name TEMPLATE.  A produced name never holds '/', a
 * NUL or a control byte, never starts with a dot and is valid UTF-8, so
 * with openat() on the directory and O_NOFOLLOW nothing can be written
 * outside it, and the record's "file" names the file byte for byte.  A
 * file is written only when fstat() shows a regular file with one link.
 *
 * A file belongs to its URL.  NAME.part is made under a temporary name,
 * marked with the record's URL (the xattr user.gather.url, the URL itself
 * or, past 1 KiB, its SHA-256) and only then given its name without
 * replacing anything, so two processes cannot both claim it; the mark
 * goes with it when it becomes NAME.  A name is chosen by walking the
 * template's name, then NAME.1, NAME.2, ...: a name this run gave to
 * another record, or whose NAME or NAME.part carries another URL's mark,
 * is skipped; the first that carries this URL's mark is taken, so that a
 * rerun, a reordered list or shards sharing DIR give each URL the file it
 * had.  Without a mark (a file from before 0.3, another tool's, or a file
 * system without user xattrs) a file is nobody's: the first such name is
 * taken and replaced if the walk meets no name of this URL's before one
 * that is not there.  A produced name that ends in ".part" always gets a
 * suffix, so that no record's NAME is another's NAME.part.
 *
 * The table of names this run gave out keeps, per template name, the
 * lowest suffix not yet given (below it every suffix is taken), so that a
 * fixed name costs O(1) per record when DIR holds no other URL's files.
 * The table is bounded: when it is full it is emptied, each entry's next
 * suffix being kept in a small array indexed by the name's hash.  From
 * then on names without a mark are skipped too, as the run may have made
 * them itself.
 */
#define _GNU_SOURCE		/* renameat2 */
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
#include <openssl/evp.h>

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
/* Where NAME and NAME.part keep the URL they were made for. */
#define URL_XATTR	"user.gather.url"
/* A URL longer than this is marked by its SHA-256. */
#define MARK_URL_MAX	1024
/* Suffixes tried for one name before the record fails. */
#define SUFFIX_MAX	100000
/* The longest validator kept: an ETag or an HTTP date. */
#define VALIDATOR_MAX	1024

struct name {
	char		*s;		/* NULL: a free slot */
	uint64_t	 hash;
	uint64_t	 next;		/* below it, every suffix of s is taken */
	int		 used;		/* s itself was given to a record */
	int		 known;		/* s is another URL's in DIR */
};

/* Whose a file is. */
enum owner {
	OWN_ABSENT,			/* not there */
	OWN_US,				/* marked with this record's URL */
	OWN_OTHER,			/* marked with another URL */
	OWN_NOBODY			/* no mark, or not a regular file */
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
	struct buf	 mark;		/* this record's URL mark */
	struct buf	 seen;		/* the other URL's mark files_owner read */
	struct buf	 key;		/* "\1MARK\1NAME": where MARK's NAME is */
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
	buf_free(&f->mark);
	buf_free(&f->seen);
	buf_free(&f->key);
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
 * Add name (not in the table): whether it was given to a record, and the
 * suffix below which all of its are taken; -1 when out of memory.
 */
static int
files_remember(struct files *f, const char *s, size_t n, uint64_t h,
    uint64_t next, int used)
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
	f->set[i].used = used;
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

	if (url_set(f->cu, r->req.url.p) != CURLUE_OK ||
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

	if (url_set(f->cu, r->req.url.p) != CURLUE_OK ||
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

	if (r->req.id.p[0] == '"' &&
	    json_unescape(&f->name, r->req.id.p, r->req.id.len) == 0)
		return 0;
	if ((r->req.id.p[0] == '{' || r->req.id.p[0] == '[') &&
	    (v = cJSON_ParseWithLength(r->req.id.p, r->req.id.len)) != NULL) {
		json = cJSON_PrintUnformatted(v);
		cJSON_Delete(v);
		if (json != NULL) {
			rc = buf_append(&f->name, json, strlen(json));
			cJSON_free(json);
			return rc;
		}
	}
	return buf_append(&f->name, r->req.id.p, r->req.id.len);
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
			    (unsigned long long)r->req.index);
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
			if (r->req.has_id)
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

/* r->save.file: DIR as given joined with f->name. */
static int
files_path(struct files *f, struct rec *r)
{
	size_t dirlen = strlen(f->dir);

	if (buf_set(&r->save.file, f->dir, dirlen) == -1 ||
	    (dirlen > 0 && f->dir[dirlen - 1] != '/' &&
	    buf_append(&r->save.file, "/", 1) == -1) ||
	    buf_append(&r->save.file, f->name.p, f->name.len) == -1)
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


/* r's URL mark into f->mark: the URL, or past MARK_URL_MAX its SHA-256. */
static int
files_mark_of(struct files *f, const struct rec *r)
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
files_owner_fd(struct files *f, int fd)
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
files_owner(struct files *f, int dfd, const char *leaf)
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
	o = files_owner_fd(f, fd);
	close(fd);
	return o;
}

/*
 * Whose the name leaf is, judged by NAME and NAME.part together: another
 * URL's if either says so, else this URL's if either says so.  *name
 * gets what NAME alone says.
 */
static enum owner
files_claim(struct files *f, int dfd, const char *leaf, enum owner *name)
{
	char		part[NAME_MAX + 1];
	enum owner	a, b;

	snprintf(part, sizeof(part), "%s.part", leaf);
	if ((a = *name = files_owner(f, dfd, leaf)) == OWN_OTHER)
		return OWN_OTHER;
	b = files_owner(f, dfd, part);
	if (a == OWN_OTHER || b == OWN_OTHER)
		return OWN_OTHER;
	if (a == OWN_US || b == OWN_US)
		return OWN_US;
	if (a == OWN_NOBODY || b == OWN_NOBODY)
		return OWN_NOBODY;
	return OWN_ABSENT;
}

/* Whether the n bytes of s end in ".part". */
static int
files_is_part(const char *s, size_t n)
{
	return n >= 5 && memcmp(s + n - 5, ".part", 5) == 0;
}

/* f->name as the template's name (base bytes) with suffix n (0: none). */
static int
files_suffix(struct files *f, size_t base, uint64_t n)
{
	char num[24];

	f->name.len = base;
	f->name.p[base] = '\0';
	if (n == 0)
		return 0;
	snprintf(num, sizeof(num), ".%" PRIu64, n);
	return buf_append(&f->name, num, strlen(num));
}

/*
 * Whether this run gave the name in f->name to a record, or (known) found
 * it to be another URL's.
 */
static int
files_taken(const struct files *f, int known)
{
	const struct name *e;

	e = files_find(f, f->name.p, f->name.len, files_hash(f, f->name.p,
	    f->name.len));
	return e != NULL && (e->used || (known && e->known));
}

/* f->key for the mark m (n bytes) and the template's name (base bytes). */
static int
files_key(struct files *f, const char *m, size_t n, size_t base)
{
	return buf_set(&f->key, "\1", 1) == -1 ||
	    buf_append(&f->key, m, n) == -1 ||
	    buf_append(&f->key, "\1", 1) == -1 ||
	    buf_append(&f->key, f->name.p, base) == -1 ? -1 : 0;
}

/*
 * The walk found f->name (base with suffix n) to be the URL in f->seen's:
 * remember it, so that later records skip it without a look at DIR and
 * that URL's record finds it at once.  -1 when out of memory.
 */
static int
files_known(struct files *f, size_t base, uint64_t n)
{
	struct name	*e;
	uint64_t	 h;

	if (f->unique || f->seen.len == 0)
		return 0;
	h = files_hash(f, f->name.p, f->name.len);
	if ((e = files_find(f, f->name.p, f->name.len, h)) != NULL)
		e->known = 1;
	else if (files_remember(f, f->name.p, f->name.len, h, 0, 0) == -1 ||
	    (e = files_find(f, f->name.p, f->name.len, h)) == NULL)
		return -1;
	else
		e->known = 1;
	if (files_key(f, f->seen.p, f->seen.len, base) == -1)
		return -1;
	h = files_hash(f, f->key.p, f->key.len);
	if ((e = files_find(f, f->key.p, f->key.len, h)) != NULL) {
		e->next = n;
		return 0;
	}
	return files_remember(f, f->key.p, f->key.len, h, n, 0);
}

/* Where an earlier walk saw this URL's file of the template's name, or -1. */
static int64_t
files_known_at(struct files *f, size_t base)
{
	const struct name *e;

	if (f->unique || files_key(f, f->mark.p, f->mark.len, base) == -1)
		return -1;
	e = files_find(f, f->key.p, f->key.len, files_hash(f, f->key.p,
	    f->key.len));
	return e != NULL ? (int64_t)e->next : -1;
}

/*
 * Note that f->name, the template's name base with suffix n, is given
 * out, and move the base's next suffix past what is taken; -1 when out
 * of memory.  f->name is clobbered.
 */
static int
files_take(struct files *f, size_t base, uint64_t h, uint64_t n,
    uint64_t min)
{
	struct name	*e;
	uint64_t	 next;

	if (f->unique)
		return 0;
	if (n > 0) {
		e = files_find(f, f->name.p, f->name.len, files_hash(f,
		    f->name.p, f->name.len));
		if (e != NULL)
			e->used = 1;
		else if (files_remember(f, f->name.p, f->name.len, files_hash(f,
		    f->name.p, f->name.len), 0, 1) == -1)
			return -1;
	}
	/* Remembering may have emptied the table: look the base up again. */
	if ((e = files_find(f, f->name.p, base, h)) == NULL) {
		next = f->forgot ? f->floor[h % FLOOR_LEN] : 0;
		if (files_remember(f, f->name.p, base, h, next > min ? next :
		    min, n == 0) == -1 || (e = files_find(f, f->name.p, base,
		    h)) == NULL)
			return -1;
	} else if (n == 0)
		e->used = 1;
	if (f->forgot) {
		/* What this run made can no longer be told: go past it. */
		if (e->next <= n)
			e->next = n + 1;
		return 0;
	}
	for (next = e->next; ; next++) {
		if (files_suffix(f, base, next) == -1)
			return -1;
		if (!(next == 0 ? e->used || e->known : files_taken(f, 1)))
			break;
	}
	/* e is still valid: files_suffix does not touch the table. */
	e->next = next;
	return 0;
}

/*
 * The directory that holds the template's name for r (made as needed)
 * into *dfd; -1 with a reason in err.
 */
static int
files_dir_of(struct files *f, struct rec *r, int *dfd, const char **leaf,
    char *err, size_t errlen)
{
	int e;

	if (files_path(f, r) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((*dfd = files_subdir(f, r->save.file.p + f->prefix, leaf)) == -1) {
		e = errno;
		snprintf(err, errlen, e == ELOOP || e == ENOTDIR ?
		    "refusing to write '%s': a directory on its way is a "
		    "symbolic link or not a directory" : "cannot open '%s': %s",
		    r->save.file.p, strerror(e));
		buf_clear(&r->save.file);
		return -1;
	}
	return 0;
}

/*
 * Walk r's names from the first suffix not taken: the name to use into
 * *n.  want_file: only a NAME of this URL's counts (--revalidate), and 1
 * is returned when one is found, 0 when not.  Otherwise 1 always: this
 * URL's name, else the first of nobody's before a name that is free,
 * else that free name.  -1 with a reason in err.
 */
static int
files_walk(struct files *f, struct rec *r, int want_file, size_t *basep,
    uint64_t *hp, uint64_t *np, uint64_t *minp, char *err, size_t errlen)
{
	const struct name	*e;
	const char		*leaf, *slash;
	enum owner		 c, name;
	uint64_t		 h, n, min, best = UINT64_MAX, end;
	int64_t			 at;
	size_t			 base, leafoff;
	int			 dfd, found = -1;

	if (files_expand(f, r) == -1 || files_mark_of(f, r) == -1)
		goto nomem;
	base = f->name.len;
	slash = strrchr(f->name.p, '/');
	leafoff = slash != NULL ? (size_t)(slash + 1 - f->name.p) : 0;
	min = files_is_part(f->name.p, base) ? 1 : 0;
	h = files_hash(f, f->name.p, base);
	e = f->unique ? NULL : files_find(f, f->name.p, base, h);
	n = e != NULL ? e->next : f->forgot ? f->floor[h % FLOOR_LEN] : 0;
	if (n < min)
		n = min;
	if (files_dir_of(f, r, &dfd, &leaf, err, errlen) == -1)
		return -1;
	/* An earlier walk saw this URL's name: look there first. */
	if ((at = files_known_at(f, base)) >= 0 &&
	    files_suffix(f, base, (uint64_t)at) == 0 && !files_taken(f, 0) &&
	    files_claim(f, dfd, f->name.p + leafoff, &name) == OWN_US &&
	    (!want_file || name == OWN_US)) {
		n = (uint64_t)at;
		found = 1;
	}
	for (end = n + SUFFIX_MAX; n < end && found == -1; n++) {
		if (files_suffix(f, base, n) == -1) {
			found = -2;
			break;
		}
		/* Given out in this run, or known to be another URL's. */
		if (!f->unique && files_taken(f, 1))
			continue;
		c = files_claim(f, dfd, f->name.p + leafoff, &name);
		if (c == OWN_OTHER && files_known(f, base, n) == -1) {
			found = -2;
			break;
		}
		if (want_file && c == OWN_ABSENT)
			found = 0;
		else if (want_file && c == OWN_US)
			found = name == OWN_US;
		else if (c == OWN_US || (c == OWN_ABSENT && best == UINT64_MAX))
			found = 1;
		else if (c == OWN_ABSENT) {
			n = best;
			found = 1;
		} else if (c == OWN_NOBODY && best == UINT64_MAX && !f->forgot)
			best = n;
		if (found != -1)
			break;
	}
	if (dfd != f->dirfd)
		close(dfd);
	buf_clear(&r->save.file);
	if (found == -2)
		goto nomem;
	if (found == -1) {
		if (want_file)
			return 0;
		snprintf(err, errlen, "no name for '%s': %d suffixes belong to "
		    "other URLs", f->name.p, SUFFIX_MAX);
		return -1;
	}
	*basep = base;
	*hp = h;
	*np = n;
	*minp = min;
	return found;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
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
	uint64_t	h, n, min;
	size_t		base;
	int		rc;

	if ((rc = files_walk(f, r, want_file, &base, &h, &n, &min, err,
	    errlen)) != 1)
		return rc;
	if (files_suffix(f, base, n) == -1 || files_path(f, r) == -1 ||
	    files_take(f, base, h, n, min) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 1;
}

/* Why NAME may not be replaced in dfd, or NULL: a FIFO, a link... */
static const char *
files_target_why(int dfd, const char *leaf)
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
files_continues(struct files *f, struct rec *r, int fd,
    const struct stat *st)
{
	char	v[VALIDATOR_MAX];
	ssize_t	n;

	buf_clear(&r->save.validator);
	if ((r->attempts == 0 && !f->cont) || st->st_size <= 0 ||
	    files_owner_fd(f, fd) != OWN_US)
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
	if ((o = files_owner_fd(f, fd)) == OWN_US)
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
 * Open r->save.file's NAME.part into pt, truncated unless it continues, once
 * NAME is nothing the rename must not replace.  0, -2 when the name
 * turned out to be another URL's, or -1 with a reason in err.
 */
static int
files_create(struct files *f, struct rec *r, struct part *pt, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		 part[NAME_MAX + 1];
	const char	*leaf, *why;
	int		 fd = -1, dfd, e, fl;

	if ((dfd = files_subdir(f, r->save.file.p + f->prefix, &leaf)) == -1) {
		e = errno;
		snprintf(err, errlen, e == ELOOP || e == ENOTDIR ?
		    "refusing to write '%s': a directory on its way is a "
		    "symbolic link or not a directory" : "cannot open '%s': %s",
		    r->save.file.p, strerror(e));
		return -1;
	}
	snprintf(part, sizeof(part), "%s.part", leaf);
	/* Another process made it another URL's after it was chosen. */
	if (files_owner(f, dfd, leaf) == OWN_OTHER)
		fd = -2;
	else if ((why = files_target_why(dfd, leaf)) == NULL &&
	    (fd = files_part_fd(f, dfd, part, &st, &why)) >= 0 &&
	    files_owner(f, dfd, leaf) == OWN_OTHER) {
		/* NAME became another URL's as the part was made. */
		if (st.st_size == 0)
			(void)unlinkat(dfd, part, 0);
		close(fd);
		fd = -2;
	}
	if (fd == -2) {
		if (dfd != f->dirfd)
			close(dfd);
		return -2;
	}
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
		if (fd >= 0)
			close(fd);
		if (dfd != f->dirfd)
			close(dfd);
		snprintf(err, errlen, "refusing to write '%s': %s", r->save.file.p,
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
 * The name is chosen on the first attempt and kept in r->save.file for
 * retries.  Returns 0, or -1 with a reason in err.
 */
int
files_open(struct files *f, struct rec *r, struct part *pt, char *err,
    size_t errlen)
{
	int rc, tries;

	if (files_mark_of(f, r) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (tries = 0; tries < 16; tries++) {
		if (r->save.file.len == 0 && files_choose(f, r, 0, err, errlen) ==
		    -1)
			return -1;
		if ((rc = files_create(f, r, pt, err, errlen)) != -2)
			return rc;
		/* Another process took the name: it stays taken here. */
		buf_clear(&r->save.file);
		if (files_mark_of(f, r) == -1)
			break;
	}
	snprintf(err, errlen, "no name for the body of '%s': other processes "
	    "keep taking them", r->req.url.p);
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
	if (files_mark_of(f, r) == 0 &&
	    files_owner(f, pt->dirfd, pt->leaf) == OWN_OTHER) {
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
	if (files_mark_of(f, r) == -1)
		return -1;
	if (fstatat(f->dirfd, r->save.file.p + f->prefix, &st,
	    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1)
		return 0;
	return 1;
}
