/* e2e_captions: captions and hashtags through the real daemons: upload, edit, permissions, /api/image, tag pages, the feed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness.h"

enum { BODY_MAX = 64 * 1024, TOKEN_MAX = 128, MANY = 25, PAGE = 20 };

#define PASSWORD "correct horse battery staple"
#define BOUNDARY "captiontestboundary7MA4YWxkTrZu0gW"
#define FORM "Content-Type: application/x-www-form-urlencoded"

static const char PNG[] = "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x10\x00\x00\x00\x10"
			  "\x08\x02\x00\x00\x00\x90\x91\x68\x36 captions test bytes";

static struct gallery g;
/* Bearer tokens: alice is the admin, bob is not. */
static char alice[TOKEN_MAX], bob[TOKEN_MAX];

static void signup(const char *name)
{
	char body[256], url[256];
	snprintf(url, sizeof(url), "%s/api/signup", g.fe.url);
	snprintf(body, sizeof(body), "username=%s&email=%s%%40example.com&password=%s", name, name,
		 "correct+horse+battery+staple");
	const char *headers[] = {FORM, NULL};
	struct reply r;
	assert_true(http_request("POST", url, headers, body, strlen(body), &r));
	if (r.status != 200)
		fail_msg("signup %s: %ld %s", name, r.status, r.body.data);
	reply_free(&r);
}

static void login(const char *name, char token[TOKEN_MAX])
{
	char body[256], url[256];
	snprintf(url, sizeof(url), "%s/api/login", g.fe.url);
	snprintf(body, sizeof(body), "username=%s&password=%s", name, "correct+horse+battery+staple");
	const char *headers[] = {FORM, NULL};
	struct reply r;
	assert_true(http_request("POST", url, headers, body, strlen(body), &r));
	assert_int_equal(r.status, 200);
	cJSON *j = cJSON_Parse(r.body.data);
	const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(j, "token"));
	assert_non_null(t);
	snprintf(token, TOKEN_MAX, "Authorization: Bearer %s", t);
	cJSON_Delete(j);
	reply_free(&r);
}

static int setup(void **state)
{
	(void)state;
	if (!sql_exec("DELETE FROM users") || !sql_exec("DELETE FROM jobs") || !sql_empty_gallery())
		return -1;
	if (!gallery_start(&g, "captions", NULL, NULL))
		return -1;
	signup("alice");
	signup("bob");
	/* Verified as the mailed link would; alice, the first, is the admin. */
	if (!sql_exec("UPDATE users SET verified_at = NOW(3), is_admin = (username = 'alice')"))
		return -1;
	login("alice", alice);
	login("bob", bob);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	bool clean = sql_exec("DELETE FROM users") && sql_exec("DELETE FROM jobs") &&
		     sql_empty_gallery();
	return gallery_stop(&g) && clean ? 0 : -1;
}

/*
 * A multipart upload to path: key, then caption (len bytes; left out when
 * caption is NULL), then the file; as auth (a header line or NULL).
 */
static long upload_to(const char *path, const char *key, const char *caption, size_t len,
		      const char *auth, struct reply *r)
{
	struct buf body = BUF_INIT;
	assert_true(buf_printf(&body, "--" BOUNDARY "\r\nContent-Disposition: form-data; "
				      "name=\"key\"\r\n\r\n%s\r\n", key));
	if (caption) {
		assert_true(buf_puts(&body, "--" BOUNDARY "\r\nContent-Disposition: form-data; "
					    "name=\"caption\"\r\n\r\n"));
		assert_true(buf_append(&body, caption, len));
		assert_true(buf_puts(&body, "\r\n"));
	}
	if (strcmp(path, "/upload_image") == 0)
		assert_true(buf_puts(&body, "--" BOUNDARY "\r\nContent-Disposition: form-data; "
					    "name=\"csrf_token\"\r\n\r\n" HARNESS_CSRF_TOKEN "\r\n"));
	assert_true(buf_puts(&body, "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"file\"; "
				    "filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"));
	assert_true(buf_append(&body, PNG, sizeof(PNG)));
	assert_true(buf_append(&body, key, strlen(key))); /* bytes of its own per key */
	assert_true(buf_puts(&body, "\r\n--" BOUNDARY "--\r\n"));
	char url[512];
	snprintf(url, sizeof(url), "%s%s", g.fe.url, path);
	const char *headers[] = {"Content-Type: multipart/form-data; boundary=" BOUNDARY,
				 HARNESS_CSRF_COOKIE, "Accept: " HTML_ACCEPT, auth, NULL};
	if (strcmp(path, "/upload_image") != 0)
		headers[2] = "Accept: application/json";
	assert_true(http_request("POST", url, headers, body.data, body.len, r));
	buf_free(&body);
	return r->status;
}

static void upload(const char *key, const char *caption, const char *auth)
{
	struct reply r;
	long s = upload_to("/api/upload", key, caption, caption ? strlen(caption) : 0, auth, &r);
	if (s != 200)
		fail_msg("upload of '%s': %ld %s", key, s, r.body.data);
	assert_string_equal(r.body.data, UPLOAD_OK);
	reply_free(&r);
}

/* GET /api/image/<key>: the image object (the caller deletes the whole answer). */
static cJSON *api_image(const char *key, cJSON **answer)
{
	char path[1024], enc[800];
	snprintf(path, sizeof(path), "/api/image/%s", url_encode(key, strlen(key), enc, sizeof(enc)));
	struct reply r;
	assert_true(http_get(g.fe.url, path, &r));
	if (r.status != 200)
		fail_msg("GET %s: %ld %s", path, r.status, r.body.data);
	*answer = cJSON_Parse(r.body.data);
	reply_free(&r);
	assert_non_null(*answer);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(*answer, "success")), "true");
	cJSON *img = cJSON_GetObjectItem(*answer, "image");
	assert_true(cJSON_IsObject(img));
	return img;
}

/* The tags of key's /api/image answer, joined by spaces; and its caption ("(null)" for none). */
static void image_state(const char *key, char *tags, size_t tags_size, char *caption,
			size_t caption_size)
{
	cJSON *answer;
	cJSON *img = api_image(key, &answer);
	size_t n = 0;
	tags[0] = '\0';
	const cJSON *t;
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(img, "tags"))
		n += (size_t)snprintf(tags + n, tags_size - n, "%s%s", n ? " " : "",
				      cJSON_GetStringValue(t));
	const cJSON *c = cJSON_GetObjectItem(img, "caption");
	assert_true(cJSON_IsString(c) || cJSON_IsNull(c));
	snprintf(caption, caption_size, "%s", cJSON_IsString(c) ? c->valuestring : "(null)");
	cJSON_Delete(answer);
}

static long get_page(const char *path, const char *auth, struct reply *r)
{
	char url[1024];
	snprintf(url, sizeof(url), "%s%s", g.fe.url, path);
	const char *headers[] = {"Accept: " HTML_ACCEPT, auth, NULL};
	assert_true(http_request("GET", url, headers, NULL, 0, r));
	return r->status;
}

/* POST /api/caption/<key> with a form body (or JSON when json). */
static long edit(const char *key, const char *body, bool json, const char *auth, struct reply *r)
{
	char url[1024], enc[800];
	snprintf(url, sizeof(url), "%s/api/caption/%s", g.fe.url,
		 url_encode(key, strlen(key), enc, sizeof(enc)));
	const char *headers[] = {json ? "Content-Type: application/json" : FORM, auth, NULL};
	assert_true(http_request("POST", url, headers, body, strlen(body), r));
	return r->status;
}

static long edit_status(const char *key, const char *body, const char *auth)
{
	struct reply r;
	long s = edit(key, body, false, auth, &r);
	reply_free(&r);
	return s;
}

/* That the answer's body holds text; the body is shown when it does not. */
static void has(const struct reply *r, const char *text)
{
	if (!r->body.data || !strstr(r->body.data, text))
		fail_msg("no '%s' in the answer (%ld): %.2000s", text, r->status,
			 r->body.data ? r->body.data : "");
}

static long long tag_rows(const char *key)
{
	char q[512];
	snprintf(q, sizeof(q),
		 "SELECT COUNT(*) FROM image_tags JOIN images ON images.id = image_tags.image_id "
		 "WHERE image_key = '%s'", key);
	return sql_scalar(q);
}

#define RLO "\xE2\x80\xAE"  /* U+202E RIGHT-TO-LEFT OVERRIDE */
#define ZWJ "\xE2\x80\x8D"  /* U+200D ZERO WIDTH JOINER */
#define ZWSP "\xE2\x80\x8B" /* U+200B ZERO WIDTH SPACE */
#define A65 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* Every normalisation case of DESIGN.md and issue 14, through an upload and /api/image. */
static void test_tags_are_normalised_as_people_expect(void **state)
{
	(void)state;
	const char *caption =
		"Autumn #Leaves and #leaves, #Ísland #island #ć #c #日本 "
		"#👨" ZWJ "👩" ZWJ "👧 #🍁 #🍂 #❤️ #❤ "
		"# alone, ## twice, C#sharp, " "#" A65 " #ab" RLO "cd #x" ZWJ "y #p" ZWSP "q #Straße #STRASSE";
	upload("tagged.png", caption, NULL);
	char tags[2048], got[4096];
	image_state("tagged.png", tags, sizeof(tags), got, sizeof(got));
	assert_string_equal(got, caption);
	/*
	 * One tag for both spellings of leaves and of Straße; accents and scripts
	 * kept; emoji are tags (joiners dropped, as NFKC_Casefold drops them);
	 * '#' alone, '##', C#, a 65-letter run are none; an override, a joiner or
	 * a zero-width space ends a tag.
	 */
	assert_string_equal(tags, "leaves ísland island ć c 日本 👨👩👧 🍁 🍂 ❤ ab x p strasse");
	assert_int_equal(tag_rows("tagged.png"), 14);
	/* No tag is stored with an invisible character in it. */
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM image_tags WHERE tag LIKE '%\xE2\x80\xAE%' "
				    "OR tag LIKE '%\xE2\x80\x8D%' OR tag LIKE '%\xE2\x80\x8B%'"),
			 0);

	struct reply r;
	/* #Leaves links to /tags/leaves, which lists the image; so does /tags/Leaves. */
	assert_int_equal(get_page("/image?key=tagged.png", NULL, &r), 200);
	has(&r, "<a href=\"/tags/leaves\" class=\"tag\">#Leaves</a>");
	has(&r, "<a href=\"/tags/%C3%ADsland\" class=\"tag\">#Ísland</a>");
	reply_free(&r);
	const char *same[] = {"/tags/leaves", "/tags/Leaves", "/tags/%23LEAVES", "/tags/%E6%97%A5%E6%9C%AC",
			      "/tags/%F0%9F%8D%81"};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		assert_int_equal(get_page(same[i], NULL, &r), 200);
		has(&r, "tagged.png");
		reply_free(&r);
	}
	/* #island is not #Ísland's page, and a tag nobody uses is a 404 that says so. */
	upload("plain-island.png", "only #island here", NULL);
	assert_int_equal(get_page("/tags/%C3%ADsland", NULL, &r), 200);
	assert_null(strstr(r.body.data, "plain-island.png"));
	reply_free(&r);
	assert_int_equal(get_page("/tags/island", NULL, &r), 200);
	has(&r, "plain-island.png");
	reply_free(&r);
	assert_int_equal(get_page("/tags/nobodyuses", NULL, &r), 404);
	has(&r, "No images carry the hashtag #nobodyuses");
	reply_free(&r);
	assert_int_equal(get_page("/tags/" A65, NULL, &r), 404);
	reply_free(&r);
}

/* An upload with no caption field keeps the caption; an empty one clears it. */
static void test_upload_keeps_or_clears_the_caption(void **state)
{
	(void)state;
	char tags[512], caption[512];
	upload("keep.png", "first #one", NULL);
	upload("keep.png", NULL, NULL);
	image_state("keep.png", tags, sizeof(tags), caption, sizeof(caption));
	assert_string_equal(caption, "first #one");
	assert_string_equal(tags, "one");
	/* The upload page sends its box always: left empty, it keeps the caption too. */
	struct reply r;
	assert_int_equal(upload_to("/upload_image", "keep.png", "", 0, NULL, &r), 200);
	reply_free(&r);
	image_state("keep.png", tags, sizeof(tags), caption, sizeof(caption));
	assert_string_equal(caption, "first #one");
	assert_int_equal(upload_to("/upload_image", "keep.png", "page #two", 9, NULL, &r), 200);
	reply_free(&r);
	image_state("keep.png", tags, sizeof(tags), caption, sizeof(caption));
	assert_string_equal(caption, "page #two");
	/* Through the API an explicit empty field clears it, tags and all. */
	upload("keep.png", "", NULL);
	image_state("keep.png", tags, sizeof(tags), caption, sizeof(caption));
	assert_string_equal(caption, "(null)");
	assert_string_equal(tags, "");
	assert_int_equal(tag_rows("keep.png"), 0);
}

/* Captions refused with a message that says why, and nothing stored. */
static void test_bad_captions_are_refused(void **state)
{
	(void)state;
	upload("bad.png", "kept #kept", NULL);
	/* 2,200 characters of two bytes each are a caption; 2,201 are not. */
	char *longest = malloc(2 * 2201 + 1);
	assert_non_null(longest);
	for (int i = 0; i < 2201; i++)
		memcpy(longest + 2 * i, "é", 2);
	struct reply r;
	assert_int_equal(upload_to("/api/upload", "long.png", longest, 2 * 2200, NULL, &r), 200);
	reply_free(&r);
	assert_int_equal(upload_to("/api/upload", "bad.png", longest, 2 * 2201, NULL, &r), 400);
	assert_non_null(strstr(r.body.data, "the caption is 2201 characters; the limit is 2200"));
	reply_free(&r);
	assert_int_equal(upload_to("/api/upload", "bad.png", "bad \xC3\x28 utf8", 12, NULL, &r), 400);
	has(&r, "not valid UTF-8 (byte 5)");
	reply_free(&r);
	assert_int_equal(upload_to("/api/upload", "bad.png", "nul\0after", 9, NULL, &r), 400);
	has(&r, "NUL");
	reply_free(&r);
	/* The same through the edit route, as a form and as JSON. */
	char *body = malloc(2 * 2201 * 3 + 16);
	char enc[2 * 2201 * 3 + 64];
	snprintf(body, 2 * 2201 * 3 + 16, "caption=%s", url_encode(longest, 2 * 2201, enc, sizeof(enc)));
	assert_int_equal(edit("bad.png", body, false, NULL, &r), 400);
	has(&r, "2201 characters");
	reply_free(&r);
	assert_int_equal(edit_status("bad.png", "caption=a%00b", NULL), 400);
	assert_int_equal(edit_status("bad.png", "caption=a%FFb", NULL), 400);
	assert_int_equal(edit("bad.png", "{\"caption\":\"a\\u0000b\"}", true, NULL, &r), 400);
	has(&r, "NUL");
	reply_free(&r);
	assert_int_equal(edit("bad.png", "{\"caption\":5}", true, NULL, &r), 400);
	reply_free(&r);
	assert_int_equal(edit("bad.png", "nothing=1", false, NULL, &r), 400);
	reply_free(&r);
	free(body);
	free(longest);
	char tags[512], caption[512];
	image_state("bad.png", tags, sizeof(tags), caption, sizeof(caption));
	assert_string_equal(caption, "kept #kept");
	assert_string_equal(tags, "kept");
	assert_null(strstr(caption, "after"));
}

/* 31 hashtags: the first 30 are the image's, and its page says so. */
static void test_thirty_one_hashtags_keep_thirty(void **state)
{
	(void)state;
	char caption[512] = "many";
	for (int i = 1; i <= 31; i++)
		snprintf(caption + strlen(caption), sizeof(caption) - strlen(caption), " #t%d", i);
	upload("many.png", caption, NULL);
	assert_int_equal(tag_rows("many.png"), 30);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM image_tags WHERE tag = 't31'"), 0);
	assert_int_equal(sql_scalar("SELECT COUNT(*) FROM image_tags WHERE tag = 't30'"), 1);
	struct reply r;
	assert_int_equal(get_page("/image?key=many.png", NULL, &r), 200);
	assert_non_null(strstr(r.body.data, "Only the first 30 hashtags count; 1 more"));
	has(&r, "href=\"/tags/t30\"");
	assert_null(strstr(r.body.data, "href=\"/tags/t31\""));
	reply_free(&r);
}

/* Who may change a caption: the owner, the admin, anyone for an ownerless image. */
static void test_caption_edits_are_for_those_allowed(void **state)
{
	(void)state;
	upload("bobs.png", "bob's #own", bob);
	upload("alices.png", "alice's", alice);
	upload("free.png", "nobody's", NULL);
	struct reply r;
	assert_int_equal(edit("bobs.png", "caption=hijack", false, NULL, &r), 403);
	assert_true(reply_is_error(&r, 403));
	reply_free(&r);
	assert_int_equal(edit_status("alices.png", "caption=hijack", bob), 403);
	assert_int_equal(edit_status("nokey.png", "caption=x", bob), 404);
	char tags[512], caption[512];
	image_state("bobs.png", tags, sizeof(tags), caption, sizeof(caption));
	assert_string_equal(caption, "bob's #own");
	image_state("alices.png", tags, sizeof(tags), caption, sizeof(caption));
	assert_string_equal(caption, "alice's");
	assert_int_equal(edit_status("bobs.png", "caption=by+bob+%23mine", bob), 200);
	assert_int_equal(edit_status("bobs.png", "caption=by+the+admin", alice), 200);
	image_state("bobs.png", tags, sizeof(tags), caption, sizeof(caption));
	assert_string_equal(caption, "by the admin");
	assert_int_equal(edit_status("free.png", "caption=anyone+%23free", NULL), 200);
	assert_int_equal(edit_status("free.png", "caption=bob+%23free", bob), 200);
	image_state("free.png", tags, sizeof(tags), caption, sizeof(caption));
	assert_string_equal(caption, "bob #free");
	/* The page shows its form to those allowed only. */
	assert_int_equal(get_page("/image?key=bobs.png", NULL, &r), 200);
	assert_null(strstr(r.body.data, "id=\"caption-form\""));
	reply_free(&r);
	assert_int_equal(get_page("/image?key=bobs.png", bob, &r), 200);
	has(&r, "id=\"caption-form\"");
	reply_free(&r);
	assert_int_equal(get_page("/image?key=alices.png", bob, &r), 200);
	assert_null(strstr(r.body.data, "id=\"caption-form\""));
	reply_free(&r);
	assert_int_equal(get_page("/image?key=free.png", NULL, &r), 200);
	has(&r, "id=\"caption-form\"");
	reply_free(&r);
}

/* After an edit returns, the page and /api/image show it: no read returns the old caption. */
static void test_an_edit_shows_at_once_everywhere(void **state)
{
	(void)state;
	upload("edited.png", "v0 #v0", NULL);
	for (int i = 1; i <= 20; i++) {
		char body[64], want[64], tag[16], tags[512], caption[512];
		snprintf(body, sizeof(body), "{\"caption\":\"v%d #V%d\"}", i, i);
		snprintf(want, sizeof(want), "v%d #V%d", i, i);
		snprintf(tag, sizeof(tag), "v%d", i);
		struct reply r;
		assert_int_equal(edit("edited.png", body, true, NULL, &r), 200);
		cJSON *j = cJSON_Parse(r.body.data);
		assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
					    cJSON_GetObjectItem(j, "image"), "caption")),
				    want);
		cJSON_Delete(j);
		reply_free(&r);
		image_state("edited.png", tags, sizeof(tags), caption, sizeof(caption));
		assert_string_equal(caption, want);
		assert_string_equal(tags, tag);
		assert_int_equal(get_page("/image?key=edited.png", NULL, &r), 200);
		has(&r, want + 3);
		reply_free(&r);
		char path[64];
		snprintf(path, sizeof(path), "/tags/v%d", i - 1);
		assert_int_equal(get_page(path, NULL, &r), 404);
		reply_free(&r);
	}
	/* The page's own form: a 303 back to the page, which shows the new caption. */
	char url[256];
	snprintf(url, sizeof(url), "%s/caption", g.fe.url);
	const char *body = "key=edited.png&caption=from+the+page+%23Form&csrf_token=" HARNESS_CSRF_TOKEN;
	const char *headers[] = {FORM, HARNESS_CSRF_COOKIE, "Accept: " HTML_ACCEPT, NULL};
	struct reply r;
	assert_true(http_request("POST", url, headers, body, strlen(body), &r));
	assert_int_equal(r.status, 303);
	char location[256];
	assert_non_null(reply_header(&r, "Location", location, sizeof(location)));
	assert_string_equal(location, "/image?key=edited.png&captioned=1");
	reply_free(&r);
	assert_int_equal(get_page(location, NULL, &r), 200);
	has(&r, "from the page <a href=\"/tags/form\" class=\"tag\">#Form</a>");
	reply_free(&r);
	/* Without its token the form changes nothing. */
	const char *forged = "key=edited.png&caption=forged";
	const char *no_cookie[] = {FORM, "Accept: " HTML_ACCEPT, NULL};
	assert_true(http_request("POST", url, no_cookie, forged, strlen(forged), &r));
	assert_int_equal(r.status, 403);
	reply_free(&r);
	char tags[512], caption[512];
	image_state("edited.png", tags, sizeof(tags), caption, sizeof(caption));
	assert_string_equal(caption, "from the page #Form");
}

struct reader {
	atomic_int committed; /* the last edit that has returned */
	atomic_bool stop;
	atomic_long reads, stale;
};

/* Reads the caption "n<i>" over and over: a read begun after edit i returned must show i or later. */
static void *read_loop(void *arg)
{
	struct reader *rd = arg;
	char url[256];
	snprintf(url, sizeof(url), "%s/api/image/raced.png", g.fe.url);
	while (!atomic_load(&rd->stop)) {
		int floor = atomic_load(&rd->committed);
		struct reply r;
		if (!http_call("GET", url, NULL, NULL, 0, &r))
			continue;
		const char *c = r.status == 200 ? strstr(r.body.data, "\"caption\":\"n") : NULL;
		int seen = c ? atoi(c + strlen("\"caption\":\"n")) : -1;
		atomic_fetch_add(&rd->reads, 1);
		if (seen < floor)
			atomic_fetch_add(&rd->stale, 1);
		reply_free(&r);
	}
	return NULL;
}

/* Edits racing reads: once an edit returns, no read shows an older caption. */
static void test_edits_racing_reads_never_go_back(void **state)
{
	(void)state;
	upload("raced.png", "n0", NULL);
	struct reader rd;
	atomic_init(&rd.reads, 0);
	atomic_init(&rd.stale, 0);
	atomic_init(&rd.committed, 0);
	atomic_init(&rd.stop, false);
	pthread_t readers[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&readers[i], NULL, read_loop, &rd), 0);
	for (int i = 1; i <= 40; i++) {
		char body[64];
		snprintf(body, sizeof(body), "caption=n%d+%%23n%d", i, i);
		assert_int_equal(edit_status("raced.png", body, NULL), 200);
		atomic_store(&rd.committed, i);
	}
	atomic_store(&rd.stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(readers[i], NULL);
	long reads = atomic_load(&rd.reads), stale = atomic_load(&rd.stale);
	print_message("caption race: %ld reads, %ld stale\n", reads, stale);
	assert_true(reads > 0);
	assert_int_equal(stale, 0);
	assert_int_equal(tag_rows("raced.png"), 1);
}

/* /api/image has DESIGN.md's shape. */
static void test_api_image_shape(void **state)
{
	(void)state;
	upload("shape.png", "shaped #Shape", bob);
	cJSON *answer;
	cJSON *img = api_image("shape.png", &answer);
	const char *fields[] = {"key", "owner", "caption", "tags", "content_type", "size_bytes",
				"width", "height", "sha256", "created_at", "updated_at",
				"thumbnails"};
	assert_int_equal(cJSON_GetArraySize(img), sizeof(fields) / sizeof(fields[0]));
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		assert_non_null(cJSON_GetObjectItemCaseSensitive(img, fields[i]));
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(img, "owner")), "bob");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(img, "content_type")), "image/png");
	assert_int_equal(cJSON_GetObjectItem(img, "width")->valueint, 16);
	const char *created = cJSON_GetStringValue(cJSON_GetObjectItem(img, "created_at"));
	assert_non_null(created);
	/* ISO 8601 UTC with milliseconds: 2026-01-02T03:04:05.678Z */
	assert_int_equal(strlen(created), 24);
	assert_int_equal(created[10], 'T');
	assert_int_equal(created[19], '.');
	assert_int_equal(created[23], 'Z');
	cJSON *thumbs = cJSON_GetObjectItem(img, "thumbnails");
	const cJSON *s = cJSON_GetObjectItem(thumbs, "s");
	assert_true(cJSON_IsNull(s) || (cJSON_IsString(s) && strncmp(s->valuestring, "/thumb/", 7) == 0));
	assert_non_null(cJSON_GetObjectItem(thumbs, "m"));
	cJSON_Delete(answer);
	upload("anon-shape.png", NULL, NULL);
	img = api_image("anon-shape.png", &answer);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(img, "owner")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(img, "caption")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(img, "tags")), 0);
	cJSON_Delete(answer);
	struct reply r;
	assert_true(http_get(g.fe.url, "/api/image/no-such.png", &r));
	assert_int_equal(r.status, 404);
	assert_true(reply_is_error(&r, 404));
	reply_free(&r);
}

/* Counts the tiles of a grid page and finds its "Older" link's cursor. */
static int tiles(const char *html, const char *prefix, char *older, size_t older_size)
{
	int n = 0;
	char needle[128];
	snprintf(needle, sizeof(needle), "<span>%s", prefix);
	for (const char *at = html; (at = strstr(at, needle)); at++)
		n++;
	older[0] = '\0';
	const char *o = strstr(html, "?before=");
	if (o)
		snprintf(older, older_size, "%.*s", (int)strcspn(o + 8, "\"&"), o + 8);
	return n;
}

/* The home feed and a tag's page: newest first, 20 a page, by cursor, no repeats or gaps. */
static void test_feed_and_tag_pages_by_cursor(void **state)
{
	(void)state;
	for (int i = 0; i < MANY; i++) {
		char key[32], caption[64];
		snprintf(key, sizeof(key), "feed-%02d.png", i);
		snprintf(caption, sizeof(caption), "number %d #Feed", i);
		upload(key, caption, i % 2 ? bob : NULL);
	}
	const char *bases[] = {"/", "/tags/feed", "/tags/Feed"};
	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		struct reply r;
		char older[32], path[128], late[32];
		assert_int_equal(get_page(bases[b], NULL, &r), 200);
		int first = tiles(r.body.data, "feed-", older, sizeof(older));
		/* The newest, with its caption's tag as a link and its owner's page. */
		has(&r, "<span>feed-24.png</span>");
		has(&r, "number 24 <a href=\"/tags/feed\" class=\"tag\">#Feed</a>");
		has(&r, "by <a href=\"/u/bob\">bob</a>");
		reply_free(&r);
		assert_int_equal(first, PAGE);
		assert_true(older[0]);
		/* An upload between two pages moves nothing onto the next one. */
		snprintf(late, sizeof(late), "late-%zu.png", b);
		upload(late, "late, untagged", NULL);
		snprintf(path, sizeof(path), "%s?before=%s", bases[b], older);
		assert_int_equal(get_page(path, NULL, &r), 200);
		char again[32];
		int second = tiles(r.body.data, "feed-", again, sizeof(again));
		has(&r, "<span>feed-00.png</span>");
		has(&r, "<span>feed-04.png</span>");
		assert_null(strstr(r.body.data, "<span>feed-05.png</span>"));
		assert_null(strstr(r.body.data, late));
		reply_free(&r);
		assert_int_equal(first + second, MANY);
		if (b > 0)
			assert_false(again[0]);
	}
	struct reply r;
	assert_int_equal(get_page("/?before=x1", NULL, &r), 400);
	reply_free(&r);
	/* The list of keys stays as it was. */
	assert_int_equal(get_page("/keys_list", NULL, &r), 200);
	has(&r, "late-0.png");
	reply_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tags_are_normalised_as_people_expect),
		cmocka_unit_test(test_upload_keeps_or_clears_the_caption),
		cmocka_unit_test(test_bad_captions_are_refused),
		cmocka_unit_test(test_thirty_one_hashtags_keep_thirty),
		cmocka_unit_test(test_caption_edits_are_for_those_allowed),
		cmocka_unit_test(test_an_edit_shows_at_once_everywhere),
		cmocka_unit_test(test_edits_racing_reads_never_go_back),
		cmocka_unit_test(test_api_image_shape),
		cmocka_unit_test(test_feed_and_tag_pages_by_cursor),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
