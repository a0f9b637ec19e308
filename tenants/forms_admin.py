"""The console's forms for tenants and users. They validate; the services write."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import ReadOnlyPasswordHashField

from .models import LOCALES, Role, Tenant, TenantSlug, User, email_key

TENANT_CREATE_FIELDS = (
    "name",
    "slug",
    "currency",
    "currency_label",
    "point_value",
    "low_balance_threshold",
    "max_award_points",
)


FORMATTING_FIELDS = ("timezone", "locale")
"""Programme settings (SPEC §9) the console edits on an existing tenant; each change is logged."""


def _timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class TenantForm(forms.ModelForm):
    timezone = forms.ChoiceField(
        label="Time zone",
        required=False,
        choices=_timezone_choices,
        initial="UTC",
        help_text="Every date a member sees, and every period boundary, is in this zone.",
    )
    locale = forms.ChoiceField(
        label="Locale",
        required=False,
        choices=sorted(LOCALES.items()),
        initial="en",
        help_text="How numbers and dates read on pages and in e-mails (English (India) groups 1,00,000).",
    )

    class Meta:
        model = Tenant
        fields = (*TENANT_CREATE_FIELDS, "status", *FORMATTING_FIELDS)

    def clean_timezone(self) -> str:
        # Left out of a submitted form: unchanged (the model's default for a new tenant).
        return self.cleaned_data["timezone"] or self.instance.timezone or "UTC"

    def clean_locale(self) -> str:
        return self.cleaned_data["locale"] or self.instance.locale or "en"

    def clean_slug(self) -> str:
        # tenant_create stores slugs in lower case; check uniqueness on what will be stored, where it is
        # kept (tenant_slugs, which holds the platform's own slug too). The service checks again on write.
        slug = self.cleaned_data["slug"].strip().lower()
        if TenantSlug.objects.filter(slug=slug).exclude(tenant_id=self.instance.pk).exists():
            raise forms.ValidationError("Tenant with this Slug already exists.", code="unique")
        return slug

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()


class UserAddForm(forms.ModelForm):
    """A new user with a tenant and a role; `tenants.services.user_create` opens the wallet and budget."""

    password1 = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to create the account without a usable password (set one later).",
    )
    password2 = forms.CharField(
        label="Password confirmation",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = User
        fields = ("email", "full_name", "tenant", "role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["full_name"].required = True
        # Empty for platform staff (user_create places them in the platform's own tenant).
        self.fields["tenant"].required = False
        self.fields["tenant"].help_text = "Required for every role except platform admin."

    def clean_email(self) -> str:
        email = email_key(self.cleaned_data["email"])
        if User.objects.email_taken(email):
            raise forms.ValidationError(f"A user with email {email} already exists.")
        return email

    def clean(self):
        cleaned = super().clean()
        role, tenant = cleaned.get("role"), cleaned.get("tenant")
        if role == Role.PLATFORM_ADMIN and tenant is not None:
            self.add_error("tenant", "Platform admins belong to no tenant: leave it empty.")
        elif role and role != Role.PLATFORM_ADMIN and tenant is None:
            self.add_error("tenant", "A tenant member needs a tenant.")
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 != password2:
            self.add_error("password2", "The two passwords differ.")
        elif password1:
            probe = User(email=cleaned.get("email") or "", full_name=cleaned.get("full_name") or "")
            try:
                password_validation.validate_password(password1, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class UserChangeForm(forms.ModelForm):
    password = ReadOnlyPasswordHashField(label="Password")

    class Meta:
        model = User
        fields = ("email", "full_name", "role", "is_active")

    def clean_email(self) -> str:
        email = email_key(self.cleaned_data["email"])
        if User.objects.email_taken(email, exclude=self.instance):
            raise forms.ValidationError(f"A user with email {email} already exists.")
        return email

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        if self.instance.member_tenant_id is not None and role == Role.PLATFORM_ADMIN:
            raise forms.ValidationError("A tenant member cannot become a platform admin.")
        return role
