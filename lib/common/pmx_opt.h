/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * pmx_opt.h - numbers on the command lines of portmux's programs: the whole argument must be
 * a decimal number within [min, max] (no sign for unsigned values, nothing after it), so that
 * "-q 4x", "-w -1" or "-d nan" are errors rather than atoi()'s 4, huge or 0.
 *
 * Thread-safety: pure functions of their arguments (errno is thread-local); any thread.
 */
#ifndef PMX_OPT_H
#define PMX_OPT_H

#include <errno.h>
#include <math.h>
#include <stdlib.h>

/**
 * Parse s as an unsigned decimal number in [min, max].
 * @return 0 (*out set), or -EINVAL (not a number, trailing characters, a sign, out of range;
 *         *out untouched).
 */
static inline int pmx_opt_ulong(const char *s, unsigned long min, unsigned long max,
				unsigned long *out)
{
	unsigned long v;
	char *end;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/** pmx_opt_ulong() into an unsigned (max must fit one). */
static inline int pmx_opt_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long v;
	int ret = pmx_opt_ulong(s, min, max, &v);

	if (ret == 0)
		*out = (unsigned)v;
	return ret;
}

/**
 * Parse s as a finite decimal number in [min, max] ("0.5", "10", "1e6").
 * @return 0 (*out set), or -EINVAL (*out untouched).
 */
static inline int pmx_opt_double(const char *s, double min, double max, double *out)
{
	double v;
	char *end;

	if (s == NULL || s[0] == '\0')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

#endif
