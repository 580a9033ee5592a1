/* err.c - error texts; see err.h. */
#include "base/err.h"

#include <string.h>

const char *slipway_strerror(int r)
{
	switch (r) {
#define SW_ERR_CASE_(name, value, text) case value: return text;
	SLIPWAY_ERRORS(SW_ERR_CASE_)
#undef SW_ERR_CASE_
	default:
		break;
	}
	if (r < 0 && r > -1000)
		return strerror(-r);
	return "unknown error";
}
