/*
 * cli_help: what the command line says back to a person: --help from the
 * option table, --version, the habits of curl, wget and GNU parallel that
 * gather does not take, and the option a mistyped name most likely meant.
 */
#include "gather/cli_def.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <ev.h>

#include "gather/msg.h"

/*
 * Habits from curl, wget and GNU parallel that gather does not take: each
 * an option name as typed, whose tool it comes from, and gather's way.
 * Kept apart from the option table: these are never parsed, only named.
 */
struct habit {
	const char	*name;		/* "-Z" or "--parallel" */
	const char	*origin;	/* what it means where it comes from */
	const char	*advice;	/* gather's way, one clause */
};

static const struct habit habits[] = {
	{ "-Z", "curl's --parallel", "transfers always run in parallel "
	    "here; -c N sets how many at once" },
	{ "--parallel", "curl's -Z", "transfers always run in parallel here; "
	    "-c N sets how many at once" },
	{ "--parallel-max", "curl's", "use -c N, transfers in flight at most" },
	{ "-P", "GNU parallel's and xargs' jobs", "use -c N, transfers in "
	    "flight at most" },
	{ "--max-threads", "wget2's", "use -c N, transfers in flight at most" },
	{ "-O", "curl's --remote-name", "use -o DIR (each body a file in "
	    "DIR; --name '{name}' names it after the URL)" },
	{ "--directory-prefix", "wget's -P", "use -o DIR" },
	{ "-w", "curl's --write-out", "each record is JSON already: pick "
	    "fields with jq, as gather URL | jq -r '[.status, .time.total] "
	    "| @tsv'" },
	{ "--write-out", "curl's -w", "each record is JSON already: pick "
	    "fields with jq, as gather URL | jq -r '[.status, .time.total] "
	    "| @tsv'" },
	{ "--head", "curl's -I", "use -X HEAD" },
	{ "--tries", "wget's -t", "use --retries N (-t is a timeout here)" },
	{ "--keep-order", "GNU parallel's -k", "input order is the default "
	    "here (-u writes records as they finish)" },
	{ "--input-file", "wget's -i", "use -i FILE" },
};
#define NHABITS (sizeof(habits) / sizeof(habits[0]))

static int cli_looks_user(const char *);
static int cli_looks_file(const char *);
static int cli_looks_tries(const char *);

/*
 * Values that mean something else in curl or wget: a warning, and the run
 * goes on (-q silences it).  word is the option's value, or for a flag the
 * word after it.
 */
struct habit_warning {
	const char	*shown;		/* the option as typed */
	int		(*looks)(const char *);
	const char	*before;	/* the message up to the word */
	const char	*after;		/* after it; NULL: the word is not shown */
};

static const struct habit_warning habit_warnings[] = {
	{ "-u", cli_looks_user, "-u is --unordered here, so the word after "
	    "it is fetched as a URL; for basic authentication use --user "
	    "USER:PASSWORD", NULL },
	{ "-o", cli_looks_file, "-o is a directory here: '", "' is made a "
	    "directory with a file per record; for one output file write "
	    "gather URL > FILE" },
	{ "-t", cli_looks_tries, "-t ", " is a timeout in seconds per attempt "
	    "here (wget's -t is tries: use --retries N)" },
};
#define NWARNINGS (sizeof(habit_warnings) / sizeof(habit_warnings[0]))

/* -u's next word: USER:PASSWORD rather than a URL or host:port. */
static int
cli_looks_user(const char *w)
{
	const char *colon;

	if (w == NULL || w[0] == '-' || strchr(w, '/') != NULL ||
	    (colon = strchr(w, ':')) == NULL || colon == w ||
	    colon[1] == '\0')
		return 0;
	/* host:8080 is an address; ann:secret is not. */
	return strspn(colon + 1, "0123456789") != strlen(colon + 1);
}

/* -o's value: a file name such as out.json rather than a directory. */
static int
cli_looks_file(const char *w)
{
	static const char *const ext[] = {
		".json", ".jsonl", ".txt", ".html", ".htm", ".csv", ".xml", NULL
	};
	size_t i, n = strlen(w), e;

	for (i = 0; ext[i] != NULL; i++)
		if (n > (e = strlen(ext[i])) &&
		    strcasecmp(w + n - e, ext[i]) == 0)
			return 1;
	return 0;
}

/* -t's value: a small whole number, as wget's tries are written. */
static int
cli_looks_tries(const char *w)
{
	return w[0] >= '1' && w[0] <= '3' && w[1] == '\0';
}

/* Keep the warning for shown whose word looks like another tool's habit. */
void
cli_habit_warn(struct cli_arg *a, const char *shown, const char *word)
{
	size_t i;

	for (i = 0; i < NWARNINGS; i++)
		if (strcmp(habit_warnings[i].shown, shown) == 0 &&
		    word != NULL && habit_warnings[i].looks(word) &&
		    a->nwarned < MAX_WARNED) {
			a->warned[a->nwarned] = &habit_warnings[i];
			a->warned_word[a->nwarned++] = word;
		}
}

/* Say the kept warnings, one line each, unless -q. */
void
cli_habit_say(const struct opts *o, const struct cli_arg *a)
{
	size_t i;

	for (i = 0; i < a->nwarned && !o->quiet; i++)
		msg_warn("%s%s%s", a->warned[i]->before,
		    a->warned[i]->after != NULL ? a->warned_word[i] : "",
		    a->warned[i]->after != NULL ? a->warned[i]->after : "");
}

/*
 * The habit an unknown option name is (name, len: as typed, up to any
 * '='): a usage error naming gather's way; CLI_RUN when it is none.
 */
enum cli_status
cli_habit(const struct cli_arg *a, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NHABITS; i++)
		if (strlen(habits[i].name) == len &&
		    strncmp(habits[i].name, name, len) == 0)
			return cli_usage(a->err, a->errlen, "%s is %s: %s",
			    habits[i].name, habits[i].origin, habits[i].advice);
	return CLI_RUN;
}

/* Edits (a letter put in, taken out or changed) that turn a into b. */
static size_t
cli_distance(const char *a, size_t an, const char *b)
{
	size_t	row[64], bn = strlen(b), i, j, diag, up, best;

	if (an >= 64 || bn >= 64)
		return SIZE_MAX;
	for (j = 0; j <= bn; j++)
		row[j] = j;
	for (i = 1; i <= an; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= bn; j++) {
			up = row[j];
			best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[bn];
}

/*
 * The option a mistyped or shortened name most likely meant: the only one
 * it starts, else the nearest within one edit per three letters; NULL.
 */
static const char *
cli_nearest(const char *name, size_t len)
{
	const char	*pick = NULL;
	size_t		 i, d, best = SIZE_MAX, prefixed = 0;

	for (i = 0; i < cli_noptions; i++)
		if (len > 0 && strncmp(cli_options[i].lname, name, len) == 0) {
			pick = cli_options[i].lname;
			prefixed++;
		}
	if (prefixed == 1)
		return pick;
	pick = NULL;
	for (i = 0; i < cli_noptions; i++)
		if ((d = cli_distance(name, len, cli_options[i].lname)) < best) {
			best = d;
			pick = cli_options[i].lname;
		}
	return best * 3 <= len ? pick : NULL;
}

/* An option name that no row has; name, len: a long one, to suggest for. */
enum cli_status
cli_unknown(const struct cli_arg *a, const char *name, size_t len)
{
	const char *near = name != NULL ? cli_nearest(name, len) : NULL;

	if (near != NULL)
		return cli_usage(a->err, a->errlen, "unknown option '%s': did "
		    "you mean --%s? (see gather --help)", a->shown, near);
	return cli_usage(a->err, a->errlen, "unknown option '%s' (see gather "
	    "--help)", a->shown);
}

/* Print help text s from column col on, wrapped under HELP_COL. */
static void
cli_help_text(const char *s, int col)
{
	size_t	len;
	int	used = 0;

	printf("%*s", HELP_COL - col, "");
	while (*s != '\0') {
		if (*s == ' ' || *s == '\n') {
			if (*s++ == '\n' && used > 0) {
				printf("\n%*s", HELP_COL, "");
				used = 0;
			}
			continue;
		}
		len = strcspn(s, " \n");
		if (used > 0 && HELP_COL + used + 1 + (int)len > HELP_WIDTH) {
			printf("\n%*s", HELP_COL, "");
			used = 0;
		}
		printf("%s%.*s", used > 0 ? " " : "", (int)len, s);
		used += (used > 0) + (int)len;
		s += len;
	}
	putchar('\n');
}

/* Print one row of the option list: its names, its value, its help. */
static void
cli_help_option(const struct option_def *row)
{
	const struct option_def	*d = cli_canon(row);
	char			 head[64];
	int			 n;

	if (row->sname)
		n = snprintf(head, sizeof(head), "  -%c, --%s", row->sname,
		    row->lname);
	else
		n = snprintf(head, sizeof(head), "      --%s", row->lname);
	if (d->meta != NULL && n > 0 && (size_t)n < sizeof(head))
		n += snprintf(head + n, sizeof(head) - (size_t)n, "%s%s",
		    d->arg == ARG_OPTIONAL ? "" : " ", d->meta);
	fputs(head, stdout);
	/* A name too long for the column puts its text on the next line. */
	if (n > HELP_COL - 2) {
		putchar('\n');
		n = 0;
	}
	cli_help_text(row->help, n);
}

/* Print --help: usage, then the table under its headings, then the rest. */
void
cli_help(void)
{
	size_t i;

	fputs(
"Usage: gather [OPTIONS] URL...\n"
"       gather [OPTIONS] -i FILE\n"
"       producer | gather [OPTIONS]\n"
"\n"
"Fetch many URLs concurrently and write one JSON record per URL, in input\n"
"order, as soon as each is ready (JSON Lines on stdout).\n"
"\n"
"Input: one record per line; blank lines and lines starting with # are\n"
"skipped; a line without a scheme gets http://.  A line starting with {\n"
"is a request object: {\"url\": ..., \"method\": ..., \"headers\": {...},\n"
"\"body\": ..., \"timeout\": SEC, \"id\": ANY, \"sha256\": HEX, \"user\":\n"
"\"U:P\", \"bearer\": TOKEN}; its fields override the options.  URL\n"
"arguments come first (- reads stdin there), then each -i FILE in order;\n"
"with neither, stdin.\n",
	    stdout);
	for (i = 0; i < cli_noptions; i++) {
		if (i == 0 || cli_options[i].group != cli_options[i - 1].group)
			printf("\n%s:\n", cli_group_names[cli_options[i].group]);
		cli_help_option(&cli_options[i]);
	}
	fputs(
"\n"
"Each record: index, url, id, ok, status, not_modified, http_version,\n"
"effective_url, redirects, content_type, etag, last_modified, size, body,\n"
"body_encoding, headers, file, hash, remote_ip, remote_port,\n"
"connection_reused, time {queue, dns, connect, tls, ttfb, total},\n"
"attempts, error {kind, message, curl_code}.\n"
"\n"
"Exit status: 0 all records ok, 1 some record not ok (or out of memory),\n"
"2 usage error, 3 input not readable, 130/143 SIGINT/SIGTERM,\n"
"141 stdout closed.\n"
"See gather(1) for the whole story.\n", stdout);
}

/* Print the versions of gather and of the libraries it runs on. */
void
cli_version(void)
{
	printf("gather %s (%s; libev %d.%d; cJSON %s)\n", GATHER_VERSION,
	    curl_version(), ev_version_major(), ev_version_minor(),
	    cJSON_Version());
}

