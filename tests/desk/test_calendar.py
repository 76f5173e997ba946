"""The desk's calendar: a day with a column per trainer the caller may see, a trainer's week (or every trainer's,
stacked); bookings in words, breaks and off hours labelled; htmx swaps; the URL keeps the state; a fixed number of
queries whatever the number of trainers and bookings."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role
from tests.conftest import next_monday
from tests.factories import ClientFactory, SessionTypeFactory, TrainerFactory, UserFactory, WindowFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")


def _browser(studio, user=None, **headers) -> Client:
    browser = Client(HTTP_HOST=f"{studio.slug}.localhost", **headers)
    if user is not None:
        with tenant_context(studio):
            browser.force_login(user)
    return browser


def _at(day, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def _trainer(studio, name: str, *, windows=(("08:00", "13:00"),), zone: str = "Europe/London"):
    with tenant_context(studio):
        user = UserFactory(role=Role.TRAINER, first_name=name, last_name="Coach")
        trainer = TrainerFactory(user=user, display_name=f"{name} Coach", timezone=zone)
        for day in range(7):
            for start, end in windows:
                WindowFactory(trainer=trainer, day_of_week=day, start_time=start, end_time=end)
    return trainer


def _quoted(start: datetime) -> str:
    """A start as a calendar link's ?start=: ISO 8601 in the studio's zone, percent-encoded."""
    return start.astimezone(LONDON).isoformat().replace("+", "%2B").replace(":", "%3A")


# A free time's link: the trainer, the start, the session type preselected, and the time it says.
BOOK_LINK = re.compile(
    r'<a href="(/desk/bookings/new/\?trainer=(\d+)&amp;start=[^"&]+&amp;session_type=(\d+))">'
    r'Book<span class="visually-hidden"> ([^<]+) at</span> (\d\d:\d\d)</a>'
)


def _book_links(html: str) -> dict[tuple[str, str], tuple[str, int]]:
    """(spoken column, time) → (the link, the session type it preselects)."""
    return {
        (spoken, label): (href.replace("&amp;", "&"), int(session_type))
        for href, _trainer, session_type, spoken, label in BOOK_LINK.findall(html)
    }


def _book(studio, *, trainer, session_type, start, owner, first_name="Cleo", status=None):
    from tenant_apps.bookings import services

    with tenant_context(studio):
        client = ClientFactory(first_name=first_name, last_name="Client")
        booking = services.booking_create(
            trainer=trainer, client=client, session_type=session_type, start_time=start, created_by=owner
        )
        if status == "cancelled":
            services.booking_cancel(booking=booking, actor=owner, reason="")
    return booking


@pytest.mark.parametrize("who", ["owner_a", "manager_a"])
def test_owner_and_manager_see_a_column_for_every_active_trainer(studio_a, schedule_a, who, request):
    other = _trainer(studio_a, "Otto")
    with tenant_context(studio_a):
        retired = TrainerFactory(display_name="Retired Rita", is_active=False)
    page = _browser(studio_a, request.getfixturevalue(who)).get(f"/desk/calendar/?date={next_monday()}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>Calendar</h1>" in html
    assert ">Tess Trainer" in html and f">{other.display_name}" in html
    assert retired.display_name not in html


def test_a_trainer_sees_only_their_own_column(studio_a, schedule_a, trainer_a):
    other = _trainer(studio_a, "Otto")
    page = _browser(studio_a, trainer_a).get(f"/desk/calendar/?date={next_monday()}")
    assert page.status_code == 200
    html = page.content.decode()
    assert ">Tess Trainer" in html
    assert other.display_name not in html


def test_a_trainer_asking_for_another_trainers_week_gets_the_403_page(studio_a, schedule_a, trainer_a, owner_a):
    other = _trainer(studio_a, "Otto")
    session_type = schedule_a[1]
    with tenant_context(studio_a):
        session_type.trainers.add(other)
    _book(studio_a, trainer=other, session_type=session_type, start=_at(next_monday(), 9), owner=owner_a)
    page = _browser(studio_a, trainer_a).get(f"/desk/calendar/?view=week&trainer={other.pk}&date={next_monday()}")
    assert page.status_code == 403
    html = page.content.decode()
    assert "your own calendar" in html
    assert "Cleo" not in html and other.display_name not in html


def test_an_unknown_trainer_or_another_studios_is_not_found(studio_a, studio_b, schedule_a, owner_a):
    with tenant_context(studio_a):
        from tenant_apps.trainers.models import Trainer

        taken = set(Trainer.objects.values_list("pk", flat=True))
    theirs = _trainer(studio_b, "Bruno")
    while theirs.pk in taken:  # ids are per schema: make one that studio A doesn't have
        theirs = _trainer(studio_b, "Bruno")
    browser = _browser(studio_a, owner_a)
    assert browser.get(f"/desk/calendar/?view=week&trainer={theirs.pk}").status_code == 404
    assert browser.get("/desk/calendar/?view=week&trainer=999999").status_code == 404


@pytest.mark.parametrize(
    "query",
    ["date=tomorrow", "date=2026-02-30", "view=month", "trainer=-1", "trainer=1%20OR%201", "trainer=9999999999"],
)
def test_bad_query_parameters_are_a_400_that_says_what_is_wrong(studio_a, owner_a, query):
    page = _browser(studio_a, owner_a).get(f"/desk/calendar/?{query}")
    assert page.status_code == 400
    assert any(
        words in page.content.decode()
        for words in ("Use a date such as", "Select a valid choice", "Choose a trainer, or all trainers")
    )


def test_a_client_gets_403_and_a_visitor_is_sent_to_sign_in(studio_a, client_a):
    assert _browser(studio_a, client_a).get("/desk/calendar/").status_code == 403
    response = _browser(studio_a).get("/desk/calendar/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=/desk/calendar/")


def test_another_studios_owner_is_sent_to_sign_in(studio_a, studio_b):
    with tenant_context(studio_b):
        from shared_apps.accounts.models import User

        owner_b = User.objects.get(email="owner@bravo.test")
    browser = _browser(studio_b, owner_b)
    browser.defaults["HTTP_HOST"] = f"{studio_a.slug}.localhost"
    response = browser.get("/desk/calendar/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_booking_shows_client_type_status_and_payment_in_words_and_links_to_its_panel(studio_a, schedule_a, owner_a):
    trainer, session_type = schedule_a
    day = next_monday()
    with tenant_context(studio_a):
        session_type.color = "#a21caf"
        session_type.save()
    booking = _book(studio_a, trainer=trainer, session_type=session_type, start=_at(day, 10), owner=owner_a)
    cancelled = _book(
        studio_a,
        trainer=trainer,
        session_type=session_type,
        start=_at(day, 11),
        owner=owner_a,
        first_name="Carl",
        status="cancelled",
    )
    html = _browser(studio_a, owner_a).get(f"/desk/calendar/?date={day}").content.decode()
    card = html[html.index(f'href="/desk/bookings/{booking.pk}/"') :]
    card = card[: card.index("</a>")]
    assert "10:00&ndash;11:00" in card
    assert "Cleo Client" in card and "PT 60" in card
    assert "Confirmed · Unpaid" in card
    assert 'fill="#a21caf"' in card  # the session type's colour, beside its name
    assert (
        f'<a href="/desk/bookings/{cancelled.pk}/"><s>Tess Trainer, 11:00: Carl Client, PT 60</s> (cancelled)</a>'
        in html
    )


def test_breaks_and_time_outside_the_hours_are_labelled_and_free_times_lead_to_the_booking_form(
    studio_a, schedule_a, owner_a
):
    from tenant_apps.availability.models import TrainerBreak

    trainer, session_type = schedule_a
    _trainer(studio_a, "Otto")  # 08:00-13:00: the grid runs from 08:00, before Tess's 09:00
    day = next_monday()
    with tenant_context(studio_a):
        TrainerBreak.objects.create(trainer=trainer, starts_at=_at(day, 11), ends_at=_at(day, 11, 30), reason="Dentist")
    html = _browser(studio_a, owner_a).get(f"/desk/calendar/?date={day}").content.decode()
    assert '<td class="cal-off" rowspan="4">Not working</td>' in html  # Tess, 08:00-09:00
    assert '<td class="cal-break" rowspan="2">Break: Dentist</td>' in html
    start = _quoted(_at(day, 10))
    assert (
        f'href="/desk/bookings/new/?trainer={trainer.pk}&amp;start={start}&amp;session_type={session_type.pk}">Book'
        in html
    )


def test_only_the_starts_of_a_session_types_grid_link_to_the_booking_form(studio_a, schedule_a, owner_a):
    """PT 60 starts every hour from 09:00 (09:00-12:00): 09:00, 10:00 and 11:00 link, with the type preselected;
    09:15 and 11:30 are free time the form would refuse, so they don't. A trainer who offers no type gets none."""
    trainer, session_type = schedule_a
    _trainer(studio_a, "Otto")
    day = next_monday()
    html = _browser(studio_a, owner_a).get(f"/desk/calendar/?date={day}").content.decode()
    links = _book_links(html)
    assert sorted(label for spoken, label in links if spoken == "Tess Trainer") == ["09:00", "10:00", "11:00"]
    assert {session_type_id for _href, session_type_id in links.values()} == {session_type.pk}
    start = _quoted(_at(day, 9))
    assert (
        f'href="/desk/bookings/new/?trainer={trainer.pk}&amp;start={start}&amp;session_type={session_type.pk}"' in html
    )
    assert f"start={_quoted(_at(day, 9, 15))}" not in html
    assert not [spoken for spoken, _label in links if spoken == "Otto Coach"]
    # The rows between say they are free in words, not by colour.
    assert '<td class="cal-open" rowspan="3"><span class="visually-hidden">Free</span></td>' in html


def test_a_free_time_links_to_the_first_session_type_by_name_that_starts_then(studio_a, schedule_a, owner_a):
    """PT 60 (hourly) and Quick 30 (every 30 minutes): 09:00 suits both and preselects PT 60 (first by name),
    09:30 and 11:30 only Quick 30; a week shows the same on each day."""
    trainer, pt_60 = schedule_a
    with tenant_context(studio_a):
        quick = SessionTypeFactory(name="Quick 30", duration_minutes=30, trainers=[trainer])
        SessionTypeFactory(name="Gone 15", duration_minutes=15, trainers=[trainer], is_active=False)
    day = next_monday()
    browser = _browser(studio_a, owner_a)
    links = _book_links(browser.get(f"/desk/calendar/?date={day}").content.decode())
    chosen = {label: session_type_id for (_spoken, label), (_href, session_type_id) in links.items()}
    assert chosen == {
        "09:00": pt_60.pk,
        "09:30": quick.pk,
        "10:00": pt_60.pk,
        "10:30": quick.pk,
        "11:00": pt_60.pk,
        "11:30": quick.pk,
    }
    week = _book_links(browser.get(f"/desk/calendar/?view=week&trainer={trainer.pk}&date={day}").content.decode())
    assert len(week) == 7 * 6
    sunday = day + timedelta(days=6)
    assert week[(f"Tess Trainer on Sunday {sunday.day} {sunday:%B}", "09:30")][1] == quick.pk


@pytest.mark.parametrize("label", ["10:00", "10:30"])
def test_following_a_free_times_link_and_sending_the_form_books_it(studio_a, schedule_a, owner_a, label):
    """The front desk's first click works: the form the link opens, sent as it comes with a client chosen, books
    the trainer at that time with the type the link named (10:30 is Quick 30's alone: PT 60 would be refused)."""
    from tenant_apps.bookings.models import Booking

    trainer, _pt_60 = schedule_a
    with tenant_context(studio_a):
        quick = SessionTypeFactory(name="Quick 30", duration_minutes=30, trainers=[trainer])
        client = ClientFactory(first_name="Fay", last_name="First")
    day = next_monday()
    browser = _browser(studio_a, owner_a)
    links = _book_links(browser.get(f"/desk/calendar/?date={day}").content.decode())
    href, session_type_id = links[("Tess Trainer", label)]

    form = browser.get(f"{href}&client={client.pk}")

    assert form.status_code == 200
    html = form.content.decode()
    chooser = html[html.index('<select name="session_type"') :]
    assert re.search(rf'<option value="{session_type_id}" selected>', chooser[: chooser.index("</select>")])
    hour, minute = map(int, label.split(":"))
    start = _at(day, hour, minute)
    assert f'value="{start.astimezone(LONDON):%Y-%m-%dT%H:%M}"' in html
    data = {
        "client": client.pk,
        "trainer": trainer.pk,
        "session_type": session_type_id,
        "start": f"{start.astimezone(LONDON):%Y-%m-%dT%H:%M}",
        "payment": "unpaid",
        "notes": "",
    }
    response = browser.post("/desk/bookings/new/", data)

    assert response.status_code == 302, response.content.decode()
    with tenant_context(studio_a):
        booking = Booking.objects.get(client=client)
    assert response["Location"] == f"/desk/bookings/{booking.pk}/"
    assert (booking.trainer_id, booking.start_time) == (trainer.pk, start)
    assert booking.session_type_id == (quick.pk if label == "10:30" else _pt_60.pk)


def test_htmx_gets_the_calendar_alone_and_the_page_varies_on_it(studio_a, schedule_a, owner_a):
    full = _browser(studio_a, owner_a).get("/desk/calendar/")
    partial = _browser(studio_a, owner_a, HTTP_HX_REQUEST="true").get("/desk/calendar/")
    assert partial.status_code == 200
    assert "<h1>Calendar</h1>" in full.content.decode() and "<h1>" not in partial.content.decode()
    assert 'class="cal-grid"' in partial.content.decode()
    for response in (full, partial):
        assert "HX-Request" in response["Vary"]


def test_navigation_keeps_the_view_the_trainer_and_moves_the_date(studio_a, schedule_a, owner_a):
    trainer = schedule_a[0]
    day = next_monday() + timedelta(days=2)  # a Wednesday: the week shown starts on its Monday
    html = (
        _browser(studio_a, owner_a).get(f"/desk/calendar/?view=week&trainer={trainer.pk}&date={day}").content.decode()
    )
    monday = next_monday()
    assert f'href="/desk/calendar/?date={monday + timedelta(days=7)}&amp;view=week&amp;trainer={trainer.pk}"' in html
    assert f'href="/desk/calendar/?date={monday - timedelta(days=7)}&amp;view=week&amp;trainer={trainer.pk}"' in html
    assert f'hx-get="/desk/calendar/?date={monday + timedelta(days=7)}&amp;view=week&amp;trainer={trainer.pk}"' in html
    assert f'href="/desk/calendar/?date={day}&amp;view=day&amp;trainer={trainer.pk}"' in html  # the Day switch
    # The week's seven days, each linking to its day view.
    for offset in range(7):
        assert f"?date={monday + timedelta(days=offset)}&amp;view=day&amp;trainer={trainer.pk}" in html
    day_html = _browser(studio_a, owner_a).get(f"/desk/calendar/?date={day}").content.decode()
    assert f'href="/desk/calendar/?date={day + timedelta(days=1)}&amp;view=day&amp;trainer=all"' in day_html


def test_the_week_of_every_trainer_is_stacked(studio_a, schedule_a, owner_a):
    other = _trainer(studio_a, "Otto")
    html = (
        _browser(studio_a, owner_a).get(f"/desk/calendar/?view=week&trainer=all&date={next_monday()}").content.decode()
    )
    assert "<h3>Tess Trainer</h3>" in html and f"<h3>{other.display_name}</h3>" in html
    assert html.count('<table class="cal-grid">') == 2


def test_a_trainer_in_another_zone_sees_their_own_local_time(studio_a, schedule_a, trainer_a):
    trainer = schedule_a[0]
    with tenant_context(studio_a):
        trainer.timezone = "America/New_York"
        trainer.save()
    html = _browser(studio_a, trainer_a).get(f"/desk/calendar/?date={next_monday()}").content.decode()
    assert "Times in <strong>Europe/London</strong>" in html
    assert "Your own zone is America/New_York" in html
    noon = datetime.combine(next_monday(), datetime.min.time().replace(hour=12), tzinfo=LONDON)
    assert f"12:00 here is {noon.astimezone(ZoneInfo('America/New_York')):%H:%M} for you" in html


def test_a_trainer_in_the_studios_zone_gets_no_note(studio_a, schedule_a, trainer_a):
    html = _browser(studio_a, trainer_a).get(f"/desk/calendar/?date={next_monday()}").content.decode()
    assert "Your own zone" not in html


def _queries(browser: Client, path: str) -> int:
    assert browser.get(path).status_code == 200  # warm: the session, the studio's host
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(path)
    assert response.status_code == 200
    return len(queries)


def test_the_day_and_week_views_take_the_same_queries_whatever_the_trainers_and_bookings(
    studio_a, schedule_a, owner_a, settings
):
    from tenant_apps.availability.models import TrainerBreak

    settings.AVAILABILITY_CACHE_SECONDS = 0  # the grids computed every time (a cached one takes fewer still)

    trainer, session_type = schedule_a
    day = next_monday()
    browser = _browser(studio_a, owner_a)
    day_path = f"/desk/calendar/?date={day}"
    week_path = f"/desk/calendar/?view=week&trainer={trainer.pk}&date={day}"
    all_weeks_path = f"/desk/calendar/?view=week&trainer=all&date={day}"
    _book(studio_a, trainer=trainer, session_type=session_type, start=_at(day, 9), owner=owner_a)
    before = [_queries(browser, path) for path in (day_path, week_path, all_weeks_path)]

    for index in range(4):
        other = _trainer(studio_a, f"Extra{index}")
        with tenant_context(studio_a):
            session_type.trainers.add(other)
            TrainerBreak.objects.create(trainer=other, starts_at=_at(day, 12), ends_at=_at(day, 13))
        for hour in (8, 10):
            _book(studio_a, trainer=other, session_type=session_type, start=_at(day, hour), owner=owner_a)
    for offset in range(1, 7):
        _book(
            studio_a,
            trainer=trainer,
            session_type=session_type,
            start=_at(day + timedelta(days=offset), 9),
            owner=owner_a,
        )
    after = [_queries(browser, path) for path in (day_path, week_path, all_weeks_path)]

    assert after == before
    html = browser.get(day_path).content.decode()
    assert html.count('class="cal-card') == 9  # the data did grow: 1 + 4 x 2 bookings on the day


def test_a_cached_calendar_shows_every_change_at_once(studio_a, schedule_a, owner_a):
    """The grids are cached under the studio's calendar version: a new booking, a client's new name, a break
    and a cancellation show on the next load, and an unchanged calendar is served without its queries."""
    from tenant_apps.availability.models import TrainerBreak
    from tenant_apps.bookings.services import booking_cancel

    trainer, session_type = schedule_a
    day = next_monday()
    browser = _browser(studio_a, owner_a)
    path = f"/desk/calendar/?date={day}"
    assert "Cleo" not in browser.get(path).content.decode()
    with CaptureQueriesContext(connection) as cached:
        browser.get(path)
    assert not [query for query in cached if "bookings_booking" in query["sql"]]

    booking = _book(studio_a, trainer=trainer, session_type=session_type, start=_at(day, 9), owner=owner_a)
    assert "Cleo" in browser.get(path).content.decode()
    with tenant_context(studio_a):
        client = booking.client
        client.first_name = "Clementine"
        client.save()
    assert "Clementine" in browser.get(path).content.decode()
    with tenant_context(studio_a):
        TrainerBreak.objects.create(trainer=trainer, starts_at=_at(day, 11), ends_at=_at(day, 12), reason="Physio")
    assert "Break: Physio" in browser.get(path).content.decode()
    with tenant_context(studio_a):
        booking_cancel(booking=booking, actor=owner_a)
    assert "(cancelled)" in browser.get(path).content.decode()


def test_a_book_link_is_only_offered_where_the_booking_service_would_accept_the_start(studio_a, schedule_a, owner_a):
    """Grid starts that a booking's buffers, a guest's live hold or the type's notice rule out are not links: the
    calendar asks the same rules as the service."""
    from tenant_apps.bookings.holds import hold_create

    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        session_type.buffer_after_minutes = 30
        session_type.save()
    day = next_monday()
    _book(studio_a, trainer=trainer, session_type=session_type, start=_at(day, 10), owner=owner_a)
    with tenant_context(studio_a):
        hold_create(
            trainer=trainer,
            session_type=session_type,
            start_time=_at(day + timedelta(days=1), 9),
            first_name="Gina",
            email="gina@example.com",
            phone="07911 123456",
            client_address="198.51.100.7",
        )
    page = _browser(studio_a, owner_a).get(f"/desk/calendar/?view=week&trainer={trainer.pk}&date={day}").content
    html = page.decode()

    def offered(moment) -> bool:
        return f"start={_quoted(moment)}&amp;" in html

    assert not offered(_at(day, 11))  # inside the 10:00 session's 30 minutes after
    assert not offered(_at(day, 9))  # its buffer would reach into the 10:00 session
    assert not offered(_at(day + timedelta(days=1), 9))  # a guest holds it
    assert offered(_at(day + timedelta(days=1), 11)) and offered(_at(day + timedelta(days=2), 9))


def test_no_book_link_inside_the_session_types_notice(studio_a, schedule_a, owner_a):
    """With two days' notice, tomorrow's times are all inside it (no link), while a day two weeks ahead has its
    09:00 offered."""
    _trainer, session_type = schedule_a
    with tenant_context(studio_a):
        session_type.min_notice_minutes = 2 * 24 * 60
        session_type.save()
    tomorrow = datetime.now(LONDON).date() + timedelta(days=1)
    html = _browser(studio_a, owner_a).get(f"/desk/calendar/?date={tomorrow}").content.decode()
    assert "Book<span" not in html  # every window time of tomorrow is inside the notice
    far = next_monday() + timedelta(days=7)
    html = _browser(studio_a, owner_a).get(f"/desk/calendar/?date={far}").content.decode()
    assert f"start={_quoted(_at(far, 9))}&amp;" in html
