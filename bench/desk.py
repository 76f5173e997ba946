"""The desk calendar's speed: the day view of 20 trainers with 8 bookings each, and the week view of one trainer
with 60 bookings, vs a trivial page, signed in as the studio's owner.

    .venv/bin/python bench/desk.py [--requests 200]

The studio: 20 trainers in the studio's zone, each working 07:00-12:00 and 13:00-21:00 every day (the lunch hour
shows as time off their hours) with a half-hour break at 17:00 on the day shown; 8 one-hour bookings each on that
day; the first trainer also has 60 bookings over the following week.

Targets, measured on gunicorn servers (`make run`'s command line), requests interleaved, as deployed (the grids
cached under the studio's calendar version) with the same pages computed on every request shown beside them:
- day view (20 trainers) median / GET /healthz median <= 3;
- week view (one trainer, 60 bookings) median / GET /healthz median <= 3;
- the same number of SQL queries for each view, full and empty (counted in-process, through Django's test client).
"""

import argparse
import http.client
import logging
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from zoneinfo import ZoneInfo

from _setup import SERVER_ENV, django_setup, drop_studios, start_gunicorn

SLUG = "bench-desk"
HOST = f"{SLUG}.localhost"
ZONE = "Europe/London"
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
TRAINERS = 20
CLIENTS = 200
WINDOWS = ((7, 12), (13, 21))
DAY_HOURS = (7, 8, 9, 10, 13, 14, 15, 16)  # the 8 bookings each trainer has on the day shown
WEEK_BOOKINGS = 60
DURATION = timedelta(minutes=60)


def timed_get(port: int, path: str, cookie: str = "") -> float:
    headers = {"Host": HOST}
    if cookie:
        headers["Cookie"] = cookie
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {response.status} {body[:500]!r}")
    return elapsed


def local_start(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock(hour), tzinfo=zone).astimezone(UTC)


def build_studio(day: date, week_monday: date) -> tuple[int, int]:
    """The studio; (its owner's id, the busy trainer's id)."""
    from django.test.utils import override_settings
    from django_tenants.utils import schema_context, tenant_context

    from shared_apps.accounts.models import Role, User
    from tenant_apps.availability.models import TrainerBreak
    from tenant_apps.availability.services import availability_create
    from tenant_apps.bookings.models import Booking, BookingStatus, PaymentState
    from tenant_apps.clients.models import Client
    from tenant_apps.trainers.services import session_type_create, trainer_create
    from tenants.services import studio_create

    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
    rng = random.Random(2026)
    zone = ZoneInfo(ZONE)
    with schema_context("public"), override_settings(MAILERS=LOCMEM):
        studio = studio_create(name="Bench Desk", slug=SLUG, owner_email=f"owner@{SLUG}.test", timezone=ZONE)
        with tenant_context(studio):
            owner = User.objects.get(role=Role.OWNER)
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
                min_notice_minutes=0,
                max_advance_days=120,
                price=Decimal("50.00"),
                trainers=trainers,
            )
            TrainerBreak.objects.bulk_create(
                TrainerBreak(
                    trainer=trainer,
                    starts_at=local_start(day, 17, zone),
                    ends_at=local_start(day, 17, zone) + timedelta(minutes=30),
                    reason="Team meeting",
                )
                for trainer in trainers
            )
            clients = Client.objects.bulk_create(
                Client(email=f"client{index}@{SLUG}.test", first_name="Client", last_name=str(index))
                for index in range(CLIENTS)
            )
            starts = {trainer.pk: [local_start(day, hour, zone) for hour in DAY_HOURS] for trainer in trainers}
            week_hours = [
                local_start(week_monday + timedelta(days=offset), hour, zone)
                for offset in range(7)
                for opens, closes in WINDOWS
                for hour in range(opens, closes)
            ]
            starts[trainers[0].pk] += rng.sample(week_hours, WEEK_BOOKINGS)
            statuses = [BookingStatus.CONFIRMED] * 6 + [BookingStatus.PENDING, BookingStatus.CANCELLED]
            Booking.objects.bulk_create(
                Booking(
                    trainer=trainer,
                    client=rng.choice(clients),
                    session_type=session_type,
                    start_time=start,
                    end_time=start + DURATION,
                    blocked_from=start,
                    blocked_until=start + DURATION,
                    status=rng.choice(statuses),
                    payment_state=PaymentState.UNPAID,
                    price=session_type.price,
                    currency=session_type.currency,
                )
                for trainer in trainers
                for start in starts[trainer.pk]
            )
            return owner.pk, trainers[0].pk


def sign_in(owner_id: int) -> str:
    """A session of the owner's, as the Cookie header a browser would send."""
    from django.conf import settings
    from django.test import Client
    from django_tenants.utils import schema_context, tenant_context

    from shared_apps.accounts.models import User
    from tenants.models import Studio

    with schema_context("public"):
        studio = Studio.objects.get(slug=SLUG)
    browser = Client(HTTP_HOST=HOST)
    with tenant_context(studio):
        browser.force_login(User.objects.get(pk=owner_id))
    return f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"


def count_queries(cookie: str, path: str, marker: bytes, count: int) -> int:
    """The SQL queries of one page computed (not cached), in-process, after a warm-up request; checks the page
    shows ``count`` of ``marker`` (the data is there)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    name, value = cookie.split("=", 1)
    browser = Client(HTTP_HOST=HOST)
    browser.cookies[name] = value
    with override_settings(AVAILABILITY_CACHE_SECONDS=0):
        if browser.get(path).status_code != 200:
            raise RuntimeError(f"GET {path} failed in-process")
        with CaptureQueriesContext(connection) as queries:
            response = browser.get(path)
    if response.status_code != 200 or response.content.count(marker) != count:
        found = response.content.count(marker)
        raise RuntimeError(f"GET {path}: HTTP {response.status_code}, {found} of {marker!r} instead of {count}")
    return len(queries)


def summary(times: list[float]) -> str:
    p90 = statistics.quantiles(times, n=10)[-1]
    return f"median {statistics.median(times) * 1000:7.2f} ms   (p90 {p90 * 1000:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200, help="requests of each kind")
    arguments = parser.parse_args()

    django_setup()
    drop_studios(SLUG)
    zone = ZoneInfo(ZONE)
    day = datetime.now(zone).date() + timedelta(days=1)
    week_monday = day - timedelta(days=day.weekday()) + timedelta(days=7)
    try:
        started = time.perf_counter()
        owner_id, busy_id = build_studio(day, week_monday)
        setup_seconds = time.perf_counter() - started
        cookie = sign_in(owner_id)
        day_path = f"/desk/calendar/?date={day}&view=day&trainer=all"
        week_path = f"/desk/calendar/?date={week_monday}&view=week&trainer={busy_id}"
        empty_day_path = f"/desk/calendar/?date={day + timedelta(days=60)}&view=day&trainer=all"
        empty_week_path = f"/desk/calendar/?date={week_monday + timedelta(days=60)}&view=week&trainer={busy_id}"
        # Cancelled bookings are listed under the grid; the others are cards in it.
        from django_tenants.utils import schema_context, tenant_context

        from tenant_apps.bookings.models import Booking, BookingStatus
        from tenants.models import Studio

        with schema_context("public"):
            studio = Studio.objects.get(slug=SLUG)
        with tenant_context(studio):
            on_day = Booking.objects.filter(start_time__date=day).exclude(status=BookingStatus.CANCELLED).count()
            in_week = (
                Booking.objects.filter(
                    trainer_id=busy_id,
                    start_time__date__gte=week_monday,
                    start_time__date__lt=week_monday + timedelta(7),
                )
                .exclude(status=BookingStatus.CANCELLED)
                .count()
            )
        queries = {
            "day view, 20 trainers": (
                count_queries(cookie, day_path, b'class="cal-card', on_day),
                count_queries(cookie, empty_day_path, b'class="cal-card', 0),
            ),
            "week view, 1 trainer": (
                count_queries(cookie, week_path, b'class="cal-card', in_week),
                count_queries(cookie, empty_week_path, b'class="cal-card', 0),
            ),
        }
        # Two servers side by side: as deployed (the grids cached under the studio's calendar version) and
        # computing the grids on every request.
        cached_server, port = start_gunicorn()
        computed_server, computed_port = start_gunicorn(env={**SERVER_ENV, "AVAILABILITY_CACHE_SECONDS": "0"})
        try:
            for _ in range(20):  # warm every path
                for server_port in (port, computed_port):
                    timed_get(server_port, day_path, cookie)
                    timed_get(server_port, week_path, cookie)
                timed_get(port, "/healthz")
            day_times, week_times, trivial_times = [], [], []
            computed_day_times, computed_week_times = [], []
            for _ in range(arguments.requests):
                day_times.append(timed_get(port, day_path, cookie))
                computed_day_times.append(timed_get(computed_port, day_path, cookie))
                week_times.append(timed_get(port, week_path, cookie))
                computed_week_times.append(timed_get(computed_port, week_path, cookie))
                trivial_times.append(timed_get(port, "/healthz"))
        finally:
            for server in (cached_server, computed_server):
                server.terminate()
                server.wait(timeout=10)
    finally:
        drop_studios(SLUG)

    trivial = statistics.median(trivial_times)
    print(
        f"setup: {TRAINERS} trainers, {len(DAY_HOURS)} bookings each on {day}, {WEEK_BOOKINGS} for one trainer "
        f"in the week of {week_monday} ({setup_seconds:.1f} s)"
    )
    print(f"requests of each kind: {arguments.requests}, interleaved")
    print(f"day view, {TRAINERS} trainers ({on_day} bookings shown):  {summary(day_times)}")
    print(f"week view, 1 trainer ({in_week} bookings shown):  {summary(week_times)}")
    print(f"/healthz:  {summary(trivial_times)}")
    print(f"day view, computed every time:  {summary(computed_day_times)}")
    print(f"week view, computed every time:  {summary(computed_week_times)}")
    for label, times, computed in (("day", day_times, computed_day_times), ("week", week_times, computed_week_times)):
        print(
            f"{label} view / healthz = {statistics.median(times) / trivial:.2f} as deployed (target <= 3); "
            f"{statistics.median(computed) / trivial:.2f} computed every time"
        )
    for label, (full, empty) in queries.items():
        verdict = "equal" if full == empty else "NOT equal"
        print(f"SQL queries of the {label}, computed: {full} full, {empty} empty  ({verdict}; target equal)")


if __name__ == "__main__":
    main()
