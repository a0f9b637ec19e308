"""A real HTTP receiver for the webhook tests: a thread running http.server on 127.0.0.1, port 0.

It verifies every request's Standard Webhooks signature with the `standardwebhooks`
package's own verifier, records what arrived, and answers 500 to the first
`fail_first` requests (or to all with `fail_always`), then 200.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str = ""
    fail_first: int = 0
    fail_always: bool = False
    requests: list[Received] = field(default_factory=list)
    connections: set = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def answer_for(self, count: int) -> int:
        return 500 if self.fail_always or count <= self.fail_first else 200


def start(receiver: Receiver) -> tuple[ThreadingHTTPServer, threading.Thread]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        disable_nagle_algorithm = True

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                Webhook(receiver.secret).verify(body, headers, json_parse=False)
                verified = True
            except (WebhookVerificationError, ValueError):
                verified = False
            with receiver.lock:
                count = len(receiver.requests) + 1
                status = receiver.answer_for(count) if verified else 401
                receiver.requests.append(Received(self.path, headers, body, verified, status))
                receiver.connections.add(self.client_address)
            reply = b'{"ok": true}' if status == 200 else b"receiver failing on purpose"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/perksu"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread
