/* b64: base64 without line breaks, over libb64. */
#include "b64.h"

#include <b64/cdecode.h>
#include <b64/cencode.h>

/* libb64 takes int lengths, so long inputs go through in pieces of whole triples. */
enum { B64_CHUNK = 3 * (1 << 20) };

bool b64_encode(const void *data, size_t len, struct buf *out)
{
	/* 4 characters per 3 bytes, plus the line breaks libb64 adds and we drop. */
	size_t room = (len + 2) / 3 * 4;
	if (!buf_reserve(out, room + room / 72 + 4))
		return false;
	base64_encodestate state;
	base64_init_encodestate(&state);
	char *start = out->data + out->len;
	size_t n = 0;
	for (size_t done = 0; done < len; done += B64_CHUNK) {
		size_t piece = len - done < B64_CHUNK ? len - done : B64_CHUNK;
		n += (size_t)base64_encode_block((const char *)data + done, (int)piece, start + n,
						 &state);
	}
	n += (size_t)base64_encode_blockend(start + n, &state);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (start[i] != '\n')
			start[kept++] = start[i];
	out->len += kept;
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
