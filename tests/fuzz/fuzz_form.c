/*
 * fuzz_form: the upload form parser (frontend/form over libmicrohttpd's post
 * processor) on a real libmicrohttpd connection.
 * Input: a first line with the chunk size the body is fed in (0 or no number:
 * all at once), a second line with the request's Content-Type, then the body:
 *   7
 *   multipart/form-data; boundary=XyZ
 *   --XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\nbeach.jpg\r\n--XyZ--\r\n
 * One daemon without a listening socket lives for the whole process; each
 * input comes over a fresh socket pair with the headers only, and the handler
 * feeds the body from the input, so that chunk boundaries fall anywhere.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "frontend/form.h"
#include "core/imagetype.h"
#include "tests/fuzz/fuzz.h"

enum {
	MAX_FILE_BYTES = 1024, /* small, so that inputs reach the limit */
	MAX_CHUNK = 1 << 16,
	ANSWER_CHUNK = 4096,
	DECIMAL = 10,
};

static const char FORM_PATH[] = "/form";

/* The input being handled; the fuzzing thread waits for the answer while the daemon reads it. */
static struct {
	const char *body;
	size_t body_len;
	size_t chunk;
} current;

/* Stands in for the image upload: sniffs the first bytes and refuses what is no image. */
struct sink_state {
	unsigned char head[IMAGE_SNIFF_BYTES];
	size_t head_len;
	uint64_t total;
	bool refused;
};

static bool sink_write(void *ctx, const char *data, size_t len)
{
	struct sink_state *s = ctx;
	FUZZ_CHECK(len > 0 && !s->refused);
	size_t n = len < IMAGE_SNIFF_BYTES - s->head_len ? len : IMAGE_SNIFF_BYTES - s->head_len;
	memcpy(s->head + s->head_len, data, n);
	s->head_len += n;
	s->total += len;
	if (s->head_len == IMAGE_SNIFF_BYTES && image_sniff(s->head, s->head_len) == IMAGE_UNKNOWN)
		s->refused = true;
	return !s->refused;
}

static bool feed_body(struct form *f)
{
	for (size_t off = 0; off < current.body_len;) {
		size_t n = current.body_len - off;
		if (current.chunk && n > current.chunk)
			n = current.chunk;
		if (!form_feed(f, current.body + off, n))
			return false;
		off += n;
	}
	return true;
}

/* What a route may rely on once the form has been read. */
static void check_form(struct form *f, const struct sink_state *sink, bool ok)
{
	enum form_error error = form_error(f);
	FUZZ_CHECK(ok == (error == FORM_OK));
	FUZZ_CHECK(form_file_bytes(f) <= MAX_FILE_BYTES);
	/* Every byte counted went to the sink, once. */
	FUZZ_CHECK(sink->total == form_file_bytes(f));
	if (!form_has_file(f))
		FUZZ_CHECK(form_file_bytes(f) == 0);
	FUZZ_CHECK((error == FORM_SINK_REFUSED) == sink->refused);
	if (error == FORM_FIELD_TOO_LARGE)
		FUZZ_CHECK(form_field_name_too_large(f)[0] != '\0');
	if (!ok)
		return;
	size_t len = 0;
	const char *key = form_field(f, "key", &len);
	if (key)
		FUZZ_CHECK(key[len] == '\0');
}

static void run_form(struct MHD_Connection *conn)
{
	struct sink_state sink = {0};
	struct form_sink form_sink = {sink_write, &sink};
	struct form *f = form_create(conn, MAX_FILE_BYTES, &form_sink);
	if (!f)
		return;
	bool fed = feed_body(f);
	/* As the router does: after a refused chunk the body is not fed on, but still finished. */
	bool ok = form_finish(f) && fed;
	check_form(f, &sink, ok);
	form_destroy(f);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	(void)cls, (void)method, (void)version, (void)upload_data;
	static int started;
	if (!*req_cls) {
		*req_cls = &started;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(url, FORM_PATH) == 0)
		run_form(conn);
	struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static struct MHD_Daemon *daemon_once;

static void stop_daemon(void)
{
	MHD_stop_daemon(daemon_once);
	daemon_once = NULL;
}

static struct MHD_Daemon *form_daemon(void)
{
	if (daemon_once)
		return daemon_once;
	daemon_once = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_NO_LISTEN_SOCKET |
					       MHD_USE_ITC,
				       0, NULL, NULL, handle, NULL, MHD_OPTION_END);
	FUZZ_CHECK(daemon_once != NULL);
	atexit(stop_daemon);
	return daemon_once;
}

static void write_all(int fd, const char *data, size_t len)
{
	while (len) {
		/* MSG_NOSIGNAL: a daemon that has closed already must not kill us with SIGPIPE. */
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* the daemon refused the request and closed: its answer says so */
		data += n;
		len -= (size_t)n;
	}
}

/* The request line and headers; CR, LF and NUL cannot stand in a header value. */
static void build_request(struct buf *req, const char *type, size_t type_len)
{
	FUZZ_CHECK(buf_printf(req, "POST %s HTTP/1.1\r\nHost: fuzz\r\nContent-Type: ", FORM_PATH));
	for (size_t i = 0; i < type_len; i++)
		if (type[i] != '\r' && type[i] != '\n' && type[i] != '\0')
			FUZZ_CHECK(buf_append(req, &type[i], 1));
	FUZZ_CHECK(buf_puts(req, "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
}

/* Sends the request over a new connection and reads until the daemon closes it. */
static void send_request(const struct buf *req)
{
	int fds[2];
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	/* The daemon owns fds[1] from here on, failure included. */
	if (MHD_add_connection(form_daemon(), fds[1], (const struct sockaddr *)&peer,
			       sizeof(peer)) != MHD_YES) {
		close(fds[0]);
		FUZZ_CHECK(!"libmicrohttpd took no connection");
	}
	write_all(fds[0], req->data, req->len);
	shutdown(fds[0], SHUT_WR);
	char answer[ANSWER_CHUNK];
	ssize_t n;
	while ((n = read(fds[0], answer, sizeof(answer))) != 0)
		FUZZ_CHECK(n > 0 || errno == EINTR);
	close(fds[0]);
}

static size_t parse_chunk(const char *line, size_t len)
{
	size_t chunk = 0;
	for (size_t i = 0; i < len && line[i] >= '0' && line[i] <= '9'; i++)
		chunk = chunk < MAX_CHUNK ? chunk * DECIMAL + (size_t)(line[i] - '0') : MAX_CHUNK;
	return chunk;
}

int fuzz_form_one(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *end = text + size;
	const char *nl1 = memchr(text, '\n', size);
	if (!nl1)
		return 0;
	const char *type = nl1 + 1;
	const char *nl2 = memchr(type, '\n', (size_t)(end - type));
	const char *body = nl2 ? nl2 + 1 : end;
	/* An exact-size copy, so that AddressSanitizer sees a read past the body's end. */
	char *copy = malloc(end > body ? (size_t)(end - body) : 1);
	FUZZ_CHECK(copy != NULL);
	memcpy(copy, body, (size_t)(end - body));
	current.body = copy;
	current.body_len = (size_t)(end - body);
	current.chunk = parse_chunk(text, (size_t)(nl1 - text));
	struct buf req = BUF_INIT;
	build_request(&req, type, (size_t)((nl2 ? nl2 : end) - type));
	send_request(&req);
	buf_free(&req);
	free(copy);
	return 0;
}
