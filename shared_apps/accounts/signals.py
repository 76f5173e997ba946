"""A password changed or reset on the web pages (allauth) ends the account's API token, as the API does."""

from allauth.account.signals import password_changed, password_reset, password_set
from django.dispatch import receiver

from shared_apps.accounts.services import user_tokens_revoke


@receiver(password_changed)
@receiver(password_set)
@receiver(password_reset)
def revoke_tokens_after_password_change(sender, request, user, **kwargs) -> None:
    user_tokens_revoke(user=user)
