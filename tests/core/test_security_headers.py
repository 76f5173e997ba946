"""Every response carries the security headers (CSP, nosniff, Referrer-Policy, X-Frame-Options, HSTS over HTTPS),
the tenant middleware's own refusals included; the API docs load nothing from another origin."""

import os
import re
import subprocess
import sys

import pytest
from django.db import OperationalError
from django_tenants.utils import schema_context

from tenants.services import studio_suspend
from tests.config.test_settings import PRODUCTION
from tests.conftest import PLATFORM_HOST, api_client

pytestmark = pytest.mark.django_db

REQUIRED_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy_of(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {name: value for name, _, value in (part.strip().partition(" ") for part in header.split(";"))}


def assert_security_headers(response) -> None:
    policy = policy_of(response)
    for directive, value in REQUIRED_DIRECTIVES.items():
        assert policy[directive] == value, (directive, policy)
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_studio_page_carries_the_security_headers(anon_a):
    response = anon_a.get("/")

    assert response.status_code == 200
    assert_security_headers(response)


def test_the_platform_page_carries_the_security_headers(platform_client):
    response = platform_client.get("/")

    assert response.status_code == 200
    assert_security_headers(response)


def test_an_api_response_carries_the_security_headers(owner_a, as_user):
    response = as_user(owner_a).get("/api/users/me/")

    assert response.status_code == 200
    assert_security_headers(response)


@pytest.mark.parametrize("path", ["/", "/api/users/me/"])
def test_the_unknown_host_404_carries_the_security_headers(path):
    response = api_client("nowhere.localhost").get(path)

    assert response.status_code == 404
    assert_security_headers(response)


def test_the_suspended_studio_403_carries_the_security_headers(anon_a, studio_a):
    with schema_context("public"):
        studio_suspend(studio=studio_a, reason="Unpaid")

    for path in ("/", "/api/trainers/"):
        response = anon_a.get(path)
        assert response.status_code == 403
        assert_security_headers(response)


def test_the_database_unavailable_503_carries_the_security_headers(anon_a, monkeypatch):
    # The database being down is what is simulated here: the host lookup is the middleware's first query.
    def database_down(*, host):
        raise OperationalError("connection refused")

    monkeypatch.setattr("tenants.middleware.studio_for_host", database_down)

    for path in ("/", "/healthz"):
        response = anon_a.get(path)
        assert response.status_code == 503
        assert_security_headers(response)


STUDIO_HOST = "alpha.localhost"


@pytest.mark.parametrize("host", [STUDIO_HOST, "nowhere.localhost", PLATFORM_HOST])
def test_hsts_of_a_year_with_subdomains_on_every_https_response(host, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True

    response = api_client(host).get("/healthz", secure=True)

    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert_security_headers(response)


def test_production_asks_for_hsts_of_a_year_with_subdomains():
    environment = {key: value for key, value in os.environ.items() if key not in PRODUCTION}
    environment.pop("SECURE_HSTS_SECONDS", None)
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS)"
    )

    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**environment, **PRODUCTION, "DJANGO_SETTINGS_MODULE": "config.settings.production"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["31536000", "True"]


LOCAL_URL = re.compile(r'(?:src|href)="(/[^"]*)"')
ANY_URL = re.compile(r'(?:src|href)="([^"]*)"')


@pytest.mark.parametrize("host", [STUDIO_HOST, PLATFORM_HOST])
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_api_docs_load_nothing_from_another_origin_and_run_no_inline_code(host, path):
    client = api_client(host)

    response = client.get(path)

    assert response.status_code == 200
    assert_security_headers(response)
    page = response.content.decode()
    urls = ANY_URL.findall(page)
    assert urls, page
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert "<style" not in page
    assert re.search(r"<script>|<script(?![^>]*\bsrc=)[^>]*>", page) is None, page
    for url in LOCAL_URL.findall(page):
        # Every script and stylesheet is served from this host (static files or the init script).
        assert client.get(url.replace("&amp;", "&")).status_code == 200, url


def test_swagger_init_script_is_served_as_javascript_from_the_same_host(anon_a):
    page = anon_a.get("/api/docs/").content.decode()
    script_url = re.search(r'<script src="(/api/docs/\?[^"]*)"', page).group(1).replace("&amp;", "&")

    script = anon_a.get(script_url)

    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content
    assert b"/api/schema/" in script.content


def test_redoc_page_gives_its_styles_the_nonce_of_the_policy(anon_a):
    response = anon_a.get("/api/redoc/")

    nonce = re.search(r'nonce="([^"]+)"', response.content.decode()).group(1)
    policy = policy_of(response)
    assert f"'nonce-{nonce}'" in policy["style-src"]
    assert "'nonce-" not in policy["script-src"]
