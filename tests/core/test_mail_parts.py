"""Every mail has a text part and, beside it, the same words in the HTML layout (escaped, links clickable, in the
studio's colour); replies go to the studio's contact address. The booking mails keep their calendar invitation."""

import email
import html
import re

import pytest
from django.core import mail
from django_tenants.utils import schema_context, tenant_context

from shared_apps.core.mail import brand_colors, render_mail, send_mail_on_commit
from tenant_apps.bookings.tokens import booking_manage_url
from tenant_apps.notifications.models import Notification
from tenant_apps.notifications.services import notification_send
from tests.notifications import conftest as outbox

pytestmark = pytest.mark.django_db
make_booking = outbox.make_booking


def html_part(message) -> str:
    [content] = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    return content


def test_a_booking_mail_has_text_html_and_its_invitation(studio_a, schedule_a, make_booking, monkeypatch):
    # The studio object is the one the connection carries (and shared by the session): patched, not saved.
    monkeypatch.setattr(studio_a, "contact_email", "hello@alpha.test")
    _trainer, session_type = schedule_a
    with tenant_context(studio_a):
        session_type.name = "<b>x</b> & more"
        session_type.save(update_fields=["name"])
    booking = make_booking()
    with tenant_context(studio_a):
        row = Notification.objects.get(booking=booking, kind="booking_confirmed")
        assert notification_send(notification_id=row.pk) == "sent"
        manage_prefix = booking_manage_url(booking).rsplit(":", 2)[0]  # the token's signature has the time in it
    [message] = mail.outbox
    [manage_url] = re.findall(r"http://\S+/b/\S+/", message.body)

    assert message.reply_to == ["hello@alpha.test"]
    assert message.from_email.startswith(f"{studio_a.name} <")
    assert "<b>x</b> & more" in message.body and manage_url.startswith(manage_prefix)
    assert message.subject.startswith("Booked: <b>x</b> & more on ")  # the subject stays plain text
    page = html_part(message)
    assert "&lt;b&gt;x&lt;/b&gt; &amp; more" in page and "<b>x</b>" not in page
    assert f'<a href="{html.escape(manage_url)}"' in page
    assert f"<title>{html.escape(message.subject)}</title>" in page and '<html lang="en">' in page
    assert studio_a.brand_color in page and html.escape(studio_a.name) in page
    assert not re.search(r"<img|src=|url\(", page)  # nothing fetched from elsewhere

    wire = email.message_from_bytes(message.message().as_bytes())
    types = [part.get_content_type() for part in wire.walk()]
    assert types == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/calendar"]
    assert wire["Reply-To"] == "hello@alpha.test"


def test_a_studio_without_a_contact_address_sets_no_reply_to(studio_a, make_booking, monkeypatch):
    monkeypatch.setattr(studio_a, "contact_email", "")  # whatever an earlier test left on the shared object
    booking = make_booking()
    with tenant_context(studio_a):
        row = Notification.objects.get(booking=booking, kind="booking_confirmed")
        notification_send(notification_id=row.pk)

    assert mail.outbox[0].reply_to == []
    assert "Reply-To" not in mail.outbox[0].message()


def test_an_account_mail_goes_with_its_html_part(studio_a, client_a, django_capture_on_commit_callbacks):
    with tenant_context(studio_a), django_capture_on_commit_callbacks(execute=True):
        send_mail_on_commit(
            template="password_reset",
            to=client_a.email,
            context={"user": client_a, "link": "https://alpha.localhost/reset/a?b=1&c=2"},
        )
    [message] = mail.outbox

    assert "https://alpha.localhost/reset/a?b=1&c=2" in message.body
    assert '<a href="https://alpha.localhost/reset/a?b=1&amp;c=2"' in html_part(message)


def test_the_platforms_mails_have_the_layout_and_no_reply_to(db):
    with schema_context("public"):
        parts = render_mail(
            template="password_reset",
            to="admin@platform.test",
            context={"user": None, "link": "http://localhost:8000/reset/x/"},
        )

    assert parts["reply_to"] == []
    [(page, mimetype)] = parts["alternatives"]
    assert mimetype == "text/html"
    assert "TrainerHub" in page and '<a href="http://localhost:8000/reset/x/"' in page


@pytest.mark.parametrize(
    ("brand", "on_brand", "link"),
    [
        ("#2563eb", "#ffffff", "#2563eb"),  # dark enough for white text and for links on white
        ("#facc15", "#1f2937", "#1f2937"),  # a pale yellow: dark text on it, dark links
        ("#000000", "#ffffff", "#000000"),
    ],
)
def test_the_layouts_colours_stay_readable_whatever_the_brand(brand, on_brand, link):
    colors = brand_colors(brand)

    assert (colors["brand"], colors["on_brand"], colors["link"]) == (brand, on_brand, link)
