"""Concurrent bookings: many clients POST /api/bookings/ at once against a real gunicorn server.

    .venv/bin/python bench/bookings.py [--seconds 20] [--clients 64] [--workers N] [--contention 0.1]

The server is the gunicorn `make run` starts (config/gunicorn.py: WEB_CONCURRENCY processes of WEB_THREADS
threads); --workers overrides the number of processes.

Each client (a thread, logged in as its own client account) books slots of its own share of the free slots;
a fraction of the attempts go, on purpose, to a slot its partner thread tries at the same point, so some
requests lose a race and must get a 409. Afterwards the studio's schema is searched for overlapping active
bookings of one trainer.

In turns with the bookings (ROUNDS each, as long in all), on the same server with as many threads, each
thread (a manager's token) adds notes to a client: a bare authenticated single-row insert through the same
stack (tenant, auth, DRF, a transaction). The ratio of bookings per second to notes per second says what the
booking itself costs.

The server queues its Celery tasks (the booking's mails) to a broker no worker reads, as a deployment's web
process does: a folder of its own without REDIS_URL; with it, the tasks left are purged afterwards.

Targets: no 5xx, no overlapping rows, no 409 on a slot no other thread tried; bookings/s at least half of
notes/s.
"""

import argparse
import http.client
import json
import logging
import os
import random
import statistics
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from zoneinfo import ZoneInfo

from _setup import SERVER_ENV, django_setup, drop_studios, start_gunicorn

SLUG = "bench-bookings"
HOST = f"{SLUG}.localhost"
ZONE = "Europe/London"
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
TRAINERS = 8
WINDOW = (clock(6), clock(22))  # every day
ADVANCE_DAYS = 365
RANGE_DAYS = 90  # the most available-slots answers at once
ROUNDS = 4  # turns of bookings, then notes

OVERLAPS = """
    SELECT count(*)
    FROM bookings_booking a
    JOIN bookings_booking b
      ON a.trainer_id = b.trainer_id AND a.id < b.id
     AND tstzrange(a.start_time, a.end_time) && tstzrange(b.start_time, b.end_time)
    WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')
"""


def request(port: int, method: str, path: str, body: dict | None = None, token: str | None = None):
    """(status, seconds, body) of one request on a connection of its own."""
    headers = {"Host": HOST}
    if token:
        headers["Authorization"] = f"Token {token}"
    payload = None
    if body is not None:
        payload = json.dumps(body)
        headers["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    return response.status, time.perf_counter() - started, data


def build_studio(clients: int):
    """The studio, its trainers' ids, its session type's id, and a client account's API token per thread."""
    from django.test.utils import override_settings
    from django_tenants.utils import schema_context, tenant_context
    from rest_framework.authtoken.models import Token

    from shared_apps.accounts.models import Role
    from shared_apps.accounts.services import user_create
    from tenant_apps.availability.services import availability_create
    from tenant_apps.clients.services import client_create
    from tenant_apps.trainers.services import session_type_create, trainer_create
    from tenants.services import studio_create

    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
    with schema_context("public"), override_settings(MAILERS=LOCMEM):
        studio = studio_create(name="Bench Bookings", slug=SLUG, owner_email=f"owner@{SLUG}.test", timezone=ZONE)
        with tenant_context(studio):
            trainers = [
                trainer_create(email=f"trainer{index}@{SLUG}.test", first_name="Trainer", last_name=str(index))
                for index in range(TRAINERS)
            ]
            for trainer in trainers:
                for day_of_week in range(7):
                    availability_create(
                        trainer=trainer, day_of_week=day_of_week, start_time=WINDOW[0], end_time=WINDOW[1]
                    )
            session_type = session_type_create(
                name="Half hour",
                duration_minutes=30,
                min_notice_minutes=0,
                max_advance_days=ADVANCE_DAYS,
                price=Decimal("25.00"),
                trainers=trainers,
            )
            note_client = client_create(email=f"noted@{SLUG}.test", first_name="Noted")
            manager_tokens = [
                Token.objects.create(
                    user=user_create(email=f"manager{index}@{SLUG}.test", role=Role.MANAGER, first_name="Manager")
                ).key
                for index in range(clients)
            ]
            tokens = []
            for index in range(clients):
                email = f"client{index}@{SLUG}.test"
                user = user_create(email=email, role=Role.CLIENT, first_name="Client", last_name=str(index))
                client_create(email=email, first_name="Client", last_name=str(index), user=user)
                tokens.append(Token.objects.create(user=user).key)
    return studio, [trainer.pk for trainer in trainers], session_type.pk, tokens, (note_client.pk, manager_tokens)


def free_slots(port: int, trainer_ids: list[int], session_type_id: int) -> list[tuple[int, str]]:
    """Every free (trainer, start) from tomorrow to the horizon, as the API offers them."""
    tomorrow = datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=1)
    found = []
    for trainer_id in trainer_ids:
        for offset in range(0, ADVANCE_DAYS, RANGE_DAYS):
            first = tomorrow + timedelta(days=offset)
            last = first + timedelta(days=RANGE_DAYS - 1)
            status, _, body = request(
                port,
                "GET",
                f"/api/availability/available-slots/?trainer={trainer_id}&session_type={session_type_id}"
                f"&start={first.isoformat()}&end={last.isoformat()}",
            )
            if status != 200:
                raise RuntimeError(f"available-slots: HTTP {status} {body[:500]!r}")
            found.extend((trainer_id, start) for start in json.loads(body)["available_slots"])
    return found


def plans(slots: list[tuple[int, str]], clients: int, contention: float, rng: random.Random) -> list[list]:
    """Each thread's attempts in order, as (trainer, start, contested). Threads 2m and 2m+1 are partners:
    every ``1 / contention``-th attempt of both, the first one included, is the same slot, from a list only
    they share; every other attempt is a slot of the thread's own."""
    slots = slots[:]
    rng.shuffle(slots)
    every = round(1 / contention) if contention > 0 else 0
    length = len(slots) // clients
    contested = -(-length // every) if every else 0
    shared = [slots[pair * contested : (pair + 1) * contested] for pair in range((clients + 1) // 2)]
    cursor = len(shared) * contested
    result = []
    for thread in range(clients):
        plan = []
        for position in range(length):
            if every and position % every == 0:
                plan.append((*shared[thread // 2][position // every], True))
            else:
                plan.append((*slots[cursor], False))
                cursor += 1
        result.append(plan)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20, help="how long the clients keep booking")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (threads)")
    parser.add_argument("--workers", type=int, help="gunicorn worker processes (default: as `make run`)")
    parser.add_argument("--contention", type=float, default=0.1, help="share of attempts on a contested slot")
    arguments = parser.parse_args()

    django_setup()
    from django.db import connection
    from django_tenants.utils import tenant_context

    from config import gunicorn as gunicorn_config
    from tenant_apps.bookings.models import Booking

    drop_studios(SLUG)
    outcomes: list[tuple[int, bool, float, bytes]] = []  # status (0: no answer), contested, seconds, body
    try:
        studio, trainer_ids, session_type_id, tokens, (note_client_id, manager_tokens) = build_studio(arguments.clients)
        server_log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (read back once the server has stopped)
        broker_dir = tempfile.TemporaryDirectory()
        for folder in ("queue", "processed", "control"):
            os.makedirs(os.path.join(broker_dir.name, folder))
        server_env = {**SERVER_ENV, "CELERY_TASK_ALWAYS_EAGER": "false", "CELERY_BROKER_DIR": broker_dir.name}
        server, port = start_gunicorn(workers=arguments.workers, env=server_env, stderr=server_log)
        try:
            slots = free_slots(port, trainer_ids, session_type_id)
            work = plans(slots, arguments.clients, arguments.contention, random.Random(2026))
            plans_left = [iter(plan) for plan in work]
            ran_out: set[int] = set()
            elapsed = client_cpu = 0.0
            notes_created, notes_elapsed = 0, 0.0
            # Bookings and notes take turns, ROUNDS times each: the machine is shared, and whatever else runs on
            # it meanwhile then weighs on both sides of the ratio alike.
            for _round in range(ROUNDS):
                seconds, cpu = book_for(
                    port, session_type_id, tokens, plans_left, arguments.seconds / ROUNDS, outcomes, ran_out
                )
                elapsed, client_cpu = elapsed + seconds, client_cpu + cpu
                created, seconds = add_notes(port, note_client_id, manager_tokens, arguments.seconds / ROUNDS)
                notes_created, notes_elapsed = notes_created + created, notes_elapsed + seconds
        finally:
            server.terminate()
            server.wait(timeout=10)
            server_log.seek(0)
            # A 409 is logged as a warning: expected here, hundreds of times.
            log_lines = [line for line in server_log if "django.request: Conflict:" not in line]
            server_log.close()
            broker_dir.cleanup()
            if os.environ.get("REDIS_URL"):
                purge_queued_tasks()

        with tenant_context(studio):
            with connection.cursor() as cursor:
                cursor.execute(OVERLAPS)
                overlapping = cursor.fetchone()[0]
            active = Booking.objects.filter(status__in=Booking.ACTIVE_STATUSES).count()
    finally:
        drop_studios(SLUG)

    statuses = Counter(status for status, *_ in outcomes)
    created = statuses[201]
    contested = Counter(status for status, on_contested, *_ in outcomes if on_contested)
    conflicts = [(on_contested, data) for status, on_contested, _, data in outcomes if status == 409]
    server_errors = [(status, data) for status, _, _, data in outcomes if status >= 500]
    others = {status: count for status, count in statuses.items() if status not in (0, 201, 409) and status < 500}
    seconds = [seconds for status, _, seconds, _ in outcomes if status]
    print(
        f"setup: {TRAINERS} trainers, {len(slots)} free slots, {arguments.clients} clients, "
        f"gunicorn {arguments.workers or gunicorn_config.workers} workers x {gunicorn_config.threads} threads, "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"ran {elapsed:.1f} s, attempts {len(outcomes)}, of which {contested.total()} on a contested slot "
        f"({dict(sorted(contested.items()))})" + (f"; {len(ran_out)} clients ran out of slots" if ran_out else "")
    )
    print(f"201 created   {created}   ({created / elapsed:.1f} bookings/s)")
    notes_rate = notes_created / notes_elapsed
    print(
        f"notes         {notes_created} in {notes_elapsed:.1f} s ({notes_rate:.1f} notes/s, same threads); "
        f"bookings/s ÷ notes/s = {created / elapsed / notes_rate:.2f}   (target >= 0.5)"
    )
    print(
        f"409 conflict  {len(conflicts)}   (on contested slots {sum(1 for c, _ in conflicts if c)}, "
        f"on a thread's own slot {sum(1 for c, _ in conflicts if not c)}; "
        f"codes {dict(Counter(error_code(data) for _, data in conflicts))})"
    )
    print(f"5xx           {len(server_errors)}   (target 0)")
    for status, data in server_errors[:3]:
        print(f"    {status}: {data[:300]!r}")
    print(f"other         {others or 'none'}" + (f", no answer {statuses[0]}" if statuses[0] else ""))
    if seconds:
        print(
            f"POST latency  median {statistics.median(seconds) * 1000:.1f} ms, "
            f"p90 {statistics.quantiles(seconds, n=10)[-1] * 1000:.1f} ms"
        )
    print(f"bench client  {client_cpu / elapsed:.0%} of a CPU (it shares the machine with the server)")
    print(f"active bookings in the database {active}   (201s: {created})")
    print(f"overlapping active bookings of one trainer: {overlapping}   (must be 0)")
    if log_lines:
        print(f"server log, 409 warnings left out ({len(log_lines)} lines):")
        print("".join(log_lines[:200]), end="")


def book_for(port, session_type_id, tokens, plans_left, seconds, outcomes, ran_out) -> tuple[float, float]:
    """Each thread books the next slots of its plan for ``seconds``; each attempt's (status, contested,
    seconds, body) is added to ``outcomes``. (elapsed seconds, the bench's own CPU seconds.)"""
    lock = threading.Lock()
    start_line = threading.Barrier(len(tokens) + 1)

    def book(thread: int) -> None:
        mine = []
        start_line.wait()
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            attempt = next(plans_left[thread], None)
            if attempt is None:
                ran_out.add(thread)
                break
            trainer_id, start, contested = attempt
            body = {"trainer": trainer_id, "session_type": session_type_id, "start_time": start}
            try:
                status, took, data = request(port, "POST", "/api/bookings/", body, tokens[thread])
            except (OSError, http.client.HTTPException) as error:
                status, took, data = 0, 0.0, repr(error).encode()
            mine.append((status, contested, took, data))
        with lock:
            outcomes.extend(mine)

    threads = [threading.Thread(target=book, args=(thread,)) for thread in range(len(tokens))]
    for thread in threads:
        thread.start()
    start_line.wait()
    started, cpu_started = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, time.process_time() - cpu_started


def add_notes(port: int, client_id: int, tokens: list[str], seconds: float) -> tuple[int, float]:
    """Each thread adds notes to the client for ``seconds``: (notes created, elapsed seconds)."""
    created = []
    start_line = threading.Barrier(len(tokens) + 1)

    def add(token: str) -> None:
        count = 0
        start_line.wait()
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            status, _, data = request(port, "POST", f"/api/clients/{client_id}/notes/", {"text": "Bench"}, token)
            if status != 201:
                raise RuntimeError(f"note: HTTP {status} {data[:300]!r}")
            count += 1
        created.append(count)

    threads = [threading.Thread(target=add, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    start_line.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return sum(created), time.perf_counter() - started


def purge_queued_tasks() -> None:
    """The booking mails the server queued in Redis: for a studio that no longer exists."""
    from config.celery import app

    app.control.purge()


def error_code(body: bytes) -> str:
    try:
        return json.loads(body).get("code", "?")
    except (ValueError, AttributeError):
        return "?"


if __name__ == "__main__":
    main()
