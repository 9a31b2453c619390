/* blob: the store of image files and derived files, by SHA-256 and kind; backends behind it. */
#ifndef GALLERY_BLOB_H
#define GALLERY_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/*
 * What a file is. Each kind has its own folder and name pattern; on disk:
 *   BLOB_IMAGE    DATA_DIR/images/ab/<sha256>.<ext>   (ext from the image type)
 *   BLOB_THUMB_S  DATA_DIR/thumbs/ab/<sha256>-s.webp  (sha256 of the original image)
 *   BLOB_THUMB_M  DATA_DIR/thumbs/ab/<sha256>-m.webp
 *   BLOB_LOG      DATA_DIR/logs/ab/<sha256>.txt
 */
enum blob_kind { BLOB_IMAGE, BLOB_THUMB_S, BLOB_THUMB_M, BLOB_LOG, BLOB_KIND_COUNT };

enum blob_status {
	BLOB_OK,
	BLOB_NOT_FOUND, /* no such file */
	BLOB_DISK_FULL, /* no space (or quota) left: the caller may say so to the user */
	BLOB_BAD_NAME,  /* a ref or name this store never makes */
	BLOB_NO_MEMORY,
	BLOB_ERROR, /* anything else; the error buffer says what */
};

enum {
	BLOB_SHA256_HEX = 65, /* 64 hex digits and a NUL */
	BLOB_EXT_MAX = 8,     /* up to 7 ASCII letters and a NUL */
	/* "ab/<64 hex><suffix>.<ext>" plus room to spare: the images.location column. */
	BLOB_NAME_MAX = 96,
	BLOB_ERR_MAX = 256, /* a good size for the callers' error buffers */
};

/* The address of one file: its kind, the SHA-256 it is named by, and its extension. */
struct blob_ref {
	enum blob_kind kind;
	char sha256[BLOB_SHA256_HEX];
	char ext[BLOB_EXT_MAX]; /* BLOB_IMAGE: "jpg", "png", ...; other kinds: their own */
};

/* The ref's name within its kind, "ab/<sha256><suffix>.<ext>"; false for a malformed ref. */
bool blob_ref_name(const struct blob_ref *ref, char name[BLOB_NAME_MAX]);
/* The ref a name stands for (e.g. an images.location value); false when no ref makes it. */
bool blob_ref_parse(enum blob_kind kind, const char *name, struct blob_ref *ref);
/* "not found", "disk full", ... for logs. */
const char *blob_status_text(enum blob_status s);

struct blob_store; /* opened by a backend, e.g. blob_disk_open(); shared by threads */
struct blob_put;   /* one file being written */

void blob_close(struct blob_store *bs);

/*
 * Writing a file: begin, write its bytes in order (the store hashes them),
 * finish (durable; gives the SHA-256), then commit it under a kind, or abort.
 * Until commit no reader can see it; a crash leaves nothing visible.
 * A failed write or finish drops the bytes at once (a full disk frees them)
 * and later calls on the put answer the same failure; only commit or abort
 * frees the put.
 */
enum blob_status blob_put_begin(struct blob_store *bs, struct blob_put **out, char *err,
				size_t errlen);
enum blob_status blob_put_write(struct blob_put *p, const void *data, size_t len, char *err,
				size_t errlen);
uint64_t blob_put_size(const struct blob_put *p);
enum blob_status blob_put_finish(struct blob_put *p, char sha256[BLOB_SHA256_HEX], char *err,
				 size_t errlen);
/*
 * Moves the finished file to (kind, its sha256, ext) and frees p whatever the
 * outcome. ext may be NULL for kinds other than BLOB_IMAGE. Equal bytes share
 * one file: when it exists already, this copy is dropped and *created (when
 * not NULL) is false. ref gets the file's address.
 */
enum blob_status blob_put_commit(struct blob_put *p, enum blob_kind kind, const char *ext,
				 struct blob_ref *ref, bool *created, char *err, size_t errlen);
/* Drops the bytes and frees p; p may be NULL. */
void blob_put_abort(struct blob_put *p);
/* The whole of begin, write, finish and commit, for bytes already in memory. */
enum blob_status blob_put_bytes(struct blob_store *bs, enum blob_kind kind, const char *ext,
				const void *data, size_t len, struct blob_ref *ref, bool *created,
				char *err, size_t errlen);

/*
 * The same for a derived file named by its source's hash (a thumbnail is named
 * by its original's sha256, as the kinds above say), not by its own bytes: made
 * again from the same source, it lands on the same name and the existing file
 * is kept (*created false).
 */
enum blob_status blob_put_bytes_as(struct blob_store *bs, enum blob_kind kind,
				   const char source_sha256[BLOB_SHA256_HEX], const void *data,
				   size_t len, struct blob_ref *ref, bool *created, char *err,
				   size_t errlen);

/* Appends the file's bytes to out; on failure out is as it was. */
enum blob_status blob_get(struct blob_store *bs, const struct blob_ref *ref, struct buf *out,
			  char *err, size_t errlen);
/* A descriptor open for reading the file (the caller closes it) and its size, for sending. */
enum blob_status blob_open_fd(struct blob_store *bs, const struct blob_ref *ref, int *fd,
			      uint64_t *size, char *err, size_t errlen);
/* Removes the file; a file that is not there is fine (BLOB_OK). */
enum blob_status blob_delete(struct blob_store *bs, const struct blob_ref *ref, char *err,
			     size_t errlen);
/*
 * Calls fn for every file of kind at least min_age_s old (younger ones may
 * belong to a put whose row is about to be committed), for orphan sweeps.
 */
enum blob_status blob_list(struct blob_store *bs, enum blob_kind kind, unsigned min_age_s,
			   void (*fn)(void *ctx, const struct blob_ref *ref), void *ctx);

#endif
