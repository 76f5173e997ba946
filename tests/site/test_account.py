"""My account (/account/, /account/packages/, /account/profile/): a signed-in client sees their own sessions,
packages and profile, and nothing of anyone else's; staff and strangers are sent elsewhere."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import User
from tenant_apps.bookings.models import Booking
from tenant_apps.bookings.services import booking_cancel, booking_create
from tenant_apps.bookings.tokens import booking_manage_token
from tenant_apps.packages.services import package_assign
from tests.conftest import next_monday
from tests.factories import ClientFactory, SessionPackageFactory, SessionTypeFactory, TrainerFactory, UserFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def _browser(user, studio) -> Client:
    """A browser on ``studio``'s host with ``user`` signed in (the session lives in the studio's schema)."""
    browser = Client(HTTP_HOST=f"{studio.slug}.localhost")
    with tenant_context(studio):
        browser.force_login(user)
    return browser


def _page(browser: Client, path: str) -> str:
    response = browser.get(path)
    assert response.status_code == 200, response
    return response.content.decode()


def _booking(trainer, client, session_type, start: datetime, **fields) -> Booking:
    """A booking row as history leaves it (past, cancelled...), without the booking rules' checks."""
    end = start + timedelta(minutes=60)
    return Booking.objects.create(
        trainer=trainer,
        client=client,
        session_type=session_type,
        start_time=start,
        end_time=end,
        blocked_from=start,
        blocked_until=end,
        price=Decimal("40.00"),
        currency="GBP",
        **fields,
    )


def _at(day_offset: int, hour: int) -> datetime:
    today = timezone.now().astimezone(LONDON).date()
    return datetime.combine(today + timedelta(days=day_offset), datetime.min.time(), LONDON).replace(hour=hour)


# -- who may see the pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/account/", "/account/packages/", "/account/profile/"])
def test_a_visitor_who_is_not_signed_in_is_sent_to_the_login_page(studio_a, path):
    response = Client(HTTP_HOST="alpha.localhost").get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=" + path)


@pytest.mark.parametrize("path", ["/account/", "/account/packages/"])
def test_staff_are_sent_to_their_profile_with_a_word_on_why(studio_a, trainer_a, path):
    browser = _browser(trainer_a, studio_a)

    response = browser.get(path)
    profile = browser.get(response["Location"]).content.decode()

    assert response.status_code == 302 and response["Location"] == "/account/profile/"
    assert "Your staff account has none of its own" in profile
    assert 'href="/account/packages/"' not in profile  # no client tabs for staff


def test_a_client_without_a_client_record_yet_is_told_to_confirm_their_address(studio_a, client_a):
    # client_a has an account but no Client row: sign-up of an address the studio knew, not confirmed yet.
    for path in ("/account/", "/account/packages/"):
        page = _page(_browser(client_a, studio_a), path)

        assert "Your account is almost ready" in page
        assert "confirm it: follow the link in the mail we sent to" in page and client_a.email in page


# -- sessions ------------------------------------------------------------------------------------------------


def test_sessions_show_upcoming_with_manage_links_and_past_ones_latest_first(
    studio_a, client_a, booking_client_a, schedule_a
):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        upcoming = _booking(trainer, booking_client_a, session_type, _at(3, 10))
        soon = _booking(trainer, booking_client_a, session_type, _at(2, 9), status="pending")
        _booking(trainer, booking_client_a, session_type, _at(-9, 10), status="completed")
        _booking(trainer, booking_client_a, session_type, _at(-2, 11), status="no_show")
        _booking(trainer, booking_client_a, session_type, _at(5, 11), status="cancelled", cancelled_by="client")
        tokens = {booking.pk: booking_manage_token(booking) for booking in (upcoming, soon)}

    page = _page(_browser(client_a, studio_a), "/account/")

    upcoming_part, past_part = page.split("Past and cancelled sessions")
    assert upcoming_part.index(f"{_at(2, 9):%a} {_at(2, 9).day}") < upcoming_part.index(
        f"{_at(3, 10):%a} {_at(3, 10).day}"
    )
    for booking_id, token in tokens.items():
        assert f'href="/b/{token}/"' in upcoming_part, booking_id
    assert "Pending" in upcoming_part and "Confirmed" in upcoming_part and "Tess Trainer" in upcoming_part
    assert "To pay at the studio" in upcoming_part
    # Every time carries its zone.
    assert re.search("10:00\u201311:00 (GMT|BST)", upcoming_part)
    assert "Europe/London" in page
    # Latest first; a cancelled session is struck through and says so; none of them can be managed.
    assert past_part.index("Cancelled") < past_part.index("No-show") < past_part.index("Completed")
    assert "<s>PT 60</s>" in past_part
    assert "/b/" not in past_part


def test_past_sessions_come_a_page_at_a_time(studio_a, client_a, booking_client_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        for day in range(1, 13):
            _booking(trainer, booking_client_a, session_type, _at(-day, 10), status="completed")
    browser = _browser(client_a, studio_a)

    first = _page(browser, "/account/")
    second = _page(browser, "/account/?page=2")

    assert first.count("<h3>PT 60</h3>") == 10 and "Page 1 of 2" in first and 'href="?page=2"' in first
    assert second.count("<h3>PT 60</h3>") == 2 and "Page 2 of 2" in second


def test_a_client_never_sees_another_clients_sessions(studio_a, client_a, booking_client_a, schedule_a):
    trainer, _session_type = schedule_a
    with tenant_context(studio_a):
        someone = ClientFactory(email="someone@alpha.test", first_name="Other")
        SessionTypeFactory(name="Secret session", trainers=[trainer])
        secret = SessionTypeFactory(name="Their yoga", trainers=[trainer])
        _booking(trainer, someone, secret, _at(4, 10))
        _booking(trainer, someone, secret, _at(-4, 10), status="completed")

    page = _page(_browser(client_a, studio_a), "/account/")

    assert "Their yoga" not in page
    assert "You have no upcoming sessions." in page and "No past sessions yet." in page


def test_a_session_of_another_studio_is_not_shown_and_its_client_is_refused_here(
    studio_a, studio_b, client_a, client_b, booking_client_a, schedule_a
):
    with tenant_context(studio_b):
        trainer = TrainerFactory(display_name="Bravo Coach")
        session_type = SessionTypeFactory(name="Bravo flow", trainers=[trainer])
        record = ClientFactory(email=client_b.email, user=client_b)
        _booking(trainer, record, session_type, _at(3, 10))

    alpha_page = _page(_browser(client_a, studio_a), "/account/")
    # studio B's session, on studio A's host: the account isn't signed in there.
    foreign = _browser(client_b, studio_b).get("/account/", HTTP_HOST="alpha.localhost")
    bravo_page = _page(_browser(client_b, studio_b), "/account/")

    assert "Bravo flow" not in alpha_page
    assert foreign.status_code == 302 and "/accounts/login/" in foreign["Location"]
    assert "Bravo flow" in bravo_page and "Bravo Yoga" in bravo_page


def test_the_sessions_page_takes_the_same_number_of_queries_for_1_or_20_sessions(
    studio_a, client_a, booking_client_a, schedule_a
):
    trainer, session_type = schedule_a
    browser = _browser(client_a, studio_a)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            _page(browser, "/account/")
        return len(captured)

    with tenant_context(studio_a):
        _booking(trainer, booking_client_a, session_type, _at(2, 9))
        _booking(trainer, booking_client_a, session_type, _at(-2, 9), status="completed")
    queries()  # the first request warms the caches (the studio's host, the session)
    few = queries()
    with tenant_context(studio_a):
        other = TrainerFactory(user=UserFactory(role="trainer", email="other@alpha.test"), display_name="Other")
        for day in range(3, 13):
            _booking(other, booking_client_a, SessionTypeFactory(trainers=[other]), _at(day, 10))
            _booking(other, booking_client_a, SessionTypeFactory(trainers=[other]), _at(-day, 10), status="completed")

    assert queries() == few


# -- packages ------------------------------------------------------------------------------------------------


def _sell(studio, client, *, name: str = "Five pack", count: int = 5, purchased_at=None):
    with tenant_context(studio):
        package = SessionPackageFactory(name=name, sessions_count=count, price="200.00", validity_days=60)
        return package_assign(
            package=package,
            client=client,
            payment_method="cash",
            amount_paid=Decimal("200.00"),
            purchased_at=purchased_at,
        )


def test_packages_show_credits_last_day_status_and_the_ledger_in_plain_words(
    studio_a, client_a, booking_client_a, schedule_a
):
    trainer, session_type = schedule_a
    client_package = _sell(studio_a, booking_client_a)
    start = datetime.combine(next_monday(), datetime.min.time(), LONDON).replace(hour=10)
    with tenant_context(studio_a):
        kept = booking_create(
            trainer=trainer, client=booking_client_a, session_type=session_type, start_time=start, created_by=client_a
        )
        dropped = booking_create(
            trainer=trainer,
            client=booking_client_a,
            session_type=session_type,
            start_time=start + timedelta(days=1),
            created_by=client_a,
        )
        booking_cancel(booking=dropped, actor=client_a)
    assert kept.client_package_id == client_package.pk

    page = _page(_browser(client_a, studio_a), "/account/packages/")

    assert "Five pack" in page and "4 of 5" in page and "Can pay for bookings" in page
    assert (
        f"{client_package.expiry_date:%a} {client_package.expiry_date.day} {client_package.expiry_date:%b %Y}" in page
    )
    assert "Bought 5 sessions" in page
    assert f"Used for Mon {start.day} {start:%b} 10:00 with Tess Trainer" in page
    tuesday = start + timedelta(days=1)
    assert f"Returned: cancelled in time (Tue {tuesday.day} {tuesday:%b} 10:00 with Tess Trainer)" in page
    # Newest first, each with the balance it left: 5, 4, 3, then 4.
    ledger = re.findall("<td>([+\u2212]\\d+)</td>\\s*<td>(\\d+)</td>", page)
    assert ledger == [("+1", "4"), ("\u22121", "3"), ("\u22121", "4"), ("+5", "5")]


def test_an_expired_or_used_up_package_says_so(studio_a, client_a, booking_client_a):
    _sell(studio_a, booking_client_a, name="Old pack", purchased_at=timezone.now() - timedelta(days=90))
    empty = _sell(studio_a, booking_client_a, name="Empty pack", count=1)
    with tenant_context(studio_a):
        from tenant_apps.packages.services import client_package_adjust

        client_package_adjust(client_package=empty, delta=-1, reason="Given by mistake", actor=None)

    page = _page(_browser(client_a, studio_a), "/account/packages/")

    # Expiring first on top: the old pack, then the empty one.
    old_part, empty_part = page.split("Empty pack", 1)
    assert "Old pack" in old_part and "Expired" in old_part and "Used up" not in old_part
    assert "Used up" in empty_part and "The studio took back 1 session: Given by mistake" in empty_part


def test_a_client_never_sees_another_clients_packages(studio_a, client_a, booking_client_a):
    with tenant_context(studio_a):
        someone = ClientFactory(email="someone@alpha.test")
    _sell(studio_a, someone, name="Their pack")

    page = _page(_browser(client_a, studio_a), "/account/packages/")

    assert "Their pack" not in page and "You have no packages yet." in page


def test_the_packages_page_takes_the_same_number_of_queries_for_1_or_10_packages(studio_a, client_a, booking_client_a):
    browser = _browser(client_a, studio_a)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            _page(browser, "/account/packages/")
        return len(captured)

    _sell(studio_a, booking_client_a, name="Pack 0")
    queries()  # the first request warms the caches (the studio's host, the session)
    few = queries()
    for index in range(1, 10):
        _sell(studio_a, booking_client_a, name=f"Pack {index}")

    assert queries() == few


# -- profile -------------------------------------------------------------------------------------------------


def test_a_client_changes_their_name_and_phone_read_as_a_number_of_the_studios_country(studio_a, client_a):
    with tenant_context(studio_a):
        from tenants.models import Studio

        country = Studio.objects.get(pk=studio_a.pk).country
    browser = _browser(client_a, studio_a)
    number = {"GB": ("07911 123456", "+447911123456"), "US": ("(201) 555-0123", "+12015550123")}
    typed, stored = number.get(country, ("+44 7911 123456", "+447911123456"))

    form = _page(browser, "/account/profile/")
    response = browser.post("/account/profile/", {"first_name": "Lena", "last_name": "Marsh", "phone": typed})

    assert 'autocomplete="given-name"' in form and 'href="/accounts/password/change/"' in form
    assert 'href="/accounts/2fa/"' in form
    assert response.status_code == 302 and response["Location"] == "/account/profile/"
    with tenant_context(studio_a):
        user = User.objects.get(pk=client_a.pk)
    assert (user.first_name, user.last_name, str(user.phone)) == ("Lena", "Marsh", stored)
    assert "Your profile is saved." in _page(browser, "/account/profile/")


def test_profile_errors_are_shown_in_the_summary_and_beside_the_field_and_nothing_is_saved(studio_a, client_a):
    browser = _browser(client_a, studio_a)

    response = browser.post("/account/profile/", {"first_name": "", "last_name": "Marsh", "phone": "12"})
    page = response.content.decode()

    assert response.status_code == 200
    assert "<title>Error: My profile" in page
    summary = page.split('class="error-summary"')[1].split("</div>")[0]
    assert "There is a problem" in summary
    assert '<a href="#id_first_name">Enter your first name.</a>' in summary
    assert 'href="#id_phone">Enter a valid phone number' in summary
    assert 'id="id_phone-error"' in page and 'aria-invalid="true"' in page
    assert 'value="Marsh"' in page  # what was typed stays
    with tenant_context(studio_a):
        assert User.objects.get(pk=client_a.pk).last_name == client_a.last_name


def test_staff_may_edit_their_own_profile(studio_a, trainer_a):
    response = _browser(trainer_a, studio_a).post(
        "/account/profile/", {"first_name": "Tess", "last_name": "Coach", "phone": ""}
    )

    assert response.status_code == 302
    with tenant_context(studio_a):
        assert User.objects.get(pk=trainer_a.pk).get_full_name() == "Tess Coach"


# -- navigation ----------------------------------------------------------------------------------------------


def test_the_header_shows_book_and_my_account_to_a_client_and_marks_the_current_page(studio_a, client_a):
    browser = _browser(client_a, studio_a)

    home = _page(browser, "/")
    profile = _page(browser, "/account/profile/")

    assert '<a href="/book/">Book</a>' in home and '<a href="/account/">My account</a>' in home
    assert '<a href="/account/" aria-current="true">My account</a>' in profile
    assert '<a href="/account/profile/" aria-current="page">Profile</a>' in profile


def test_a_visitor_sees_no_my_account_link(studio_a):
    home = _page(Client(HTTP_HOST="alpha.localhost"), "/")

    assert "My account" not in home and "Log in" in home
