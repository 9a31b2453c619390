/* app: the front end's state, which main makes and every handler gets (private to frontend/). */
#ifndef GALLERY_APP_H
#define GALLERY_APP_H

#include <stdint.h>


struct blob_store;
struct cache_client;
struct heavy;
struct catalog;
struct config;
struct origin_policy;
struct images;
struct job_wait;
struct offload;
struct password_hasher;
struct server;
struct tpl_set;

struct app {
	const struct config *cfg;
	struct catalog *catalog;
	struct cache_client *cache;
	struct blob_store *blobs;
	struct images *images;
	struct tpl_set *templates;
	struct job_wait *waits;
	struct origin_policy *origins;
	uint64_t max_upload_bytes;
	struct heavy *heavy; /* list_keys streams, filtered key pages */
	struct password_hasher *hasher; /* bounds the argon2 hashes running at once */
	unsigned char csrf_key[32];     /* signs the CSRF tokens of logged-in requests */
	struct server *server;          /* who sent a request (trusted proxies' X-Forwarded-For) */
	struct offload *logins;         /* the threads logins run on, off the request threads */
	struct offload *uploads;        /* the threads uploads' syncs and commits wait on */
};

#endif
