"""Run the S3 gateway in its own process (tests that kill it, or measure its memory):

    python server_main.py STORE_ROOT STATE_DIR READY_FILE

Binds 127.0.0.1 on a free port and writes the port to READY_FILE once serving.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

import uvicorn

from scones.gateway.app import Gateway
from scones.gateway.routing import Service
from scones.gateway.s3 import S3Service


def main() -> None:
    store_root, state_dir, ready = (Path(a) for a in sys.argv[1:4])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    app = Gateway({Service.S3: S3Service(store_root, state_dir=state_dir)})
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False))

    def announce() -> None:
        while not server.started:
            time.sleep(0.01)
        tmp = ready.with_suffix(".tmp")
        tmp.write_text(str(sock.getsockname()[1]))
        tmp.rename(ready)

    threading.Thread(target=announce, daemon=True).start()
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
