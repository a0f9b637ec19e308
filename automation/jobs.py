"""The daily run on the workers: every few minutes each worker checks which tenants have reached 09:00.

`run_due` is idempotent (a finished day is skipped; each award has its unique key), so any
number of workers may run it at any moment; a day whose pool could not pay is retried
at every round until midnight in the tenant's time zone.
"""

from events.registry import register_periodic

from .services import run_due

ROUND_SECONDS = 300

register_periodic("automation.daily", run_due, every_seconds=ROUND_SECONDS)
