/* db: one MariaDB connection that speaks only prepared statements and reconnects. */
#ifndef GALLERY_DB_H
#define GALLERY_DB_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct db;

enum db_status {
	DB_OK,
	DB_UNAVAILABLE, /* the server cannot be reached; try again later */
	DB_FAILED,      /* the statement itself failed */
	DB_CONFLICT,    /* a deadlock or lock timeout undid the transaction; run it again */
};

enum db_param_type { DB_PARAM_STR, DB_PARAM_INT, DB_PARAM_NULL };

struct db_param {
	enum db_param_type type;
	const char *str;
	size_t len;
	long long num;
};

#define DB_STR(s) ((struct db_param){.type = DB_PARAM_STR, .str = (s), .len = strlen(s)})
#define DB_STRN(s, n) ((struct db_param){.type = DB_PARAM_STR, .str = (s), .len = (n)})
#define DB_INT(n) ((struct db_param){.type = DB_PARAM_INT, .num = (n)})

/*
 * Called once per result row. cols[i] is NULL for SQL NULL, else NUL-terminated
 * with lens[i] bytes. Returning false stops the fetch.
 */
typedef bool (*db_row_fn)(void *ctx, char **cols, const unsigned long *lens, unsigned ncols);

/* Once per process, before any thread starts, and once at exit. */
void db_library_init(void);
void db_library_end(void);

/* Never connects here: the first statement does, and every later one after a loss. */
struct db *db_open(const struct config *cfg);
void db_close(struct db *db);

enum db_status db_exec(struct db *db, const char *sql, const struct db_param *params,
		       size_t nparams, db_row_fn on_row, void *ctx);
/*
 * A transaction: statements between begin and commit run on one connection
 * and are never retried; rollback after any failure.
 */
enum db_status db_begin(struct db *db);
enum db_status db_commit(struct db *db);
void db_rollback(struct db *db);

/*
 * Rows the last statement on db changed (an UPDATE that matched a row but left
 * it as it was counts 0): how a fenced update learns that it found nothing.
 */
unsigned long long db_affected_rows(const struct db *db);

/*
 * A result read one row at a time, so that a result of any size costs the
 * memory of one row. The statement runs when the cursor opens; the server
 * keeps one snapshot for it. db serves nothing else until db_cursor_close.
 */
struct db_cursor;
enum db_status db_cursor_open(struct db *db, const char *sql, const struct db_param *params,
			      size_t nparams, struct db_cursor **out);
/*
 * The next row: DB_OK with cols, lens and ncols as for db_row_fn (valid until
 * the next call), or DB_OK with *ncols == 0 after the last row.
 */
enum db_status db_cursor_next(struct db_cursor *cur, char ***cols, unsigned long **lens,
			      unsigned *ncols);
/*
 * Whether every row was read; a cursor closed before that drops its connection
 * (the next statement on db opens another) rather than read the rest.
 */
void db_cursor_close(struct db_cursor *cur);

/*
 * A column holding a whole number (an id, a count, a time), through the strict
 * parser: *out is 0 for NULL. False, with *out 0, when the text is no number.
 */
bool db_column_int(const char *col, long long *out);

/* The last error in words, for the log. */
const char *db_error(const struct db *db);

#endif
