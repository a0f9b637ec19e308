"""Signing in and out, and `/`, which sends each role to its home page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from .forms import EmailLoginForm


class LoginView(auth_views.LoginView):
    """Email and password. Django's backend refuses deactivated users; wrong
    passwords are throttled (`perksu.throttling`).

    The e-mail comes first: a member of a tenant with single sign-on who gives no
    password — or whose tenant turned password login off — is sent to the tenant's
    OpenID Connect provider instead (`identity.oidc`)."""

    template_name = "tenants/login.html"
    authentication_form = EmailLoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        from identity import oidc
        from identity.sso import sso_config_for_email

        email = request.POST.get("username", "")
        config = sso_config_for_email(email)
        if config is not None and (not request.POST.get("password") or not config.password_login_enabled):
            try:
                oidc.start(request, config, email=email, next_url=self.get_redirect_url() or "/")
                # A same-origin page takes the browser on: the login form's CSP (`form-action 'self'`)
                # forbids a form submission from being redirected to another origin.
                return redirect("identity:sso_redirect")
            except oidc.SsoError as exc:
                messages.error(request, str(exc))
                return redirect("tenants:login")
        return super().post(request, *args, **kwargs)


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a link cannot sign anyone out."""


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_platform_admin:
        return redirect("/admin/")
    if user.is_manager or user.is_lead:
        return redirect("points:manage")
    if user.member_tenant_id:
        return redirect("wallets:wallet")
    # Staff without a tenant and without console rights have no page here.
    return redirect("/admin/")
