from decimal import Decimal

from django.db import transaction

from shared_apps.accounts.models import Role, User
from shared_apps.accounts.services import staff_invite
from shared_apps.core.exceptions import full_clean_or_fail
from shared_apps.core.tenancy import studio_currency, studio_timezone
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
    """A trainer and their account (role trainer), invited by mail to choose a password."""
    trainer = Trainer(
        display_name=(display_name or f"{first_name} {last_name}").strip(),
        bio=bio,
        expertise=expertise or [],
        timezone=timezone or studio_timezone(),
    )
    full_clean_or_fail(trainer, exclude=["user"])
    user = staff_invite(
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=Role.TRAINER,
        invited_by=invited_by,
    )
    trainer.user = user
    trainer.save()
    return trainer


_TRAINER_FIELDS = {"display_name", "bio", "expertise", "timezone", "rating", "is_active"}


@transaction.atomic
def trainer_update(*, trainer: Trainer, **changes) -> Trainer:
    unknown = set(changes) - _TRAINER_FIELDS
    if unknown:
        raise ValueError(f"not trainer fields: {unknown}")
    for field, value in changes.items():
        setattr(trainer, field, value)
    full_clean_or_fail(trainer)
    trainer.save()
    return trainer


@transaction.atomic
def trainer_deactivate(*, trainer: Trainer) -> Trainer:
    """The trainer stops being bookable; their history, and bookings already made, stay."""
    trainer.is_active = False
    trainer.save(update_fields=["is_active", "updated"])
    return trainer


_SESSION_TYPE_FIELDS = {
    "name", "description", "duration_minutes", "slot_interval_minutes", "price", "currency",
    "buffer_before_minutes", "buffer_after_minutes", "min_notice_minutes", "max_advance_days",
    "cancellation_window_hours", "requires_confirmation", "is_active",
}  # fmt: skip


@transaction.atomic
def session_type_create(*, trainers: list[Trainer] | None = None, **fields) -> SessionType:
    fields.setdefault("currency", studio_currency())
    fields.setdefault("price", Decimal("0"))
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
