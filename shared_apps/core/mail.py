"""Mails to people, rendered in the studio's theme and signed with the studio's name (white-label)."""

from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.template.loader import render_to_string

from tenants.models import Studio


def sender_name() -> str:
    tenant = connection.tenant
    return tenant.name if isinstance(tenant, Studio) else settings.PLATFORM_NAME


def send_mail_on_commit(*, template: str, to: str, context: dict) -> None:
    """Render now, in the current studio's schema and theme; send once the transaction has committed."""
    tenant = connection.tenant
    context = {
        "studio": tenant if isinstance(tenant, Studio) else None,
        "sender_name": sender_name(),
        **context,
    }
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    body = render_to_string(f"emails/{template}.txt", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=formataddr((sender_name(), settings.DEFAULT_FROM_EMAIL)),
        to=[to],
    )
    transaction.on_commit(message.send)
