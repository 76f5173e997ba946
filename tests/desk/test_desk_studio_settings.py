"""/desk/settings/: the studio's settings, its logo and the staff's sign-in rule. Staff read them; the owner alone
changes them (as /api/studio/ and /api/staff/security/ decide). The preview of the booking site in the theme and
colour being chosen saves nothing. Clients, visitors and other studios' accounts are refused."""

import io

import pytest
from django.core.files.storage import default_storage
from django.test import Client as Browser
from django_tenants.utils import schema_context, tenant_context
from PIL import Image

from shared_apps.accounts.models import User
from tenants import services
from tenants.models import Studio
from tests.conftest import host_of, totp_enable

pytestmark = pytest.mark.django_db
PAGE = "/desk/settings/"
LOGO = "/desk/settings/logo/"
SECURITY = "/desk/settings/staff-security/"
PREVIEW_SITE = "/desk/settings/preview/"
SAVE = "Save the settings"


def _browser(studio, user=None, **options) -> Browser:
    browser = Browser(HTTP_HOST=host_of(studio), **options)
    if user is not None:
        with tenant_context(studio):
            browser.force_login(user)
    return browser


def studio_row(studio: Studio) -> Studio:
    with schema_context("public"):
        return Studio.objects.get(pk=studio.pk)


def settings_of(studio: Studio) -> dict:
    row = studio_row(studio)
    return {name: getattr(row, name) for name in services.STUDIO_SETTINGS_FIELDS} | {
        "logo": row.logo.name,
        "staff_mfa_required": row.staff_mfa_required,
        "updated": row.updated,
    }


def form_data(studio: Studio, **changes) -> dict:
    """What the page posts: every setting as it is saved now, with ``changes``; a box left unticked is absent."""
    row = studio_row(studio)
    data = {name: getattr(row, name) for name in services.STUDIO_SETTINGS_FIELDS}
    data["contact_phone"] = str(data["contact_phone"] or "")
    data.update(changes)
    if not data["guest_booking_enabled"]:
        del data["guest_booking_enabled"]
    return data


def image_bytes(image_format: str = "PNG", size: tuple[int, int] = (64, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (37, 99, 235)).save(buffer, format=image_format)
    return buffer.getvalue()


def upload(browser, content: bytes, name: str = "logo.png"):
    file = io.BytesIO(content)
    file.name = name
    return browser.post(LOGO, {"logo-logo": file})


# -- the owner saves each group of settings ----------------------------------------------------------------


def test_the_owner_sees_the_settings_as_saved_with_a_preview_of_the_site(studio_a, owner_a):
    html = _browser(studio_a, owner_a).get(PAGE).content.decode()

    assert "<h1>Studio settings</h1>" in html
    assert 'value="Alpha Strength"' in html and 'value="Europe/London"' in html
    assert '<option value="classic" selected>Classic</option>' in html
    assert f'src="{PREVIEW_SITE}?theme=classic&amp;brand_color=%232563eb"' in html
    assert "as saved" in html
    assert SAVE in html and " disabled" not in html


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {
                "name": "Alpha Strength & Conditioning",
                "timezone": "America/New_York",
                "currency": "EUR",
                "country": "US",
            },
            {
                "name": "Alpha Strength & Conditioning",
                "timezone": "America/New_York",
                "currency": "EUR",
                "country": "US",
            },
        ),
        ({"theme": "midnight", "brand_color": "#112233"}, {"theme": "midnight", "brand_color": "#112233"}),
        (
            # A number without its country code is one of the country sent with it.
            {
                "contact_email": "hello@alpha.test",
                "contact_phone": "(202) 555-0143",
                "country": "US",
                "address": "1 Main St",
            },
            {"contact_email": "hello@alpha.test", "contact_phone": "+12025550143", "address": "1 Main St"},
        ),
        (
            {
                "cancellation_policy": "Cancel 12 hours ahead.",
                "default_cancellation_window_hours": "12",
                "guest_booking_enabled": False,
            },
            {"cancellation_policy": "Cancel 12 hours ahead.", "default_cancellation_window_hours": 12},
        ),
        # Kept in the order of SMS_KIND_CHOICES whatever order they come in.
        ({"sms_kinds": ["reminder_24h", "booking_confirmed"]}, {"sms_kinds": ["booking_confirmed", "reminder_24h"]}),
    ],
    ids=["studio", "look", "contact", "bookings", "sms"],
)
def test_the_owner_saves_each_group_of_settings(studio_a, owner_a, changes, expected):
    browser = _browser(studio_a, owner_a)

    response = browser.post(PAGE, form_data(studio_a, **changes))

    assert response.status_code == 302 and response["Location"] == PAGE
    saved = settings_of(studio_a)
    assert {name: saved[name] for name in expected} == expected
    if "guest_booking_enabled" in changes:
        assert saved["guest_booking_enabled"] is False
    assert "The studio&#x27;s settings were saved." in browser.get(PAGE).content.decode()


def test_a_new_time_zone_is_saved_with_the_services_notice(studio_a, owner_a):
    browser = _browser(studio_a, owner_a)

    browser.post(PAGE, form_data(studio_a, timezone="Asia/Tokyo"))

    html = browser.get(PAGE).content.decode()
    assert "Existing bookings have not moved" in html
    assert 'value="Asia/Tokyo"' in html


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"brand_color": "blue"}, "Use a hex colour such as #2563eb."),
        ({"theme": "neon"}, "Choose one of the installed themes."),
        ({"timezone": "Mars/Olympus_Mons"}, "Unknown time zone: Mars/Olympus_Mons."),
        ({"currency": "eur"}, "Use an ISO 4217 code such as EUR."),
        ({"country": "XX"}, "Use an ISO 3166 country code such as GB."),
        ({"contact_phone": "12"}, "Enter a valid phone number: a GB number"),
        ({"contact_email": "not-an-email"}, "Enter a valid email address."),
        ({"default_cancellation_window_hours": "99999"}, "Ensure this value is less than or equal to 1440."),
        ({"sms_kinds": ["staff_booking_new"]}, "Select a valid choice."),
        ({"name": ""}, "This field is required."),
    ],
)
def test_bad_input_is_shown_on_the_form_and_changes_nothing(studio_a, owner_a, changes, message):
    before = settings_of(studio_a)
    # A valid change beside the bad one: nothing of the request is saved.
    response = _browser(studio_a, owner_a).post(PAGE, form_data(studio_a, address="Somewhere new", **changes))

    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html and message in html
    assert "form-group-error" in html and 'class="field-error"' in html  # by the field too, not only in the summary
    assert settings_of(studio_a) == before


# -- the preview --------------------------------------------------------------------------------------------


def test_the_preview_swaps_in_the_chosen_theme_and_colour_without_saving(studio_a, owner_a):
    before = settings_of(studio_a)

    response = _browser(studio_a, owner_a).get(
        PAGE, {"theme": "midnight", "brand_color": "#112233"}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<form" not in html  # the partial alone
    assert f'src="{PREVIEW_SITE}?theme=midnight&amp;brand_color=%23112233"' in html
    assert "Midnight theme" in html and "not saved yet" in html
    assert "HX-Request" in response["Vary"]
    assert settings_of(studio_a) == before


def test_a_preview_of_a_bad_choice_says_so_and_shows_the_saved_look(studio_a, owner_a):
    html = (
        _browser(studio_a, owner_a)
        .get(PAGE, {"theme": "neon", "brand_color": "#12"}, HTTP_HX_REQUEST="true")
        .content.decode()
    )

    assert "Choose one of the installed themes." in html and "Use a hex colour such as #2563eb." in html
    assert f'src="{PREVIEW_SITE}?theme=classic&amp;brand_color=%232563eb"' in html


def test_without_javascript_the_preview_is_a_page_starting_from_the_values_previewed(studio_a, owner_a):
    html = _browser(studio_a, owner_a).get(PAGE, {"theme": "midnight"}).content.decode()

    assert "<h1>Studio settings</h1>" in html
    assert '<option value="midnight" selected>Midnight</option>' in html
    assert "theme=midnight" in html
    assert studio_row(studio_a).theme == "classic"


def test_the_preview_frame_is_the_site_in_the_chosen_theme_and_colour(studio_a, owner_a):
    before = settings_of(studio_a)

    response = _browser(studio_a, owner_a).get(PREVIEW_SITE, {"theme": "midnight", "brand_color": "#112233"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/themes/midnight/theme.css" in html and 'class="theme-midnight"' in html
    assert "--brand: #112233;" in html
    assert "Train hard, rest well." in html  # the midnight theme's own footer: its templates, not the saved theme's
    assert "Times in <strong>Europe/London</strong>" in html
    # Only the desk's own pages may frame it; its colour is in the nonce'd <style>, the CSP still enforced.
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy and "style-src 'self' 'nonce-" in policy
    assert settings_of(studio_a) == before


def test_the_preview_frame_of_a_bad_choice_shows_the_saved_look(studio_a, owner_a):
    html = _browser(studio_a, owner_a).get(PREVIEW_SITE, {"theme": "../base", "brand_color": "red;}"}).content.decode()

    assert "/static/themes/classic/theme.css" in html and "--brand: #2563eb;" in html
    assert "red;}" not in html


def test_other_pages_still_refuse_to_be_framed(studio_a, owner_a):
    response = _browser(studio_a, owner_a).get(PAGE)

    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


# -- the logo -----------------------------------------------------------------------------------------------


def test_the_owner_uploads_a_logo_and_removes_it(studio_a, owner_a, django_capture_on_commit_callbacks):
    browser = _browser(studio_a, owner_a)

    uploaded = upload(browser, image_bytes("WEBP"), name='"><script>.webp')

    assert uploaded.status_code == 302 and uploaded["Location"] == PAGE
    stored = studio_row(studio_a).logo.name
    assert stored.startswith("studios/alpha/logo/logo-") and stored.endswith(".webp")
    html = browser.get(PAGE).content.decode()
    assert "The logo was saved." in html and f"/media/{stored}" in html and "Remove the logo" in html

    with django_capture_on_commit_callbacks(execute=True):
        removed = browser.post(LOGO, {"remove": "1"})

    assert removed.status_code == 302
    assert not studio_row(studio_a).logo and not default_storage.exists(stored)
    assert "The logo was removed." in browser.get(PAGE).content.decode()


@pytest.mark.parametrize(
    ("content", "name", "status", "message"),
    [
        (b"just some text, not an image", "logo.png", 400, "Upload a PNG, JPEG or WebP image."),
        (image_bytes("GIF"), "logo.gif", 400, "Upload a PNG, JPEG or WebP image."),
        (image_bytes(size=(services.LOGO_MAX_SIDE + 1, 1)), "wide.png", 400, "at most 4096 pixels wide and high"),
        # Refused before it is read (its length says so), and by the service (one byte over, read).
        (image_bytes() + b"\0" * services.LOGO_MAX_BYTES, "huge.png", 413, "The logo is larger than 2 MB."),
        (b"\0" * (services.LOGO_MAX_BYTES + 1), "over.png", 413, "The logo is larger than 2 MB."),
    ],
    ids=["text", "gif", "too-wide", "too-heavy", "one-byte-over"],
)
def test_a_logo_that_is_not_acceptable_is_refused_on_the_form(studio_a, owner_a, content, name, status, message):
    response = upload(_browser(studio_a, owner_a), content, name=name)

    html = response.content.decode()
    assert response.status_code == status
    assert "There is a problem" in html and message in html
    assert not studio_row(studio_a).logo


def test_no_file_chosen_is_an_error(studio_a, owner_a):
    response = _browser(studio_a, owner_a).post(LOGO, {})

    assert response.status_code == 400 and "Choose an image to upload." in response.content.decode()


# -- staff two-factor authentication ------------------------------------------------------------------------


def test_the_owner_without_two_factor_authentication_cant_require_it_of_staff(studio_a, owner_a):
    response = _browser(studio_a, owner_a).post(SECURITY, {"security-staff_mfa_required": "on"})

    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html
    assert "Set up two-factor authentication for your own account first, or you would be locked out." in html
    assert 'id="id_security-staff_mfa_required_error"' in html
    assert studio_row(studio_a).staff_mfa_required is False


def test_the_owner_with_two_factor_authentication_requires_it_and_lifts_it(studio_a, owner_a):
    with tenant_context(studio_a):
        totp_enable(owner_a)
    browser = _browser(studio_a, owner_a)

    required = browser.post(SECURITY, {"security-staff_mfa_required": "on"})

    assert required.status_code == 302 and studio_row(studio_a).staff_mfa_required is True
    html = browser.get(PAGE).content.decode()
    assert "Staff must now use two-factor authentication." in html and "checked" in html

    assert browser.post(SECURITY, {}).status_code == 302
    assert studio_row(studio_a).staff_mfa_required is False


# -- who may ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["manager_a", "trainer_a"])
def test_managers_and_trainers_read_the_settings_but_cant_change_them(request, studio_a, owner_a, who):
    browser = _browser(studio_a, request.getfixturevalue(who))
    before = settings_of(studio_a)

    page = browser.get(PAGE)
    saved = browser.post(PAGE, form_data(studio_a, name="Taken over", theme="midnight"))
    logo = upload(browser, image_bytes())
    security = browser.post(SECURITY, {"security-staff_mfa_required": "on"})

    html = page.content.decode()
    assert page.status_code == 200
    assert "Only the studio's owner changes these settings" in html
    assert 'value="Alpha Strength"' in html and " disabled" in html
    assert SAVE not in html and "Upload the logo" not in html
    assert saved.status_code == logo.status_code == security.status_code == 403
    assert "Only the studio&#x27;s owner changes its settings." in saved.content.decode()
    assert settings_of(studio_a) == before
    # The frame of the site in a theme being chosen is only a look: staff who read the page see it too.
    assert browser.get(PREVIEW_SITE).status_code == 200


def test_clients_visitors_and_other_studios_owners_are_refused(studio_a, studio_b, client_a):
    with tenant_context(studio_b):
        owner_b = User.objects.get(email="owner@bravo.test")
    stranger = _browser(studio_b, owner_b)
    stranger.defaults["HTTP_HOST"] = host_of(studio_a)  # the same cookie, on studio A's host
    client = _browser(studio_a, client_a)
    visitor = _browser(studio_a)
    before = settings_of(studio_a)

    for url in (PAGE, PREVIEW_SITE):
        assert client.get(url).status_code == 403
        for browser in (visitor, stranger):
            response = browser.get(url)
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for url, data in ((PAGE, form_data(studio_a, name="Taken over")), (LOGO, {"remove": "1"}), (SECURITY, {})):
        assert client.post(url, data).status_code == 403
        assert visitor.post(url, data).status_code == stranger.post(url, data).status_code == 302
    assert settings_of(studio_a) == before


def test_the_form_needs_its_csrf_token(studio_a, owner_a):
    response = _browser(studio_a, owner_a, enforce_csrf_checks=True).post(PAGE, form_data(studio_a, name="Renamed"))

    assert response.status_code == 403
    assert studio_row(studio_a).name == "Alpha Strength"
