# The Prometheus exporter (src/exporter.c) serves /metrics with libmicrohttpd.
LDLIBS += $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)

# Alert rules and their unit tests alone (also run by tests/cli/metrics.bats).
.PHONY: rules-check
rules-check:
	promtool check rules dashboards/prometheus/hisimig-alerts.yml
	cd dashboards/prometheus && promtool test rules hisimig-alerts.test.yml
