"""Deploy the scones workflow to AWS and run it there.

One module per service (``s3``, ``iam``, ``sagemaker``, ``lambda_functions``,
``stepfunctions``, ``sns``), each taking its boto3 client as an argument, and
``deploy``/``destroy``/``template``/``run`` tying them together. Nothing here
builds a client on its own except ``session.AwsClients.from_session``.
"""
