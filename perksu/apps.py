from django.apps import AppConfig


class PerksuConfig(AppConfig):
    """The project package as an app: it registers the project's system checks, and keeps
    the signed-in user's tenant in their session (perksu/middleware.py)."""

    name = "perksu"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import checks  # noqa: F401 - registers the checks
        from .middleware import remember_session_tenant

        user_logged_in.connect(remember_session_tenant, dispatch_uid="perksu_session_tenant")
