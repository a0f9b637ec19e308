"""The sign-in form: Django's with the wrong-password lockout, labelled for an email address."""

from django import forms

from perksu.throttling import ThrottledAuthenticationForm


class EmailLoginForm(ThrottledAuthenticationForm):
    username = forms.EmailField(
        label="Email",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        **ThrottledAuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an active account.",
    }
