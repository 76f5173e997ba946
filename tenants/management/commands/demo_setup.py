"""The demo studio of `make run`: a living studio (trainers with weekly hours, session types, packages, a client
with credits and bookings over the next weeks), made through the same services as the API so every rule holds.

Idempotent: each part is made only when it is missing (found by its email or name), so a second run changes
nothing, and a part someone deleted comes back.
"""

from dataclasses import dataclass, field
from datetime import time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from shared_apps.accounts.models import User
from shared_apps.accounts.services import client_register
from shared_apps.core.exceptions import ApplicationError
from tenant_apps.availability.selectors import available_slots
from tenant_apps.availability.services import availability_create
from tenant_apps.bookings.models import Booking
from tenant_apps.bookings.services import booking_create
from tenant_apps.clients.models import Client
from tenant_apps.clients.services import client_create, client_for_user
from tenant_apps.packages.models import PaymentMethod, SessionPackage
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
    ("marcus@demo.localhost", "Marcus", "Brown"),
    ("aisha@demo.localhost", "Aisha", "Khan"),
]
CLIENT_NAME = ("Lena", "Fischer")

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
    for email, first_name, last_name in OTHER_CLIENTS:
        if email not in clients:
            clients[email] = client_create(email=email, first_name=first_name, last_name=last_name)
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


@transaction.atomic
def demo_studio_fill(studio: Studio) -> None:
    with tenant_context(studio):
        trainers = _trainers()
        session_types = _session_types(trainers)
        packages = _packages(session_types)
        clients = _clients(packages)
        _bookings(trainers, session_types, clients)


class Command(BaseCommand):
    help = (
        "Create (once) the demo studio with its trainers, session types, packages, clients and bookings, and a "
        "platform admin; print the logins."
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
