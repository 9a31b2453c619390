/* router: libmicrohttpd callbacks that route each request to its page or API handler. */
#ifndef GALLERY_ROUTER_H
#define GALLERY_ROUTER_H

#include <microhttpd.h>
#include <stddef.h>

/* cls is a struct app. */
enum MHD_Result router_handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls);
void router_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
		      enum MHD_RequestTerminationCode toe);
/* Percent-decoding that keeps a %00 from cutting a key short (see url_decode_inplace). */
size_t router_unescape(void *cls, struct MHD_Connection *conn, char *s);

#endif
