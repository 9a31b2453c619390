/*
 * fuzz_tpl: the template renderer over templates and values from the input.
 * Input: JSON values, then templates, each after a line "--- name":
 *   {"title":"x"}
 *   --- page
 *   <h1>{{title}}</h1>{{> footer}}
 *   --- footer
 *   ...
 * Every template that loads is rendered over the values (or none, when they
 * are not JSON).
 */
#include <string.h>

#include "frontend/tpl.h"
#include "tests/fuzz/fuzz.h"

enum { MAX_TEMPLATES = 64, ERR_LEN = 512, NAME_MAX_BYTES = 64 };

static const char MARK[] = "--- "; /* starts a line that names the next template */
static const char PREFIX[] = "<!-- before -->";

struct input {
	struct tpl_source sources[MAX_TEMPLATES];
	char names[MAX_TEMPLATES][NAME_MAX_BYTES];
	size_t n;
	const char *values;
	size_t values_len;
};

/* The first MARK at or after from that starts a line, or NULL. */
static const char *find_mark(const char *data, const char *from, const char *end)
{
	const char *p = from;
	while ((p = memmem(p, (size_t)(end - p), MARK, strlen(MARK))) != NULL) {
		if (p == data || p[-1] == '\n')
			return p;
		p++;
	}
	return NULL;
}

static void split_input(struct input *in, const char *data, size_t size)
{
	const char *end = data + size;
	const char *mark = find_mark(data, data, end);
	in->values = data;
	in->values_len = (size_t)((mark ? mark : end) - data);
	while (mark && in->n < MAX_TEMPLATES) {
		const char *name = mark + strlen(MARK);
		const char *nl = memchr(name, '\n', (size_t)(end - name));
		const char *text = nl ? nl + 1 : end;
		size_t name_len = (size_t)((nl ? nl : end) - name);
		if (name_len >= NAME_MAX_BYTES)
			name_len = NAME_MAX_BYTES - 1;
		memcpy(in->names[in->n], name, name_len);
		in->names[in->n][name_len] = '\0';
		mark = find_mark(data, text, end);
		in->sources[in->n] = (struct tpl_source){
			.name = in->names[in->n], .text = text, .len = (size_t)((mark ? mark : end) - text)};
		in->n++;
	}
}

static void check_render(const struct tpl_set *set, const char *name, const cJSON *values)
{
	struct buf out = BUF_INIT;
	FUZZ_CHECK(buf_puts(&out, PREFIX));
	char err[ERR_LEN] = "";
	bool ok = tpl_render(set, name, values, &out, err, sizeof(err));
	/* What was in the buffer stays; a failed render adds nothing to it and says why. */
	FUZZ_CHECK(out.len >= strlen(PREFIX) && memcmp(out.data, PREFIX, strlen(PREFIX)) == 0);
	if (!ok)
		FUZZ_CHECK(out.len == strlen(PREFIX) && err[0] != '\0');
	FUZZ_CHECK(out.data[out.len] == '\0');
	buf_free(&out);
}

int fuzz_tpl_one(const uint8_t *data, size_t size)
{
	struct input in = {0};
	split_input(&in, (const char *)data, size);
	char err[ERR_LEN] = "";
	struct tpl_set *set = tpl_load_sources(in.sources, in.n, err, sizeof(err));
	if (!set) {
		/* A template that does not load says where and why. */
		FUZZ_CHECK(err[0] != '\0');
		return 0;
	}
	cJSON *values = cJSON_ParseWithLength(in.values, in.values_len);
	for (size_t i = 0; i < in.n; i++)
		check_render(set, in.names[i], values);
	tpl_set_strict(set, true);
	for (size_t i = 0; i < in.n; i++)
		check_render(set, in.names[i], values);
	cJSON_Delete(values);
	tpl_free(set);
	return 0;
}
