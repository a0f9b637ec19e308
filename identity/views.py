"""The single sign-on callback and the pages of identity settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from people import services as people
from tenants.models import Role, User

from . import oidc
from .oidc import SsoError

BACKEND = "perksu.throttling.ThrottledModelBackend"


def sso_redirect(request: HttpRequest) -> HttpResponse:
    """The step between the login form and the provider (a refresh and a link, no script)."""
    flow = request.session.get(oidc.SESSION_KEY)
    if not flow or not flow.get("url"):
        return redirect("tenants:login")
    return render(request, "identity/sso_redirect.html", {"provider_url": flow["url"]})


def sso_callback(request: HttpRequest) -> HttpResponse:
    """Where the provider sends the browser back: verify, find (or create) the member, sign in."""
    try:
        identity = oidc.finish(request)
        user = _member_for(identity)
    except SsoError as exc:
        messages.error(request, str(exc))
        return redirect("tenants:login")
    login(request, user, backend=BACKEND)
    next_url = identity.next_url
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    return redirect(next_url)


def _member_for(identity: oidc.Identity) -> User:
    config = identity.config
    domain = identity.email.rsplit("@", 1)[-1]
    if domain not in config.domains:
        raise SsoError(f"{identity.email} is not an address of your company's allowed domains: sign-in refused.")
    user = User.objects.filter(email__iexact=identity.email).first()
    if user is None:
        if not config.jit_enabled:
            raise SsoError(f"There is no Perksu account for {identity.email}. Ask a manager to add you.")
        user = people.member_invite(
            tenant=config.tenant,
            email=identity.email,
            full_name=identity.name or identity.email.split("@")[0],
            role=Role.EMPLOYEE,
            actor=None,
            send_invitation=False,
        )
    if user.tenant_id != config.tenant_id:
        raise SsoError(f"The account {identity.email} does not belong to this company: sign-in refused.")
    if not user.is_active:
        raise SsoError("This account is deactivated. Ask a manager if you think this is wrong.")
    return user
