"""A staff account's trainer profile follows the account: accounts announces each change (staff_changed), since
it may not depend on this app, and the profile is kept in step in the same transaction."""

from django.dispatch import receiver

from shared_apps.accounts.signals import staff_changed
from tenant_apps.trainers.services import trainer_profile_follow_account


@receiver(staff_changed)
def keep_trainer_profile_in_step(sender, user, change, **kwargs) -> None:
    trainer_profile_follow_account(user=user, change=change)
