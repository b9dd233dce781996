/*
 * cli: the option table and its parser.  Every option is one row of a
 * sorted table naming its long and short form, the type of its value and
 * its id; typed values are checked here, before anything is fetched, so
 * that a usage error costs nothing and says one line.
 */
#include "gather/cli.h"
#include "gather/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <ev.h>

enum arg_type {
	ARG_NONE,
	ARG_INT,
	ARG_SECONDS,
	ARG_SIZE,
	ARG_STRING
};

enum opt_id {
	OPT_BODY,
	OPT_CONCURRENCY,
	OPT_CONNECT_TIMEOUT,
	OPT_HELP,
	OPT_INPUT,
	OPT_MAX_BODY,
	OPT_QUIET,
	OPT_TIMEOUT,
	OPT_VERBOSE,
	OPT_VERSION
};

struct option_def {
	const char	*lname;
	char		 sname;
	enum arg_type	 arg;
	enum opt_id	 id;
};

/* Sorted by long name; tests/docs.bats checks each row against the docs. */
static const struct option_def options[] = {
	{ "body",		0,   ARG_STRING,  OPT_BODY },
	{ "concurrency",	'c', ARG_INT,     OPT_CONCURRENCY },
	{ "connect-timeout",	0,   ARG_SECONDS, OPT_CONNECT_TIMEOUT },
	{ "help",		'h', ARG_NONE,    OPT_HELP },
	{ "input",		'i', ARG_STRING,  OPT_INPUT },
	{ "max-body",		0,   ARG_SIZE,    OPT_MAX_BODY },
	{ "quiet",		'q', ARG_NONE,    OPT_QUIET },
	{ "timeout",		't', ARG_SECONDS, OPT_TIMEOUT },
	{ "verbose",		'v', ARG_NONE,    OPT_VERBOSE },
	{ "version",		'V', ARG_NONE,    OPT_VERSION },
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

#define MAX_CONCURRENCY	100000

static const char *const body_names[] = {
	"auto", "text", "base64", "json", "none"
};

/* Print a one-line reason into err; always returns CLI_USAGE. */
static enum cli_status
cli_usage(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return CLI_USAGE;
}

static const struct option_def *
cli_find_long(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (strlen(options[i].lname) == len &&
		    strncmp(options[i].lname, name, len) == 0)
			return &options[i];
	return NULL;
}

static const struct option_def *
cli_find_short(char c)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (options[i].sname == c)
			return &options[i];
	return NULL;
}

/* Apply one option and its value (NULL for flags) to o. */
static enum cli_status
cli_apply(struct opts *o, const struct option_def *d, const char *shown,
    const char *val, char *err, size_t errlen)
{
	double		d_val = 0;
	uint64_t	size = 0;
	long		n = 0;
	size_t		i;

	switch (d->arg) {
	case ARG_INT:
		if (parse_count(val, 1, MAX_CONCURRENCY, &n) == -1)
			return cli_usage(err, errlen, "%s: expected a whole "
			    "number from 1 to %d, not '%s'", shown,
			    MAX_CONCURRENCY, val);
		break;
	case ARG_SECONDS:
		if (parse_seconds(val, &d_val) == -1)
			return cli_usage(err, errlen, "%s: expected seconds "
			    "(for example 2 or 0.5), not '%s'", shown, val);
		break;
	case ARG_SIZE:
		if (parse_size(val, &size) == -1)
			return cli_usage(err, errlen, "%s: expected a size "
			    "(for example 512k, 16M or 1G), not '%s'", shown,
			    val);
		break;
	default:
		break;
	}

	switch (d->id) {
	case OPT_BODY:
		for (i = 0; i < sizeof(body_names) / sizeof(body_names[0]); i++)
			if (strcmp(val, body_names[i]) == 0)
				break;
		if (i == sizeof(body_names) / sizeof(body_names[0]))
			return cli_usage(err, errlen, "%s: expected auto, text, "
			    "base64, json or none, not '%s'", shown, val);
		o->body = (enum body_mode)i;
		break;
	case OPT_CONCURRENCY:
		o->concurrency = n;
		break;
	case OPT_CONNECT_TIMEOUT:
		o->connect_timeout = d_val;
		break;
	case OPT_HELP:
		cli_help();
		return CLI_EXIT_OK;
	case OPT_INPUT:
		if (*val == '\0')
			return cli_usage(err, errlen, "%s: expected a file name "
			    "or -", shown);
		o->input = val;
		break;
	case OPT_MAX_BODY:
		o->max_body = size;
		break;
	case OPT_QUIET:
		o->quiet = 1;
		break;
	case OPT_TIMEOUT:
		o->timeout = d_val;
		break;
	case OPT_VERBOSE:
		o->verbose++;
		break;
	case OPT_VERSION:
		cli_version();
		return CLI_EXIT_OK;
	}
	return CLI_RUN;
}

/* Parse argv into o; options and URLs may come in any order. */
enum cli_status
cli_parse(struct opts *o, int argc, char **argv, char *err, size_t errlen)
{
	const struct option_def	*d;
	enum cli_status		 st;
	const char		*a, *eq, *val;
	char			 shown[64];
	int			 i, only_urls = 0;
	size_t			 j;

	memset(o, 0, sizeof(*o));
	o->concurrency = 32;
	o->timeout = 30;
	o->connect_timeout = 10;
	o->body = BODY_AUTO;
	o->max_body = 16 * 1024 * 1024;
	if ((o->urls = calloc((size_t)argc + 1, sizeof(char *))) == NULL)
		return cli_usage(err, errlen, "out of memory");

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (only_urls || a[0] != '-' || a[1] == '\0') {
			o->urls[o->nurls++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_urls = 1;
			continue;
		}
		if (a[1] == '-') {
			eq = strchr(a + 2, '=');
			d = cli_find_long(a + 2, eq ? (size_t)(eq - a - 2) :
			    strlen(a + 2));
			snprintf(shown, sizeof(shown), "--%.*s",
			    eq ? (int)(eq - a - 2) : 48, a + 2);
			if (d == NULL)
				return cli_usage(err, errlen, "unknown option "
				    "'%s' (see gather --help)", shown);
			if (d->arg == ARG_NONE) {
				if (eq)
					return cli_usage(err, errlen, "%s takes "
					    "no value", shown);
				val = NULL;
			} else if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return cli_usage(err, errlen, "%s needs a "
				    "value", shown);
			if ((st = cli_apply(o, d, shown, val, err, errlen)) !=
			    CLI_RUN)
				return st;
			continue;
		}
		/* A cluster of short options: -qv, -c8, -c 8. */
		for (j = 1; a[j] != '\0'; j++) {
			snprintf(shown, sizeof(shown), "-%c", a[j]);
			if ((d = cli_find_short(a[j])) == NULL)
				return cli_usage(err, errlen, "unknown option "
				    "'%s' (see gather --help)", shown);
			val = NULL;
			if (d->arg != ARG_NONE) {
				if (a[j + 1] != '\0')
					val = a + j + 1;
				else if (i + 1 < argc)
					val = argv[++i];
				else
					return cli_usage(err, errlen, "%s needs "
					    "a value", shown);
			}
			if ((st = cli_apply(o, d, shown, val, err, errlen)) !=
			    CLI_RUN)
				return st;
			if (val != NULL)
				break;
		}
	}

	o->window = o->concurrency * 4 < 64 ? 64 : o->concurrency * 4;
	return CLI_RUN;
}

void
cli_free(struct opts *o)
{
	free(o->urls);
	o->urls = NULL;
}

void
cli_help(void)
{
	fputs(
"Usage: gather [OPTIONS] URL...\n"
"       gather [OPTIONS] -i FILE\n"
"       producer | gather [OPTIONS]\n"
"\n"
"Fetch many URLs concurrently and write one JSON record per URL, in input\n"
"order, as soon as each is ready (JSON Lines on stdout).\n"
"\n"
"Input: one URL per line; blank lines and lines starting with # are\n"
"skipped; a line without a scheme gets http://.  URL arguments are read\n"
"first, then -i FILE; with neither, stdin is read.\n"
"\n"
"Scheduling:\n"
"  -c, --concurrency N      transfers in flight at most (default 32)\n"
"  -t, --timeout SEC        limit for each transfer, fractions allowed;\n"
"                           0 = none (default 30)\n"
"      --connect-timeout SEC\n"
"                           limit for connecting; 0 = libcurl's default\n"
"                           (default 10)\n"
"\n"
"Output:\n"
"      --body MODE          auto, text, base64, json or none (default auto)\n"
"                           auto: UTF-8 text as is, anything else base64;\n"
"                           text: invalid UTF-8 replaced by U+FFFD;\n"
"                           json: the parsed body embedded, else as auto\n"
"      --max-body SIZE      abort bodies larger than SIZE as too_large;\n"
"                           suffixes k, M, G; 0 = no limit (default 16M)\n"
"\n"
"Input and messages:\n"
"  -i, --input FILE         read URLs from FILE (- for stdin)\n"
"  -q, --quiet              no warnings on stderr\n"
"  -v, --verbose            one line per finished transfer on stderr\n"
"  -V, --version            print versions of gather and its libraries\n"
"  -h, --help               print this help\n"
"\n"
"Each record: index, url, ok, status, http_version, effective_url,\n"
"redirects, content_type, size, body, body_encoding, time {queue, dns,\n"
"connect, tls, ttfb, total}, attempts, error {kind, message, curl_code}.\n"
"\n"
"Exit status: 0 all records ok, 1 some record not ok, 2 usage error,\n"
"3 input not readable, 141 stdout closed by its reader.\n"
"See gather(1) for the whole story.\n", stdout);
}

void
cli_version(void)
{
	printf("gather %s (%s; libev %d.%d; cJSON %s)\n", GATHER_VERSION,
	    curl_version(), ev_version_major(), ev_version_minor(),
	    cJSON_Version());
}
