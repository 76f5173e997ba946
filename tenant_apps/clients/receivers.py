"""A client who signs up on the studio's site gets their record in the client book, matched by email."""

from allauth.account.signals import user_signed_up
from django.dispatch import receiver

from shared_apps.accounts.models import Role
from shared_apps.accounts.signals import client_registered
from tenant_apps.clients.services import client_for_user


@receiver(client_registered)
@receiver(user_signed_up)
def link_client_record(sender, user, **kwargs) -> None:
    if user.role == Role.CLIENT:
        client_for_user(user=user)
