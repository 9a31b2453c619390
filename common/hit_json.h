/* hit_json: the answer that carries an image, {"success":"true","content":"<base64>"}. */
#ifndef GALLERY_HIT_JSON_H
#define GALLERY_HIT_JSON_H

/*
 * memcache stores each value whole in this shape, and the front end sends a
 * hit on to its client as it came.
 */
#define HIT_JSON_HEAD "{\"success\":\"true\",\"content\":\""
#define HIT_JSON_TAIL "\"}"

#endif
