/*
 * casefile.h - reading tests/data/AREA/NAME.case files for data-driven unit
 * tests: one case per file, one directive per line ("word args..."), '#'
 * starts a comment.  Header-only; test code may do I/O.
 */
#ifndef SLIPWAY_TESTS_CASEFILE_H
#define SLIPWAY_TESTS_CASEFILE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The sorted .case file names of tests/data/AREA into *names (caller frees each and the array). */
static inline int casefile_list(const char *area, char *dir, size_t dirsz, char ***names)
{
	const char *src = getenv("SLIPWAY_SRC");
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(dir, dirsz, "%s/tests/data/%s", src ? src : ".", area);
	*names = NULL;
	if (!(d = opendir(dir)))
		return -1;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l > 5 && !strcmp(e->d_name + l - 5, ".case")) {
			*names = realloc(*names, (size_t)(n + 1) * sizeof(char *));
			(*names)[n++] = strdup(e->d_name);
		}
	}
	closedir(d);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (strcmp((*names)[i], (*names)[j]) > 0) {
				char *t = (*names)[i];
				(*names)[i] = (*names)[j];
				(*names)[j] = t;
			}
	return n;
}

/* Split line in place into at most max words; returns the count (0 for blank or comment lines). */
static inline int casefile_words(char *line, char **w, int max)
{
	int n = 0;
	char *p = line, *save = NULL;
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	for (char *tok = strtok_r(p, " \t\r\n", &save); tok && n < max; tok = strtok_r(NULL, " \t\r\n", &save))
		w[n++] = tok;
	return n;
}

#endif
