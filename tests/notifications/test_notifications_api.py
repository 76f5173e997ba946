"""GET /api/notifications/: the owner and managers read the whole outbox, a trainer the messages about their own
bookings and the notices sent to them; clients, visitors and another studio's staff get nothing. Each filter."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role
from tenant_apps.bookings import services as booking_services
from tenant_apps.notifications.models import Notification
from tenant_apps.notifications.services import notification_send
from tests.bookings.conftest import at
from tests.conftest import api_client, host_of, make_user, next_monday, token_of
from tests.factories import ClientFactory, SessionTypeFactory, TrainerFactory, WindowFactory

pytestmark = pytest.mark.django_db
URL = "/api/notifications/"


@pytest.fixture
def colin(studio_a, schedule_a):
    """A second trainer of studio A, free 09:00-12:00 every day, offering Tess's session type."""
    _tess, session_type = schedule_a
    with tenant_context(studio_a):
        trainer = TrainerFactory(
            user=make_user(studio_a, role=Role.TRAINER, email="colin@alpha.test"), display_name="Colin Coach"
        )
        for day in range(7):
            WindowFactory(trainer=trainer, day_of_week=day, start_time="09:00", end_time="12:00")
        session_type.trainers.add(trainer)
    return trainer


@pytest.fixture
def outbox_a(studio_a, schedule_a, colin, make_booking, client_a):
    """Cleo booked Tess herself (her confirmation, Tess's notice, two reminders); Dora booked Colin (the same)."""
    _tess, session_type = schedule_a
    tess_booking = make_booking(created_by=client_a)
    with tenant_context(studio_a):
        dora = ClientFactory(email="dora@example.com", first_name="Dora")
        colin_booking = booking_services.booking_create(
            trainer=colin,
            client=dora,
            session_type=session_type,
            start_time=at(next_monday(2), "11:00"),
            created_by=make_user(studio_a, role=Role.CLIENT, email="dora@example.com"),
        )
    return {"tess": tess_booking, "colin": colin_booking, "dora": dora}


def _ids(studio, **filters) -> list[int]:
    with tenant_context(studio):
        return list(Notification.objects.filter(**filters).order_by("-created", "-id").values_list("id", flat=True))


def _listed(response) -> list[int]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


# -- who sees what --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_the_owner_and_managers_read_every_message_newest_first(
    request, as_user, studio_a, outbox_a, role, booking_client_a
):
    user = request.getfixturevalue(f"{role}_a")
    with tenant_context(studio_a):
        Notification.objects.filter(booking=outbox_a["colin"], kind="booking_confirmed").update(
            status="failed", attempts=5, last_error="SMTPRecipientsRefused: 550 no such user"
        )

    body = as_user(user).get(URL).json()

    assert body["count"] == 8
    assert [row["id"] for row in body["results"]] == _ids(studio_a)
    failed = next(row for row in body["results"] if row["status"] == "failed")
    assert failed["last_error"] == "SMTPRecipientsRefused: 550 no such user"
    assert (failed["client"], failed["booking"], failed["attempts"]) == (outbox_a["dora"].pk, outbox_a["colin"].pk, 5)


def test_a_row_says_what_it_is_where_it_went_and_when(
    as_user, studio_a, owner_a, trainer_a, outbox_a, booking_client_a
):
    with tenant_context(studio_a):
        confirmation = Notification.objects.get(booking=outbox_a["tess"], kind="booking_confirmed")
        assert notification_send(notification_id=confirmation.pk) == "sent"
        confirmation.refresh_from_db()
        notice = Notification.objects.get(booking=outbox_a["tess"], kind="staff_booking_new")
        reminder = Notification.objects.get(booking=outbox_a["tess"], kind="reminder_1h")
    assert mail.outbox[-1].to == [booking_client_a.email]

    rows = {row["id"]: row for row in as_user(owner_a).get(URL, {"booking": outbox_a["tess"].pk}).json()["results"]}

    assert rows[confirmation.pk].pop("created") == confirmation.created.isoformat().replace("+00:00", "Z")
    assert rows[confirmation.pk] == {
        "id": confirmation.pk, "kind": "booking_confirmed", "kind_label": "Booking confirmed", "channel": "email",
        "status": "sent", "recipient": booking_client_a.email, "client": booking_client_a.pk, "staff_user": None,
        "booking": outbox_a["tess"].pk, "send_after": confirmation.send_after.isoformat().replace("+00:00", "Z"),
        "sent_at": confirmation.sent_at.isoformat().replace("+00:00", "Z"), "delivered_at": None, "attempts": 1,
        "last_error": "",
    }  # fmt: skip
    assert (rows[notice.pk]["staff_user"], rows[notice.pk]["client"]) == (outbox_a["tess"].trainer.user_id, None)
    assert rows[notice.pk]["recipient"] == trainer_a.email
    assert (rows[reminder.pk]["status"], rows[reminder.pk]["sent_at"]) == ("pending", None)
    assert rows[reminder.pk]["kind_label"] == "Reminder, 1 hour before"


def test_a_trainer_reads_only_the_messages_about_their_bookings(as_user, studio_a, trainer_a, outbox_a):
    with tenant_context(studio_a):
        Notification.objects.filter(booking=outbox_a["tess"]).update(last_error="550 mailbox full")

    rows = as_user(trainer_a).get(URL).json()["results"]

    assert [row["id"] for row in rows] == _ids(studio_a, booking=outbox_a["tess"])
    assert {row["kind"] for row in rows} == {"booking_confirmed", "staff_booking_new", "reminder_24h", "reminder_1h"}
    assert {row["last_error"] for row in rows} == {None}  # the provider's words are the managers'
    # Colin's booking's rows aren't hers, even named.
    assert _listed(as_user(trainer_a).get(URL, {"booking": outbox_a["colin"].pk})) == []


def test_a_trainer_keeps_the_notice_sent_to_them_when_the_booking_moves_to_another(
    as_user, studio_a, trainer_a, owner_a, colin, outbox_a
):
    booking = outbox_a["tess"]
    with tenant_context(studio_a):
        tess_notice = Notification.objects.get(booking=booking, kind="staff_booking_new", staff_user=trainer_a)
        booking_services.booking_reschedule(
            booking=booking, start_time=booking.start_time, trainer=colin, actor=owner_a
        )

    tess_sees = _listed(as_user(trainer_a).get(URL, {"booking": booking.pk}))
    colin_sees = _listed(as_user(colin.user).get(URL, {"booking": booking.pk}))

    assert tess_sees == [tess_notice.pk]
    # The booking's messages are Colin's now, but not the notice addressed to Tess (her address is in it).
    assert tess_notice.pk not in colin_sees
    assert set(colin_sees) == set(_ids(studio_a, booking=booking)) - {tess_notice.pk}


def test_a_client_is_refused_and_a_visitor_must_sign_in(as_user, anon_a, client_a, outbox_a):
    refused = as_user(client_a).get(URL)
    anonymous = anon_a.get(URL)

    assert refused.status_code == 403 and "results" not in refused.json()
    assert anonymous.status_code == 401 and "results" not in anonymous.json()


def test_another_studios_staff_are_refused_here_and_see_only_their_own_there(as_user, studio_a, studio_b, outbox_a):
    owner_b = make_user(studio_b, role=Role.OWNER, email="boss@bravo.test")
    with tenant_context(studio_b):
        trainer = TrainerFactory(display_name="Bruno")
        WindowFactory(trainer=trainer, day_of_week=0, start_time="09:00", end_time="12:00")
        session_type = SessionTypeFactory(trainers=[trainer])
        booking_services.booking_create(
            trainer=trainer,
            client=ClientFactory(email="bea@example.com"),
            session_type=session_type,
            start_time=at(next_monday(2), "09:00"),
        )

    here = api_client(host_of(studio_a), token_of(owner_b, studio_b)).get(URL)
    there = as_user(owner_b, studio_b).get(URL).json()["results"]

    assert here.status_code == 401 and "results" not in here.json()
    assert [row["id"] for row in there] == _ids(studio_b)
    assert {row["recipient"] for row in there if row["client"]} == {"bea@example.com"}
    assert "cleo" not in str(there).lower() and "dora" not in str(there).lower()


# -- filters --------------------------------------------------------------------------------------------------


def test_filters_by_client_and_booking(as_user, owner_a, studio_a, outbox_a, booking_client_a):
    by_client = _listed(as_user(owner_a).get(URL, {"client": outbox_a["dora"].pk}))
    by_booking = _listed(as_user(owner_a).get(URL, {"booking": outbox_a["tess"].pk}))

    assert by_client == _ids(studio_a, client=outbox_a["dora"])
    assert len(by_client) == 3  # her confirmation and reminders; Colin's notice is about her but not to her
    assert by_booking == _ids(studio_a, booking=outbox_a["tess"]) and len(by_booking) == 4


def test_filters_by_kind_status_and_channel(as_user, owner_a, studio_a, outbox_a):
    with tenant_context(studio_a):
        Notification.objects.filter(booking=outbox_a["colin"], kind="reminder_24h").update(status="cancelled")

    reminders = _listed(as_user(owner_a).get(URL, {"kind": ["reminder_24h", "reminder_1h"]}))
    cancelled = _listed(as_user(owner_a).get(URL, {"status": "cancelled"}))
    pending_sms = _listed(as_user(owner_a).get(URL, {"status": "pending", "channel": "sms"}))
    email = _listed(as_user(owner_a).get(URL, {"channel": "email"}))

    assert reminders == _ids(studio_a, kind__in=["reminder_24h", "reminder_1h"]) and len(reminders) == 4
    assert cancelled == _ids(studio_a, booking=outbox_a["colin"], kind="reminder_24h")
    assert pending_sms == []
    assert email == _ids(studio_a) and len(email) == 8


def test_filters_by_when_it_was_created_and_sent(as_user, owner_a, studio_a, outbox_a):
    now = timezone.now()
    with tenant_context(studio_a):
        Notification.objects.filter(booking=outbox_a["colin"]).update(created=now - timedelta(days=10))
        Notification.objects.filter(booking=outbox_a["tess"], kind="booking_confirmed").update(
            status="sent", sent_at=now - timedelta(days=2)
        )
        Notification.objects.filter(booking=outbox_a["colin"], kind="booking_confirmed").update(
            status="delivered", sent_at=now - timedelta(days=9), delivered_at=now - timedelta(days=9)
        )
    week_ago = (now - timedelta(days=7)).isoformat()
    three_days_ago = (now - timedelta(days=3)).isoformat()

    recent = _listed(as_user(owner_a).get(URL, {"created_after": week_ago}))
    older = _listed(as_user(owner_a).get(URL, {"created_before": week_ago}))
    sent_lately = _listed(as_user(owner_a).get(URL, {"sent_at_after": three_days_ago}))
    sent_earlier = _listed(as_user(owner_a).get(URL, {"sent_at_before": three_days_ago}))

    assert recent == _ids(studio_a, booking=outbox_a["tess"])
    assert older == _ids(studio_a, booking=outbox_a["colin"])
    assert sent_lately == _ids(studio_a, booking=outbox_a["tess"], kind="booking_confirmed")
    assert sent_earlier == _ids(studio_a, booking=outbox_a["colin"], kind="booking_confirmed")


@pytest.mark.parametrize(
    "query",
    [{"client": "1.5"}, {"booking": "x"}, {"kind": "reminder_2h"}, {"status": "lost"}, {"channel": "fax"},
     {"created_after": "yesterday"}, {"sent_at_before": "0001-01-01T00:00:00Z"}],
)  # fmt: skip
def test_an_unreadable_filter_is_a_400_not_everything(as_user, owner_a, outbox_a, query):
    response = as_user(owner_a).get(URL, query)

    assert response.status_code == 400, response.json()
    assert "results" not in response.json()


def test_the_list_is_paged(as_user, owner_a, studio_a, outbox_a):
    first = as_user(owner_a).get(URL, {"page_size": 3}).json()
    second = as_user(owner_a).get(URL, {"page_size": 3, "page": 2}).json()

    assert first["count"] == 8 and first["next"] and first["previous"] is None
    assert [row["id"] for row in first["results"] + second["results"]] == _ids(studio_a)[:6]
