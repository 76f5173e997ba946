"""Available slots for 60 days vs a trivial authenticated request, same gunicorn server, interleaved.

    .venv/bin/python bench/slots.py [--requests 200]

A studio with 20 trainers, each with three windows every day and 500 confirmed bookings over the next 90
days. Before timing, every trainer's answer is checked against slots worked out here, by brute force.

Target: available-slots median / GET /api/users/me/ median <= 3.
"""

import argparse
import http.client
import json
import logging
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from zoneinfo import ZoneInfo

from _setup import django_setup, drop_studios, start_gunicorn

SLUG = "bench-slots"
HOST = f"{SLUG}.localhost"
ZONE = "Europe/London"
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
TRAINERS = 20
CLIENTS = 300
WINDOWS = ((7, 11), (12, 16), (17, 21))  # every day, local hours
DURATION = timedelta(minutes=60)
BUFFER = timedelta(minutes=10)  # before and after: two sessions can't be back to back
# Four one-hour slots a window; the buffers leave room for two sessions in it, never adjacent.
PATTERNS = ((0, 2), (0, 3), (1, 3))
BOOKED_DAYS = 90
BOOKINGS = 500  # per trainer, out of 2 x 3 x 90 = 540 possible
RANGE_DAYS = 60


def timed_get(port: int, path: str, token: str | None = None) -> tuple[float, bytes]:
    headers = {"Host": HOST}
    if token:
        headers["Authorization"] = f"Token {token}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {response.status} {body[:500]!r}")
    return elapsed, body


def local_start(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock(hour), tzinfo=zone).astimezone(UTC)


def booking_starts(rng: random.Random, first_day: date, zone: ZoneInfo) -> list[datetime]:
    """BOOKINGS starts over BOOKED_DAYS days from first_day: at most two per window, never adjacent."""
    starts = []
    for offset in range(BOOKED_DAYS):
        day = first_day + timedelta(days=offset)
        for opens, closes in WINDOWS:
            assert closes - opens == 4
            starts.extend(local_start(day, opens + index, zone) for index in rng.choice(PATTERNS))
    return sorted(rng.sample(starts, BOOKINGS))


def expected_slots(booked: list[datetime], first_day: date, zone: ZoneInfo, now: datetime) -> list[str]:
    """Brute force: every hourly start inside a window, not before now, whose buffered session leaves every
    booking's buffered session alone (the buffers are the same on both sides)."""
    found = []
    for offset in range(RANGE_DAYS):
        day = first_day + timedelta(days=offset)
        for opens, closes in WINDOWS:
            for hour in range(opens, closes):
                start = local_start(day, hour, zone)
                if start < now:
                    continue
                if any(start - BUFFER < other + DURATION and other - BUFFER < start + DURATION for other in booked):
                    continue
                found.append(start.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return found


def build_studio() -> tuple[str, list[int], int, dict[int, list[datetime]]]:
    """Build the studio; its owner's API token, the trainers' ids, the session type's id, each trainer's bookings."""
    from django.test.utils import override_settings
    from django_tenants.utils import schema_context, tenant_context
    from rest_framework.authtoken.models import Token

    from shared_apps.accounts.models import Role, User
    from tenant_apps.availability.services import availability_create
    from tenant_apps.bookings.models import Booking, BookingStatus
    from tenant_apps.clients.models import Client
    from tenant_apps.trainers.services import session_type_create, trainer_create
    from tenants.services import studio_create

    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
    rng = random.Random(2026)
    zone = ZoneInfo(ZONE)
    with schema_context("public"), override_settings(MAILERS=LOCMEM):
        studio = studio_create(name="Bench Slots", slug=SLUG, owner_email=f"owner@{SLUG}.test", timezone=ZONE)
        with tenant_context(studio):
            token = Token.objects.create(user=User.objects.get(role=Role.OWNER)).key
            trainers = [
                trainer_create(email=f"trainer{index}@{SLUG}.test", first_name="Trainer", last_name=str(index))
                for index in range(TRAINERS)
            ]
            for trainer in trainers:
                for day_of_week in range(7):
                    for opens, closes in WINDOWS:
                        availability_create(
                            trainer=trainer, day_of_week=day_of_week, start_time=clock(opens), end_time=clock(closes)
                        )
            session_type = session_type_create(
                name="Personal training",
                duration_minutes=60,
                buffer_before_minutes=int(BUFFER.total_seconds() // 60),
                buffer_after_minutes=int(BUFFER.total_seconds() // 60),
                min_notice_minutes=0,
                max_advance_days=120,
                price=Decimal("50.00"),
                trainers=trainers,
            )
            clients = Client.objects.bulk_create(
                Client(email=f"client{index}@{SLUG}.test", first_name="Client", last_name=str(index))
                for index in range(CLIENTS)
            )
            tomorrow = datetime.now(zone).date() + timedelta(days=1)
            booked = {trainer.pk: booking_starts(rng, tomorrow, zone) for trainer in trainers}
            Booking.objects.bulk_create(
                (
                    Booking(
                        trainer=trainer,
                        client=rng.choice(clients),
                        session_type=session_type,
                        start_time=start,
                        end_time=start + DURATION,
                        blocked_from=start - BUFFER,
                        blocked_until=start + DURATION + BUFFER,
                        status=BookingStatus.CONFIRMED,
                        price=session_type.price,
                        currency=session_type.currency,
                    )
                    for trainer in trainers
                    for start in booked[trainer.pk]
                ),
                batch_size=2000,
            )
    return token, [trainer.pk for trainer in trainers], session_type.pk, booked


def slots_path(trainer_id: int, session_type_id: int, first_day: date) -> str:
    last_day = first_day + timedelta(days=RANGE_DAYS - 1)
    return (
        f"/api/availability/available-slots/?trainer={trainer_id}&session_type={session_type_id}"
        f"&start={first_day.isoformat()}&end={last_day.isoformat()}"
    )


def check_answers(port: int, trainer_ids: list[int], session_type_id: int, booked: dict[int, list[datetime]]) -> int:
    """Compare each trainer's answer with the brute force; prints the differences, returns how many."""
    zone = ZoneInfo(ZONE)
    problems = 0
    for trainer_id in trainer_ids:
        before = datetime.now(UTC)
        first_day = before.astimezone(zone).date()
        _, body = timed_get(port, slots_path(trainer_id, session_type_id, first_day))
        after = datetime.now(UTC)
        answer = json.loads(body)
        got = answer["available_slots"]
        expected = expected_slots(booked[trainer_id], first_day, zone, before)
        # Starts between the two clock readings may fairly be in one list and not the other.
        moving = {s for s in expected if before <= datetime.fromisoformat(s) <= after}
        missing = sorted(set(expected) - set(got) - moving)
        extra = sorted(set(got) - set(expected))
        if missing or extra or answer["total"] != len(got) or got != sorted(set(got)):
            problems += 1
            print(f"trainer {trainer_id}: {len(missing)} missing (e.g. {missing[:3]}), {len(extra)} extra {extra[:3]}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200, help="requests of each kind")
    arguments = parser.parse_args()

    django_setup()
    drop_studios(SLUG)
    try:
        started = time.perf_counter()
        token, trainer_ids, session_type_id, booked = build_studio()
        setup_seconds = time.perf_counter() - started

        server, port = start_gunicorn()
        try:
            wrong = check_answers(port, trainer_ids, session_type_id, booked)

            first_day = datetime.now(ZoneInfo(ZONE)).date()
            paths = [slots_path(trainer_id, session_type_id, first_day) for trainer_id in trainer_ids]
            for index in range(20):  # warm both paths
                timed_get(port, paths[index % len(paths)])
                timed_get(port, "/api/users/me/", token)
            slot_times, me_times, totals = [], [], []
            for index in range(arguments.requests):
                elapsed, body = timed_get(port, paths[index % len(paths)])
                slot_times.append(elapsed)
                totals.append(json.loads(body)["total"])
                me_times.append(timed_get(port, "/api/users/me/", token)[0])
        finally:
            server.terminate()
            server.wait(timeout=10)
    finally:
        drop_studios(SLUG)

    slots_median, me_median = statistics.median(slot_times), statistics.median(me_times)
    print(
        f"setup: {TRAINERS} trainers x {len(WINDOWS)} windows a day, {TRAINERS * BOOKINGS} bookings "
        f"({setup_seconds:.1f} s)"
    )
    print(f"answers checked against brute force: {len(trainer_ids)} trainers, {wrong} wrong")
    print(f"requests of each kind: {arguments.requests}")
    print(
        f"available-slots ({RANGE_DAYS} days, {statistics.mean(totals):.0f} slots on average)  "
        f"median {slots_median * 1000:.2f} ms   (p90 {statistics.quantiles(slot_times, n=10)[-1] * 1000:.2f})"
    )
    print(
        f"users/me                                         median {me_median * 1000:.2f} ms   "
        f"(p90 {statistics.quantiles(me_times, n=10)[-1] * 1000:.2f})"
    )
    print(f"available-slots / users/me = {slots_median / me_median:.2f}  (target <= 3)")


if __name__ == "__main__":
    main()
