"""The demo studio of `make run`: a living studio (trainers with weekly hours, session types, packages, a client
with credits and bookings over the next weeks, and sessions today for the desk), made through the same services
as the API so every rule holds.

Idempotent: each part is made only when it is missing (found by its email or name), so a second run changes
nothing, and a part someone deleted comes back. Today's sessions are a part of each day: a run on a new day adds
that day's, and the days before stay as history.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from shared_apps.accounts.models import User
from shared_apps.accounts.services import client_register
from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.tenancy import studio_date
from tenant_apps.availability.selectors import (
    available_slots,
    available_slots_on_studio_days,
    offering_trainers,
    studio_day_bounds,
)
from tenant_apps.availability.services import availability_create
from tenant_apps.bookings.models import Booking
from tenant_apps.bookings.services import booking_create
from tenant_apps.clients.models import Client
from tenant_apps.clients.services import client_create, client_for_user
from tenant_apps.packages.models import PaymentMethod, SessionPackage
from tenant_apps.packages.selectors import usable_client_packages
from tenant_apps.packages.services import package_assign, package_create
from tenant_apps.trainers.models import SessionType, Trainer
from tenant_apps.trainers.services import session_type_create, trainer_create
from tenants.models import Studio
from tenants.services import studio_create, studio_update

DEMO_SLUG = "demo"
OWNER_EMAIL = "owner@demo.localhost"
CLIENT_EMAIL = "client@demo.localhost"
ADMIN_EMAIL = "admin@localhost"
DEMO_PASSWORD = "trainerhub-demo"  # noqa: S105 - a published demo login, for local use only

STUDIO_DETAILS = {
    "address": "12 Canal Street\nLondon E1 6AA",
    "contact_email": "hello@demo.localhost",
    "contact_phone": "+442071234567",
    "cancellation_policy": (
        "Plans change: cancel or move a session from the link in your confirmation mail, or call us. "
        "Running late? We keep your session for you, but it still ends on time."
    ),
}

MON, TUE, WED, THU, FRI, SAT = range(6)


@dataclass
class DemoTrainer:
    email: str
    first_name: str
    last_name: str
    timezone: str
    bio: str
    expertise: list[str]
    # (weekdays, start, end) in the trainer's own zone
    hours: list[tuple[tuple[int, ...], time, time]] = field(default_factory=list)


TRAINERS = [
    DemoTrainer(
        "sam@demo.localhost",
        "Sam",
        "Taylor",
        "Europe/London",
        "Strength coach for ten years; loves a first pull-up as much as a personal best.",
        ["Strength", "Kettlebells", "Mobility"],
        [((MON, WED, FRI), time(7), time(12)), ((MON, WED, FRI), time(13), time(18))],
    ),
    DemoTrainer(
        "priya@demo.localhost",
        "Priya",
        "Shah",
        "Europe/London",
        "Physiotherapist turned trainer: rehab, posture and getting back to running.",
        ["Rehabilitation", "Running", "Pilates"],
        [((TUE, THU), time(9), time(17)), ((SAT,), time(9), time(13))],
    ),
    DemoTrainer(
        "jordan@demo.localhost",
        "Jordan",
        "Lee",
        "America/New_York",
        "Coaches online from New York: nutrition, habits and home workouts.",
        ["Nutrition", "Online coaching", "HIIT"],
        [((MON, TUE, WED, THU), time(7), time(11))],
    ),
]

# name -> (fields, emails of the trainers who teach it)
SESSION_TYPES = {
    "Personal training": (
        {
            "description": "One to one, an hour, built around your goals.",
            "duration_minutes": 60,
            "price": Decimal("55.00"),
            "color": "#2563eb",
        },
        ["sam@demo.localhost", "priya@demo.localhost", "jordan@demo.localhost"],
    ),
    "Movement assessment": (
        {
            "description": "Posture, mobility and strength tests, with a plan to take home.",
            "duration_minutes": 45,
            "price": Decimal("40.00"),
            "buffer_before_minutes": 15,
            "buffer_after_minutes": 15,
            "slot_interval_minutes": 30,
            "color": "#15803d",
        },
        ["sam@demo.localhost", "priya@demo.localhost"],
    ),
    "Online coaching call": (
        {
            "description": "Thirty minutes on video: check-in, plan and questions.",
            "duration_minutes": 30,
            "price": Decimal("25.00"),
            "cancellation_window_hours": 4,
            "late_cancel_forfeits_credit": False,
            "color": "#9333ea",
        },
        ["jordan@demo.localhost"],
    ),
}

# name -> (fields, names of the session types it pays for; none: any)
PACKAGES = {
    "Five personal training sessions": (
        {
            "description": "Five hours one to one, to use within three months.",
            "sessions_count": 5,
            "price": Decimal("250.00"),
            "validity_days": 90,
        },
        ["Personal training"],
    ),
    "Ten session pass": (
        {
            "description": "Ten sessions of any kind, to use within six months.",
            "sessions_count": 10,
            "price": Decimal("450.00"),
            "validity_days": 180,
        },
        [],
    ),
}

# Clients without a login (the studio's own book), and the demo client with one.
OTHER_CLIENTS = [
    ("marcus@demo.localhost", "Marcus", "Brown", ""),
    ("aisha@demo.localhost", "Aisha", "Khan", ""),
    ("tom@demo.localhost", "Tom", "Walker", "+442079460101"),
    ("grace@demo.localhost", "Grace", "Okafor", "+442079460102"),
    ("ravi@demo.localhost", "Ravi", "Patel", "+442079460103"),
]
CLIENT_NAME = ("Lena", "Fischer")

# Today's sessions at the desk, each with another trainer where the day's roster allows: (client email, session
# type, started, paid by credit). Started: it began within the last hour and is still unpaid, so the desk can
# check the client in and take the payment; the others come later today. Not Lena: her bookings and credits are
# the README's.
DAY_SESSIONS = [
    ("tom@demo.localhost", "Personal training", True, False),
    ("grace@demo.localhost", "Personal training", False, True),
    ("ravi@demo.localhost", "Movement assessment", False, False),
]
DAY_PACKAGE = "Five personal training sessions"

# (client email, session type, trainer email, weeks ahead, weekday): booked at the trainer's first free slot.
BOOKINGS = [
    (CLIENT_EMAIL, "Personal training", "sam@demo.localhost", 0, WED),
    (CLIENT_EMAIL, "Movement assessment", "priya@demo.localhost", 1, TUE),
    (CLIENT_EMAIL, "Online coaching call", "jordan@demo.localhost", 2, MON),
    ("marcus@demo.localhost", "Personal training", "sam@demo.localhost", 1, FRI),
    ("marcus@demo.localhost", "Personal training", "priya@demo.localhost", 2, THU),
    ("aisha@demo.localhost", "Online coaching call", "jordan@demo.localhost", 1, WED),
    ("aisha@demo.localhost", "Personal training", "priya@demo.localhost", 3, SAT),
]


def _demo_studio() -> Studio:
    with schema_context("public"):
        if not User.objects.filter(email=ADMIN_EMAIL).exists():
            User.objects.create_superuser(ADMIN_EMAIL, DEMO_PASSWORD, first_name="Platform", last_name="Admin")
        studio = Studio.objects.filter(slug=DEMO_SLUG).first()
        if studio is None:
            studio = studio_create(
                name="Demo Fitness Studio",
                slug=DEMO_SLUG,
                owner_email=OWNER_EMAIL,
                owner_password=DEMO_PASSWORD,
                owner_first_name="Dana",
                owner_last_name="Owner",
                timezone="Europe/London",
                currency="GBP",
            )
        # Only what is still empty: an owner's own changes on the demo stay.
        missing = {name: value for name, value in STUDIO_DETAILS.items() if not getattr(studio, name)}
        if missing:
            studio = studio_update(studio=studio, **missing).studio
    return studio


def _trainers() -> dict[str, Trainer]:
    trainers = {trainer.user.email: trainer for trainer in Trainer.objects.select_related("user")}
    for demo in TRAINERS:
        if demo.email in trainers:
            continue
        trainer = trainer_create(
            email=demo.email,
            first_name=demo.first_name,
            last_name=demo.last_name,
            timezone=demo.timezone,
            bio=demo.bio,
            expertise=demo.expertise,
        )
        for days, start, end in demo.hours:
            for day in days:
                availability_create(trainer=trainer, day_of_week=day, start_time=start, end_time=end)
        trainers[demo.email] = trainer
    return trainers


def _session_types(trainers: dict[str, Trainer]) -> dict[str, SessionType]:
    session_types = {session_type.name: session_type for session_type in SessionType.objects.all()}
    for name, (fields, emails) in SESSION_TYPES.items():
        if name not in session_types:
            session_types[name] = session_type_create(
                name=name, trainers=[trainers[email] for email in emails], **fields
            )
    return session_types


def _packages(session_types: dict[str, SessionType]) -> dict[str, SessionPackage]:
    packages = {package.name: package for package in SessionPackage.objects.all()}
    for name, (fields, type_names) in PACKAGES.items():
        if name not in packages:
            packages[name] = package_create(
                name=name, session_types=[session_types[type_name] for type_name in type_names], **fields
            )
    return packages


def _clients(packages: dict[str, SessionPackage]) -> dict[str, Client]:
    clients = {client.email: client for client in Client.objects.all()}
    user = User.objects.filter(email=CLIENT_EMAIL).first()
    if user is None:
        user = client_register(
            email=CLIENT_EMAIL, password=DEMO_PASSWORD, first_name=CLIENT_NAME[0], last_name=CLIENT_NAME[1]
        )
        # The demo client's credits: the pass bought at the desk a week ago.
        package_assign(
            package=packages["Ten session pass"],
            client=client_for_user(user=user),
            payment_method=PaymentMethod.CARD,
            amount_paid=packages["Ten session pass"].price,
            purchased_at=timezone.now() - timedelta(days=7),
        )
    clients[CLIENT_EMAIL] = client_for_user(user=user)
    for email, first_name, last_name, phone in OTHER_CLIENTS:
        if email not in clients:
            clients[email] = client_create(email=email, first_name=first_name, last_name=last_name, phone=phone)
    return clients


def _first_free_slot(trainer: Trainer, session_type: SessionType, weeks_ahead: int, weekday: int):
    """The trainer's first free start on ``weekday`` of the week ``weeks_ahead`` from now (the next one from
    tomorrow when that day has passed)."""
    today = timezone.localdate()
    day = today + timedelta(days=7 * weeks_ahead + (weekday - today.weekday()) % 7)
    if day <= today:
        day += timedelta(days=7)
    for offset in range(0, 14, 7):
        starts = available_slots(
            trainer=trainer,
            session_type=session_type,
            first_day=day + timedelta(offset),
            last_day=day + timedelta(offset),
        )
        if starts:
            # Mid-window rather than at opening time: the calendar looks lived in.
            return starts[len(starts) // 3]
    return None


def _bookings(trainers, session_types, clients) -> int:
    """The bookings over the next weeks, made once: a studio whose demo clients have bookings is left alone."""
    if Booking.objects.filter(client__email__in=[row[0] for row in BOOKINGS]).exists():
        return 0
    made = 0
    for email, type_name, trainer_email, weeks_ahead, weekday in BOOKINGS:
        trainer, session_type = trainers[trainer_email], session_types[type_name]
        start = _first_free_slot(trainer, session_type, weeks_ahead, weekday)
        if start is None:
            continue
        try:
            booking_create(trainer=trainer, client=clients[email], session_type=session_type, start_time=start)
        except ApplicationError:
            continue  # a slot the rules refuse (taken, no credit...) is simply not booked in the demo
        made += 1
    return made


def _walk_in_start(now: datetime, day_start: datetime) -> datetime | None:
    """A quarter hour 20 to 35 minutes before ``now`` (today's midnight at the earliest): a session under way."""
    start = (now - timedelta(minutes=20)).replace(second=0, microsecond=0)
    start = max(start - timedelta(minutes=start.minute % 15), day_start)
    return start if start < now else None


def _day_session(
    *,
    trainer: Trainer,
    client: Client,
    session_type: SessionType,
    started: bool,
    package: SessionPackage | None,
    owner: User | None,
    now: datetime,
) -> Booking | None:
    """One of today's sessions with ``trainer`` at a free slot of their windows, or None when they have none.
    A started one is booked as of a moment before it began, so the rules hold as they did then; when no window
    had it start within the last hour, the owner enters it off the grid, as a walk-in. ``package``: the session
    is paid by a credit, of this package bought at the desk when the client has none left."""
    today = studio_date(now)
    day_start, _ = studio_day_bounds(today, today)
    if started:
        # Booked the evening before: every start of the day was still ahead then, and past its notice.
        booked_at = day_start - timedelta(minutes=session_type.min_notice_minutes + 60)
        day_starts = available_slots_on_studio_days(
            trainer=trainer, session_type=session_type, first_day=today, last_day=today, now=booked_at
        )
        if not day_starts:
            return None  # not the trainer's day
        under_way = [start for start in day_starts if now - timedelta(hours=1) <= start < now]
        if under_way:
            start, off_grid, created_by = under_way[-1], False, None
        else:
            start, off_grid, created_by = _walk_in_start(now, day_start), True, owner
            if start is None:
                return None
            booked_at = start - timedelta(minutes=5)
    else:
        starts = available_slots_on_studio_days(
            trainer=trainer, session_type=session_type, first_day=today, last_day=today, now=now
        )
        if not starts:
            return None
        start, off_grid, created_by, booked_at = starts[len(starts) // 3], False, None, now
    try:
        # A refused booking takes the pack bought for it back with it.
        with transaction.atomic():
            if package is not None and not usable_client_packages(
                client=client, session_type=session_type, on_date=today
            ):
                package_assign(
                    package=package,
                    client=client,
                    payment_method=PaymentMethod.CARD,
                    amount_paid=package.price,
                    purchased_at=booked_at,
                    sold_by=owner,
                    now=booked_at,
                )
            return booking_create(
                trainer=trainer,
                client=client,
                session_type=session_type,
                start_time=start,
                created_by=created_by,
                off_grid=off_grid,
                now=booked_at,
                pay_with_credit=package is not None,
            )
    except ApplicationError:
        return None  # a time the rules refuse (the trainer is busy then) is simply not booked in the demo


def _day_sessions(session_types, packages, clients, *, now: datetime) -> int:
    """Today's sessions, made once a day: a day on which the day's clients have a booking is left alone (not
    any booking: the weeks-ahead bookings of an earlier run may fall on today). A day no trainer works gets none."""
    today = studio_date(now)
    day_start, day_end = studio_day_bounds(today, today)
    emails = [row[0] for row in DAY_SESSIONS]
    if Booking.objects.filter(client__email__in=emails, start_time__gte=day_start, start_time__lt=day_end).exists():
        return 0
    owner = User.objects.filter(email=OWNER_EMAIL).first()  # None (the studio itself) if it was changed
    busy_today: set[int] = set()
    made = 0
    for email, type_name, started, paid_by_credit in DAY_SESSIONS:
        client, session_type = clients[email], session_types[type_name]
        # Trainers not yet in today's sessions first, then in id order.
        for trainer in sorted(offering_trainers(session_type), key=lambda trainer: trainer.pk in busy_today):
            booking = _day_session(
                trainer=trainer,
                client=client,
                session_type=session_type,
                started=started,
                package=packages[DAY_PACKAGE] if paid_by_credit else None,
                owner=owner,
                now=now,
            )
            if booking is not None:
                busy_today.add(trainer.pk)
                made += 1
                break
    return made


@transaction.atomic
def demo_studio_fill(studio: Studio, *, now: datetime | None = None) -> None:
    """``now``: the moment whose studio day gets today's sessions."""
    with tenant_context(studio):
        trainers = _trainers()
        session_types = _session_types(trainers)
        packages = _packages(session_types)
        clients = _clients(packages)
        _bookings(trainers, session_types, clients)
        _day_sessions(session_types, packages, clients, now=now or timezone.now())


class Command(BaseCommand):
    help = (
        "Create (once) the demo studio with its trainers, session types, packages, clients and bookings, and a "
        "platform admin; add today's sessions (once a day); print the logins."
    )

    def handle(self, *args, **options):
        studio = _demo_studio()
        demo_studio_fill(studio)
        with schema_context("public"):
            domain = studio.get_primary_domain()

        # make run sets SITE_PORT from PORT, so the links printed here are the ones that answer.
        port = settings.SITE_PORT or "8000"
        self.stdout.write(
            self.style.SUCCESS("\nTrainerHub is ready.\n")
            + f"  Platform      http://localhost:{port}/   admin: http://localhost:{port}/admin/\n"
            + f"                login {ADMIN_EMAIL} / {DEMO_PASSWORD}\n"
            + f"  Demo studio   http://{domain}:{port}/   booking: http://{domain}:{port}/book/\n"
            + f"                owner login  {OWNER_EMAIL} / {DEMO_PASSWORD}\n"
            + f"                client login {CLIENT_EMAIL} / {DEMO_PASSWORD}\n"
            + f"  API docs      http://{domain}:{port}/api/docs/\n"
        )
