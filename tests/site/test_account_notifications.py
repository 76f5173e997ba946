"""My account, notifications (/account/notifications/): a signed-in client chooses reminders by email, texts
with their consent (recorded with time and source) to a number stored as E.164, and their own time zone; no one
else edits their record, and staff and strangers are sent elsewhere."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client as Browser
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from shared_apps.accounts.models import User
from shared_apps.core.exceptions import ValidationFailed
from shared_apps.messaging.models import SmsOptOut
from tenant_apps.clients.channels import client_channels_update
from tenant_apps.clients.models import Client
from tenants.models import Studio
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
URL = "/account/notifications/"
LONDON = ZoneInfo("Europe/London")


def _browser(user, studio, **options) -> Browser:
    """A browser on ``studio``'s host with ``user`` signed in (the session lives in the studio's schema)."""
    browser = Browser(HTTP_HOST=f"{studio.slug}.localhost", **options)
    with tenant_context(studio):
        browser.force_login(user)
    return browser


def _page(browser: Browser, path: str = URL) -> str:
    response = browser.get(path)
    assert response.status_code == 200, response
    return response.content.decode()


def _record(studio, client: Client) -> Client:
    with tenant_context(studio):
        return Client.objects.get(pk=client.pk)


def _set_studio(studio, **fields) -> None:
    with schema_context("public"):
        Studio.objects.filter(pk=studio.pk).update(**fields)


def _form(**changes) -> dict:
    """What the page posts with email reminders on, texts off and the studio's zone, changed by ``changes``;
    a checkbox left unticked is not posted at all (None here)."""
    data = {"email_reminders": "on", "sms_opt_in": None, "phone": "", "timezone": ""} | changes
    return {name: value for name, value in data.items() if value is not None}


# -- the page --------------------------------------------------------------------------------------------------


def test_the_page_says_what_goes_by_email_and_text_with_the_consent_wording_and_the_zone(
    studio_a, client_a, booking_client_a
):
    _set_studio(studio_a, sms_kinds=["reminder_24h", "reminder_1h"])

    page = _page(_browser(client_a, studio_a))

    assert '<a href="/account/notifications/" aria-current="page">Notifications</a>' in page
    assert f"always go to {booking_client_a.email}" in page
    assert (
        "<li>a reminder the day before a session</li>" in page
        and "<li>a reminder an hour before a session</li>" in page
    )
    assert "I agree to receive appointment texts from Alpha Strength. Reply STOP to opt out." in page
    assert "Texts are off." in page
    assert '<option value="" selected>The studio&#x27;s (Europe/London)</option>' in page
    assert '<option value="America/New_York">America/New York</option>' in page
    assert "<legend>Email</legend>" in page and "<legend>Text messages</legend>" in page
    assert 'name="csrfmiddlewaretoken"' in page
    # Every control has its label, and the hints are read with the field.
    for name in ("email_reminders", "sms_opt_in", "phone", "timezone"):
        assert f'<label for="id_{name}">' in page, name
    assert 'aria-describedby="id_timezone_helptext"' in page and 'id="id_timezone_helptext"' in page


def test_a_studio_that_sends_no_texts_asks_nothing_about_them_and_a_save_keeps_the_consent(
    studio_a, client_a, booking_client_a
):
    given = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)
    with tenant_context(studio_a):
        Client.objects.filter(pk=booking_client_a.pk).update(
            phone="+447911123456", sms_opt_in=True, sms_consent_at=given, sms_consent_source="booking"
        )
    _set_studio(studio_a, sms_kinds=[])
    browser = _browser(client_a, studio_a)

    page = _page(browser)
    response = browser.post(URL, {"timezone": "Europe/Paris"})

    assert "Reply STOP" not in page and 'name="phone"' not in page and "Text messages" not in page
    assert response.status_code == 302
    record = _record(studio_a, booking_client_a)
    assert (record.timezone, record.email_reminders) == ("Europe/Paris", False)
    assert (record.sms_opt_in, record.sms_consent_at, record.sms_consent_source) == (True, given, "booking")
    assert str(record.phone) == "+447911123456"


def test_a_bouncing_address_is_said_to_get_nothing_for_now(studio_a, client_a, booking_client_a):
    browser = _browser(client_a, studio_a)
    assert "could not be delivered" not in _page(browser)
    with tenant_context(studio_a):
        Client.objects.filter(pk=booking_client_a.pk).update(email_bounced_at=timezone.now())

    page = _page(browser)

    assert f"Our last mail to {booking_client_a.email} could not be delivered, so none goes there for now." in page


# -- consent -------------------------------------------------------------------------------------------------


def test_turning_texts_on_records_when_and_that_the_client_did_it_here_and_turning_them_off_clears_it(
    studio_a, client_a, booking_client_a
):
    browser = _browser(client_a, studio_a)
    before = timezone.now()

    response = browser.post(URL, _form(sms_opt_in="on", phone="+44 7911 123456"))

    after = timezone.now()
    assert response.status_code == 302 and response["Location"] == URL
    record = _record(studio_a, booking_client_a)
    assert record.sms_opt_in is True and record.sms_consent_source == "account"
    assert before <= record.sms_consent_at <= after
    page = _page(browser)
    assert "Your notification settings are saved." in page
    local = record.sms_consent_at.astimezone(LONDON)
    assert f"Texts on since {local.day} {local:%b %Y, %H:%M} {local.tzname()} (you turned them on here)." in page

    response = browser.post(URL, _form(phone="+44 7911 123456"))

    assert response.status_code == 302
    record = _record(studio_a, booking_client_a)
    assert (record.sms_opt_in, record.sms_consent_at, record.sms_consent_source) == (False, None, "")
    assert str(record.phone) == "+447911123456"  # the number stays; texts are off
    assert "Texts are off." in _page(browser)


def test_the_consent_shown_is_the_one_on_record_in_the_clients_own_zone(studio_a, client_a, booking_client_a):
    with tenant_context(studio_a):
        client_channels_update(
            client=booking_client_a,
            email_reminders=True,
            sms_opt_in=True,
            phone="+447911123456",
            timezone="America/New_York",
            source="account",
            now=datetime(2026, 12, 3, 19, 5, tzinfo=UTC),
        )

    page = _page(_browser(client_a, studio_a))

    assert "Texts on since 3 Dec 2026, 14:05 EST (you turned them on here)." in page
    assert '<option value="America/New_York" selected>America/New York</option>' in page


def test_saving_again_keeps_the_consent_and_a_new_number_is_a_new_consent(studio_a, booking_client_a):
    first, later = datetime(2026, 12, 3, 14, 5, tzinfo=UTC), datetime(2026, 12, 9, 8, 0, tzinfo=UTC)
    channels = {"email_reminders": True, "sms_opt_in": True, "timezone": "", "source": "account"}
    with tenant_context(studio_a):
        client_channels_update(client=booking_client_a, phone="07911 123456", now=first, **channels)
        same = client_channels_update(client=booking_client_a, phone="+447911123456", now=later, **channels)
        consent_kept = (same.sms_consent_at, same.sms_consent_source)
        moved = client_channels_update(
            client=booking_client_a, phone="07400 654321", now=later, **channels | {"source": "staff"}
        )

    assert consent_kept == (first, "account")
    assert (str(moved.phone), moved.sms_consent_at, moved.sms_consent_source) == ("+447400654321", later, "staff")


def test_texts_cannot_be_turned_on_without_a_number(studio_a, client_a, booking_client_a):
    response = _browser(client_a, studio_a).post(URL, _form(sms_opt_in="on", phone=""))

    page = response.content.decode()
    assert response.status_code == 200 and "<title>Error: Notifications" in page
    assert '<a href="#id_phone">Give the mobile number the texts should go to.</a>' in page
    record = _record(studio_a, booking_client_a)
    assert (record.sms_opt_in, record.sms_consent_at) == (False, None)


def test_a_number_that_replied_stop_is_saved_and_the_page_says_to_text_start(studio_a, client_a, booking_client_a):
    with schema_context("public"):
        SmsOptOut.objects.create(phone="+447911123456", source="stop_reply")
    browser = _browser(client_a, studio_a)

    response = browser.post(URL, _form(sms_opt_in="on", phone="07911 123456"))

    assert response.status_code == 302
    record = _record(studio_a, booking_client_a)
    assert (record.sms_opt_in, record.sms_consent_source, str(record.phone)) == (True, "account", "+447911123456")
    page = _page(browser)
    assert "This number replied STOP to our texts, so we send it none." in page
    assert "text START to the number our texts come from" in page


# -- the number ------------------------------------------------------------------------------------------------


def test_a_national_number_is_stored_in_e164_for_a_gb_studio_and_the_account_follows(
    studio_a, client_a, booking_client_a
):
    _set_studio(studio_a, country="GB")
    browser = _browser(client_a, studio_a)

    response = browser.post(URL, _form(sms_opt_in="on", phone="07911 123456"))

    assert response.status_code == 302
    assert str(_record(studio_a, booking_client_a).phone) == "+447911123456"
    with tenant_context(studio_a):
        assert str(User.objects.get(pk=client_a.pk).phone) == "+447911123456"  # the profile shows the same number
    assert 'value="+44 7911 123456"' in _page(browser)


@pytest.mark.parametrize(
    "typed",
    [
        "12",
        "call me",
        # Ofcom's range for drama: libphonenumber holds it invalid, and so does every way in (API, import, profile).
        "07700 900123",
    ],
)
def test_an_invalid_number_is_refused_beside_the_field_and_nothing_is_written(
    studio_a, client_a, booking_client_a, typed
):
    response = _browser(client_a, studio_a).post(
        URL, _form(email_reminders=None, sms_opt_in="on", phone=typed, timezone="Europe/Paris")
    )

    page = response.content.decode()
    assert response.status_code == 200 and "<title>Error: Notifications" in page
    summary = page.split('class="error-summary"')[1].split("</div>")[0]
    assert 'href="#id_phone">Enter a valid phone number' in summary
    assert 'id="id_phone_error"' in page
    assert 'aria-invalid="true" aria-describedby="id_phone_helptext id_phone_error"' in page
    assert f'value="{typed}"' in page  # what was typed stays
    record = _record(studio_a, booking_client_a)
    assert (record.email_reminders, record.sms_opt_in, record.phone, record.timezone) == (True, False, "", "")


# -- email and zone --------------------------------------------------------------------------------------------


def test_email_reminders_are_turned_off_and_the_zone_saved(studio_a, client_a, booking_client_a):
    response = _browser(client_a, studio_a).post(URL, _form(email_reminders=None, timezone="Asia/Tokyo"))

    assert response.status_code == 302
    record = _record(studio_a, booking_client_a)
    assert (record.email_reminders, record.timezone, record.sms_opt_in) == (False, "Asia/Tokyo", False)


def test_an_unknown_zone_is_refused_beside_the_field_with_the_other_mistakes_and_nothing_is_written(
    studio_a, client_a, booking_client_a
):
    response = _browser(client_a, studio_a).post(
        URL, _form(email_reminders=None, phone="12", timezone="Mars/Olympus_Mons")
    )

    page = response.content.decode()
    assert response.status_code == 200
    summary = page.split('class="error-summary"')[1].split("</div>")[0]
    assert '<a href="#id_timezone">Choose a time zone from the list.</a>' in summary
    assert 'href="#id_phone">Enter a valid phone number' in summary  # every mistake at once
    assert 'aria-describedby="id_timezone_helptext id_timezone_error"' in page
    record = _record(studio_a, booking_client_a)
    assert (record.email_reminders, record.timezone) == (True, "")


def test_the_service_refuses_an_unknown_zone_and_writes_nothing(studio_a, booking_client_a):
    with tenant_context(studio_a), pytest.raises(ValidationFailed) as refusal:
        client_channels_update(
            client=booking_client_a,
            email_reminders=False,
            sms_opt_in=False,
            phone="",
            timezone="Mars/Olympus_Mons",
            source="account",
        )

    assert refusal.value.fields == {"timezone": ["Unknown time zone: Mars/Olympus_Mons."]}
    assert _record(studio_a, booking_client_a).email_reminders is True


def test_the_service_refuses_an_invalid_number_and_writes_nothing(studio_a, booking_client_a):
    with tenant_context(studio_a), pytest.raises(ValidationFailed) as refusal:
        client_channels_update(
            client=booking_client_a,
            email_reminders=False,
            sms_opt_in=True,
            phone="07700 900123",
            timezone="Asia/Tokyo",
            source="account",
        )

    assert list(refusal.value.fields) == ["phone"]
    assert refusal.value.fields["phone"][0].startswith("Enter a valid phone number: a GB number")
    record = _record(studio_a, booking_client_a)
    assert (record.email_reminders, record.sms_opt_in, record.phone, record.timezone) == (True, False, "", "")


# -- who may ---------------------------------------------------------------------------------------------------


def test_a_client_changes_only_their_own_record(studio_a, client_a, booking_client_a):
    with tenant_context(studio_a):
        other = ClientFactory(email="someone@alpha.test", timezone="Europe/Berlin")

    response = _browser(client_a, studio_a).post(
        URL, _form(email_reminders=None, timezone="Asia/Tokyo", client=other.pk)
    )

    assert response.status_code == 302
    assert _record(studio_a, booking_client_a).timezone == "Asia/Tokyo"
    other_now = _record(studio_a, other)
    assert (other_now.timezone, other_now.email_reminders) == ("Europe/Berlin", True)


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_login_page(studio_a, booking_client_a):
    browser = Browser(HTTP_HOST="alpha.localhost")

    read = browser.get(URL)
    write = browser.post(URL, _form(email_reminders=None))

    for response in (read, write):
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=" + URL)
    assert _record(studio_a, booking_client_a).email_reminders is True


def test_a_session_of_another_studio_means_nothing_here(studio_a, studio_b, client_b, booking_client_a):
    with tenant_context(studio_b):
        ClientFactory(email=client_b.email, user=client_b)
    browser = _browser(client_b, studio_b)
    assert browser.get(URL).status_code == 200  # signed in on bravo

    read = browser.get(URL, HTTP_HOST="alpha.localhost")
    write = browser.post(URL, _form(email_reminders=None), HTTP_HOST="alpha.localhost")

    for response in (read, write):
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert _record(studio_a, booking_client_a).email_reminders is True


def test_staff_are_sent_to_their_profile_and_change_nothing(studio_a, trainer_a):
    with tenant_context(studio_a):
        # Even a record linked to the staff account is not theirs to edit here.
        record = ClientFactory(email=trainer_a.email, user=trainer_a)
    browser = _browser(trainer_a, studio_a)

    read = browser.get(URL)
    write = browser.post(URL, _form(email_reminders=None, timezone="Asia/Tokyo"))

    for response in (read, write):
        assert response.status_code == 302 and response["Location"] == "/account/profile/"
    assert "Your staff account has none of its own" in _page(browser, "/account/profile/")
    after = _record(studio_a, record)
    assert (after.email_reminders, after.timezone) == (True, "")


def test_a_post_without_the_csrf_token_is_refused(studio_a, client_a, booking_client_a):
    browser = _browser(client_a, studio_a, enforce_csrf_checks=True)

    response = browser.post(URL, _form(email_reminders=None))

    assert response.status_code == 403
    assert _record(studio_a, booking_client_a).email_reminders is True


def test_a_client_without_a_record_yet_is_told_to_confirm_their_address(studio_a, client_a):
    page = _page(_browser(client_a, studio_a))

    assert "Your account is almost ready" in page
