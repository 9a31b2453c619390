/* api: the cache daemon's HTTP/JSON routes over the cache core. */
#ifndef GALLERY_MEMCACHE_API_H
#define GALLERY_MEMCACHE_API_H

#include <microhttpd.h>
#include <stddef.h>

struct cache;
struct cache_sql;

struct api {
	struct cache *cache;
	struct cache_sql *sql;
	size_t max_body_bytes;
	/* When not empty, every route but /healthz wants "Authorization: Bearer <token>". */
	const char *token;
};

/* libmicrohttpd callbacks; cls is a struct api. */
enum MHD_Result api_handle(void *cls, struct MHD_Connection *conn, const char *url,
			   const char *method, const char *version, const char *upload_data,
			   size_t *upload_data_size, void **req_cls);
void api_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
		   enum MHD_RequestTerminationCode toe);

#endif
