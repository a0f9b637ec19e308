"""The platform console: Django's admin, for platform staff only (SPEC §7).

`console` replaces `admin.site`: every app's `admin.py` registers on it, and
`perksu/urls.py` serves it at `/admin/`. Access needs `User.is_platform_admin`
(a superuser, or `role=platform_admin` with `is_staff`), not only `is_staff`,
and the model admins grant view, add and change by that same test instead of
Django's per-model permission rows, so a platform admin who is not a superuser
sees the whole console and a tenant member sees none of it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.urls import path

NOT_PLATFORM_STAFF = (
    "This console is for Perksu platform staff only. Managers, leads and employees sign in to their company's "
    "pages at /accounts/login/."
)


class ConsoleAuthenticationForm(AdminAuthenticationForm):
    """Django's admin login, refusing anyone who is not platform staff. A tenant member who typed their own
    right password is told where they belong instead of being told the password is wrong; a wrong password
    still gets the usual message, so the form reveals nothing to someone who does not know the password."""

    def confirm_login_allowed(self, user) -> None:
        if not user.is_active:
            super().confirm_login_allowed(user)
        if not user.is_platform_admin:
            raise forms.ValidationError(NOT_PLATFORM_STAFF, code="not_platform_staff")


class ConsoleSite(admin.AdminSite):
    site_header = "Perksu platform console"
    site_title = "Perksu console"
    index_title = "Tenants, points and ledgers"
    index_template = "admin/perksu/index.html"
    login_form = ConsoleAuthenticationForm
    # The ledgers are wide tables: give them the whole width.
    enable_nav_sidebar = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._app_pages: list[tuple[str, object, str]] = []

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and request.user.is_platform_admin

    def register_page(self, route: str, view, *, name: str) -> None:
        """A console page owned by an app, registered from that app's admin.py (served behind the
        console's login and platform-admin check, like every console page)."""
        self._app_pages.append((route, view, name))

    def get_urls(self):
        from points import admin_views

        extra = [
            path("ledger-health/", self.admin_view(admin_views.ledger_health), name="ledger_health"),
            path("liability/", self.admin_view(admin_views.liability), name="liability"),
            *(path(route, self.admin_view(view), name=name) for route, view, name in self._app_pages),
        ]
        return extra + super().get_urls()


console = ConsoleSite(name="admin")
