/* db: one MariaDB connection that speaks only prepared statements and reconnects. */
#include "db.h"

#include <errmsg.h>
#include <limits.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include <uthash.h>

#include "config.h"
#include "log.h"
#include "num.h"

enum {
	/*
	 * A server that is down refuses at once; this bounds the wait on one that
	 * hangs. A busy one can take seconds to greet a new connection, and a
	 * request that needs one must not fail for it.
	 */
	DB_CONNECT_TIMEOUT_S = 5,
	DB_IO_TIMEOUT_S = 10,
	/* A search of 8 terms estimates each list with three. */
	DB_MAX_PARAMS = 32,
	/* A cursor's column buffer: its declared width, up to this. */
	DB_CURSOR_COLUMN_MAX = 64 * 1024,
};

struct stmt_entry {
	char *sql;
	MYSQL_STMT *stmt;
	UT_hash_handle hh;
};

struct db {
	const struct config *cfg;
	MYSQL *conn;
	struct stmt_entry *stmts;
	bool in_transaction;
	unsigned long long affected_rows;
	char error[256];
};

void db_library_init(void)
{
	mysql_library_init(0, NULL, NULL);
}

void db_library_end(void)
{
	mysql_library_end();
}

struct db *db_open(const struct config *cfg)
{
	struct db *db = calloc(1, sizeof(*db));
	if (db)
		db->cfg = cfg;
	return db;
}

static void disconnect(struct db *db)
{
	struct stmt_entry *e, *tmp;
	HASH_ITER(hh, db->stmts, e, tmp) {
		HASH_DEL(db->stmts, e);
		mysql_stmt_close(e->stmt);
		free(e->sql);
		free(e);
	}
	if (db->conn)
		mysql_close(db->conn);
	db->conn = NULL;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	disconnect(db);
	free(db);
}

static bool is_connection_error(unsigned err)
{
	return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST ||
	       err == CR_CONNECTION_ERROR || err == CR_CONN_HOST_ERROR ||
	       err == CR_SERVER_LOST_EXTENDED || err == ER_CONNECTION_KILLED ||
	       err == ER_SERVER_SHUTDOWN || err == CR_UNKNOWN_HOST;
}

static enum db_status fail(struct db *db, unsigned err, const char *msg)
{
	snprintf(db->error, sizeof(db->error), "%s (%u)", msg, err);
	if (is_connection_error(err)) {
		disconnect(db);
		return DB_UNAVAILABLE;
	}
	if (err == ER_LOCK_DEADLOCK || err == ER_LOCK_WAIT_TIMEOUT)
		return DB_CONFLICT;
	return DB_FAILED;
}

static bool connect_db(struct db *db)
{
	const struct config *cfg = db->cfg;
	MYSQL *conn = mysql_init(NULL);
	if (!conn) {
		snprintf(db->error, sizeof(db->error), "out of memory");
		return false;
	}
	unsigned connect_timeout = DB_CONNECT_TIMEOUT_S, io_timeout = DB_IO_TIMEOUT_S;
	mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
	mysql_options(conn, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
	mysql_options(conn, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
	mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	/* Timestamps go out as UTC, whatever the server's zone. */
	mysql_options(conn, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
	/* No gap locks: uploads of different new keys must not deadlock each other. */
	mysql_options(conn, MYSQL_INIT_COMMAND,
		      "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
	const char *host = *cfg->db_host ? cfg->db_host : NULL;
	const char *socket = *cfg->db_socket ? cfg->db_socket : NULL;
	if (!mysql_real_connect(conn, host, cfg->db_user, cfg->db_password, cfg->db_name,
				(unsigned)cfg->db_port, host ? NULL : socket, 0)) {
		snprintf(db->error, sizeof(db->error), "cannot connect to MariaDB: %s (%u)",
			 mysql_error(conn), mysql_errno(conn));
		mysql_close(conn);
		return false;
	}
	db->conn = conn;
	return true;
}

static MYSQL_STMT *prepared(struct db *db, const char *sql, enum db_status *status)
{
	struct stmt_entry *e;
	HASH_FIND_STR(db->stmts, sql, e);
	if (e)
		return e->stmt;
	MYSQL_STMT *stmt = mysql_stmt_init(db->conn);
	if (!stmt) {
		*status = fail(db, mysql_errno(db->conn), "out of memory");
		return NULL;
	}
	if (mysql_stmt_prepare(stmt, sql, strlen(sql))) {
		unsigned err = mysql_stmt_errno(stmt);
		char msg[200];
		snprintf(msg, sizeof(msg), "prepare failed: %s", mysql_stmt_error(stmt));
		mysql_stmt_close(stmt);
		*status = fail(db, err, msg);
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	char *copy = strdup(sql);
	if (!e || !copy) {
		free(e);
		free(copy);
		mysql_stmt_close(stmt);
		*status = fail(db, 0, "out of memory");
		return NULL;
	}
	e->sql = copy;
	e->stmt = stmt;
	HASH_ADD_KEYPTR(hh, db->stmts, e->sql, strlen(e->sql), e);
	return stmt;
}

static void bind_params(MYSQL_BIND *binds, const struct db_param *params, size_t n)
{
	memset(binds, 0, n * sizeof(*binds));
	for (size_t i = 0; i < n; i++) {
		switch (params[i].type) {
		case DB_PARAM_STR:
			binds[i].buffer_type = MYSQL_TYPE_STRING;
			binds[i].buffer = (void *)params[i].str;
			binds[i].buffer_length = params[i].len;
			break;
		case DB_PARAM_INT:
			binds[i].buffer_type = MYSQL_TYPE_LONGLONG;
			binds[i].buffer = (void *)&params[i].num;
			break;
		case DB_PARAM_NULL:
			binds[i].buffer_type = MYSQL_TYPE_NULL;
			break;
		}
	}
}

/* Fetches every row as strings, sized from the stored result's max_length. */
static enum db_status fetch_rows(struct db *db, MYSQL_STMT *stmt, db_row_fn on_row, void *ctx)
{
	enum db_status status = DB_OK;
	MYSQL_RES *meta = mysql_stmt_result_metadata(stmt);
	if (!meta)
		return DB_OK;
	my_bool update_max = 1;
	mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max);
	if (mysql_stmt_store_result(stmt)) {
		status = fail(db, mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
		goto out_free_meta;
	}
	unsigned ncols = mysql_num_fields(meta);
	MYSQL_FIELD *fields = mysql_fetch_fields(meta);
	MYSQL_BIND *binds = calloc(ncols, sizeof(*binds));
	char **cols = calloc(ncols, sizeof(*cols));
	char **bufs = calloc(ncols, sizeof(*bufs));
	unsigned long *lens = calloc(ncols, sizeof(*lens));
	my_bool *nulls = calloc(ncols, sizeof(*nulls));
	if (!binds || !cols || !bufs || !lens || !nulls) {
		status = fail(db, 0, "out of memory");
		goto out_free_bufs;
	}
	for (unsigned i = 0; i < ncols; i++) {
		/* Numbers arrive as text too; 32 bytes holds any of them. */
		size_t size = fields[i].max_length + 32;
		bufs[i] = malloc(size);
		if (!bufs[i]) {
			status = fail(db, 0, "out of memory");
			goto out_free_bufs;
		}
		binds[i].buffer_type = MYSQL_TYPE_STRING;
		binds[i].buffer = bufs[i];
		binds[i].buffer_length = size - 1;
		binds[i].length = &lens[i];
		binds[i].is_null = &nulls[i];
	}
	if (mysql_stmt_bind_result(stmt, binds)) {
		status = fail(db, mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
		goto out_free_bufs;
	}
	int rc;
	while ((rc = mysql_stmt_fetch(stmt)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
		for (unsigned i = 0; i < ncols; i++) {
			cols[i] = nulls[i] ? NULL : bufs[i];
			if (cols[i])
				cols[i][lens[i]] = '\0';
		}
		if (on_row && !on_row(ctx, cols, lens, ncols))
			break;
	}
	if (rc == 1)
		status = fail(db, mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
out_free_bufs:
	if (bufs)
		for (unsigned i = 0; i < ncols; i++)
			free(bufs[i]);
	free(nulls);
	free(lens);
	free(bufs);
	free(cols);
	free(binds);
	mysql_stmt_free_result(stmt);
out_free_meta:
	mysql_free_result(meta);
	return status;
}

static enum db_status exec_once(struct db *db, const char *sql, const struct db_param *params,
				size_t nparams, db_row_fn on_row, void *ctx)
{
	if (!db->conn && !connect_db(db))
		return DB_UNAVAILABLE;
	enum db_status status = DB_FAILED;
	MYSQL_STMT *stmt = prepared(db, sql, &status);
	if (!stmt)
		return status;
	MYSQL_BIND binds[DB_MAX_PARAMS];
	if (nparams > DB_MAX_PARAMS || nparams != mysql_stmt_param_count(stmt)) {
		snprintf(db->error, sizeof(db->error), "statement takes %lu parameters, not %zu",
			 mysql_stmt_param_count(stmt), nparams);
		return DB_FAILED;
	}
	bind_params(binds, params, nparams);
	if (nparams && mysql_stmt_bind_param(stmt, binds))
		return fail(db, mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
	db->affected_rows = 0;
	if (mysql_stmt_execute(stmt))
		return fail(db, mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
	my_ulonglong affected = mysql_stmt_affected_rows(stmt);
	db->affected_rows = affected == (my_ulonglong)-1 ? 0 : affected;
	return fetch_rows(db, stmt, on_row, ctx);
}

enum db_status db_exec(struct db *db, const char *sql, const struct db_param *params,
		       size_t nparams, db_row_fn on_row, void *ctx)
{
	bool had_connection = db->conn != NULL;
	enum db_status status = exec_once(db, sql, params, nparams, on_row, ctx);
	/*
	 * A connection that died while idle (the server restarted) fails on first
	 * use; one fresh attempt hides that. Every statement the daemons send is
	 * safe to repeat (upserts, deletes by key, stats rows).
	 */
	if (status == DB_UNAVAILABLE && had_connection && !db->in_transaction)
		status = exec_once(db, sql, params, nparams, on_row, ctx);
	if (status != DB_OK)
		log_debug("db: %s", db->error);
	return status;
}

static enum db_status begin_once(struct db *db)
{
	if (!db->conn && !connect_db(db))
		return DB_UNAVAILABLE;
	if (mysql_autocommit(db->conn, 0))
		return fail(db, mysql_errno(db->conn), mysql_error(db->conn));
	db->in_transaction = true;
	return DB_OK;
}

enum db_status db_begin(struct db *db)
{
	bool had_connection = db->conn != NULL;
	enum db_status status = begin_once(db);
	/* As in db_exec: an idle connection the server dropped gets one fresh attempt. */
	if (status == DB_UNAVAILABLE && had_connection)
		status = begin_once(db);
	return status;
}

enum db_status db_commit(struct db *db)
{
	db->in_transaction = false;
	if (!db->conn)
		return DB_UNAVAILABLE;
	if (mysql_commit(db->conn))
		return fail(db, mysql_errno(db->conn), mysql_error(db->conn));
	/*
	 * The transaction stands even when the server goes away right after it:
	 * the caller must not take a committed upload for a failed one. A
	 * connection stuck outside autocommit is dropped; the next use opens a new one.
	 */
	if (mysql_autocommit(db->conn, 1)) {
		snprintf(db->error, sizeof(db->error), "after a commit: %s (%u)",
			 mysql_error(db->conn), mysql_errno(db->conn));
		disconnect(db);
	}
	return DB_OK;
}

void db_rollback(struct db *db)
{
	db->in_transaction = false;
	if (db->conn && (mysql_rollback(db->conn) || mysql_autocommit(db->conn, 1)))
		fail(db, mysql_errno(db->conn), mysql_error(db->conn));
}

struct db_cursor {
	struct db *db;
	MYSQL_STMT *stmt;
	unsigned ncols;
	MYSQL_BIND *binds;
	char **bufs, **cols;
	unsigned long *lens;
	my_bool *nulls;
	bool finished; /* the server sent the last row */
};

static void cursor_free(struct db_cursor *cur)
{
	if (cur->bufs)
		for (unsigned i = 0; i < cur->ncols; i++)
			free(cur->bufs[i]);
	free(cur->bufs);
	free(cur->cols);
	free(cur->lens);
	free(cur->nulls);
	free(cur->binds);
	free(cur);
}

/* Output buffers from the columns' declared widths: no row is stored to measure them. */
static enum db_status cursor_bind(struct db_cursor *cur, MYSQL_RES *meta)
{
	struct db *db = cur->db;
	cur->ncols = mysql_num_fields(meta);
	MYSQL_FIELD *fields = mysql_fetch_fields(meta);
	cur->binds = calloc(cur->ncols, sizeof(*cur->binds));
	cur->bufs = calloc(cur->ncols, sizeof(*cur->bufs));
	cur->cols = calloc(cur->ncols, sizeof(*cur->cols));
	cur->lens = calloc(cur->ncols, sizeof(*cur->lens));
	cur->nulls = calloc(cur->ncols, sizeof(*cur->nulls));
	if (!cur->binds || !cur->bufs || !cur->cols || !cur->lens || !cur->nulls)
		return fail(db, 0, "out of memory");
	for (unsigned i = 0; i < cur->ncols; i++) {
		size_t size = fields[i].length + 32;
		if (size > DB_CURSOR_COLUMN_MAX)
			size = DB_CURSOR_COLUMN_MAX;
		cur->bufs[i] = malloc(size);
		if (!cur->bufs[i])
			return fail(db, 0, "out of memory");
		cur->binds[i].buffer_type = MYSQL_TYPE_STRING;
		cur->binds[i].buffer = cur->bufs[i];
		cur->binds[i].buffer_length = size - 1;
		cur->binds[i].length = &cur->lens[i];
		cur->binds[i].is_null = &cur->nulls[i];
	}
	if (mysql_stmt_bind_result(cur->stmt, cur->binds))
		return fail(db, mysql_stmt_errno(cur->stmt), mysql_stmt_error(cur->stmt));
	return DB_OK;
}

static enum db_status cursor_start(struct db_cursor *cur, const char *sql,
				   const struct db_param *params, size_t nparams)
{
	struct db *db = cur->db;
	cur->stmt = mysql_stmt_init(db->conn);
	if (!cur->stmt)
		return fail(db, mysql_errno(db->conn), "out of memory");
	if (mysql_stmt_prepare(cur->stmt, sql, strlen(sql)))
		return fail(db, mysql_stmt_errno(cur->stmt), mysql_stmt_error(cur->stmt));
	if (nparams > DB_MAX_PARAMS || nparams != mysql_stmt_param_count(cur->stmt)) {
		snprintf(db->error, sizeof(db->error), "statement takes %lu parameters, not %zu",
			 mysql_stmt_param_count(cur->stmt), nparams);
		return DB_FAILED;
	}
	MYSQL_BIND binds[DB_MAX_PARAMS];
	bind_params(binds, params, nparams);
	if (nparams && mysql_stmt_bind_param(cur->stmt, binds))
		return fail(db, mysql_stmt_errno(cur->stmt), mysql_stmt_error(cur->stmt));
	if (mysql_stmt_execute(cur->stmt))
		return fail(db, mysql_stmt_errno(cur->stmt), mysql_stmt_error(cur->stmt));
	MYSQL_RES *meta = mysql_stmt_result_metadata(cur->stmt);
	if (!meta) {
		cur->finished = true;
		return DB_OK;
	}
	enum db_status status = cursor_bind(cur, meta);
	mysql_free_result(meta);
	return status;
}

enum db_status db_cursor_open(struct db *db, const char *sql, const struct db_param *params,
			      size_t nparams, struct db_cursor **out)
{
	*out = NULL;
	if (!db->conn && !connect_db(db))
		return DB_UNAVAILABLE;
	struct db_cursor *cur = calloc(1, sizeof(*cur));
	if (!cur)
		return fail(db, 0, "out of memory");
	cur->db = db;
	enum db_status status = cursor_start(cur, sql, params, nparams);
	/* An idle connection the server dropped gets one fresh attempt, as in db_exec. */
	if (status == DB_UNAVAILABLE) {
		if (cur->stmt)
			mysql_stmt_close(cur->stmt);
		cursor_free(cur);
		cur = calloc(1, sizeof(*cur));
		if (!cur)
			return fail(db, 0, "out of memory");
		cur->db = db;
		status = connect_db(db) ? cursor_start(cur, sql, params, nparams) : DB_UNAVAILABLE;
	}
	if (status != DB_OK) {
		log_debug("db: %s", db->error);
		cur->finished = true;
		db_cursor_close(cur);
		return status;
	}
	*out = cur;
	return DB_OK;
}

enum db_status db_cursor_next(struct db_cursor *cur, char ***cols, unsigned long **lens,
			      unsigned *ncols)
{
	*ncols = 0;
	if (cur->finished)
		return DB_OK;
	int rc = mysql_stmt_fetch(cur->stmt);
	if (rc == MYSQL_NO_DATA) {
		cur->finished = true;
		return DB_OK;
	}
	if (rc == 1) {
		/* A row read that fails on the network leaves its error on the connection. */
		bool on_stmt = mysql_stmt_errno(cur->stmt) != 0;
		enum db_status status = fail(cur->db,
					     on_stmt ? mysql_stmt_errno(cur->stmt)
						     : mysql_errno(cur->db->conn),
					     on_stmt ? mysql_stmt_error(cur->stmt)
						     : mysql_error(cur->db->conn));
		log_debug("db: %s", cur->db->error);
		return status == DB_OK ? DB_FAILED : status;
	}
	if (rc == MYSQL_DATA_TRUNCATED) {
		snprintf(cur->db->error, sizeof(cur->db->error), "a column wider than %d bytes",
			 DB_CURSOR_COLUMN_MAX);
		return DB_FAILED;
	}
	for (unsigned i = 0; i < cur->ncols; i++) {
		cur->cols[i] = cur->nulls[i] ? NULL : cur->bufs[i];
		if (cur->cols[i])
			cur->cols[i][cur->lens[i]] = '\0';
	}
	*cols = cur->cols;
	*lens = cur->lens;
	*ncols = cur->ncols;
	return DB_OK;
}

void db_cursor_close(struct db_cursor *cur)
{
	if (!cur)
		return;
	struct db *db = cur->db;
	/* Closes the socket under the client library first, so that closing reads no more rows. */
	if (!cur->finished && db->conn) {
		my_socket fd = mysql_get_socket(db->conn);
		if (fd >= 0)
			shutdown(fd, SHUT_RDWR);
	}
	/* A statement whose connection failed is still ours to free. */
	if (cur->stmt)
		mysql_stmt_close(cur->stmt);
	if (!cur->finished)
		disconnect(db);
	cursor_free(cur);
}

unsigned long long db_affected_rows(const struct db *db)
{
	return db->affected_rows;
}

bool db_column_int(const char *col, long long *out)
{
	long v = 0;
	bool ok = !col || num_parse_long(col, LONG_MIN, LONG_MAX, &v);
	*out = ok ? v : 0;
	return ok;
}

const char *db_error(const struct db *db)
{
	return db->error;
}
