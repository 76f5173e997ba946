"""GET/PATCH /api/studio/ and PUT/DELETE /api/studio/logo/: the studio's own settings, which its owner changes."""

import io
import time as time_module
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.files.storage import InMemoryStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context, tenant_context
from PIL import Image

from shared_apps.accounts.models import User
from tenant_apps.bookings.models import Booking
from tenant_apps.bookings.services import booking_create
from tenants import services
from tenants.models import Studio
from tests.conftest import api_client, host_of, next_monday, run_committed, run_in_threads, token_of

pytestmark = pytest.mark.django_db
URL = "/api/studio/"
LOGO_URL = "/api/studio/logo/"


@pytest.fixture
def owner_b(studio_b):
    with tenant_context(studio_b):
        return User.objects.get(email="owner@bravo.test")


def studio_row(studio: Studio) -> Studio:
    with schema_context("public"):
        return Studio.objects.get(pk=studio.pk)


def image_bytes(image_format: str = "PNG", size: tuple[int, int] = (64, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (37, 99, 235)).save(buffer, format=image_format)
    return buffer.getvalue()


def upload(api, content: bytes, name: str = "logo.png", content_type: str = "image/png"):
    return api.put(LOGO_URL, {"logo": SimpleUploadedFile(name, content, content_type)}, format="multipart")


# -- reading and changing the settings ---------------------------------------------------------------------


def test_the_owner_changes_the_settings_and_the_next_request_sees_them(as_user, owner_a, studio_a):
    api = as_user(owner_a)
    assert api.get(URL).json()["name"] == "Alpha Strength"  # the host → studio lookup is now cached

    response = api.patch(
        URL,
        {
            "name": "Alpha Strength & Conditioning",
            "brand_color": "#112233",
            "theme": "midnight",
            "currency": "GBP",
            "country": "GB",
            "contact_email": "hello@alpha.test",
            "contact_phone": "07911 123456",
            "address": "1 High Street\nLondon N1 1AA",
            "cancellation_policy": "Cancel 12 hours ahead or lose the session.",
            "default_cancellation_window_hours": 12,
        },
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["contact_phone"] == "+447911123456"
    assert body["slug"] == "alpha" and body["logo_url"] is None
    assert len(body["notices"]) == 1 and "GBP" in body["notices"][0]  # the currency changed, the time zone didn't
    row = studio_row(studio_a)
    assert (row.name, row.brand_color, row.theme, row.currency) == (
        "Alpha Strength & Conditioning",
        "#112233",
        "midnight",
        "GBP",
    )
    assert (str(row.contact_phone), row.contact_email, row.default_cancellation_window_hours) == (
        "+447911123456",
        "hello@alpha.test",
        12,
    )
    # The cached studio of this host was dropped: the next request is served with the new settings.
    assert api.get(URL).json()["name"] == "Alpha Strength & Conditioning"


@pytest.mark.parametrize("member", ["owner_a", "manager_a", "trainer_a", "client_a"])
def test_every_member_of_the_studio_reads_the_settings(request, as_user, member):
    response = as_user(request.getfixturevalue(member)).get(URL)

    assert response.status_code == 200
    assert response.json()["name"] == "Alpha Strength"
    assert response.json()["country"] == "GB"
    assert "notices" not in response.json()


@pytest.mark.parametrize("member", ["manager_a", "trainer_a", "client_a"])
def test_only_the_owner_changes_the_settings_or_the_logo(request, as_user, member, studio_a):
    api = as_user(request.getfixturevalue(member))

    assert api.patch(URL, {"name": "Taken Over"}).status_code == 403
    assert upload(api, image_bytes()).status_code == 403
    assert api.delete(LOGO_URL).status_code == 403
    row = studio_row(studio_a)
    assert row.name == "Alpha Strength" and not row.logo


def test_anonymous_callers_and_other_studios_accounts_are_refused(anon_a, owner_b, client_b, studio_a, studio_b):
    # A token belongs to its own studio's schema: on studio A's host it names no one.
    other_studios = [api_client(host_of(studio_a), token_of(user, studio_b)) for user in (owner_b, client_b)]

    for api in (anon_a, *other_studios):
        assert api.get(URL).status_code == 401
        assert api.patch(URL, {"name": "Taken Over"}).status_code == 401
        assert upload(api, image_bytes()).status_code == 401
    assert studio_row(studio_a).name == "Alpha Strength" and not studio_row(studio_a).logo


def test_the_slug_and_the_status_are_not_settings(as_user, owner_a, studio_a):
    response = as_user(owner_a).patch(URL, {"slug": "taken", "status": "suspended", "schema_name": "bravo"})

    assert response.status_code == 200
    row = studio_row(studio_a)
    assert (row.slug, row.schema_name, row.status) == ("alpha", "alpha", Studio.Status.ACTIVE)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Two\nlines"}, "name"),
        ({"brand_color": "blue"}, "brand_color"),
        ({"theme": "no-such-theme"}, "theme"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"currency": "pounds"}, "currency"),
        ({"country": "UK"}, "country"),  # the ISO code is GB
        ({"contact_email": "not an address"}, "contact_email"),
        ({"contact_phone": "12"}, "contact_phone"),
        ({"contact_phone": "(201) 555-0123 and more"}, "contact_phone"),
        ({"default_cancellation_window_hours": -1}, "default_cancellation_window_hours"),
        ({"default_cancellation_window_hours": 24 * 60 + 1}, "default_cancellation_window_hours"),
        ({"cancellation_policy": "x" * 5001}, "cancellation_policy"),
    ],
)
def test_invalid_settings_are_refused_and_change_nothing(as_user, owner_a, studio_a, change, field):
    before = studio_row(studio_a).updated

    response = as_user(owner_a).patch(URL, {"name": "Renamed", **change})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and field in response.json()["fields"]
    row = studio_row(studio_a)
    assert row.name == "Alpha Strength" and row.updated == before


def test_a_phone_without_country_code_belongs_to_the_country_sent_with_it(as_user, owner_a, studio_a):
    response = as_user(owner_a).patch(URL, {"country": "US", "contact_phone": "(201) 555-0123"})

    assert response.status_code == 200, response.json()
    assert response.json()["contact_phone"] == "+12015550123"
    assert (studio_row(studio_a).country, str(studio_row(studio_a).contact_phone)) == ("US", "+12015550123")


def test_changing_the_timezone_moves_no_booking_and_says_so(as_user, owner_a, studio_a, schedule_a, booking_client_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        booking = booking_create(
            trainer=trainer,
            client=booking_client_a,
            session_type=session_type,
            start_time=datetime.combine(next_monday(), time(10), tzinfo=ZoneInfo(trainer.timezone)),
            created_by=owner_a,
        )
    api = as_user(owner_a)

    response = api.patch(URL, {"timezone": "America/New_York"})
    again = api.patch(URL, {"timezone": "America/New_York"})

    assert response.status_code == 200, response.json()
    [notice] = response.json()["notices"]
    assert "America/New_York" in notice and "Europe/London" in notice and "bookings have not moved" in notice
    assert again.json()["notices"] == []  # no change, nothing to say
    assert studio_row(studio_a).timezone == "America/New_York"
    with tenant_context(studio_a):
        stored = Booking.objects.get(pk=booking.pk)
        assert (stored.start_time, stored.end_time) == (booking.start_time, booking.end_time)
        trainer.refresh_from_db()
        assert trainer.timezone == "Europe/London"  # availability stays where it was


def test_new_session_types_take_the_studios_default_cancellation_window(as_user, owner_a, studio_a):
    api = as_user(owner_a)
    assert api.patch(URL, {"default_cancellation_window_hours": 6}).status_code == 200

    default = api.post("/api/session-types/", {"name": "Default", "duration_minutes": 60})
    own = api.post("/api/session-types/", {"name": "Own", "duration_minutes": 60, "cancellation_window_hours": 48})

    assert default.status_code == 201, default.json()
    assert default.json()["cancellation_window_hours"] == 6
    assert own.json()["cancellation_window_hours"] == 48


def test_concurrent_saves_of_different_settings_keep_both(studio_a):
    """Each save writes only its own fields on the locked row: neither brings back the other's old value."""

    def save(index: int):
        with schema_context("public"):
            change = {"brand_color": "#000000"} if index == 0 else {"cancellation_policy": "Be kind."}
            return services.studio_update(studio=studio_a, **change)

    try:
        results = run_in_threads(2, save)
        assert not [result for result in results if isinstance(result, Exception)], results
        row = studio_row(studio_a)
        assert (row.brand_color, row.cancellation_policy) == ("#000000", "Be kind.")
    finally:
        run_committed(
            lambda: Studio.objects.filter(pk=studio_a.pk).update(brand_color="#2563eb", cancellation_policy="")
        )


# -- the logo ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP"])
def test_the_owner_uploads_a_logo_stored_under_the_studios_own_folder(as_user, owner_a, studio_a, image_format):
    response = upload(as_user(owner_a), image_bytes(image_format), name='"><script>.png')

    assert response.status_code == 200, response.json()
    stored = studio_row(studio_a).logo.name
    # The name is the studio's own, whatever the uploader called the file; every logo is stored as a WebP.
    assert stored.startswith("studios/alpha/logo/logo-") and stored.endswith(".webp")
    assert default_storage.exists(stored)
    assert response.json()["logo_url"] == f"http://alpha.localhost/media/{stored}"
    assert as_user(owner_a).get(URL).json()["logo_url"] == response.json()["logo_url"]


def test_a_new_logo_replaces_the_old_file_and_delete_removes_it(
    as_user, owner_a, studio_a, django_capture_on_commit_callbacks
):
    api = as_user(owner_a)
    with django_capture_on_commit_callbacks(execute=True):
        upload(api, image_bytes())
    first = studio_row(studio_a).logo.name

    with django_capture_on_commit_callbacks(execute=True):
        upload(api, image_bytes("JPEG"), name="logo.jpg", content_type="image/jpeg")
    second = studio_row(studio_a).logo.name
    with django_capture_on_commit_callbacks(execute=True):
        removed = api.delete(LOGO_URL)

    assert first != second
    assert not default_storage.exists(first)  # gone once the new logo was committed
    assert removed.status_code == 204
    assert not studio_row(studio_a).logo and not default_storage.exists(second)
    assert api.get(URL).json()["logo_url"] is None


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (b"just some text, not an image", "logo.png", "image/png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.svg", "image/svg+xml"),
        (image_bytes("GIF"), "logo.gif", "image/gif"),
        (image_bytes("PNG")[:40], "logo.png", "image/png"),  # cut short
    ],
)
def test_a_file_not_a_png_jpeg_or_webp_image_is_refused(as_user, owner_a, studio_a, content, name, content_type):
    response = upload(as_user(owner_a), content, name=name, content_type=content_type)

    assert response.status_code == 400
    assert response.json()["fields"]["logo"] == ["Upload a PNG, JPEG or WebP image."]
    assert not studio_row(studio_a).logo


def test_a_logo_too_large_in_bytes_or_pixels_is_refused(as_user, owner_a, studio_a):
    api = as_user(owner_a)
    heavy = image_bytes() + b"\0" * (services.LOGO_MAX_BYTES)  # a valid PNG start, then padding

    too_heavy = upload(api, heavy)
    too_wide = upload(api, image_bytes(size=(services.LOGO_MAX_SIDE + 1, 1)))

    assert too_heavy.status_code == 413 and too_heavy.json()["code"] == "file_too_large"
    assert too_wide.status_code == 400 and "4096 pixels" in too_wide.json()["fields"]["logo"][0]
    assert not studio_row(studio_a).logo


def test_a_logo_just_under_the_limit_is_accepted(as_user, owner_a, studio_a):
    content = image_bytes()
    content += b"\0" * (services.LOGO_MAX_BYTES - len(content))  # trailing bytes after IEND: still a PNG

    response = upload(as_user(owner_a), content)

    assert response.status_code == 200, response.json()
    assert 0 < studio_row(studio_a).logo.size < 10_000  # stored resized, without the padding


def test_a_large_logo_is_stored_at_most_512_pixels_a_side_keeping_its_shape_and_transparency(
    as_user, owner_a, studio_a
):
    wide = io.BytesIO()
    Image.new("RGBA", (2000, 1000), (255, 0, 0, 0)).save(wide, "PNG")

    response = upload(as_user(owner_a), wide.getvalue())

    assert response.status_code == 200, response.json()
    with default_storage.open(studio_row(studio_a).logo.name) as stored, Image.open(stored) as image:
        assert (image.format, image.size, image.mode) == ("WEBP", (services.LOGO_SIDE, 256), "RGBA")


def test_two_logos_uploaded_at_once_leave_one_file(studio_a, monkeypatch):
    """The row is locked while the logo changes: the second upload replaces (and deletes) the first's file.

    Without the lock both would read the same old logo, and one new file would stay behind, unused.
    """
    storage_save = InMemoryStorage.save

    def slow_save(self, *args, **kwargs):
        time_module.sleep(0.3)  # both uploads would read the row before either writes, were it not locked
        return storage_save(self, *args, **kwargs)

    monkeypatch.setattr(InMemoryStorage, "save", slow_save)

    def upload_logo(index: int):
        with schema_context("public"):
            logo = SimpleUploadedFile(f"{index}.png", image_bytes(size=(64 + index, 32)), "image/png")
            return services.studio_logo_set(studio=studio_a, logo=logo).logo.name

    try:
        names = run_in_threads(2, upload_logo)
        assert all(isinstance(name, str) for name in names), names
        kept = studio_row(studio_a).logo.name
        assert kept in names
        assert [name for name in names if default_storage.exists(name)] == [kept]
    finally:
        run_committed(lambda: Studio.objects.filter(pk=studio_a.pk).update(logo=""))
