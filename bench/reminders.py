"""The due-reminder sweep over many studios: seconds and SQL queries per studio with 100 studios, then with 1,000,
each with 50 bookings whose hour reminder is due, in one run.

    .venv/bin/python bench/reminders.py [--studios 100,1000] [--bookings 50] [--swept 40]

A studio is swept as the worker sweeps it (the ``notifications.send_due`` task's body inside the studio's
schema: the studio's lookup, the per-studio lock, ``notifications_send_due``), one after the other, with no
broker in between and the local-memory mail backend. Target: the time per studio stays flat from 100 to 1,000
studios, and the queries per studio are the same.

Every studio has its 50 reminders due, but each measurement sweeps ``--swept`` of them, spread evenly over all
(every 25th of 1,000): a sweep sends 50 mails in 1.5 to 3 s on a 2-core machine, so sweeping all 1,100 would
take most of an hour, and what is compared is the time of one studio's sweep as the studios around it grow.
The bench's connections don't wait for each commit to reach the disk (``synchronous_commit`` off): the sweep
commits three times a row, and the flushes would measure the disk, not the sweep; every query is the same.

How the studios are made. One seed studio comes from ``studio_create`` (the template's clone, as provisioning
does) and gets a trainer, a client, a session type and the bookings through the booking service, so its rows
are the service's own; the 24 h reminders are marked sent and the hour reminders made due now (their
``send_after`` moved to a minute ago: the sweep finds them so an hour before each session). Every bench studio
is then a copy of the seed schema, made by one server-side function call: ``CREATE SCHEMA``, then for each of
its tables ``CREATE TABLE ... (LIKE seed.table INCLUDING ALL)`` and ``INSERT ... SELECT``, identity sequences
set past the copied ids; its Studio and Domain rows go into the public schema with ``bulk_create`` (which
doesn't call ``Studio.save``, so the template isn't cloned again). ``studio_create`` clones a schema object by
object from the catalogue (django-tenants' clone_schema), about a second a studio: 1,000 of them would take
longer than the whole bench may. The copies keep every column, index, unique, check and exclusion constraint,
which is what the sweep's queries and plans depend on, but no foreign keys (LIKE doesn't copy them), which its
reads and updates don't use. The 1,000 are the first 100 plus 900 made after the first measurement; the first
100's reminders are made due again before the second.
"""

import argparse
import os
import statistics
import time

from _setup import django_setup, drop_studios

PREFIX = "bench-rem-"
SEED_SLUG = f"{PREFIX}seed"
COPY_CONNECTIONS = 6
# Schemas dropped per statement: each drop takes locks on every table and index of the schema.
DROP_BATCH = 20

# The seed's tables and identity columns, read once from the catalogue.
SEED_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename"
SEED_IDENTITIES = """
SELECT class.relname, attribute.attname FROM pg_attribute attribute
JOIN pg_class class ON class.oid = attribute.attrelid
JOIN pg_namespace namespace ON namespace.oid = class.relnamespace
WHERE namespace.nspname = %s AND attribute.attidentity <> '' ORDER BY 1
"""


def copy_script(*, seed: str, target: str, tables: list[str], identities: list[tuple[str, str]]) -> str:
    """The statements that make ``target`` a copy of the seed's schema: sent as one simple query, so one
    transaction and one round trip a studio."""
    from django.db import connection

    quote = connection.ops.quote_name
    statements = [f"CREATE SCHEMA {quote(target)}"]
    for table in tables:
        source, copy = f"{quote(seed)}.{quote(table)}", f"{quote(target)}.{quote(table)}"
        statements.append(f"CREATE TABLE {copy} (LIKE {source} INCLUDING ALL)")
        statements.append(f"INSERT INTO {copy} OVERRIDING SYSTEM VALUE SELECT * FROM {source}")  # noqa: S608 (quoted names)
    for table, column in identities:
        copy = f"{quote(target)}.{quote(table)}"
        last_id = f"coalesce((SELECT max({quote(column)}) FROM {copy}), 0)"  # noqa: S608 (quoted names)
        statements.append(f"SELECT setval(pg_get_serial_sequence('{copy}', '{column}'), {last_id} + 1, false)")
    return ";\n".join(statements)


def seed_studio(bookings: int):
    """The seed studio, its bookings made by the booking service, their hour reminders due now."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone
    from django_tenants.utils import schema_context, tenant_context

    from shared_apps.accounts.models import Role, User
    from tenant_apps.bookings.services import booking_create
    from tenant_apps.clients.models import Client
    from tenant_apps.notifications.models import Notification
    from tenant_apps.trainers.models import SessionType, Trainer
    from tenants.services import studio_create

    with schema_context("public"):
        studio = studio_create(
            name="Bench Reminders", slug=SEED_SLUG, owner_email="owner@bench.test", timezone="Europe/London"
        )
    zone = ZoneInfo("Europe/London")
    with tenant_context(studio):
        owner = User.objects.get(email="owner@bench.test")
        coach = User.objects.create_user("coach@bench.test", role=Role.TRAINER)
        trainer = Trainer.objects.create(user=coach, display_name="Bench Coach", timezone="Europe/London")
        session_type = SessionType.objects.create(name="PT 60", duration_minutes=60, price=0, currency="GBP")
        session_type.trainers.add(trainer)
        client = Client.objects.create(email="client@bench.test", first_name="Bea")
        first_day = timezone.now().astimezone(zone).date() + timedelta(days=14)
        for index in range(bookings):
            # Two-hourly from 06:00, eight a day: clear of each other whatever the buffers.
            day, slot = divmod(index, 8)
            booking_create(
                trainer=trainer,
                client=client,
                session_type=session_type,
                start_time=datetime.combine(first_day + timedelta(days=day), time(6 + 2 * slot), tzinfo=zone),
                created_by=owner,
                off_grid=True,
            )
        now = timezone.now()
        Notification.objects.filter(kind="reminder_24h").update(status="sent", sent_at=now)
        make_due(now=now)
        if Notification.objects.filter(kind="reminder_1h", status="pending").count() != bookings:
            raise RuntimeError("The seed's bookings didn't get their hour reminders.")
    return studio


def make_due(*, now) -> None:
    """The current schema's hour reminders due now, never sent."""
    from datetime import timedelta

    from tenant_apps.notifications.models import Notification

    Notification.objects.filter(kind="reminder_1h").update(
        status="pending", send_after=now - timedelta(minutes=1), sent_at=None, provider_message_id="", attempts=0
    )


def copy_studios(seed, first: int, count: int) -> list:
    """Studios ``first`` .. ``first + count - 1``: copies of the seed's schema, with their Studio and Domain."""
    from concurrent.futures import ThreadPoolExecutor

    from django.conf import settings
    from django.db import connection, connections, transaction
    from django_tenants.utils import schema_context

    from tenants.models import Domain, Studio, schema_name_for

    slugs = [f"{PREFIX}{index:04d}" for index in range(first, first + count)]
    with schema_context("public"), connection.cursor() as cursor:
        cursor.execute(SEED_TABLES, [seed.schema_name])
        tables = [table for (table,) in cursor.fetchall()]
        cursor.execute(SEED_IDENTITIES, [seed.schema_name])
        identities = cursor.fetchall()

    def copy(chunk: list[str]) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO off")
                for slug in chunk:
                    target = schema_name_for(slug)
                    cursor.execute(
                        copy_script(seed=seed.schema_name, target=target, tables=tables, identities=identities)
                    )
        finally:
            connections.close_all()

    # On connections of their own, in parallel: the DDL is the server's work, and most of the bench's set-up.
    with ThreadPoolExecutor(COPY_CONNECTIONS) as pool:
        list(pool.map(copy, [slugs[index::COPY_CONNECTIONS] for index in range(COPY_CONNECTIONS)]))
    with schema_context("public"), transaction.atomic():
        studios = Studio.objects.bulk_create(
            Studio(
                name=f"Bench {slug}",
                slug=slug,
                schema_name=schema_name_for(slug),
                timezone=seed.timezone,
                theme=seed.theme,
                currency=seed.currency,
                country=seed.country,
            )
            for slug in slugs
        )
        Domain.objects.bulk_create(
            Domain(
                domain=f"{studio.slug}.{settings.PLATFORM_DOMAIN}",
                tenant=studio,
                is_primary=True,
                status=Domain.Status.VERIFIED,
            )
            for studio in studios
        )
    return studios


def drop_copies() -> None:
    """The copies (and what a stopped run left): their schemas in a few statements, then their rows."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from tenants.models import Studio

    with schema_context("public"):
        copies = Studio.objects.filter(slug__startswith=PREFIX).exclude(slug=SEED_SLUG)
        schemas = list(copies.values_list("schema_name", flat=True))
        with connection.cursor() as cursor:
            for start in range(0, len(schemas), DROP_BATCH):
                names = ", ".join(connection.ops.quote_name(name) for name in schemas[start : start + DROP_BATCH])
                cursor.execute(f"DROP SCHEMA IF EXISTS {names} CASCADE")
        copies.delete()


def sweep(studios, *, bookings: int) -> tuple[list[float], list[int]]:
    """Each studio's sweep as the worker runs it; seconds and queries per studio."""
    from django.core import mail
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django_tenants.utils import schema_context

    from tenant_apps.notifications.tasks import send_due

    seconds, queries = [], []
    mail.outbox = []
    for studio in studios:
        # The connection's query log holds 9,000 entries at most, beyond which the capture can't count.
        reset_queries()
        with schema_context(studio.schema_name), CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            sent = send_due()
            seconds.append(time.perf_counter() - started)
        queries.append(len(captured))
        if sent != bookings or len(mail.outbox) != bookings:
            raise RuntimeError(f"{studio.slug}: {sent} sent, {len(mail.outbox)} mails; {bookings} were due.")
        mail.outbox.clear()
    return seconds, queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--studios", default="100,1000", help="the studio counts to measure, smaller first")
    parser.add_argument("--bookings", type=int, default=50, help="bookings (due reminders) per studio")
    parser.add_argument("--swept", type=int, default=40, help="studios swept per measurement, spread evenly")
    arguments = parser.parse_args()
    counts = sorted(int(count) for count in arguments.studios.split(","))

    django_setup()
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import schema_context

    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")

    drop_copies()
    drop_studios(PREFIX)
    started = time.perf_counter()
    figures = []
    try:
        seed = seed_studio(arguments.bookings)
        studios = []
        for count in counts:
            made = time.perf_counter()
            studios += copy_studios(seed, len(studios), count - len(studios))
            made = time.perf_counter() - made
            swept = studios[:: max(1, len(studios) // arguments.swept)][: arguments.swept]
            now = timezone.now()
            for studio in swept:
                with schema_context(studio.schema_name):
                    make_due(now=now)
            seconds, queries = sweep(swept, bookings=arguments.bookings)
            # The machine's load while it swept: other work on it weighs on the time per studio too.
            figures.append((count, seconds, queries, made, os.getloadavg()[0]))
    finally:
        drop_copies()
        drop_studios(PREFIX)

    print(f"bookings with a due reminder per studio: {arguments.bookings}")
    for count, seconds, queries, made, load in figures:
        print(
            f"{count:>5} studios ({len(seconds)} swept): {statistics.mean(seconds) * 1000:7.1f} ms per studio "
            f"(median {statistics.median(seconds) * 1000:.1f}, max {max(seconds) * 1000:.1f}), "
            f"{statistics.mean(queries):.1f} queries per studio (min {min(queries)}, max {max(queries)}); "
            f"{made:.1f} s to copy its new schemas; load average {load:.1f}"
        )
    first, last = figures[0], figures[-1]
    print(
        f"time per studio, {last[0]} / {first[0]} studios = "
        f"{statistics.mean(last[1]) / statistics.mean(first[1]):.2f}  (target: flat, about 1.0)"
    )
    print(f"whole run {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
