"""The sign-in form (Django's with the wrong-password lockout, labelled for an email address), and the
programme settings form that the managers' page and the platform console share."""

from django import forms

from perksu.throttling import ThrottledAuthenticationForm

from .models import LOCALES, Tenant
from .services import SETTINGS_FIELDS


class EmailLoginForm(ThrottledAuthenticationForm):
    username = forms.EmailField(
        label="Email",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        **ThrottledAuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an active account.",
    }


class ProgrammeSettingsForm(forms.ModelForm):
    """The programme settings (SPEC §9), validated by the model's own validators (integers ≥ 0, a real IANA
    time zone, a known locale). Managers use it on /manage/settings/, platform admins in the console; both
    save through `tenants.services.tenant_settings_update`, which validates again and logs every change."""

    locale = forms.ChoiceField(choices=sorted(LOCALES.items()))

    class Meta:
        model = Tenant
        fields = SETTINGS_FIELDS
        help_texts = {
            "timezone": "IANA name, e.g. Asia/Kolkata. Dates and allowance periods follow it.",
            "allowance_employee": "Points each employee may give colleagues per period (0: none).",
            "allowance_lead": "Per lead and period, on top of the lead budget.",
            "allowance_manager": "Per manager and period (managers award from the pool anyway).",
            "require_value": "A recognition with points must name at least one company value.",
        }

    def changes(self) -> dict:
        """The cleaned settings, for `tenant_settings_update` (it writes and logs only those that differ)."""
        return {name: self.cleaned_data[name] for name in SETTINGS_FIELDS}
