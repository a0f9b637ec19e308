"""The console's money forms: allocate to a tenant pool, claw back from it, and the liability dates.

They validate like the API (`perksu.api.fields.AmountField`): an amount is a
whole number from 1 to 1,000,000,000 — no fractions, no exponents, no signs
other than a leading + — and the service checks it again.
"""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import lazy

from perksu.formatting import format_number
from tenants.models import MAX_AMOUNT, Tenant

from .selectors import day_out_of_range

_WHOLE_NUMBER = re.compile(r"\+?[0-9]{1,30}")
# Lazy: the limit reads in the locale in force when the message is shown (1,00,00,00,000 in en-IN).
_RANGE_MESSAGE = lazy(lambda: f"Enter a whole number of points from 1 to {format_number(MAX_AMOUNT)}.", str)()


class PointsAmountField(forms.IntegerField):
    default_error_messages = {
        "invalid": _RANGE_MESSAGE,
        "min_value": _RANGE_MESSAGE,
        "max_value": _RANGE_MESSAGE,
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_AMOUNT)
        super().__init__(**kwargs)

    def to_python(self, value):
        text = "" if value is None else str(value).strip()
        if text in self.empty_values:
            return None
        # Django's IntegerField would read "10.0" as 10; a fraction is a typing mistake here.
        if not _WHOLE_NUMBER.fullmatch(text):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return int(text)


class AllocateForm(forms.Form):
    amount = PointsAmountField(help_text="Points to add to the tenant's pool.")
    reference_note = forms.CharField(
        label="Reference note", max_length=500, required=False, help_text="For example the invoice number."
    )

    def fingerprint_payload(self) -> dict:
        return {"amount": self.cleaned_data["amount"], "reference_note": self.cleaned_data["reference_note"]}


class ClawbackForm(forms.Form):
    amount = PointsAmountField(
        required=False, help_text="Leave empty to claw back the whole pool (you will be asked to confirm the amount)."
    )
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Required; recorded in the allocation and billing logs.",
        error_messages={"required": "A reason is required."},
    )

    # The whole pool the admin was shown and confirmed, for an empty amount.
    confirm_all = PointsAmountField(required=False, widget=forms.HiddenInput)

    def fingerprint_payload(self) -> dict:
        return {"amount": self.cleaned_data["amount"], "reason": self.cleaned_data["reason"]}


class RollForwardForm(forms.Form):
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.order_by("name"), required=False, empty_label="All tenants")
    date_from = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    MAX_DAYS = 3660

    @classmethod
    def initial_dates(cls) -> dict:
        today = timezone.localdate()
        return {"date_from": today.replace(day=1), "date_to": today}

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        for name, day in (("date_from", start), ("date_to", end)):
            problem = day and day_out_of_range(day)
            if problem:
                self.add_error(name, problem)
                return cleaned
        if start and end:
            if start > end:
                raise ValidationError("The start date must be on or before the end date.")
            if end - start > dt.timedelta(days=self.MAX_DAYS):
                raise ValidationError("Choose a range of at most ten years.")
        return cleaned
