"""``scones up``: one local endpoint that speaks AWS's own APIs — S3, Lambda, Step Functions, SageMaker Runtime.

A translator and nothing more: it tells the service apart as AWS endpoints do
(``routing``), parses the wire protocol of that service, calls a scones service
(the store, the Lambda runtime, the execution service, a served model), and
answers in the shapes botocore parses. The services own the behaviour; this
package owns the wire.
"""
