/* orphans: removal of image files (and their thumbnails) no row names, at once or, in a database outage, later. */
#ifndef GALLERY_ORPHANS_H
#define GALLERY_ORPHANS_H

#include "core/blob.h"

struct catalog;
struct stripes;
struct orphans;

/* All three are the caller's and must outlive it. */
struct orphans *orphans_create(struct catalog *catalog, struct blob_store *blobs,
			       struct stripes *stripes);
void orphans_destroy(struct orphans *o);
/*
 * Removes the image file ref when no row names it, and the thumbnails of its
 * content with it. When the database cannot tell, the file is kept and
 * remembered, to be checked after a later commit.
 */
void orphans_remove_if_unused(struct orphans *o, const struct blob_ref *ref);
/* Checks the remembered files again; a commit has just shown the database answers. */
void orphans_recheck(struct orphans *o);
/*
 * Removes image files that no row names, left by a crash between file and
 * row, and thumbnails of contents that no row has.
 */
void orphans_sweep(struct orphans *o);

#endif
