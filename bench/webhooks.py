"""Phase 7: webhook deliveries from one worker to a local receiver.

A receiver in its own process (http.server, HTTP/1.1 keep-alive, answering 200
after reading each body) listens on 127.0.0.1; a tenant has one JSON endpoint
there and `DELIVERIES` pending deliveries. One worker process then runs
`webhooks.delivery.deliver_all_due()` — the round every worker runs between
jobs: claim a batch with SKIP LOCKED, sign and send it over pooled
connections (`WEBHOOK_CONCURRENCY` threads), record every attempt — until
nothing is due. The figure is calls per second of wall time, end to end
(claim, sign, HTTP, record); the receiver checks a sample of signatures with
the standardwebhooks verifier, and every delivery must end SUCCEEDED.
"""

from __future__ import annotations

import multiprocessing
import time
import uuid

DELIVERIES = 5000
SAMPLE_EVERY = 100


def _serve(port_queue, secret_queue, counts) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from standardwebhooks import Webhook

    holder = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body leave in two writes: no 40 ms delayed-ACK stall

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with counts.get_lock():
                counts[0] += 1
                n = counts[0]
            if n % SAMPLE_EVERY == 1:
                if "wh" not in holder:
                    holder["wh"] = Webhook(secret_queue.get())
                try:
                    holder["wh"].verify(body, {k.lower(): v for k, v in self.headers.items()}, json_parse=False)
                    with counts.get_lock():
                        counts[1] += 1
                except Exception:
                    with counts.get_lock():
                        counts[2] += 1
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


def phase_webhooks(run, *, deliveries: int = DELIVERIES) -> None:
    from django.conf import settings
    from django.utils import timezone

    from bench.fixtures import bench_tenant
    from tenants.models import User
    from webhooks import delivery, payloads, services
    from webhooks.models import WebhookDelivery

    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on 127.0.0.1
    ctx = multiprocessing.get_context("spawn")
    port_queue, secret_queue = ctx.Queue(), ctx.Queue()
    counts = ctx.Array("q", 3)  # received, signatures verified, signatures bad
    receiver = ctx.Process(target=_serve, args=(port_queue, secret_queue, counts), daemon=True)
    receiver.start()
    try:
        port = port_queue.get(timeout=30)
        t = bench_tenant("hooks", members=1, pool=1)
        manager = User.objects.get(pk=t.manager_id)
        created = services.endpoint_create(
            actor=manager, url=f"http://127.0.0.1:{port}/hook", events=["*"], format="json"
        )
        secret_queue.put(created.secret)
        now = timezone.now()
        for i in range(deliveries):
            services.deliveries_for_event(
                payloads.EventMessage(
                    uuid.uuid4(), "recognition.created", t.tenant_id, now,
                    {"points": 100, "message": f"Bench recognition {i}", "giver": {"name": "Bench"}},
                ),
                now=now,
            )  # fmt: skip
        run.say(f"webhooks: {deliveries:,} deliveries to one local receiver, one worker …")
        started = time.perf_counter()
        sent = delivery.deliver_all_due(limit=100, max_batches=10_000)
        seconds = time.perf_counter() - started
        succeeded = WebhookDelivery.objects.filter(status="SUCCEEDED").count()
        per_second = sent / seconds if seconds else 0.0
        run.figures.update(
            webhook_calls_per_s=round(per_second, 1),
            webhook_calls=sent,
            webhook_succeeded=succeeded,
            webhook_signatures_verified=counts[1],
            webhook_signatures_bad=counts[2],
        )
        run.timings.append(("webhooks", seconds))
        run.say(
            f"  {sent:,} calls in {seconds:.1f} s = {per_second:,.0f} calls/s; {succeeded:,} delivered; "
            f"receiver saw {counts[0]:,}, signatures checked {counts[1]} good / {counts[2]} bad"
        )
    finally:
        receiver.terminate()
        receiver.join(timeout=5)
