/* stats_timer: a thread that writes one cache_stats row per interval. */
#ifndef GALLERY_STATS_TIMER_H
#define GALLERY_STATS_TIMER_H

struct cache;
struct cache_sql;
struct stats_timer;

struct stats_timer *stats_timer_start(struct cache *cache, struct cache_sql *sql,
				      unsigned interval_s);
/* Wakes the thread at once; it writes a last row and exits, and is joined. */
void stats_timer_stop(struct stats_timer *t);

#endif
