/*
 * merge: --merge FILE...  Earlier outputs, each ordered by index (shard
 * parts, a run and its --resume reruns), become one stream ordered by
 * index, the last file given winning where several have an index.
 */
#ifndef GATHER_MERGE_H
#define GATHER_MERGE_H

#include "gather/cli.h"
#include "gather/writer.h"

int	 merge_run(const struct opts *, struct writer *);

#endif
