/* slab: the memory of cached values, in size classes carved from large pages that are reused, not returned per value. */
#include "slab.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

enum {
	/* The smallest chunk: the header and about 160 bytes of value. */
	SLAB_MIN_CHUNK = 256,
	/* Each class is 1/8 larger than the one before: at most 1/9 of a chunk is unused. */
	SLAB_GROWTH_SHIFT = 3,
	SLAB_ALIGN = 16,
	SLAB_MAX_CLASSES = 192,
	/*
	 * A page holds about this many chunks, within the bounds below: enough
	 * that a page is mapped once for many values, few enough that the dozens
	 * of classes a mix of sizes uses do not each hold a large page barely used.
	 */
	SLAB_CHUNKS_PER_PAGE = 8,
	/* Smaller pages would make the dozens of small classes map many more pages. */
	SLAB_MIN_PAGE_BYTES = 64 * 1024,
};

/* The largest chunk; larger values are not cached in the slab. */
static const size_t SLAB_MAX_CHUNK = (size_t)1 << 30;

struct slab_page {
	struct slab_page *prev, *next;             /* every page */
	struct slab_page *empty_prev, *empty_next; /* pages with no chunk in use */
	int cls;
	bool is_empty;
	size_t carved; /* chunks carved so far, from the start of mem */
	size_t used;   /* carved chunks not free */
	char *mem;
};

struct slab_class {
	size_t chunk;    /* bytes of a chunk, header included */
	size_t per_page; /* chunks in a page: a page is per_page * chunk bytes */
	struct cache_value *free;
	struct slab_page *carving; /* the newest page, while it has chunks left to carve */
};

struct slab {
	struct cache *owner;
	size_t limit;
	size_t memory;
	struct slab_page *pages;
	struct slab_page *empty;
	int class_count;
	struct slab_class classes[SLAB_MAX_CLASSES];
};

static size_t align_up(size_t n)
{
	return (n + SLAB_ALIGN - 1) & ~(size_t)(SLAB_ALIGN - 1);
}

/* What a page of the class maps: its chunks, rounded up to the system's pages. */
static size_t page_bytes(const struct slab_class *c)
{
	size_t sys = (size_t)sysconf(_SC_PAGESIZE);
	return (c->chunk * c->per_page + sys - 1) / sys * sys;
}

struct slab *slab_create(struct cache *owner, size_t limit)
{
	struct slab *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->owner = owner;
	s->limit = limit;
	size_t chunk = align_up(SLAB_MIN_CHUNK);
	while (s->class_count < SLAB_MAX_CLASSES && chunk <= SLAB_MAX_CHUNK) {
		struct slab_class *c = &s->classes[s->class_count++];
		c->chunk = chunk;
		size_t target = chunk * SLAB_CHUNKS_PER_PAGE;
		if (target < SLAB_MIN_PAGE_BYTES)
			target = SLAB_MIN_PAGE_BYTES;
		if (target > SLAB_PAGE_BYTES)
			target = SLAB_PAGE_BYTES;
		/* Chunks larger than half of that get a page each, sized to the chunk. */
		c->per_page = chunk < target ? target / chunk : 1;
		chunk = align_up(chunk + (chunk >> SLAB_GROWTH_SHIFT));
	}
	return s;
}

void slab_destroy(struct slab *s)
{
	if (!s)
		return;
	while (s->pages) {
		struct slab_page *p = s->pages;
		s->pages = p->next;
		munmap(p->mem, page_bytes(&s->classes[p->cls]));
		free(p);
	}
	free(s);
}

int slab_class_for(const struct slab *s, size_t room)
{
	if (room > SLAB_MAX_CHUNK)
		return SLAB_NO_CLASS;
	size_t need = sizeof(struct cache_value) + room;
	/* Binary search: the classes grow. */
	int lo = 0, hi = s->class_count;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (s->classes[mid].chunk < need)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->class_count ? lo : SLAB_NO_CLASS;
}

size_t slab_class_room(const struct slab *s, int cls)
{
	return s->classes[cls].chunk - sizeof(struct cache_value);
}

static void empty_link(struct slab *s, struct slab_page *p)
{
	p->is_empty = true;
	p->empty_prev = NULL;
	p->empty_next = s->empty;
	if (s->empty)
		s->empty->empty_prev = p;
	s->empty = p;
}

static void empty_unlink(struct slab *s, struct slab_page *p)
{
	if (p->empty_prev)
		p->empty_prev->empty_next = p->empty_next;
	else
		s->empty = p->empty_next;
	if (p->empty_next)
		p->empty_next->empty_prev = p->empty_prev;
	p->is_empty = false;
}

static void free_push(struct slab_class *c, struct cache_value *v)
{
	v->is_free = true;
	v->free_prev = NULL;
	v->free_next = c->free;
	if (c->free)
		c->free->free_prev = v;
	c->free = v;
}

static void free_unlink(struct slab_class *c, struct cache_value *v)
{
	if (v->free_prev)
		v->free_prev->free_next = v->free_next;
	else
		c->free = v->free_next;
	if (v->free_next)
		v->free_next->free_prev = v->free_prev;
	v->is_free = false;
}

struct cache_value *slab_page_chunk(const struct slab *s, struct slab_page *p, size_t i)
{
	return (struct cache_value *)(p->mem + i * s->classes[p->cls].chunk);
}

/* Gives an empty page back to the system: its free chunks leave their class first. */
static void page_release(struct slab *s, struct slab_page *p)
{
	struct slab_class *c = &s->classes[p->cls];
	for (size_t i = 0; i < p->carved; i++)
		free_unlink(c, slab_page_chunk(s, p, i));
	if (c->carving == p)
		c->carving = NULL;
	empty_unlink(s, p);
	if (p->prev)
		p->prev->next = p->next;
	else
		s->pages = p->next;
	if (p->next)
		p->next->prev = p->prev;
	s->memory -= page_bytes(c);
	munmap(p->mem, page_bytes(c));
	free(p);
}

static struct slab_page *page_add(struct slab *s, int cls)
{
	struct slab_class *c = &s->classes[cls];
	struct slab_page *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	/*
	 * Each page is a mapping of its own, never memory in malloc's heaps: those
	 * would serve a page from the holes small allocations leave and keep it
	 * after it is freed, so that RSS would stop tracking the limit. The part
	 * of a page not carved yet is not touched.
	 */
	p->mem = mmap(NULL, page_bytes(c), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->mem == MAP_FAILED) {
		free(p);
		return NULL;
	}
	p->cls = cls;
	p->next = s->pages;
	if (s->pages)
		s->pages->prev = p;
	s->pages = p;
	s->memory += page_bytes(c);
	c->carving = p;
	return p;
}

static struct cache_value *chunk_take(struct slab *s, struct slab_page *p, struct cache_value *v)
{
	if (p->used++ == 0 && p->is_empty)
		empty_unlink(s, p);
	atomic_init(&v->refs, 1);
	v->charge = 0;
	v->len = 0;
	v->data = v->room;
	v->room_len = slab_class_room(s, p->cls);
	v->cache = s->owner;
	v->page = p;
	v->item = NULL;
	v->free_prev = v->free_next = NULL;
	v->cls = p->cls;
	v->is_free = false;
	return v;
}

struct cache_value *slab_alloc(struct slab *s, int cls)
{
	struct slab_class *c = &s->classes[cls];
	for (;;) {
		if (c->free) {
			struct cache_value *v = c->free;
			free_unlink(c, v);
			return chunk_take(s, v->page, v);
		}
		struct slab_page *p = c->carving;
		if (p && p->carved < c->per_page) {
			struct cache_value *v = slab_page_chunk(s, p, p->carved++);
			if (p->carved == c->per_page)
				c->carving = NULL;
			return chunk_take(s, p, v);
		}
		if (s->memory + page_bytes(c) <= s->limit) {
			if (!page_add(s, cls))
				return NULL;
			continue;
		}
		/* An empty page of this class would have free chunks: it is another's. */
		if (!s->empty)
			return NULL;
		page_release(s, s->empty);
	}
}

void slab_free(struct slab *s, struct cache_value *v)
{
	struct slab_page *p = v->page;
	free_push(&s->classes[p->cls], v);
	if (--p->used > 0)
		return;
	empty_link(s, p);
	if (s->memory > s->limit)
		page_release(s, p);
}

void slab_set_limit(struct slab *s, size_t limit)
{
	s->limit = limit;
	while (s->memory > s->limit && s->empty)
		page_release(s, s->empty);
}

size_t slab_memory(const struct slab *s)
{
	return s->memory;
}

size_t slab_limit(const struct slab *s)
{
	return s->limit;
}

int slab_page_class(const struct slab_page *p)
{
	return p->cls;
}

size_t slab_page_chunk_count(const struct slab_page *p)
{
	return p->carved;
}
