"""Trainers' own pages on the desk: the weekly hours (add, move, remove), one-off windows, time off with the bookings
it meets listed before it is saved, and the profile (photo resized, time zone checked). A trainer edits their own;
owner and managers anyone's; the public week shows a change at once."""

import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as Browser
from django_tenants.utils import tenant_context
from PIL import Image

from shared_apps.accounts.models import Role, User
from shared_apps.core.exceptions import ValidationFailed
from tenant_apps.availability.models import AvailabilitySlot, TrainerBreak
from tenant_apps.trainers import services as trainer_services
from tenant_apps.trainers.models import Trainer
from tests.conftest import make_user, next_monday
from tests.factories import TrainerFactory, WindowFactory

pytestmark = pytest.mark.django_db
HOURS = "/desk/hours/"
LONDON = ZoneInfo("Europe/London")


def _browser(studio, user=None) -> Browser:
    browser = Browser(HTTP_HOST=f"{studio.slug}.localhost")
    if user is not None:
        with tenant_context(studio):
            browser.force_login(user)
    return browser


@pytest.fixture
def other_trainer(studio_a):
    with tenant_context(studio_a):
        user = make_user(studio_a, role=Role.TRAINER, email="otto@alpha.test")
        return TrainerFactory(user=user, display_name="Otto Other", timezone="Europe/London")


def _windows(studio, trainer) -> list[tuple]:
    with tenant_context(studio):
        return list(
            AvailabilitySlot.objects.filter(trainer=trainer)
            .order_by("is_recurring", "date", "day_of_week", "start_time")
            .values_list("day_of_week", "start_time", "end_time", "date")
        )


def test_a_trainer_sees_their_weekly_grid(studio_a, trainer_a, schedule_a):
    response = _browser(studio_a, trainer_a).get(HOURS)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Hours of Tess Trainer</h1>" in html
    assert html.count('value="09:00"') == 7 and "<h3>Sunday</h3>" in html
    assert "Europe/London" in html


def test_add_move_and_remove_a_weekly_window(studio_a, trainer_a, schedule_a):
    trainer, _ = schedule_a
    browser = _browser(studio_a, trainer_a)

    added = browser.post(
        "/desk/hours/windows/",
        {"trainer": trainer.pk, "kind": "weekly", "weekly-day_of_week": "0", "weekly-start_time": "14:00",
         "weekly-end_time": "17:00"},
    )  # fmt: skip
    assert added.status_code == 302 and added["Location"] == f"{HOURS}?trainer={trainer.pk}"
    with tenant_context(studio_a):
        window = AvailabilitySlot.objects.get(trainer=trainer, start_time=time(14))

    moved = browser.post(f"/desk/hours/windows/{window.pk}/", {f"w{window.pk}-start_time": "15:00",
                                                              f"w{window.pk}-end_time": "18:30"})  # fmt: skip
    assert moved.status_code == 302
    with tenant_context(studio_a):
        window.refresh_from_db()
    assert (window.start_time, window.end_time) == (time(15), time(18, 30))

    removed = browser.post(f"/desk/hours/windows/{window.pk}/remove/")
    assert removed.status_code == 302
    with tenant_context(studio_a):
        assert not AvailabilitySlot.objects.filter(pk=window.pk).exists()
    assert len(_windows(studio_a, trainer)) == 7


def test_a_window_shows_at_once_on_the_public_week(studio_a, trainer_a, schedule_a):
    trainer, session_type = schedule_a
    monday = next_monday()
    week = f"/book/?type={session_type.pk}&trainer={trainer.pk}&week={monday.isoformat()}"
    visitor = _browser(studio_a)
    assert "15:00" not in visitor.get(week).content.decode()  # read once: the week is now cached

    _browser(studio_a, trainer_a).post(
        "/desk/hours/windows/",
        {"trainer": trainer.pk, "kind": "once", "once-date": monday.isoformat(), "once-start_time": "15:00",
         "once-end_time": "17:00"},
    )  # fmt: skip

    assert "15:00" in visitor.get(week).content.decode()


def test_a_one_off_window_on_a_date(studio_a, owner_a, schedule_a):
    trainer, _ = schedule_a
    day = next_monday() + timedelta(days=2)
    browser = _browser(studio_a, owner_a)

    response = browser.post(
        "/desk/hours/windows/",
        {"trainer": trainer.pk, "kind": "once", "once-date": day.isoformat(), "once-start_time": "13:00",
         "once-end_time": "14:00"},
    )  # fmt: skip

    assert response.status_code == 302
    assert _windows(studio_a, trainer)[0] == (day.weekday(), time(13), time(14), day)
    assert day.strftime("%a %-d %b %Y") in browser.get(response["Location"]).content.decode()


def test_an_overlapping_window_is_an_error_on_the_form_with_the_apis_words(studio_a, trainer_a, schedule_a):
    trainer, _ = schedule_a
    response = _browser(studio_a, trainer_a).post(
        "/desk/hours/windows/",
        {"trainer": trainer.pk, "kind": "weekly", "weekly-day_of_week": "2", "weekly-start_time": "11:00",
         "weekly-end_time": "13:00"},
    )  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html and "This window overlaps another window of the trainer&#x27;s." in html
    assert len(_windows(studio_a, trainer)) == 7


def test_a_window_that_ends_before_it_starts_is_refused(studio_a, trainer_a, schedule_a):
    trainer, _ = schedule_a
    with tenant_context(studio_a):
        window = AvailabilitySlot.objects.filter(trainer=trainer).first()
    response = _browser(studio_a, trainer_a).post(
        f"/desk/hours/windows/{window.pk}/", {f"w{window.pk}-start_time": "12:00", f"w{window.pk}-end_time": "10:00"}
    )
    assert response.status_code == 400
    assert "The window must end after it starts." in response.content.decode()
    with tenant_context(studio_a):
        window.refresh_from_db()
    assert window.start_time == time(9)


def _booking_at(studio, trainer, session_type, client, start):
    from tenant_apps.bookings.services import booking_create

    with tenant_context(studio):
        return booking_create(
            trainer=trainer, client=client, session_type=session_type, start_time=start, pay_with_credit=False
        )


def test_time_off_lists_the_bookings_it_meets_before_it_is_saved(studio_a, owner_a, schedule_a, booking_client_a):
    trainer, session_type = schedule_a
    monday = next_monday()
    start = datetime.combine(monday, time(10), tzinfo=LONDON)
    _booking_at(studio_a, trainer, session_type, booking_client_a, start)
    browser = _browser(studio_a, owner_a)
    data = {"trainer": trainer.pk, "off-kind": "days", "off-start_date": monday.isoformat(),
            "off-end_date": (monday + timedelta(days=1)).isoformat(), "off-reason": "Course"}  # fmt: skip

    preview = browser.post("/desk/hours/time-off/", data)
    html = preview.content.decode()

    assert preview.status_code == 200
    assert "This time off meets 1 booked session" in html
    assert f"{monday:%a} {monday.day} {monday:%b %Y} 10:00" in html and "Cleo" in html and "PT 60" in html
    with tenant_context(studio_a):
        assert not TrainerBreak.objects.exists()

    saved = browser.post("/desk/hours/time-off/", {**data, "off-confirm": "True"}, follow=True)

    assert "1 booked session(s) fall in it" in saved.content.decode()
    with tenant_context(studio_a):
        time_off = TrainerBreak.objects.get()
    assert time_off.starts_at == datetime.combine(monday, time(0), tzinfo=LONDON)
    assert time_off.ends_at == datetime.combine(monday + timedelta(days=2), time(0), tzinfo=LONDON)


def test_time_off_that_meets_no_booking_is_saved_at_once_and_removed(studio_a, trainer_a, schedule_a):
    trainer, _ = schedule_a
    monday = next_monday()
    browser = _browser(studio_a, trainer_a)
    response = browser.post(
        "/desk/hours/time-off/",
        {
            "trainer": trainer.pk,
            "off-kind": "span",
            "off-starts_at": f"{monday}T09:30",
            "off-ends_at": f"{monday}T11:00",
        },
    )
    assert response.status_code == 302
    with tenant_context(studio_a):
        time_off = TrainerBreak.objects.get()
    assert time_off.starts_at == datetime.combine(monday, time(9, 30), tzinfo=LONDON)

    assert browser.post(f"/desk/hours/time-off/{time_off.pk}/remove/").status_code == 302
    with tenant_context(studio_a):
        assert not TrainerBreak.objects.exists()


def test_time_off_needs_its_days(studio_a, trainer_a, schedule_a):
    trainer, _ = schedule_a
    response = _browser(studio_a, trainer_a).post("/desk/hours/time-off/", {"trainer": trainer.pk, "off-kind": "days"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter the first day." in html and "Enter the last day." in html


def test_a_trainer_cannot_edit_another_trainers_hours(studio_a, trainer_a, schedule_a, other_trainer):
    with tenant_context(studio_a):
        window = WindowFactory(trainer=other_trainer, day_of_week=1)
    browser = _browser(studio_a, trainer_a)

    assert browser.get(f"{HOURS}?trainer={other_trainer.pk}").status_code == 403
    added = browser.post(
        "/desk/hours/windows/",
        {"trainer": other_trainer.pk, "kind": "weekly", "weekly-day_of_week": "0", "weekly-start_time": "14:00",
         "weekly-end_time": "17:00"},
    )  # fmt: skip
    assert added.status_code == 403 and "You can only manage your own calendar." in added.content.decode()
    assert browser.post("/desk/hours/time-off/", {"trainer": other_trainer.pk}).status_code == 403
    # Another trainer's windows are not theirs to see: 404, as in the API.
    assert browser.post(f"/desk/hours/windows/{window.pk}/remove/").status_code == 404
    assert _windows(studio_a, other_trainer) == [(1, time(9), time(12), None)]


def test_owner_and_managers_edit_anyones_hours(studio_a, manager_a, schedule_a, other_trainer):
    browser = _browser(studio_a, manager_a)
    page = browser.get(f"{HOURS}?trainer={other_trainer.pk}")
    assert page.status_code == 200 and "<h1>Hours of Otto Other</h1>" in page.content.decode()
    response = browser.post(
        "/desk/hours/windows/",
        {"trainer": other_trainer.pk, "kind": "weekly", "weekly-day_of_week": "4", "weekly-start_time": "07:00",
         "weekly-end_time": "08:00"},
    )  # fmt: skip
    assert response.status_code == 302
    assert _windows(studio_a, other_trainer) == [(4, time(7), time(8), None)]


def test_a_client_is_refused_and_a_visitor_sent_to_sign_in(studio_a, client_a, schedule_a):
    for url in (HOURS, "/desk/hours/profile/"):
        assert _browser(studio_a, client_a).get(url).status_code == 403
        visitor = _browser(studio_a).get(url)
        assert visitor.status_code == 302 and "/accounts/login/" in visitor["Location"]
    assert _browser(studio_a, client_a).post("/desk/hours/time-off/", {}).status_code == 403


def test_another_studios_trainer_is_not_found(studio_a, studio_b, owner_a):
    with tenant_context(studio_b):
        user = make_user(studio_b, role=Role.TRAINER, email="trainer@bravo.test")
        trainer_b = TrainerFactory(user=user, display_name="Bea Bravo", timezone="Europe/London")
        window_b = WindowFactory(trainer=trainer_b)
    with tenant_context(studio_a):
        TrainerFactory(user=make_user(studio_a, role=Role.TRAINER, email="t2@alpha.test"), timezone="Europe/London")
        assert not Trainer.objects.filter(pk=trainer_b.pk + 1000).exists()
    browser = _browser(studio_a, owner_a)
    missing = trainer_b.pk + 1000
    assert browser.get(f"{HOURS}?trainer={missing}").status_code == 404
    assert browser.get(f"/desk/trainers/{missing}/profile/").status_code == 404
    assert browser.post(f"/desk/hours/windows/{window_b.pk + 1000}/remove/").status_code == 404


def test_another_studios_owner_is_sent_to_sign_in(studio_a, studio_b, schedule_a):
    with tenant_context(studio_b):
        owner_b = User.objects.get(email="owner@bravo.test")
    browser = _browser(studio_b, owner_b)
    browser.defaults["HTTP_HOST"] = f"{studio_a.slug}.localhost"
    response = browser.get(HOURS)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# -- profile ----------------------------------------------------------------------------------------------


def _image(width: int, height: int, fmt: str = "JPEG") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "#3366cc").save(out, fmt)
    return SimpleUploadedFile("me.jpg", out.getvalue(), "image/jpeg")


def _profile(**changes) -> dict:
    return {"display_name": "Tess Trainer", "bio": "", "expertise": "", "timezone": "Europe/London", **changes}


def test_a_trainer_uploads_a_resized_photo_and_edits_their_profile(studio_a, trainer_a, schedule_a):
    trainer, _ = schedule_a
    browser = _browser(studio_a, trainer_a)
    assert browser.get("/desk/hours/profile/").status_code == 200

    response = browser.post(
        "/desk/hours/profile/",
        _profile(photo=_image(2000, 1000), bio="Strength first.", expertise="Kettlebells, Mobility, kettlebells",
                 timezone="Europe/Paris"),
    )  # fmt: skip

    assert response.status_code == 302
    with tenant_context(studio_a):
        trainer.refresh_from_db()
        assert trainer.photo.name.startswith(f"studios/{studio_a.schema_name}/trainers/")
        with trainer.photo.open() as stored, Image.open(stored) as image:
            assert (image.format, image.size) == ("WEBP", (512, 256))
    assert (trainer.bio, trainer.timezone) == ("Strength first.", "Europe/Paris")
    assert trainer.expertise == ["Kettlebells", "Mobility", "kettlebells"]


def test_a_bad_timezone_is_an_error_on_the_form(studio_a, trainer_a, schedule_a):
    trainer, _ = schedule_a
    response = _browser(studio_a, trainer_a).post("/desk/hours/profile/", _profile(timezone="Mars/Olympus"))
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html and "Unknown time zone: Mars/Olympus." in html
    with tenant_context(studio_a):
        trainer.refresh_from_db()
    assert trainer.timezone == "Europe/London"


def test_a_file_that_is_not_an_image_is_refused_and_nothing_changes(studio_a, trainer_a, schedule_a):
    trainer, _ = schedule_a
    not_image = SimpleUploadedFile("me.jpg", b"not an image", "image/jpeg")
    response = _browser(studio_a, trainer_a).post("/desk/hours/profile/", _profile(photo=not_image, bio="New"))
    assert response.status_code == 400
    assert "Upload a PNG, JPEG or WebP image." in response.content.decode()
    with tenant_context(studio_a):
        trainer.refresh_from_db()
    assert (trainer.photo.name, trainer.bio) == ("", "")


def test_a_trainer_cannot_edit_another_trainers_profile_and_the_owner_can(
    studio_a, trainer_a, owner_a, schedule_a, other_trainer
):
    url = f"/desk/trainers/{other_trainer.pk}/profile/"
    refused = _browser(studio_a, trainer_a).post(url, _profile(display_name="Hacked"))
    assert refused.status_code == 403
    assert _browser(studio_a, trainer_a).get(url).status_code == 403

    assert _browser(studio_a, owner_a).post(url, _profile(display_name="Otto Renamed")).status_code == 302
    with tenant_context(studio_a):
        other_trainer.refresh_from_db()
    assert other_trainer.display_name == "Otto Renamed"


def _huge_png() -> SimpleUploadedFile:
    """8000 x 8000 pixels of one colour: a few kilobytes, 64 megapixels once decoded."""
    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, "PNG")
    assert len(out.getvalue()) < 100_000
    return SimpleUploadedFile("me.png", out.getvalue(), "image/png")


def test_a_photo_of_too_many_pixels_is_refused_before_it_is_decoded(studio_a, trainer_a, schedule_a, monkeypatch):
    trainer, _ = schedule_a
    photo, decoded = _huge_png(), []
    monkeypatch.setattr(Image.Image, "load", lambda image: decoded.append(image.size))

    response = _browser(studio_a, trainer_a).post("/desk/hours/profile/", _profile(photo=photo, bio="New"))

    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html and "Use an image of at most 40 megapixels." in html
    assert decoded == []
    with tenant_context(studio_a):
        trainer.refresh_from_db()
    assert (trainer.photo.name, trainer.bio) == ("", "")


def test_a_request_larger_than_a_photo_is_refused_before_it_is_read(studio_a, trainer_a, schedule_a, monkeypatch):
    trainer, _ = schedule_a
    monkeypatch.setattr("tenant_apps.trainers.services.PHOTO_MAX_BYTES", 1024 * 1024)
    big = SimpleUploadedFile("me.jpg", b"\xff" * (1024 * 1024 + 128 * 1024), "image/jpeg")

    response = _browser(studio_a, trainer_a).post("/desk/hours/profile/", _profile(photo=big, bio="New"))

    assert response.status_code == 413
    assert "The photo is larger than 1 MB." in response.content.decode()
    with tenant_context(studio_a):
        trainer.refresh_from_db()
    assert trainer.bio == ""


def test_a_refused_profile_change_leaves_no_new_photo_file_behind(studio_a, trainer_a, schedule_a, monkeypatch):
    trainer, _ = schedule_a
    browser = _browser(studio_a, trainer_a)
    assert browser.post("/desk/hours/profile/", _profile(photo=_image(600, 600))).status_code == 302
    with tenant_context(studio_a):
        trainer.refresh_from_db()
        storage, folder = trainer.photo.storage, trainer.photo.name.rsplit("/", 1)[0]
        before = (trainer.photo.name, sorted(storage.listdir(folder)[1]))

    def refuse(**kwargs):
        raise ValidationFailed(fields={"bio": ["Refused."]})

    monkeypatch.setattr("tenant_apps.trainers.services.trainer_update", refuse)
    response = browser.post("/desk/hours/profile/", _profile(photo=_image(700, 700), bio="New"))

    assert response.status_code == 400 and "Refused." in response.content.decode()
    with tenant_context(studio_a):
        trainer.refresh_from_db()
        assert (trainer.photo.name, sorted(storage.listdir(folder)[1])) == before
        assert storage.exists(trainer.photo.name)


def test_the_desk_and_the_api_both_ask_the_services_whose_hours(
    studio_a, trainer_a, schedule_a, other_trainer, as_user, monkeypatch
):
    """Widening the service's rule widens both at once: neither keeps a copy of it."""
    monkeypatch.setattr(trainer_services, "may_manage_trainer_hours", lambda user, trainer: True)

    desk = _browser(studio_a, trainer_a).post(
        "/desk/hours/windows/",
        {"trainer": other_trainer.pk, "kind": "weekly", "weekly-day_of_week": "0", "weekly-start_time": "14:00",
         "weekly-end_time": "17:00"},
    )  # fmt: skip
    api = as_user(trainer_a).post(
        "/api/availability/",
        {"trainer": other_trainer.pk, "day_of_week": 2, "start_time": "07:00", "end_time": "08:00"},
        format="json",
    )

    assert (desk.status_code, api.status_code) == (302, 201)
    assert _windows(studio_a, other_trainer) == [(0, time(14), time(17), None), (2, time(7), time(8), None)]


def test_the_desk_and_the_api_both_ask_the_services_whose_profile(
    studio_a, owner_a, schedule_a, other_trainer, as_user, monkeypatch
):
    monkeypatch.setattr(trainer_services, "may_edit_trainer", lambda user, trainer, *, fields=(): False)

    desk = _browser(studio_a, owner_a).post(
        f"/desk/trainers/{other_trainer.pk}/profile/", _profile(display_name="Otto Renamed")
    )
    api = as_user(owner_a).patch(f"/api/trainers/{other_trainer.pk}/", {"bio": "Renamed"}, format="json")

    assert (desk.status_code, api.status_code) == (403, 403)
    assert "Only the studio&#x27;s owner or a manager can change this." in desk.content.decode()
    with tenant_context(studio_a):
        other_trainer.refresh_from_db()
    assert (other_trainer.display_name, other_trainer.bio) == ("Otto Other", "")
