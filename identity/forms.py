from django import forms

from .models import SsoConfig


class ScimTokenForm(forms.Form):
    name = forms.CharField(max_length=100, label="Token name", help_text="The identity provider it is for, e.g. Okta.")


class SsoConfigForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Single sign-on on")
    issuer = forms.URLField(
        max_length=500,
        assume_scheme="https",
        label="Issuer URL",
        help_text=SsoConfig._meta.get_field("issuer").help_text,
        widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "off"}),
    )
    client_id = forms.CharField(max_length=255, label="Client ID")
    client_secret = forms.CharField(
        required=False,
        label="Client secret",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted and never shown again. Leave empty to keep the stored one.",
    )
    allowed_domains = forms.CharField(
        max_length=1000, label="Allowed e-mail domains", help_text="Separated by commas, e.g. triton.com, triton.in"
    )
    jit_enabled = forms.BooleanField(
        required=False, label="Create an employee account at first sign-in for an unknown e-mail of these domains"
    )
    password_login_enabled = forms.BooleanField(required=False, label="Members may also sign in with a password")
