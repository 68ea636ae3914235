/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What an output sees of a session: every event the analyzers accepted,
 * every finding inside the session's filter (baseline-accepted ones too),
 * its meta pairs and its analysis limits. The session calls each
 * observer after the analyzers, in stream order; the timeline, the exporter
 * and the reports (outputs.h) are observers.
 */
#ifndef HM_OBSERVER_H
#define HM_OBSERVER_H

union hm_event;
struct hm_finding;
struct hm_limits;
struct hm_model_change;

/* on_meta and on_limits come after ctx so that positional initialisers
 * {on_event, on_finding, ctx} stay valid. Any callback may be NULL. */
struct hm_observer {
	/* change: what the record changed in the engine's state model (model.h) */
	void (*on_event)(void *ctx, const union hm_event *ev,
			 const struct hm_model_change *change);
	void (*on_finding)(void *ctx, const struct hm_finding *f);
	void *ctx;
	/* each hm_session_meta() pair, e.g. "attach.<target>" = mode */
	void (*on_meta)(void *ctx, const char *key, const char *value);
	/* the analysis limits so far: after each live batch and at the end */
	void (*on_limits)(void *ctx, const struct hm_limits *limits);
};

#endif
