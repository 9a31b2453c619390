/* unit_tpl: cmocka tests of the template renderer over templates written to a temporary folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/tpl.h"

enum {
	ERR_LEN = 512,   /* room for any load error */
	PATH_LEN = 4096, /* room for a file path in the temporary folder */
	MAX_DEPTH = 32,  /* the renderer's limit on stacked contexts and nested sections */
	DIR_MODE = 0700, /* a subfolder made to stand in for an unreadable template */
};

static const char DIR_PATTERN[] = "/tmp/unit_tpl.XXXXXX";

/* A file to write into a test folder; text NULL makes a folder of that name instead. */
struct file {
	const char *name;
	const char *text;
};

#define FILES(...) ((const struct file[]){__VA_ARGS__}), \
	(sizeof((const struct file[]){__VA_ARGS__}) / sizeof(struct file))

/* ---- the temporary folder ---- */

static void write_file(const char *dir, const struct file *f)
{
	char path[PATH_LEN];
	assert_true(snprintf(path, sizeof(path), "%s/%s", dir, f->name) < PATH_LEN);
	if (!f->text) {
		assert_int_equal(mkdir(path, DIR_MODE), 0);
		return;
	}
	FILE *out = fopen(path, "w");
	assert_non_null(out);
	assert_true(fputs(f->text, out) >= 0);
	assert_int_equal(fclose(out), 0);
}

/* A fresh folder holding files; the caller removes it with remove_dir. */
static char *make_dir(const struct file *files, size_t n)
{
	char *dir = strdup(DIR_PATTERN);
	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < n; i++)
		write_file(dir, &files[i]);
	return dir;
}

/* Removes the folder, its files and its (empty) subfolders, and frees its name. */
static void remove_dir(char *dir)
{
	DIR *d = opendir(dir);
	const struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		char path[PATH_LEN];
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) != 0)
			rmdir(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
}

/* ---- the set of good templates every render test shares ---- */

struct fixture {
	char *dir;
	struct tpl_set *set;
	char *deep_ok;  /* MAX_DEPTH - 1 nested sections: with the page data, exactly the limit */
	char *deep_bad; /* MAX_DEPTH nested sections: one context too many */
};

static char *nested_sections(int levels)
{
	struct buf b = BUF_INIT;
	for (int i = 0; i < levels; i++)
		assert_true(buf_puts(&b, "{{#a}}"));
	assert_true(buf_puts(&b, "x"));
	for (int i = 0; i < levels; i++)
		assert_true(buf_puts(&b, "{{/a}}"));
	return buf_steal(&b);
}

static int setup_set(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	assert_non_null(fx);
	fx->deep_ok = nested_sections(MAX_DEPTH - 1);
	fx->deep_bad = nested_sections(MAX_DEPTH);
	fx->dir = make_dir(FILES(
		{"esc.html", "{{v}}"},
		{"raw.html", "{{{v}}}|{{{ v }}}"},
		{"value.html", "[{{v}}]"},
		{"dotted.html", "{{a.b.c}}|{{a.b}}|{{a.x.y}}|{{nope.b}}|{{a.b.c.d}}"},
		{"list.html", "<ul>{{#photos}}<li>{{title}} by {{owner}}</li>{{/photos}}</ul>"},
		{"tags.html", "{{#tags}}[{{.}}]{{/tags}}"},
		{"flag.html", "{{#v}}yes{{/v}}{{^v}}no{{/v}}"},
		{"user.html", "{{#user}}{{name}} on {{site}}{{/user}}"},
		{"nested.html", "{{#albums}}{{title}}:{{#photos}} {{.}}{{/photos}};{{/albums}}"},
		{"header.html", "<title>{{title}}</title>\n"},
		{"footer.html", "<footer>{{year}}</footer>\n"},
		{"item.html", "<p>{{name}}</p>"},
		{"page.html",
		 "{{> header}}<main>{{#photos}}{{> item}}{{/photos}}</main>\n{{> footer}}"},
		{"comment.html", "a{{! one }}b{{!\nmulti\nline\n}}c"},
		{"spaces.html", "{{ name }}|{{{  name  }}}|{{# list }}{{ . }}{{/ list }}|"
				"{{^ none }}empty{{/ none }}|{{>  item }}|{{\tname\n}}"},
		{"deep_ok.html", fx->deep_ok},
		{"deep_bad.html", fx->deep_bad},
		{".hidden.html", "{{ skipped: hidden"},
		{"notes.txt", "{{ skipped: not .html"}));
	char err[ERR_LEN] = "";
	fx->set = tpl_load_dir(fx->dir, err, sizeof(err));
	if (!fx->set)
		fail_msg("load failed: %s", err);
	*state = fx;
	return 0;
}

static int teardown_set(void **state)
{
	struct fixture *fx = *state;
	tpl_free(fx->set);
	remove_dir(fx->dir);
	free(fx->deep_ok);
	free(fx->deep_bad);
	free(fx);
	return 0;
}

/* Renders name over json (NULL for no data) and checks the exact output. */
static void check_render(void **state, const char *name, const char *json, const char *expect)
{
	const struct fixture *fx = *state;
	cJSON *data = json ? cJSON_Parse(json) : NULL;
	if (json)
		assert_non_null(data);
	struct buf out = BUF_INIT;
	bool ok = tpl_render(fx->set, name, data, &out, NULL, 0);
	cJSON_Delete(data);
	if (!ok)
		buf_free(&out);
	assert_true(ok);
	assert_string_equal(out.data ? out.data : "", expect);
	buf_free(&out);
}

/* ---- rendering ---- */

static void escapes_every_special_character(void **state)
{
	check_render(state, "esc", "{\"v\":\"& < > \\\" '\"}", "&amp; &lt; &gt; &quot; &#39;");
	check_render(state, "esc", "{\"v\":\"<script>alert(1)</script>\"}",
		     "&lt;script&gt;alert(1)&lt;/script&gt;");
	check_render(state, "esc", "{\"v\":\"a&&b\"}", "a&amp;&amp;b");
	check_render(state, "esc", "{\"v\":\"plain\"}", "plain");
}

static void triple_braces_are_raw(void **state)
{
	check_render(state, "raw", "{\"v\":\"<b>&'\\\"</b>\"}", "<b>&'\"</b>|<b>&'\"</b>");
}

static void values_print_by_type(void **state)
{
	check_render(state, "value", "{\"v\":42}", "[42]");
	check_render(state, "value", "{\"v\":-3}", "[-3]");
	check_render(state, "value", "{\"v\":1234567890123}", "[1234567890123]");
	check_render(state, "value", "{\"v\":2.5}", "[2.5]");
	check_render(state, "value", "{\"v\":0}", "[0]");
	check_render(state, "value", "{\"v\":1e20}", "[1e+20]");
	check_render(state, "value", "{\"v\":true}", "[true]");
	check_render(state, "value", "{\"v\":false}", "[false]");
	check_render(state, "value", "{\"v\":null}", "[]");
	check_render(state, "value", "{\"v\":{\"a\":1}}", "[]");
	check_render(state, "value", "{\"v\":[1,2]}", "[]");
	check_render(state, "value", "{}", "[]");
	check_render(state, "value", NULL, "[]");
}

static void dotted_names_walk_objects(void **state)
{
	check_render(state, "dotted", "{\"a\":{\"b\":{\"c\":\"<deep>\"}}}", "&lt;deep&gt;||||");
	check_render(state, "dotted", "{\"a\":{\"b\":{\"c\":7}},\"nope\":\"s\"}", "7||||");
}

static void section_over_objects_sees_parent_names(void **state)
{
	check_render(state, "list",
		     "{\"owner\":\"ann\",\"photos\":[{\"title\":\"Sea\"},"
		     "{\"title\":\"<Sky>\",\"owner\":\"bob\"}]}",
		     "<ul><li>Sea by ann</li><li>&lt;Sky&gt; by bob</li></ul>");
	check_render(state, "list", "{\"owner\":\"ann\",\"photos\":[]}", "<ul></ul>");
}

static void section_over_strings_uses_dot(void **state)
{
	check_render(state, "tags", "{\"tags\":[\"cat\",\"<dog>\",3,true]}",
		     "[cat][&lt;dog&gt;][3][true]");
}

static void section_over_object_pushes_it(void **state)
{
	check_render(state, "user", "{\"site\":\"gallery\",\"user\":{\"name\":\"ann\"}}",
		     "ann on gallery");
}

static void truthy_values_render_once(void **state)
{
	check_render(state, "flag", "{\"v\":true}", "yes");
	check_render(state, "flag", "{\"v\":1}", "yes");
	check_render(state, "flag", "{\"v\":-0.5}", "yes");
	check_render(state, "flag", "{\"v\":\"x\"}", "yes");
	check_render(state, "flag", "{\"v\":{}}", "yes");
	check_render(state, "flag", "{\"v\":[0]}", "yes");
}

static void falsy_values_render_inverted(void **state)
{
	check_render(state, "flag", "{}", "no");
	check_render(state, "flag", "{\"v\":null}", "no");
	check_render(state, "flag", "{\"v\":false}", "no");
	check_render(state, "flag", "{\"v\":0}", "no");
	check_render(state, "flag", "{\"v\":\"\"}", "no");
	check_render(state, "flag", "{\"v\":[]}", "no");
}

static void sections_nest(void **state)
{
	check_render(state, "nested",
		     "{\"albums\":[{\"title\":\"A\",\"photos\":[\"1\",\"2\"]},"
		     "{\"title\":\"B\",\"photos\":[]},{\"title\":\"C\",\"photos\":[3]}]}",
		     "A: 1 2;B:;C: 3;");
}

static void partials_share_header_and_footer(void **state)
{
	check_render(state, "page",
		     "{\"title\":\"Home & more\",\"year\":2024,"
		     "\"photos\":[{\"name\":\"a\"},{\"name\":\"<b>\"}]}",
		     "<title>Home &amp; more</title>\n<main><p>a</p><p>&lt;b&gt;</p></main>\n"
		     "<footer>2024</footer>\n");
}

static void comments_render_nothing(void **state)
{
	check_render(state, "comment", "{}", "abc");
}

static void whitespace_inside_tags(void **state)
{
	check_render(state, "spaces", "{\"name\":\"<n>\",\"list\":[1,2]}",
		     "&lt;n&gt;|<n>|12|empty|<p>&lt;n&gt;</p>|&lt;n&gt;");
}

static void render_appends_to_buffer(void **state)
{
	const struct fixture *fx = *state;
	struct buf out = BUF_INIT;
	assert_true(buf_puts(&out, "before:"));
	cJSON *data = cJSON_Parse("{\"v\":\"x\"}");
	assert_non_null(data);
	bool ok = tpl_render(fx->set, "esc", data, &out, NULL, 0);
	cJSON_Delete(data);
	assert_true(ok);
	assert_string_equal(out.data, "before:x");
	buf_free(&out);
}

static void unknown_template_is_false(void **state)
{
	const struct fixture *fx = *state;
	struct buf out = BUF_INIT;
	assert_true(buf_puts(&out, "kept"));
	bool ok = tpl_render(fx->set, "missing", NULL, &out, NULL, 0);
	bool ok_hidden = tpl_render(fx->set, ".hidden", NULL, &out, NULL, 0);
	bool ok_suffix = tpl_render(fx->set, "esc.html", NULL, &out, NULL, 0);
	assert_false(ok);
	assert_false(ok_hidden);
	assert_false(ok_suffix);
	assert_string_equal(out.data, "kept");
	buf_free(&out);
}

/* A chain of objects {"a":{"a":...}} deep enough for every nested section to push one. */
static cJSON *nested_objects(int levels)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *at = root;
	for (int i = 0; at && i < levels; i++)
		at = cJSON_AddObjectToObject(at, "a");
	assert_non_null(at);
	return root;
}

static void context_depth_is_limited(void **state)
{
	const struct fixture *fx = *state;
	cJSON *data = nested_objects(MAX_DEPTH);
	struct buf out = BUF_INIT;
	assert_true(buf_puts(&out, "kept"));
	bool ok = tpl_render(fx->set, "deep_ok", data, &out, NULL, 0);
	bool too_deep = tpl_render(fx->set, "deep_bad", data, &out, NULL, 0);
	cJSON_Delete(data);
	assert_true(ok);
	assert_false(too_deep);
	assert_string_equal(out.data, "keptx");
	buf_free(&out);
}

/* ---- load errors ---- */

/* Loads files and expects exactly "<folder>/" + expect in the error. */
static void check_load_error(const struct file *files, size_t n, const char *expect)
{
	char *dir = make_dir(files, n);
	char err[ERR_LEN] = "";
	char want[ERR_LEN];
	assert_true(snprintf(want, sizeof(want), "%s/%s", dir, expect) < ERR_LEN);
	struct tpl_set *set = tpl_load_dir(dir, err, sizeof(err));
	bool loaded = set != NULL;
	tpl_free(set);
	remove_dir(dir);
	assert_false(loaded);
	assert_string_equal(err, want);
}

static void unclosed_tags(void **state)
{
	(void)state;
	check_load_error(FILES({"bad.html", "one\ntwo\nthree {{name\nfour\n"}),
			 "bad.html:3: \"{{\" without \"}}\"");
	check_load_error(FILES({"bad.html", "one\n{{name\n{{other}}\n"}),
			 "bad.html:2: \"{{\" without \"}}\"");
	check_load_error(FILES({"bad.html", "\n\n\n{{{name}}\n"}),
			 "bad.html:4: \"{{{\" without \"}}}\"");
	check_load_error(FILES({"bad.html", "{{! a comment\n\nthat never ends\n"}),
			 "bad.html:1: \"{{\" without \"}}\"");
}

static void sections_never_closed(void **state)
{
	(void)state;
	check_load_error(FILES({"bad.html", "<ul>\n{{#photos}}\n<li>\n"}),
			 "bad.html:2: {{#photos}} is never closed");
	check_load_error(FILES({"bad.html", "{{#a}}{{/a}}\n\n{{^none}}\n"}),
			 "bad.html:3: {{^none}} is never closed");
	check_load_error(FILES({"bad.html", "{{#a}}\n{{#b}}\n{{/b}}\n"}),
			 "bad.html:1: {{#a}} is never closed");
}

static void close_tags_must_match(void **state)
{
	(void)state;
	check_load_error(FILES({"bad.html", "{{#a}}\n{{#b}}\n{{/a}}\n"}),
			 "bad.html:3: {{/a}} closes {{#b}} opened at line 2");
	check_load_error(FILES({"bad.html", "\n{{^a}}\n\n\n{{/b}}"}),
			 "bad.html:5: {{/b}} closes {{^a}} opened at line 2");
	check_load_error(FILES({"bad.html", "x\n\n{{/a}}"}),
			 "bad.html:3: {{/a}} closes no section");
}

static void tag_names_must_not_be_empty(void **state)
{
	(void)state;
	check_load_error(FILES({"bad.html", "{{}}"}), "bad.html:1: empty tag name");
	check_load_error(FILES({"bad.html", "\n{{  }}"}), "bad.html:2: empty tag name");
	check_load_error(FILES({"bad.html", "\n\n{{# }}{{/}}"}), "bad.html:3: empty tag name");
	check_load_error(FILES({"bad.html", "{{#a}}\n{{/ }}"}), "bad.html:2: empty tag name");
	check_load_error(FILES({"bad.html", "\n\n\n{{>}}"}), "bad.html:4: empty tag name");
	check_load_error(FILES({"bad.html", "{{{ }}}"}), "bad.html:1: empty tag name");
}

static void tag_names_must_be_names(void **state)
{
	(void)state;
	check_load_error(FILES({"bad.html", "\n{{a b}}"}), "bad.html:2: invalid tag name \"a b\"");
	check_load_error(FILES({"bad.html", "{{a..b}}"}), "bad.html:1: invalid tag name \"a..b\"");
	check_load_error(FILES({"bad.html", "{{& a}}"}), "bad.html:1: invalid tag name \"& a\"");
}

static void partials_must_exist(void **state)
{
	(void)state;
	check_load_error(FILES({"good.html", "fine"}, {"header.html", "<h1>"},
			       {"page.html", "{{> header}}\n{{> nope}}"}),
			 "page.html:2: {{> nope}} names no template in the folder");
	check_load_error(FILES({"page.html", "{{#a}}\n\n{{> gone}}{{/a}}"}),
			 "page.html:3: {{> gone}} names no template in the folder");
}

static void partial_cycles_are_refused(void **state)
{
	(void)state;
	check_load_error(FILES({"me.html", "x\n{{> me}}"}), "me.html:2: partial cycle: me -> me");
	check_load_error(FILES({"a.html", "{{> b}}"}, {"b.html", "b\n{{> c}}"},
			       {"c.html", "\n\n{{#x}}{{> a}}{{/x}}"}, {"d.html", "{{> a}}"}),
			 "c.html:3: partial cycle: a -> b -> c -> a");
}

static void lines_count_across_tags(void **state)
{
	(void)state;
	check_load_error(FILES({"bad.html", "{{!\n\n}}\n{{ \nname\n}}\n{{/x}}"}),
			 "bad.html:7: {{/x}} closes no section");
}

static void sections_nest_only_so_deep(void **state)
{
	(void)state;
	char *text = nested_sections(MAX_DEPTH + 1);
	char want[ERR_LEN];
	snprintf(want, sizeof(want), "deep.html:1: sections nested deeper than %d", MAX_DEPTH);
	check_load_error(FILES({"deep.html", text}), want);
	free(text);
}

static void unreadable_template(void **state)
{
	(void)state;
	check_load_error(FILES({"ok.html", "x"}, {"dir.html", NULL}),
			 "dir.html: cannot read: Is a directory");
}

static void unreadable_folder(void **state)
{
	(void)state;
	char *dir = make_dir(NULL, 0);
	char missing[PATH_LEN];
	assert_true(snprintf(missing, sizeof(missing), "%s/none", dir) < PATH_LEN);
	char err[ERR_LEN] = "";
	struct tpl_set *set = tpl_load_dir(missing, err, sizeof(err));
	bool loaded = set != NULL;
	tpl_free(set);
	char want[ERR_LEN];
	assert_true(snprintf(want, sizeof(want), "%s: cannot open folder: %s", missing,
			     "No such file or directory") < ERR_LEN);
	remove_dir(dir);
	assert_false(loaded);
	assert_string_equal(err, want);
}

static void empty_folder_loads(void **state)
{
	(void)state;
	char *dir = make_dir(NULL, 0);
	char err[ERR_LEN] = "";
	struct tpl_set *set = tpl_load_dir(dir, err, sizeof(err));
	struct buf out = BUF_INIT;
	bool rendered = set && tpl_render(set, "index", NULL, &out, NULL, 0);
	bool loaded = set != NULL;
	tpl_free(set);
	buf_free(&out);
	remove_dir(dir);
	assert_true(loaded);
	assert_false(rendered);
}

/* ---- templates from memory ---- */

#define SOURCES(...) ((const struct tpl_source[]){__VA_ARGS__}), \
	(sizeof((const struct tpl_source[]){__VA_ARGS__}) / sizeof(struct tpl_source))
#define SOURCE(name, text) {(name), (text), sizeof(text) - 1}

static void sources_load_and_render(void **state)
{
	(void)state;
	char err[ERR_LEN] = "";
	struct tpl_set *set = tpl_load_sources(
		SOURCES(SOURCE("page", "{{> head}}<p>{{v}}</p>"), SOURCE("head", "<h1>{{t}}</h1>")),
		err, sizeof(err));
	if (!set)
		fail_msg("load failed: %s", err);
	cJSON *data = cJSON_Parse("{\"t\":\"A&B\",\"v\":1}");
	struct buf out = BUF_INIT;
	assert_true(tpl_render(set, "page", data, &out, NULL, 0));
	assert_string_equal(out.data, "<h1>A&amp;B</h1><p>1</p>");
	buf_free(&out);
	cJSON_Delete(data);
	tpl_free(set);
}

static void check_sources_error(const struct tpl_source *sources, size_t n, const char *expect)
{
	char err[ERR_LEN] = "";
	struct tpl_set *set = tpl_load_sources(sources, n, err, sizeof(err));
	bool loaded = set != NULL;
	tpl_free(set);
	assert_false(loaded);
	assert_string_equal(err, expect);
}

static void sources_errors_name_the_template(void **state)
{
	(void)state;
	check_sources_error(SOURCES(SOURCE("a", "ok"), SOURCE("b", "\n{{#x}}")),
			    "b:2: {{#x}} is never closed");
	check_sources_error(SOURCES(SOURCE("t", "one"), SOURCE("t", "two")),
			    "t: two templates of this name");
	check_sources_error(SOURCES(SOURCE("a", "{{> b}}"), SOURCE("b", "{{> a}}")),
			    "b:1: partial cycle: a -> b -> a");
}

/* Nine sections nested over a list of ten would render the innermost a billion times. */
static void runaway_render_is_refused(void **state)
{
	(void)state;
	char *text = NULL;
	struct buf b = BUF_INIT;
	for (int i = 0; i < 9; i++)
		assert_true(buf_puts(&b, "{{#a}}"));
	assert_true(buf_puts(&b, "x"));
	for (int i = 0; i < 9; i++)
		assert_true(buf_puts(&b, "{{/a}}"));
	size_t len = b.len;
	text = buf_steal(&b);
	struct tpl_source source = {"bomb", text, len};
	char err[ERR_LEN] = "";
	struct tpl_set *set = tpl_load_sources(&source, 1, err, sizeof(err));
	if (!set)
		fail_msg("load failed: %s", err);
	cJSON *data = cJSON_Parse("{\"a\":[1,2,3,4,5,6,7,8,9,10]}");
	struct buf out = BUF_INIT;
	assert_true(buf_puts(&out, "kept"));
	bool rendered = tpl_render(set, "bomb", data, &out, NULL, 0);
	cJSON_Delete(data);
	tpl_free(set);
	free(text);
	assert_false(rendered);
	assert_string_equal(out.data, "kept");
	buf_free(&out);
}

/* ---- strict rendering ---- */

/* Renders page of sources over json in a strict set; the error, or "" when it rendered as expect. */
static void check_strict(const struct tpl_source *sources, size_t n, const char *json,
			 const char *expect, const char *expect_err)
{
	char err[ERR_LEN] = "";
	struct tpl_set *set = tpl_load_sources(sources, n, err, sizeof(err));
	if (!set)
		fail_msg("load failed: %s", err);
	tpl_set_strict(set, true);
	cJSON *data = cJSON_Parse(json);
	assert_non_null(data);
	struct buf out = BUF_INIT;
	assert_true(buf_puts(&out, "kept|"));
	bool rendered = tpl_render(set, "page", data, &out, err, sizeof(err));
	cJSON_Delete(data);
	tpl_free(set);
	if (expect_err) {
		if (rendered)
			fail_msg("rendered \"%s\" instead of failing with \"%s\"", out.data,
				 expect_err);
		assert_string_equal(err, expect_err);
		/* No half page. */
		assert_string_equal(out.data, "kept|");
	} else {
		if (!rendered)
			fail_msg("failed: %s", err);
		assert_string_equal(out.data + strlen("kept|"), expect);
	}
	buf_free(&out);
}

static void strict_missing_names_fail_with_template_and_line(void **state)
{
	(void)state;
	check_strict(SOURCES(SOURCE("page", "<h1>{{title}}</h1>\n<p>{{body}}</p>")),
		     "{\"title\":\"x\"}", NULL, "page:2: {{body}} names no value in the page's data");
	check_strict(SOURCES(SOURCE("page", "{{{html}}}")), "{}", NULL,
		     "page:1: {{{html}}} names no value in the page's data");
	/* A dotted name needs every part. */
	check_strict(SOURCES(SOURCE("page", "{{image.width}}")), "{\"image\":{}}", NULL,
		     "page:1: {{image.width}} names no value in the page's data");
	/* Inside a section, in the template where the tag is. */
	check_strict(SOURCES(SOURCE("page", "{{> head}}{{#list}}{{n}}{{/list}}"),
			     SOURCE("head", "<title>\n{{t}}</title>")),
		     "{\"list\":[{\"n\":1}]}", NULL,
		     "head:2: {{t}} names no value in the page's data");
	check_strict(SOURCES(SOURCE("page", "{{#list}}{{n}}\n{{m}}{{/list}}")),
		     "{\"list\":[{\"n\":1,\"m\":2},{\"n\":3}]}", NULL,
		     "page:2: {{m}} names no value in the page's data");
}

static void strict_accepts_null_false_empty_and_outer_names(void **state)
{
	(void)state;
	check_strict(SOURCES(SOURCE("page", "[{{a}}|{{b}}|{{c}}|{{#d}}x{{/d}}{{^a}}none{{/a}}]")),
		     "{\"a\":null,\"b\":false,\"c\":\"\",\"d\":[]}", "[|false||none]", NULL);
	check_strict(SOURCES(SOURCE("page", "{{#items}}{{title}}{{n}};{{/items}}")),
		     "{\"title\":\"T\",\"items\":[{\"n\":1},{\"n\":2}]}", "T1;T2;", NULL);
	/* A section asks whether a value is there: absent is false, and its body is skipped. */
	check_strict(SOURCES(SOURCE("page", "{{#user}}{{user.name}}{{/user}}-")),
		     "{\"user\":null}", "-", NULL);
	check_strict(SOURCES(SOURCE("page", "a{{#items}}{{x}}{{/items}}{{^items}}none{{/items}}")),
		     "{}", "anone", NULL);
	check_strict(SOURCES(SOURCE("page", "{{#error}}<p>{{error}}</p>{{/error}}.")), "{}", ".",
		     NULL);
}

static void lenient_by_default_and_strict_can_be_turned_off(void **state)
{
	(void)state;
	char err[ERR_LEN] = "";
	struct tpl_set *set = tpl_load_sources(SOURCES(SOURCE("page", "[{{x}}{{#y}}y{{/y}}]")),
					       err, sizeof(err));
	if (!set)
		fail_msg("load failed: %s", err);
	cJSON *data = cJSON_Parse("{}");
	struct buf out = BUF_INIT;
	assert_true(tpl_render(set, "page", data, &out, err, sizeof(err)));
	assert_string_equal(out.data, "[]");
	tpl_set_strict(set, true);
	assert_false(tpl_render(set, "page", data, &out, err, sizeof(err)));
	assert_string_equal(err, "page:1: {{x}} names no value in the page's data");
	tpl_set_strict(set, false);
	assert_true(tpl_render(set, "page", data, &out, err, sizeof(err)));
	assert_string_equal(out.data, "[][]");
	/* Every failure says why. */
	assert_false(tpl_render(set, "nothing", data, &out, err, sizeof(err)));
	assert_string_equal(err, "nothing: no such template");
	buf_free(&out);
	cJSON_Delete(data);
	tpl_free(set);
}

int main(void)
{
	const struct CMUnitTest render_tests[] = {
		cmocka_unit_test(escapes_every_special_character),
		cmocka_unit_test(triple_braces_are_raw),
		cmocka_unit_test(values_print_by_type),
		cmocka_unit_test(dotted_names_walk_objects),
		cmocka_unit_test(section_over_objects_sees_parent_names),
		cmocka_unit_test(section_over_strings_uses_dot),
		cmocka_unit_test(section_over_object_pushes_it),
		cmocka_unit_test(truthy_values_render_once),
		cmocka_unit_test(falsy_values_render_inverted),
		cmocka_unit_test(sections_nest),
		cmocka_unit_test(partials_share_header_and_footer),
		cmocka_unit_test(comments_render_nothing),
		cmocka_unit_test(whitespace_inside_tags),
		cmocka_unit_test(render_appends_to_buffer),
		cmocka_unit_test(unknown_template_is_false),
		cmocka_unit_test(context_depth_is_limited),
	};
	const struct CMUnitTest load_tests[] = {
		cmocka_unit_test(unclosed_tags),
		cmocka_unit_test(sections_never_closed),
		cmocka_unit_test(close_tags_must_match),
		cmocka_unit_test(tag_names_must_not_be_empty),
		cmocka_unit_test(tag_names_must_be_names),
		cmocka_unit_test(partials_must_exist),
		cmocka_unit_test(partial_cycles_are_refused),
		cmocka_unit_test(lines_count_across_tags),
		cmocka_unit_test(sections_nest_only_so_deep),
		cmocka_unit_test(unreadable_template),
		cmocka_unit_test(unreadable_folder),
		cmocka_unit_test(empty_folder_loads),
	};
	int failed = cmocka_run_group_tests_name("render", render_tests, setup_set, teardown_set);
	failed += cmocka_run_group_tests_name("load errors", load_tests, NULL, NULL);
	const struct CMUnitTest source_tests[] = {
		cmocka_unit_test(sources_load_and_render),
		cmocka_unit_test(sources_errors_name_the_template),
		cmocka_unit_test(runaway_render_is_refused),
	};
	failed += cmocka_run_group_tests_name("from memory", source_tests, NULL, NULL);
	const struct CMUnitTest strict_tests[] = {
		cmocka_unit_test(strict_missing_names_fail_with_template_and_line),
		cmocka_unit_test(strict_accepts_null_false_empty_and_outer_names),
		cmocka_unit_test(lenient_by_default_and_strict_can_be_turned_off),
	};
	failed += cmocka_run_group_tests_name("strict", strict_tests, NULL, NULL);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
