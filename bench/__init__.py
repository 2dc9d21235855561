"""Load benchmarks for the shop (not tests): ``make bench`` runs :mod:`bench.run`. See docs/benchmarks.md."""
