/* token: the secrets of sessions, API tokens and mailed links: made, hashed, and read from headers. */
#include "token.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

void token_new(char out[TOKEN_CHARS + 1])
{
	unsigned char bytes[TOKEN_BYTES];
	randombytes_buf(bytes, sizeof(bytes));
	sodium_bin2base64(out, TOKEN_CHARS + 1, bytes, sizeof(bytes),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(bytes, sizeof(bytes));
}

static bool b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

bool token_well_formed(const char *s, size_t len)
{
	if (!s || len != TOKEN_CHARS)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!b64url_char(s[i]))
			return false;
	/* 43 characters carry 258 bits: the last one's low two bits are padding, always 0. */
	return strchr("AEIMQUYcgkosw048", s[len - 1]) != NULL;
}

void token_hash(const char *token, size_t len, unsigned char out[TOKEN_HASH_BYTES])
{
	crypto_hash_sha256(out, (const unsigned char *)token, len);
}

void token_hash_hex(const unsigned char hash[TOKEN_HASH_BYTES], char out[TOKEN_HASH_HEX])
{
	sodium_bin2hex(out, TOKEN_HASH_HEX, hash, TOKEN_HASH_BYTES);
}

static bool take(const char *s, size_t len, char out[TOKEN_CHARS + 1])
{
	if (!token_well_formed(s, len))
		return false;
	memcpy(out, s, TOKEN_CHARS);
	out[TOKEN_CHARS] = '\0';
	return true;
}

bool token_from_cookie(const char *header, const char *name, char out[TOKEN_CHARS + 1],
		       bool *present)
{
	*present = false;
	if (!header)
		return false;
	size_t nlen = strlen(name);
	const char *p = header;
	/* RFC 6265: pairs separated by "; "; a name given twice counts as malformed. */
	bool found = false, ok = false;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t plen = end ? (size_t)(end - p) : strlen(p);
		if (plen > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			const char *v = p + nlen + 1;
			size_t vlen = plen - nlen - 1;
			while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
				vlen--;
			ok = !found && take(v, vlen, out);
			found = true;
		} else if (plen == nlen && strncmp(p, name, nlen) == 0) {
			found = true;
			ok = false;
		}
		p += plen;
	}
	*present = found;
	return ok;
}

bool token_from_bearer(const char *header, char out[TOKEN_CHARS + 1], bool *present)
{
	*present = header != NULL;
	if (!header)
		return false;
	static const char scheme[] = "Bearer ";
	size_t slen = sizeof(scheme) - 1, plen = strlen(TOKEN_BEARER_PREFIX);
	if (strncasecmp(header, scheme, slen) != 0)
		return false;
	const char *t = header + slen;
	while (*t == ' ')
		t++;
	if (strncmp(t, TOKEN_BEARER_PREFIX, plen) != 0)
		return false;
	t += plen;
	size_t len = strlen(t);
	while (len && (t[len - 1] == ' ' || t[len - 1] == '\t'))
		len--;
	return take(t, len, out);
}
