/* SPDX-License-Identifier: GPL-2.0 */
/*
 * JUnit XML, the report CI servers (Jenkins, GitLab, GitHub Actions test
 * reporters) read: one test case per check kind, so every check shows up,
 * passed or failed; one <failure> per finding at or above the fail-on
 * severity, holding its full text report. Validated against the Jenkins
 * (Ant) JUnit schema in tests/cli/junit.xsd.
 */
#ifndef HM_REPORT_JUNIT_H
#define HM_REPORT_JUNIT_H

#include <stdbool.h>
#include <stddef.h>
#include "finding_set.h"

struct hm_junit_run {
	const char *suite;            /* the test suite's name: the command traced */
	double seconds;               /* how long the run took */
	enum hm_severity fail_on;     /* findings below: listed, not failures */
	const char *command_error;    /* a CMD that failed: "exited with status 3", or NULL */
};

/* Replaces path whole (temporary file + rename); false with a reason in err. */
bool hm_junit_write(const char *path, const struct hm_finding_set *set,
		    const struct hm_junit_run *run, char *err, size_t errlen);

#endif
