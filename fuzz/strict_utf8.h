/*
 * strict_utf8.h: the fuzz targets' own UTF-8 check (RFC 3629), written
 * apart from util's so that a bug there cannot hide itself.
 */
#ifndef FUZZ_STRICT_UTF8_H
#define FUZZ_STRICT_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Whether s is strict UTF-8: no overlongs, surrogates or > U+10FFFF. */
static int
strict_utf8(const unsigned char *s, size_t n)
{
	size_t	 i = 0, k, need;
	uint32_t cp;

	while (i < n) {
		unsigned char c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else
			return 0;
		if (n - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

#endif
