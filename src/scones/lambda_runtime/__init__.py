"""A local AWS Lambda runtime: Python handlers invoked with Lambda's semantics, in-process or isolated.

- ``contract``: the Lambda contract (context, error objects, invoke result, service errors, names and
  ARNs, marshalling and its limits); standard library only, shared with the isolated worker and the
  States Language interpreter.
- ``runtime``: ``LocalLambdaRuntime``, the registry: names, concurrency admission, ``invoke``.
- ``function``: ``FunctionConfig``, one registered function.
- ``in_process`` and ``timeouts``: handlers run in this interpreter, warm containers, timeouts enforced.
- ``isolated``, ``worker``, ``bootstrap`` and ``unzip``: handlers run from their zips in clean interpreters.

The Scones functions' wiring lives with their catalogue, in ``scones.functions.local``.
"""
