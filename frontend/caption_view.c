/* caption_view: a caption as pages show it: text with its hashtags as links, shortened in grids. */
#include "caption_view.h"

#include <stdlib.h>
#include <string.h>

#include "common/url.h"
#include "core/hashtags.h"

enum { TAG_URL_MAX = 3 * HASHTAG_NORM_MAX + 1 };

/* A cJSON string of exactly len bytes. */
static cJSON *string_n(const char *s, size_t len)
{
	char *copy = malloc(len + 1);
	if (!copy)
		return NULL;
	memcpy(copy, s, len);
	copy[len] = '\0';
	cJSON *item = cJSON_CreateString(copy);
	free(copy);
	return item;
}

static bool add_part(cJSON *parts, const char *name, const char *url_name, const char *s,
		     size_t len, const char *norm)
{
	cJSON *part = cJSON_CreateObject();
	cJSON *text = string_n(s, len);
	bool ok = part && text && cJSON_AddItemToObject(part, name, text);
	if (!ok)
		cJSON_Delete(text);
	if (ok && norm) {
		char url[TAG_URL_MAX];
		url_encode(norm, strlen(norm), url, sizeof(url));
		ok = cJSON_AddStringToObject(part, url_name, url) != NULL;
	}
	if (ok && cJSON_AddItemToArray(parts, part))
		return true;
	cJSON_Delete(part);
	return false;
}

/* Where text is cut to chars characters (a UTF-8 boundary), or len when it is short. */
static size_t cut_at(const char *text, size_t len, size_t chars)
{
	size_t seen = 0;
	for (size_t i = 0; i < len; i++) {
		if (((unsigned char)text[i] & 0xC0) == 0x80)
			continue;
		if (seen++ == chars)
			return i;
	}
	return len;
}

static bool is_kept(const struct hashtags *tags, const char *norm, size_t normlen)
{
	for (unsigned i = 0; i < tags->n; i++)
		if (tags->tags[i].normlen == normlen && memcmp(tags->tags[i].norm, norm, normlen) == 0)
			return true;
	return false;
}

bool caption_view_add(cJSON *img, const char *caption, size_t len, size_t short_chars)
{
	if (len == 0)
		return true;
	struct hashtags *tags = malloc(sizeof(*tags));
	if (!tags)
		return false;
	hashtags_extract(caption, len, tags);
	size_t cut = short_chars ? cut_at(caption, len, short_chars) : len;
	/* A tag that straddles the cut is kept whole: a cut tag would link elsewhere. */
	for (unsigned i = 0; i < tags->n; i++)
		if (tags->tags[i].start < cut && tags->tags[i].start + tags->tags[i].len > cut)
			cut = tags->tags[i].start + tags->tags[i].len;
	cJSON *parts = cJSON_AddArrayToObject(img, "caption_parts");
	cJSON *list = cJSON_AddArrayToObject(img, "tags");
	cJSON *whole = string_n(caption, len);
	bool ok = parts && list && whole && cJSON_AddItemToObject(img, "caption", whole);
	if (!ok)
		cJSON_Delete(whole);
	/*
	 * Found in the whole text, so that the cut makes no tag of a run that is
	 * none. Every occurrence of a kept tag links; those past the 30 stay text.
	 */
	size_t at = 0, scan = 0, start, end, normlen;
	char norm[HASHTAG_NORM_MAX + 1];
	while (ok && scan < cut && hashtags_next(caption, len, scan, &start, &end, norm, &normlen) &&
	       start < cut) {
		scan = end;
		if (!is_kept(tags, norm, normlen))
			continue;
		if (start > at)
			ok = add_part(parts, "part_text", NULL, caption + at, start - at, NULL);
		ok = ok && add_part(parts, "part_tag", "part_url", caption + start, end - start, norm);
		at = end;
	}
	if (ok && at < cut)
		ok = add_part(parts, "part_text", NULL, caption + at, cut - at, NULL);
	for (unsigned i = 0; ok && i < tags->n; i++)
		ok = add_part(list, "tag_name", "tag_url", caption + tags->tags[i].start,
			      tags->tags[i].len, tags->tags[i].norm);
	if (ok && cut < len)
		ok = cJSON_AddBoolToObject(img, "caption_cut", true) != NULL;
	if (ok && tags->dropped)
		ok = cJSON_AddNumberToObject(img, "tags_dropped", tags->dropped) != NULL;
	free(tags);
	return ok;
}
