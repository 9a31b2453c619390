/* blob_backend: what a blob-store backend fills in; only core/blob*.c include it. */
#ifndef GALLERY_BLOB_BACKEND_H
#define GALLERY_BLOB_BACKEND_H

#include "core/blob.h"

struct blob_ops;

/* A backend's store and put structs start with these, so blob.c can dispatch. */
struct blob_store {
	const struct blob_ops *ops;
};

struct blob_put {
	const struct blob_ops *ops;
	bool finished; /* set by blob_put_finish, with sha256 */
	char sha256[BLOB_SHA256_HEX];
};

/* One table per backend; blob.c checks refs before it calls any of these. */
struct blob_ops {
	void (*close)(struct blob_store *bs);
	enum blob_status (*put_begin)(struct blob_store *bs, struct blob_put **out, char *err,
				      size_t errlen);
	enum blob_status (*put_write)(struct blob_put *p, const void *data, size_t len, char *err,
				      size_t errlen);
	uint64_t (*put_size)(const struct blob_put *p);
	/* called once; fills p->sha256 */
	enum blob_status (*put_finish)(struct blob_put *p, char *err, size_t errlen);
	/* p is finished, ref is filled in and valid; frees p */
	enum blob_status (*put_commit)(struct blob_put *p, const struct blob_ref *ref,
				       bool *created, char *err, size_t errlen);
	void (*put_abort)(struct blob_put *p);
	enum blob_status (*get)(struct blob_store *bs, const struct blob_ref *ref, struct buf *out,
				char *err, size_t errlen);
	enum blob_status (*open_fd)(struct blob_store *bs, const struct blob_ref *ref, int *fd,
				    uint64_t *size, char *err, size_t errlen);
	enum blob_status (*remove)(struct blob_store *bs, const struct blob_ref *ref, char *err,
				   size_t errlen);
	enum blob_status (*list)(struct blob_store *bs, enum blob_kind kind, unsigned min_age_s,
				 void (*fn)(void *ctx, const struct blob_ref *ref), void *ctx);
};

/* The folder of a kind ("images", "thumbs", "logs") and its name suffix ("", "-s", ...). */
const char *blob_kind_dir(enum blob_kind kind);
/* The extension of kinds that have one fixed; NULL for BLOB_IMAGE. */
const char *blob_kind_ext(enum blob_kind kind);
/* Whether ext is 1 to BLOB_EXT_MAX - 1 ASCII letters. */
bool blob_ext_valid(const char *ext);

#endif
