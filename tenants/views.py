"""Signing in and out, and `/`, which sends each role to its home page."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from .forms import EmailLoginForm


class LoginView(auth_views.LoginView):
    """Email and password. Django's backend refuses deactivated users; wrong
    passwords are throttled (`perksu.throttling`)."""

    template_name = "tenants/login.html"
    authentication_form = EmailLoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a link cannot sign anyone out."""


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_platform_admin:
        return redirect("/admin/")
    if user.is_manager or user.is_lead:
        return redirect("points:manage")
    if user.tenant_id:
        return redirect("wallets:wallet")
    # Staff without a tenant and without console rights have no page here.
    return redirect("/admin/")
