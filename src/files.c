/*
 * files: -o DIR and --name TEMPLATE.  A produced name never holds '/', a
 * NUL or a control byte, and never starts with a dot, so with openat() on
 * the directory and O_NOFOLLOW nothing can be written outside it.  Names
 * are unique within the run: the default {index} is unique by construction;
 * any other template keeps a set of the names used so far and adds .1, .2.
 */
#include "gather/files.h"
#include "gather/xfer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

/* Room is left after this for a ".N" suffix within NAME_MAX. */
#define NAME_LEN	200

struct files {
	int		 dirfd;
	const char	*dir;		/* as given */
	const char	*tmpl;
	int		 unique;	/* the template has {index} */
	CURLU		*cu;
	char	       **set;		/* names used, open addressing */
	size_t		 setcap, setlen;
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

void
files_free(struct files *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->setcap; i++)
		free(f->set[i]);
	free(f->set);
	buf_free(&f->name);
	curl_url_cleanup(f->cu);
	close(f->dirfd);
	free(f);
}

static size_t
files_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* Add name to the set; 0 if it was new, 1 if taken, -1 on no memory. */
static int
files_claim(struct files *f, const char *name)
{
	size_t	 i, cap;
	char	**set;

	if (f->setlen * 2 >= f->setcap) {
		cap = f->setcap ? f->setcap * 2 : 64;
		if ((set = calloc(cap, sizeof(*set))) == NULL)
			return -1;
		for (i = 0; i < f->setcap; i++) {
			size_t j;
			if (f->set[i] == NULL)
				continue;
			for (j = files_hash(f->set[i]) & (cap - 1); set[j];
			    j = (j + 1) & (cap - 1))
				;
			set[j] = f->set[i];
		}
		free(f->set);
		f->set = set;
		f->setcap = cap;
	}
	for (i = files_hash(name) & (f->setcap - 1); f->set[i];
	    i = (i + 1) & (f->setcap - 1))
		if (strcmp(f->set[i], name) == 0)
			return 1;
	if ((f->set[i] = strdup(name)) == NULL)
		return -1;
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

	if (xfer_url_set(f->cu, r->url.p) != CURLUE_OK || curl_url_get(f->cu, part, &v, 0) != CURLUE_OK)
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

/* Expand the template for r into f->name, made safe. */
static int
files_expand(struct files *f, const struct rec *r)
{
	const char	*p;
	char		 num[32];
	size_t		 i;
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
	if (f->name.len > NAME_LEN)
		f->name.len = NAME_LEN;
	for (i = 0; i < f->name.len; i++) {
		unsigned char c = (unsigned char)f->name.p[i];
		if (c == '/' || c < 0x20 || c == 0x7f)
			f->name.p[i] = '_';
	}
	for (i = 0; i < f->name.len && f->name.p[i] == '.'; i++)
		f->name.p[i] = '_';
	if (f->name.len == 0 && buf_append(&f->name, "_", 1) == -1)
		return -1;
	f->name.p[f->name.len] = '\0';
	return 0;
}

/*
 * Open (truncating) the file for r's body.  The name is chosen on the
 * first attempt and kept in r->file for retries.  Returns a descriptor, or
 * -1 with a reason in err.
 */
int
files_open(struct files *f, struct rec *r, char *err, size_t errlen)
{
	const char	*name;
	size_t		 base, dirlen;
	int		 fd, taken, n;

	if (r->file.len == 0) {
		if (files_expand(f, r) == -1)
			goto nomem;
		base = f->name.len;
		for (n = 1; !f->unique; n++) {
			if ((taken = files_claim(f, f->name.p)) == -1)
				goto nomem;
			if (!taken)
				break;
			f->name.len = base;
			snprintf(err, errlen, ".%d", n);
			if (buf_append(&f->name, err, strlen(err)) == -1)
				goto nomem;
		}
		dirlen = strlen(f->dir);
		if (buf_set(&r->file, f->dir, dirlen) == -1 ||
		    (dirlen > 0 && f->dir[dirlen - 1] != '/' &&
		    buf_append(&r->file, "/", 1) == -1) ||
		    buf_append(&r->file, f->name.p, f->name.len) == -1)
			goto nomem;
	}
	name = strrchr(r->file.p, '/') + 1;
	fd = openat(f->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0666);
	if (fd == -1)
		snprintf(err, errlen, "cannot open '%s': %s", r->file.p,
		    strerror(errno));
	return fd;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}
