"""The ESP's tracking webhooks (Postmark's payloads, on the platform host, with Anymail's basic auth) update the
row the mail's metadata names, only when the message id matches too: delivered, bounced (and the client's address
marked bouncing), complained (reminders by email off); never backwards; forged or unauthenticated calls change
nothing."""

import base64
import json
import uuid

import pytest
from anymail.backends.test import EmailBackend as AnymailTestBackend
from django.core import mail
from django.test import Client as HttpClient
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tenants.utils import tenant_context

from tenant_apps.clients.models import Client
from tenant_apps.notifications.models import Notification
from tenant_apps.notifications.services import notification_send

pytestmark = pytest.mark.django_db

URL = "/webhooks/anymail/postmark/tracking/"
SECRET = "postmark:a-long-random-webhook-secret"
DELIVERED_AT = "2026-12-01T16:28:50.3963933-04:00"
HARD_BOUNCE = "The server was unable to deliver your message (ex: unknown user, mailbox not found)."


class ProviderBackend(AnymailTestBackend):
    """Anymail's test backend, with message ids such as an ESP gives (its own are the outbox's indexes)."""

    def get_esp_message_id(self, message):
        return str(uuid.uuid4())


@pytest.fixture(autouse=True)
def _esp(settings):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.ProviderBackend"}}
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


@pytest.fixture
def sent(studio_a, make_booking):
    """A booking's confirmation as the ESP took it: (its row, the mail with its metadata and message id)."""
    booking = make_booking()
    with tenant_context(studio_a):
        row = Notification.objects.get(booking=booking, kind="booking_confirmed")
        assert notification_send(notification_id=row.pk) == "sent"
    [message] = mail.outbox
    return row, message


def postmark(record_type: str, message, **fields) -> dict:
    """A Postmark tracking webhook's JSON for ``message`` (it echoes the metadata and tag it was sent with)."""
    event = {
        "RecordType": record_type,
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": message.anymail_status.message_id,
        "Tag": message.anymail_test_params["tags"][0],
        "Metadata": message.anymail_test_params["metadata"],
    }
    if record_type == "Delivery":
        event |= {"Recipient": message.to[0], "DeliveredAt": DELIVERED_AT, "Details": "Test delivery webhook details"}
    else:  # Bounce, SpamComplaint
        event |= {
            "ID": 4323372036854775807,
            "Type": "HardBounce",
            "TypeCode": 1,
            "Name": "Hard bounce",
            "Description": HARD_BOUNCE,
            "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
            "Email": message.to[0],
            "From": message.from_email,
            "BouncedAt": DELIVERED_AT,
            "DumpAvailable": True,
            "Inactive": True,
            "CanActivate": True,
            "Subject": message.subject,
        }
    return event | fields


def post(event: dict, auth: str | None = SECRET):
    headers = {"HTTP_AUTHORIZATION": f"Basic {base64.b64encode(auth.encode()).decode()}"} if auth else {}
    return HttpClient(HTTP_HOST="localhost").post(URL, json.dumps(event), content_type="application/json", **headers)


def state(studio, row) -> tuple:
    with tenant_context(studio):
        row = Notification.objects.select_related("client").get(pk=row.pk)
    return row.status, row.delivered_at, row.last_error, row.client.email_bounced_at, row.client.email_reminders


def test_a_delivery_marks_the_row_delivered(studio_a, sent):
    row, message = sent

    assert post(postmark("Delivery", message)).status_code == 200

    assert state(studio_a, row) == ("delivered", parse_datetime(DELIVERED_AT), "", None, True)


def test_a_hard_bounce_marks_the_row_and_the_clients_address(studio_a, sent, make_booking):
    row, message = sent

    assert post(postmark("Bounce", message)).status_code == 200

    bounced_at = parse_datetime(DELIVERED_AT)
    assert state(studio_a, row) == ("bounced", bounced_at, HARD_BOUNCE, bounced_at, True)
    with tenant_context(studio_a):
        assert Client.objects.get(pk=row.client_id).email_bounce_reason == HARD_BOUNCE
        # The outbox sends the address nothing more.
        booking = make_booking(clock="11:00")
        later = Notification.objects.get(booking=booking, kind="booking_confirmed")
        assert notification_send(notification_id=later.pk) == "suppressed"


def test_a_row_never_moves_back(studio_a, sent):
    row, message = sent
    post(postmark("Delivery", message))
    post(postmark("Bounce", message))  # some ESPs report a bounce after a delivery

    assert post(postmark("Delivery", message)).status_code == 200

    assert state(studio_a, row)[0] == "bounced"


def test_a_bounce_of_an_address_the_client_changed_since_leaves_the_new_one_alone(studio_a, sent):
    row, message = sent
    with tenant_context(studio_a):
        Client.objects.filter(pk=row.client_id).update(email="cleo.new@example.com")

    post(postmark("Bounce", message))

    assert state(studio_a, row)[0::3] == ("bounced", None)


def test_the_address_is_matched_whatever_its_case(studio_a, sent):
    row, message = sent

    post(postmark("Bounce", message, Email=message.to[0].upper()))

    assert state(studio_a, row)[3] is not None


@pytest.mark.parametrize(("postmark_type", "status"), [("BadEmailAddress", "bounced"), ("Transient", "sent")])
def test_a_rejection_is_a_bounce_and_a_deferral_changes_nothing(studio_a, sent, postmark_type, status):
    row, message = sent

    assert post(postmark("Bounce", message, Type=postmark_type)).status_code == 200

    assert state(studio_a, row)[0] == status
    assert (state(studio_a, row)[3] is not None) is (status == "bounced")


@pytest.mark.parametrize("postmark_type", ["Blocked", "DMARCPolicy", "VirusNotification"])
def test_a_refusal_about_the_sender_or_the_content_leaves_the_address_alone(studio_a, sent, postmark_type):
    row, message = sent

    # Not the mailbox's fault: a DMARC mistake on our domain must not mark every client's address bouncing.
    assert post(postmark("Bounce", message, Type=postmark_type, Description="Refused")).status_code == 200

    status, _delivered_at, _last_error, bounced_at, _reminders = state(studio_a, row)
    assert (status, bounced_at) == ("bounced", None)


def test_a_delivery_that_beats_the_workers_sent_still_counts(studio_a, sent):
    row, message = sent
    with tenant_context(studio_a):
        Notification.objects.filter(pk=row.pk).update(status="sending")

    assert post(postmark("Delivery", message)).status_code == 200

    assert state(studio_a, row)[0] == "delivered"


def test_a_soft_bounce_marks_the_row_but_not_the_address(studio_a, sent):
    row, message = sent

    # A full mailbox: Anymail calls it "bounced" too, but the address may take the next mail.
    assert post(postmark("Bounce", message, Type="SoftBounce", Description="Mailbox full")).status_code == 200

    status, _delivered_at, last_error, bounced_at, _reminders = state(studio_a, row)
    assert (status, last_error, bounced_at) == ("bounced", "Mailbox full", None)


def test_a_complaint_turns_reminders_off_and_keeps_the_status(studio_a, sent):
    row, message = sent
    post(postmark("Delivery", message))

    complaint = postmark("SpamComplaint", message, Type="SpamComplaint", TypeCode=512, Description="")
    assert post(complaint).status_code == 200

    status, _delivered_at, last_error, bounced_at, email_reminders = state(studio_a, row)
    assert (status, bounced_at, email_reminders) == ("delivered", None, False)
    assert last_error.startswith("complained")


@pytest.mark.parametrize("auth", [None, "postmark:wrong-secret", f"{SECRET}x"])
def test_a_call_without_the_secret_is_refused_and_changes_nothing(studio_a, sent, auth):
    row, message = sent

    response = post(postmark("Bounce", message), auth=auth)

    assert response.status_code in (400, 403)
    assert state(studio_a, row) == ("sent", None, "", None, True)
    assert post(postmark("Bounce", message)).status_code == 200  # the same event with the secret
    assert state(studio_a, row)[0] == "bounced"


def test_metadata_naming_a_row_with_another_message_id_changes_nothing(studio_a, sent, caplog):
    row, message = sent

    with caplog.at_level("INFO", logger="tenant_apps.notifications.tracking"):
        assert post(postmark("Bounce", message, MessageID=str(uuid.uuid4()))).status_code == 200

    assert state(studio_a, row) == ("sent", None, "", None, True)
    assert "ignored" in caplog.text


def test_another_studios_row_with_the_same_id_is_not_touched(studio_a, studio_b, sent):
    row_a, message = sent
    with tenant_context(studio_b):
        row_b = Notification.objects.create(
            pk=row_a.pk,
            recipient_email="someone@bravo.test",
            kind="booking_confirmed",
            send_after=timezone.now(),
            status="sent",
            provider_message_id=str(uuid.uuid4()),
        )
    metadata_a = message.anymail_test_params["metadata"]

    # This studio's metadata with the other row's message id, then the other studio's with this one's.
    post(postmark("Bounce", message, MessageID=row_b.provider_message_id))
    post(postmark("Bounce", message, Metadata={**metadata_a, "studio": studio_b.schema_name}))

    assert state(studio_a, row_a) == ("sent", None, "", None, True)
    with tenant_context(studio_b):
        assert Notification.objects.get(pk=row_b.pk).status == "sent"
    post(postmark("Bounce", message))  # the real event
    assert state(studio_a, row_a)[0] == "bounced"
    with tenant_context(studio_b):
        assert Notification.objects.get(pk=row_b.pk).status == "sent"


@pytest.mark.parametrize(
    "metadata",
    [{}, {"studio": "no_such_schema"}, {"studio": "public"}],
    ids=["none", "unknown studio", "the platform"],
)
def test_events_that_name_no_studio_are_ignored(studio_a, sent, metadata, caplog):
    row, message = sent
    event = postmark("Bounce", message, Metadata={**metadata, "notification": str(row.pk)} if metadata else {})

    with caplog.at_level("INFO", logger="tenant_apps.notifications.tracking"):
        assert post(event).status_code == 200

    assert state(studio_a, row) == ("sent", None, "", None, True)
    assert "names no studio" in caplog.text


def test_the_mail_names_its_studio_and_row_for_the_webhook(studio_a, sent):
    row, message = sent

    assert message.anymail_test_params["metadata"] == {"studio": studio_a.schema_name, "notification": str(row.pk)}
    with tenant_context(studio_a):
        assert Notification.objects.get(pk=row.pk).provider_message_id == message.anymail_status.message_id
