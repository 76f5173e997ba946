from django.db.models import QuerySet

from shared_apps.accounts.models import User
from tenant_apps.trainers.models import SessionType, Trainer


def trainer_list(*, user: User | None) -> QuerySet[Trainer]:
    """Everyone sees active trainers; the studio's owner and managers also see deactivated ones."""
    trainers = Trainer.objects.select_related("user").prefetch_related("session_types")
    if user is None or not user.is_authenticated or not user.manages_studio:
        trainers = trainers.filter(is_active=True)
    return trainers


def calendar_trainers(*, user: User) -> QuerySet[Trainer]:
    """The active trainers whose calendars ``user`` sees: every one for owners and managers, a trainer's own
    (the scope of the availability and booking selectors)."""
    trainers = trainer_list(user=user).filter(is_active=True).prefetch_related(None)
    return trainers if user.manages_studio else trainers.filter(user=user)


def session_type_list(*, user: User | None) -> QuerySet[SessionType]:
    session_types = SessionType.objects.prefetch_related("trainers")
    if user is None or not user.is_authenticated or not user.manages_studio:
        session_types = session_types.filter(is_active=True)
    return session_types
