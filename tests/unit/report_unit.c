/*
 * Unit tests for the test reports as a module holding only record lines
 * (--merge) uses them: writer_emit_outcome frames TAP with numbers, YAML
 * and the plan, and junit_add / junit_finish make the JUnit file, both
 * from struct outcome alone, with every string escaped.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gather/junit.h"
#include "gather/writer.h"

#define CHECK_NAME "report_unit"
#include "check.h"

/* The whole of file path, NUL-terminated, into buf of size n. */
static size_t
slurp(const char *path, char *buf, size_t n)
{
	ssize_t	k;
	int	fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return 0;
	k = read(fd, buf, n - 1);
	close(fd);
	buf[k > 0 ? k : 0] = '\0';
	return k > 0 ? (size_t)k : 0;
}

static const struct outcome ok_case = {
	.index = 0, .url = "http://h/a#b\\c", .url_len = 14, .ok = 1,
	.status = 200, .attempts = 1, .time = 0.25
};
static const struct outcome bad_case = {
	.index = 7, .url = "http://h/x?a=1&b=<2>\"\x01", .url_len = 22,
	.ok = 0, .kind = "expectation", .msg = "expected .a == \"q\", got false",
	.status = 0, .attempts = 3, .time = 0.5
};

/* TAP: the version, numbered cases, escapes, the YAML block, the plan. */
static void
test_tap(const char *dir)
{
	char		 path[512], got[4096];
	struct writer	*w;
	int		 fd;

	snprintf(path, sizeof(path), "%s/out.tap", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd != -1);
	w = writer_new(FORMAT_TAP, fd);
	CHECK(writer_emit_outcome(w, &ok_case) == 0);
	CHECK(writer_emit_outcome(w, &bad_case) == 0);
	CHECK(writer_finish(w) == 0);
	writer_free(w);
	close(fd);
	slurp(path, got, sizeof(got));
	CHECK(strcmp(got, "TAP version 13\n"
	    "ok 1 - http://h/a\\#b\\\\c\n"
	    "not ok 2 - http://h/x?a=1&b=<2>\"\\x01\n"
	    "  ---\n"
	    "  index: 7\n"
	    "  url: \"http://h/x?a=1&b=<2>\\\"\\x01\"\n"
	    "  kind: \"expectation\"\n"
	    "  status: ~\n"
	    "  message: \"expected .a == \\\"q\\\", got false\"\n"
	    "  attempts: 3\n"
	    "  ...\n"
	    "1..2\n") == 0);
}

/* JUnit: counts in the header, escaped names and failures, renamed. */
static void
test_junit(const char *dir)
{
	char		 path[512], err[256], got[8192];
	struct junit	*j;

	snprintf(path, sizeof(path), "%s/r.xml", dir);
	CHECK((j = junit_open(path, 1700000000.0, err, sizeof(err))) != NULL);
	CHECK(junit_add(j, &ok_case) == 0);
	CHECK(junit_add(j, &bad_case) == 0);
	CHECK(access(path, F_OK) == -1);	/* not before the end */
	CHECK(junit_finish(j, 1700000001.5, err, sizeof(err)) == 0);
	junit_free(j);
	CHECK(slurp(path, got, sizeof(got)) > 0);
	CHECK(strncmp(got, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39) ==
	    0);
	CHECK(strstr(got, "<testsuite name=\"gather\" tests=\"2\" failures=\"1\" "
	    "errors=\"0\" skipped=\"0\" time=\"1.500000\" "
	    "timestamp=\"2023-11-14T22:13:20\"") != NULL);
	CHECK(strstr(got, "<testcase name=\"http://h/a#b\\c\" classname=\"gather\" "
	    "time=\"0.250000\"/>") != NULL);
	CHECK(strstr(got, "<testcase name=\"http://h/x?a=1&amp;b=&lt;2&gt;&quot;"
	    "\xef\xbf\xbd\" classname=\"gather\" time=\"0.500000\">") != NULL);
	CHECK(strstr(got, "<failure type=\"expectation\" message=\"expected .a "
	    "== &quot;q&quot;, got false\">index 7, status 0, attempts 3"
	    "</failure>") != NULL);
	CHECK(strstr(got, "</testsuite>\n</testsuites>\n") != NULL);
	/* A report that cannot be made says so. */
	snprintf(path, sizeof(path), "%s/none/r.xml", dir);
	CHECK(junit_open(path, 0, err, sizeof(err)) == NULL);
	CHECK(strncmp(err, "--junit: cannot create", 22) == 0);
}

int
main(void)
{
	char	dir[] = "/tmp/report_unit.XXXXXX";
	char	cmd[64];

	if (mkdtemp(dir) == NULL)
		return 1;
	test_tap(dir);
	test_junit(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return check_report();
}
