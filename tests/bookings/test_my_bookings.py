"""GET /api/me/bookings/: a client's own bookings, newest first, without knowing their client id."""

import pytest
from django_tenants.utils import tenant_context

from tests.conftest import api_client, make_user, token_of
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
URL = "/api/me/bookings/"


def test_a_client_sees_their_own_bookings_newest_first(as_user, client_a, make_booking, studio_a):
    first = make_booking(clock="09:00")
    second = make_booking(clock="11:00")
    with tenant_context(studio_a):
        someone = ClientFactory()
    make_booking(clock="10:00", client=someone)

    response = as_user(client_a).get(URL)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [second.pk, first.pk]
    assert response.json()["results"][0]["trainer_name"] == "Tess Trainer"


def test_the_list_pages_and_filters(as_user, client_a, make_booking):
    make_booking(clock="09:00")
    cancelled = make_booking(clock="10:00")
    as_user(client_a).post(f"/api/bookings/{cancelled.pk}/cancel/")

    page = as_user(client_a).get(URL, {"page_size": 1})
    only_cancelled = as_user(client_a).get(URL, {"status": "cancelled"})

    assert page.json()["count"] == 2 and len(page.json()["results"]) == 1
    assert [row["id"] for row in only_cancelled.json()["results"]] == [cancelled.pk]


def test_a_client_without_a_record_yet_is_told_so_as_on_the_other_me_endpoints(as_user, studio_a):
    newcomer = make_user(studio_a, email="newcomer@alpha.test")
    api = as_user(newcomer)

    answers = {url: api.get(url) for url in (URL, "/api/me/client/", "/api/me/packages/")}

    assert {url: (r.status_code, r.json()["code"]) for url, r in answers.items()} == {
        url: (404, "no_client_profile") for url in answers
    }


@pytest.mark.parametrize("who", ["owner_a", "manager_a", "trainer_a"])
def test_staff_are_told_they_are_not_a_client(request, as_user, who, make_booking):
    make_booking()

    response = as_user(request.getfixturevalue(who)).get(URL)

    assert (response.status_code, response.json()["code"]) == (404, "not_a_client")
    assert response.json()["detail"] == as_user(request.getfixturevalue(who)).get("/api/me/client/").json()["detail"]


def test_anonymous_and_another_studio_are_refused(
    anon_a, client_a, client_b, studio_a, studio_b, make_booking, as_user
):
    make_booking()

    assert anon_a.get(URL).status_code == 401
    assert api_client("bravo.localhost", token_of(client_a, studio_a)).get(URL).status_code == 401
    # studio B's client sees studio B's bookings only: none.
    with tenant_context(studio_b):
        ClientFactory(email=client_b.email, user=client_b)
    assert as_user(client_b, studio_b).get(URL).json()["results"] == []
