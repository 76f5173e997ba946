"""The booking site's speed: the week view for "any available trainer" vs a trivial page, and what a first load
of /book/ transfers.

    .venv/bin/python bench/site.py [--requests 200]

The studio is the slots bench's (bench/slots.py): 20 trainers, three windows every day, 500 bookings each. A
second session type is taught by only 5 of them, to show the week view takes as many queries with 5 trainers
as with 20 (counted in-process, through Django's test client).

Targets, measured side by side on gunicorn servers (`make run`'s command line), requests interleaved:
- week view ("any available trainer", 20 trainers) median / GET /healthz median <= 3, as deployed: free times
  cached under the studio's calendar version (tenant_apps/availability/versions.py, with Redis). The same page
  computing its week on every request (AVAILABILITY_CACHE_SECONDS=0, a second server) is shown beside it;
- the same number of SQL queries for the week view with 5 and with 20 trainers;
- a first load of /book/ (the HTML and the same-origin CSS, JS and images it references, each fetched with
  `Accept-Encoding: gzip, br` as a browser would) transfers <= 100 KB; the week page is shown too.
"""

import argparse
import gzip
import http.client
import re
import statistics
import time
from datetime import datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import slots
from _setup import SERVER_ENV, django_setup, drop_studios, start_gunicorn

SLUG = "bench-site"
HOST = f"{SLUG}.localhost"
FEW_TRAINERS = 5
ACCEPT_ENCODING = "gzip, br"
TRANSFER_TARGET = 100 * 1024
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")


def timed_get(port: int, path: str) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    connection.request("GET", path, headers={"Host": HOST})
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {response.status} {body[:500]!r}")
    return elapsed


def fetch_as_browser(port: int, path: str) -> tuple[bytes, str, str]:
    """The bytes on the wire (not decoded), their Content-Encoding and Content-Type."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Host": HOST, "Accept-Encoding": ACCEPT_ENCODING})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {response.status}")
    return body, response.getheader("Content-Encoding", ""), response.getheader("Content-Type", "")


def decoded(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":
        import brotli  # only if the server ever answers with br

        return brotli.decompress(body)
    return body


class References(HTMLParser):
    """Stylesheets, scripts, images and icons a page loads at once."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "link" and {"stylesheet", "icon", "preload"} & set((values.get("rel") or "").split()):
            self.found.append(values.get("href") or "")
        elif tag in ("script", "img") and values.get("src"):
            self.found.append(values["src"] or "")


def same_origin(base: str, reference: str) -> str | None:
    """The path of a same-origin reference (None for data: URLs and other hosts)."""
    if not reference or reference.startswith("data:"):
        return None
    absolute = urlsplit(urljoin(f"http://{HOST}{base}", reference))
    if absolute.netloc != HOST:
        return None
    return absolute.path + (f"?{absolute.query}" if absolute.query else "")


def first_load(port: int, path: str) -> list[tuple[str, int, int, str]]:
    """(path, bytes transferred, bytes decoded, encoding) of the page and everything it loads at once, CSS's
    own url()s included."""
    rows, seen, queue = [], set(), [path]
    while queue:
        current = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        body, encoding, content_type = fetch_as_browser(port, current)
        text = decoded(body, encoding)
        rows.append((current, len(body), len(text), encoding or "identity"))
        if "html" in content_type:
            parser = References()
            parser.feed(text.decode())
            queue += [found for ref in parser.found if (found := same_origin(current, ref))]
        elif "css" in content_type:
            queue += [found for ref in CSS_URL.findall(text.decode()) if (found := same_origin(current, ref))]
    return rows


def print_load(title: str, rows: list[tuple[str, int, int, str]]) -> int:
    total = sum(row[1] for row in rows)
    print(f"{title}: {total / 1024:.1f} KB transferred (target <= {TRANSFER_TARGET // 1024} KB)")
    for path, sent, size, encoding in rows:
        could = len(gzip.compress(decoded_sizes_cache.get(path, b""), 9)) if path in decoded_sizes_cache else 0
        note = f"   (gzip would make it {could / 1024:.1f} KB)" if encoding == "identity" and could else ""
        print(f"  {sent / 1024:7.1f} KB  {encoding:8}  {size / 1024:7.1f} KB decoded  {path}{note}")
    return total


decoded_sizes_cache: dict[str, bytes] = {}


def remember_bodies(port: int, rows: list[tuple[str, int, int, str]]) -> None:
    """The decoded bodies of what came uncompressed, to say what compression would have saved."""
    for path, _sent, _size, encoding in rows:
        if encoding == "identity":
            body, got_encoding, _type = fetch_as_browser(port, path)
            decoded_sizes_cache[path] = decoded(body, got_encoding)


def build_studio() -> tuple[int, int]:
    """The slots bench's studio under this bench's slug, plus a session type taught by FEW_TRAINERS of its
    trainers; (the 20-trainer type's id, the 5-trainer type's id)."""
    from django_tenants.utils import schema_context, tenant_context

    from tenant_apps.trainers.models import Trainer
    from tenant_apps.trainers.services import session_type_create
    from tenants.models import Studio

    slots.SLUG, slots.HOST = SLUG, HOST
    _token, trainer_ids, session_type_id, _booked = slots.build_studio()
    with schema_context("public"):
        studio = Studio.objects.get(slug=SLUG)
    with tenant_context(studio):
        few = session_type_create(
            name="Small group",
            duration_minutes=60,
            buffer_before_minutes=10,
            buffer_after_minutes=10,
            min_notice_minutes=0,
            max_advance_days=120,
            price=Decimal("50.00"),
            trainers=list(Trainer.objects.filter(pk__in=trainer_ids[:FEW_TRAINERS])),
        )
    return session_type_id, few.pk


def week_path(session_type_id: int, monday: str) -> str:
    return f"/book/?type={session_type_id}&trainer=any&week={monday}"


def count_queries(path: str, *, cache_seconds: int) -> int:
    """The SQL queries of one week view, in-process (the test client), after a warm-up request; free times
    cached for ``cache_seconds`` (0: computed on every request)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    client = Client(HTTP_HOST=HOST)
    with override_settings(AVAILABILITY_CACHE_SECONDS=cache_seconds):
        if client.get(path).status_code != 200:
            raise RuntimeError(f"GET {path} failed in-process")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
    if response.status_code != 200 or b'a class="slot"' not in response.content:
        raise RuntimeError(f"GET {path}: HTTP {response.status_code}, or no free slot shown")
    return len(queries)


def selector_time(session_type_id: int, monday: str, runs: int = 20) -> float:
    """In-process median (seconds) of the "any trainer" free-slot selector over the week shown: what the view
    computes when the week isn't cached."""
    from datetime import date

    from django.utils import timezone
    from django_tenants.utils import schema_context, tenant_context

    from tenant_apps.availability.selectors import available_slots_any_trainer
    from tenant_apps.trainers.models import SessionType
    from tenants.models import Studio

    with schema_context("public"):
        studio = Studio.objects.get(slug=SLUG)
    with tenant_context(studio):
        session_type = SessionType.objects.get(pk=session_type_id)
        first = date.fromisoformat(monday)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            available_slots_any_trainer(
                session_type=session_type, first_day=first, last_day=first + timedelta(days=6), now=timezone.now()
            )
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def summary(times: list[float]) -> str:
    p90 = statistics.quantiles(times, n=10)[-1]
    return f"median {statistics.median(times) * 1000:7.2f} ms   (p90 {p90 * 1000:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200, help="requests of each kind")
    arguments = parser.parse_args()

    django_setup()
    from django.conf import settings

    cache_seconds = settings.AVAILABILITY_CACHE_SECONDS
    drop_studios(SLUG)
    try:
        started = time.perf_counter()
        many_id, few_id = build_studio()
        setup_seconds = time.perf_counter() - started
        today = datetime.now(ZoneInfo(slots.ZONE)).date()
        # Next week: the whole week is ahead, so every day has free times (this week may be half over).
        monday = (today - timedelta(days=today.weekday()) + timedelta(days=7)).isoformat()
        many_path, few_path = week_path(many_id, monday), week_path(few_id, monday)
        queries = {
            seconds: (count_queries(few_path, cache_seconds=seconds), count_queries(many_path, cache_seconds=seconds))
            for seconds in (0, cache_seconds)
        }
        selector = selector_time(many_id, monday)

        # Two servers side by side: as deployed (free times cached under the calendar version, with Redis), and
        # computing the week on every request.
        cached_server, cached_port = start_gunicorn()
        computed_server, computed_port = start_gunicorn(env={**SERVER_ENV, "AVAILABILITY_CACHE_SECONDS": "0"})
        try:
            for _ in range(20):  # warm every path
                timed_get(cached_port, many_path)
                timed_get(computed_port, many_path)
                timed_get(cached_port, "/healthz")
            cached_times, computed_times, trivial_times = [], [], []
            for _ in range(arguments.requests):
                cached_times.append(timed_get(cached_port, many_path))
                computed_times.append(timed_get(computed_port, many_path))
                trivial_times.append(timed_get(cached_port, "/healthz"))
            book_rows = first_load(cached_port, "/book/")
            week_rows = first_load(cached_port, many_path)
            remember_bodies(cached_port, book_rows + week_rows)
        finally:
            for server in (cached_server, computed_server):
                server.terminate()
                server.wait(timeout=10)
    finally:
        drop_studios(SLUG)

    trivial = statistics.median(trivial_times)
    print(f"setup: the slots bench's studio, {slots.TRAINERS} trainers ({setup_seconds:.1f} s)")
    print(f"requests of each kind: {arguments.requests}, interleaved")
    cache_note = f"cached {cache_seconds} s" if cache_seconds else "NOT cached: no shared cache (REDIS_URL unset)"
    print(f"week view, any available trainer ({slots.TRAINERS} trainers), {cache_note}:  {summary(cached_times)}")
    print(f"week view, any available trainer, computed on every request:  {summary(computed_times)}")
    print(f"/healthz:  {summary(trivial_times)}")
    print(
        f"week view / healthz = {statistics.median(cached_times) / trivial:.2f} as deployed (target <= 3); "
        f"{statistics.median(computed_times) / trivial:.2f} computed every time"
    )
    print(f"  the free-slot selector for the week (in-process): {selector * 1000:.2f} ms")
    for seconds, (few, many) in queries.items():
        label = "computed" if seconds == 0 else "cached"
        verdict = "equal" if few == many else "NOT equal"
        print(
            f"SQL queries of the week view ({label}): {few} with {FEW_TRAINERS} trainers, {many} with "
            f"{slots.TRAINERS}  ({verdict}; target equal)"
        )
    print_load("first load of /book/", book_rows)
    print_load("first load of the week page", week_rows)


if __name__ == "__main__":
    main()
