"""Input no endpoint can use is a 4xx in the one error shape, refused where it enters, never a 500."""

import json
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django_tenants.utils import tenant_context

from shared_apps.core.views import bad_request
from tenant_apps.bookings import services as booking_services
from tenant_apps.bookings.models import Booking
from tenant_apps.clients.models import Client
from tests.conftest import next_monday
from tests.factories import ClientFactory, SessionPackageFactory

pytestmark = pytest.mark.django_db

IMPOSSIBLE_TIMES = ["2027-02-30T10:00:00Z", "2027-02-01T12:99:00Z", "2027-02-01T25:00:00Z", "2027-02-01T10:00:00+99:00"]


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    if code:
        assert body["code"] == code
    return body


def post_json(api, path: str, text: str, method: str = "post"):
    """Send ``text`` as the body verbatim: escapes such as \\u0000 reach the server as the client wrote them."""
    return getattr(api, method)(path, text, content_type="application/json")


@pytest.fixture
def booking(studio_a, schedule_a, booking_client_a, manager_a) -> Booking:
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        return booking_services.booking_create(
            trainer=trainer,
            client=booking_client_a,
            session_type=session_type,
            start_time=datetime.combine(next_monday(), time(10), tzinfo=ZoneInfo("Europe/London")),
            created_by=manager_a,
        )


# -- 1. times that can't exist -------------------------------------------------------------------------------


@pytest.mark.parametrize("moment", IMPOSSIBLE_TIMES)
def test_an_impossible_time_is_a_400_naming_its_field(as_user, manager_a, schedule_a, studio_a, booking, moment):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        package, client = SessionPackageFactory(), ClientFactory()
    api = as_user(manager_a)

    answers = {
        "start_time": api.post(
            "/api/bookings/",
            {"trainer": trainer.pk, "session_type": session_type.pk, "client": client.pk, "start_time": moment},
        ),
        "starts_at": api.post(
            "/api/availability/breaks/", {"trainer": trainer.pk, "starts_at": moment, "ends_at": moment}
        ),
        "purchased_at": api.post(
            f"/api/packages/{package.pk}/assign/",
            {"client": client.pk, "payment_method": "cash", "amount_paid": "10.00", "purchased_at": moment},
        ),
    }
    reschedule = api.post(f"/api/bookings/{booking.pk}/reschedule/", {"start_time": moment})

    for field, response in answers.items():
        assert field in assert_error_shape(response, 400, "invalid")["fields"]
    assert "does not exist" in assert_error_shape(reschedule, 400, "invalid")["fields"]["start_time"][0]
    with tenant_context(studio_a):
        assert Booking.objects.get(pk=booking.pk).start_time == booking.start_time


@pytest.mark.parametrize("day", ["2027-02-30", "2027-13-01"])
def test_an_impossible_date_is_a_400_naming_its_field(as_user, manager_a, anon_a, schedule_a, day):
    trainer, session_type = schedule_a

    time_off = as_user(manager_a).post(
        "/api/availability/breaks/", {"trainer": trainer.pk, "start_date": day, "end_date": "2027-03-01"}
    )
    slots = anon_a.get(
        "/api/availability/available-slots/",
        {"trainer": trainer.pk, "session_type": session_type.pk, "start": day, "end": "2027-03-01"},
    )

    assert "does not exist" in assert_error_shape(time_off, 400)["fields"]["start_date"][0]
    assert "start" in assert_error_shape(slots, 400)["fields"]


@pytest.mark.parametrize("moment", IMPOSSIBLE_TIMES)
def test_an_impossible_time_in_a_list_filter_is_a_400(as_user, manager_a, moment):
    bookings = as_user(manager_a).get("/api/bookings/", {"start": moment})
    clients = as_user(manager_a).get("/api/clients/", {"created_after": moment})

    assert "start" in assert_error_shape(bookings, 400)["fields"]
    assert "created_after" in assert_error_shape(clients, 400)["fields"]


# -- 2. a body that is not an object -------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["null", "42", "true", '["notes"]', '"notes"'])
def test_a_body_that_is_not_an_object_is_a_400(as_user, manager_a, anon_a, booking, studio_a, body):
    patch = post_json(as_user(manager_a), f"/api/bookings/{booking.pk}/", body, method="patch")
    login = post_json(anon_a, "/api/users/login/", body)

    assert "JSON object" in assert_error_shape(patch, 400, "invalid")["detail"]
    assert_error_shape(login, 400, "invalid")


def test_an_empty_body_still_reads_as_no_fields(as_user, manager_a, booking):
    response = as_user(manager_a).post(f"/api/bookings/{booking.pk}/cancel/")

    assert response.status_code == 200


# -- 3. text PostgreSQL can't store --------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["\\u0000", "a\\u0000b", "\\udfff", "\\ud83d", "x\\udc00y"])
@pytest.mark.parametrize(
    ("field", "template"),
    [
        ("preferences", '{"email": "p@x.test", "first_name": "P", "preferences": {"diet": "%s"}}'),
        ("preferences", '{"email": "p@x.test", "first_name": "P", "preferences": {"%s": 1}}'),
        ("goals", '{"email": "p@x.test", "first_name": "P", "goals": ["run", "%s"]}'),
        ("first_name", '{"email": "p@x.test", "first_name": "%s"}'),
        ("notes", '{"email": "p@x.test", "first_name": "P", "notes": "%s"}'),
    ],
)
def test_unstorable_text_anywhere_in_the_body_is_a_400(as_user, manager_a, studio_a, field, template, text):
    response = post_json(as_user(manager_a), "/api/clients/", template % text)

    body = assert_error_shape(response, 400, "invalid")
    assert field in body["fields"]
    assert "\\u" in body["detail"]
    with tenant_context(studio_a):
        assert not Client.objects.filter(email="p@x.test").exists()


def test_a_key_with_unstorable_text_is_a_400(as_user, manager_a):
    response = post_json(as_user(manager_a), "/api/clients/", '{"email": "p@x.test", "first_name": "P", "\\u0000": 1}')

    assert_error_shape(response, 400, "invalid")


def test_a_surrogate_pair_is_one_character_and_is_kept(as_user, manager_a, studio_a):
    response = post_json(
        as_user(manager_a), "/api/clients/", '{"email": "e@x.test", "first_name": "Emoji \\ud83d\\ude00"}'
    )

    assert response.status_code == 201
    assert response.json()["first_name"] == "Emoji \U0001f600"


@pytest.mark.parametrize("email", ["\\udfff", "a\\udfff@x.test", "a\\u0000@x.test"])
def test_login_with_unstorable_text_is_refused_before_the_throttle_reads_it(anon_a, email):
    response = post_json(anon_a, "/api/users/login/", f'{{"email": "{email}", "password": "whatever"}}')

    assert "email" in assert_error_shape(response, 400, "invalid")["fields"]


def test_a_number_that_is_not_finite_is_a_400(as_user, manager_a):
    response = post_json(
        as_user(manager_a), "/api/clients/", '{"email": "n@x.test", "first_name": "N", "preferences": {"x": 1e999}}'
    )

    assert "preferences" in assert_error_shape(response, 400, "invalid")["fields"]


# -- 4. nesting ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deeply_nested_json_is_a_400_even_on_the_anonymous_login(anon_a, depth):
    body = '{"email": ' + "[" * depth + "]" * depth + ', "password": "x"}'

    response = post_json(anon_a, "/api/users/login/", body)

    assert "nested" in assert_error_shape(response, 400, "invalid")["detail"]


def test_a_deep_top_level_list_is_a_400(anon_a):
    response = post_json(anon_a, "/api/users/login/", "[" * 100_000 + "]" * 100_000)

    assert_error_shape(response, 400, "invalid")


# -- 5. what Django refuses while reading the request --------------------------------------------------------


def test_a_body_over_the_upload_limit_is_a_413_in_the_error_shape(as_user, manager_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"email": "big@x.test", "first_name": "B", "notes": "x" * 2048})

    response = post_json(as_user(manager_a), "/api/clients/", body)

    assert "too large" in assert_error_shape(response, 413, "too_large")["detail"]


def test_too_many_multipart_fields_is_a_400_in_the_error_shape(as_user, manager_a, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    fields = {f"field{number}": "x" for number in range(10)}
    upload = SimpleUploadedFile("c.csv", b"email,first_name\na@x.test,A\n", "text/csv")

    response = as_user(manager_a).post("/api/clients/import/", {**fields, "file": upload}, format="multipart")

    assert_error_shape(response, 400, "too_many_fields")


def test_too_many_files_is_a_400_in_the_error_shape(as_user, manager_a, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    uploads = {f"file{number}": SimpleUploadedFile(f"{number}.csv", b"email\n", "text/csv") for number in range(4)}

    response = as_user(manager_a).post("/api/clients/import/", uploads, format="multipart")

    assert_error_shape(response, 400, "too_many_files")


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (RequestDataTooBig(), 413, "too_large"),
        (TooManyFieldsSent(), 400, "too_many_fields"),
        (None, 400, "bad_request"),
    ],
)
def test_django_s_bad_request_page_is_the_error_shape_on_api_paths(error, status, code):
    response = bad_request(RequestFactory().post("/api/clients/"), error)

    assert response.status_code == status
    assert json.loads(response.content)["code"] == code


def test_django_s_bad_request_page_stays_a_page_elsewhere():
    response = bad_request(RequestFactory().post("/accounts/login/"), RequestDataTooBig())

    assert response.status_code == 400
    assert b"<h1>Bad Request (400)</h1>" in response.content


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_write_without_the_trailing_slash_says_so_and_changes_nothing(as_user, manager_a, studio_a, method):
    response = getattr(as_user(manager_a), method)("/api/clients", {"email": "s@x.test", "first_name": "S"})

    body = assert_error_shape(response, 404, "trailing_slash_required")
    assert "/api/clients/" in body["detail"]
    with tenant_context(studio_a):
        assert not Client.objects.filter(email="s@x.test").exists()


def test_a_write_without_the_trailing_slash_on_the_platform_host(platform_client):
    response = platform_client.post("/api/platform/studios", {"name": "X", "slug": "x", "owner_email": "o@x.test"})

    assert_error_shape(response, 404, "trailing_slash_required")


def test_a_read_without_the_trailing_slash_is_still_redirected(as_user, manager_a):
    response = as_user(manager_a).get("/api/clients")

    assert response.status_code == 301
    assert response["Location"].endswith("/api/clients/")
