from django.apps import AppConfig


class PerksuConfig(AppConfig):
    """The project package as an app: it registers the project's system checks."""

    name = "perksu"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the checks
