/*
 * tap.h - a few macros that print the Test Anything Protocol, which tests/run
 * counts ("ok N - name" / "not ok N - name").  Header-only; one per test.
 *
 *   int main(void) { ok(1 + 1 == 2, "addition"); return tap_done(); }
 */
#ifndef SLIPWAY_TESTS_TAP_H
#define SLIPWAY_TESTS_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n_, tap_failed_;

#define ok(cond, ...)                                                        \
	do {                                                                 \
		int tap_c_ = !!(cond);                                       \
		printf("%sok %d - ", tap_c_ ? "" : "not ", ++tap_n_);        \
		printf(__VA_ARGS__);                                         \
		printf("\n");                                                \
		if (!tap_c_) {                                               \
			tap_failed_++;                                       \
			printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		}                                                            \
		fflush(stdout);                                              \
	} while (0)

#define is_int(got, want, ...)                                               \
	do {                                                                 \
		long long g_ = (long long)(got), w_ = (long long)(want);     \
		ok(g_ == w_, __VA_ARGS__);                                   \
		if (g_ != w_)                                                \
			printf("#   got %lld, want %lld\n", g_, w_);         \
	} while (0)

#define is_str(got, want, ...)                                               \
	do {                                                                 \
		const char *g_ = (got), *w_ = (want);                        \
		int eq_ = (g_ && w_) ? !strcmp(g_, w_) : g_ == w_;           \
		ok(eq_, __VA_ARGS__);                                        \
		if (!eq_)                                                    \
			printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n_);
	return tap_failed_ ? 1 : 0;
}

#endif
