import secrets
from collections.abc import Iterable
from decimal import Decimal

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction

from shared_apps.accounts.models import Role, User, UserManager
from shared_apps.accounts.services import EMAIL_TAKEN, StaffChange, staff_invite
from shared_apps.core.exceptions import Forbidden, ValidationFailed, full_clean_or_fail
from shared_apps.core.images import image_as_webp
from shared_apps.core.tenancy import current_studio, studio_currency, studio_timezone
from tenant_apps.trainers.models import SessionType, Trainer


@transaction.atomic
def trainer_create(
    *,
    email: str,
    first_name: str,
    last_name: str,
    timezone: str | None = None,
    bio: str = "",
    expertise: list[str] | None = None,
    display_name: str | None = None,
    invited_by: User | None = None,
    request=None,
) -> Trainer:
    """A trainer: their profile, and their account unless they already have one.

    A new address gets an account with the trainer role, invited by mail to choose a password. The address of
    one of the studio's staff who has no profile yet (an owner or a manager who teaches) gets a profile: the
    account keeps its role, names and password, and no mail is sent. A client's address, a deactivated
    account and a trainer who already has a profile are refused."""
    details = {
        "display_name": (display_name or f"{first_name} {last_name}").strip(),
        "bio": bio,
        "expertise": expertise or [],
        "timezone": timezone or studio_timezone(),
    }
    # Checked before the account is made, so that bad details answer with the profile's field errors alone.
    full_clean_or_fail(Trainer(**details), exclude=["user"])
    existing = User.objects.select_for_update().filter(email__iexact=UserManager.normalize_email(email)).first()
    if existing is None:
        user = staff_invite(
            email=email, first_name=first_name, last_name=last_name, role=Role.TRAINER, invited_by=invited_by
        )
    elif not existing.is_studio_staff:
        raise ValidationFailed(fields={"email": [EMAIL_TAKEN]})
    elif not existing.is_active:
        raise ValidationFailed(fields={"email": ["This staff account is deactivated: reactivate it first."]})
    elif Trainer.objects.filter(user=existing).exists():
        raise ValidationFailed(fields={"email": ["This person already has a trainer profile."]})
    else:
        user = existing
    return trainer_profile_ensure(user=user, **details)


@transaction.atomic
def trainer_profile_ensure(
    *,
    user: User,
    display_name: str | None = None,
    timezone: str | None = None,
    bio: str | None = None,
    expertise: list[str] | None = None,
) -> Trainer:
    """The one place a trainer profile is made: ``user``'s profile, created if it has none (named after the
    account, in the studio's timezone), with the details given. It takes bookings exactly when the account is
    active, so this also reactivates the profile of an active account."""
    # The account's row lock: two calls for one account (an invitation and a role change) make one profile.
    user = User.objects.select_for_update().get(pk=user.pk)
    trainer = Trainer.objects.filter(user=user).first()
    if trainer is None:
        trainer = Trainer(
            user=user,
            display_name=user.get_full_name() or user.email.split("@")[0],
            timezone=studio_timezone(),
        )
    details = {"display_name": display_name, "timezone": timezone, "bio": bio, "expertise": expertise}
    for field, value in details.items():
        if value is not None:
            setattr(trainer, field, value)
    trainer.is_active = user.is_active
    full_clean_or_fail(trainer)
    trainer.save()
    return trainer


@transaction.atomic
def trainer_profile_follow_account(*, user: User, change: str) -> None:
    """Keep the trainer profile in step with a change to the account (the staff_changed signal): a deactivated
    account's profile takes no bookings; a trainer always has a profile, bookable while the account is
    active; a reactivated manager's or owner's profile is bookable again. A trainer who becomes a manager
    keeps their profile as it is (a manager may still teach)."""
    # Saved row by row (an account has one profile): the save is what tells the calendar (availability's
    # receivers) that this trainer's times stopped or started being bookable.
    if not user.is_active:
        _set_active(Trainer.objects.filter(user=user, is_active=True), False)
    elif user.role == Role.TRAINER:
        trainer_profile_ensure(user=user)
    elif change == StaffChange.REACTIVATED:
        _set_active(Trainer.objects.filter(user=user, is_active=False), True)


def _set_active(trainers, active: bool) -> None:
    for trainer in trainers.select_for_update():
        trainer.is_active = active
        trainer.save(update_fields=["is_active", "updated"])


_TRAINER_FIELDS = {"display_name", "bio", "expertise", "timezone", "rating", "is_active"}
# What a trainer may change on their own profile (besides the photo); the rest is the studio's to decide.
TRAINER_SELF_EDITABLE = frozenset({"display_name", "bio", "expertise", "timezone"})


class NotYourCalendar(Forbidden):
    message = "You can only manage your own calendar."


class TrainerProfileManagersOnly(Forbidden):
    message = "Only the studio's owner or a manager can change this."


def may_manage_trainer_hours(user: User, trainer: Trainer) -> bool:
    """A trainer's windows and time off: the owner and managers run every trainer's calendar, a trainer their
    own (the API and the desk's hours page both ask this)."""
    return user.is_authenticated and user.is_studio_staff and (user.manages_studio or trainer.user_id == user.pk)


def may_edit_trainer(user: User, trainer: Trainer, *, fields: Iterable[str] = ()) -> bool:
    """Changing ``fields`` of ``trainer``'s profile: the owner and managers any of anyone's; a trainer only
    TRAINER_SELF_EDITABLE ones (and the photo) of their own, since rating and bookability are the studio's."""
    if not (user.is_authenticated and user.is_studio_staff):
        return False
    if user.manages_studio:
        return True
    return trainer.user_id == user.pk and set(fields) <= TRAINER_SELF_EDITABLE


@transaction.atomic
def trainer_update(*, trainer: Trainer, **changes) -> Trainer:
    unknown = set(changes) - _TRAINER_FIELDS
    if unknown:
        raise ValueError(f"not trainer fields: {unknown}")
    if changes.get("is_active") and not trainer.user.is_active:
        raise ValidationFailed(
            fields={"is_active": ["This trainer's account is deactivated: reactivate the account first."]}
        )
    for field, value in changes.items():
        setattr(trainer, field, value)
    full_clean_or_fail(trainer)
    # Only the fields changed: a whole-row save from an object read earlier would write back an old calendar
    # feed token (undoing a revocation made meanwhile).
    trainer.save(update_fields=[*changes, "updated"])
    return trainer


@transaction.atomic
def trainer_deactivate(*, trainer: Trainer) -> Trainer:
    """The trainer stops being bookable; their history, and bookings already made, stay. Their account is not
    touched (an owner or a manager may stop teaching): ending someone's access is
    tenant_apps/bookings/handover.py's staff_deactivate_with_bookings."""
    trainer.is_active = False
    trainer.save(update_fields=["is_active", "updated"])
    return trainer


PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_SIDE = 512  # pixels: the photo is shown small; a phone's 12-megapixel picture would cost every page
# Decoded pixels cost memory whatever the file's size: a small PNG of one colour can hold 10000 x 10000 of them.
PHOTO_MAX_PIXELS = 40_000_000


def _photo_resized(photo: File) -> ContentFile:
    """``photo`` as a WebP at most PHOTO_SIDE pixels a side (shared_apps.core.images)."""
    if photo.size > PHOTO_MAX_BYTES:
        raise ValidationFailed(fields={"photo": [f"The photo is larger than {PHOTO_MAX_BYTES // (1024 * 1024)} MB."]})
    return image_as_webp(photo, side=PHOTO_SIDE, max_pixels=PHOTO_MAX_PIXELS, field="photo")


@transaction.atomic
def trainer_photo_set(*, trainer: Trainer, photo: File) -> Trainer:
    """Store ``photo``, resized, under the studio's media, replacing the trainer's previous one."""
    resized = _photo_resized(photo)
    trainer = Trainer.objects.select_for_update().get(pk=trainer.pk)
    previous = trainer.photo.name
    # A new name every time, so a browser holding the old URL can't show the old photo under it.
    trainer.photo.save(f"trainer-{trainer.pk}-{secrets.token_hex(8)}.webp", resized, save=False)
    trainer.save(update_fields=["photo", "updated"])
    if previous:
        storage = trainer.photo.storage
        transaction.on_commit(lambda: storage.delete(previous))
    return trainer


def trainer_profile_update(*, trainer: Trainer, photo: File | None = None, **changes) -> Trainer:
    """The photo and the details together, or neither: when the details are refused after the new photo was
    stored, the rollback keeps the previous photo and the new file is deleted (no file without its row)."""
    stored = None
    try:
        with transaction.atomic():
            if photo:
                trainer = trainer_photo_set(trainer=trainer, photo=photo)
                stored = trainer.photo.name
            return trainer_update(trainer=trainer, **changes)
    except Exception:
        if stored:
            trainer.photo.storage.delete(stored)
        raise


_SESSION_TYPE_FIELDS = {
    "name", "description", "duration_minutes", "slot_interval_minutes", "price", "currency",
    "buffer_before_minutes", "buffer_after_minutes", "min_notice_minutes", "max_advance_days",
    "cancellation_window_hours", "requires_confirmation", "is_active",
    "late_cancel_forfeits_credit", "no_show_forfeits_credit", "color",
}  # fmt: skip


@transaction.atomic
def session_type_create(*, trainers: list[Trainer] | None = None, **fields) -> SessionType:
    fields.setdefault("currency", studio_currency())
    fields.setdefault("price", Decimal("0"))
    studio = current_studio()
    if studio is not None:
        # The studio's policy, unless this session type has its own.
        fields.setdefault("cancellation_window_hours", studio.default_cancellation_window_hours)
    session_type = SessionType(**fields)
    full_clean_or_fail(session_type)
    session_type.save()
    if trainers is not None:
        session_type.trainers.set(trainers)
    return session_type


@transaction.atomic
def session_type_update(*, session_type: SessionType, trainers: list[Trainer] | None = None, **changes) -> SessionType:
    unknown = set(changes) - _SESSION_TYPE_FIELDS
    if unknown:
        raise ValueError(f"not session type fields: {unknown}")
    for field, value in changes.items():
        setattr(session_type, field, value)
    full_clean_or_fail(session_type)
    session_type.save()
    if trainers is not None:
        session_type.trainers.set(trainers)
    return session_type


@transaction.atomic
def session_type_deactivate(*, session_type: SessionType) -> SessionType:
    session_type.is_active = False
    session_type.save(update_fields=["is_active", "updated"])
    return session_type
