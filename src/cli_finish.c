/*
 * cli_finish: the values that hold before any option is read, and the
 * rules between options once all are: what -o changes in the defaults,
 * what --merge and -j exclude, what --json adds to -H.
 */
#include "gather/cli_def.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "gather/netrc.h"
#include "gather/policy.h"
#include "gather/text.h"

/* --name's default; another pointer means --name was given. */
static const char default_name[] = "{index}";

/* The values that hold unless an option says otherwise. */
void
cli_defaults(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->concurrency = 32;
	o->jobs = 1;
	o->timeout = 30;
	o->fail = -1;
	o->speed_time = -1;
	o->connect_timeout = 10;
	o->retry_delay = 0.5;
	o->retry_max_delay = 30;
	o->follow = 1;
	o->max_redirs = 10;
	strcpy(o->proto, "http,https");
	o->compressed = 1;
	o->body = BODY_AUTO;
	o->max_body = 16 * 1024 * 1024;
	o->name_template = default_name;
	o->progress = -1;
	policy_retry_default(&o->retry_on);
}

/* Whether a -H header names the header called name (with its colon). */
static int
cli_has_header(const struct opts *o, const char *name)
{
	const char	*h;
	size_t		 i;

	/* The list ends with a NULL (cli_parse leaves room for one). */
	for (i = 0; i < o->nheaders && (h = o->headers[i]) != NULL; i++)
		if (text_same_header(h, name))
			return 1;
	return 0;
}

/*
 * Whether one of the files is stdout opened by '>': the shell has emptied
 * it, and the earlier output is gone.  Appending ('>>') is fine, since the
 * file is read whole before anything is written.
 */
static int
cli_stdout_is(char *const *files, size_t n, const char *opt, char *err,
    size_t errlen)
{
	struct stat	out, st;
	size_t		i;
	int		fl;

	if (fstat(STDOUT_FILENO, &out) == -1 || !S_ISREG(out.st_mode) ||
	    ((fl = fcntl(STDOUT_FILENO, F_GETFL)) != -1 && (fl & O_APPEND)))
		return 0;
	for (i = 0; files != NULL && i < n; i++)
		if (files[i] != NULL && stat(files[i], &st) == 0 &&
		    st.st_dev == out.st_dev &&
		    st.st_ino == out.st_ino) {
			cli_usage(err, errlen, "%s %s: the file is also stdout, "
			    "which '>' has emptied; write to another file, or "
			    "append with '>>'", opt, files[i]);
			return 1;
		}
	return 0;
}

/* --merge: files to read, and none of the options that read input. */
static enum cli_status
cli_merge(const struct opts *o, char *err, size_t errlen)
{
	size_t i, dashes = 0;

	if (o->nurls == 0)
		return cli_usage(err, errlen, "--merge needs files to merge "
		    "(- for stdin)");
	for (i = 0; o->urls != NULL && i < o->nurls; i++)
		dashes += o->urls[i] != NULL && strcmp(o->urls[i], "-") == 0;
	if (dashes > 1)
		return cli_usage(err, errlen, "--merge: - (stdin) may be given "
		    "once");
	if (o->ninputs > 0 || o->resume != NULL || o->revalidate != NULL ||
	    o->shard_n != 0 || o->output_dir != NULL)
		return cli_usage(err, errlen, "--merge reads earlier outputs "
		    "and fetches nothing: -i, --shard, --resume, --revalidate "
		    "and -o do not apply");
	return CLI_RUN;
}

/* Settle what depends on several options, once all are read. */
enum cli_status
cli_finish(struct opts *o, char *err, size_t errlen)
{
	if (o->merge && cli_merge(o, err, errlen) != CLI_RUN)
		return CLI_USAGE;
	if (o->output_dir && !cli_given(o, "max-body"))
		o->max_body = 0;	/* files are not held in memory */
	if (o->cont && o->output_dir == NULL)
		return cli_usage(err, errlen, "--continue needs -o");
	if (o->name_template != default_name && o->output_dir == NULL)
		return cli_usage(err, errlen, "--name needs -o");
	if (cli_stdout_is(o->resumes, o->nresumes, "--resume", err, errlen) ||
	    cli_stdout_is(o->revalidates, o->nrevalidates, "--revalidate",
	    err, errlen))
		return CLI_USAGE;
	/*
	 * A big download may take longer than any fixed limit: under -o only
	 * a stall ends it, unless the user said otherwise.
	 */
	if (o->fail == -1)
		o->fail = o->output_dir != NULL;
	if (o->output_dir && !cli_given(o, "timeout"))
		o->timeout = 0;
	if (o->output_dir && !cli_given(o, "speed-limit"))
		o->speed_limit = 1;
	if (o->speed_time == -1)
		o->speed_time = 30;
	if (o->window == 0)
		o->window = o->concurrency * 4 < 256 ? 256 : o->concurrency * 4;
	if (o->window < o->concurrency)
		return cli_usage(err, errlen, "--window must be at least "
		    "--concurrency (%ld)", o->concurrency);
	if (o->quiet)
		o->progress = 0;
	if (o->user != NULL && o->bearer != NULL)
		return cli_usage(err, errlen, "--user and --oauth2-bearer "
		    "exclude each other");
	/* Read now: a file that cannot be read is a usage error. */
	if (o->netrc && (o->netrc_tab = netrc_load(o->netrc_file, err,
	    errlen)) == NULL)
		return CLI_USAGE;
	if (o->retry_all)
		policy_retry_all(&o->retry_on, o->fail);
	/* --json's headers, as curl's, unless -H gave its own. */
	if (o->json && !cli_has_header(o, "Content-Type:"))
		o->headers[o->nheaders++] =
		    (char *)(uintptr_t)"Content-Type: application/json";
	if (o->json && !cli_has_header(o, "Accept:"))
		o->headers[o->nheaders++] =
		    (char *)(uintptr_t)"Accept: application/json";
	return CLI_RUN;
}

