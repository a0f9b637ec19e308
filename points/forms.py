"""Delegate and recall forms of the manager dashboard."""

from __future__ import annotations

from django import forms

from points.forms_admin import PointsAmountField
from tenants.models import Role, User


def lead_choices(manager: User) -> list[tuple[str, str]]:
    """Active leads of the manager's tenant; another tenant's lead is not a choice."""
    leads = User.objects.filter(tenant_id=manager.tenant_id, role=Role.TENANT_LEAD, is_active=True).order_by(
        "full_name", "email"
    )
    return [(str(lead.pk), lead.full_name or lead.email) for lead in leads]


class DelegateForm(forms.Form):
    lead = forms.ChoiceField(label="Lead")
    amount = PointsAmountField(label="Points", widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "1"}))
    note = forms.CharField(label="Note", max_length=500, required=False)
    form_token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, manager: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].choices = [("", "Choose a lead"), *lead_choices(manager)]


class RecallForm(forms.Form):
    """Recall from one lead (the lead's id is in the URL); an empty amount recalls everything."""

    amount = PointsAmountField(
        label="Points",
        required=False,
        help_text="Empty recalls the whole budget, after you confirm the amount.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "All", "min": "1"}),
    )
    # The whole budget the manager was shown and confirmed, for an empty amount.
    confirm_all = PointsAmountField(required=False, widget=forms.HiddenInput)
    note = forms.CharField(
        label="Note", max_length=500, required=False, widget=forms.TextInput(attrs={"placeholder": "Note"})
    )
    form_token = forms.CharField(widget=forms.HiddenInput)
