/* log.c: see log.h. */
#include "server/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "server/jsonw.h"

void hf_log(const char *level, const char *msg, const char *fmt, ...)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char t[HF_TIME_TEXT_MAX];
	hf_time_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, t);
	char line[1024];
	int n = snprintf(line, sizeof(line), "ts=%s level=%s msg=%s", t, level, msg);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(line) - 1) {
		va_list ap;
		va_start(ap, fmt);
		int m = vsnprintf(line + n, sizeof(line) - 1 - (size_t)n, fmt, ap);
		va_end(ap);
		if (m > 0)
			n += m;
	}
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t w = write(2, line, (size_t)n);
	(void)w;
}
