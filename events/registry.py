"""The consumers of events: who hears about what.

A consumer is a `@job` taking `event_id` (a string). The dispatcher enqueues it
once per matching event; it must be safe to run twice (a retry, or a worker that
died mid-run). Register one at import time of your app (its `AppConfig.ready`):

    from events.registry import register_consumer

    register_consumer("webhooks", deliver_to_endpoints, events=None)  # None: every event

The e-mail and in-app consumers are registered by `events.consumers`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django_tasks.base import Task

from . import event_types


@dataclass(frozen=True)
class Consumer:
    name: str
    job: Task
    events: frozenset[str] | None
    """The event names it hears; None: all of them."""

    def hears(self, event_name: str) -> bool:
        return self.events is None or event_name in self.events


_consumers: dict[str, Consumer] = {}


def register_consumer(name: str, job: Task, *, events: Iterable[str] | None = None) -> Consumer:
    names = None if events is None else frozenset(events)
    unknown = sorted((names or set()) - set(event_types.ALL))
    if unknown:
        raise ValueError(f"Unknown event names for consumer {name!r}: {unknown}")
    consumer = Consumer(name=name, job=job, events=names)
    _consumers[name] = consumer
    return consumer


def consumers() -> list[Consumer]:
    return list(_consumers.values())


@dataclass(frozen=True)
class Periodic:
    name: str
    func: Callable[[], object]
    every_seconds: float


_periodic: dict[str, Periodic] = {}


def register_periodic(name: str, func: Callable[[], object], *, every_seconds: float) -> Periodic:
    """Work every worker runs between jobs, at most once per `every_seconds` (e.g. sending due webhooks).

    It must be safe to run on many workers at once (claim rows with SKIP LOCKED, or key what it writes).
    """
    entry = Periodic(name=name, func=func, every_seconds=every_seconds)
    _periodic[name] = entry
    return entry


def periodic() -> list[Periodic]:
    return list(_periodic.values())
