"""The console: SCIM tokens (created for a tenant and shown once, revoked) and each tenant's single sign-on."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from perksu.admin_base import PlatformAdminMixin, ServiceErrorsMixin
from perksu.admin_site import console

from . import services
from .models import ScimToken, SsoConfig


class ScimTokenAddForm(forms.ModelForm):
    class Meta:
        model = ScimToken
        fields = ["tenant", "name"]


@admin.register(ScimToken, site=console)
class ScimTokenAdmin(ServiceErrorsMixin, PlatformAdminMixin, admin.ModelAdmin):
    list_display = ["name", "tenant", "prefix", "created_at", "last_used_at", "created_by"]
    list_select_related = ["tenant"]  # the creator (maybe platform staff) is read apart: get_queryset
    list_filter = ["tenant"]
    form = ScimTokenAddForm
    actions = ["revoke"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("created_by")

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        token, secret = services.scim_token_create(
            tenant=form.cleaned_data["tenant"], name=form.cleaned_data["name"], actor=request.user
        )
        obj.pk, obj._state.adding, obj._state.db = token.pk, False, "default"
        messages.warning(request, f"Copy the SCIM token now, it is not shown again: {secret}")

    @admin.action(description="Revoke the selected SCIM tokens")
    def revoke(self, request, queryset) -> None:
        count = 0
        for token in queryset:
            services.scim_token_revoke(tenant_id=token.tenant_id, token_id=token.pk)
            count += 1
        messages.success(request, f"Revoked: {count}.")


class SsoConfigForm(forms.ModelForm):
    issuer = forms.URLField(
        max_length=500, assume_scheme="https", help_text=SsoConfig._meta.get_field("issuer").help_text
    )
    client_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted and never shown again; leave empty to keep the stored one.",
    )

    class Meta:
        model = SsoConfig
        fields = [
            "tenant",
            "enabled",
            "issuer",
            "client_id",
            "client_secret",
            "client_secret_env",
            "allowed_domains",
            "jit_enabled",
            "password_login_enabled",
        ]


@admin.register(SsoConfig, site=console)
class SsoConfigAdmin(ServiceErrorsMixin, PlatformAdminMixin, admin.ModelAdmin):
    list_display = ["tenant", "enabled", "issuer", "allowed_domains", "jit_enabled", "password_login_enabled"]
    list_select_related = ["tenant"]
    form = SsoConfigForm

    def get_readonly_fields(self, request, obj=None):
        return ["tenant"] if obj else []

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        saved = services.sso_config_save(
            tenant=obj.tenant,
            issuer=data["issuer"],
            client_id=data["client_id"],
            allowed_domains=data["allowed_domains"],
            client_secret=data.get("client_secret") or None,
            client_secret_env=data.get("client_secret_env") or "",
            enabled=data["enabled"],
            jit_enabled=data["jit_enabled"],
            password_login_enabled=data["password_login_enabled"],
        )
        obj.pk, obj._state.adding, obj._state.db = saved.pk, False, "default"
