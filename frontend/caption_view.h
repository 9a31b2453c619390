/* caption_view: a caption as pages show it: text with its hashtags as links, shortened in grids. */
#ifndef GALLERY_CAPTION_VIEW_H
#define GALLERY_CAPTION_VIEW_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Characters a caption keeps in a grid. */
enum { CAPTION_VIEW_SHORT = 140 };

/*
 * Adds to a page's image entry: "caption" (the text, for the edit form),
 * "caption_parts" (a list of {"part_text"} and {"part_tag", "part_url"}, the
 * tags as written, each linking to /tags/<its normal form>), "caption_cut"
 * when the text was cut to short_chars characters (0: never; a tag is never
 * cut), "tags" ({"tag_name" as first written, "tag_url"}) and "tags_dropped",
 * the number of tags past the 30 kept. Nothing for an empty caption. Names no
 * template uses elsewhere, since a section looks names up outwards. False when
 * memory runs out.
 */
bool caption_view_add(cJSON *img, const char *caption, size_t len, size_t short_chars);

#endif
