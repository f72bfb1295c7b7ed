"""The three AWS Lambda handlers of the Scones workflow and their one shared helper.

Everything in this package must run inside the AWS Lambda Python runtime with
nothing but the standard library and boto3: no other scones module, no numpy,
no SageMaker SDK. ``scones.aws.package.build_function_zip`` packs one handler
with ``helper.py`` and nothing else, and a test checks that the zip runs alone.
"""
