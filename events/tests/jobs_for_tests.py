"""Jobs used by the queue's tests (importable by path, as the queue needs)."""

from events.jobs import job

CALLS: list[tuple[str, int]] = []


class Boom(Exception):
    pass


@job(max_attempts=3, backoff_seconds=60)
def flaky(name: str, fail_times: int) -> str:
    CALLS.append((name, len([c for c in CALLS if c[0] == name]) + 1))
    if len([c for c in CALLS if c[0] == name]) <= fail_times:
        raise Boom(f"{name} failed on purpose")
    return f"{name} done"
