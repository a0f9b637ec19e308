"""Forms of the people pages: the member filter, add / edit a member, the photo, the CSV import."""

from __future__ import annotations

from django import forms

from tenants.models import TENANT_ROLES, User

from .models import Team

ROLE_CHOICES = [(r.value, r.label) for r in TENANT_ROLES]


class MemberFilterForm(forms.Form):
    q = forms.CharField(
        label="Search", required=False, widget=forms.TextInput(attrs={"placeholder": "Name, e-mail, title"})
    )
    team = forms.ChoiceField(label="Team", required=False)
    role = forms.ChoiceField(label="Role", required=False, choices=[("", "Any role"), *ROLE_CHOICES])
    active = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Active and deactivated"), ("1", "Active"), ("0", "Deactivated")]
    )

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "Any team"), *[(str(t.pk), t.name) for t in teams]]


class MemberForm(forms.Form):
    """Add (with e-mail) or edit a member; the ids of team and manager are checked by the services."""

    email = forms.EmailField(label="E-mail", max_length=254)
    full_name = forms.CharField(label="Full name", max_length=200)
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES)
    title = forms.CharField(label="Title", max_length=120, required=False)
    team = forms.ChoiceField(label="Team", required=False)
    manager = forms.ChoiceField(label="Reports to", required=False)
    hire_date = forms.DateField(label="Hire date", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    birthday_month = forms.TypedChoiceField(
        label="Birthday month",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—")]
        + [
            (m, name)
            for m, name in enumerate(
                [
                    "January",
                    "February",
                    "March",
                    "April",
                    "May",
                    "June",
                    "July",
                    "August",
                    "September",
                    "October",
                    "November",
                    "December",
                ],
                start=1,
            )
        ],
    )
    birthday_day = forms.TypedChoiceField(
        label="Birthday day",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—")] + [(d, d) for d in range(1, 32)],
    )

    def __init__(self, *args, tenant_id, editing: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.filter(tenant_id=tenant_id).order_by("name")
        self.fields["team"].choices = [("", "No team"), *[(str(t.pk), t.name) for t in teams]]
        managers = User.objects.filter(tenant_id=tenant_id, is_active=True).order_by("full_name", "email")
        if editing is not None:
            managers = managers.exclude(pk=editing.pk)
            self.fields["email"].disabled = True
            self.fields["email"].required = False
        self.fields["manager"].choices = [
            ("", "Nobody"),
            *[(str(u.pk), f"{u.full_name} ({u.email})") for u in managers],
        ]

    def clean(self):
        data = super().clean()
        month, day = data.get("birthday_month"), data.get("birthday_day")
        if (month is None) != (day is None):
            raise forms.ValidationError("Give both the month and the day of the birthday, or neither.")
        return data


class PhotoForm(forms.Form):
    photo = forms.FileField(
        label="New photo",
        help_text="JPEG, PNG or WebP, at most 5 MB. It is cropped to a square.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )


class ConsentForm(forms.Form):
    birthday_consent = forms.BooleanField(
        label="Show my birthday to colleagues and celebrate it",
        required=False,
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, comma or semicolon separated, with a header row: email, full_name, role, title, team, "
        "manager_email, hire_date, birthday, active.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    deactivate_missing = forms.BooleanField(label="Deactivate members missing from the file", required=False)
