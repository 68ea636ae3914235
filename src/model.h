/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The state model: what the event stream says the kernel looks like now,
 * derived once per event by the engine and read by every consumer. Lock holds,
 * waits and names (lock_track.h), and each device's VFIO migration state under
 * one set of rules. Analyzers read it before an event is applied (to judge the
 * event against the state it meets) and may look at the change it made; metrics
 * and the timeline follow its transitions instead of deriving their own.
 */
#ifndef HM_MODEL_H
#define HM_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include "analyzers/devtable.h"
#include "analyzers/lock_track.h"
#include "hisimig/events.h"

struct hm_limits;

/* A device the migration path has shown (a set-state call, VFIO open, reset). */
struct hm_model_device {
	struct hm_device dev;              /* as its latest record named it */
	uint8_t mig_state;                 /* enum hm_mig_state, HM_MIG_UNKNOWN until known */
	uint8_t mig_caps;                  /* last HM_MIG_CAP_* reported, 0 unknown */
	struct hm_event_header mig_entered; /* the record that entered mig_state */
};

/* A device's migration state changed (at most one per record). */
struct hm_mig_transition {
	struct hm_device dev;
	uint8_t from, to;                  /* HM_MIG_UNKNOWN when not known / forgotten */
};

/* What one record changed. */
struct hm_model_change {
	enum lt_action lock;               /* what it did to its lock (LT_IGNORE: no lock) */
	bool wait_ended;                   /* it ended a traced wait of its task ... */
	uint64_t wait_began_ns;            /* ... which began then */
	bool mig_changed;
	struct hm_mig_transition mig;
	/* the record's device as the model has it now; NULL if the migration
	 * path does not track it (or it went away). Valid until the next record. */
	const struct hm_model_device *mig_device;
};

struct hm_model {
	struct lt_tracker locks;
	struct hm_devtable devices;        /* dev_addr -> struct hm_model_device */
};

void hm_model_init(struct hm_model *m);
void hm_model_free(struct hm_model *m);
/* Apply one validated record; *change says what it changed. */
void hm_model_apply(struct hm_model *m, const union hm_event *ev, struct hm_model_change *change);
/* Raise out to the model's overflow and repair counts. */
void hm_model_limits(const struct hm_model *m, struct hm_limits *out);

/* NULL if the device's migration state was never shown. */
static inline const struct hm_model_device *hm_model_device(const struct hm_model *m,
							    uint64_t dev_addr)
{
	return hm_devtable_get(&m->devices, dev_addr);
}

/* The migration state of a device, HM_MIG_UNKNOWN if not known. */
static inline unsigned int hm_model_mig_state(const struct hm_model *m, uint64_t dev_addr)
{
	const struct hm_model_device *d = hm_model_device(m, dev_addr);

	return d ? d->mig_state : HM_MIG_UNKNOWN;
}

/* The transition a record is about to make (from = the modelled state now):
 * what hm_model_apply() will do, for a reader that must act before it. */
bool hm_model_mig_transition(const struct hm_model *m, const union hm_event *ev,
			     struct hm_mig_transition *t);
/* A set-state record's caps, else the last ones its device reported (0 unknown). */
uint8_t hm_model_mig_caps(const struct hm_model *m, const struct hm_mig_event *e);

/* The state a set-state call begins in: what the core read from the driver
 * (the record's `from`, when known), else the modelled state. */
unsigned int hm_model_request_start(const struct hm_model *m, const struct hm_mig_event *e);

#endif
