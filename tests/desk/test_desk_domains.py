"""The desk's domains page: the owner adds a custom domain and reads the DNS record to create, checks it now,
makes a verified one primary and removes one; bad names get a clear error and write nothing; other staff,
clients, visitors and another studio's owner are refused."""

import pytest
from django.core.cache import cache
from django.test import Client
from django_tenants.utils import schema_context, tenant_context

from tenants.models import Domain, StudioEvent
from tests.conftest import host_of
from tests.tenants.test_custom_domains import CUSTOM, internet  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _any_host(settings):
    settings.ALLOWED_HOSTS = ["*"]


@pytest.fixture
def owner_b(studio_b):
    with tenant_context(studio_b):
        from shared_apps.accounts.models import User

        return User.objects.get(email="owner@bravo.test")


def browser(studio, user=None) -> Client:
    client = Client(HTTP_HOST=host_of(studio))
    if user is not None:
        with tenant_context(studio):
            client.force_login(user)
    return client


def custom_domains(studio) -> list[tuple]:
    return list(
        Domain.objects.filter(tenant=studio)
        .exclude(domain=host_of(studio))
        .order_by("domain")
        .values_list("domain", "status", "is_primary")
    )


def test_the_owner_sees_the_studios_domains(studio_a, owner_a):
    page = browser(studio_a, owner_a).get("/desk/domains/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "<h1>Domains</h1>" in html and host_of(studio_a) in html and "(primary)" in html
    assert '<label for="id_domain">Domain name</label>' in html


def test_the_owner_adds_a_domain_and_is_told_the_dns_record_to_create(studio_a, owner_a):
    owner = browser(studio_a, owner_a)

    added = owner.post("/desk/domains/", {"domain": " Book.IronStudio.com. "})
    page = owner.get("/desk/domains/")

    domain = Domain.objects.get(domain=CUSTOM)
    assert added.status_code == 302 and added["Location"] == f"/desk/domains/#domain-{domain.pk}"
    assert custom_domains(studio_a) == [(CUSTOM, "pending", False)]
    html = page.content.decode()
    assert "is added and waiting for verification" in html
    assert "Waiting for verification" in html
    words = " ".join(html.split())
    assert (
        f"a <strong>CNAME</strong> record named <code>{CUSTOM}</code> pointing to <code>alpha.localhost</code>, "
        "your studio's own address on the platform"
    ) in words
    assert f'action="/desk/domains/{domain.pk}/check/"' in html
    assert f'action="/desk/domains/{domain.pk}/primary/"' not in html  # not verified yet


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("203.0.113.7", "An IP address can&#x27;t be a studio&#x27;s domain"),
        ("shop.bravo.localhost", "are the platform&#x27;s own"),
        ("no spaces.example.com", "This is not a valid domain name"),
        ("", "Enter a domain name"),
    ],
)
def test_a_bad_domain_gets_a_clear_error_and_nothing_is_added(studio_a, owner_a, name, message):
    response = browser(studio_a, owner_a).post("/desk/domains/", {"domain": name})

    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html and message in html
    assert 'class="field-error" id="id_domain_error"' in html
    assert custom_domains(studio_a) == []


def test_another_studios_domain_is_refused_on_the_form(studio_a, studio_b, owner_a, owner_b):
    browser(studio_b, owner_b).post("/desk/domains/", {"domain": CUSTOM})

    response = browser(studio_a, owner_a).post("/desk/domains/", {"domain": CUSTOM})

    html = response.content.decode()
    assert response.status_code == 400
    assert "added by another studio" in html and "a platform admin can resolve a dispute" in html
    assert "point it at the platform" not in html
    assert custom_domains(studio_a) == [] and custom_domains(studio_b) == [(CUSTOM, "pending", False)]


def test_check_now_verifies_a_domain_that_serves_its_token_then_it_can_be_primary(
    studio_a,
    owner_a,
    internet,  # noqa: F811
):
    owner = browser(studio_a, owner_a)
    owner.post("/desk/domains/", {"domain": CUSTOM})
    domain = Domain.objects.get(domain=CUSTOM)

    not_yet = owner.post(f"/desk/domains/{domain.pk}/check/", follow=True)
    internet.serve_token_of(domain)
    cache.clear()  # a minute later ("check now" runs at most once a minute per domain)
    checked = owner.post(f"/desk/domains/{domain.pk}/check/", follow=True)
    primary = owner.post(f"/desk/domains/{domain.pk}/primary/", follow=True)

    assert "is not verified yet" in not_yet.content.decode()
    assert "is verified: it now shows your studio" in checked.content.decode()
    assert "is now the primary domain" in primary.content.decode()
    assert custom_domains(studio_a) == [(CUSTOM, "verified", True)]
    assert studio_a.get_primary_domain().domain == CUSTOM
    # The desk itself now answers on the custom domain too.
    assert browser(studio_a, owner_a).get("/desk/domains/").status_code == 200
    on_custom = Client(HTTP_HOST=CUSTOM.upper())
    with tenant_context(studio_a):
        on_custom.force_login(owner_a)
    assert on_custom.get("/desk/domains/").status_code == 200


def test_check_now_on_a_host_that_answers_garbage_says_so_and_a_second_press_waits(
    studio_a,
    owner_a,
    internet,  # noqa: F811
):
    owner = browser(studio_a, owner_a)
    owner.post("/desk/domains/", {"domain": CUSTOM})
    domain = Domain.objects.get(domain=CUSTOM)
    internet.point(CUSTOM, to=host_of(studio_a))
    internet.answers[(CUSTOM, f"/.well-known/trainerhub-verify/{domain.verification_token}")] = b"HELLO\r\n\r\n"

    garbled = owner.post(f"/desk/domains/{domain.pk}/check/", follow=True)
    again = owner.post(f"/desk/domains/{domain.pk}/check/", follow=True)

    assert garbled.status_code == 200
    assert "is not verified yet" in garbled.content.decode()
    assert "not an HTTP answer" in garbled.content.decode()
    assert again.status_code == 200 and "try again in" in again.content.decode()
    assert len(internet.requested) == 1
    assert custom_domains(studio_a) == [(CUSTOM, "pending", False)]


def test_a_pending_domain_cannot_be_made_primary(studio_a, owner_a):
    owner = browser(studio_a, owner_a)
    owner.post("/desk/domains/", {"domain": CUSTOM})
    domain = Domain.objects.get(domain=CUSTOM)

    response = owner.post(f"/desk/domains/{domain.pk}/primary/", follow=True)

    assert "Only a verified domain can be the studio" in response.content.decode()
    assert custom_domains(studio_a) == [(CUSTOM, "pending", False)]


def test_the_owner_removes_a_domain_but_not_the_platform_address(studio_a, owner_a):
    owner = browser(studio_a, owner_a)
    owner.post("/desk/domains/", {"domain": CUSTOM})
    domain = Domain.objects.get(domain=CUSTOM)
    own = Domain.objects.get(domain=host_of(studio_a))

    removed = owner.post(f"/desk/domains/{domain.pk}/remove/", follow=True)
    kept = owner.post(f"/desk/domains/{own.pk}/remove/", follow=True)

    assert "is removed" in removed.content.decode()
    assert "can&#x27;t be removed" in kept.content.decode()
    assert custom_domains(studio_a) == [] and Domain.objects.filter(pk=own.pk).exists()
    with schema_context("public"):
        assert list(
            StudioEvent.objects.filter(studio=studio_a, subject=CUSTOM).order_by("id").values_list("action", flat=True)
        ) == ["domain_added", "domain_removed"]


@pytest.mark.parametrize("who", ["manager_a", "trainer_a", "client_a"])
def test_anyone_but_the_owner_is_refused(studio_a, owner_a, who, request):
    owner = browser(studio_a, owner_a)
    owner.post("/desk/domains/", {"domain": CUSTOM})
    domain = Domain.objects.get(domain=CUSTOM)
    other = browser(studio_a, request.getfixturevalue(who))

    responses = [
        other.get("/desk/domains/"),
        other.post("/desk/domains/", {"domain": "other.ironstudio.com"}),
        other.post(f"/desk/domains/{domain.pk}/check/"),
        other.post(f"/desk/domains/{domain.pk}/primary/"),
        other.post(f"/desk/domains/{domain.pk}/remove/"),
    ]

    assert [response.status_code for response in responses] == [403] * 5
    assert CUSTOM not in responses[0].content.decode()
    assert custom_domains(studio_a) == [(CUSTOM, "pending", False)]


def test_a_visitor_is_sent_to_sign_in(studio_a):
    visitor = browser(studio_a)
    assert visitor.get("/desk/domains/").status_code == 302
    assert visitor.post("/desk/domains/", {"domain": CUSTOM}).status_code == 302
    assert custom_domains(studio_a) == []


def test_another_studios_owner_can_neither_see_nor_change_this_studios_domains(studio_a, studio_b, owner_a, owner_b):
    browser(studio_a, owner_a).post("/desk/domains/", {"domain": CUSTOM})
    domain = Domain.objects.get(domain=CUSTOM)
    other_owner = browser(studio_b, owner_b)

    page = other_owner.get("/desk/domains/")
    attempts = [
        other_owner.post(f"/desk/domains/{domain.pk}/check/"),
        other_owner.post(f"/desk/domains/{domain.pk}/primary/"),
        other_owner.post(f"/desk/domains/{domain.pk}/remove/"),
    ]
    # Studio B's session on studio A's host is nobody there.
    on_a = browser(studio_b, owner_b)
    on_a.defaults["HTTP_HOST"] = host_of(studio_a)

    assert page.status_code == 200 and CUSTOM not in page.content.decode()
    assert [response.status_code for response in attempts] == [404, 404, 404]
    assert on_a.get("/desk/domains/").status_code == 302
    assert custom_domains(studio_a) == [(CUSTOM, "pending", False)]
