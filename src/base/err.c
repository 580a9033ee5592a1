/* err.c - error texts; see err.h. */
#include "base/err.h"

#include <string.h>

const char *slipway_strerror(int r)
{
	switch (r) {
#define SW_ERR_CASE_(name, value, exit, text) case value: return text;
	SLIPWAY_ERRORS(SW_ERR_CASE_)
#undef SW_ERR_CASE_
	default:
		break;
	}
	if (r < 0 && r > -1000)
		return strerror(-r);
	return "unknown error";
}

int slipway_error_exit(int r)
{
	if (r >= 0)
		return 0;
	switch (r) {
#define SW_ERR_EXIT_(name, value, exit, text) case value: return exit;
	SLIPWAY_ERRORS(SW_ERR_EXIT_)
#undef SW_ERR_EXIT_
	default:
		return 3;
	}
}
