from django import forms

from perksu.errors import DomainError

from .models import AwardRule
from .services import MAX_DAYS_AFTER_HIRE

TEMPLATE_HELP = "Placeholders: {name}, {first_name}, {years} (anniversaries), {company}."


class RuleForm(forms.Form):
    is_active = forms.BooleanField(label="On", required=False)
    points = forms.IntegerField(label="Points", min_value=1, max_value=1_000_000_000, required=False)
    milestones = forms.CharField(
        label="Milestones (years: points)", required=False, help_text="e.g. 1: 100, 5: 1000, 10: 2500"
    )
    days_after_hire = forms.IntegerField(
        label="Days after the hire date", min_value=0, max_value=MAX_DAYS_AFTER_HIRE, required=False
    )
    message_template = forms.CharField(label="Message", max_length=500, help_text=TEMPLATE_HELP)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind == AwardRule.Kind.ANNIVERSARY:
            del self.fields["points"], self.fields["days_after_hire"]
            self.fields["milestones"].required = True
        else:
            del self.fields["milestones"]
            self.fields["points"].required = True
            if kind != AwardRule.Kind.NEW_HIRE:
                del self.fields["days_after_hire"]
            else:
                self.fields["days_after_hire"].required = True
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("id", f"id_{kind.lower()}_{name}")

    def clean_milestones(self) -> dict:
        text = self.cleaned_data.get("milestones", "")
        result = {}
        for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
            years, sep, points = part.partition(":")
            if not sep or not years.strip().isdigit() or not points.strip().isdigit():
                raise forms.ValidationError(f"Write each milestone as years: points, not {part!r}.")
            result[years.strip()] = int(points.strip())
        return result


def milestones_text(milestones: dict) -> str:
    return ", ".join(f"{years}: {points}" for years, points in milestones.items())


__all__ = ["DomainError", "RuleForm", "milestones_text"]
