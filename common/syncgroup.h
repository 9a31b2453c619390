/* syncgroup: group commit for durability work: per target, one thread syncs for all who came before it began. */
#ifndef GALLERY_SYNCGROUP_H
#define GALLERY_SYNCGROUP_H

/*
 * Makes target durable, e.g. fsync() of a folder: 0, or an errno. Called for
 * one target by one thread at a time; different targets' calls run at once.
 */
typedef int syncgroup_fn(void *ctx, unsigned target);

struct syncgroup; /* shared by threads */

/* Targets 0 .. targets - 1. NULL when out of memory. fn and ctx must outlive the group. */
struct syncgroup *syncgroup_create(syncgroup_fn *fn, void *ctx, unsigned targets);
/* No thread may be inside syncgroup_sync. */
void syncgroup_destroy(struct syncgroup *g);

/*
 * Returns once fn(ctx, target) has run in a round that began after this call,
 * so whatever the caller did to target before calling is durable; 0, or an
 * errno when that round or a later one of the target failed. The first caller
 * to find no round of the target running runs the next one, for everyone
 * waiting on it; those who come meanwhile wait for the round after. So
 * concurrent callers share one fn call per target instead of one each, and
 * a sync never waits for another target's.
 */
int syncgroup_sync(struct syncgroup *g, unsigned target);

#endif
