"""The filter of the insights page: the period and, for managers, a team."""

from __future__ import annotations

from django import forms


class InsightsFilterForm(forms.Form):
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    team = forms.ChoiceField(label="Team", required=False)

    def __init__(self, *args, teams: list[tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if teams is None:
            del self.fields["team"]
        else:
            self.fields["team"].choices = teams


def query_from_get(data) -> dict:
    """The page's `?from=&to=&team=` as the form's fields (the API's names, so links are shared)."""
    return {"date_from": data.get("from", ""), "date_to": data.get("to", ""), "team": data.get("team", "")}
