"""The e-mails of the member lifecycle, through Django's e-mail API.

An invitation carries a one-time link to set a password: Django's token machinery
with its own salt (an invitation token is not a password-reset token and the other
way round), valid `PASSWORD_RESET_TIMEOUT` (72 h), spent as soon as a password is
set (the token hashes the password and the last login).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tenants.models import User


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "perksu.people.InvitationTokenGenerator"


invitation_token_generator = InvitationTokenGenerator()


def invitation_link(user: User, *, base_url: str | None = None) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = invitation_token_generator.make_token(user)
    path = reverse("people:invitation-accept", kwargs={"uidb64": uidb64, "token": token})
    return f"{(base_url or settings.SITE_URL).rstrip('/')}{path}"


def send_invitation(*, user: User, invited_by: User | None, base_url: str | None = None) -> None:
    context = {
        "user": user,
        "tenant": user.tenant,
        "invited_by": invited_by,
        "link": invitation_link(user, base_url=base_url),
        "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
    }
    subject = f"You are invited to {user.tenant.name} on Perksu"
    body = render_to_string("people/emails/invitation.txt", context)
    send_mail(subject, body, None, [user.email])
