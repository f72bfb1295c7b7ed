"""Fixtures of the AWS deployer tests live in ``aws_harness`` (importable by name, unlike a conftest)."""

from aws_harness import inputs  # noqa: F401  (a fixture, registered by import)
