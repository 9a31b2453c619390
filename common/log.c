/* log: one line per event on stderr, with time and level. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

enum {
	LINE_MAX_BYTES = 1024,
	LIMITED_INTERVAL_MS = 1000,
};

static enum log_level min_level = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

bool log_set_level_name(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			min_level = (enum log_level)i;
			return true;
		}
	}
	return false;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level < min_level)
		return;
	char line[LINE_MAX_BYTES];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	int n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03ldZ %-5s ",
		      now.tv_nsec / 1000000, level_names[level]);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	/* One write per line, so lines from different threads never interleave. */
	for (size_t i = (size_t)n; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[len++] = '\n';
	fwrite(line, 1, len, stderr);
}

void log_warn_limited(struct log_limit *limit, const char *fmt, ...)
{
	if (LOG_WARN < min_level)
		return;
	int64_t now = clock_ms();
	int64_t last = atomic_load(&limit->last_ms);
	/* Of the threads that find the second over, the one that wins the exchange writes. */
	if (now - last < LIMITED_INTERVAL_MS ||
	    !atomic_compare_exchange_strong(&limit->last_ms, &last, now)) {
		atomic_fetch_add(&limit->held_back, 1);
		return;
	}
	char text[LINE_MAX_BYTES];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	unsigned held_back = atomic_exchange(&limit->held_back, 0);
	if (held_back)
		log_msg(LOG_WARN, "%s (%u similar warnings suppressed)", text, held_back);
	else
		log_msg(LOG_WARN, "%s", text);
}
