// SPDX-License-Identifier: GPL-2.0
#include "exporter.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_request.h"
#include "metrics.h"
#include "process_metrics.h"

#define LISTEN_BACKLOG 64

struct client;

struct hm_exporter {
	pthread_mutex_t lock;             /* guards metrics and scrapes */
	pthread_cond_t scraped;
	uint64_t scrapes;
	struct hm_metrics *metrics;
	struct hm_metrics_values *scratch; /* the server thread's copy for a scrape */
	int listen_fd;
	int wake[2];                      /* a byte here stops the server thread */
	pthread_t thread;
	bool running;
	struct client *clients;           /* HM_EXPORTER_MAX_CONNECTIONS slots */
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

/* ---- the HTTP server: one thread, poll(), every client bounded ---- */

struct client {
	int fd;                           /* -1: free slot */
	struct sockaddr_storage addr;     /* its address, for the per-address limit */
	uint64_t since_ns;                /* accepted, or its last request answered */
	bool answered;                    /* served a request: an idle keep-alive now */
	bool closing;                     /* close once the reply is out */
	char *out;                        /* the reply being sent */
	size_t out_len, out_sent;
	size_t in_len;
	char in[HM_HTTP_MAX_HEAD];        /* last: a new client clears what precedes */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
}

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
	return true;
}

/* The scrape body, formatted from a copy of the values taken under the lock. */
static char *metrics_body(struct hm_exporter *e, size_t *len)
{
	struct hm_process_stats proc;
	char *body = NULL;
	FILE *out;
	bool ok;

	pthread_mutex_lock(&e->lock);
	*e->scratch = *hm_metrics_values(e->metrics);
	pthread_mutex_unlock(&e->lock);
	out = open_memstream(&body, len);
	if (!out)
		return NULL;
	ok = hm_metrics_write_text(e->scratch, out);
	if (hm_process_stats_read(&proc))
		hm_process_stats_write(&proc, out);
	if (fclose(out) || !ok) {
		free(body);
		return NULL;
	}
	return body;
}

static const char landing_page[] =
	"<!DOCTYPE html>\n<html><head><title>hisimig-trace exporter</title></head>\n"
	"<body><h1>hisimig-trace exporter</h1>\n"
	"<p>PF/VF device-lock order, deadlock, lifetime and VFIO migration checks.</p>\n"
	"<p><a href=\"/metrics\">Metrics</a></p>\n</body></html>\n";

/* Queue a whole reply; the poll loop sends it as the client reads. */
static void respond(struct client *c, int status, const char *reason, const char *type,
		    const char *body, size_t body_len, bool head_only, bool keep_alive)
{
	FILE *out = open_memstream(&c->out, &c->out_len);

	c->out_sent = 0;
	c->closing = !keep_alive;
	if (!out) {
		c->out = NULL;
		c->closing = true;
		return;
	}
	fprintf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
		     "Connection: %s\r\n\r\n",
		status, reason, type, body_len,
		status == 405 ? "Allow: GET, HEAD\r\n" : "", keep_alive ? "keep-alive" : "close");
	if (!head_only)
		fwrite(body, 1, body_len, out);
	if (fclose(out)) {
		free(c->out);
		c->out = NULL;
		c->closing = true;
	}
}

static void respond_text(struct client *c, int status, const char *reason, const char *text,
			 bool head_only, bool keep_alive)
{
	respond(c, status, reason, "text/plain; charset=utf-8", text, strlen(text), head_only,
		keep_alive);
}

static void answer(struct hm_exporter *e, struct client *c, const struct hm_http_request *req)
{
	bool head = req->method == HM_HTTP_HEAD;
	/* a body we do not read would be taken for the next request: close after */
	bool keep = req->keep_alive && !req->has_body;
	char *body;
	size_t len;

	if (req->method == HM_HTTP_OTHER) {
		respond_text(c, 405, "Method Not Allowed", "only GET and HEAD\n", false, keep);
	} else if (!strcmp(req->path, "/")) {
		respond(c, 200, "OK", "text/html; charset=utf-8", landing_page,
			sizeof(landing_page) - 1, head, keep);
	} else if (strcmp(req->path, "/metrics")) {
		respond_text(c, 404, "Not Found", "not found: metrics are at /metrics\n", head, keep);
	} else if (!(body = metrics_body(e, &len))) {
		respond_text(c, 500, "Internal Server Error", "out of memory\n", head, false);
	} else {
		respond(c, 200, "OK", HM_METRICS_CONTENT_TYPE, body, len, head, keep);
		free(body);
		pthread_mutex_lock(&e->lock);
		e->scrapes++;
		pthread_cond_broadcast(&e->scraped);
		pthread_mutex_unlock(&e->lock);
	}
}

/* Answer the next whole request in the buffer (pipelined ones wait their turn). */
static void serve_buffered(struct hm_exporter *e, struct client *c)
{
	struct hm_http_request req;

	if (c->out || c->closing)
		return;
	switch (hm_http_parse(c->in, c->in_len, &req)) {
	case HM_HTTP_INCOMPLETE:
		return;
	case HM_HTTP_TOO_LARGE:
		respond_text(c, 431, "Request Header Fields Too Large", "request too large\n", false,
			     false);
		return;
	case HM_HTTP_BAD:
		respond_text(c, 400, "Bad Request", "bad request\n", false, false);
		return;
	case HM_HTTP_COMPLETE:
		memmove(c->in, c->in + req.head_len, c->in_len - req.head_len);
		c->in_len -= req.head_len;
		answer(e, c, &req);
		return;
	}
}

static void on_readable(struct hm_exporter *e, struct client *c)
{
	ssize_t n;

	if (c->in_len == sizeof(c->in)) {
		serve_buffered(e, c); /* full: the parser says too large */
		return;
	}
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(c);
		return;
	}
	if (n < 0)
		return;
	if (c->answered && !c->in_len)
		c->since_ns = now_ns(); /* a new request on a kept-alive connection */
	c->answered = false;
	c->in_len += (size_t)n;
	serve_buffered(e, c);
}

static void on_writable(struct hm_exporter *e, struct client *c)
{
	ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		client_close(c);
		return;
	}
	c->out_sent += (size_t)n;
	if (c->out_sent < c->out_len)
		return;
	free(c->out);
	c->out = NULL;
	if (c->closing) {
		client_close(c);
		return;
	}
	c->answered = true;
	c->since_ns = now_ns();
	serve_buffered(e, c); /* the next pipelined request, if whole */
}

/* The client to drop for a newcomer: the oldest one that is not being
 * answered, among those of the newcomer's address when it is at its limit. */
static struct client *victim(struct hm_exporter *e, const struct sockaddr_storage *addr,
			     bool same_address_only)
{
	struct client *oldest = NULL;

	for (size_t i = 0; i < HM_EXPORTER_MAX_CONNECTIONS; i++) {
		struct client *c = &e->clients[i];

		if (c->fd < 0 || c->out || (same_address_only && !same_host(&c->addr, addr)))
			continue;
		if (!oldest || c->since_ns < oldest->since_ns)
			oldest = c;
	}
	return oldest;
}

/* Admit a client; at a limit (all slots, or this address's share) the oldest
 * idle or slow one makes room: many idle sockets can delay a scrape by no
 * more than one round of the loop. */
static void on_accept(struct hm_exporter *e)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	struct client *slot = NULL, *drop = NULL;
	size_t same = 0;
	int fd = accept4(e->listen_fd, (struct sockaddr *)&addr, &len,
			 SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (size_t i = 0; i < HM_EXPORTER_MAX_CONNECTIONS; i++) {
		struct client *c = &e->clients[i];

		if (c->fd < 0 && !slot)
			slot = c;
		else if (c->fd >= 0 && same_host(&c->addr, &addr))
			same++;
	}
	if (same >= HM_EXPORTER_MAX_PER_IP)
		drop = victim(e, &addr, true);
	else if (!slot)
		drop = victim(e, &addr, false);
	if ((same >= HM_EXPORTER_MAX_PER_IP || !slot) && !drop) {
		close(fd); /* every slot is busy sending a reply */
		return;
	}
	if (drop) {
		client_close(drop);
		slot = drop;
	}
	memset(slot, 0, offsetof(struct client, in));
	slot->fd = fd;
	slot->addr = addr;
	slot->since_ns = now_ns();
}

/* Whole-request deadline: a request must arrive complete within it however
 * slowly its bytes trickle in; an idle kept-alive connection, a reply the
 * client does not read, likewise. */
static void expire(struct hm_exporter *e, uint64_t now)
{
	for (size_t i = 0; i < HM_EXPORTER_MAX_CONNECTIONS; i++) {
		struct client *c = &e->clients[i];
		uint64_t limit = (c->answered ? HM_EXPORTER_IDLE_TIMEOUT_S
					      : HM_EXPORTER_REQUEST_TIMEOUT_S) * 1000000000ULL;

		if (c->fd >= 0 && now - c->since_ns > limit)
			client_close(c);
	}
}

static void *serve(void *arg)
{
	struct hm_exporter *e = arg;
	struct pollfd pfd[HM_EXPORTER_MAX_CONNECTIONS + 2];
	struct client *owner[HM_EXPORTER_MAX_CONNECTIONS + 2];

	for (;;) {
		nfds_t n = 0;

		pfd[n++] = (struct pollfd){ .fd = e->wake[0], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = e->listen_fd, .events = POLLIN };
		for (size_t i = 0; i < HM_EXPORTER_MAX_CONNECTIONS; i++) {
			struct client *c = &e->clients[i];

			if (c->fd < 0)
				continue;
			owner[n] = c;
			pfd[n++] = (struct pollfd){ .fd = c->fd, .events = c->out ? POLLOUT : POLLIN };
		}
		if (poll(pfd, n, 250) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break; /* hm_exporter_stop */
		for (nfds_t i = 2; i < n; i++) {
			struct client *c = owner[i];

			if (c->fd != pfd[i].fd || !pfd[i].revents)
				continue;
			if (c->out)
				on_writable(e, c);
			else if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				on_readable(e, c);
		}
		if (pfd[1].revents & POLLIN)
			on_accept(e);
		expire(e, now_ns());
	}
	return NULL;
}

static void observe_event(void *ctx, const union hm_event *ev,
			  const struct hm_model_change *change)
{
	struct hm_exporter *e = ctx;

	pthread_mutex_lock(&e->lock);
	hm_metrics_event(e->metrics, ev, change);
	pthread_mutex_unlock(&e->lock);
}

static void observe_finding(void *ctx, const struct hm_finding *f)
{
	struct hm_exporter *e = ctx;

	pthread_mutex_lock(&e->lock);
	hm_metrics_finding(e->metrics, f);
	pthread_mutex_unlock(&e->lock);
}

static void observe_limits(void *ctx, const struct hm_limits *limits)
{
	struct hm_exporter *e = ctx;

	pthread_mutex_lock(&e->lock);
	hm_metrics_limits(e->metrics, limits);
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
static bool start_server(struct hm_exporter *e)
{
	sigset_t all, old;
	int rc;

	for (size_t i = 0; i < HM_EXPORTER_MAX_CONNECTIONS; i++)
		e->clients[i].fd = -1;
	if (pipe2(e->wake, O_CLOEXEC))
		return false;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&e->thread, NULL, serve, e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		close(e->wake[0]);
		close(e->wake[1]);
		return false;
	}
	e->running = true;
	return true;
}

struct hm_exporter *hm_exporter_start(const char *listen, const struct hm_config *cfg,
				      char *err, size_t errlen)
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
	e->clients = calloc(HM_EXPORTER_MAX_CONNECTIONS, sizeof(*e->clients));
	e->listen_fd = -1;
	if (!e->metrics || !e->scratch || !e->clients) {
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
	e->listen_fd = fd;
	if (!start_server(e)) {
		snprintf(err, errlen, "--metrics %s: cannot start the HTTP server", listen);
		hm_exporter_stop(e);
		return NULL;
	}
	return e;
}

struct hm_observer hm_exporter_observer(struct hm_exporter *e)
{
	return (struct hm_observer){ .on_event = observe_event, .on_finding = observe_finding,
				     .on_meta = observe_meta, .on_limits = observe_limits,
				     .ctx = e };
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
	if (e->running) {
		if (write(e->wake[1], "", 1) != 1)
			pthread_cancel(e->thread); /* cannot happen with an empty pipe */
		pthread_join(e->thread, NULL);
		for (size_t i = 0; i < HM_EXPORTER_MAX_CONNECTIONS; i++)
			client_close(&e->clients[i]);
		close(e->wake[0]);
		close(e->wake[1]);
	}
	if (e->listen_fd >= 0)
		close(e->listen_fd);
	free(e->clients);
	hm_metrics_free(e->metrics);
	free(e->scratch);
	pthread_cond_destroy(&e->scraped);
	pthread_mutex_destroy(&e->lock);
	free(e);
}
