// SPDX-License-Identifier: GPL-2.0
#include "exporter.h"

#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"

#define LISTEN_BACKLOG 64

struct hm_exporter {
	pthread_mutex_t lock;             /* guards metrics and scrapes */
	pthread_cond_t scraped;
	uint64_t scrapes;
	struct hm_metrics *metrics;
	struct hm_metrics_values *scratch; /* the server thread's copy for a scrape */
	struct MHD_Daemon *daemon;
	char url[INET6_ADDRSTRLEN + 32];
};

bool hm_listen_parse(const char *text, struct sockaddr_storage *addr, socklen_t *addrlen,
		     char *err, size_t errlen)
{
	const char *colon = strrchr(text, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG };
	struct addrinfo *res;
	char host[256];
	size_t hostlen;
	char *end;
	long port;
	int rc;

	if (!colon) {
		snprintf(err, errlen, "'%s' is not ADDR:PORT (e.g. 127.0.0.1:9478)", text);
		return false;
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	/* digits only: strtol alone takes " 5" and "+5" */
	if (errno || !isdigit((unsigned char)colon[1]) || *end || port > 65535) {
		snprintf(err, errlen, "'%s': port '%s' is not 0-65535", text, colon + 1);
		return false;
	}
	hostlen = (size_t)(colon - text);
	if (hostlen >= 2 && text[0] == '[' && text[hostlen - 1] == ']') {
		text++; /* [v6]:port */
		hostlen -= 2;
	}
	if (hostlen >= sizeof(host)) {
		snprintf(err, errlen, "address too long");
		return false;
	}
	memcpy(host, text, hostlen);
	host[hostlen] = '\0';
	if (!hostlen) {
		/* every address: IPv6 with IPv4-mapped addresses (see open_listener) */
		struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_addr = in6addr_any,
					    .sin6_port = htons((uint16_t)port) };

		memcpy(addr, &any, sizeof(any));
		*addrlen = sizeof(any);
		return true;
	}
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "'%s': %s", host, gai_strerror(rc));
		return false;
	}
	memcpy(addr, res->ai_addr, res->ai_addrlen);
	*addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return true;
}

/* Our own socket, so a busy port or a foreign address gets its errno in the message. */
static int open_listener(struct sockaddr_storage *addr, socklen_t len, char *err, size_t errlen)
{
	static const int on = 1, off;
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0 && addr->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)addr)->sin6_addr)) {
		/* no IPv6 on this host: every IPv4 address then */
		struct sockaddr_in any = { .sin_family = AF_INET,
					   .sin_port = ((struct sockaddr_in6 *)addr)->sin6_port,
					   .sin_addr.s_addr = htonl(INADDR_ANY) };

		memset(addr, 0, sizeof(*addr));
		memcpy(addr, &any, sizeof(any));
		len = sizeof(any);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	}
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (addr->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (bind(fd, (struct sockaddr *)addr, len) || listen(fd, LISTEN_BACKLOG)) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void describe_url(struct hm_exporter *e, int fd)
{
	struct sockaddr_storage bound;
	socklen_t len = sizeof(bound);
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";

	if (!getsockname(fd, (struct sockaddr *)&bound, &len))
		getnameinfo((struct sockaddr *)&bound, len, host, sizeof(host), port, sizeof(port),
			    NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(e->url, sizeof(e->url), bound.ss_family == AF_INET6 ? "http://[%s]:%s/metrics" :
		 "http://%s:%s/metrics", host, port);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO; /* out of memory: MHD drops the connection */
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned int status,
				  const char *text)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
								    MHD_RESPMEM_PERSISTENT);

	if (resp)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	if (resp && status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	return reply(conn, status, resp);
}

/* A scrape: copy the values under the lock, format them without it. */
static enum MHD_Result serve_metrics(struct hm_exporter *e, struct MHD_Connection *conn)
{
	struct MHD_Response *resp;
	char *body = NULL;
	size_t len = 0;
	FILE *out;
	bool ok;

	pthread_mutex_lock(&e->lock);
	*e->scratch = *hm_metrics_values(e->metrics);
	e->scrapes++;
	pthread_cond_broadcast(&e->scraped);
	pthread_mutex_unlock(&e->lock);

	out = open_memstream(&body, &len);
	if (!out)
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	ok = hm_metrics_write_text(e->scratch, out);
	if (fclose(out) || !ok) {
		free(body);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	}
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, HM_METRICS_CONTENT_TYPE);
	return reply(conn, MHD_HTTP_OK, resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	/* Answer on the first call: we never read a request body. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (strcmp(url, "/metrics"))
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found: metrics are at /metrics\n");
	return serve_metrics(cls, conn);
}

static void observe_event(void *ctx, const union hm_event *ev)
{
	struct hm_exporter *e = ctx;

	pthread_mutex_lock(&e->lock);
	hm_metrics_event(e->metrics, ev);
	pthread_mutex_unlock(&e->lock);
}

static void observe_finding(void *ctx, const struct hm_finding *f)
{
	struct hm_exporter *e = ctx;

	pthread_mutex_lock(&e->lock);
	hm_metrics_finding(e->metrics, f);
	pthread_mutex_unlock(&e->lock);
}

static void observe_meta(void *ctx, const char *key, const char *value)
{
	struct hm_exporter *e = ctx;

	pthread_mutex_lock(&e->lock);
	hm_metrics_meta(e->metrics, key, value);
	pthread_mutex_unlock(&e->lock);
}

/* The server thread inherits a fully blocked signal mask: signals stay with
 * the threads that handle them. */
static struct MHD_Daemon *start_daemon(struct hm_exporter *e, int fd, int family)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
	struct MHD_Daemon *d;
	sigset_t all, old;

	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, e,
			     MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HM_EXPORTER_MAX_CONNECTIONS,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)HM_EXPORTER_MAX_PER_IP,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HM_EXPORTER_IDLE_TIMEOUT_S,
			     MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return d;
}

struct hm_exporter *hm_exporter_attach(struct hm_session *s, const char *listen,
				       const struct hm_config *cfg, char *err, size_t errlen)
{
	struct hm_exporter *e = calloc(1, sizeof(*e));
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char why[160];
	int fd;

	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->scraped, NULL);
	e->metrics = hm_metrics_new(cfg);
	e->scratch = malloc(sizeof(*e->scratch));
	if (!e->metrics || !e->scratch) {
		snprintf(err, errlen, "out of memory");
		hm_exporter_stop(e);
		return NULL;
	}
	if (!hm_listen_parse(listen, &addr, &addrlen, why, sizeof(why))) {
		snprintf(err, errlen, "--metrics %s", why);
		hm_exporter_stop(e);
		return NULL;
	}
	fd = open_listener(&addr, addrlen, why, sizeof(why));
	if (fd < 0) {
		snprintf(err, errlen, "--metrics %s: cannot listen: %s", listen, why);
		hm_exporter_stop(e);
		return NULL;
	}
	describe_url(e, fd);
	e->daemon = start_daemon(e, fd, addr.ss_family);
	if (!e->daemon) {
		snprintf(err, errlen, "--metrics %s: cannot start the HTTP server", listen);
		close(fd);
		hm_exporter_stop(e);
		return NULL;
	}
	if (!hm_session_add_observer(s, &(struct hm_observer){ .on_event = observe_event,
							       .on_finding = observe_finding,
							       .on_meta = observe_meta,
							       .ctx = e })) {
		snprintf(err, errlen, "--metrics: too many session observers");
		hm_exporter_stop(e);
		return NULL;
	}
	return e;
}

const char *hm_exporter_url(const struct hm_exporter *e)
{
	return e->url;
}

void hm_exporter_await_scrape(struct hm_exporter *e)
{
	pthread_mutex_lock(&e->lock);
	while (!e->scrapes)
		pthread_cond_wait(&e->scraped, &e->lock);
	pthread_mutex_unlock(&e->lock);
}

void hm_exporter_stop(struct hm_exporter *e)
{
	if (!e)
		return;
	if (e->daemon)
		MHD_stop_daemon(e->daemon); /* joins the thread, closes the socket */
	hm_metrics_free(e->metrics);
	free(e->scratch);
	pthread_cond_destroy(&e->scraped);
	pthread_mutex_destroy(&e->lock);
	free(e);
}
