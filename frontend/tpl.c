/* tpl: parses a folder of mustache-style templates once and renders them over cJSON data. */
#include "tpl.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	TPL_MAX_DEPTH = 32,    /* contexts stacked while rendering; sections nested in one file */
	/*
	 * Sections nested over lists multiply: three over a list of 1000 items
	 * render the innermost 10^9 times. Our largest page takes a few thousand
	 * steps and well under a MB; these bounds stop a runaway render early.
	 */
	TPL_MAX_RENDER_STEPS = 1 << 22,
	TPL_MAX_PAGE_BYTES = 32 << 20,
	TPL_READ_CHUNK = 4096, /* bytes read from a template file at a time */
	TPL_FIRST_CAP = 8,     /* first capacity of a growing array */
};

/* Whole numbers smaller than 2^53 are exact in a double, so they print as integers. */
static const double TPL_EXACT_INT_LIMIT = 9007199254740992.0;

#define LIT_LEN(s) (sizeof(s) - 1)
static const char TPL_SUFFIX[] = ".html";
static const char TAG_OPEN[] = "{{";
static const char TAG_CLOSE[] = "}}";
static const char RAW_OPEN[] = "{{{";
static const char RAW_CLOSE[] = "}}}";

enum node_kind {
	NODE_TEXT,
	NODE_VAR,      /* {{name}}, escaped */
	NODE_RAW,      /* {{{name}}} */
	NODE_SECTION,  /* {{#name}}...{{/name}} */
	NODE_INVERTED, /* {{^name}}...{{/name}} */
	NODE_PARTIAL,  /* {{> name}} */
	NODE_CLOSE,    /* {{/name}}: only seen while parsing, never stored */
	NODE_COMMENT,  /* {{! ...}}: only seen while parsing, never stored */
};

struct node;

struct node_list {
	struct node *items;
	size_t len;
	size_t cap;
};

struct node {
	enum node_kind kind;
	const char *text;      /* literal text or tag name; points into the template's src */
	size_t len;            /* of text, which is not NUL-terminated */
	int line;              /* where the node starts, for load errors */
	size_t target;         /* NODE_PARTIAL: index of the included template, set by linking */
	struct node_list body; /* NODE_SECTION and NODE_INVERTED */
};

struct tpl {
	char *name; /* file name without ".html" */
	char *path; /* for error messages */
	char *src;  /* the file's text, owned here; every node of the template points into it */
	size_t src_len;
	struct node_list nodes;
};

struct tpl_set {
	struct tpl *items; /* sorted by name */
	size_t len;
	size_t cap;
	bool strict; /* a tag naming no value fails the render (tpl_set_strict) */
};

/* ---- errors ---- */

/* Appends to a caller's error buffer at *off, never past its end. */
static void err_vadd(char *err, size_t errlen, size_t *off, const char *fmt, va_list ap)
{
	if (*off >= errlen)
		return;
	int n = vsnprintf(err + *off, errlen - *off, fmt, ap);
	if (n > 0)
		*off += (size_t)n;
}

__attribute__((format(printf, 4, 5))) static void err_add(char *err, size_t errlen, size_t *off,
							   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vadd(err, errlen, off, fmt, ap);
	va_end(ap);
}

/* ---- growing arrays ---- */

/* Makes room for one more item: the (maybe moved) array, or NULL with the old one intact. */
static void *grow(void *items, size_t len, size_t *cap, size_t size)
{
	if (len < *cap)
		return items;
	size_t n = *cap ? *cap * 2 : TPL_FIRST_CAP;
	if (n < *cap || n > SIZE_MAX / size)
		return NULL;
	void *p = realloc(items, n * size);
	if (p)
		*cap = n;
	return p;
}

static struct node *node_add(struct node_list *list, enum node_kind kind, int line)
{
	struct node *items = grow(list->items, list->len, &list->cap, sizeof(*items));
	if (!items)
		return NULL;
	list->items = items;
	struct node *n = &items[list->len++];
	*n = (struct node){.kind = kind, .line = line};
	return n;
}

static void nodes_free(struct node_list *list)
{
	for (size_t i = 0; i < list->len; i++)
		nodes_free(&list->items[i].body);
	free(list->items);
	*list = (struct node_list){0};
}

/* ---- parsing ---- */

struct parser {
	const char *path;
	const char *pos;
	const char *end;
	int line; /* of pos */
	char *err;
	size_t errlen;
};

struct tag {
	enum node_kind kind;
	const char *name;
	size_t len;
	int line;
};

__attribute__((format(printf, 3, 4))) static bool parse_fail(struct parser *p, int line,
							      const char *fmt, ...)
{
	size_t off = 0;
	err_add(p->err, p->errlen, &off, "%s:%d: ", p->path, line);
	va_list ap;
	va_start(ap, fmt);
	err_vadd(p->err, p->errlen, &off, fmt, ap);
	va_end(ap);
	return false;
}

/* Moves the parser to `to`, counting the lines passed. */
static void advance(struct parser *p, const char *to)
{
	const char *nl;
	while ((nl = memchr(p->pos, '\n', (size_t)(to - p->pos))) != NULL) {
		p->line++;
		p->pos = nl + 1;
	}
	p->pos = to;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* "." alone, or dot-separated parts that are not empty. */
static bool valid_name(const char *s, size_t len)
{
	if (len == 1 && s[0] == '.')
		return true;
	bool part_start = true;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.' && !part_start) {
			part_start = true;
			continue;
		}
		if (!is_name_char(s[i]))
			return false;
		part_start = false;
	}
	return !part_start;
}

static enum node_kind sigil_kind(char c)
{
	switch (c) {
	case '#':
		return NODE_SECTION;
	case '^':
		return NODE_INVERTED;
	case '/':
		return NODE_CLOSE;
	case '>':
		return NODE_PARTIAL;
	case '!':
		return NODE_COMMENT;
	default:
		return NODE_VAR;
	}
}

static char section_sigil(enum node_kind kind)
{
	return kind == NODE_INVERTED ? '^' : '#';
}

/* Splits what is between the braces into a kind and a name without surrounding spaces. */
static void classify_tag(const char *s, const char *end, bool raw, struct tag *tag)
{
	while (s < end && is_space(*s))
		s++;
	tag->kind = raw ? NODE_RAW : NODE_VAR;
	if (!raw && s < end && sigil_kind(*s) != NODE_VAR)
		tag->kind = sigil_kind(*s++);
	while (s < end && is_space(*s))
		s++;
	while (end > s && is_space(end[-1]))
		end--;
	tag->name = s;
	tag->len = (size_t)(end - s);
}

static bool check_name(struct parser *p, const struct tag *tag)
{
	if (tag->kind == NODE_COMMENT)
		return true;
	if (tag->len == 0)
		return parse_fail(p, tag->line, "empty tag name");
	if (!valid_name(tag->name, tag->len))
		return parse_fail(p, tag->line, "invalid tag name \"%.*s\"", (int)tag->len,
				  tag->name);
	return true;
}

/* Reads the tag that starts at p->pos and moves past it. */
static bool read_tag(struct parser *p, struct tag *tag)
{
	size_t left = (size_t)(p->end - p->pos);
	bool raw = left >= LIT_LEN(RAW_OPEN) && memcmp(p->pos, RAW_OPEN, LIT_LEN(RAW_OPEN)) == 0;
	const char *open = raw ? RAW_OPEN : TAG_OPEN;
	const char *close = raw ? RAW_CLOSE : TAG_CLOSE;
	const char *inner = p->pos + strlen(open);
	const char *stop = memmem(inner, (size_t)(p->end - inner), close, strlen(close));
	const char *stop_or_end = stop ? stop : p->end;
	/* "{{a {{b}}" is an unclosed tag, not a tag with a strange name. */
	bool reopened =
		memmem(inner, (size_t)(stop_or_end - inner), TAG_OPEN, LIT_LEN(TAG_OPEN)) != NULL;
	tag->line = p->line;
	if (!stop || reopened)
		return parse_fail(p, p->line, "\"%s\" without \"%s\"", open, close);
	classify_tag(inner, stop, raw, tag);
	advance(p, stop + strlen(close));
	return check_name(p, tag);
}

static bool add_text(struct parser *p, struct node_list *list, const char *end)
{
	struct node *n = node_add(list, NODE_TEXT, p->line);
	if (!n)
		return parse_fail(p, p->line, "out of memory");
	n->text = p->pos;
	n->len = (size_t)(end - p->pos);
	advance(p, end);
	return true;
}

static bool close_section(struct parser *p, const struct node *open, const struct tag *tag)
{
	if (!open)
		return parse_fail(p, tag->line, "{{/%.*s}} closes no section", (int)tag->len,
				  tag->name);
	if (open->len == tag->len && memcmp(open->text, tag->name, tag->len) == 0)
		return true;
	return parse_fail(p, tag->line, "{{/%.*s}} closes {{%c%.*s}} opened at line %d",
			  (int)tag->len, tag->name, section_sigil(open->kind), (int)open->len,
			  open->text, open->line);
}

static bool parse_list(struct parser *p, struct node_list *list, const struct node *open,
		       int depth);

static bool add_tag(struct parser *p, struct node_list *list, const struct tag *tag, int depth)
{
	if (tag->kind == NODE_COMMENT)
		return true;
	bool section = tag->kind == NODE_SECTION || tag->kind == NODE_INVERTED;
	if (section && depth >= TPL_MAX_DEPTH)
		return parse_fail(p, tag->line, "sections nested deeper than %d", TPL_MAX_DEPTH);
	struct node *n = node_add(list, tag->kind, tag->line);
	if (!n)
		return parse_fail(p, tag->line, "out of memory");
	n->text = tag->name;
	n->len = tag->len;
	/* n stays valid: parsing the body adds to n->body, never to list. */
	return !section || parse_list(p, &n->body, n, depth + 1);
}

/* Parses nodes into list until the input ends or, inside section open, its close tag. */
static bool parse_list(struct parser *p, struct node_list *list, const struct node *open,
		       int depth)
{
	while (p->pos < p->end) {
		const char *tag_at =
			memmem(p->pos, (size_t)(p->end - p->pos), TAG_OPEN, LIT_LEN(TAG_OPEN));
		const char *text_end = tag_at ? tag_at : p->end;
		if (text_end > p->pos && !add_text(p, list, text_end))
			return false;
		if (!tag_at)
			break;
		struct tag tag = {0};
		if (!read_tag(p, &tag))
			return false;
		if (tag.kind == NODE_CLOSE)
			return close_section(p, open, &tag);
		if (!add_tag(p, list, &tag, depth))
			return false;
	}
	if (open)
		return parse_fail(p, open->line, "{{%c%.*s}} is never closed",
				  section_sigil(open->kind), (int)open->len, open->text);
	return true;
}

/* ---- loading ---- */

static bool read_file(const char *path, struct buf *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return false;
	}
	char chunk[TPL_READ_CHUNK];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (!buf_append(out, chunk, n)) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto out_close;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		goto out_close;
	}
	fclose(f);
	return true;
out_close:
	fclose(f);
	buf_free(out);
	return false;
}

static bool parse_template(struct tpl *t, char *err, size_t errlen)
{
	struct parser p = {.path = t->path,
			   .pos = t->src,
			   .end = t->src + t->src_len,
			   .line = 1,
			   .err = err,
			   .errlen = errlen};
	return parse_list(&p, &t->nodes, NULL, 0);
}

static bool read_template(struct tpl *t, char *err, size_t errlen)
{
	struct buf text = BUF_INIT;
	if (!read_file(t->path, &text, err, errlen))
		return false;
	t->src_len = text.len;
	t->src = buf_steal(&text);
	if (!t->src) {
		snprintf(err, errlen, "%s: out of memory", t->path);
		return false;
	}
	return true;
}

/* "x.html", but neither a hidden file (editors leave those) nor a bare ".html". */
static bool is_template_file(const char *file)
{
	size_t len = strlen(file);
	return file[0] != '.' && len > LIT_LEN(TPL_SUFFIX) &&
	       strcmp(file + len - LIT_LEN(TPL_SUFFIX), TPL_SUFFIX) == 0;
}

static bool add_template(struct tpl_set *set, const char *dir, const char *file)
{
	struct tpl *items = grow(set->items, set->len, &set->cap, sizeof(*items));
	if (!items)
		return false;
	set->items = items;
	char *name = strndup(file, strlen(file) - LIT_LEN(TPL_SUFFIX));
	char *path = NULL;
	if (!name || asprintf(&path, "%s/%s", dir, file) < 0) {
		free(name);
		return false;
	}
	items[set->len++] = (struct tpl){.name = name, .path = path};
	return true;
}

static bool read_entries(struct tpl_set *set, DIR *d, const char *dir, char *err, size_t errlen)
{
	for (;;) {
		errno = 0;
		const struct dirent *e = readdir(d);
		if (!e && errno) {
			snprintf(err, errlen, "%s: cannot read folder: %s", dir, strerror(errno));
			return false;
		}
		if (!e)
			return true;
		if (is_template_file(e->d_name) && !add_template(set, dir, e->d_name)) {
			snprintf(err, errlen, "%s: out of memory", dir);
			return false;
		}
	}
}

static int compare_tpl(const void *a, const void *b)
{
	return strcmp(((const struct tpl *)a)->name, ((const struct tpl *)b)->name);
}

/* Names every template of dir, sorted so that loading and its errors do not depend on readdir. */
static bool list_templates(struct tpl_set *set, const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "%s: cannot open folder: %s", dir, strerror(errno));
		return false;
	}
	bool ok = read_entries(set, d, dir, err, errlen);
	closedir(d);
	return ok;
}

/* Orders a NUL-terminated name against name[0..len) the way strcmp orders two names. */
static int compare_name(const char *a, const char *b, size_t blen)
{
	size_t alen = strlen(a);
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}

static bool find_tpl(const struct tpl_set *set, const char *name, size_t len, size_t *idx)
{
	size_t lo = 0, hi = set->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = compare_name(set->items[mid].name, name, len);
		if (c == 0) {
			*idx = mid;
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* ---- templates from memory ---- */

/* A copy of the source, its name standing in for the path in error messages. */
static bool add_source(struct tpl_set *set, const struct tpl_source *source)
{
	struct tpl *items = grow(set->items, set->len, &set->cap, sizeof(*items));
	if (!items)
		return false;
	set->items = items;
	struct tpl t = {.name = strdup(source->name), .path = strdup(source->name),
			.src = malloc(source->len + 1), .src_len = source->len};
	if (!t.name || !t.path || !t.src) {
		free(t.src);
		free(t.path);
		free(t.name);
		return false;
	}
	if (source->len)
		memcpy(t.src, source->text, source->len);
	t.src[source->len] = '\0';
	items[set->len++] = t;
	return true;
}

/* The set is sorted: equal names stand side by side. */
static bool check_unique_names(const struct tpl_set *set, char *err, size_t errlen)
{
	for (size_t i = 1; i < set->len; i++) {
		if (strcmp(set->items[i - 1].name, set->items[i].name) == 0) {
			snprintf(err, errlen, "%s: two templates of this name", set->items[i].name);
			return false;
		}
	}
	return true;
}

/* ---- linking partials ---- */

enum visit { VISIT_NEW, VISIT_ACTIVE, VISIT_DONE };

struct linker {
	struct tpl_set *set;
	unsigned char *state; /* enum visit, per template */
	size_t *chain;        /* the templates being visited, outermost first */
	size_t chain_len;
	char *err;
	size_t errlen;
};

static bool link_fail_cycle(struct linker *l, const struct tpl *t, const struct node *n)
{
	size_t off = 0;
	err_add(l->err, l->errlen, &off, "%s:%d: partial cycle: ", t->path, n->line);
	size_t i = 0;
	while (l->chain[i] != n->target)
		i++;
	for (; i < l->chain_len; i++)
		err_add(l->err, l->errlen, &off, "%s -> ", l->set->items[l->chain[i]].name);
	err_add(l->err, l->errlen, &off, "%s", l->set->items[n->target].name);
	return false;
}

static bool link_template(struct linker *l, size_t idx);

static bool link_nodes(struct linker *l, const struct tpl *t, struct node_list *list)
{
	for (size_t i = 0; i < list->len; i++) {
		struct node *n = &list->items[i];
		if (!link_nodes(l, t, &n->body))
			return false;
		if (n->kind != NODE_PARTIAL)
			continue;
		if (!find_tpl(l->set, n->text, n->len, &n->target)) {
			snprintf(l->err, l->errlen,
				 "%s:%d: {{> %.*s}} names no template in the folder", t->path,
				 n->line, (int)n->len, n->text);
			return false;
		}
		if (l->state[n->target] == VISIT_ACTIVE)
			return link_fail_cycle(l, t, n);
		if (l->state[n->target] == VISIT_NEW && !link_template(l, n->target))
			return false;
	}
	return true;
}

static bool link_template(struct linker *l, size_t idx)
{
	struct tpl *t = &l->set->items[idx];
	l->state[idx] = VISIT_ACTIVE;
	l->chain[l->chain_len++] = idx;
	bool ok = link_nodes(l, t, &t->nodes);
	l->chain_len--;
	l->state[idx] = VISIT_DONE;
	return ok;
}

/* Points every partial at its template and refuses cycles, which would render forever. */
static bool link_partials(struct tpl_set *set, char *err, size_t errlen)
{
	if (set->len == 0)
		return true;
	struct linker l = {.set = set, .err = err, .errlen = errlen};
	l.state = calloc(set->len, sizeof(*l.state));
	l.chain = calloc(set->len, sizeof(*l.chain));
	bool ok = l.state && l.chain;
	if (!ok)
		snprintf(err, errlen, "out of memory");
	for (size_t i = 0; ok && i < set->len; i++)
		if (l.state[i] == VISIT_NEW)
			ok = link_template(&l, i);
	free(l.chain);
	free(l.state);
	return ok;
}

/* ---- rendering ---- */

struct render {
	const struct tpl_set *set;
	struct buf *out;
	const cJSON *stack[TPL_MAX_DEPTH]; /* contexts, outermost first */
	size_t depth;
	size_t steps;         /* nodes rendered so far */
	size_t page_start;    /* out->len before this page */
	const struct tpl *at; /* the template whose nodes are rendering, for messages */
	char *err;            /* the caller's, or NULL */
	size_t errlen;
};

/* Says why the render stopped, at the node where it did; false for the caller to return. */
__attribute__((format(printf, 3, 4))) static bool render_fail(struct render *r,
							       const struct node *n,
							       const char *fmt, ...)
{
	if (!r->err || r->errlen == 0)
		return false;
	size_t off = 0;
	err_add(r->err, r->errlen, &off, "%s:%d: ", r->at->path, n->line);
	va_list ap;
	va_start(ap, fmt);
	err_vadd(r->err, r->errlen, &off, fmt, ap);
	va_end(ap);
	return false;
}

/* Tag names are not NUL-terminated, so members are compared by length and bytes. */
static const cJSON *member(const cJSON *obj, const char *name, size_t len)
{
	if (!cJSON_IsObject(obj))
		return NULL;
	for (const cJSON *c = obj->child; c; c = c->next)
		if (c->string && strlen(c->string) == len && memcmp(c->string, name, len) == 0)
			return c;
	return NULL;
}

/* The first part of a name is looked up from the innermost context out; the rest inside it. */
static const cJSON *lookup(const struct render *r, const char *name, size_t len)
{
	if (len == 1 && name[0] == '.')
		return r->depth ? r->stack[r->depth - 1] : NULL;
	const char *dot = memchr(name, '.', len);
	size_t first = dot ? (size_t)(dot - name) : len;
	const cJSON *v = NULL;
	for (size_t i = r->depth; i > 0 && !v; i--)
		v = member(r->stack[i - 1], name, first);
	while (v && dot) {
		const char *part = dot + 1;
		size_t rest = len - (size_t)(part - name);
		dot = memchr(part, '.', rest);
		v = member(v, part, dot ? (size_t)(dot - part) : rest);
	}
	return v;
}

static bool truthy(const cJSON *v)
{
	if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v))
		return false;
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0;
	if (cJSON_IsString(v))
		return v->valuestring && v->valuestring[0];
	if (cJSON_IsArray(v))
		return v->child != NULL;
	return true;
}

static const char *html_entity(char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		return NULL;
	}
}

static bool append_escaped(struct buf *out, const char *s)
{
	const char *run = s;
	for (; *s; s++) {
		const char *entity = html_entity(*s);
		if (!entity)
			continue;
		if (!buf_append(out, run, (size_t)(s - run)) || !buf_puts(out, entity))
			return false;
		run = s + 1;
	}
	return buf_append(out, run, (size_t)(s - run));
}

static bool append_number(struct buf *out, double d)
{
	if (d > -TPL_EXACT_INT_LIMIT && d < TPL_EXACT_INT_LIMIT && d == (double)(long long)d)
		return buf_printf(out, "%lld", (long long)d);
	return buf_printf(out, "%g", d);
}

/* Strings, numbers and booleans print; null, objects and arrays print nothing. */
static bool append_value(struct buf *out, const cJSON *v, bool escape)
{
	if (cJSON_IsString(v) && v->valuestring)
		return escape ? append_escaped(out, v->valuestring) : buf_puts(out, v->valuestring);
	if (cJSON_IsNumber(v))
		return append_number(out, v->valuedouble);
	if (cJSON_IsTrue(v))
		return buf_puts(out, "true");
	if (cJSON_IsFalse(v))
		return buf_puts(out, "false");
	return true;
}

static bool render_list(struct render *r, const struct node_list *list);

static bool render_pushed(struct render *r, const struct node *n, const cJSON *ctx,
			  const struct node_list *body)
{
	if (r->depth >= TPL_MAX_DEPTH)
		return render_fail(r, n, "{{#%.*s}} nests contexts deeper than %d", (int)n->len,
				   n->text, TPL_MAX_DEPTH);
	r->stack[r->depth++] = ctx;
	bool ok = render_list(r, body);
	r->depth--;
	return ok;
}

/*
 * The value a {{name}} or {{{name}}} prints. In a strict set a name that the
 * data lacks (not one that is null or false) stops the render: a misspelt or
 * forgotten value would otherwise leave a silent hole in the page. Sections are
 * how a template asks whether a value is there, so they never fail this way.
 */
static bool lookup_var(struct render *r, const struct node *n, const cJSON **v)
{
	*v = lookup(r, n->text, n->len);
	if (*v || !r->set->strict)
		return true;
	bool raw = n->kind == NODE_RAW;
	return render_fail(r, n, "%s%.*s%s names no value in the page's data",
			   raw ? RAW_OPEN : TAG_OPEN, (int)n->len, n->text,
			   raw ? RAW_CLOSE : TAG_CLOSE);
}

static bool render_section(struct render *r, const struct node *n)
{
	const cJSON *v = lookup(r, n->text, n->len);
	if (n->kind == NODE_INVERTED)
		return truthy(v) || render_list(r, &n->body);
	if (!truthy(v))
		return true;
	if (cJSON_IsArray(v)) {
		for (const cJSON *item = v->child; item; item = item->next)
			if (!render_pushed(r, n, item, &n->body))
				return false;
		return true;
	}
	if (cJSON_IsObject(v))
		return render_pushed(r, n, v, &n->body);
	return render_list(r, &n->body);
}

static bool render_partial(struct render *r, const struct node *n)
{
	const struct tpl *caller = r->at;
	r->at = &r->set->items[n->target];
	bool ok = render_list(r, &r->at->nodes);
	r->at = caller;
	return ok;
}

static bool render_node(struct render *r, const struct node *n)
{
	if (++r->steps > TPL_MAX_RENDER_STEPS || r->out->len - r->page_start > TPL_MAX_PAGE_BYTES)
		return render_fail(r, n, "the page runs away (over %d nodes or %d MB)",
				   TPL_MAX_RENDER_STEPS, TPL_MAX_PAGE_BYTES >> 20);
	const cJSON *v;
	bool ok = true;
	switch (n->kind) {
	case NODE_TEXT:
		ok = buf_append(r->out, n->text, n->len);
		break;
	case NODE_VAR:
	case NODE_RAW:
		if (!lookup_var(r, n, &v))
			return false;
		ok = append_value(r->out, v, n->kind == NODE_VAR);
		break;
	case NODE_SECTION:
	case NODE_INVERTED:
		return render_section(r, n);
	case NODE_PARTIAL:
		return render_partial(r, n);
	case NODE_CLOSE:
	case NODE_COMMENT:
		break;
	}
	return ok || render_fail(r, n, "out of memory");
}

static bool render_list(struct render *r, const struct node_list *list)
{
	for (size_t i = 0; i < list->len; i++)
		if (!render_node(r, &list->items[i]))
			return false;
	return true;
}

/* ---- interface ---- */

/* Sorts the set by name (find_tpl searches it), parses every template and links the partials. */
static bool compile_set(struct tpl_set *set, char *err, size_t errlen)
{
	if (set->len > 1)
		qsort(set->items, set->len, sizeof(*set->items), compare_tpl);
	if (!check_unique_names(set, err, errlen))
		return false;
	for (size_t i = 0; i < set->len; i++)
		if (!parse_template(&set->items[i], err, errlen))
			return false;
	return link_partials(set, err, errlen);
}

struct tpl_set *tpl_load_dir(const char *dir, char *err, size_t errlen)
{
	struct tpl_set *set = calloc(1, sizeof(*set));
	if (!set) {
		snprintf(err, errlen, "%s: out of memory", dir);
		return NULL;
	}
	if (!list_templates(set, dir, err, errlen))
		goto out_free_set;
	for (size_t i = 0; i < set->len; i++)
		if (!read_template(&set->items[i], err, errlen))
			goto out_free_set;
	if (!compile_set(set, err, errlen))
		goto out_free_set;
	return set;
out_free_set:
	tpl_free(set);
	return NULL;
}

struct tpl_set *tpl_load_sources(const struct tpl_source *sources, size_t n, char *err,
				 size_t errlen)
{
	struct tpl_set *set = calloc(1, sizeof(*set));
	if (!set) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!add_source(set, &sources[i])) {
			snprintf(err, errlen, "%s: out of memory", sources[i].name);
			goto out_free_set;
		}
	}
	if (!compile_set(set, err, errlen))
		goto out_free_set;
	return set;
out_free_set:
	tpl_free(set);
	return NULL;
}

void tpl_set_strict(struct tpl_set *set, bool strict)
{
	set->strict = strict;
}

bool tpl_render(const struct tpl_set *set, const char *name, const cJSON *data, struct buf *out,
		char *err, size_t errlen)
{
	size_t idx;
	if (!find_tpl(set, name, strlen(name), &idx)) {
		if (err && errlen)
			snprintf(err, errlen, "%s: no such template", name);
		return false;
	}
	size_t start = out->len;
	struct render r = {.set = set,
			   .out = out,
			   .page_start = start,
			   .at = &set->items[idx],
			   .err = err,
			   .errlen = errlen};
	if (data)
		r.stack[r.depth++] = data;
	if (render_list(&r, &set->items[idx].nodes))
		return true;
	/* No half page: the caller's buffer is as it was. */
	out->len = start;
	if (out->data)
		out->data[start] = '\0';
	return false;
}

void tpl_free(struct tpl_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->len; i++) {
		struct tpl *t = &set->items[i];
		nodes_free(&t->nodes);
		free(t->src);
		free(t->path);
		free(t->name);
	}
	free(set->items);
	free(set);
}
