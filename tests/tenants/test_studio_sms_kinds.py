"""sms_kinds in GET/PATCH /api/studio/: which client messages also go by SMS. The owner chooses (as for every
setting); a kind that can't go by SMS is refused; the outbox texts what was chosen."""

import pytest
from django_tenants.utils import schema_context, tenant_context

from shared_apps.accounts.models import User
from tenant_apps.bookings import services as booking_services
from tenant_apps.notifications.models import Notification
from tenants.models import Studio
from tests.bookings.conftest import at
from tests.conftest import api_client, host_of, next_monday, token_of

pytestmark = pytest.mark.django_db
URL = "/api/studio/"


def _fresh(studio) -> Studio:
    with schema_context("public"):
        return Studio.objects.get(pk=studio.pk)


def _sms_kinds(studio) -> list[str]:
    return _fresh(studio).sms_kinds


def test_a_new_studio_texts_the_1_hour_reminder_only_and_every_member_reads_it(as_user, client_a, studio_a):
    response = as_user(client_a).get(URL)

    assert response.status_code == 200
    assert response.json()["sms_kinds"] == ["reminder_1h"]


def test_the_owner_chooses_the_kinds_each_once_in_a_fixed_order(as_user, owner_a, studio_a):
    response = as_user(owner_a).patch(
        URL, {"sms_kinds": ["reminder_1h", "booking_confirmed", "reminder_1h"]}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["sms_kinds"] == ["booking_confirmed", "reminder_1h"]
    assert _sms_kinds(studio_a) == ["booking_confirmed", "reminder_1h"]
    assert as_user(owner_a).get(URL).json()["sms_kinds"] == ["booking_confirmed", "reminder_1h"]


def test_no_kind_at_all_means_no_sms(as_user, owner_a, studio_a):
    response = as_user(owner_a).patch(URL, {"sms_kinds": []}, format="json")

    assert response.status_code == 200 and response.json()["sms_kinds"] == []
    assert _sms_kinds(studio_a) == []


@pytest.mark.parametrize(
    "value",
    [["reminder_1h", "staff_booking_new"], ["nonsense"], "reminder_1h", [["reminder_1h"]], None],
    ids=["a staff notice", "unknown", "not a list", "nested", "null"],
)
def test_what_cant_go_by_sms_is_refused_and_changes_nothing(as_user, owner_a, studio_a, value):
    response = as_user(owner_a).patch(URL, {"sms_kinds": value}, format="json")

    assert response.status_code == 400
    assert "sms_kinds" in response.json()["fields"]
    assert _sms_kinds(studio_a) == ["reminder_1h"]


def test_the_refusal_names_the_kinds_in_the_models_words(as_user, owner_a, studio_a):
    response = as_user(owner_a).patch(URL, {"sms_kinds": ["staff_booking_new", "reminder_1h"]}, format="json")

    assert response.json()["fields"]["sms_kinds"] == ["Not a message that can go by SMS: staff_booking_new."]


@pytest.mark.parametrize("member", ["manager_a", "trainer_a", "client_a"])
def test_only_the_owner_chooses(request, as_user, studio_a, member):
    response = as_user(request.getfixturevalue(member)).patch(URL, {"sms_kinds": ["booking_cancelled"]}, format="json")

    assert response.status_code == 403
    assert _sms_kinds(studio_a) == ["reminder_1h"]


def test_another_studios_owner_and_visitors_are_refused(anon_a, studio_a, studio_b):
    with tenant_context(studio_b):
        owner_b = User.objects.get(email="owner@bravo.test")
    stranger = api_client(host_of(studio_a), token_of(owner_b, studio_b))

    for api in (anon_a, stranger):
        assert api.patch(URL, {"sms_kinds": ["booking_cancelled"]}, format="json").status_code == 401
        assert api.get(URL).status_code == 401
    own_host = api_client(host_of(studio_b), token_of(owner_b, studio_b))
    assert own_host.patch(URL, {"sms_kinds": []}, format="json").status_code == 200
    assert _sms_kinds(studio_a) == ["reminder_1h"] and _sms_kinds(studio_b) == []


def test_the_outbox_texts_what_the_studio_chose(as_user, owner_a, studio_a, schedule_a, booking_client_a):
    with tenant_context(studio_a):
        booking_client_a.phone = "+447911123456"
        booking_client_a.sms_opt_in = True
        booking_client_a.save(update_fields=["phone", "sms_opt_in"])
    assert as_user(owner_a).patch(URL, {"sms_kinds": ["booking_confirmed"]}, format="json").status_code == 200
    trainer, session_type = schedule_a

    with tenant_context(_fresh(studio_a)):  # the studio as the next request would read it
        booking = booking_services.booking_create(
            trainer=trainer, client=booking_client_a, session_type=session_type, start_time=at(next_monday(2), "10:00")
        )
        texts = list(Notification.objects.filter(booking=booking, channel="sms").values_list("kind", flat=True))

    assert texts == ["booking_confirmed"]  # not the 1-hour reminder any more
