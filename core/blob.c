/* blob: refs and names of stored files, and the calls that dispatch to a backend. */
#include "blob_backend.h"

#include <stdio.h>
#include <string.h>

enum {
	SUBDIR_LEN = 2, /* "ab": the first two hex digits of the hash name the folder */
	HASH_HEX_LEN = BLOB_SHA256_HEX - 1,
};

struct kind_info {
	const char *dir, *suffix, *ext;
};

static const struct kind_info kinds[BLOB_KIND_COUNT] = {
	[BLOB_IMAGE] = {"images", "", NULL},
	[BLOB_THUMB_S] = {"thumbs", "-s", "webp"},
	[BLOB_THUMB_M] = {"thumbs", "-m", "webp"},
	[BLOB_LOG] = {"logs", "", "txt"},
};

static bool kind_valid(enum blob_kind kind)
{
	return (unsigned)kind < BLOB_KIND_COUNT;
}

const char *blob_kind_dir(enum blob_kind kind)
{
	return kind_valid(kind) ? kinds[kind].dir : NULL;
}

const char *blob_kind_ext(enum blob_kind kind)
{
	return kind_valid(kind) ? kinds[kind].ext : NULL;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool all_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_hex(s[i]))
			return false;
	return true;
}

/* Letters only: nothing that could be a path or need quoting. */
bool blob_ext_valid(const char *ext)
{
	size_t len = ext ? strnlen(ext, BLOB_EXT_MAX) : 0;
	if (len == 0 || len >= BLOB_EXT_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((ext[i] >= 'a' && ext[i] <= 'z') || (ext[i] >= 'A' && ext[i] <= 'Z')))
			return false;
	return true;
}

/* Only refs this module could make pass, so a name never reaches outside its folder. */
static bool ref_valid(const struct blob_ref *ref)
{
	if (!ref || !kind_valid(ref->kind) || strnlen(ref->sha256, BLOB_SHA256_HEX) != HASH_HEX_LEN ||
	    !all_hex(ref->sha256, HASH_HEX_LEN) || !blob_ext_valid(ref->ext))
		return false;
	const char *fixed = kinds[ref->kind].ext;
	return !fixed || strcmp(fixed, ref->ext) == 0;
}

bool blob_ref_name(const struct blob_ref *ref, char name[BLOB_NAME_MAX])
{
	if (!ref_valid(ref))
		return false;
	int n = snprintf(name, BLOB_NAME_MAX, "%.*s/%s%s.%s", SUBDIR_LEN, ref->sha256, ref->sha256,
			 kinds[ref->kind].suffix, ref->ext);
	return n > 0 && n < BLOB_NAME_MAX;
}

bool blob_ref_parse(enum blob_kind kind, const char *name, struct blob_ref *ref)
{
	if (!kind_valid(kind) || !name)
		return false;
	const char *suffix = kinds[kind].suffix;
	size_t suffix_len = strlen(suffix);
	size_t len = strnlen(name, BLOB_NAME_MAX);
	size_t fixed = SUBDIR_LEN + 1 + HASH_HEX_LEN + suffix_len + 1;
	if (len >= BLOB_NAME_MAX || len <= fixed)
		return false;
	const char *hash = name + SUBDIR_LEN + 1;
	if (name[SUBDIR_LEN] != '/' || memcmp(name, hash, SUBDIR_LEN) != 0 ||
	    memcmp(hash + HASH_HEX_LEN, suffix, suffix_len) != 0 ||
	    hash[HASH_HEX_LEN + suffix_len] != '.' || len - fixed >= BLOB_EXT_MAX)
		return false;
	struct blob_ref r = {.kind = kind};
	memcpy(r.sha256, hash, HASH_HEX_LEN);
	memcpy(r.ext, name + fixed, len - fixed + 1);
	if (!ref_valid(&r))
		return false;
	*ref = r;
	return true;
}

const char *blob_status_text(enum blob_status s)
{
	switch (s) {
	case BLOB_OK: return "ok";
	case BLOB_NOT_FOUND: return "not found";
	case BLOB_DISK_FULL: return "disk full";
	case BLOB_BAD_NAME: return "bad name";
	case BLOB_NO_MEMORY: return "out of memory";
	case BLOB_ERROR: break;
	}
	return "error";
}

static enum blob_status bad_ref(char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "not a name this store makes");
	return BLOB_BAD_NAME;
}

void blob_close(struct blob_store *bs)
{
	if (bs)
		bs->ops->close(bs);
}

enum blob_status blob_put_begin(struct blob_store *bs, struct blob_put **out, char *err,
				size_t errlen)
{
	return bs->ops->put_begin(bs, out, err, errlen);
}

enum blob_status blob_put_write(struct blob_put *p, const void *data, size_t len, char *err,
				size_t errlen)
{
	return p->ops->put_write(p, data, len, err, errlen);
}

uint64_t blob_put_size(const struct blob_put *p)
{
	return p->ops->put_size(p);
}

enum blob_status blob_put_finish(struct blob_put *p, char sha256[BLOB_SHA256_HEX], char *err,
				 size_t errlen)
{
	if (!p->finished) {
		enum blob_status st = p->ops->put_finish(p, err, errlen);
		if (st != BLOB_OK)
			return st;
		p->finished = true;
	}
	memcpy(sha256, p->sha256, BLOB_SHA256_HEX);
	return BLOB_OK;
}

enum blob_status blob_put_commit(struct blob_put *p, enum blob_kind kind, const char *ext,
				 struct blob_ref *ref, bool *created, char *err, size_t errlen)
{
	struct blob_ref r = {.kind = kind};
	const char *fixed = blob_kind_ext(kind);
	if (!ext)
		ext = fixed;
	if (!p->finished) {
		if (err && errlen)
			snprintf(err, errlen, "a put committed before it was finished");
		p->ops->put_abort(p);
		return BLOB_ERROR;
	}
	memcpy(r.sha256, p->sha256, BLOB_SHA256_HEX);
	if (ext && strnlen(ext, BLOB_EXT_MAX) < BLOB_EXT_MAX)
		memcpy(r.ext, ext, strlen(ext) + 1);
	if (!ref_valid(&r)) {
		if (err && errlen)
			snprintf(err, errlen, "bad file extension (1 to %d letters)",
				 BLOB_EXT_MAX - 1);
		p->ops->put_abort(p);
		return BLOB_BAD_NAME;
	}
	enum blob_status st = p->ops->put_commit(p, &r, created, err, errlen);
	if (st == BLOB_OK && ref)
		*ref = r;
	return st;
}

void blob_put_abort(struct blob_put *p)
{
	if (p)
		p->ops->put_abort(p);
}

enum blob_status blob_put_bytes(struct blob_store *bs, enum blob_kind kind, const char *ext,
				const void *data, size_t len, struct blob_ref *ref, bool *created,
				char *err, size_t errlen)
{
	struct blob_put *p = NULL;
	enum blob_status st = blob_put_begin(bs, &p, err, errlen);
	if (st != BLOB_OK)
		return st;
	char sha[BLOB_SHA256_HEX];
	st = blob_put_write(p, data, len, err, errlen);
	if (st == BLOB_OK)
		st = blob_put_finish(p, sha, err, errlen);
	if (st != BLOB_OK) {
		blob_put_abort(p);
		return st;
	}
	return blob_put_commit(p, kind, ext, ref, created, err, errlen);
}

enum blob_status blob_put_bytes_as(struct blob_store *bs, enum blob_kind kind,
				   const char source_sha256[BLOB_SHA256_HEX], const void *data,
				   size_t len, struct blob_ref *ref, bool *created, char *err,
				   size_t errlen)
{
	if (kind == BLOB_IMAGE || strnlen(source_sha256, BLOB_SHA256_HEX) != HASH_HEX_LEN ||
	    !all_hex(source_sha256, HASH_HEX_LEN))
		return bad_ref(err, errlen);
	struct blob_put *p = NULL;
	enum blob_status st = blob_put_begin(bs, &p, err, errlen);
	if (st != BLOB_OK)
		return st;
	char own[BLOB_SHA256_HEX];
	st = blob_put_write(p, data, len, err, errlen);
	if (st == BLOB_OK)
		st = blob_put_finish(p, own, err, errlen);
	if (st != BLOB_OK) {
		blob_put_abort(p);
		return st;
	}
	/* The name is the source's; the file's own hash only checked what was written. */
	memcpy(p->sha256, source_sha256, BLOB_SHA256_HEX);
	return blob_put_commit(p, kind, NULL, ref, created, err, errlen);
}

enum blob_status blob_get(struct blob_store *bs, const struct blob_ref *ref, struct buf *out,
			  char *err, size_t errlen)
{
	if (!ref_valid(ref))
		return bad_ref(err, errlen);
	return bs->ops->get(bs, ref, out, err, errlen);
}

enum blob_status blob_open_fd(struct blob_store *bs, const struct blob_ref *ref, int *fd,
			      uint64_t *size, char *err, size_t errlen)
{
	if (!ref_valid(ref))
		return bad_ref(err, errlen);
	return bs->ops->open_fd(bs, ref, fd, size, err, errlen);
}

enum blob_status blob_delete(struct blob_store *bs, const struct blob_ref *ref, char *err,
			     size_t errlen)
{
	if (!ref_valid(ref))
		return bad_ref(err, errlen);
	return bs->ops->remove(bs, ref, err, errlen);
}

enum blob_status blob_list(struct blob_store *bs, enum blob_kind kind, unsigned min_age_s,
			   void (*fn)(void *ctx, const struct blob_ref *ref), void *ctx)
{
	if (!kind_valid(kind))
		return BLOB_BAD_NAME;
	return bs->ops->list(bs, kind, min_age_s, fn, ctx);
}
