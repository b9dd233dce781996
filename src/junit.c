/*
 * junit: --junit FILE.  The report is written to FILE.XXXXXX (mkstemp,
 * beside FILE, so the rename stays on one file system and never follows
 * a symlink at FILE) as records finish: a test case at a time through a
 * small buffer, so memory does not grow with the run.  The testsuite
 * element comes first but its counts are known only at the end: a fixed
 * stretch is kept for it at the start of the file and written over by
 * junit_finish (XML allows the white space that pads it), then the file
 * is renamed over FILE.  Every string is XML-escaped, and what XML 1.0
 * cannot hold at all (control bytes, invalid UTF-8) becomes U+FFFD.
 */
#include "gather/junit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "gather/buf.h"
#include "gather/text.h"

/* Bytes kept at the start of the file for the XML declaration and header. */
#define JUNIT_HEAD	320

/* Write what is buffered past this much. */
#define JUNIT_CHUNK	(64 * 1024)

struct junit {
	char		*path;		/* FILE */
	char		*tmp;		/* FILE.XXXXXX while the run goes on */
	int		 fd;
	int		 failed;	/* errno of the first failed write, or 0 */
	double		 start;		/* when the run started (epoch seconds) */
	char		 stamp[32];	/* ISO 8601, UTC */
	unsigned long long tests, failures;
	struct buf	 out;		/* bytes not yet written */
	struct buf	 tmpbuf;	/* invalid UTF-8 repaired */
};

/* Write all of b to j's file and clear it; remember the first failure. */
static void
junit_flush(struct junit *j)
{
	const char	*p = j->out.p;
	size_t		 n = j->out.len;
	ssize_t		 k;

	while (!j->failed && n > 0) {
		if ((k = write(j->fd, p, n)) == -1) {
			if (errno != EINTR)
				j->failed = errno;
			continue;
		}
		p += k;
		n -= (size_t)k;
	}
	buf_clear(&j->out);
	buf_trim_capacity(&j->out, 4 * JUNIT_CHUNK);
}

/*
 * A report to be renamed to path at the end; NULL with a one-line reason
 * in err when its temp file cannot be made.
 */
struct junit *
junit_open(const char *path, double now, char *err, size_t errlen)
{
	struct junit	*j;
	struct tm	 tm;
	time_t		 t = (time_t)now;
	char		 pad[JUNIT_HEAD];
	mode_t		 mask;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->path = strdup(path)) == NULL ||
	    (j->tmp = malloc(strlen(path) + 8)) == NULL) {
		snprintf(err, errlen, "out of memory");
		junit_free(j);
		return NULL;
	}
	j->fd = -1;
	j->start = now;
	sprintf(j->tmp, "%s.XXXXXX", path);
	if ((j->fd = mkstemp(j->tmp)) == -1) {
		snprintf(err, errlen, "--junit: cannot create a file beside "
		    "'%s': %s", path, strerror(errno));
		free(j->tmp);
		j->tmp = NULL;
		junit_free(j);
		return NULL;
	}
	/* mkstemp makes 0600; a report is for others to read, as umask says. */
	mask = umask(0);
	umask(mask);
	(void)fchmod(j->fd, 0666 & ~mask);
	gmtime_r(&t, &tm);
	strftime(j->stamp, sizeof(j->stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	memset(pad, ' ', sizeof(pad));
	pad[sizeof(pad) - 1] = '\n';
	/* Without memory to buffer it the stretch is written at once. */
	if (buf_append(&j->out, pad, sizeof(pad)) == -1 &&
	    write(j->fd, pad, sizeof(pad)) != (ssize_t)sizeof(pad))
		j->failed = errno ? errno : EIO;
	return j;
}

/* Append the n bytes at s to j->out, XML-escaped for text or attributes. */
static int
junit_text(struct junit *j, const char *s, size_t n)
{
	const unsigned char	*u = (const unsigned char *)s;
	const char		*rep;
	size_t			 i, run;

	if (!utf8_valid(u, n)) {
		buf_clear(&j->tmpbuf);
		if (utf8_repair(&j->tmpbuf, u, n) == -1)
			return -1;
		u = (const unsigned char *)j->tmpbuf.p;
		n = j->tmpbuf.len;
	}
	for (i = 0; i < n; i = run + 1) {
		for (run = i; run < n && (u[run] >= 0x20 || u[run] == '\t') &&
		    u[run] != '&' && u[run] != '<' && u[run] != '>' &&
		    u[run] != '"' && u[run] != '\'' && u[run] != 0x7f; run++)
			;
		if (buf_append(&j->out, u + i, run - i) == -1)
			return -1;
		if (run == n)
			break;
		switch (u[run]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		case '\n': rep = "&#10;"; break;
		case '\r': rep = "&#13;"; break;
		case 0x7f: rep = "&#127;"; break;
		default: rep = "\xef\xbf\xbd"; break;	/* not allowed in XML 1.0 */
		}
		if (buf_append(&j->out, rep, strlen(rep)) == -1)
			return -1;
	}
	return 0;
}

/* Append the C string s as it is (markup of ours). */
static int
junit_raw(struct junit *j, const char *s)
{
	return buf_append(&j->out, s, strlen(s));
}

/* Append the test case for the record oc to j's buffer; -1 out of memory. */
static int
junit_case(struct junit *j, const struct outcome *oc)
{
	char num[128];
	int  rc;

	snprintf(num, sizeof(num), "\" classname=\"gather\" time=\"%.6f\"",
	    oc->time > 0 ? oc->time : 0.0);
	rc = junit_raw(j, "  <testcase name=\"") == -1 ||
	    junit_text(j, oc->url, oc->url_len) == -1 || junit_raw(j, num) == -1;
	if (!rc && oc->ok)
		rc = junit_raw(j, "/>\n") == -1;
	else if (!rc) {
		snprintf(num, sizeof(num), "index %llu, status %ld, attempts %ld",
		    (unsigned long long)oc->index, oc->status, oc->attempts);
		rc = junit_raw(j, ">\n    <failure type=\"") == -1 ||
		    junit_text(j, oc->kind, strlen(oc->kind)) == -1 ||
		    junit_raw(j, "\" message=\"") == -1 ||
		    junit_text(j, oc->msg, strlen(oc->msg)) == -1 ||
		    junit_raw(j, "\">") == -1 || junit_raw(j, num) == -1 ||
		    junit_raw(j, "</failure>\n  </testcase>\n") == -1;
	}
	return rc ? -1 : 0;
}

/*
 * One test case for the record oc, written through j's buffer; when
 * memory runs out, once more after writing what the buffer holds.
 */
int
junit_add(struct junit *j, const struct outcome *oc)
{
	size_t had;

	if (j == NULL || j->failed)
		return 0;
	had = j->out.len;
	if (junit_case(j, oc) == -1) {
		j->out.len = had;
		junit_flush(j);
		if (!j->failed && junit_case(j, oc) == -1)
			j->failed = ENOMEM;
		if (j->failed)
			return -1;
	}
	j->tests++;
	j->failures += !oc->ok;
	if (j->out.len >= JUNIT_CHUNK)
		junit_flush(j);
	return j->failed ? -1 : 0;
}

/* The header, padded to JUNIT_HEAD bytes, over the start of the file. */
static void
junit_head(struct junit *j, double now)
{
	char	head[JUNIT_HEAD];
	int	n;

	memset(head, ' ', sizeof(head));
	n = snprintf(head, sizeof(head), "<?xml version=\"1.0\" "
	    "encoding=\"UTF-8\"?>\n<testsuites tests=\"%llu\" failures=\"%llu\" "
	    "errors=\"0\">\n<testsuite name=\"gather\" tests=\"%llu\" "
	    "failures=\"%llu\" errors=\"0\" skipped=\"0\" time=\"%.6f\" "
	    "timestamp=\"%s\"", j->tests, j->failures, j->tests, j->failures,
	    now > j->start ? now - j->start : 0.0, j->stamp);
	if (n < 0 || (size_t)n >= sizeof(head) - 3) {
		j->failed = EOVERFLOW;
		return;
	}
	/* The padding sits inside the tag, before its closing bracket. */
	head[n] = ' ';
	head[sizeof(head) - 2] = '>';
	head[sizeof(head) - 1] = '\n';
	if (pwrite(j->fd, head, sizeof(head), 0) != (ssize_t)sizeof(head))
		j->failed = errno ? errno : EIO;
}

/*
 * Close the suite, fill in its counts and rename the file to FILE: 0, or
 * -1 with a one-line reason in err (the temp file is removed then).
 */
int
junit_finish(struct junit *j, double now, char *err, size_t errlen)
{
	if (j == NULL)
		return 0;
	if (!j->failed && junit_raw(j, "</testsuite>\n</testsuites>\n") == -1) {
		junit_flush(j);
		if (!j->failed && junit_raw(j, "</testsuite>\n"
		    "</testsuites>\n") == -1)
			j->failed = ENOMEM;
	}
	junit_flush(j);
	if (!j->failed)
		junit_head(j, now);
	if (!j->failed && fsync(j->fd) == -1 && errno != EINVAL)
		j->failed = errno;
	if (close(j->fd) == -1 && !j->failed)
		j->failed = errno;
	j->fd = -1;
	if (!j->failed && rename(j->tmp, j->path) == -1)
		j->failed = errno;
	if (j->failed == ENOMEM)
		snprintf(err, errlen, "out of memory");
	else if (j->failed)
		snprintf(err, errlen, "--junit: cannot write '%s': %s", j->path,
		    strerror(j->failed));
	if (j->failed) {
		unlink(j->tmp);
		return -1;
	}
	free(j->tmp);
	j->tmp = NULL;
	return 0;
}

/* Free j; a report never finished leaves no temp file behind. */
void
junit_free(struct junit *j)
{
	if (j == NULL)
		return;
	if (j->fd != -1)
		close(j->fd);
	if (j->tmp != NULL && j->fd != -1)
		unlink(j->tmp);
	free(j->tmp);
	free(j->path);
	buf_free(&j->out);
	buf_free(&j->tmpbuf);
	free(j);
}
