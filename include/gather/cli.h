/*
 * cli: the option table, parsing and validation of the command line, and
 * the help and version texts.  Parsing never fetches and never exits: it
 * returns a status and a one-line reason for main to print.
 */
#ifndef GATHER_CLI_H
#define GATHER_CLI_H

#include <stddef.h>
#include <stdint.h>

#define GATHER_VERSION	"0.1.0"

enum body_mode {
	BODY_AUTO,
	BODY_TEXT,
	BODY_BASE64,
	BODY_JSON,
	BODY_NONE
};

/* Everything the command line decides; read-only once parsing is done. */
struct opts {
	long		 concurrency;
	long		 window;	/* reorder window, in records */
	double		 timeout;	/* seconds per attempt, 0 = none */
	double		 connect_timeout;
	enum body_mode	 body;
	uint64_t	 max_body;	/* 0 = no limit */
	const char	*input;		/* -i FILE, "-" = stdin, NULL = none */
	char	       **urls;		/* URL arguments, in order */
	size_t		 nurls;
	int		 quiet;
	int		 verbose;
};

enum cli_status {
	CLI_RUN,	/* go on and fetch */
	CLI_EXIT_OK,	/* --help or --version was printed */
	CLI_USAGE	/* bad command line; reason in err */
};

enum cli_status	 cli_parse(struct opts *, int, char **, char *, size_t);
void		 cli_free(struct opts *);
void		 cli_help(void);
void		 cli_version(void);

#endif
