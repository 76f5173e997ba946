"""A client who signs up on the studio's site gets their record in the client book.

A new address gets a new record at once; an address the studio already knows is linked to its record only
once the account has confirmed it, or anyone could sign up with a client's email and take their bookings.
"""

import contextlib

from allauth.account.signals import email_confirmed, user_signed_up
from django.dispatch import receiver

from shared_apps.accounts.models import Role
from shared_apps.accounts.signals import client_registered
from tenant_apps.clients.services import EmailNotVerified, client_for_user


def _link(user) -> None:
    if user.role != Role.CLIENT:
        return
    with contextlib.suppress(EmailNotVerified):  # linked when the address is confirmed
        client_for_user(user=user)


@receiver(client_registered)
@receiver(user_signed_up)
def link_client_record(sender, user, **kwargs) -> None:
    _link(user)


@receiver(email_confirmed)
def link_client_record_on_confirmation(sender, request, email_address, **kwargs) -> None:
    _link(email_address.user)
