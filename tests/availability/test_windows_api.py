"""Weekly and one-off availability windows: who may manage them, and overlapping or malformed ones refused."""

import pytest
from django_tenants.utils import tenant_context

from tenant_apps.availability.models import AvailabilitySlot
from tests.conftest import make_user, next_monday
from tests.factories import TrainerFactory, WindowFactory

pytestmark = pytest.mark.django_db
URL = "/api/availability/"


@pytest.fixture
def tess(studio_a, trainer_a):
    with tenant_context(studio_a):
        return TrainerFactory(user=trainer_a)


@pytest.fixture
def colleague(studio_a):
    with tenant_context(studio_a):
        return TrainerFactory()


def windows(studio) -> list[tuple]:
    with tenant_context(studio):
        return list(AvailabilitySlot.objects.values_list("day_of_week", "start_time", "end_time", "date"))


def test_a_trainer_adds_weekly_windows_with_a_lunch_break(as_user, trainer_a, tess, studio_a):
    api = as_user(trainer_a)

    morning = api.post(URL, {"trainer": tess.pk, "day_of_week": 0, "start_time": "09:00", "end_time": "12:00"})
    afternoon = api.post(URL, {"trainer": tess.pk, "day_of_week": 0, "start_time": "13:00", "end_time": "17:30"})

    assert morning.status_code == 201, morning.json()
    assert morning.json() == {
        "id": morning.json()["id"],
        "trainer": tess.pk,
        "day_of_week": 0,
        "start_time": "09:00",
        "end_time": "12:00",
        "is_recurring": True,
        "date": None,
        "is_active": True,
    }
    assert afternoon.status_code == 201
    assert len(windows(studio_a)) == 2


def test_a_one_off_window_takes_its_weekday_from_its_date(as_user, manager_a, tess):
    day = next_monday()

    response = as_user(manager_a).post(
        URL,
        {
            "trainer": tess.pk,
            "is_recurring": False,
            "date": day.isoformat(),
            "start_time": "18:00",
            "end_time": "20:00",
        },
    )

    assert response.status_code == 201
    assert response.json()["day_of_week"] == 0
    assert response.json()["date"] == day.isoformat()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"day_of_week": 7}, "day_of_week"),
        ({"day_of_week": -1}, "day_of_week"),
        ({"start_time": "12:00", "end_time": "09:00"}, "end_time"),
        ({"start_time": "09:00", "end_time": "09:00"}, "end_time"),
        ({"start_time": "9am"}, "start_time"),
        ({"is_recurring": False}, "date"),
        ({"date": "2030-01-07"}, "date"),
        ({"trainer": 999999}, "trainer"),
    ],
)
def test_malformed_windows_are_refused(as_user, manager_a, tess, studio_a, body, field):
    payload = {"trainer": tess.pk, "day_of_week": 1, "start_time": "09:00", "end_time": "12:00", **body}

    response = as_user(manager_a).post(URL, payload)

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert windows(studio_a) == []


@pytest.mark.parametrize(
    ("start", "end"), [("11:00", "14:00"), ("08:00", "09:30"), ("10:00", "11:00"), ("08:00", "13:00")]
)
def test_overlapping_windows_of_one_trainer_are_refused(as_user, manager_a, tess, studio_a, start, end):
    with tenant_context(studio_a):
        WindowFactory(trainer=tess, day_of_week=2, start_time="09:00", end_time="12:00")

    response = as_user(manager_a).post(
        URL, {"trainer": tess.pk, "day_of_week": 2, "start_time": start, "end_time": end}
    )

    assert response.status_code == 400
    assert "overlaps" in response.json()["fields"]["start_time"][0]
    assert len(windows(studio_a)) == 1


def test_adjacent_windows_and_other_days_or_trainers_do_not_overlap(as_user, manager_a, tess, colleague, studio_a):
    with tenant_context(studio_a):
        WindowFactory(trainer=tess, day_of_week=2, start_time="09:00", end_time="12:00")
    api = as_user(manager_a)

    adjacent = api.post(URL, {"trainer": tess.pk, "day_of_week": 2, "start_time": "12:00", "end_time": "13:00"})
    other_day = api.post(URL, {"trainer": tess.pk, "day_of_week": 3, "start_time": "09:00", "end_time": "12:00"})
    other_trainer = api.post(
        URL, {"trainer": colleague.pk, "day_of_week": 2, "start_time": "09:00", "end_time": "12:00"}
    )

    assert (adjacent.status_code, other_day.status_code, other_trainer.status_code) == (201, 201, 201)


def test_a_one_off_window_may_not_overlap_the_weekly_one_of_its_weekday(as_user, manager_a, tess):
    as_user(manager_a).post(URL, {"trainer": tess.pk, "day_of_week": 0, "start_time": "09:00", "end_time": "12:00"})

    response = as_user(manager_a).post(
        URL,
        {
            "trainer": tess.pk,
            "is_recurring": False,
            "date": next_monday().isoformat(),
            "start_time": "11:00",
            "end_time": "13:00",
        },
    )

    assert response.status_code == 400


def test_patch_and_delete(as_user, trainer_a, tess, studio_a):
    with tenant_context(studio_a):
        window = WindowFactory(trainer=tess, day_of_week=4)
    api = as_user(trainer_a)

    patched = api.patch(f"{URL}{window.pk}/", {"end_time": "13:00"})
    bad = api.patch(f"{URL}{window.pk}/", {"end_time": "08:00"})
    deleted = api.delete(f"{URL}{window.pk}/")

    assert patched.status_code == 200 and patched.json()["end_time"] == "13:00"
    assert bad.status_code == 400
    assert deleted.status_code == 204
    assert windows(studio_a) == []


def test_a_trainer_cannot_touch_another_trainers_windows(as_user, trainer_a, tess, colleague, studio_a):
    with tenant_context(studio_a):
        theirs = WindowFactory(trainer=colleague, day_of_week=5)
    api = as_user(trainer_a)

    create = api.post(URL, {"trainer": colleague.pk, "day_of_week": 1, "start_time": "09:00", "end_time": "10:00"})
    listing = api.get(URL, {"trainer": colleague.pk})
    patch = api.patch(f"{URL}{theirs.pk}/", {"end_time": "18:00"})
    delete = api.delete(f"{URL}{theirs.pk}/")

    assert create.status_code == 403
    assert listing.json()["results"] == []
    assert (patch.status_code, delete.status_code) == (404, 404)
    assert len(windows(studio_a)) == 1


def test_managers_list_and_filter_every_trainers_windows(as_user, manager_a, tess, colleague, studio_a):
    with tenant_context(studio_a):
        WindowFactory(trainer=tess, day_of_week=0)
        WindowFactory(trainer=colleague, day_of_week=0)

    everyone = as_user(manager_a).get(URL).json()["results"]
    filtered = as_user(manager_a).get(URL, {"trainer": tess.pk}).json()["results"]
    bad = as_user(manager_a).get(URL, {"trainer": "abc"})

    assert len(everyone) == 2
    assert [window["trainer"] for window in filtered] == [tess.pk]
    assert bad.status_code == 400


def test_clients_anonymous_and_other_studios_are_refused(as_user, anon_a, client_a, tess, studio_a, studio_b):
    with tenant_context(studio_a):
        window = WindowFactory(trainer=tess, day_of_week=0, pk=8301)
    owner_b = make_user(studio_b, role="owner", email="boss@bravo.test")
    body = {"trainer": tess.pk, "day_of_week": 1, "start_time": "09:00", "end_time": "10:00"}

    assert as_user(client_a).get(URL).status_code == 403
    assert as_user(client_a).post(URL, body).status_code == 403
    assert anon_a.get(URL).status_code == 401
    assert as_user(owner_b, studio_b).patch(f"{URL}{window.pk}/", {"end_time": "18:00"}).status_code == 404
    assert as_user(owner_b, studio_b).post(URL, body).status_code == 400  # no such trainer in studio B
    assert len(windows(studio_a)) == 1
