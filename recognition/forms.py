"""The award / kudos form used by /recognize/ and the manager dashboard."""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from points.forms_admin import PointsAmountField
from points.models import LeadBudget
from tenants.models import Tenant, User

from . import allowances
from .models import CompanyValue
from .services import MAX_MESSAGE_LENGTH, MAX_RECIPIENTS, MAX_VALUES

POINTS, KUDOS = "points", "kudos"
KINDS = [(POINTS, "Points"), (KUDOS, "Kudos only (no points)")]

RECIPIENTS_SHOWN = 200
"""At most this many colleagues are listed at once; a search narrows the list."""


def _members(giver: User):
    """Whom the giver may recognise: the active members of their tenant, except themselves."""
    return User.objects.filter(tenant_id=giver.tenant_id, is_active=True).exclude(pk=giver.pk)


def recipient_members(giver: User, *, search: str = "", selected: set[str] = frozenset()) -> tuple[list[User], bool]:
    """The colleagues to list: up to `RECIPIENTS_SHOWN` members whose name or email contains
    `search`, by name, then the `selected` member ids not among them (a form sent back with an
    error keeps its ticks). Returns the members (with the profile joined, for their photo) and
    whether more members match than are listed. Another tenant's id is never a choice, so it is
    refused exactly like an unknown one. Two queries at most, whatever the number listed."""
    fields = ("id", "full_name", "email", "profile__avatar", "profile__avatar_small")
    members = _members(giver).select_related("profile").only(*fields)
    if search:
        members = members.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    rows = list(members.order_by("full_name", "email")[: RECIPIENTS_SHOWN + 1])
    more = len(rows) > RECIPIENTS_SHOWN
    people = rows[:RECIPIENTS_SHOWN]
    missing = selected - {str(person.pk) for person in people}
    if missing:
        extra = _members(giver).select_related("profile").only(*fields).filter(pk__in=missing)
        people += list(extra.order_by("full_name", "email"))
    return people, more


def _member_ids(giver: User, values: Sequence[str]) -> set[str]:
    """Those of `values` that are ids of members the giver may recognise (one query; none for no values)."""
    ids = []
    for value in values:
        try:
            ids.append(User._meta.pk.to_python(value))
        except ValidationError:
            continue
    if not ids:
        return set()
    return {str(pk) for pk in _members(giver).filter(pk__in=ids).values_list("pk", flat=True)}


class RecipientsField(forms.MultipleChoiceField):
    """Checkboxes for the colleagues listed; any colleague the giver may recognise is a valid
    value, listed or not: a search narrows what is shown, not what may be chosen."""

    allowed: set[str] | None = None  # set by the form from the submitted values; None: use the choices

    def valid_value(self, value) -> bool:
        if self.allowed is None:
            return super().valid_value(value)
        return str(value) in self.allowed


class RecognitionForm(forms.Form):
    recipients = RecipientsField(
        label="Recipients",
        widget=forms.CheckboxSelectMultiple,
        help_text=f"One or more colleagues (at most {MAX_RECIPIENTS}).",
        error_messages={"required": "Choose at least one recipient."},
    )
    kind = forms.ChoiceField(
        label="What to give",
        choices=KINDS,
        initial=POINTS,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose points or kudos."},
    )
    points = PointsAmountField(
        label="Points per recipient",
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1", "min": "1"}),
    )
    values = forms.MultipleChoiceField(
        label="Company values",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=f"Up to {MAX_VALUES}; a #hashtag in the message names one too.",
    )
    message = forms.CharField(
        label="Message",
        max_length=MAX_MESSAGE_LENGTH,
        # No maxlength attribute: the browser would cut a longer text without a word; the live counter
        # shows the limit, and a longer message is refused next to the field with the text kept.
        widget=forms.Textarea(attrs={"rows": 3, "data-max-length": str(MAX_MESSAGE_LENGTH)}),
        error_messages={"required": "Write a message: say what they did."},
    )
    # The one-time token (perksu.pages.TOKEN_FIELD) that makes a double submit harmless.
    form_token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, giver: User, search: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound and not self.data.get(self.add_prefix("kind")):
            # A form from before the explicit choice (or a script): 0 points meant kudos.
            data = self.data.copy()
            zero = data.get(self.add_prefix("points"), "").strip() == "0"
            data[self.add_prefix("kind")] = KUDOS if zero else POINTS
            self.data = data
        self.giver = giver
        tenant = Tenant.objects.get(pk=giver.tenant_id)
        self.allowance = allowances.allowance_status(tenant=tenant, user=giver)
        self.require_value = tenant.require_value
        self.can_fund = giver.is_manager or giver.is_lead or self.allowance.limit > 0
        self.search = search.strip()[:100]
        self.recipients_shown = RECIPIENTS_SHOWN
        field = self.fields["recipients"]
        submitted = self.data.getlist(self.add_prefix("recipients")) if self.is_bound else []
        if self.is_bound and len(submitted) <= MAX_RECIPIENTS:
            # More than the cap is refused by clean_recipients, with its own message.
            field.allowed = _member_ids(giver, submitted)
        people, self.more_recipients = recipient_members(giver, search=self.search, selected=field.allowed or set())
        field.choices = [(str(person.pk), person.full_name or person.email) for person in people]
        self.recipient_people = people
        self.fields["message"].widget.attrs.pop("maxlength", None)
        if not self.can_fund:
            # Without an allowance an employee gives kudos: zero points, no field to fill in.
            del self.fields["points"]
            del self.fields["kind"]
        elif not (giver.is_manager or giver.is_lead):
            self.fields[
                "points"
            ].help_text = f"From your allowance: {self.allowance.remaining:,} of {self.allowance.limit:,} left."
        values = CompanyValue.objects.filter(tenant_id=giver.tenant_id, is_active=True).order_by("position", "name")
        self.fields["values"].choices = [(str(v.pk), f"{v.name} #{v.hashtag}") for v in values]
        if not self.fields["values"].choices:
            del self.fields["values"]
        elif self.require_value:
            self.fields["values"].help_text = "Name at least one value for a recognition with points. " + (
                self.fields["values"].help_text
            )

    def recipient_options(self) -> list[tuple]:
        """(checkbox, member) for each colleague listed: the picker shows each one's photo or initials."""
        return list(zip(self["recipients"], self.recipient_people, strict=True))

    def clean_recipients(self) -> list[str]:
        chosen = self.cleaned_data["recipients"]
        if len(chosen) > MAX_RECIPIENTS:
            raise forms.ValidationError(f"Choose at most {MAX_RECIPIENTS} recipients.")
        return chosen

    def clean(self):
        cleaned = super().clean()
        wants_points = self.can_fund and cleaned.get("kind") == POINTS
        if wants_points and not self.has_error("points") and cleaned.get("points") is None:
            self.add_error("points", "Enter the points for each recipient, or choose kudos.")
        return cleaned

    def clean_values(self) -> list[str]:
        chosen = self.cleaned_data["values"]
        if len(chosen) > MAX_VALUES:
            raise forms.ValidationError(f"Choose at most {MAX_VALUES} values.")
        return chosen

    @property
    def values_value(self) -> list[str]:
        return self.cleaned_data.get("values", []) if "values" in self.fields else []

    @property
    def points_value(self) -> int:
        if not self.can_fund or self.cleaned_data.get("kind") != POINTS:
            return 0
        return self.cleaned_data.get("points") or 0


def award_sources(giver: User) -> dict:
    """What the award form's preview needs: the balances that may pay (the rule is
    `recognition.services.resolve_funding_source`: the pool for a manager, else the lead budget). A preview,
    not a reservation: the service decides when the form is sent."""
    if giver.is_manager:
        return {"pool": giver.tenant.points_allocation_balance}
    if giver.is_lead:
        return {"budget": LeadBudget.objects.filter(lead=giver).values_list("balance", flat=True).first() or 0}
    status = allowances.allowance_status(tenant=giver.tenant, user=giver)
    return {"allowance": status.remaining} if status.limit else {}
