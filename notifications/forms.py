from __future__ import annotations

import base64
import binascii

from django import forms

from flexpool.input import Form


def _b64url_bytes(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


class PushSubscriptionForm(Form):
    """A browser's ``PushSubscription.toJSON()``, flattened: the push service's address,
    the browser's P-256 public key (65 bytes) and its 16-byte auth secret, both base64url."""

    endpoint = forms.URLField(max_length=1000, assume_scheme="https")
    p256dh = forms.CharField(max_length=200)
    auth = forms.CharField(max_length=100)

    def clean_p256dh(self) -> str:
        value: str = self.cleaned_data["p256dh"]
        raw = _b64url_bytes(value)
        if raw is None or len(raw) != 65 or raw[0] != 4:
            raise forms.ValidationError("This is not a browser's push public key.")
        return value

    def clean_auth(self) -> str:
        value: str = self.cleaned_data["auth"]
        raw = _b64url_bytes(value)
        if raw is None or len(raw) != 16:
            raise forms.ValidationError("This is not a browser's push auth secret.")
        return value


class PushUnsubscribeForm(Form):
    endpoint = forms.URLField(max_length=1000, assume_scheme="https")


class InboundSmsForm(Form):
    """The fields of GOV.UK Notify's inbound-SMS callback that FlexPool uses."""

    source_number = forms.RegexField(regex=r"^\+?[0-9 ]{6,20}$", max_length=20)
    message = forms.CharField(max_length=918, strip=True, required=False)
