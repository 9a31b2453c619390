/* e2e_search: what /api/search and /search find, in which order and pages, and how soon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness.h"

enum {
	KEYS_MAX = 512,
	PAGED = 45,	     /* images under one caption, over three pages */
	LATE_UPLOADS = 12, /* uploaded while the pages are read */
};

static const char PNG[] = "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x10\x00\x00\x00\x10"
			  "\x08\x02\x00\x00\x00\x90\x91\x68\x36 search test bytes";

static struct gallery g;

static void upload(const char *key)
{
	struct reply r;
	assert_true(http_upload(g.fe.url, "/api/upload", key, PNG, sizeof(PNG), "a.png", NULL, &r));
	if (r.status != 200)
		fail_msg("upload of '%s': %ld %.300s", key, r.status, r.body.data);
	reply_free(&r);
}

/* POST /api/caption/<key>: the caption, its tags and its search terms change in one transaction. */
static void set_caption(const char *key, const char *caption)
{
	char enc[256], path[512];
	url_encode(key, strlen(key), enc, sizeof(enc));
	snprintf(path, sizeof(path), "/api/caption/%s", enc);
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "caption", caption);
	char *json = cJSON_PrintUnformatted(body);
	struct reply r;
	assert_true(http_post_json(g.fe.url, path, json, &r));
	if (r.status != 200)
		fail_msg("caption of '%s': %ld %.300s", key, r.status, r.body.data);
	reply_free(&r);
	free(json);
	cJSON_Delete(body);
}

static void image(const char *key, const char *caption)
{
	upload(key);
	if (caption)
		set_caption(key, caption);
}

struct found {
	char keys[KEYS_MAX][64];
	size_t n;
	bool more;
	char next[32];
	long status;
};

/* GET /api/search?q=... (&cursor=); the keys of the results in order. */
static void search_raw(const char *q, const char *cursor, struct found *f)
{
	char enc[4096], path[8192];
	url_encode(q, strlen(q), enc, sizeof(enc));
	snprintf(path, sizeof(path), "/api/search?q=%s%s%s", enc, cursor ? "&cursor=" : "",
		 cursor ? cursor : "");
	struct reply r;
	assert_true(http_get(g.fe.url, path, &r));
	memset(f, 0, sizeof(*f));
	f->status = r.status;
	if (r.status != 200) {
		reply_free(&r);
		return;
	}
	cJSON *json = cJSON_Parse(r.body.data);
	if (!json)
		fail_msg("search '%s' answered no JSON: %.300s", q, r.body.data);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(json, "success")), "true");
	cJSON *item;
	cJSON_ArrayForEach(item, cJSON_GetObjectItem(json, "results"))
	{
		const char *key = cJSON_GetStringValue(cJSON_GetObjectItem(item, "key"));
		assert_non_null(key);
		assert_non_null(cJSON_GetObjectItem(item, "caption"));
		assert_true(cJSON_IsArray(cJSON_GetObjectItem(item, "tags")));
		assert_true(f->n < KEYS_MAX);
		snprintf(f->keys[f->n++], sizeof(f->keys[0]), "%s", key);
	}
	f->more = cJSON_IsTrue(cJSON_GetObjectItem(json, "more"));
	const char *next = cJSON_GetStringValue(cJSON_GetObjectItem(json, "next"));
	snprintf(f->next, sizeof(f->next), "%s", next ? next : "");
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(json, "page")));
	cJSON_Delete(json);
	reply_free(&r);
}

/* Asserts that q finds exactly the keys listed (NULL-terminated), newest first. */
static void expect(const char *q, ...)
{
	struct found f;
	search_raw(q, NULL, &f);
	if (f.status != 200)
		fail_msg("search '%s': status %ld", q, f.status);
	va_list ap;
	va_start(ap, q);
	size_t i = 0;
	for (const char *key; (key = va_arg(ap, const char *)) != NULL; i++) {
		if (i >= f.n || strcmp(f.keys[i], key) != 0)
			fail_msg("search '%s': result %zu is '%s', expected '%s' (%zu results)", q, i,
				 i < f.n ? f.keys[i] : "(none)", key, f.n);
	}
	va_end(ap);
	if (i != f.n)
		fail_msg("search '%s': %zu results, expected %zu (first extra '%s')", q, f.n, i,
			 f.keys[i]);
}

static int setup(void **state)
{
	(void)state;
	if (!sql_exec("DELETE FROM users") || !sql_empty_gallery())
		return -1;
	return gallery_start(&g, "search", NULL, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return gallery_stop(&g) ? 0 : -1;
}

static void test_words_phrases_and_languages(void **state)
{
	(void)state;
	image("s-red-car", "A red car by the sea");
	image("s-red-big-car", "red and a big car");
	image("s-cafe", "Morning at the Café de Flore");
	image("s-who", "The Who, live");
	image("s-plan", "plan b");
	image("s-leaves", "#Leaves in autumn, #Ísland");
	image("s-tokyo", "東京タワーの夜景");
	image("s-kyoto", "京都の寺");
	image("s-seoul", "서울에서 만나요");
	image("s-long", "internationalization matters");
	image("s-longer", "internationale");
	image("holiday-beach.jpg", NULL);
	image("s-percent", "100% sure_thing");

	expect("red car", "s-red-big-car", "s-red-car", NULL);  /* AND, newest first */
	expect("\"red car\"", "s-red-car", NULL);		   /* a phrase in its order */
	expect("\"car red\"", NULL);
	expect("beac", "holiday-beach.jpg", NULL);		   /* prefix, and keys */
	expect("holiday jpg", "holiday-beach.jpg", NULL);
	expect("cafe", "s-cafe", NULL);			   /* accents */
	expect("CAFÉ FLORE", "s-cafe", NULL);			   /* case */
	expect("the who", "s-who", NULL);			   /* no stop words */
	expect("the", "s-who", "s-cafe", "s-red-car", NULL);
	expect("b", "holiday-beach.jpg", "s-plan", "s-red-big-car", "s-red-car", NULL); /* one letter */
	expect("plan b", "s-plan", NULL);
	expect("#leaves", "s-leaves", NULL);			   /* tags, any case */
	expect("#LEAVES autumn", "s-leaves", NULL);
	expect("#leave", NULL);				   /* a tag is whole */
	expect("#island", NULL);				   /* Ísland is not island */
	expect("#ísland", "s-leaves", NULL);
	expect("東京", "s-tokyo", NULL);			   /* CJK pairs */
	expect("東京タワー", "s-tokyo", NULL);
	expect("京都", "s-kyoto", NULL);
	expect("京", "s-kyoto", "s-tokyo", NULL);
	expect("タワー東京", NULL);
	expect("서울", "s-seoul", NULL);			   /* Korean */
	expect("만나요", "s-seoul", NULL);
	expect("internationaliz", "s-long", NULL);		   /* past 8 letters: checked */
	expect("internationa", "s-longer", "s-long", NULL);
	expect("%", NULL);					   /* metacharacters are text */
	expect("100%", "s-percent", NULL);
	expect("sure_thing", "s-percent", NULL);
	expect("_", NULL);
	expect("' OR 1=1 --", NULL);
	expect("zebra", NULL);
}

static void test_users(void **state)
{
	(void)state;
	assert_true(sql_exec("INSERT INTO users (username, email, password_hash, verified_at) "
			     "VALUES ('searcher', 'searcher@example.org', 'x', NOW(3))"));
	image("u-one", "sunset over water");
	image("u-two", "sunset again");
	image("u-other", "sunset elsewhere");
	assert_true(sql_exec("UPDATE images SET owner_id = (SELECT id FROM users WHERE "
			     "username = 'searcher') WHERE image_key IN ('u-one', 'u-two')"));
	expect("@searcher", "u-two", "u-one", NULL);
	expect("@searcher water", "u-one", NULL);
	expect("@SEARCHER sunset", "u-two", "u-one", NULL);
	expect("@nobody", NULL);
	expect("@x", NULL);
}

static void test_edits_and_deletes_at_once(void **state)
{
	(void)state;
	image("e-edit", "a walrus on ice");
	expect("walrus", "e-edit", NULL);
	set_caption("e-edit", "a narwhal on ice #arctic");
	expect("walrus", NULL);
	expect("narwhal", "e-edit", NULL);
	expect("#arctic narwhal", "e-edit", NULL);
	set_caption("e-edit", "");
	expect("narwhal", NULL);
	expect("edit", "e-edit", NULL); /* the key stays searchable */
	image("e-gone", "a penguin");
	expect("penguin", "e-gone", NULL);
	assert_true(sql_exec("DELETE FROM images WHERE image_key = 'e-gone'"));
	expect("penguin", NULL);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM search_terms WHERE image_id NOT IN "
				    "(SELECT id FROM images)"),
			 0);
}

static atomic_int uploads_done;

static void *upload_more(void *arg)
{
	(void)arg;
	for (int i = 0; i < LATE_UPLOADS; i++) {
		char key[32];
		snprintf(key, sizeof(key), "p-late-%02d", i);
		image(key, "pagination sample late");
	}
	atomic_store(&uploads_done, 1);
	return NULL;
}

static void test_pages_by_cursor_while_uploading(void **state)
{
	(void)state;
	for (int i = 0; i < PAGED; i++) {
		char key[32];
		snprintf(key, sizeof(key), "p-%02d", i);
		image(key, "pagination sample");
	}
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, upload_more, NULL), 0);
	static char seen[KEYS_MAX][64];
	size_t nseen = 0, pages = 0;
	char cursor[32] = "";
	struct found f;
	do {
		search_raw("pagination sample", cursor[0] ? cursor : NULL, &f);
		assert_int_equal(f.status, 200);
		assert_true(f.n <= 20);
		pages++;
		for (size_t i = 0; i < f.n; i++) {
			for (size_t j = 0; j < nseen; j++)
				if (strcmp(seen[j], f.keys[i]) == 0)
					fail_msg("'%s' on two pages", f.keys[i]);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", f.keys[i]);
		}
		snprintf(cursor, sizeof(cursor), "%s", f.next);
		assert_true(!f.more || cursor[0]);
	} while (f.more);
	pthread_join(t, NULL);
	/* Every image older than the first page's, once, in upload order from the newest. */
	size_t late = 0;
	for (size_t j = 0; j < nseen; j++)
		late += strncmp(seen[j], "p-late-", 7) == 0;
	assert_int_equal(nseen - late, PAGED);
	size_t k = 0;
	for (int i = PAGED - 1; i >= 0; i--, k++) {
		while (k < nseen && strncmp(seen[k], "p-late-", 7) == 0)
			k++;
		char key[32];
		snprintf(key, sizeof(key), "p-%02d", i);
		assert_string_equal(seen[k], key);
	}
	assert_true(pages >= 3);
	/* And afterwards the late ones lead the first page. */
	search_raw("pagination sample late", NULL, &f);
	assert_int_equal(f.n, LATE_UPLOADS);
	assert_string_equal(f.keys[0], "p-late-11");
}

static bool finds_old_row(void *ctx)
{
	(void)ctx;
	struct found f;
	search_raw("archived", NULL, &f);
	return f.status == 200 && f.n == 1 && strcmp(f.keys[0], "old/archived-photo") == 0;
}

/* A row an earlier release wrote (no terms) is indexed once the front end starts again. */
static void test_older_images_get_indexed(void **state)
{
	(void)state;
	assert_true(sql_exec("INSERT INTO images (image_key, location, content_type, size_bytes, sha256) "
			     "VALUES ('old/archived-photo', 'none', 'image/png', 10, REPEAT('0', 64))"));
	expect("archived", NULL);
	assert_true(sql_exec("UPDATE search_backfill SET next_id = (SELECT MAX(id) FROM images)"));
	assert_int_equal(daemon_stop(&g.fe, SIGTERM), 0);
	assert_true(daemon_restart(&g.fe, g.fe_settings));
	assert_true(wait_until(finds_old_row, NULL, HARNESS_STATE_WAIT_MS));
	assert_true(sql_wait_scalar("SELECT next_id FROM search_backfill", 0, HARNESS_STATE_WAIT_MS));
}

static void test_page_and_bounds(void **state)
{
	(void)state;
	struct reply r;
	const char *page_headers[] = {"Accept: " HTML_ACCEPT, NULL};
	char path[256];
	snprintf(path, sizeof(path), "%s/search?q=%s", g.fe.url, "red%20car");
	assert_true(http_request("GET", path, page_headers, NULL, 0, &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "id=\"search-results\""));
	if (!strstr(r.body.data, "A red car by the sea"))
		fail_msg("no caption in the page: %.3000s", r.body.data);
	assert_non_null(strstr(r.body.data, "value=\"red car\""));
	reply_free(&r);
	snprintf(path, sizeof(path), "%s/search?q=%s", g.fe.url, "zebra");
	assert_true(http_request("GET", path, page_headers, NULL, 0, &r));
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body.data, "No images match"));
	reply_free(&r);
	/* Too long, too many terms, not UTF-8: refused with a reason. */
	static char longq[2000];
	memset(longq, 'a', sizeof(longq) - 1);
	struct found f;
	search_raw(longq, NULL, &f);
	assert_int_equal(f.status, 400);
	search_raw("a b c d e f g h i", NULL, &f);
	assert_int_equal(f.status, 400);
	search_raw("a b c d e f g h", NULL, &f);
	assert_int_equal(f.status, 200);
	assert_true(http_get(g.fe.url, "/api/search?q=%FF%FE", &r));
	assert_int_equal(r.status, 400);
	assert_true(reply_is_error(&r, 400));
	assert_non_null(strstr(r.body.data, "UTF-8"));
	reply_free(&r);
	assert_true(http_get(g.fe.url, "/api/search", &r));
	assert_int_equal(r.status, 400);
	reply_free(&r);
	assert_true(http_get(g.fe.url, "/api/search?q=red&cursor=abc", &r));
	assert_int_equal(r.status, 400);
	reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words_phrases_and_languages),
		cmocka_unit_test(test_users),
		cmocka_unit_test(test_edits_and_deletes_at_once),
		cmocka_unit_test(test_pages_by_cursor_while_uploading),
		cmocka_unit_test(test_page_and_bounds),
		cmocka_unit_test(test_older_images_get_indexed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
