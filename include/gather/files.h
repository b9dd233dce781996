/*
 * files: where -o puts bodies.  Names come from the --name template, are
 * made safe (no path can leave the directory) and unique within the run,
 * and files are opened relative to the directory's descriptor.
 */
#ifndef GATHER_FILES_H
#define GATHER_FILES_H

#include <stddef.h>

#include "gather/cli.h"
#include "gather/rec.h"

struct files;

struct files	*files_new(const struct opts *, char *, size_t);
int		 files_open(struct files *, struct rec *, char *, size_t);
int		 files_existing(struct files *, struct rec *);
void		 files_free(struct files *);

#endif
