/*
 * cli_def: what the option table's parts share, inside cli.  The table
 * and the parser (cli.c), the handlers and validators that rows name
 * (cli_opts.c), the defaults and cross-option rules (cli_finish.c), and
 * --help, --version, the habit hints and suggestions (cli_help.c) all read
 * one table of struct option_def; no other module includes this.
 */
#ifndef GATHER_CLI_DEF_H
#define GATHER_CLI_DEF_H

#include <stddef.h>
#include <stdint.h>

#include "gather/cli.h"

/* How an option takes its value, and so the C type of its field. */
enum arg_type {
	ARG_NONE,	/* no value; the handler does it all */
	ARG_FLAG,	/* no value; the int field is set to the row's val */
	ARG_INCR,	/* no value; the int field counts the times given */
	ARG_COUNT,	/* long, from the row's min to MAX_COUNT */
	ARG_SECONDS,	/* double, non-negative, fractions allowed */
	ARG_SIZE,	/* uint64_t, suffixes k, M, G */
	ARG_STRING,	/* const char *, pointing into argv */
	ARG_ENUM,	/* int, the index of the value in the row's names */
	ARG_OPTIONAL,	/* a value only as --name=value; the handler takes it */
	ARG_ALIAS	/* another name for the row called .same */
};

/* The headings of --help, in the order they are printed. */
enum opt_group {
	SCHED,
	REQUEST,
	OUTPUT,
	MESSAGES
};

/* Row flags that only the completions need: how often an option may come. */
#define OF_MANY		0x1	/* repeatable */
#define OF_ALONE	0x2	/* prints and exits: nothing else matters */

#define NOFIELD		((size_t)-1)
#define F(field)	offsetof(struct opts, field)

#define MAX_COUNT	100000
/* -d: what a body held in memory and copied per request may weigh. */
#define MAX_DATA	(64L * 1024 * 1024)
/* --help: the column of the help texts, and the longest line. */
#define HELP_COL	27
#define HELP_WIDTH	78
/* Habit warnings kept until -q is known, at most. */
#define MAX_WARNED	8

struct option_def;

/* One option as given on the command line, its value parsed by type. */
struct cli_arg {
	const struct option_def	*d;
	char			 shown[64];	/* "-c" or "--concurrency" */
	const char		*val;		/* NULL when none was given */
	long			 n;		/* ARG_COUNT */
	double			 secs;		/* ARG_SECONDS */
	uint64_t		 size;		/* ARG_SIZE */
	int			 idx;		/* ARG_ENUM */
	char			*err;
	size_t			 errlen;
	/* Habit warnings met while parsing, said once -q is known. */
	const struct habit_warning *warned[MAX_WARNED];
	const char		*warned_word[MAX_WARNED];
	size_t			 nwarned;
};

/* An option with real logic: it applies a, or says why it cannot. */
typedef enum cli_status (*opt_fn)(struct opts *, struct cli_arg *);

struct option_def {
	const char		*lname;
	char			 sname;
	enum arg_type		 arg;
	enum opt_group		 group;
	size_t			 off;	/* field in struct opts, or NOFIELD */
	const char		*meta;	/* the value's name in --help */
	const char		*help;	/* up to the first \n: what zsh shows */
	int			 val;	/* ARG_FLAG: what the field becomes */
	long			 min;	/* ARG_COUNT: the least allowed */
	const char *const	*names;	/* ARG_ENUM: the values; else hints */
	const char		*empty;	/* ARG_STRING: why "" is refused */
	opt_fn			 fn;	/* runs instead of storing the value */
	unsigned		 flags;	/* OF_* */
	const char		*same;	/* ARG_ALIAS: the canonical row's long */
};

/* The table, in --help order, and its length. */
extern const struct option_def	 cli_options[];
extern const size_t		 cli_noptions;
extern const char *const	 cli_group_names[];
/* --hash: bit i of opts.hashes is cli_hash_names[i]. */
extern const char *const	 cli_hash_names[];
extern const char *const	 cli_proto_names[];

/* cli.c: the row an alias stands for; whether a row was given. */
const struct option_def *cli_canon(const struct option_def *);
int		 cli_given(const struct opts *, const char *);

/* cli_opts.c: one-line reasons, and the handlers rows name. */
enum cli_status	 cli_usage(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));
enum cli_status	 cli_bad(const struct cli_arg *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
enum cli_status	 opt_data(struct opts *, struct cli_arg *);
enum cli_status	 opt_input(struct opts *, struct cli_arg *);
enum cli_status	 opt_expect(struct opts *, struct cli_arg *);
enum cli_status	 opt_earlier(struct opts *, struct cli_arg *);
enum cli_status	 opt_retry_on(struct opts *, struct cli_arg *);
enum cli_status	 opt_proto(struct opts *, struct cli_arg *);
enum cli_status	 opt_header(struct opts *, struct cli_arg *);
enum cli_status	 opt_request(struct opts *, struct cli_arg *);
enum cli_status	 opt_user_agent(struct opts *, struct cli_arg *);
enum cli_status	 opt_cacert(struct opts *, struct cli_arg *);
enum cli_status	 opt_resolve(struct opts *, struct cli_arg *);
enum cli_status	 opt_connect_to(struct opts *, struct cli_arg *);
enum cli_status	 opt_user(struct opts *, struct cli_arg *);
enum cli_status	 opt_bearer(struct opts *, struct cli_arg *);
enum cli_status	 opt_netrc_file(struct opts *, struct cli_arg *);
enum cli_status	 opt_cookie(struct opts *, struct cli_arg *);
enum cli_status	 opt_cookie_jar(struct opts *, struct cli_arg *);
enum cli_status	 opt_cert(struct opts *, struct cli_arg *);
enum cli_status	 opt_key(struct opts *, struct cli_arg *);
enum cli_status	 opt_rate(struct opts *, struct cli_arg *);
enum cli_status	 opt_per_host_rate(struct opts *, struct cli_arg *);
enum cli_status	 opt_shard(struct opts *, struct cli_arg *);
enum cli_status	 opt_hash(struct opts *, struct cli_arg *);
enum cli_status	 opt_stats(struct opts *, struct cli_arg *);
enum cli_status	 opt_location_trusted(struct opts *, struct cli_arg *);
enum cli_status	 opt_help(struct opts *, struct cli_arg *);
enum cli_status	 opt_version(struct opts *, struct cli_arg *);

/* cli_finish.c: the values before any option, and the rules after all. */
void		 cli_defaults(struct opts *);
enum cli_status	 cli_finish(struct opts *, char *, size_t);

/* cli_help.c: habits of other tools, and names like the one mistyped. */
void		 cli_habit_warn(struct cli_arg *, const char *, const char *);
void		 cli_habit_say(const struct opts *, const struct cli_arg *);
enum cli_status	 cli_habit(const struct cli_arg *, const char *, size_t);
enum cli_status	 cli_unknown(const struct cli_arg *, const char *, size_t);

#endif
