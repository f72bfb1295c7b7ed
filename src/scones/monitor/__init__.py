"""Monitoring: baseline statistics, drift, violations and an HTML report from Data Capture.

The files this package writes follow SageMaker Model Monitor's schemas
(``statistics.json``, ``constraints.json``, ``constraint_violations.json``) so that
AWS tooling and scones read each other's output.
"""
