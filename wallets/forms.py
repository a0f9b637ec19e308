"""Wallet ledger filter; redeem and refund carry only their one-time token."""

from __future__ import annotations

from django import forms

from .models import WalletLedger


class LedgerFilterForm(forms.Form):
    entry_type = forms.ChoiceField(label="Type", required=False, choices=[("", "All"), *WalletLedger.EntryType.choices])
    source = forms.ChoiceField(label="Source", required=False, choices=[("", "All"), *WalletLedger.Source.choices])


class TokenForm(forms.Form):
    """A form whose only input is the one-time token: the action is in the URL."""

    form_token = forms.CharField(widget=forms.HiddenInput)


class RedeemForm(TokenForm):
    """The redemption's confirmation: the token and the price the member was shown."""

    expected_points_cost = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
