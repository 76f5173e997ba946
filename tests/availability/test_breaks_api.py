from datetime import UTC, datetime

import pytest
from django_tenants.utils import tenant_context

from tenant_apps.availability.models import TrainerBreak
from tests.conftest import make_user
from tests.factories import TrainerFactory

pytestmark = pytest.mark.django_db
URL = "/api/availability/breaks/"


@pytest.fixture
def tess(studio_a, trainer_a):
    with tenant_context(studio_a):
        return TrainerFactory(user=trainer_a, timezone="Europe/London")


def test_a_break_between_two_instants(as_user, trainer_a, tess):
    response = as_user(trainer_a).post(
        URL,
        {
            "trainer": tess.pk,
            "starts_at": "2030-07-01T12:00:00Z",
            "ends_at": "2030-07-01T13:30:00Z",
            "reason": "Dentist",
        },
    )

    assert response.status_code == 201
    assert response.json()["starts_at"] == "2030-07-01T12:00:00Z"
    assert response.json()["reason"] == "Dentist"


def test_whole_days_are_local_midnight_to_midnight_inclusive(as_user, manager_a, tess, studio_a):
    response = as_user(manager_a).post(
        URL, {"trainer": tess.pk, "start_date": "2030-07-01", "end_date": "2030-07-03", "reason": "Holiday"}
    )

    assert response.status_code == 201
    with tenant_context(studio_a):
        time_off = TrainerBreak.objects.get()
    # London is on summer time (UTC+1) in July.
    assert time_off.starts_at == datetime(2030, 6, 30, 23, tzinfo=UTC)
    assert time_off.ends_at == datetime(2030, 7, 3, 23, tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    [
        {"starts_at": "2030-07-01T13:00:00Z", "ends_at": "2030-07-01T12:00:00Z"},
        {"starts_at": "2030-07-01T13:00:00Z"},
        {"start_date": "2030-07-03", "end_date": "2030-07-01"},
        {"start_date": "2030-07-01", "ends_at": "2030-07-01T12:00:00Z"},
        {"starts_at": "2030-07-01T12:00:00", "ends_at": "2030-07-01T13:00:00"},  # no offset
        {},
    ],
)
def test_bad_breaks_are_refused(as_user, manager_a, tess, studio_a, body):
    response = as_user(manager_a).post(URL, {"trainer": tess.pk, **body})

    assert response.status_code == 400
    with tenant_context(studio_a):
        assert TrainerBreak.objects.count() == 0


def test_list_and_delete_own_breaks_only(as_user, trainer_a, tess, studio_a):
    with tenant_context(studio_a):
        colleague = TrainerFactory()
        mine = TrainerBreak.objects.create(
            trainer=tess, starts_at=datetime(2030, 1, 1, tzinfo=UTC), ends_at=datetime(2030, 1, 2, tzinfo=UTC)
        )
        theirs = TrainerBreak.objects.create(
            trainer=colleague, starts_at=datetime(2030, 1, 1, tzinfo=UTC), ends_at=datetime(2030, 1, 2, tzinfo=UTC)
        )
    api = as_user(trainer_a)

    listed = [item["id"] for item in api.get(URL).json()["results"]]
    create_for_other = api.post(
        URL, {"trainer": colleague.pk, "starts_at": "2030-07-01T12:00:00Z", "ends_at": "2030-07-01T13:00:00Z"}
    )
    delete_other = api.delete(f"{URL}{theirs.pk}/")
    delete_mine = api.delete(f"{URL}{mine.pk}/")

    assert listed == [mine.pk]
    assert create_for_other.status_code == 403
    assert delete_other.status_code == 404
    assert delete_mine.status_code == 204
    with tenant_context(studio_a):
        assert list(TrainerBreak.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_clients_anonymous_and_other_studios_are_refused(as_user, anon_a, client_a, tess, studio_a, studio_b):
    with tenant_context(studio_a):
        time_off = TrainerBreak.objects.create(
            pk=8401, trainer=tess, starts_at=datetime(2030, 1, 1, tzinfo=UTC), ends_at=datetime(2030, 1, 2, tzinfo=UTC)
        )
    owner_b = make_user(studio_b, role="owner", email="boss@bravo.test")

    assert as_user(client_a).get(URL).status_code == 403
    assert anon_a.post(URL, {}).status_code == 401
    assert as_user(owner_b, studio_b).delete(f"{URL}{time_off.pk}/").status_code == 404
    with tenant_context(studio_a):
        assert TrainerBreak.objects.filter(pk=time_off.pk).exists()
