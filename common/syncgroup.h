/* syncgroup: group commit for durability work: one thread syncs for all who joined before it began. */
#ifndef GALLERY_SYNCGROUP_H
#define GALLERY_SYNCGROUP_H

/*
 * Makes target durable, e.g. fsync() of a folder's descriptor: 0, or an errno.
 * Called by one thread at a time, once per distinct target in a round.
 */
typedef int syncgroup_fn(void *ctx, int target);

struct syncgroup; /* shared by threads */

/* NULL when out of memory. fn and ctx must outlive the group. */
struct syncgroup *syncgroup_create(syncgroup_fn *fn, void *ctx);
/* No thread may be inside syncgroup_sync. */
void syncgroup_destroy(struct syncgroup *g);

/*
 * Returns once fn(ctx, target) has run in a round that began after this call,
 * so everything the caller did to target before calling is durable; 0, or the
 * errno that round's fn gave for target. The first caller to find no round
 * running runs the next one, for everyone waiting, while those who arrive
 * meanwhile wait for the round after: concurrent callers share one fn call
 * per target instead of one each.
 */
int syncgroup_sync(struct syncgroup *g, int target);

#endif
