from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import url_str_to_user_pk, user_pk_to_url_str
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, authenticate, password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, TextChoices
from django.urls import reverse
from rest_framework.authtoken.models import Token

from shared_apps.accounts.mfa import (
    MFAEnrollmentRequired,
    MFARequired,
    mfa_code_check,
    mfa_enabled,
    mfa_enrollment_message,
    mfa_required_for,
)
from shared_apps.accounts.models import MANAGING_ROLES, STAFF_ROLES, Role, User, UserManager
from shared_apps.accounts.signals import client_registered, profile_changed, staff_changed
from shared_apps.accounts.throttles import login_attempt_start
from shared_apps.core.exceptions import ApplicationError, Forbidden, ValidationFailed, full_clean_or_fail
from shared_apps.core.mail import send_mail_on_commit
from shared_apps.core.tasks import queue_task_on_commit
from shared_apps.core.tenancy import current_studio, site_url


class InvalidCredentials(ApplicationError):
    code = "invalid_credentials"
    message = "Unable to log in with the email and password provided."


class InvalidResetLink(ApplicationError):
    code = "invalid_token"
    message = "This password reset link is invalid or has expired."


EMAIL_TAKEN = "An account with this email already exists."


def _validate_password(password: str, *, user: User, field: str = "password") -> None:
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as error:
        raise ValidationFailed(fields={field: list(error.messages)}) from error


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None = None,
    role: str = Role.CLIENT,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
) -> User:
    """Create an account in the current schema; without a password the account can only be entered by
    following an invitation or reset link."""
    user = User(
        email=UserManager.normalize_email(email),
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        role=role,
    )
    if User.objects.filter(email__iexact=user.email).exists():
        raise ValidationFailed(fields={"email": [EMAIL_TAKEN]})
    if password:
        _validate_password(password, user=user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    full_clean_or_fail(user, exclude=["password"], validate_constraints=False)
    try:
        # The case-insensitive unique constraint settles two sign-ups racing for one address.
        with transaction.atomic():
            user.save()
    except IntegrityError as error:
        raise ValidationFailed(fields={"email": [EMAIL_TAKEN]}) from error
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    return user


def token_for(user: User) -> Token:
    token, _ = Token.objects.get_or_create(user=user)
    return token


@transaction.atomic
def client_register(*, email: str, password: str, first_name: str, last_name: str, phone: str = "") -> User:
    user = user_create(
        email=email, password=password, first_name=first_name, last_name=last_name, phone=phone, role=Role.CLIENT
    )
    # The client book (another app) links or creates the client's record in this same transaction.
    client_registered.send(sender=User, user=user)
    return user


def email_confirmation_send(*, user: User, request) -> None:
    """Mail the link that proves the account owns its address (allauth's confirmation, in the studio's name)."""
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is not None and not address.verified:
        address.send_confirmation(request, signup=True)


def user_login(*, request, email: str, password: str, code: str = "") -> tuple[User, Token]:
    """Check the password (failures throttled, see throttles.py), then the second factor if the account has
    one. A token is never handed out for the password alone when the account has two-factor authentication,
    nor when it must have it and hasn't set it up (that happens on the web pages): the token would still be
    the account's after the set-up.

    The attempt counts as a failure unless it ends with a token: the password alone does not clear the
    failures nor make the address known to the account."""
    attempt = login_attempt_start(request=request, email=email)
    user = authenticate(request, email=UserManager.normalize_email(email), password=password)
    if user is None:
        raise InvalidCredentials()
    if mfa_enabled(user):
        if not code:
            raise MFARequired(fields={"code": ["Enter the code from your authenticator app."]})
        mfa_code_check(user=user, code=code)
    elif mfa_required_for(user):
        raise MFAEnrollmentRequired(mfa_enrollment_message())
    attempt.succeeded()
    return user, token_for(user)


def user_logout(*, user: User) -> None:
    user_tokens_revoke(user=user)


def user_tokens_revoke(*, user: User) -> None:
    """Whoever holds the account's API token loses it (after a password change or reset, at logout)."""
    Token.objects.filter(user=user).delete()


def _user_sessions_end(*, user: User) -> None:
    """End the account's API tokens and every session opened so far (its hash no longer matches)."""
    user_tokens_revoke(user=user)
    User.objects.filter(pk=user.pk).update(session_revision=F("session_revision") + 1)
    user.refresh_from_db(fields=["session_revision"])


@transaction.atomic
def user_mfa_changed(*, user: User, request=None) -> None:
    """Two-factor authentication was set up or removed: end the account's API tokens and every session opened
    before, except the one that made the change (``request``'s). What was obtained with one set of factors
    must not carry over to the other: a token or session from the password alone would otherwise become as
    good as one from both factors."""
    _user_sessions_end(user=user)
    session = getattr(request, "session", None)
    if session is not None and getattr(request, "user", None) == user:
        # The same as update_session_auth_hash, without its new session key: allauth reports the change once
        # its transaction commits, which may be after the session middleware stored this session and sent its
        # key (a new key would then never reach the browser), hence the explicit save.
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()


@transaction.atomic
def user_update(*, user: User, first_name: str | None = None, last_name: str | None = None, phone=None) -> User:
    """The account's own name and phone. Apps that keep a copy (a studio's client book) follow through
    signals.profile_changed, in this transaction: both change, or neither."""
    changed = set()
    for field, value in (("first_name", first_name), ("last_name", last_name), ("phone", phone)):
        if value is not None:
            before = getattr(user, field)
            setattr(user, field, value)
            if getattr(user, field) != before:  # read back: the phone field turns text into a number
                changed.add(field)
    user.save(update_fields=["first_name", "last_name", "phone", "updated"])
    if changed:
        profile_changed.send(sender=User, user=user, fields=frozenset(changed))
    return user


@transaction.atomic
def password_change(*, user: User, old_password: str, new_password: str) -> Token:
    """Set a new password and rotate the API token, so a stolen token dies with the old password."""
    if not user.check_password(old_password):
        raise ValidationFailed(fields={"old_password": ["The current password is not correct."]})
    _validate_password(new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password", "updated"])
    user_tokens_revoke(user=user)
    return Token.objects.create(user=user)


def _set_password_link(*, user: User) -> str:
    """The web page that sets a new password, on the account's own host: the studio's primary domain (or the
    platform's), never the host a request came in by. Reversed in the URLconf of the schema's host, which
    is not the one active while the platform onboards a studio."""
    urlconf = settings.ROOT_URLCONF if current_studio() is not None else settings.PUBLIC_SCHEMA_URLCONF
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
        urlconf=urlconf,
    )
    return site_url(path)


def password_reset_request(*, email: str) -> None:
    """Queue the reset mail; say nothing either way (no enumeration).

    Looking the account up and rendering the mail happen in Celery, so the answer takes as long whether or
    not the account exists.
    """
    from shared_apps.accounts.tasks import password_reset_mail_send

    queue_task_on_commit(password_reset_mail_send, email=email)


def password_reset_mail_send(*, email: str) -> None:
    """Mail a reset link when the address has an active account in the current schema."""
    user = User.objects.filter(email__iexact=UserManager.normalize_email(email), is_active=True).first()
    if user is None:
        return
    link = _set_password_link(user=user)
    send_mail_on_commit(template="password_reset", to=user.email, context={"user": user, "link": link})


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    try:
        user = User.objects.select_for_update().get(pk=url_str_to_user_pk(uid), is_active=True)
    except (User.DoesNotExist, ValueError, TypeError, OverflowError) as error:
        raise InvalidResetLink() from error
    if not default_token_generator.check_token(user, token):
        raise InvalidResetLink()
    _validate_password(new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password", "updated"])
    user_tokens_revoke(user=user)
    EmailAddress.objects.filter(user=user, email__iexact=user.email).update(verified=True)
    return user


class StaffChange(TextChoices):
    """What happened to a staff account (the ``change`` of the staff_changed signal)."""

    INVITED = "invited", "Invited"
    ROLE_CHANGED = "role_changed", "Role changed"
    DEACTIVATED = "deactivated", "Deactivated"
    REACTIVATED = "reactivated", "Reactivated"


def _invitation_send(*, user: User, invited_by: User | None) -> None:
    """The invitation mail, with a fresh link to choose a password, once the transaction commits."""
    context = {
        "user": user,
        "link": _set_password_link(user=user),
        "invited_by": invited_by,
        "role": user.get_role_display(),
    }
    send_mail_on_commit(template="invitation", to=user.email, context=context)


@transaction.atomic
def staff_invite(*, email: str, first_name: str, last_name: str, role: str, invited_by: User | None = None) -> User:
    """Create a staff account without a password and mail its holder a link to choose one (on the studio's
    primary domain, never the host a request came in by)."""
    if role not in (Role.OWNER, Role.MANAGER, Role.TRAINER):
        raise ValidationFailed(fields={"role": ["Staff accounts are owners, managers or trainers."]})
    user = user_create(email=email, first_name=first_name, last_name=last_name, role=role)
    _invitation_send(user=user, invited_by=invited_by)
    # A trainer gets their trainer profile in this same transaction (tenant_apps/trainers/receivers.py).
    staff_changed.send(sender=User, user=user, change=StaffChange.INVITED)
    return user


# -- the staff's lifecycle ---------------------------------------------------------------------------------------
#
# Who may do what to a staff account (nobody to themselves, nobody to an owner):
#   deactivate, reactivate:  the owner: managers and trainers; a manager: trainers.
#   change the role:         the owner only, between manager and trainer.
# Deactivating keeps everything (the account, the trainer profile, bookings, history): the account can no
# longer log in, its API tokens are deleted and its sessions ended for good. A trainer's future bookings are
# handed over by tenant_apps/bookings/handover.py, which calls staff_deactivate last.


# What a managing role may do to each role, besides changing roles (the owner's alone).
_MANAGES = {Role.OWNER: {Role.MANAGER, Role.TRAINER}, Role.MANAGER: {Role.TRAINER}}


def staff_manage_check(*, actor: User, user: User, action: str) -> None:
    """Raise Forbidden unless ``actor`` may deactivate or reactivate ``user`` (``action`` names it in the
    message). Views call it before anything that would reveal more about ``user`` (a deactivation preview)."""
    if user.pk == actor.pk:
        raise Forbidden(f"You can't {action} your own account.")
    if user.role == Role.OWNER:
        raise Forbidden(f"Nobody can {action} the owner's account.")
    if user.role not in _MANAGES.get(actor.role, set()):
        raise Forbidden(f"Only the studio's owner can {action} a {user.get_role_display().lower()}'s account.")


def _lock_staff(user: User) -> User:
    # Two owners' or managers' changes to one account are applied one after the other, each on fresh values.
    try:
        return User.objects.select_for_update().get(pk=user.pk, role__in=STAFF_ROLES)
    except User.DoesNotExist as error:
        raise ValidationFailed("This account is not one of the studio's staff.") from error


@transaction.atomic
def staff_deactivate(*, user: User, actor: User) -> User:
    """The account can no longer log in (API or web pages); its tokens and sessions end, for good. Nothing is
    deleted. Deactivating an account already inactive changes nothing (and is not an error)."""
    user = _lock_staff(user)
    staff_manage_check(actor=actor, user=user, action="deactivate")
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active", "updated"])
    # Even when already inactive: a token made by hand in the meantime dies too.
    _user_sessions_end(user=user)
    staff_changed.send(sender=User, user=user, change=StaffChange.DEACTIVATED)
    return user


@transaction.atomic
def staff_reactivate(*, user: User, actor: User) -> User:
    """The account can log in again with its password (no token or session from before comes back); a trainer
    profile becomes bookable again."""
    user = _lock_staff(user)
    staff_manage_check(actor=actor, user=user, action="reactivate")
    user.is_active = True
    user.save(update_fields=["is_active", "updated"])
    staff_changed.send(sender=User, user=user, change=StaffChange.REACTIVATED)
    return user


STAFF_ROLE_CHOICES = (Role.MANAGER, Role.TRAINER)


@transaction.atomic
def staff_role_change(*, user: User, actor: User, role: str) -> User:
    """The owner makes a manager a trainer, or a trainer a manager.

    Becoming a trainer gives the account a bookable trainer profile (a new one, or its old one again).
    A trainer who becomes a manager keeps their profile, calendar and bookings, and stays bookable: a manager
    may still teach (DELETE /api/trainers/{id}/ stops their bookings). The new role counts from the next
    request: permissions are read from the account on every request."""
    if actor.role != Role.OWNER:
        raise Forbidden("Only the studio's owner can change a role.")
    if role not in STAFF_ROLE_CHOICES:
        raise ValidationFailed(fields={"role": ["A staff member is a manager or a trainer."]})
    user = _lock_staff(user)
    staff_manage_check(actor=actor, user=user, action="change the role of")
    if user.role != role:
        user.role = role
        user.save(update_fields=["role", "updated"])
        staff_changed.send(sender=User, user=user, change=StaffChange.ROLE_CHANGED)
    return user


class OwnMFAMissing(ApplicationError):
    code = "mfa_not_enabled"
    message = "Set up two-factor authentication for your own account first, or you would be locked out."


@transaction.atomic
def studio_staff_mfa_set(*, owner: User, required: bool) -> bool:
    """The owner requires (or stops requiring) two-factor authentication of the studio's staff."""
    studio = current_studio()
    if studio is None:
        raise RuntimeError("studio_staff_mfa_set needs a studio's schema to be active")
    if required and not mfa_enabled(owner):
        raise OwnMFAMissing()
    studio.staff_mfa_required = required
    # The host cache drops the studio on save (tenants.signals), so the next request sees the new rule.
    studio.save(update_fields=["staff_mfa_required", "updated"])
    return studio.staff_mfa_required


# -- invitations sent again ----------------------------------------------------------------------------------------


class InvitationNotPending(ApplicationError):
    code = "invitation_not_pending"
    message = "This person has already chosen a password: there is no invitation to send again."


def staff_invitation_pending(user: User) -> bool:
    """Whether the account is still an open invitation: active, never signed in, no password chosen."""
    return user.is_active and user.last_login is None and not user.has_usable_password()


def staff_invitation_check(*, actor: User, user: User) -> None:
    """Raise unless ``actor`` may send ``user``'s invitation again: whoever may invite (the owner and managers),
    to a manager or trainer whose invitation is still open."""
    if actor.role not in MANAGING_ROLES:
        raise Forbidden("Only the studio's owner and managers can send an invitation.")
    if user.role not in STAFF_ROLE_CHOICES:
        raise Forbidden("Invitations are sent to managers and trainers only.")
    if not user.is_active:
        raise ValidationFailed("This account is deactivated: reactivate it before sending its invitation again.")
    if not staff_invitation_pending(user):
        raise InvitationNotPending()


# An invitation goes again at most this often to one account: a slip of the finger doesn't flood an inbox.
INVITATION_RESEND_SECONDS = 5 * 60


class InvitationSentRecently(ApplicationError):
    status_code = 429
    code = "invitation_sent_recently"
    message = "The invitation was sent a few minutes ago: give it time to arrive, then try again."


@transaction.atomic
def staff_invitation_resend(*, user: User, actor: User) -> User:
    """Mail the invitation again with a fresh link to choose a password (a lost or expired mail), at most once in
    INVITATION_RESEND_SECONDS per account. The link of the first mail keeps working until it expires: both are for
    the same account, and the first password chosen ends them all."""
    user = _lock_staff(user)
    staff_invitation_check(actor=actor, user=user)
    # The cache's keys carry the studio's schema; a user id names one account there.
    if not cache.add(f"accounts:invitation-resent:{user.pk}", True, INVITATION_RESEND_SECONDS):
        raise InvitationSentRecently()
    _invitation_send(user=user, invited_by=actor)
    return user
