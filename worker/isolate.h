/* isolate: runs one operation over bytes in a child process, so that a crash costs an attempt, not the worker. */
#ifndef GALLERY_ISOLATE_H
#define GALLERY_ISOLATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/*
 * Why a child process per run, started by fork+exec (posix_spawn) of the worker
 * binary in its --run-isolated mode, rather than a fork of the multithreaded
 * worker or a long-lived helper: a fork of a process with threads may only call
 * async-signal-safe functions before exec (another thread could hold malloc's
 * or libvips' locks), and a helper that outlives one input carries whatever a
 * hostile input did to its heap into the next job. A fresh exec costs a few
 * milliseconds against the tens to hundreds a decode takes, and gives each
 * input a clean address space that the kernel reclaims whatever happens.
 */

/* What an operation in the child returns, as its exit status. */
enum isolate_op_status { ISOLATE_OP_OK = 0, ISOLATE_OP_PERMANENT = 3, ISOLATE_OP_TRANSIENT = 4 };

/*
 * An operation: input bytes in, output bytes out; on failure the message goes
 * to err. Runs in the child only.
 */
struct isolate_op {
	const char *name;
	enum isolate_op_status (*run)(const struct buf *in, struct buf *out, char *err,
				      size_t errlen);
};

enum isolate_status {
	ISOLATE_OK,
	ISOLATE_PERMANENT, /* the operation refused its input */
	ISOLATE_TRANSIENT, /* the operation failed for now, or crashed, or ran out of time */
	ISOLATE_CANCELLED, /* *cancel was set: the child was killed */
};

struct isolate_params {
	const char *program; /* the worker binary (its /proc/self/exe at start) */
	const char *op;
	const void *input;
	size_t input_len;
	long timeout_ms;
	size_t max_output;
	const atomic_bool *cancel; /* polled every 100 ms; may be NULL */
	const char *what;          /* for messages: "the image decoder" */
};

/*
 * Runs p->op in a new child, feeding it the input on its stdin and collecting
 * its stdout into out. A child killed by a signal is ISOLATE_TRANSIENT with
 * err "<what> crashed (signal 11)"; one past the time limit is killed and
 * ISOLATE_TRANSIENT too.
 */
enum isolate_status isolate_run(const struct isolate_params *p, struct buf *out, char *err,
				size_t errlen);

/*
 * The child's side: what main runs for "--run-isolated OP PARENT_PID". Reads
 * stdin, runs the op named OP, writes its output (or its error message) to
 * stdout, and returns the exit status.
 */
int isolate_child_main(const char *op, const char *parent_pid, const struct isolate_op *ops,
		       size_t nops);

#endif
