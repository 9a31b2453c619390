/* imagetype: image type sniffing by the bytes, and dimensions from the header. Pure: no I/O. */
#include "imagetype.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

/* Sides are read as 32-bit numbers and handed back as unsigned. */
_Static_assert(UINT_MAX >= UINT32_MAX, "unsigned must hold a 32-bit image side");

/* A byte string literal and its length without the terminator. */
#define MAGIC(s) (const unsigned char *)(s), sizeof(s) - 1

enum {
	RIFF_TAG_OFFSET = 0,
	WEBP_TAG_OFFSET = 8,
};

/* True when the n bytes of magic stand at data[off] within len. */
static bool bytes_at(const unsigned char *data, size_t len, size_t off, const unsigned char *magic,
		     size_t n)
{
	return len >= off && len - off >= n && memcmp(data + off, magic, n) == 0;
}

enum image_type image_sniff(const unsigned char *data, size_t len)
{
	if (bytes_at(data, len, 0, MAGIC("\xFF\xD8\xFF")))
		return IMAGE_JPEG;
	if (bytes_at(data, len, 0, MAGIC("\x89PNG\r\n\x1A\n")))
		return IMAGE_PNG;
	if (bytes_at(data, len, 0, MAGIC("GIF87a")) || bytes_at(data, len, 0, MAGIC("GIF89a")))
		return IMAGE_GIF;
	if (bytes_at(data, len, RIFF_TAG_OFFSET, MAGIC("RIFF")) &&
	    bytes_at(data, len, WEBP_TAG_OFFSET, MAGIC("WEBP")))
		return IMAGE_WEBP;
	return IMAGE_UNKNOWN;
}

struct image_name {
	const char *mime, *ext;
};

static const struct image_name image_names[] = {
	[IMAGE_JPEG] = {"image/jpeg", "jpg"},
	[IMAGE_PNG] = {"image/png", "png"},
	[IMAGE_GIF] = {"image/gif", "gif"},
	[IMAGE_WEBP] = {"image/webp", "webp"},
};

/* IMAGE_UNKNOWN, and any value outside the enum, has no names. */
static const struct image_name *image_name_of(enum image_type t)
{
	if ((size_t)t >= sizeof(image_names) / sizeof(image_names[0]))
		return NULL;
	return &image_names[t];
}

const char *image_type_mime(enum image_type t)
{
	const struct image_name *n = image_name_of(t);
	return n ? n->mime : NULL;
}

const char *image_type_ext(enum image_type t)
{
	const struct image_name *n = image_name_of(t);
	return n ? n->ext : NULL;
}

/* ---- image dimensions ---- */

/* Casts first: a byte shifted as int into the sign bit is undefined. */
static uint32_t be16(const unsigned char *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[1] << 8 | p[0];
}

static uint32_t le24(const unsigned char *p)
{
	return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | le24(p);
}

/* The signature, then the IHDR chunk (always first): length, type, width, height. */
enum {
	PNG_IHDR_LENGTH_OFFSET = 8,
	PNG_IHDR_TYPE_OFFSET = 12,
	PNG_WIDTH_OFFSET = 16,
	PNG_HEIGHT_OFFSET = 20,
	PNG_HEADER_BYTES = 24,
	PNG_IHDR_LENGTH = 13,
	PNG_MAX_SIDE = 0x7FFFFFFF, /* the PNG spec keeps sides within 31 bits */
};

static bool png_dimensions(const unsigned char *d, size_t len, uint32_t *w, uint32_t *h)
{
	if (len < PNG_HEADER_BYTES || be32(d + PNG_IHDR_LENGTH_OFFSET) != PNG_IHDR_LENGTH ||
	    !bytes_at(d, len, PNG_IHDR_TYPE_OFFSET, MAGIC("IHDR")))
		return false;
	*w = be32(d + PNG_WIDTH_OFFSET);
	*h = be32(d + PNG_HEIGHT_OFFSET);
	return *w <= PNG_MAX_SIDE && *h <= PNG_MAX_SIDE;
}

/* "GIF89a", then the logical screen: width and height, little-endian. */
enum { GIF_WIDTH_OFFSET = 6, GIF_HEIGHT_OFFSET = 8, GIF_HEADER_BYTES = 10 };

static bool gif_dimensions(const unsigned char *d, size_t len, uint32_t *w, uint32_t *h)
{
	if (len < GIF_HEADER_BYTES)
		return false;
	*w = le16(d + GIF_WIDTH_OFFSET);
	*h = le16(d + GIF_HEIGHT_OFFSET);
	return true;
}

/* After the 12-byte RIFF header comes the first chunk: FourCC, little-endian size, payload. */
enum {
	WEBP_CHUNK_TAG_OFFSET = 12,
	WEBP_CHUNK_SIZE_OFFSET = 16,
	WEBP_PAYLOAD_OFFSET = 20,
};

/* The first chunk's payload, if tagged fourcc, with need bytes of it within len and the chunk. */
static const unsigned char *webp_payload(const unsigned char *d, size_t len,
					 const unsigned char *fourcc, size_t fourcc_len,
					 size_t need)
{
	if (len < WEBP_PAYLOAD_OFFSET ||
	    !bytes_at(d, len, WEBP_CHUNK_TAG_OFFSET, fourcc, fourcc_len))
		return NULL;
	if (len - WEBP_PAYLOAD_OFFSET < need || le32(d + WEBP_CHUNK_SIZE_OFFSET) < need)
		return NULL;
	return d + WEBP_PAYLOAD_OFFSET;
}

/*
 * Lossy: a 3-byte frame tag whose low bit is clear on a key frame (the only
 * kind that carries a size), the start code, then 14-bit sides whose top two
 * bits are an upscaling hint, not part of the size.
 */
enum {
	VP8_START_CODE_OFFSET = 3,
	VP8_WIDTH_OFFSET = 6,
	VP8_HEIGHT_OFFSET = 8,
	VP8_HEADER_BYTES = 10,
	VP8_INTERFRAME_BIT = 0x01,
	VP8_SIDE_MASK = 0x3FFF,
};

static bool webp_vp8(const unsigned char *d, size_t len, uint32_t *w, uint32_t *h)
{
	const unsigned char *p = webp_payload(d, len, MAGIC("VP8 "), VP8_HEADER_BYTES);
	if (!p || (p[0] & VP8_INTERFRAME_BIT) ||
	    !bytes_at(p, VP8_HEADER_BYTES, VP8_START_CODE_OFFSET, MAGIC("\x9D\x01\x2A")))
		return false;
	*w = le16(p + VP8_WIDTH_OFFSET) & VP8_SIDE_MASK;
	*h = le16(p + VP8_HEIGHT_OFFSET) & VP8_SIDE_MASK;
	return true;
}

/*
 * Lossless: a signature byte, then 32 bits: width-1 and height-1 in 14 bits
 * each, an alpha hint, and a 3-bit version that must be 0.
 */
enum {
	VP8L_SIGNATURE = 0x2F,
	VP8L_BITS_OFFSET = 1,
	VP8L_HEADER_BYTES = 5,
	VP8L_SIDE_BITS = 14,
	VP8L_SIDE_MASK = 0x3FFF,
	VP8L_VERSION_SHIFT = 29,
};

static bool webp_vp8l(const unsigned char *d, size_t len, uint32_t *w, uint32_t *h)
{
	const unsigned char *p = webp_payload(d, len, MAGIC("VP8L"), VP8L_HEADER_BYTES);
	if (!p || p[0] != VP8L_SIGNATURE)
		return false;
	uint32_t bits = le32(p + VP8L_BITS_OFFSET);
	if (bits >> VP8L_VERSION_SHIFT)
		return false;
	*w = (bits & VP8L_SIDE_MASK) + 1;
	*h = ((bits >> VP8L_SIDE_BITS) & VP8L_SIDE_MASK) + 1;
	return true;
}

/* Extended: flags and 3 reserved bytes, then canvas width-1 and height-1 in 24 bits each. */
enum { VP8X_WIDTH_OFFSET = 4, VP8X_HEIGHT_OFFSET = 7, VP8X_HEADER_BYTES = 10 };

static bool webp_vp8x(const unsigned char *d, size_t len, uint32_t *w, uint32_t *h)
{
	const unsigned char *p = webp_payload(d, len, MAGIC("VP8X"), VP8X_HEADER_BYTES);
	if (!p)
		return false;
	*w = le24(p + VP8X_WIDTH_OFFSET) + 1;
	*h = le24(p + VP8X_HEIGHT_OFFSET) + 1;
	return true;
}

static bool webp_dimensions(const unsigned char *d, size_t len, uint32_t *w, uint32_t *h)
{
	return webp_vp8(d, len, w, h) || webp_vp8l(d, len, w, h) || webp_vp8x(d, len, w, h);
}

enum {
	JPEG_MARKER_PREFIX = 0xFF,
	JPEG_STUFFED = 0x00, /* FF 00 is an escaped data byte, never a marker */
	JPEG_TEM = 0x01,
	JPEG_SOF0 = 0xC0,
	JPEG_DHT = 0xC4,
	JPEG_JPG = 0xC8,
	JPEG_DAC = 0xCC,
	JPEG_SOF15 = 0xCF,
	JPEG_RST0 = 0xD0,
	JPEG_RST7 = 0xD7,
	JPEG_SOI = 0xD8,
	JPEG_EOI = 0xD9,
	JPEG_SOS = 0xDA,
	JPEG_SOI_BYTES = 2,
	JPEG_LENGTH_BYTES = 2, /* a segment's length counts these two bytes too */
	/* From the length field of a SOFn: length, precision, height, width, component count. */
	JPEG_SOF_HEIGHT_OFFSET = 3,
	JPEG_SOF_WIDTH_OFFSET = 5,
	JPEG_SOF_READ_BYTES = IMAGE_JPEG_SOF_BYTES,
	JPEG_SOF_MIN_LENGTH = 8,
};

/* Markers with no length and no payload. */
static bool jpeg_is_standalone(unsigned char m)
{
	return m == JPEG_TEM || m == JPEG_SOI || (m >= JPEG_RST0 && m <= JPEG_RST7);
}

/* The frame headers; C4, C8 and CC share the range but are other segments. */
static bool jpeg_is_sof(unsigned char m)
{
	return m >= JPEG_SOF0 && m <= JPEG_SOF15 && m != JPEG_DHT && m != JPEG_JPG && m != JPEG_DAC;
}

void image_jpeg_walk_init(struct image_jpeg_walk *w)
{
	memset(w, 0, sizeof(*w));
	w->step = JPEG_AT_MARKER;
	w->result = IMAGE_WALK_MORE;
}

static enum image_walk jpeg_walk_end(struct image_jpeg_walk *w, enum image_walk result)
{
	w->result = result;
	return result;
}

/* The byte after FF (and any fill bytes) names the marker: what follows it decides the next step. */
static enum image_walk jpeg_walk_marker(struct image_jpeg_walk *w, unsigned char m)
{
	if (m == JPEG_MARKER_PREFIX)
		return IMAGE_WALK_MORE; /* any number of FF fill bytes may pad the space before a marker */
	if (m == JPEG_STUFFED)
		return jpeg_walk_end(w, IMAGE_WALK_FAILED);
	if (jpeg_is_standalone(m)) {
		w->step = JPEG_AT_MARKER;
		return IMAGE_WALK_MORE;
	}
	/* Image data or its end before any frame header: there is no size to find. */
	if (m == JPEG_EOI || m == JPEG_SOS)
		return jpeg_walk_end(w, IMAGE_WALK_FAILED);
	w->step = jpeg_is_sof(m) ? JPEG_IN_SOF : JPEG_IN_LENGTH;
	w->field_len = 0;
	return IMAGE_WALK_MORE;
}

/* A length or frame header field is complete in w->field. */
static enum image_walk jpeg_walk_field(struct image_jpeg_walk *w)
{
	uint32_t length = be16(w->field);
	if (w->step == JPEG_IN_SOF) {
		if (length < JPEG_SOF_MIN_LENGTH)
			return jpeg_walk_end(w, IMAGE_WALK_FAILED);
		w->height = be16(w->field + JPEG_SOF_HEIGHT_OFFSET);
		w->width = be16(w->field + JPEG_SOF_WIDTH_OFFSET);
		return jpeg_walk_end(w, IMAGE_WALK_FOUND);
	}
	if (length < JPEG_LENGTH_BYTES)
		return jpeg_walk_end(w, IMAGE_WALK_FAILED);
	w->skip = length - JPEG_LENGTH_BYTES;
	w->step = w->skip ? JPEG_IN_SEGMENT : JPEG_AT_MARKER;
	return IMAGE_WALK_MORE;
}

enum image_walk image_jpeg_walk_feed(struct image_jpeg_walk *w, const unsigned char *data,
				     size_t len)
{
	size_t i = 0;
	while (w->result == IMAGE_WALK_MORE && i < len) {
		switch (w->step) {
		case JPEG_AT_MARKER:
			if (data[i++] != JPEG_MARKER_PREFIX)
				return jpeg_walk_end(w, IMAGE_WALK_FAILED);
			w->step = JPEG_IN_FILL;
			break;
		case JPEG_IN_FILL:
			jpeg_walk_marker(w, data[i++]);
			break;
		case JPEG_IN_SEGMENT: {
			/* The payload is passed over without a look, however long. */
			size_t n = len - i < w->skip ? len - i : w->skip;
			i += n;
			w->skip -= (uint32_t)n;
			if (!w->skip)
				w->step = JPEG_AT_MARKER;
			break;
		}
		case JPEG_IN_LENGTH:
		case JPEG_IN_SOF: {
			size_t need = w->step == JPEG_IN_SOF ? JPEG_SOF_READ_BYTES : JPEG_LENGTH_BYTES;
			w->field[w->field_len++] = data[i++];
			if (w->field_len == need)
				jpeg_walk_field(w);
			break;
		}
		}
	}
	return w->result;
}

static bool jpeg_dimensions(const unsigned char *d, size_t len, uint32_t *w, uint32_t *h)
{
	struct image_jpeg_walk walk;
	image_jpeg_walk_init(&walk);
	if (len < JPEG_SOI_BYTES ||
	    image_jpeg_walk_feed(&walk, d + JPEG_SOI_BYTES, len - JPEG_SOI_BYTES) != IMAGE_WALK_FOUND)
		return false;
	*w = walk.width;
	*h = walk.height;
	return true;
}

bool image_dimensions(const unsigned char *data, size_t len, enum image_type t, unsigned *width,
		      unsigned *height)
{
	uint32_t w = 0, h = 0;
	bool found = false;
	if (t == IMAGE_UNKNOWN || image_sniff(data, len) != t)
		return false;
	switch (t) {
	case IMAGE_JPEG:
		found = jpeg_dimensions(data, len, &w, &h);
		break;
	case IMAGE_PNG:
		found = png_dimensions(data, len, &w, &h);
		break;
	case IMAGE_GIF:
		found = gif_dimensions(data, len, &w, &h);
		break;
	case IMAGE_WEBP:
		found = webp_dimensions(data, len, &w, &h);
		break;
	case IMAGE_UNKNOWN:
		break;
	}
	/* A zero side is no size we can lay out (a JPEG may defer its height to a DNL marker). */
	if (!found || w == 0 || h == 0)
		return false;
	*width = w;
	*height = h;
	return true;
}

/* ---- an upload's image, as its bytes arrive ---- */

void image_probe_init(struct image_probe *p)
{
	memset(p, 0, sizeof(*p));
	p->type = IMAGE_UNKNOWN;
	p->state = IMAGE_PROBE_MORE;
	image_jpeg_walk_init(&p->jpeg);
}

static enum image_probe_state probe_end(struct image_probe *p, enum image_probe_state state)
{
	p->state = state;
	return state;
}

static enum image_probe_state probe_sized(struct image_probe *p, uint32_t w, uint32_t h)
{
	if (w == 0 || h == 0)
		return probe_end(p, IMAGE_PROBE_NO_SIZE);
	p->width = w;
	p->height = h;
	return probe_end(p, IMAGE_PROBE_SIZED);
}

static enum image_probe_state probe_jpeg(struct image_probe *p, const unsigned char *data,
					 size_t len, bool last)
{
	enum image_walk r = image_jpeg_walk_feed(&p->jpeg, data, len);
	if (r == IMAGE_WALK_FOUND)
		return probe_sized(p, p->jpeg.width, p->jpeg.height);
	if (r == IMAGE_WALK_FAILED || last)
		return probe_end(p, IMAGE_PROBE_NO_SIZE);
	return IMAGE_PROBE_MORE;
}

/* The other types carry their size within the head: judged once it is full, or at the end. */
static enum image_probe_state probe_head(struct image_probe *p, bool last)
{
	if (!last && p->head_len < IMAGE_PROBE_HEAD_BYTES)
		return IMAGE_PROBE_MORE;
	unsigned w, h;
	if (!image_dimensions(p->head, p->head_len, p->type, &w, &h))
		return probe_end(p, IMAGE_PROBE_NO_SIZE);
	return probe_sized(p, w, h);
}

/* Sniffs the type once enough of the head is in (or the file ended), and starts the JPEG walk on it. */
static bool probe_sniff(struct image_probe *p, bool last)
{
	if (p->head_len < IMAGE_SNIFF_BYTES && !last)
		return false;
	p->type = image_sniff(p->head, p->head_len);
	if (p->type == IMAGE_UNKNOWN)
		probe_end(p, IMAGE_PROBE_NOT_IMAGE);
	else if (p->type == IMAGE_JPEG)
		probe_jpeg(p, p->head + JPEG_SOI_BYTES, p->head_len - JPEG_SOI_BYTES, false);
	return true;
}

static enum image_probe_state probe_take(struct image_probe *p, const unsigned char *data,
					 size_t len, bool last)
{
	if (p->state != IMAGE_PROBE_MORE)
		return p->state;
	size_t n = len < IMAGE_PROBE_HEAD_BYTES - p->head_len ? len
							      : IMAGE_PROBE_HEAD_BYTES - p->head_len;
	memcpy(p->head + p->head_len, data, n);
	p->head_len += n;
	/* The head's bytes reach the JPEG walk when the type is learnt; the rest go straight on. */
	size_t rest = 0;
	if (p->type == IMAGE_UNKNOWN) {
		if (!probe_sniff(p, last || n < len))
			return IMAGE_PROBE_MORE;
		rest = n;
	}
	if (p->state != IMAGE_PROBE_MORE)
		return p->state;
	if (p->type == IMAGE_JPEG)
		return probe_jpeg(p, data + rest, len - rest, last);
	return probe_head(p, last);
}

enum image_probe_state image_probe_feed(struct image_probe *p, const unsigned char *data,
					size_t len)
{
	return probe_take(p, data, len, false);
}

enum image_probe_state image_probe_finish(struct image_probe *p)
{
	static const unsigned char nothing[1];
	return probe_take(p, nothing, 0, true); /* no NULL + 0 on the way */
}
