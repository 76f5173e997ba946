"""Twilio's webhooks on the platform host: replies (STOP opts a number out of every studio's SMS, START back in)
and status callbacks (the row of the studio and id in the signed URL, only if it carries the SID Twilio names).
Every request is signed with RequestValidator over the URL Twilio called; anything else is refused."""

import pytest
from django.test import Client as WebClient
from django.utils import timezone
from django_tenants.utils import tenant_context
from twilio.request_validator import RequestValidator

from shared_apps.messaging.models import SmsOptOut
from tenant_apps.notifications.models import Notification
from tests.conftest import PLATFORM_HOST, host_of

pytestmark = pytest.mark.django_db

AUTH_TOKEN = "test-auth-token"
PHONE = "+447911123456"
INBOUND = "/webhooks/twilio/inbound/"
STATUS = "/webhooks/twilio/status/"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


@pytest.fixture(autouse=True)
def _twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN


def signature(url: str, fields: dict, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, fields)


def post_signed(path: str, fields: dict, *, host: str = PLATFORM_HOST, signed_url: str | None = None, **headers):
    """POST as Twilio would: the fields signed together with the URL it calls (or ``signed_url``)."""
    sig = signature(signed_url or f"http://{host}{path}", fields)
    return WebClient(HTTP_HOST=host).post(path, fields, HTTP_X_TWILIO_SIGNATURE=sig, **headers)


def reply(body: str, phone: str = PHONE) -> dict:
    return {"MessageSid": "SM" + "9" * 32, "From": phone, "To": "+15005550006", "Body": body}


def sent_sms(studio, sid: str) -> Notification:
    with tenant_context(studio):
        return Notification.objects.create(
            channel="sms",
            kind="reminder_1h",
            recipient_phone=PHONE,
            send_after=timezone.now(),
            status="sent",
            sent_at=timezone.now(),
            attempts=1,
            provider_message_id=sid,
        )


def status_of(studio, row: Notification) -> tuple:
    with tenant_context(studio):
        row.refresh_from_db()
    return row.status, row.delivered_at is not None, row.last_error


def callback(studio_schema: str, row_id: int, sid: str, message_status: str, error_code: str = ""):
    path = f"{STATUS}?studio={studio_schema}&notification={row_id}"
    fields = {"MessageSid": sid, "MessageStatus": message_status, "To": PHONE}
    if error_code:
        fields["ErrorCode"] = error_code
    return post_signed(path, fields)


# -- replies: STOP and START -------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["STOP", " stop ", "StopAll", "UNSUBSCRIBE", "cancel", "END", "quit"])
def test_a_stop_reply_opts_the_number_out(word):
    response = post_signed(INBOUND, reply(word))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response.content.decode() == EMPTY_TWIML
    assert SmsOptOut.objects.get(phone=PHONE).source == "stop_reply"


@pytest.mark.parametrize("word", ["START", "unstop", " yes"])
def test_a_start_reply_opts_the_number_back_in(word):
    post_signed(INBOUND, reply("STOP"))
    assert SmsOptOut.objects.filter(phone=PHONE).exists()

    response = post_signed(INBOUND, reply(word))

    assert response.status_code == 200
    assert not SmsOptOut.objects.filter(phone=PHONE).exists()


def test_a_custom_stop_keyword_of_advanced_opt_out_opts_the_number_out():
    response = post_signed(INBOUND, {**reply("ARRET"), "OptOutType": "STOP"})

    assert response.status_code == 200
    assert SmsOptOut.objects.filter(phone=PHONE).exists()


@pytest.mark.parametrize("body", ["Stop by the desk at 10?", "thanks!", "HELP"])
def test_any_other_reply_changes_nothing(body):
    response = post_signed(INBOUND, reply(body))

    assert response.status_code == 200
    assert not SmsOptOut.objects.exists()


def test_a_stop_from_a_channel_address_is_not_taken_for_a_phone_number():
    response = post_signed(INBOUND, reply("STOP", phone=f"whatsapp:{PHONE}"))

    assert response.status_code == 200
    assert not SmsOptOut.objects.exists()


# -- verification ------------------------------------------------------------------------------------------


def test_an_unsigned_reply_is_refused():
    response = WebClient(HTTP_HOST=PLATFORM_HOST).post(INBOUND, reply("STOP"))

    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()


def test_a_reply_signed_with_another_token_is_refused():
    fields = reply("STOP")
    sig = signature(f"http://{PLATFORM_HOST}{INBOUND}", fields, token="not-our-token")

    response = WebClient(HTTP_HOST=PLATFORM_HOST).post(INBOUND, fields, HTTP_X_TWILIO_SIGNATURE=sig)

    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()


def test_a_reply_whose_fields_were_changed_after_signing_is_refused():
    sig = signature(f"http://{PLATFORM_HOST}{INBOUND}", reply("hello"))

    response = WebClient(HTTP_HOST=PLATFORM_HOST).post(INBOUND, reply("STOP"), HTTP_X_TWILIO_SIGNATURE=sig)

    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()


def test_a_request_signed_for_another_url_is_refused():
    # A signature Twilio made for the status URL, replayed at the inbound one.
    response = post_signed(INBOUND, reply("STOP"), signed_url=f"http://{PLATFORM_HOST}{STATUS}")

    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()


def test_without_an_auth_token_configured_everything_is_refused(settings):
    settings.TWILIO_AUTH_TOKEN = ""
    fields = reply("STOP")
    sig = signature(f"http://{PLATFORM_HOST}{INBOUND}", fields, token="")

    response = WebClient(HTTP_HOST=PLATFORM_HOST).post(INBOUND, fields, HTTP_X_TWILIO_SIGNATURE=sig)

    assert response.status_code == 403


def test_a_get_is_not_allowed():
    assert WebClient(HTTP_HOST=PLATFORM_HOST).get(INBOUND).status_code == 405


def test_the_webhooks_are_not_on_a_studios_host(studio_a):
    response = post_signed(INBOUND, reply("STOP"), host=host_of(studio_a))

    assert response.status_code == 404
    assert not SmsOptOut.objects.exists()


# -- status callbacks --------------------------------------------------------------------------------------


def test_a_delivered_callback_marks_the_row_delivered(studio_a):
    row = sent_sms(studio_a, "SMaaa")

    response = callback("alpha", row.pk, "SMaaa", "delivered")

    assert response.status_code == 200
    assert status_of(studio_a, row) == ("delivered", True, "")


@pytest.mark.parametrize("message_status", ["failed", "undelivered"])
def test_a_failed_callback_marks_the_row_failed_with_twilios_error(studio_a, message_status):
    row = sent_sms(studio_a, "SMaaa")

    callback("alpha", row.pk, "SMaaa", message_status, error_code="30008")

    status, has_time, last_error = status_of(studio_a, row)
    assert (status, has_time) == ("failed", True)
    assert message_status in last_error and "30008" in last_error
    assert not SmsOptOut.objects.exists()


def test_a_callback_with_error_21610_opts_the_number_out(studio_a):
    row = sent_sms(studio_a, "SMaaa")

    callback("alpha", row.pk, "SMaaa", "undelivered", error_code="21610")

    assert status_of(studio_a, row)[0] == "failed"
    assert SmsOptOut.objects.get(phone=PHONE).source == "carrier"


def test_a_late_callback_never_moves_a_row_back(studio_a):
    row = sent_sms(studio_a, "SMaaa")
    callback("alpha", row.pk, "SMaaa", "delivered")
    with tenant_context(studio_a):
        delivered_at = Notification.objects.get(pk=row.pk).delivered_at

    for late in ("sent", "queued", "failed"):
        assert callback("alpha", row.pk, "SMaaa", late).status_code == 200

    assert status_of(studio_a, row) == ("delivered", True, "")
    assert row.delivered_at == delivered_at


def test_a_callback_that_beats_the_workers_sent_still_counts(studio_a):
    # The worker recorded Twilio's SID, and hasn't marked the row sent yet.
    row = sent_sms(studio_a, "SMaaa")
    with tenant_context(studio_a):
        Notification.objects.filter(pk=row.pk).update(status="sending", sent_at=None)

    callback("alpha", row.pk, "SMaaa", "delivered")

    assert status_of(studio_a, row) == ("delivered", True, "")


def test_a_sent_callback_changes_nothing(studio_a):
    row = sent_sms(studio_a, "SMaaa")

    callback("alpha", row.pk, "SMaaa", "sent")

    assert status_of(studio_a, row) == ("sent", False, "")


def test_a_callback_whose_sid_is_not_the_rows_changes_nothing(studio_a):
    row = sent_sms(studio_a, "SMaaa")

    callback("alpha", row.pk, "SMbbb", "failed", error_code="21610")

    assert status_of(studio_a, row) == ("sent", False, "")
    assert not SmsOptOut.objects.exists()


def test_a_callback_naming_another_studio_changes_neither_studios_rows(studio_a, studio_b):
    row_a = sent_sms(studio_a, "SMaaa")
    row_b = sent_sms(studio_b, "SMbbb")

    # Studio B's schema with studio A's row and SID, then with B's row id and A's SID.
    callback("bravo", row_a.pk, "SMaaa", "delivered")
    callback("bravo", row_b.pk, "SMaaa", "delivered")

    assert status_of(studio_a, row_a) == ("sent", False, "")
    assert status_of(studio_b, row_b) == ("sent", False, "")


@pytest.mark.parametrize("schema", ["nosuchstudio", "public", ""])
def test_a_callback_naming_no_studio_is_answered_and_changes_nothing(studio_a, schema):
    row = sent_sms(studio_a, "SMaaa")

    response = callback(schema, row.pk, "SMaaa", "delivered")

    assert response.status_code == 200
    assert status_of(studio_a, row) == ("sent", False, "")


def test_a_callback_with_the_studio_changed_after_signing_is_refused(studio_a, studio_b):
    row = sent_sms(studio_b, "SMbbb")
    fields = {"MessageSid": "SMbbb", "MessageStatus": "failed", "To": PHONE}
    sig = signature(f"http://{PLATFORM_HOST}{STATUS}?studio=alpha&notification={row.pk}", fields)

    response = WebClient(HTTP_HOST=PLATFORM_HOST).post(
        f"{STATUS}?studio=bravo&notification={row.pk}", fields, HTTP_X_TWILIO_SIGNATURE=sig
    )

    assert response.status_code == 403
    assert status_of(studio_b, row) == ("sent", False, "")


def test_an_unsigned_callback_is_refused(studio_a):
    row = sent_sms(studio_a, "SMaaa")

    response = WebClient(HTTP_HOST=PLATFORM_HOST).post(
        f"{STATUS}?studio=alpha&notification={row.pk}", {"MessageSid": "SMaaa", "MessageStatus": "delivered"}
    )

    assert response.status_code == 403
    assert status_of(studio_a, row) == ("sent", False, "")
