"""Reusable contract suites: a connector's test module subclasses one with its own harness."""
