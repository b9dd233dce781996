/*
 * files: where -o puts bodies.  Names come from the --name template, are
 * made safe (no path can leave the directory) and unique within the run,
 * files are opened relative to the directory's descriptor, and a file
 * and its NAME.part carry the URL they were made for, so that no URL
 * names, continues, revalidates, replaces or removes another's.
 */
#ifndef GATHER_FILES_H
#define GATHER_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "gather/cli.h"
#include "gather/rec.h"

struct files;

/* One record's NAME.part while its transfer runs. */
struct part {
	int		 fd;		/* NAME.part, or -1 */
	int		 dirfd;		/* the directory it is in */
	const char	*leaf;		/* NAME inside it, in the record's file */
	uint64_t	 have;		/* bytes kept to continue from */
};

struct files	*files_new(const struct opts *, char *, size_t);
int		 files_open(struct files *, struct rec *, struct part *,
		    char *, size_t);
int		 files_existing(struct files *, struct rec *);
int		 files_claim(struct files *, struct rec *, char *, size_t);
void		 files_mark(struct part *, const char *, size_t);
int		 files_validator_ok(const char *, size_t);
int		 files_discard(struct part *);
int		 files_commit(struct files *, struct part *, struct rec *,
		    char *, size_t);
void		 files_close(struct files *, struct part *, struct rec *, int);
void		 files_free(struct files *);

#endif
