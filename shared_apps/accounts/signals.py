"""A password changed or reset on the web pages (allauth) ends the account's API token, as the API does; a
second factor set up or removed there ends the API token and the account's other sessions."""

from allauth.account.signals import password_changed, password_reset, password_set
from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.dispatch import Signal, receiver

# Sent when a client account is created through the API, with ``user``; apps that keep data about clients
# (the client book) listen, since accounts may not depend on them. allauth's web sign-up sends user_signed_up.
client_registered = Signal()
# Sent when a staff account is invited, changes role, is deactivated or reactivated, with ``user`` and ``change``
# (one of services.StaffChange): the trainers app keeps the trainer profile in step with the account (a trainer
# has one; it takes bookings only while the account is active), since accounts may not depend on it.
staff_changed = Signal()
# Sent by services.user_update when an account's own name or phone changed, with ``user`` and ``fields`` (a frozenset
# of the changed field names), inside user_update's transaction: a receiver's write (the studio's client record
# follows its client's account) commits or rolls back with the account's, and it runs on the request's schema,
# which on-commit callbacks of a caller's outer transaction would not promise.
profile_changed = Signal()


def _revoke(user) -> None:
    # Imported here: the services module imports this one for client_registered.
    from shared_apps.accounts.services import user_tokens_revoke

    user_tokens_revoke(user=user)


@receiver(password_changed)
@receiver(password_set)
@receiver(password_reset)
def revoke_tokens_after_password_change(sender, request, user, **kwargs) -> None:
    _revoke(user)


@receiver(authenticator_added)
@receiver(authenticator_removed)
def end_sessions_after_mfa_change(sender, request, user, authenticator, **kwargs) -> None:
    from shared_apps.accounts.services import user_mfa_changed

    user_mfa_changed(user=user, request=request)


@receiver(password_reset)
def remember_address_after_password_reset(sender, request, user, **kwargs) -> None:
    # Whoever completed the reset holds the mailbox: strangers' failed logins no longer hold this address back.
    from shared_apps.accounts.throttles import login_address_remember_for

    login_address_remember_for(request=request, email=user.email)
