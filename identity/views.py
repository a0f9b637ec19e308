"""The single sign-on callback and the pages of identity settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from people import services as people
from perksu.errors import DomainError
from perksu.pages import manager_required
from tenants.models import Role, User

from . import oidc, services
from .forms import ScimTokenForm, SsoConfigForm
from .models import ScimToken, SsoConfig
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
    user = User.objects.for_email(identity.email)
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


@manager_required
def integrations(request: HttpRequest) -> HttpResponse:
    """SCIM provisioning tokens of the tenant: create (shown once), list, revoke."""
    tenant = request.user.tenant
    form = ScimTokenForm()
    created_secret = None
    if request.method == "POST":
        if "revoke" in request.POST:
            try:
                services.scim_token_revoke(tenant_id=tenant.pk, token_id=request.POST["revoke"])
                messages.success(request, "The SCIM token was revoked: it stops working now.")
            except DomainError as exc:
                messages.error(request, exc.message)
            return redirect("identity:integrations")
        form = ScimTokenForm(request.POST)
        if form.is_valid():
            try:
                _token, created_secret = services.scim_token_create(
                    tenant=tenant, name=form.cleaned_data["name"], actor=request.user
                )
                form = ScimTokenForm()
            except DomainError as exc:
                form.add_error("name", exc.message)
    tokens = ScimToken.objects.filter(tenant=tenant).prefetch_related("created_by").order_by("-created_at", "-id")[:100]
    return render(
        request,
        "identity/integrations.html",
        {
            "form": form,
            "tokens": tokens,
            "created_secret": created_secret,
            "scim_url": request.build_absolute_uri("/scim/v2/"),
        },
    )


@manager_required
def sso_settings(request: HttpRequest) -> HttpResponse:
    """The tenant's OpenID Connect sign-in (SPEC §11)."""
    tenant = request.user.tenant
    config = SsoConfig.objects.filter(tenant=tenant).first()
    initial = {"enabled": False, "password_login_enabled": True}
    if config is not None:
        initial = {
            "enabled": config.enabled,
            "issuer": config.issuer,
            "client_id": config.client_id,
            "allowed_domains": ", ".join(config.domains),
            "jit_enabled": config.jit_enabled,
            "password_login_enabled": config.password_login_enabled,
        }
    form = SsoConfigForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.sso_config_save(tenant=tenant, **form.cleaned_data)
            messages.success(request, "Single sign-on settings saved.")
            return redirect("identity:sso_settings")
        except DomainError as exc:
            form.add_error(exc.extra.get("field") if exc.extra.get("field") in form.fields else None, exc.message)
    return render(
        request,
        "identity/sso_settings.html",
        {
            "form": form,
            "config": config,
            "redirect_uri": request.build_absolute_uri("/accounts/sso/callback/"),
        },
    )
