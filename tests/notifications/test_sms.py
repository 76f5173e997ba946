"""SMS in the outbox: written for the kinds the studio chose to clients who opted in, sent through Twilio's SDK
(an injected HTTP client stands in for Twilio's API: no network), counted per studio and month, and a number
Twilio says opted out (21610) is suppressed for good while any other failure retries."""

import json
import logging
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client as WebClient
from django.utils import timezone
from django_tenants.utils import tenant_context
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from shared_apps.messaging.models import SmsOptOut, SmsUsage
from shared_apps.messaging.services import sms_usage_count
from tenant_apps.clients.models import Client
from tenant_apps.clients.services import client_erase
from tenant_apps.notifications import sms
from tenant_apps.notifications.models import Notification
from tenant_apps.notifications.services import notification_send
from tests.conftest import run_committed, run_in_threads

pytestmark = pytest.mark.django_db

PHONE = "+447911123456"
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token"
SERVICE_SID = "MG" + "1" * 32
MESSAGE_SID = "SM" + "2" * 32


class FakeTwilio(HttpClient):
    """Twilio's REST API as the SDK sees it: records each request and answers with the given status and body."""

    def __init__(self, status: int = 201, body: dict | None = None):
        super().__init__(logger=logging.getLogger(__name__), is_async=False)
        self.status = status
        self.body = body if body is not None else {"sid": MESSAGE_SID, "status": "accepted"}
        self.requests: list[dict] = []

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None, **kwargs):
        self.requests.append({"method": method, "uri": uri, "data": data, "auth": auth})
        return Response(self.status, json.dumps(self.body))


@pytest.fixture
def twilio(settings, monkeypatch) -> FakeTwilio:
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_MESSAGING_SERVICE_SID = SERVICE_SID
    settings.TWILIO_FROM_NUMBER = ""
    fake = FakeTwilio()
    monkeypatch.setattr(sms, "twilio_http_client", lambda: fake)
    return fake


@pytest.fixture
def texting_client(studio_a, booking_client_a) -> Client:
    """Cleo, who gave her number and agreed to SMS in her account."""
    with tenant_context(studio_a):
        booking_client_a.phone = PHONE
        booking_client_a.sms_opt_in = True
        booking_client_a.sms_consent_at = timezone.now()
        booking_client_a.sms_consent_source = "account"
        booking_client_a.save()
    return booking_client_a


def sms_rows_of(studio, booking) -> list[tuple]:
    with tenant_context(studio):
        return list(
            Notification.objects.filter(booking=booking, channel="sms")
            .order_by("id")
            .values_list("kind", "status", "send_after")
        )


def sms_reminder(studio, booking) -> Notification:
    with tenant_context(studio):
        return Notification.objects.get(booking=booking, channel="sms", kind="reminder_1h")


def usage(studio) -> int:
    month = timezone.now().date().replace(day=1)
    return SmsUsage.objects.filter(studio=studio, month=month).values_list("count", flat=True).first() or 0


# -- which messages go by SMS ----------------------------------------------------------------------------


def test_a_booking_of_a_client_who_opted_in_writes_the_1_hour_sms_reminder(studio_a, texting_client, make_booking):
    booking = make_booking()

    # The studio's default choice: the 1-hour reminder only, beside its email twin.
    assert sms_rows_of(studio_a, booking) == [("reminder_1h", "pending", booking.start_time - timedelta(hours=1))]
    row = sms_reminder(studio_a, booking)
    assert (row.client_id, row.recipient_phone, row.details) == (
        texting_client.pk,
        "",
        {"start_time": booking.start_time.isoformat()},
    )


@pytest.mark.parametrize(
    "change",
    [{"sms_opt_in": False}, {"phone": ""}],
    ids=["no consent", "no number"],
)
def test_no_sms_is_written_for_a_client_without_consent_or_number(studio_a, texting_client, make_booking, change):
    with tenant_context(studio_a):
        Client.objects.filter(pk=texting_client.pk).update(**change)
        texting_client.refresh_from_db()

    booking = make_booking()

    assert sms_rows_of(studio_a, booking) == []


def test_no_sms_is_written_to_a_number_that_opted_out(studio_a, texting_client, make_booking):
    SmsOptOut.objects.create(phone=PHONE, source="stop_reply")

    booking = make_booking()

    assert sms_rows_of(studio_a, booking) == []


def test_only_the_kinds_the_studio_chose_go_by_sms(studio_a, texting_client, make_booking, monkeypatch):
    monkeypatch.setattr(studio_a, "sms_kinds", ["booking_confirmed", "reminder_24h"])

    booking = make_booking()

    assert [kind for kind, _status, _send_after in sms_rows_of(studio_a, booking)] == [
        "booking_confirmed",
        "reminder_24h",
    ]


def test_choosing_the_sms_rows_costs_one_query_at_most(
    studio_a, texting_client, make_booking, django_assert_num_queries
):
    booking = make_booking()
    with tenant_context(studio_a):
        # The schema switch's own SET search_path comes with the first query: not the one counted.
        Notification.objects.exists()
        with django_assert_num_queries(1):
            assert len(sms.sms_rows(booking=booking, kind="reminder_1h", send_after=timezone.now(), details={})) == 1
        with django_assert_num_queries(0):
            assert sms.sms_rows(booking=booking, kind="reminder_24h", send_after=timezone.now(), details={}) == []


# -- sending -----------------------------------------------------------------------------------------------


def test_the_sms_reminder_goes_through_twilio_and_counts_in_the_usage(studio_a, texting_client, make_booking, twilio):
    booking = make_booking()
    row = sms_reminder(studio_a, booking)
    before = usage(studio_a)

    with tenant_context(studio_a):
        assert notification_send(notification_id=row.pk, now=row.send_after) == "sent"

    [request] = twilio.requests
    assert request["method"] == "POST"
    assert request["uri"] == f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request["auth"] == (ACCOUNT_SID, AUTH_TOKEN)
    data = request["data"]
    assert data["To"] == PHONE
    assert data["MessagingServiceSid"] == SERVICE_SID and "From" not in data
    assert data["StatusCallback"] == f"http://localhost/webhooks/twilio/status/?studio=alpha&notification={row.pk}"
    body = data["Body"]
    assert body.startswith("Alpha Strength: reminder of your PT 60 with ")
    assert "in about an hour" in body and ", 10:00 (Europe/London)." in body and "http://alpha.localhost/b/" in body
    assert len(body) <= 300
    with tenant_context(studio_a):
        row.refresh_from_db()
    assert (row.status, row.provider_message_id, row.recipient_phone) == ("sent", MESSAGE_SID, PHONE)
    assert usage(studio_a) == before + 1


def test_without_a_messaging_service_the_sms_goes_from_the_number(
    studio_a, texting_client, make_booking, twilio, settings
):
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    row = sms_reminder(studio_a, make_booking())

    with tenant_context(studio_a):
        assert notification_send(notification_id=row.pk, now=row.send_after) == "sent"

    [request] = twilio.requests
    assert request["data"]["From"] == "+15005550006" and "MessagingServiceSid" not in request["data"]


def test_the_sms_tells_the_time_in_the_clients_own_zone(studio_a, texting_client, make_booking, twilio):
    with tenant_context(studio_a):
        Client.objects.filter(pk=texting_client.pk).update(timezone="America/New_York")
    row = sms_reminder(studio_a, make_booking())

    with tenant_context(studio_a):
        assert notification_send(notification_id=row.pk, now=row.send_after) == "sent"

    assert ", 05:00 (America/New_York)." in twilio.requests[0]["data"]["Body"]


def test_a_number_twilio_says_opted_out_is_suppressed_and_never_retried(studio_a, texting_client, make_booking, twilio):
    twilio.status = 400
    twilio.body = {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}
    row = sms_reminder(studio_a, make_booking())
    before = usage(studio_a)

    with tenant_context(studio_a):
        assert notification_send(notification_id=row.pk, now=row.send_after) == "suppressed"
        # The sweep later finds nothing to send again.
        assert notification_send(notification_id=row.pk, now=row.send_after + timedelta(hours=1)) is None
        row.refresh_from_db()

    assert row.status == "suppressed" and "21610" in row.last_error
    assert len(twilio.requests) == 1
    assert SmsOptOut.objects.get(phone=PHONE).source == "carrier"
    assert usage(studio_a) == before


def test_a_twilio_server_error_is_retried_later(studio_a, texting_client, make_booking, twilio):
    twilio.status = 500
    twilio.body = {"code": 20500, "message": "Internal Server Error", "status": 500}
    row = sms_reminder(studio_a, make_booking())
    before = usage(studio_a)

    with tenant_context(studio_a):
        assert notification_send(notification_id=row.pk, now=row.send_after) == "pending"
        retried = Notification.objects.get(pk=row.pk)

    assert retried.send_after > row.send_after and "TwilioRestException" in retried.last_error
    assert retried.attempts == 1 and retried.provider_message_id == ""
    assert not SmsOptOut.objects.filter(phone=PHONE).exists()
    assert usage(studio_a) == before

    twilio.status, twilio.body = 201, {"sid": MESSAGE_SID, "status": "accepted"}
    with tenant_context(studio_a):
        assert notification_send(notification_id=row.pk, now=retried.send_after) == "sent"
    assert usage(studio_a) == before + 1


def test_a_number_twilio_can_never_text_fails_at_once(studio_a, texting_client, make_booking, twilio):
    twilio.status = 400
    twilio.body = {"code": 21614, "message": "'To' number is not a valid mobile number", "status": 400}
    row = sms_reminder(studio_a, make_booking())

    with tenant_context(studio_a):
        assert notification_send(notification_id=row.pk, now=row.send_after) == "failed"
        # No retry a day long for a landline: nothing is due again.
        assert notification_send(notification_id=row.pk, now=row.send_after + timedelta(days=2)) is None
        row.refresh_from_db()

    assert row.status == "failed" and "21614" in row.last_error
    assert len(twilio.requests) == 1


def test_an_erasure_blanks_the_number_and_the_providers_words(studio_a, texting_client, make_booking, twilio):
    twilio.status = 400
    twilio.body = {"code": 21614, "message": f"'To' number {PHONE} is not a valid mobile number", "status": 400}
    row = sms_reminder(studio_a, make_booking())
    with tenant_context(studio_a):
        notification_send(notification_id=row.pk, now=row.send_after)
        Notification.objects.filter(pk=row.pk).update(recipient_phone=PHONE)

        client_erase(client=texting_client)
        row.refresh_from_db()

    assert (row.recipient_phone, row.recipient_email, row.last_error) == ("", "", "")


def test_with_sms_off_for_the_platform_nothing_is_written(studio_a, texting_client, make_booking, settings):
    settings.SMS_BACKEND = "off"

    assert sms_rows_of(studio_a, make_booking()) == []


@pytest.mark.parametrize(
    "change",
    [{"sms_opt_in": False}, {"phone": ""}, "opted out"],
    ids=["consent withdrawn", "number removed", "number opted out"],
)
def test_an_sms_whose_client_withdrew_since_is_suppressed_at_send_time(
    studio_a, texting_client, make_booking, twilio, change
):
    row = sms_reminder(studio_a, make_booking())
    if change == "opted out":
        SmsOptOut.objects.create(phone=PHONE, source="stop_reply")
    else:
        with tenant_context(studio_a):
            Client.objects.filter(pk=texting_client.pk).update(**change)

    with tenant_context(studio_a):
        assert notification_send(notification_id=row.pk, now=row.send_after) == "suppressed"

    assert twilio.requests == []


def test_an_sms_of_a_kind_the_studio_stopped_sending_is_suppressed(
    studio_a, texting_client, make_booking, twilio, monkeypatch
):
    row = sms_reminder(studio_a, make_booking())
    monkeypatch.setattr(studio_a, "sms_kinds", [])

    with tenant_context(studio_a):
        assert notification_send(notification_id=row.pk, now=row.send_after) == "suppressed"

    assert twilio.requests == []


def test_in_development_the_sms_goes_to_the_log(studio_a, texting_client, make_booking, settings, caplog):
    settings.SMS_BACKEND = "console"
    row = sms_reminder(studio_a, make_booking())
    before = usage(studio_a)

    with tenant_context(studio_a), caplog.at_level(logging.INFO, logger="tenant_apps.notifications.sms"):
        assert notification_send(notification_id=row.pk, now=row.send_after) == "sent"
        row.refresh_from_db()

    assert row.provider_message_id == f"console-{row.pk}"
    assert f"SMS to {PHONE}" in caplog.text and "Alpha Strength: reminder of your PT 60" in caplog.text
    assert usage(studio_a) == before + 1


def test_twilios_status_callback_to_the_url_the_sms_named_marks_it_delivered(
    studio_a, texting_client, make_booking, twilio
):
    row = sms_reminder(studio_a, make_booking())
    with tenant_context(studio_a):
        notification_send(notification_id=row.pk, now=row.send_after)
    callback = twilio.requests[0]["data"]["StatusCallback"]
    fields = {"MessageSid": MESSAGE_SID, "MessageStatus": "delivered", "To": PHONE}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(callback, fields)
    url = urlsplit(callback)
    assert parse_qs(url.query) == {"studio": ["alpha"], "notification": [str(row.pk)]}

    response = WebClient(HTTP_HOST=url.netloc).post(
        f"{url.path}?{url.query}", fields, HTTP_X_TWILIO_SIGNATURE=signature
    )

    assert response.status_code == 200
    with tenant_context(studio_a):
        row.refresh_from_db()
    assert row.status == "delivered" and row.delivered_at is not None


# -- the monthly count -------------------------------------------------------------------------------------


def test_sms_sent_at_once_by_many_workers_are_all_counted(studio_a):
    # A month of its own: the threads commit, and no other test counts in it.
    moment = datetime(2031, 5, 14, 23, 30, tzinfo=UTC)

    results = run_in_threads(8, lambda _index: sms_usage_count(studio_id=studio_a.pk, moment=moment))

    try:
        assert results == [None] * 8
        assert SmsUsage.objects.get(studio=studio_a, month=date(2031, 5, 1)).count == 8
    finally:
        run_committed(lambda: SmsUsage.objects.filter(studio=studio_a, month=date(2031, 5, 1)).delete())


def test_the_month_is_utcs(studio_a):
    # 00:30 on 1 June in London is still May in UTC.
    sms_usage_count(studio_id=studio_a.pk, moment=datetime(2031, 5, 31, 23, 30, tzinfo=UTC))

    assert list(
        SmsUsage.objects.filter(studio=studio_a, month__gte=date(2031, 5, 1)).values_list("month", "count")
    ) == [(date(2031, 5, 1), 1)]
