"""`make run`'s web server, started with the command line config.devserver builds, on the local settings with
DEBUG off, against the test database: a burst of clients is queued, not reset, and whitenoise serves the static
files. The development server got `Connection reset by peer` here: its listen queue holds 10 connections."""

import html
import http.client
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import schema_context, tenant_context
from rest_framework.authtoken.models import Token

from config.devserver import RUN_ENVIRONMENT
from shared_apps.accounts.models import Role, User
from tenant_apps.availability.models import AvailabilitySlot
from tenant_apps.bookings.models import Booking
from tenant_apps.clients.models import Client
from tenant_apps.trainers.models import SessionType, Trainer
from tenants.models import Studio
from tenants.services import studio_create
from tests.conftest import PLATFORM_HOST, next_monday, run_committed
from tests.live import live_server, tail

pytestmark = pytest.mark.django_db
SLUG = "server-burst"
HOST = f"{SLUG}.localhost"
CLIENTS = 64
REQUEST_TIMEOUT = 20  # seconds; the whole burst takes about one on two CPUs
ASSET = re.compile(r"""<(?:link|script|img)\b[^>]*?\b(?:href|src)="([^"]+)\"""")


def drop_studio() -> None:
    with schema_context("public"):
        for studio in Studio.objects.filter(slug=SLUG):
            studio.delete(force_drop=True)


def create_studio() -> dict:
    """A studio of its own, committed (the server sees only committed rows): a trainer free 09:00-12:00 every
    day, a 60-minute session type, and CLIENTS client accounts with an API token each."""
    with schema_context("public"):
        studio = studio_create(name="Server Burst", slug=SLUG, owner_email=f"owner@{SLUG}.test", timezone="UTC")
    with tenant_context(studio):
        user = User.objects.create_user(f"coach@{SLUG}.test", role=Role.TRAINER)
        trainer = Trainer.objects.create(user=user, display_name="Coach", timezone="Europe/London")
        for day in range(7):
            AvailabilitySlot.objects.create(trainer=trainer, day_of_week=day, start_time=time(9), end_time=time(12))
        session_type = SessionType.objects.create(name="PT", duration_minutes=60, price=10, currency="GBP")
        session_type.trainers.add(trainer)
        tokens = []
        for index in range(CLIENTS):
            client = User.objects.create_user(f"client{index}@{SLUG}.test", role=Role.CLIENT)
            Client.objects.create(email=client.email, first_name=f"Client {index}", user=client)
            tokens.append(Token.objects.create(user=client).key)
    return {"studio": studio, "trainer": trainer.pk, "session_type": session_type.pk, "tokens": tokens}


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    """The server and the studio it serves; both removed afterwards."""
    with django_db_blocker.unblock():
        run_committed(drop_studio)  # left over by a run that was killed
        studio = run_committed(create_studio)
    try:
        if isinstance(studio, Exception):
            raise studio
        with live_server() as (port, log):
            yield {**studio, "port": port, "log": log}
    finally:
        with django_db_blocker.unblock():
            outcome = run_committed(drop_studio)
        if isinstance(outcome, Exception):
            raise outcome


def send(port: int, method: str, path: str, *, host: str, token: str | None = None, body: dict | None = None):
    """(status, body) of one request on a connection of its own."""
    headers = {"Host": host}
    if token:
        headers["Authorization"] = f"Token {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    http_connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        http_connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = http_connection.getresponse()
        return response.status, response.read()
    finally:
        http_connection.close()


def all_at_once(count: int, call) -> list:
    """``call(index)`` in ``count`` threads that connect at the same moment; a connection error is returned."""
    start_line = threading.Barrier(count)

    def one(index: int):
        start_line.wait(timeout=30)
        try:
            return call(index)
        except (OSError, http.client.HTTPException) as error:  # a reset, a refusal, a timeout
            return error

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def server_log(server) -> str:
    return tail(server["log"])


def test_64_clients_booking_one_slot_at_once_get_one_201_and_63_409s_and_no_reset(server):
    start = datetime.combine(next_monday(), time(10), tzinfo=ZoneInfo("Europe/London"))
    body = {"trainer": server["trainer"], "session_type": server["session_type"], "start_time": start.isoformat()}

    results = all_at_once(
        CLIENTS,
        lambda index: send(
            server["port"], "POST", "/api/bookings/", host=HOST, token=server["tokens"][index], body=body
        ),
    )

    failures = [result for result in results if isinstance(result, Exception)]
    assert failures == [], server_log(server)
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * (CLIENTS - 1), (statuses, server_log(server))
    assert {json.loads(data)["code"] for status, data in results if status == 409} == {"slot_unavailable"}

    def active_bookings():
        with tenant_context(server["studio"]):
            return Booking.objects.filter(status__in=Booking.ACTIVE_STATUSES).count()

    assert run_committed(active_bookings) == 1


def test_64_page_requests_at_once_all_answer_200(server):
    results = all_at_once(CLIENTS, lambda _index: send(server["port"], "GET", "/", host=HOST))

    assert [result if isinstance(result, Exception) else result[0] for result in results] == [200] * CLIENTS, (
        server_log(server)
    )


def test_every_asset_of_a_studio_page_and_of_the_api_docs_answers_200(server):
    """The pages' stylesheets, scripts and icons: whitenoise's static files, and Swagger UI's init script."""
    assets = set()
    for host, path in ((HOST, "/"), (PLATFORM_HOST, "/api/docs/")):
        status, page = send(server["port"], "GET", path, host=host)
        assert status == 200, (path, server_log(server))
        urls = {html.unescape(url) for url in ASSET.findall(page.decode())}
        assets |= {(host, url) for url in urls if url.startswith("/") and not url.startswith("//")}

    answers = {url: send(server["port"], "GET", url, host=host)[0] for host, url in sorted(assets)}

    assert "/static/themes/base/site.css" in answers
    assert any(url.startswith("/static/drf_spectacular_sidecar/swagger-ui-dist/") for url in answers)
    assert answers == dict.fromkeys(answers, 200)


def test_the_server_runs_with_debug_off_and_serves_uploaded_files(server, settings):
    """`make run` serves as production does (no technical error pages), yet a studio's uploaded logo shows."""
    from pathlib import Path

    assert RUN_ENVIRONMENT["DEBUG"] == "false"
    status, page = send(server["port"], "GET", "/no-such-page/", host=HOST)
    assert status == 404
    assert b"URLconf" not in page  # Django's technical 404 lists the URL patterns

    media_root = Path(settings.BASE_DIR) / "var" / "media"
    logo = media_root / "logos" / "server-test.txt"
    logo.parent.mkdir(parents=True, exist_ok=True)
    logo.write_text("a logo")
    try:
        status, body = send(server["port"], "GET", "/media/logos/server-test.txt", host=HOST)
    finally:
        logo.unlink()
    assert (status, body) == (200, b"a logo")
