/* isolate: runs one operation over bytes in a child process, so that a crash costs an attempt, not the worker. */
#include "isolate.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

extern char **environ;

enum {
	POLL_SLICE_MS = 100,
	READ_CHUNK = 64 * 1024,
	/* After stdout closes, the child has this long to exit before it is killed. */
	EXIT_WAIT_MS = 2000,
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static pid_t spawn_child(const struct isolate_params *p, int in_fd, int out_fd, char *err,
			 size_t errlen)
{
	char parent[24];
	snprintf(parent, sizeof(parent), "%ld", (long)getpid());
	char *argv[] = {(char *)p->program, "--run-isolated", (char *)p->op, parent, NULL};
	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, in_fd, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
	/* The child starts with the default signal mask, whatever this thread blocks. */
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	sigset_t defaults;
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	int rc = posix_spawn(&pid, p->program, &actions, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&actions);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start %s: %s", p->what, strerror(rc));
		return -1;
	}
	return pid;
}

/* Waits for the child until deadline_ms, then kills it; returns its wait status. */
static int reap(pid_t pid, int64_t deadline_ms, bool *killed)
{
	int status = 0;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			return status;
		if (clock_ms() >= deadline_ms) {
			kill(pid, SIGKILL);
			*killed = true;
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return status;
		}
		struct timespec t = {0, 5 * 1000 * 1000};
		nanosleep(&t, NULL);
	}
}

/*
 * Writes the input and reads the output at once (either pipe may fill while the
 * other waits). Returns ISOLATE_OK when stdout reached its end.
 */
static enum isolate_status pump(const struct isolate_params *p, int *to_child, int *from_child,
				int64_t deadline_ms, struct buf *out, char *err, size_t errlen,
				bool *timed_out)
{
	size_t sent = 0;
	if (p->input_len == 0)
		close_fd(to_child);
	while (*from_child >= 0) {
		int w = *to_child, r = *from_child;
		if (p->cancel && atomic_load(p->cancel))
			return ISOLATE_CANCELLED;
		int64_t left = deadline_ms - clock_ms();
		if (left <= 0) {
			*timed_out = true;
			return ISOLATE_TRANSIENT;
		}
		struct pollfd fds[2] = {{r, POLLIN, 0}, {w, POLLOUT, 0}};
		int n = poll(fds, w >= 0 ? 2 : 1, left < POLL_SLICE_MS ? (int)left : POLL_SLICE_MS);
		if (n < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return ISOLATE_TRANSIENT;
		}
		if (n <= 0)
			continue;
		if (w >= 0 && fds[1].revents) {
			ssize_t k = write(w, (const char *)p->input + sent, p->input_len - sent);
			if (k > 0)
				sent += (size_t)k;
			/* EPIPE: the child stopped reading (it died); what it wrote still counts. */
			if ((k < 0 && errno != EAGAIN && errno != EINTR) || sent == p->input_len)
				close_fd(to_child);
		}
		if (fds[0].revents) {
			if (!buf_reserve(out, READ_CHUNK)) {
				snprintf(err, errlen, "out of memory reading %s's output", p->what);
				return ISOLATE_TRANSIENT;
			}
			ssize_t k = read(r, out->data + out->len, READ_CHUNK);
			if (k > 0) {
				out->len += (size_t)k;
				out->data[out->len] = '\0';
				if (out->len > p->max_output) {
					snprintf(err, errlen, "%s wrote more than %zu bytes", p->what,
						 p->max_output);
					return ISOLATE_PERMANENT;
				}
			} else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
				close_fd(from_child);
			}
		}
	}
	return ISOLATE_OK;
}

static enum isolate_status judge(const struct isolate_params *p, int status, bool killed,
				 struct buf *out, char *err, size_t errlen)
{
	if (WIFSIGNALED(status) && !killed) {
		snprintf(err, errlen, "%s crashed (signal %d)", p->what, WTERMSIG(status));
		return ISOLATE_TRANSIENT;
	}
	if (killed || !WIFEXITED(status)) {
		snprintf(err, errlen, "%s did not exit and was killed", p->what);
		return ISOLATE_TRANSIENT;
	}
	int code = WEXITSTATUS(status);
	if (code == ISOLATE_OP_OK)
		return ISOLATE_OK;
	/* On failure the child's output is its message. */
	snprintf(err, errlen, "%.*s", (int)(out->len < 400 ? out->len : 400),
		 out->data ? out->data : "");
	if (!*err)
		snprintf(err, errlen, "%s failed (exit status %d)", p->what, code);
	return code == ISOLATE_OP_PERMANENT ? ISOLATE_PERMANENT : ISOLATE_TRANSIENT;
}

enum isolate_status isolate_run(const struct isolate_params *p, struct buf *out, char *err,
				size_t errlen)
{
	int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
	if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "cannot make pipes for %s: %s", p->what, strerror(errno));
		close_fd(&in_pipe[0]);
		close_fd(&in_pipe[1]);
		return ISOLATE_TRANSIENT;
	}
	pid_t pid = spawn_child(p, in_pipe[0], out_pipe[1], err, errlen);
	close_fd(&in_pipe[0]);
	close_fd(&out_pipe[1]);
	if (pid < 0) {
		close_fd(&in_pipe[1]);
		close_fd(&out_pipe[0]);
		return ISOLATE_TRANSIENT;
	}
	fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
	fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
	int64_t deadline = clock_ms() + p->timeout_ms;
	bool timed_out = false, killed = false;
	enum isolate_status result = pump(p, &in_pipe[1], &out_pipe[0], deadline, out, err, errlen,
					  &timed_out);
	close_fd(&in_pipe[1]);
	close_fd(&out_pipe[0]);
	int status = reap(pid, result == ISOLATE_OK ? clock_ms() + EXIT_WAIT_MS : 0, &killed);
	if (result == ISOLATE_CANCELLED)
		return result;
	if (timed_out) {
		snprintf(err, errlen, "%s took longer than %ld ms and was stopped", p->what,
			 p->timeout_ms);
		return ISOLATE_TRANSIENT;
	}
	if (result != ISOLATE_OK)
		return result;
	return judge(p, status, killed, out, err, errlen);
}

static bool read_all(int fd, struct buf *in)
{
	for (;;) {
		if (!buf_reserve(in, READ_CHUNK))
			return false;
		ssize_t k = read(fd, in->data + in->len, READ_CHUNK);
		if (k == 0)
			return true;
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		in->len += (size_t)k;
		in->data[in->len] = '\0';
	}
}

static bool write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t k = write(fd, data, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		data += k;
		len -= (size_t)k;
	}
	return true;
}

int isolate_child_main(const char *op, const char *parent_pid, const struct isolate_op *ops,
		       size_t nops)
{
	/* Dies with the worker thread that started it, and holds none of its sockets. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != (pid_t)strtol(parent_pid, NULL, 10))
		return ISOLATE_OP_TRANSIENT;
	close_range(3, ~0U, 0);
	const struct isolate_op *found = NULL;
	for (size_t i = 0; i < nops; i++)
		if (strcmp(ops[i].name, op) == 0)
			found = &ops[i];
	char err[512] = "";
	struct buf in = BUF_INIT, out = BUF_INIT;
	enum isolate_op_status status = ISOLATE_OP_PERMANENT;
	if (!found)
		snprintf(err, sizeof(err), "no isolated operation '%s'", op);
	else if (!read_all(STDIN_FILENO, &in))
		snprintf(err, sizeof(err), "cannot read the input");
	else
		status = found->run(&in, &out, err, sizeof(err));
	bool written = status == ISOLATE_OP_OK ? write_all(STDOUT_FILENO, out.data ? out.data : "", out.len)
					       : write_all(STDOUT_FILENO, err, strlen(err));
	buf_free(&in);
	buf_free(&out);
	return written ? (int)status : ISOLATE_OP_TRANSIENT;
}
