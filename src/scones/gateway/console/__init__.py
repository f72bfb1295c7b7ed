"""The local console of ``scones up``, under ``/_console/``: state machines, executions, functions,
endpoints and buckets in a browser, read-only unless ``scones up --console-write``.

``ConsoleService`` is the gateway's ``Service.CONSOLE`` handler; the modules beside it answer the
JSON API one area each (``executions_api``, ``functions_api``, ``endpoints_api``, ``buckets_api``),
``graph`` turns a definition into what the page draws and ``outcomes`` reads each state's outcome
from an execution's history. The page itself is ``static/`` (see ``static/VENDORED.md`` for the
libraries it ships).
"""

from scones.gateway.console.context import ConsoleContext
from scones.gateway.console.service import ConsoleService

__all__ = ["ConsoleContext", "ConsoleService"]
