"""Load generators: award-service worker processes, and HTTP clients against gunicorn.

Both send 1-point awards from one manager, paid by one tenant pool (the hot
row), each worker or client cycling through its own slice of recipients so
that no wallet is contended: the pool row is the only shared lock. The service
workers can instead each give as their own member (`giver_ids`: allowance
gifts, one usage row per giver, all paid by the one pool).
"""

from __future__ import annotations

import http.client
import json
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

ROOT = Path(__file__).resolve().parent.parent
MESSAGE = "Bench award: thank you for the on-call weekend."


@dataclass
class LoadResult:
    calls: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    first_error: str = ""
    client_cpu_s: float = 0.0

    @property
    def per_second(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0]
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[int(p) - 1]


def _merge(parts: list[tuple[float, float, list[float], int, str]]) -> LoadResult:
    started = min(p[0] for p in parts)
    ended = max(p[1] for p in parts)
    latencies = [x for p in parts for x in p[2]]
    errors = sum(p[3] for p in parts)
    first_error = next((p[4] for p in parts if p[4]), "")
    return LoadResult(len(latencies), errors, ended - started, latencies, first_error)


def slices(ids: list[UUID], n: int) -> list[list[UUID]]:
    return [ids[i::n] for i in range(n)]


def timed_loop(duration: float, barrier, call, *, first: int = 0) -> tuple[float, float, list[float], int, str]:
    """After `barrier`, `call(i)` for i = first, first + 1, … until `duration` seconds have passed. `call` returns
    None for an award done and checked (its latency is kept), or what went wrong (counted, the first one kept:
    never hidden). The part `_merge` takes: (start, end, latencies in ms, errors, first error)."""
    latencies: list[float] = []
    errors, first_error, i = 0, "", first
    barrier.wait()
    started = time.time()
    deadline = time.perf_counter() + duration
    while (t0 := time.perf_counter()) < deadline:
        problem = call(i)
        i += 1
        if problem is None:
            latencies.append((time.perf_counter() - t0) * 1000)
        else:
            errors += 1
            first_error = first_error or problem
    return started, time.time(), latencies, errors, first_error


# --- the service, called from N processes -------------------------------------------------


def _service_worker(giver_id: str, recipient_ids: list[str], duration: float, barrier, results) -> None:
    """One process: its own Django and connection, awarding in a loop for `duration` seconds."""
    import django

    django.setup()
    from recognition.services import recognition_create
    from tenants.models import User

    giver = User.objects.get(pk=giver_id)
    recognition_create(giver=giver, recipient_ids=[recipient_ids[0]], points=1, message=MESSAGE)  # warm-up

    def award(i: int) -> str | None:
        try:
            recognition_create(
                giver=giver, recipient_ids=[recipient_ids[i % len(recipient_ids)]], points=1, message=MESSAGE
            )
        except Exception as exc:  # counted and reported, never hidden
            return repr(exc)
        return None

    results.put(timed_loop(duration, barrier, award, first=1))


def run_service(
    *,
    recipient_ids: list[UUID],
    workers: int,
    duration: float,
    manager_id: UUID | None = None,
    giver_ids: list[UUID] | None = None,
) -> LoadResult:
    """`workers` processes awarding for `duration` seconds: all as `manager_id`, or worker i as `giver_ids[i]`."""
    givers = [str(g) for g in giver_ids] if giver_ids is not None else [str(manager_id)] * workers
    if len(givers) != workers:
        raise ValueError(f"{workers} workers need {workers} givers, not {len(givers)}")
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=_service_worker,
            args=(giver, [str(r) for r in part], duration, barrier, results),
        )
        for giver, part in zip(givers, slices(recipient_ids, workers), strict=True)
    ]
    for p in procs:
        p.start()
    parts = [results.get(timeout=duration + 120) for _ in procs]
    for p in procs:
        p.join()
    return _merge(parts)


# --- HTTP: gunicorn, and N client threads with keep-alive connections -----------------------


class Gunicorn:
    """gunicorn serving perksu.wsgi with perksu/gunicorn.conf.py, started and stopped by the bench."""

    def __init__(self, *, workers: int, port: int, worker_class: str = "sync", threads: int = 1) -> None:
        self.port = port
        env = dict(os.environ, GUNICORN_WORKERS=str(workers), GUNICORN_BIND=f"127.0.0.1:{port}")
        env.update(GUNICORN_WORKER_CLASS=worker_class, GUNICORN_THREADS=str(threads))
        # WhiteNoise warns that STATIC_ROOT is empty: the bench serves no static file, so no collectstatic.
        env["PYTHONWARNINGS"] = "ignore:No directory at:UserWarning"
        cmd = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "perksu" / "gunicorn.conf.py"), "perksu.wsgi"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env)  # noqa: S603 - our own interpreter and config
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz")

    def workers_cpu_seconds(self) -> float:
        """CPU time used so far by the worker processes (children of the master), from /proc."""
        total = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def api_token(port: int, email: str, password: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"email": email, "password": password})
    conn.request("POST", "/api/v1/auth/token/", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    if response.status != 200:
        raise RuntimeError(f"token request answered {response.status}: {payload[:300]!r}")
    return json.loads(payload)["token"]


AWARD_PATH = "/api/v1/points/award-to-user"


def _stdlib_client(port: int, token: str, recipient_ids: list[str], duration: float, barrier, out: list) -> None:
    """The former client: `http.client`, a JSON body built per request, the status checked."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def award(i: int) -> str | None:
        recipient = recipient_ids[i % len(recipient_ids)]
        try:
            conn.request("POST", AWARD_PATH, award_body(recipient), headers)
            response = conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            return repr(exc)
        return award_answer_problem(response.status, payload, recipient)

    part = timed_loop(duration, barrier, award)
    conn.close()
    out.append(part)


def award_answer_problem(status: int, payload: bytes, recipient: str) -> str | None:
    """None if this is the answer of a 1-point award to `recipient`, else what is wrong with it.

    Both clients check every answer with this: the status, then the body, which must be JSON
    saying the award succeeded, to that recipient, for 1 point."""
    if status != 200:
        return f"{status} {payload[:300]!r}"
    try:
        body = json.loads(payload)
    except ValueError:
        return f"200 with a body that is not JSON: {payload[:300]!r}"
    if not (
        isinstance(body, dict)
        and body.get("success") is True
        and body.get("to_user_id") == recipient
        and body.get("amount_awarded") == 1
    ):
        return f"200 with an unexpected body: {payload[:300]!r}"
    return None


def award_body(recipient: str) -> str:
    """The JSON body of a 1-point award to `recipient`, as both clients send it."""
    return json.dumps({"to_user_id": recipient, "amount": 1, "recognition_message": MESSAGE})


def award_requests(port: int, token: str, recipient_ids: list[str]) -> list[bytes]:
    """Each recipient's award request, encoded once: the bytes `http.client` would send
    (request line, Host, Accept-Encoding, Content-Length, Authorization, Content-Type, body)."""
    out = []
    for recipient in recipient_ids:
        body = award_body(recipient).encode()
        head = (
            f"POST {AWARD_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept-Encoding: identity\r\n"
            f"Content-Length: {len(body)}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out


class ProtocolError(Exception):
    pass


def read_response(sock: socket.socket) -> tuple[int, bytes, bool]:
    """One HTTP/1.1 response from `sock`: (status, body, whether the server closes the connection).

    The body is read to its `Content-Length` (every answer of the API has one); a response
    without it, a connection closed early, or bytes after the body are a `ProtocolError`."""
    data = b""
    while (end := data.find(b"\r\n\r\n")) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ProtocolError("connection closed before the end of the response's head")
        data += chunk
    lines = data[:end].split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    if not version.startswith(b"HTTP/1."):
        raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:100]!r}")
    status = int(rest[:3])
    length, close = None, version == b"HTTP/1.0"
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            close = value.strip().lower() == b"close"
        elif name == b"transfer-encoding":
            raise ProtocolError("a chunked response: the API answers with a Content-Length")
    if length is None:
        raise ProtocolError("a response without Content-Length")
    body = data[end + 4 :]
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ProtocolError(f"connection closed after {len(body)} of {length} body bytes")
        body += chunk
    if len(body) > length:
        raise ProtocolError(f"{len(body) - length} bytes after the body, with one request in flight")
    return status, body, close


def _raw_client(port: int, token: str, recipient_ids: list[str], duration: float, barrier, out: list) -> None:
    """A socket, the requests encoded before the clock starts, and a reader of the status line,
    the headers it needs and the body: what `http.client` does per request (building and
    parsing every header through the e-mail parser, resolving the address for each new
    connection) cost the bench's own CPU on the cores the server runs on (docs/PERFORMANCE.md).
    Every answer is checked as the stdlib client checks it (`award_answer_problem`)."""
    requests = award_requests(port, token, recipient_ids)
    sock: socket.socket | None = None

    def award(i: int) -> str | None:
        nonlocal sock
        n = i % len(requests)
        try:
            if sock is None:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.settimeout(30)
                sock.connect(("127.0.0.1", port))
            sock.sendall(requests[n])
            status, payload, close = read_response(sock)
        except (OSError, ValueError, ProtocolError) as exc:
            if sock is not None:
                sock.close()
                sock = None
            return repr(exc)
        if close:
            sock.close()
            sock = None
        return award_answer_problem(status, payload, recipient_ids[n])

    part = timed_loop(duration, barrier, award)
    if sock is not None:
        sock.close()
    out.append(part)


CLIENTS = {"raw": _raw_client, "stdlib": _stdlib_client}


def run_http(
    *, port: int, token: str, recipient_ids: list[UUID], clients: int, duration: float, client: str = "raw"
) -> LoadResult:
    """`clients` threads, each with one keep-alive connection (re-opened if the server closes it).

    `client` "raw" (`_raw_client`) or "stdlib" (`_stdlib_client`, `http.client`): both check every
    answer the same way; the result's `client_cpu_s` is this process's CPU time over the run."""
    barrier = threading.Barrier(clients)
    out: list = []
    target = CLIENTS[client]
    threads = [
        threading.Thread(target=target, args=(port, token, [str(r) for r in part], duration, barrier, out))
        for part in slices(recipient_ids, clients)
    ]
    cpu0 = time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = _merge(out)
    result.client_cpu_s = time.process_time() - cpu0
    return result
