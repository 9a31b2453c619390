/* log: one line per event on stderr, with time and level. */
#ifndef GALLERY_LOG_H
#define GALLERY_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Accepts "debug", "info", "warn", "error"; returns false for anything else. */
bool log_set_level_name(const char *name);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/*
 * For warnings that can come thousands of times a second, while a dependency
 * is down: at most one line a second per limit (one limit per kind of event);
 * the count of those held back goes with the next line.
 */
struct log_limit {
	_Atomic int64_t last_ms;
	atomic_uint held_back;
};
#define LOG_LIMIT_INIT {INT64_MIN / 2, 0}
void log_warn_limited(struct log_limit *limit, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
