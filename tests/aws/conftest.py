"""Fixtures of the AWS deployer tests live in ``aws_harness`` (importable by name, unlike a conftest)."""

from aws_harness import install_stand_ins, inputs  # noqa: F401  (fixtures, registered by import)
