"""Benchmarks and quality evaluation of videochat (not part of the test suite).

* ``python -m bench``: speed and memory of every perception stage and of
  ``ask`` on a few clips (:mod:`bench.clip` runs each clip in its own process);
* ``python -m bench.quality``: ASR word error rate and QA accuracy on the
  shared clips (:mod:`bench.scoring` holds the scoring rules).

Offline, only the ASR and LLM weights are real; ``--models real-arch`` builds
the other default models at full size with random weights
(:mod:`perceive.testing.realarch`), so their cost is measured even without their weights.
"""
