/* suggest.c - the nearest valid word by edit distance; see suggest.h. */
#include "base/suggest.h"

#include <ctype.h>
#include <string.h>

#define SUGGEST_WORD_MAX 64

/* Levenshtein distance, case-insensitive; one row of the table on the stack. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[SUGGEST_WORD_MAX + 1];

	if (la > SUGGEST_WORD_MAX || lb > SUGGEST_WORD_MAX)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
			size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
			row[j] = sub < best ? sub : best;
			prev = cur;
		}
	}
	return row[lb];
}

const char *suggest_nearest(const char *word, const char *const *valid, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, wl = strlen(word);
	size_t limit = wl / 3 > 2 ? wl / 3 : 2;

	for (size_t i = 0; i < n; i++) {
		size_t d;
		if (!valid[i])
			continue;
		d = edit_distance(word, valid[i]);
		/* a prefix ("monitor" for "monitoring") is a plausible slip too */
		if (wl >= 3 && !strncmp(valid[i], word, wl))
			d = d < 2 ? d : 2;
		if (d < best_d) {
			best_d = d;
			best = valid[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

const char *suggest_nearest0(const char *word, const char *const *valid)
{
	size_t n = 0;

	while (valid[n])
		n++;
	return suggest_nearest(word, valid, n);
}
