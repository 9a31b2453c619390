/* url: percent-decoding of request paths and percent-encoding of links. */
#include "url.h"

enum {
	URL_ESCAPE_BYTES = 3, /* '%' and two hex digits */
	HEX_DIGIT_BITS = 4,
	/* An escaped NUL becomes this: still one C string, and still refused by key_is_valid. */
	URL_NUL_STANDIN = 0x01,
};

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 0xa;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 0xA;
	return -1;
}

/* The byte that the escape at s[0..avail) stands for, or -1 if there is no well-formed escape. */
static int escape_value(const char *s, size_t avail)
{
	if (avail < URL_ESCAPE_BYTES || s[0] != '%')
		return -1;
	int hi = hex_value(s[1]);
	int lo = hex_value(s[2]);
	if (hi < 0 || lo < 0)
		return -1;
	return (hi << HEX_DIGIT_BITS) | lo;
}

size_t url_decode_inplace(char *s, size_t len)
{
	size_t out = 0;
	size_t i = 0;
	while (i < len) {
		int byte = escape_value(s + i, len - i);
		if (byte < 0) {
			s[out++] = s[i++];
			continue;
		}
		s[out++] = (char)(byte ? byte : URL_NUL_STANDIN);
		i += URL_ESCAPE_BYTES;
	}
	s[out] = '\0';
	return out;
}

void url_encode(const char *s, size_t len, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	for (size_t i = 0; i < len && n + URL_ESCAPE_BYTES + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> HEX_DIGIT_BITS];
			out[n++] = hex[c & 0xf];
		}
	}
	out[n] = '\0';
}
