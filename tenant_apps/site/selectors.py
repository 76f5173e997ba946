"""What the booking site's pages show: read through the apps' own public selectors, in a fixed number of
queries however many trainers, session types and packages the studio has."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import Prefetch
from django.utils import timezone

from tenant_apps.availability.models import AvailabilitySlot
from tenant_apps.packages.models import SessionPackage
from tenant_apps.packages.selectors import package_list
from tenant_apps.site import hours
from tenant_apps.trainers.models import SessionType, Trainer
from tenant_apps.trainers.selectors import session_type_list, trainer_list
from tenants.models import Studio


@dataclass(frozen=True)
class CancellationRule:
    hours: int
    late_cancel_forfeits_credit: bool
    session_types: tuple[str, ...]


@dataclass
class StudioHome:
    trainers: list[Trainer]
    session_types: list[SessionType]
    packages: list[SessionPackage]
    opening_hours: list[hours.DayHours]
    zone_name: str
    zone_abbreviation: str
    cancellation_rules: list[CancellationRule]

    @property
    def is_open_any_day(self) -> bool:
        return any(day.is_open for day in self.opening_hours)


def _week_start(today: date) -> date:
    return date.fromordinal(today.toordinal() - today.weekday())


def studio_home(*, studio: Studio, now: datetime | None = None) -> StudioHome:
    """The home page's content, as anyone (signed in or not) may see it: active trainers with the active
    session types they teach, active session types with their active trainers, packages on sale."""
    # The public view, whoever asks: an owner looking at the site sees what clients see.
    active_types = SessionType.objects.filter(is_active=True)
    active_trainers = Trainer.objects.filter(is_active=True)
    trainers = list(
        trainer_list(user=None)
        .prefetch_related(None)
        .prefetch_related(Prefetch("session_types", queryset=active_types, to_attr="teaches"))
    )
    for trainer in trainers:
        trainer.initials = "".join(word[0] for word in trainer.display_name.split()[:2]).upper()
    session_types = list(
        session_type_list(user=None)
        .prefetch_related(None)
        .prefetch_related(Prefetch("trainers", queryset=active_trainers, to_attr="taught_by"))
    )
    packages = list(
        package_list(user=None).prefetch_related(None).prefetch_related(Prefetch("session_types", to_attr="names"))
    )
    for package in packages:
        # A package that names no session type pays for any; one that names only retired types, for none.
        package.pays_for_any = not package.names
        package.pays_for = [session_type for session_type in package.names if session_type.is_active]
    windows = AvailabilitySlot.objects.filter(is_recurring=True, is_active=True, trainer__is_active=True).values_list(
        "day_of_week", "start_time", "end_time", "trainer__timezone"
    )
    moment = (now or timezone.now()).astimezone(ZoneInfo(studio.timezone))
    today = moment.date()
    opening = hours.opening_hours(
        (hours.WeeklyWindow(*window) for window in windows),
        studio_zone=studio.timezone,
        week_start=_week_start(today),
    )
    return StudioHome(
        trainers=trainers,
        session_types=session_types,
        packages=packages,
        opening_hours=opening,
        zone_name=studio.timezone,
        zone_abbreviation=moment.tzname() or "",
        cancellation_rules=_cancellation_rules(session_types),
    )


def _cancellation_rules(session_types: list[SessionType]) -> list[CancellationRule]:
    """The session types grouped by what a cancellation costs: the window, and whether a late one keeps the
    credit. Longest window first."""
    groups: dict[tuple[int, bool], list[str]] = {}
    for session_type in session_types:
        key = (session_type.cancellation_window_hours, session_type.late_cancel_forfeits_credit)
        groups.setdefault(key, []).append(session_type.name)
    return [
        CancellationRule(hours=window, late_cancel_forfeits_credit=forfeits, session_types=tuple(names))
        for (window, forfeits), names in sorted(groups.items(), reverse=True)
    ]
