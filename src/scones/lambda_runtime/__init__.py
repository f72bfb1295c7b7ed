"""A local AWS Lambda runtime: Python handlers invoked with Lambda's semantics, in-process or isolated.

- ``contract``: the Lambda contract (context, error objects, invoke result, service errors, names and
  ARNs, marshalling and its limits); standard library only, shared with the isolated worker and the
  States Language interpreter.
- ``runtime``: ``LocalLambdaRuntime``, the registry: names (``names``: the nearest one to an unknown
  name), concurrency admission, ``invoke``; in-process or isolated chosen per function.
- ``function``: ``FunctionConfig``, one registered function.
- ``in_process`` and ``timeouts``: handlers run in this interpreter, warm containers, timeouts enforced.
- ``isolated``, ``worker``, ``bootstrap``, ``sandbox`` and ``unzip``: handlers run in clean interpreters,
  from their zips or in place from their folders, the user's each with a private ``/tmp``.
- ``user_functions``: the user's declared functions (``scones.declarations``) as ``FunctionConfig``s beside
  the built-ins, and the roster said once; ``user_code`` checks their code before anything runs,
  ``requirements`` installs their ``requirements.txt`` into a cache.

The Scones functions' wiring lives with their catalogue, in ``scones.functions.local``; the flags that
declare functions are read by ``scones.declaration_flags``. How user functions run: docs/functions.md.
"""
