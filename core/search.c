/* search: the query side of search, a query's parse and its pages of image ids, newest first. */
#include "search.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "common/buf.h"
#include "common/num.h"
#include "core/hashtags.h"
#include "core/users.h"

enum {
	/*
	 * Terms are ordered by how densely they hold the newest images: each one's
	 * newest entries are read up to this many, and a term with fewer is the
	 * rarest; among full ones, the one whose last entry is oldest is the sparsest.
	 * A count with a high cap reads many rows and cannot tell common terms apart,
	 * since all of them reach it.
	 */
	ESTIMATE_ROWS = 128,
	/* Candidates of the rarest term read per round trip: first, and at most. */
	BLOCK_FIRST = 64,
	BLOCK_MAX = 4096,
	BLOCK_GROWTH = 4,
	/* Candidates one request reads at most: no query costs a scan of the index. */
	EXAMINE_MAX = 50000,
	/* How deep `skip` (a page number without a cursor) may go. */
	SKIP_MAX = 50 * SEARCH_PER_PAGE,
	SQL_MAX = 4096,
	/* Held candidates whose texts one statement reads (the ? of check_held's statement). */
	TEXTS_AT_ONCE = 24,
};

/* ---- parsing ---- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

struct parse {
	struct search_query *q;
	enum search_parse_result result;
	char *err;
	size_t errlen;
};

static void fail(struct parse *p, enum search_parse_result r, const char *msg)
{
	if (p->result != SEARCH_PARSED)
		return;
	p->result = r;
	snprintf(p->err, p->errlen, "%s", msg);
}

static void add_term(struct parse *p, enum search_kind kind, const char *text, size_t len)
{
	if (p->result != SEARCH_PARSED || len == 0)
		return;
	if (len > SEARCH_TEXT_MAX) {
		p->q->matches_nothing = true;
		return;
	}
	struct search_query *q = p->q;
	for (size_t i = 0; i < q->nterms; i++)
		if (q->terms[i].kind == kind && q->terms[i].len == len &&
		    memcmp(q->terms[i].text, text, len) == 0)
			return;
	if (q->nterms == SEARCH_TERMS_MAX) {
		char msg[96];
		snprintf(msg, sizeof(msg), "a search may have at most %d words, tags and users",
			 SEARCH_TERMS_MAX);
		fail(p, SEARCH_TOO_MANY, msg);
		return;
	}
	struct search_term *t = &q->terms[q->nterms++];
	t->kind = kind;
	memcpy(t->text, text, len);
	t->text[len] = '\0';
	t->len = len;
}

static void add_check(struct parse *p, const char *text, size_t len, bool anywhere)
{
	if (p->result != SEARCH_PARSED || len == 0)
		return;
	struct search_query *q = p->q;
	if (q->nchecks == SEARCH_TERMS_MAX) {
		fail(p, SEARCH_TOO_MANY, "a search may have at most 8 phrases and long words");
		return;
	}
	char *copy = malloc(len + 1);
	if (!copy) {
		fail(p, SEARCH_NO_MEMORY, "out of memory");
		return;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	q->checks[q->nchecks++] = (struct search_check){copy, len, false};
	q->checks[q->nchecks - 1].anywhere = anywhere;
}

/* The lookups of one token; a check when the lookups alone could match more than it. */
static void add_token_terms(struct parse *p, const char *tok, size_t len, size_t chars, bool cjk,
			    bool checked_elsewhere)
{
	if (!cjk) {
		add_term(p, SEARCH_WORD, tok, search_terms_prefix_bytes(tok, len, SEARCH_PREFIX_MAX));
		if (chars > SEARCH_PREFIX_MAX && !checked_elsewhere)
			add_check(p, tok, len, false);
		return;
	}
	if (chars <= 2) {
		add_term(p, SEARCH_WORD, tok, len);
		return;
	}
	/* Pairs at every other character, and the last pair: each character is in one. */
	size_t i = 0, k = 0;
	while (k + 2 <= chars) {
		size_t one = search_terms_prefix_bytes(tok + i, len - i, 1);
		if (k % 2 == 0 || k + 2 == chars)
			add_term(p, SEARCH_WORD, tok + i, search_terms_prefix_bytes(tok + i, len - i, 2));
		i += one;
		k++;
	}
	if (!checked_elsewhere)
		add_check(p, tok, len, true);
}

struct phrase {
	struct parse *p;
	struct buf joined;
	size_t tokens;
	bool first_cjk, any_long, ok;
};

static bool on_phrase_token(void *ctx, const char *tok, size_t len, size_t chars, bool cjk)
{
	struct phrase *ph = ctx;
	if (ph->tokens == 0)
		ph->first_cjk = cjk;
	if (chars > (cjk ? 2 : SEARCH_PREFIX_MAX))
		ph->any_long = true;
	ph->ok = ph->ok && (ph->tokens == 0 || buf_append(&ph->joined, " ", 1)) &&
		 buf_append(&ph->joined, tok, len);
	ph->tokens++;
	add_token_terms(ph->p, tok, len, chars, cjk, true);
	return ph->p->result == SEARCH_PARSED;
}

static bool on_word_token(void *ctx, const char *tok, size_t len, size_t chars, bool cjk)
{
	struct parse *p = ctx;
	add_token_terms(p, tok, len, chars, cjk, false);
	return p->result == SEARCH_PARSED;
}

/* Free text or a quoted phrase: its words are looked up; a phrase is then checked as a whole. */
static void add_text(struct parse *p, const char *text, size_t len, bool phrase)
{
	char *norm;
	size_t normlen;
	if (!search_terms_normalize(text, len, &norm, &normlen)) {
		fail(p, SEARCH_BAD_UTF8, "the search is not valid UTF-8");
		return;
	}
	struct phrase ph = {.p = p, .ok = true};
	if (phrase) {
		search_terms_tokens(norm, normlen, on_phrase_token, &ph);
		if (!ph.ok)
			fail(p, SEARCH_NO_MEMORY, "out of memory");
		else if (ph.tokens > 1 || ph.any_long)
			add_check(p, ph.joined.data, ph.joined.len, ph.first_cjk);
	} else {
		/* Words outside quotes are each a term of their own, checked alone when long. */
		search_terms_tokens(norm, normlen, on_word_token, p);
	}
	buf_free(&ph.joined);
	free(norm);
}

/* #tag: a hashtag as captions have them (core/hashtags), looked up by its normal form. */
static size_t add_tag(struct parse *p, const char *s, size_t len)
{
	size_t start, end, normlen;
	char norm[HASHTAG_NORM_MAX + 1];
	if (hashtags_next(s, len, 0, &start, &end, norm, &normlen) && start == 0) {
		add_term(p, SEARCH_TAG, norm, normlen);
		return end;
	}
	/* A lone '#' is nothing; a run too long to be a tag names no tag at all. */
	size_t i = 1;
	while (i < len && !is_space(s[i]) && s[i] != '"' && s[i] != '#')
		i++;
	if (i > 1)
		p->q->matches_nothing = true;
	return i;
}

/* @user: a username as sign-up allows it; anything else names nobody. */
static size_t add_user(struct parse *p, const char *s, size_t len)
{
	size_t i = 1;
	while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '"' && s[i] != '\n' && s[i] != '\r')
		i++;
	char name[USERS_NAME_MAX + 1], err[96];
	if (i == 1)
		return 1;
	if (!users_name_normalize(s + 1, i - 1, name, err, sizeof(err)))
		p->q->matches_nothing = true;
	else
		add_term(p, SEARCH_USER, name, strlen(name));
	return i;
}

enum search_parse_result search_parse(const char *q, size_t len, struct search_query *out,
				      char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct parse p = {out, SEARCH_PARSED, err, errlen};
	if (errlen)
		err[0] = '\0';
	if (len > SEARCH_QUERY_MAX) {
		char msg[96];
		snprintf(msg, sizeof(msg), "a search may be at most %d bytes long", SEARCH_QUERY_MAX);
		fail(&p, SEARCH_TOO_LONG, msg);
		return p.result;
	}
	/* Checked whole first, so that no part of a broken query is looked up. */
	for (size_t i = 0; i < len;) {
		utf8proc_int32_t c;
		utf8proc_ssize_t step = utf8proc_iterate((const utf8proc_uint8_t *)q + i,
							 (utf8proc_ssize_t)(len - i), &c);
		if (step <= 0 || c == 0) {
			fail(&p, SEARCH_BAD_UTF8, "the search is not valid UTF-8");
			return p.result;
		}
		i += (size_t)step;
	}
	size_t i = 0;
	while (i < len && p.result == SEARCH_PARSED) {
		if (is_space(q[i])) {
			i++;
		} else if (q[i] == '"') {
			const char *close = memchr(q + i + 1, '"', len - i - 1);
			size_t end = close ? (size_t)(close - q) : len;
			add_text(&p, q + i + 1, end - i - 1, true);
			i = close ? end + 1 : len;
		} else if (q[i] == '#') {
			i += add_tag(&p, q + i, len - i);
		} else if (q[i] == '@') {
			i += add_user(&p, q + i, len - i);
		} else {
			size_t start = i;
			while (i < len && !is_space(q[i]) && q[i] != '"')
				i++;
			add_text(&p, q + start, i - start, false);
		}
	}
	return p.result;
}

void search_query_free(struct search_query *q)
{
	for (size_t i = 0; i < q->nchecks; i++)
		free(q->checks[i].text);
	q->nchecks = 0;
}

/* ---- matching the text of a candidate ---- */

static bool join_token(void *ctx, const char *tok, size_t len, size_t chars, bool cjk)
{
	(void)chars;
	(void)cjk;
	struct buf *b = ctx;
	return (b->len == 0 || buf_append(b, " ", 1)) && buf_append(b, tok, len);
}

/* The text's tokens, normalised, joined by one space: what checks are held against. */
static bool joined_tokens(const char *text, size_t len, struct buf *out)
{
	char *norm;
	size_t normlen;
	if (!search_terms_normalize(text, len, &norm, &normlen))
		return false;
	search_terms_tokens(norm, normlen, join_token, out);
	free(norm);
	return true;
}

static bool check_holds(const struct search_check *c, const struct buf *hay)
{
	if (!hay->data || hay->len < c->len)
		return false;
	for (const char *at = hay->data; (at = memmem(at, hay->len - (size_t)(at - hay->data), c->text,
						   c->len)) != NULL;
	     at++) {
		if (c->anywhere || at == hay->data || at[-1] == ' ')
			return true;
	}
	return false;
}

bool search_text_matches(const struct search_query *q, const char *caption, size_t caption_len,
			 const char *key, size_t keylen)
{
	if (q->nchecks == 0)
		return true;
	struct buf cap = BUF_INIT, k = BUF_INIT;
	bool all = true, key_done = false;
	if (caption)
		joined_tokens(caption, caption_len, &cap);
	for (size_t i = 0; i < q->nchecks && all; i++) {
		if (check_holds(&q->checks[i], &cap))
			continue;
		/* The key is looked at only when the caption does not hold a check. */
		if (!key_done && key)
			joined_tokens(key, keylen, &k);
		key_done = true;
		all = check_holds(&q->checks[i], &k);
	}
	buf_free(&cap);
	buf_free(&k);
	return all;
}

/* ---- running a query ---- */

/* A term as the SQL sees it: a list of image ids under one value, newest first. */
struct lookup {
	enum search_kind kind;
	struct db_param value;
	long long count;  /* up to ESTIMATE_ROWS */
	uint64_t oldest;  /* the lowest image id among those counted */
};

/* Each kind's list: the ids below a bound, newest first. */
static const char *const LIST_SQL[] = {
	[SEARCH_WORD] = "SELECT image_id FROM search_terms WHERE term = ? AND image_id < ? "
			"ORDER BY image_id DESC LIMIT ?",
	[SEARCH_TAG] = "SELECT image_id FROM image_tags WHERE tag = ? AND image_id < ? "
		       "ORDER BY image_id DESC LIMIT ?",
	[SEARCH_USER] = "SELECT id AS image_id FROM images WHERE owner_id = ? AND id < ? "
			"ORDER BY id DESC LIMIT ?",
};
/* Whether candidate d.image_id is in a kind's list. */
static const char *const HAS_SQL[] = {
	[SEARCH_WORD] = "EXISTS (SELECT 1 FROM search_terms t WHERE t.term = ? AND "
			"t.image_id = d.image_id)",
	[SEARCH_TAG] = "EXISTS (SELECT 1 FROM image_tags t WHERE t.tag = ? AND "
		       "t.image_id = d.image_id)",
	[SEARCH_USER] = "EXISTS (SELECT 1 FROM images t WHERE t.id = d.image_id AND "
			"t.owner_id = ?)",
};

struct estimates {
	struct lookup *l;
	size_t n;
	bool bad;
};

static bool on_estimate(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct estimates *e = ctx;
	uint64_t i, count, oldest = 0;
	if (ncols < 3 || !cols[0] || !cols[1] || !num_parse_u64(cols[0], lens[0], UINT64_MAX, &i) ||
	    i >= e->n || !num_parse_u64(cols[1], lens[1], UINT64_MAX, &count) ||
	    (cols[2] && !num_parse_u64(cols[2], lens[2], UINT64_MAX, &oldest))) {
		e->bad = true;
		return false;
	}
	e->l[i].count = (long long)count;
	e->l[i].oldest = oldest;
	return true;
}

/* Every term's newest entries below the bound, counted up to ESTIMATE_ROWS, in one round trip. */
static enum db_status estimate_terms(struct db *db, struct lookup *l, size_t n, long long bound)
{
	struct buf sql = BUF_INIT;
	struct db_param p[SEARCH_TERMS_MAX * 3];
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		ok = ok && buf_printf(&sql, "%sSELECT %zu, COUNT(*), MIN(image_id) FROM (%s) AS c%zu",
				      i ? " UNION ALL " : "", i, LIST_SQL[l[i].kind], i);
		p[3 * i] = l[i].value;
		p[3 * i + 1] = DB_INT(bound);
		p[3 * i + 2] = DB_INT(ESTIMATE_ROWS);
		l[i].count = 0;
		l[i].oldest = 0;
	}
	struct estimates e = {l, n, false};
	enum db_status s = ok ? db_exec(db, sql.data, p, (unsigned)(3 * n), on_estimate, &e)
			      : DB_FAILED;
	buf_free(&sql);
	return s == DB_OK && e.bad ? DB_FAILED : s;
}

static int by_count(const void *a, const void *b)
{
	const struct lookup *x = a, *y = b;
	if (x->count != y->count)
		return (x->count > y->count) - (x->count < y->count);
	return (x->oldest > y->oldest) - (x->oldest < y->oldest);
}

struct block {
	const struct search_query *q;
	struct search_page *page;
	size_t skip, rows;
	uint64_t lowest;
	bool full, bad;
	/* With checks: the candidates of a block in every list, whose texts are read next. */
	uint64_t *held;
	size_t nheld, next_held;
};

/* A candidate that matches: skipped, shown, or the one past the page that says there is more. */
static void take(struct block *b, uint64_t id)
{
	if (b->skip) {
		b->skip--;
		return;
	}
	if (b->page->n == SEARCH_PER_PAGE) {
		/* One more than a page: there is a next page, and it starts after the last shown. */
		b->full = true;
		b->page->more = true;
		b->page->next = b->page->ids[SEARCH_PER_PAGE - 1];
		return;
	}
	b->page->ids[b->page->n++] = id;
}

static bool on_candidate(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct block *b = ctx;
	uint64_t id;
	if (ncols < 2 || !cols[0] || !num_parse_u64(cols[0], lens[0], UINT64_MAX, &id)) {
		b->bad = true;
		return false;
	}
	b->rows++;
	b->lowest = id;
	b->page->examined++;
	if (b->full || !cols[1] || strcmp(cols[1], "1") != 0)
		return true;
	if (b->held)
		b->held[b->nheld++] = id;
	else
		take(b, id);
	return true;
}

/* A held candidate's texts; ids come newest first, as they were held, and a gone image is passed over. */
static bool on_texts(void *ctx, char **cols, const unsigned long *lens, unsigned ncols)
{
	struct block *b = ctx;
	uint64_t id;
	if (ncols < 3 || !cols[0] || !num_parse_u64(cols[0], lens[0], UINT64_MAX, &id)) {
		b->bad = true;
		return false;
	}
	if (b->full)
		return true;
	if (search_text_matches(b->q, cols[1], cols[1] ? lens[1] : 0, cols[2], cols[2] ? lens[2] : 0))
		take(b, id);
	return true;
}

/*
 * The held candidates' texts, checked in order, read only as many at a time as
 * the page still needs (past a full page nothing is read): most candidates of a
 * block are never shown, and reading a caption costs more than the lookups.
 */
static enum db_status check_held(struct db *db, struct block *b)
{
	static const char sql[] = "SELECT id, caption, image_key FROM images WHERE id IN ("
				  "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ORDER BY id DESC";
	struct db_param p[TEXTS_AT_ONCE];
	b->next_held = 0;
	while (!b->full && b->next_held < b->nheld) {
		size_t want = b->skip + (SEARCH_PER_PAGE - b->page->n) + 1;
		size_t k = b->nheld - b->next_held;
		k = k < want ? k : want;
		k = k < TEXTS_AT_ONCE ? k : TEXTS_AT_ONCE;
		for (size_t i = 0; i < TEXTS_AT_ONCE; i++)
			/* Unused places name no image: ids start at 1. */
			p[i] = DB_INT(i < k ? (long long)b->held[b->next_held + i] : 0);
		b->next_held += k;
		enum db_status s = db_exec(db, sql, p, TEXTS_AT_ONCE, on_texts, b);
		if (s != DB_OK)
			return s;
		if (b->bad)
			return DB_FAILED;
	}
	return DB_OK;
}

/* The statement that reads a block of the rarest list, each with whether it is in all others. */
static void block_sql(const struct lookup *l, size_t n, char *sql, size_t size)
{
	struct buf b = BUF_INIT;
	bool ok = buf_puts(&b, "SELECT d.image_id, ");
	if (n == 1)
		ok = ok && buf_puts(&b, "1");
	for (size_t i = 1; i < n; i++)
		ok = ok && buf_printf(&b, "%s%s", i > 1 ? " AND " : "(", HAS_SQL[l[i].kind]);
	ok = ok && buf_printf(&b, "%s FROM (%s) AS d ORDER BY d.image_id DESC", n > 1 ? ")" : "",
			      LIST_SQL[l[0].kind]);
	snprintf(sql, size, "%s", ok ? b.data : "");
	buf_free(&b);
}

static enum db_status resolve_users(struct db *db, const struct search_query *q,
				    struct lookup *l, bool *none)
{
	for (size_t i = 0; i < q->nterms; i++) {
		const struct search_term *t = &q->terms[i];
		l[i].kind = t->kind;
		l[i].value = DB_STRN(t->text, t->len);
		if (t->kind != SEARCH_USER)
			continue;
		struct user u;
		enum users_outcome o = users_by_username(db, t->text, &u);
		if (o == USERS_NOT_FOUND) {
			*none = true;
			return DB_OK;
		}
		if (o != USERS_OK)
			return o == USERS_UNAVAILABLE ? DB_UNAVAILABLE : DB_FAILED;
		l[i].value = DB_INT(u.id);
	}
	return DB_OK;
}

enum db_status search_run(struct db *db, const struct search_query *q, uint64_t before, size_t skip,
			  struct search_page *page)
{
	memset(page, 0, sizeof(*page));
	if (q->nterms == 0 || q->matches_nothing)
		return DB_OK;
	if (skip > SKIP_MAX)
		skip = SKIP_MAX;
	long long bound = before && before < (uint64_t)LLONG_MAX ? (long long)before : LLONG_MAX;
	struct lookup l[SEARCH_TERMS_MAX];
	bool none = false;
	enum db_status s = resolve_users(db, q, l, &none);
	if (s != DB_OK || none)
		return s;
	size_t n = q->nterms;
	if (n > 1) {
		if ((s = estimate_terms(db, l, n, bound)) != DB_OK)
			return s;
		for (size_t i = 0; i < n; i++)
			if (l[i].count == 0)
				return DB_OK;
		qsort(l, n, sizeof(l[0]), by_count);
	}
	char sql[SQL_MAX];
	bool texts = q->nchecks > 0;
	block_sql(l, n, sql, sizeof(sql));
	struct db_param p[SEARCH_TERMS_MAX + 2];
	for (size_t i = 1; i < n; i++)
		p[i - 1] = l[i].value;
	p[n - 1] = l[0].value;
	struct block b = {.q = q, .page = page, .skip = skip};
	if (texts && !(b.held = malloc(BLOCK_MAX * sizeof(*b.held))))
		return DB_FAILED;
	/* When every candidate matches, a page (and one more, to know of a next) is enough. */
	long long size = n == 1 && !texts ? (long long)(SEARCH_PER_PAGE + 1 + skip) : BLOCK_FIRST;
	for (;;) {
		p[n] = DB_INT(bound);
		p[n + 1] = DB_INT(size);
		b.rows = 0;
		b.nheld = 0;
		if ((s = db_exec(db, sql, p, n + 2, on_candidate, &b)) != DB_OK)
			break;
		if (!b.bad && texts)
			s = check_held(db, &b);
		if (s != DB_OK)
			break;
		if (b.bad) {
			s = DB_FAILED;
			break;
		}
		if (b.full || b.rows < (size_t)size)
			break; /* a whole page and one more, or the list's end */
		bound = (long long)b.lowest;
		if (page->examined >= EXAMINE_MAX) {
			/* Bounded work: what was found, and a cursor past what was read. */
			page->more = true;
			page->next = b.lowest;
			break;
		}
		size = size < BLOCK_FIRST ? BLOCK_FIRST
		       : size * BLOCK_GROWTH > BLOCK_MAX ? BLOCK_MAX : size * BLOCK_GROWTH;
	}
	free(b.held);
	return s;
}
