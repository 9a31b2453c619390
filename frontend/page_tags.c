/* page_tags: /tags/<tag>, the images that carry a hashtag, newest first. */
#include "page_tags.h"

#include <stdio.h>
#include <string.h>

#include "common/url.h"
#include "core/hashtags.h"
#include "frontend/page.h"
#include "frontend/page_images.h"
#include "frontend/reply.h"
#include "frontend/request.h"

enum MHD_Result page_tags(struct app *app, struct request *req)
{
	const char *tag = req->path_arg;
	/* "/tags/%23Leaves" is "/tags/leaves" too: the '#' is how people write a tag. */
	if (tag[0] == '#')
		tag++;
	size_t taglen = strlen(tag);
	char norm[HASHTAG_NORM_MAX + 1], title[HASHTAG_NORM_MAX + 16];
	size_t normlen = 0;
	bool valid = hashtags_normalise(tag, taglen, norm, &normlen);
	snprintf(title, sizeof(title), "#%s", valid ? norm : "");
	cJSON *data = page_data(valid ? title : "No such hashtag", "tags");
	cJSON_AddStringToObject(data, "tag", valid ? norm : tag);
	char url[3 * HASHTAG_NORM_MAX + 1];
	url_encode(norm, valid ? normlen : 0, url, sizeof(url));
	cJSON_AddStringToObject(data, "tag_url", url);
	if (!valid) {
		static const char not_tag[] =
			"That is not a hashtag: a tag is 1 to 64 letters, digits, _ or emoji.";
		page_message(data, false, not_tag);
		return reply_page_refusal(app, req, MHD_HTTP_NOT_FOUND, "tags", data, not_tag);
	}
	unsigned shown = 0;
	if (!page_add_feed(app, data, norm, normlen, request_arg(req, "before"), &shown)) {
		static const char damaged[] =
			"That link to older images is damaged; start from the newest.";
		page_message(data, false, damaged);
		return reply_page_refusal(app, req, MHD_HTTP_BAD_REQUEST, "tags", data, damaged);
	}
	/* A tag nobody uses is no page: 404, saying so. */
	if (!shown && !cJSON_GetObjectItem(data, "paged") && !cJSON_GetObjectItem(data, "error")) {
		char none[HASHTAG_NORM_MAX + 64];
		snprintf(none, sizeof(none), "no images carry the hashtag #%s", norm);
		cJSON_AddBoolToObject(data, "none", true);
		return reply_page_refusal(app, req, MHD_HTTP_NOT_FOUND, "tags", data, none);
	}
	return reply_page(app, req, cJSON_GetObjectItem(data, "error") ? MHD_HTTP_SERVICE_UNAVAILABLE
								    : MHD_HTTP_OK,
			  "tags", data);
}
