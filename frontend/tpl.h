/* tpl: HTML page templates (a mustache subset), loaded and checked once at start. */
#ifndef GALLERY_TPL_H
#define GALLERY_TPL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/* Every template of one folder, parsed once; read-only afterwards, so threads may share it. */
struct tpl_set;

/*
 * Loads every "*.html" file of dir (not its subfolders); a template's name is its file
 * name without ".html". Any syntax error, a partial naming no template of the folder or
 * a cycle of partials stops loading: err gets "path:line: message" and NULL comes back.
 */
struct tpl_set *tpl_load_dir(const char *dir, char *err, size_t errlen);

/* One template given as text instead of a file: what tpl_load_dir reads from name.html. */
struct tpl_source {
	const char *name;
	const char *text; /* len bytes, copied by loading */
	size_t len;
};

/*
 * Like tpl_load_dir, over n templates in memory; err reads "name:line: message".
 * Two templates of one name are an error too.
 */
struct tpl_set *tpl_load_sources(const struct tpl_source *sources, size_t n, char *err,
				 size_t errlen);

/*
 * Strict rendering, for tests: {{x}} or {{{x}}} naming a value the data lacks fails
 * the render; otherwise it prints nothing. A value that is present but null or
 * false is never an error, and sections ({{#x}}, {{^x}}) test for a value, so an
 * absent one is simply false. Call before the set is shared between threads.
 */
void tpl_set_strict(struct tpl_set *set, bool strict);

/*
 * Appends template name rendered over data (which may be NULL) to out. False when there
 * is no such template, contexts nest too deep, the page runs away (over 4 Mi nodes
 * rendered or 32 MB written, as sections nested over long lists can), a strict set
 * meets a missing name, or memory runs out; out is then unchanged and err (which may
 * be NULL) reads "path:line: message" for the tag where rendering stopped.
 */
bool tpl_render(const struct tpl_set *set, const char *name, const cJSON *data, struct buf *out,
		char *err, size_t errlen);

void tpl_free(struct tpl_set *set);

#endif
