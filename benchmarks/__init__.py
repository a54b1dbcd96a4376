"""Benchmarks of jupyter-llm against the baselines a notebook author would otherwise use.

Run with ``make bench`` (or ``python -m benchmarks``; ``--quick`` for a harness check).
Each module is one benchmark: ``load_time``, ``streaming``, ``overhead``, ``kernel_cpu``;
``_harness`` holds the kernel/iopub capture and interleaving, ``_report`` the output.
None of this runs in ``make test``: a benchmark is not a timed unit test.
"""
