from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "automation"
    verbose_name = "Automated awards"

    def ready(self) -> None:
        from . import jobs  # noqa: F401 - registers the daily run with the workers
