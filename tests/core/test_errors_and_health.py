"""One error shape everywhere; /healthz; the API schema and docs on both kinds of host."""

import pytest
from django.db.utils import OperationalError

from tests.conftest import api_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost"])
def test_healthz_answers_ok_on_every_known_host(host, studio_a):
    response = api_client(host).get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_answers_503_when_the_database_does_not(anon_a, monkeypatch):
    anon_a.get("/healthz")  # the host is known and cached before the database goes away

    def broken(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("shared_apps.core.views.connection.cursor", broken)
    response = anon_a.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


def test_healthz_answers_503_even_before_the_host_was_ever_looked_up(anon_a, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("tenants.selectors.Domain.objects.select_related", broken)
    response = anon_a.get("/healthz")

    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost"])
def test_an_unknown_api_path_is_a_json_404(host, studio_a):
    response = api_client(host).get("/api/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found.", "fields": {}}


def test_errors_share_one_shape(anon_a):
    unauthenticated = anon_a.get("/api/users/me/")
    invalid = anon_a.post("/api/users/register/", {"email": "x"})
    malformed = anon_a.post("/api/users/login/", "{", content_type="application/json")
    wrong_method = anon_a.delete("/api/users/login/")

    for response in (unauthenticated, invalid, malformed, wrong_method):
        assert set(response.json()) == {"code", "detail", "fields"}
    assert unauthenticated.json()["code"] == "not_authenticated"
    assert invalid.json()["code"] == "invalid"
    assert malformed.json()["code"] == "parse_error"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("host", "path"), [("localhost", "/api/platform/studios/"), ("alpha.localhost", "/api/staff/")]
)
def test_openapi_schema_and_swagger_ui_on_both_hosts(host, path, studio_a):
    client = api_client(host)

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    assert path in schema.json()["paths"]
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_the_studio_schema_does_not_describe_the_platform_api(studio_a):
    schema = api_client("alpha.localhost").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert not any(path.startswith("/api/platform/") for path in schema["paths"])


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost"])
def test_favicon_is_no_content_rather_than_a_404(host, studio_a):
    response = api_client(host).get("/favicon.ico")

    assert response.status_code == 204
    assert "max-age" in response.headers["Cache-Control"]
