/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Prometheus exporter: GET /metrics over HTTP/1.1 (its own small server on
 * its own thread, http_request.h parses), a landing page at /, fed by a
 * session observer. The event path takes the registry lock
 * only to update counters; a scrape takes it only to copy the values, then
 * formats the copy unlocked.
 */
#ifndef HM_EXPORTER_H
#define HM_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include "analyzer.h"
#include "observer.h"

/* Hardening against slow and misbehaving clients: at most this many
 * connections, and per client address; a newcomer at a limit replaces the
 * oldest connection not being answered. A request head must arrive whole
 * within REQUEST_TIMEOUT however slowly it trickles in; a kept-alive
 * connection may idle IDLE_TIMEOUT between requests. */
#define HM_EXPORTER_MAX_CONNECTIONS 32
#define HM_EXPORTER_MAX_PER_IP 8
#define HM_EXPORTER_REQUEST_TIMEOUT_S 3
#define HM_EXPORTER_IDLE_TIMEOUT_S 5

/* "127.0.0.1:9478", "[::1]:9478", "localhost:9478", ":9478" (every address).
 * Port 0 picks a free port (hm_exporter_url tells which). */
bool hm_listen_parse(const char *text, struct sockaddr_storage *addr, socklen_t *addrlen,
		     char *err, size_t errlen);

struct hm_exporter;

/* Listen on `listen` and serve the metrics of what its observer sees from
 * then on (add hm_exporter_observer() to the session before its first meta
 * pair or event). NULL and one line in err if the address is bad, in use or
 * cannot be bound. */
struct hm_exporter *hm_exporter_start(const char *listen, const struct hm_config *cfg,
				      char *err, size_t errlen);
/* What feeds the metrics: events, findings, meta and limits. */
struct hm_observer hm_exporter_observer(struct hm_exporter *e);
/* "http://127.0.0.1:9478/metrics" with the port actually bound. */
const char *hm_exporter_url(const struct hm_exporter *e);
/* Block until /metrics was scraped once: a replay started after that shows
 * its counters rising from 0, so rate() and increase() see every event. */
void hm_exporter_await_scrape(struct hm_exporter *e);
/* Stop serving; the observer must not be called any more. NULL-safe. */
void hm_exporter_stop(struct hm_exporter *e);

#endif
