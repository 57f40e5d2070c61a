"""Benchmarks: scripts that build the filter variants, run them in Envoy and print figures."""
