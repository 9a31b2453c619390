/* request: one request from its first callback to its completion, and what handlers ask of it. */
#include "request.h"

#include <string.h>

bool request_is_post(const struct request *req)
{
	return strcmp(req->method, "POST") == 0;
}

bool request_is_api(const struct request *req)
{
	return req->api;
}

const char *request_allow(const struct request *req)
{
	return req->allow ? req->allow : "";
}

const char *request_arg(const struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}
