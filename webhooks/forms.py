from django import forms

from .models import WebhookEndpoint
from .services import EVENT_TYPES


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": "https://hooks.slack.com/services/…", "inputmode": "url"}),
        help_text="Slack or Teams incoming-webhook URL, or your own HTTPS receiver.",
    )
    format = forms.ChoiceField(label="Format", choices=WebhookEndpoint.Format.choices, initial="json")
    events = forms.MultipleChoiceField(
        label="Events",
        choices=[("*", "Every event"), *((e, e) for e in EVENT_TYPES)],
        widget=forms.CheckboxSelectMultiple,
        initial=["recognition.created"],
    )
    description = forms.CharField(label="Description", max_length=200, required=False)
