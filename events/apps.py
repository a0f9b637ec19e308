from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events and notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The built-in consumers (e-mail, in-app) register themselves on import.
        from . import consumers  # noqa: F401
