"""Host → studio routing: platform host, studio hosts, unknown hosts, suspended studios, white label."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tenants.services import studio_activate, studio_suspend
from tests.conftest import api_client, host_of, token_of

pytestmark = pytest.mark.django_db


def test_platform_host_shows_the_platform_page(platform_client):
    response = platform_client.get("/")

    assert response.status_code == 200
    assert b"TrainerHub" in response.content


def test_studio_host_shows_the_studio_landing_page_without_the_platform_name(anon_a, studio_a):
    response = anon_a.get("/")

    assert response.status_code == 200
    page = response.content.decode()
    assert f"<title>{studio_a.name}</title>" in page
    assert "TrainerHub" not in page
    assert "trainerhub" not in page.lower()


def test_each_studio_is_rendered_in_its_own_theme_with_its_brand_colour(anon_a, anon_b, studio_a, studio_b):
    with schema_context("public"):
        studio_b.brand_color = "#ff0066"
        studio_b.save(update_fields=["brand_color"])

    page_a = anon_a.get("/").content.decode()
    page_b = anon_b.get("/").content.decode()

    assert "themes/classic/theme.css" in page_a and "theme-classic" in page_a
    assert "themes/midnight/theme.css" in page_b and "theme-midnight" in page_b
    assert "--brand: #ff0066" in page_b
    assert "#ff0066" not in page_a
    # midnight overrides the landing page's tagline; classic inherits base's.
    assert "after dark" in page_b and "after dark" not in page_a


@pytest.mark.parametrize("host", ["nowhere.localhost", "alpha.example.com", "localhost.evil"])
def test_unknown_host_is_a_404_that_names_no_studio(host):
    client = api_client(host)

    page = client.get("/")
    api = client.get("/api/users/me/")

    assert page.status_code == 404
    assert b"Alpha" not in page.content and b"TrainerHub" not in page.content
    assert api.status_code == 404
    assert api.json()["code"] == "not_found"


def test_suspended_studio_answers_403_everywhere_and_keeps_its_data(anon_a, studio_a, owner_a, as_user):
    owner_client = as_user(owner_a)
    with schema_context("public"):
        studio_suspend(studio=studio_a, reason="Unpaid")

    assert anon_a.get("/").status_code == 403
    assert anon_a.get("/accounts/login/").status_code == 403
    assert anon_a.get("/healthz").status_code == 403
    response = owner_client.get("/api/users/me/")
    assert response.status_code == 403
    assert response.json()["code"] == "studio_suspended"

    with schema_context("public"):
        studio_activate(studio=studio_a, reason="Paid")
    response = owner_client.get("/api/users/me/")
    assert response.status_code == 200
    assert response.json()["email"] == owner_a.email


def test_warm_studio_host_costs_no_more_queries_than_the_platform_host(anon_a, platform_client):
    anon_a.get("/healthz")  # warms the host cache

    with CaptureQueriesContext(connection) as studio_queries:
        assert anon_a.get("/healthz").status_code == 200
    with CaptureQueriesContext(connection) as platform_queries:
        assert platform_client.get("/healthz").status_code == 200

    assert len(studio_queries) == len(platform_queries)
    assert not any("tenants_domain" in query["sql"] for query in studio_queries.captured_queries)


def test_a_new_domain_is_served_at_once_and_a_removed_one_stops(studio_a):
    from tenants.models import Domain

    with schema_context("public"):
        domain = Domain.objects.create(
            domain="alpha-gym.example", tenant=studio_a, is_primary=False, status=Domain.Status.VERIFIED
        )
    client = api_client("alpha-gym.example")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.conf.settings.ALLOWED_HOSTS", ["*"])
        assert client.get("/healthz").status_code == 200
        with schema_context("public"):
            domain.delete()
        assert client.get("/healthz").status_code == 404


def test_host_of_helper_matches_primary_domain(studio_a):
    with schema_context("public"):
        assert studio_a.get_primary_domain().domain == host_of(studio_a)


def test_a_suspension_is_seen_by_the_next_request_even_with_a_warm_cache(anon_a, studio_a):
    assert anon_a.get("/healthz").status_code == 200  # the host is cached as active

    with schema_context("public"):
        studio_suspend(studio=studio_a, reason="Unpaid")

    assert anon_a.get("/healthz").status_code == 403


@pytest.mark.parametrize("host", ["ALPHA.localhost", "Alpha.LocalHost", "alpha.localhost.", "ALPHA.LOCALHOST.:8000"])
def test_studio_hosts_match_case_insensitively_and_without_the_trailing_dot(host, studio_a, owner_a):
    client = api_client(host, token_of(owner_a, studio_a))

    page = client.get("/")
    me = client.get("/api/users/me/")

    assert page.status_code == 200
    assert f"<title>{studio_a.name}</title>" in page.content.decode()
    assert me.status_code == 200
    assert me.json()["email"] == owner_a.email


@pytest.mark.parametrize("host", ["LOCALHOST", "localhost.", "Www.LocalHost."])
def test_platform_hosts_match_case_insensitively_and_without_the_trailing_dot(host):
    response = api_client(host).get("/")

    assert response.status_code == 200
    assert b"TrainerHub" in response.content


def test_platform_hosts_from_the_environment_are_normalised_too(settings):
    settings.PLATFORM_HOSTS = ["Platform.Example."]
    settings.ALLOWED_HOSTS = ["*"]

    assert api_client("platform.example").get("/").status_code == 200
    assert api_client("PLATFORM.example.").get("/").status_code == 200
    # The old platform host is now nobody's: no platform page, and no studio either.
    assert api_client("localhost").get("/").status_code == 404


def test_a_host_that_is_not_a_host_name_is_the_unknown_host_404(settings):
    settings.ALLOWED_HOSTS = ["*"]

    response = api_client("alpha.localhost..").get("/api/users/me/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_new_studio_domain_is_stored_lower_case_without_a_trailing_dot(settings):
    from tenants.models import Domain
    from tenants.services import studio_create

    settings.PLATFORM_DOMAIN = "LocalHost."

    with schema_context("public"):
        studio = studio_create(name="Charlie Cycle", slug="charlie", owner_email="owner@charlie.test")
        domains = list(Domain.objects.filter(tenant=studio).values_list("domain", flat=True))

    assert domains == ["charlie.localhost"]
    assert api_client("Charlie.LOCALHOST").get("/healthz").status_code == 200
