"""The award / kudos form used by /recognize/ and the manager dashboard."""

from __future__ import annotations

from django import forms

from tenants.models import MAX_AMOUNT, User

from .services import MAX_MESSAGE_LENGTH, MAX_RECIPIENTS


def recipient_choices(giver: User) -> list[tuple[str, str]]:
    """Active members of the giver's tenant, except the giver. Another tenant's
    id is simply not a choice, so it is refused exactly like an unknown one."""
    members = (
        User.objects.filter(tenant_id=giver.tenant_id, is_active=True)
        .exclude(pk=giver.pk)
        .order_by("full_name", "email")
        .values_list("pk", "full_name", "email")
    )
    return [(str(pk), f"{name or email}") for pk, name, email in members]


class RecognitionForm(forms.Form):
    recipients = forms.MultipleChoiceField(
        label="Recipients",
        widget=forms.CheckboxSelectMultiple,
        help_text=f"One or more colleagues (at most {MAX_RECIPIENTS}).",
        error_messages={"required": "Choose at least one recipient."},
    )
    points = forms.IntegerField(
        label="Points per recipient",
        min_value=0,
        max_value=MAX_AMOUNT,
        initial=0,
        help_text="0 sends kudos without points.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1"}),
    )
    message = forms.CharField(
        label="Message",
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write a message: say what they did."},
    )
    # The one-time token (perksu.pages.TOKEN_FIELD) that makes a double submit harmless.
    form_token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, giver: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.giver = giver
        self.can_fund = giver.is_manager or giver.is_lead
        self.fields["recipients"].choices = recipient_choices(giver)
        if not self.can_fund:
            # Employees give kudos: zero points, no field to fill in.
            del self.fields["points"]

    def clean_recipients(self) -> list[str]:
        chosen = self.cleaned_data["recipients"]
        if len(chosen) > MAX_RECIPIENTS:
            raise forms.ValidationError(f"Choose at most {MAX_RECIPIENTS} recipients.")
        return chosen

    @property
    def points_value(self) -> int:
        return self.cleaned_data.get("points", 0) if self.can_fund else 0
