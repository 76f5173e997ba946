"""A client who signs up on the studio's site gets their record in the client book.

A new address gets a new record at once; an address the studio already knows is linked to its record only
once the account has confirmed it, or anyone could sign up with a client's email and take their bookings.

A client who changes their name or phone on the account (My account, PATCH /api/users/me/) changes them on
their record too, so staff don't see a stale name: accounts announces it (profile_changed), since it may not
depend on this app.
"""

import contextlib

from allauth.account.signals import email_confirmed, user_signed_up
from django.db import transaction
from django.dispatch import receiver

from shared_apps.accounts.models import Role
from shared_apps.accounts.signals import client_registered, profile_changed
from shared_apps.core.tenancy import current_studio
from tenant_apps.clients.models import Client
from tenant_apps.clients.services import EmailNotVerified, client_for_user, client_update

FOLLOWS_ACCOUNT = {"first_name", "last_name", "phone"}


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


@receiver(profile_changed)
@transaction.atomic
def client_record_follow_account(sender, user, fields, **kwargs) -> None:
    # Users live per schema: the account is this studio's, and so is the only record it can be linked to. On
    # the platform (public schema) there is no client book.
    if current_studio() is None:
        return
    # Locked: client_update saves the whole row, so it must not be read before a staff edit or an erasure
    # commits and then written back over it (an erasure's "Erased" record would get its name back).
    client = Client.objects.select_for_update().filter(user=user, erased_at__isnull=True).first()
    if client is None:
        return
    changes = {field: getattr(user, field) for field in fields & FOLLOWS_ACCOUNT}
    if changes.get("first_name") == "":
        # An account may have no first name; a record in the book must keep the one it has.
        del changes["first_name"]
    if changes:
        client_update(client=client, **changes)
