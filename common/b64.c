/* b64: base64 without line breaks: our own encoder, libb64's decoder. */
#include "b64.h"

#include <b64/cdecode.h>
#include <stdint.h>

/* libb64 takes int lengths, so long inputs go through in pieces of whole triples. */
enum { B64_CHUNK = 3 * (1 << 20) };

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t b64_encoded_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

/*
 * Encodes here rather than with libb64: its encoder breaks lines, which then
 * cost another pass to take out, and runs a state machine per byte. Image
 * misses encode every byte they send to memcache.
 */
bool b64_encode(const void *data, size_t len, struct buf *out)
{
	if (len > (SIZE_MAX - 4) / 4 * 3)
		return false;
	size_t room = b64_encoded_len(len);
	if (!buf_reserve(out, room))
		return false;
	const unsigned char *in = data;
	char *o = out->data + out->len;
	size_t i = 0;
	for (; i + 3 <= len; i += 3, o += 4) {
		uint32_t triple = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		o[0] = ALPHABET[triple >> 18];
		o[1] = ALPHABET[(triple >> 12) & 63];
		o[2] = ALPHABET[(triple >> 6) & 63];
		o[3] = ALPHABET[triple & 63];
	}
	if (i < len) {
		uint32_t triple = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
		o[0] = ALPHABET[triple >> 18];
		o[1] = ALPHABET[(triple >> 12) & 63];
		o[2] = i + 1 < len ? ALPHABET[(triple >> 6) & 63] : '=';
		o[3] = '=';
	}
	out->len += room;
	out->data[out->len] = '\0';
	return true;
}

bool b64_decode(const char *text, size_t len, struct buf *out)
{
	if (!buf_reserve(out, len / 4 * 3 + 3))
		return false;
	base64_decodestate state;
	base64_init_decodestate(&state);
	for (size_t done = 0; done < len; done += B64_CHUNK) {
		size_t piece = len - done < B64_CHUNK ? len - done : B64_CHUNK;
		out->len += (size_t)base64_decode_block(text + done, (int)piece,
							out->data + out->len, &state);
	}
	out->data[out->len] = '\0';
	return true;
}
