/*
 * files_name: the --name template made into a name for a record.  A
 * produced name never holds '/' (but between {path}'s segments), a NUL
 * or a control byte, never starts with a dot and is valid UTF-8, so with
 * openat() on the directory and O_NOFOLLOW nothing can be written
 * outside it, and the record's "file" names the file byte for byte.
 * Which suffix the name gets is files.c's choice; this file only says
 * what the template gives and writes NAME.N.
 */
#include "gather/text.h"
#include "gather/url.h"
#include "files_int.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

/* Append a URL part (or "") for a placeholder. */
static int
files_name_url(struct files *f, const struct rec *r, CURLUPart part,
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
 * (files_name_safe_path); a backslash is no separator here, but would be to
 * whoever reads the name elsewhere, so it becomes '_'.
 */
static int
files_name_path(struct files *f, const struct rec *r)
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
files_name_id(struct files *f, const struct rec *r)
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
files_name_safe(struct buf *name)
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
files_name_safe_path(struct files *f)
{
	size_t	i, start, end;

	if (f->nseps == 0) {
		files_name_safe(&f->name);
		return 0;
	}
	buf_clear(&f->out);
	for (i = 0, start = 0; i <= f->nseps; i++, start = end + 1) {
		end = i < f->nseps ? f->seps[i] : f->name.len;
		if (buf_set(&f->seg, f->name.p + start, end - start) == -1)
			return -1;
		files_name_safe(&f->seg);
		if ((i > 0 && buf_append(&f->out, "/", 1) == -1) ||
		    buf_append(&f->out, f->seg.len ? f->seg.p : "_",
		    f->seg.len ? f->seg.len : 1) == -1)
			return -1;
	}
	return buf_set(&f->name, f->out.p, f->out.len);
}

/* Expand the template for r into f->name, made safe. */
int
files_name_expand(struct files *f, const struct rec *r)
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
			rc = files_name_url(f, r, CURLUPART_HOST, 0);
			p += 6;
		} else if (strncmp(p, "{name}", 6) == 0) {
			rc = files_name_url(f, r, CURLUPART_PATH, 1);
			p += 6;
		} else if (strncmp(p, "{path}", 6) == 0) {
			rc = files_name_path(f, r);
			p += 6;
		} else if (strncmp(p, "{id}", 4) == 0) {
			/* A string id gives its text, other JSON compact. */
			if (r->req.has_id)
				rc = files_name_id(f, r);
			p += 4;
		} else
			rc = buf_append(&f->name, p++, 1);
	}
	if (rc == -1 || files_name_safe_path(f) == -1)
		return -1;
	if (f->name.len == 0 && buf_append(&f->name, "_", 1) == -1)
		return -1;
	f->name.p[f->name.len] = '\0';
	return 0;
}

/* r->save.file: DIR as given joined with f->name. */
int
files_name_file(struct files *f, struct rec *r)
{
	size_t dirlen = strlen(f->dir);

	if (buf_set(&r->save.file, f->dir, dirlen) == -1 ||
	    (dirlen > 0 && f->dir[dirlen - 1] != '/' &&
	    buf_append(&r->save.file, "/", 1) == -1) ||
	    buf_append(&r->save.file, f->name.p, f->name.len) == -1)
		return -1;
	return 0;
}

/* Whether the n bytes of s end in ".part". */
int
files_name_is_part(const char *s, size_t n)
{
	return n >= 5 && memcmp(s + n - 5, ".part", 5) == 0;
}

/* f->name as the template's name (base bytes) with suffix n (0: none). */
int
files_name_suffix(struct files *f, size_t base, uint64_t n)
{
	char num[24];

	f->name.len = base;
	f->name.p[base] = '\0';
	if (n == 0)
		return 0;
	snprintf(num, sizeof(num), ".%" PRIu64, n);
	return buf_append(&f->name, num, strlen(num));
}
