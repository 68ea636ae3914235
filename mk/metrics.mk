# The Prometheus exporter (src/exporter.c) serves /metrics with its own small
# HTTP server: no library to link.

# Alert rules and their unit tests alone (also run by tests/cli/metrics.bats).
.PHONY: rules-check
rules-check:
	promtool check rules dashboards/prometheus/hisimig-alerts.yml
	cd dashboards/prometheus && promtool test rules hisimig-alerts.test.yml
