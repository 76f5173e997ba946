"""Creating a studio: service, management command, platform API, admin; all or nothing."""

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists, tenant_context
from rest_framework.authtoken.models import Token

from shared_apps.accounts.models import Role, User
from shared_apps.core.exceptions import ValidationFailed
from shared_apps.core.phone_numbers import phone_number_e164, studio_phone_region
from tenants.models import Domain, Studio
from tenants.services import studio_create
from tests.conftest import api_client, make_user, run_committed, run_in_threads, token_of, totp_enable

pytestmark = pytest.mark.django_db


def _nothing_left_of(slug: str) -> bool:
    with schema_context("public"):
        return (
            not Studio.objects.filter(slug=slug).exists()
            and not Domain.objects.filter(domain__startswith=f"{slug}.").exists()
            and not schema_exists(slug.replace("-", "_"))
        )


def test_studio_create_clones_the_template_and_creates_the_owner():
    studio = studio_create(
        name="Core Club", slug="core-club", owner_email="Boss@Core.test", owner_password="Str0ng-Passw0rd!"
    )

    assert studio.schema_name == "core_club"
    assert schema_exists("core_club")
    assert studio.get_primary_domain().domain == f"core-club.{settings.PLATFORM_DOMAIN}"
    with tenant_context(studio):
        owner = User.objects.get()
        assert owner.email == "boss@core.test"
        assert owner.role == Role.OWNER
        assert owner.check_password("Str0ng-Passw0rd!")
    # The owner exists only in the studio's schema, not among the platform's users.
    with schema_context("public"):
        assert not User.objects.filter(email="boss@core.test").exists()


def test_studio_create_sets_the_country_that_reads_phone_numbers():
    # (201) 555-0123 is a valid London number too: a US studio left on GB would store it as +44 20 1555 0123.
    studio = studio_create(name="Jersey Gym", slug="jersey-gym", owner_email="o@jersey.test", country="US")

    studio.refresh_from_db()
    assert studio.country == "US"
    with tenant_context(studio):
        assert phone_number_e164("(201) 555-0123", region=studio_phone_region()) == "+12015550123"


def test_a_studio_created_without_a_country_is_in_gb():
    studio = studio_create(name="Default Gym", slug="default-gym", owner_email="o@default.test")

    studio.refresh_from_db()
    assert studio.country == "GB"


def test_owner_without_password_is_mailed_an_invitation_in_the_studios_name(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        studio = studio_create(name="Invite Gym", slug="invite-gym", owner_email="new@owner.test")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new@owner.test"]
    assert "Invite Gym" in message.subject and "Invite Gym" in message.from_email
    assert "TrainerHub" not in message.body + message.subject + message.from_email
    assert "http://invite-gym.localhost/accounts/password/reset/key/" in message.body
    with tenant_context(studio):
        assert not User.objects.get().has_usable_password()


def test_mails_keep_a_studio_name_with_ampersands_and_quotes_as_written(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        studio_create(name="Rock & Roll O'Neil", slug="rock-roll", owner_email="o@rock.test")

    assert mail.outbox[0].subject == "You're invited to Rock & Roll O'Neil"
    assert "Rock & Roll O'Neil" in mail.outbox[0].from_email


def test_the_template_schema_holds_nothing_but_migration_history():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> 'django_migrations'",
            [settings.TENANT_BASE_SCHEMA],
        )
        tables = [row[0] for row in cursor.fetchall()]
        assert "accounts_user" in tables
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{settings.TENANT_BASE_SCHEMA}"."{table}"')  # noqa: S608
            assert cursor.fetchone()[0] == 0, table


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"slug": "1gym"}, "slug"),
        ({"slug": "gym--double"}, "slug"),
        ({"slug": "public"}, "slug"),
        ({"slug": "pg-catalog"}, "slug"),
        ({"slug": "alpha"}, "slug"),  # taken by the session's studio
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"theme": "no-such-theme"}, "theme"),
        ({"brand_color": "blue"}, "brand_color"),
        ({"owner_email": "not-an-email"}, "owner_email"),
        ({"owner_password": "123"}, "owner_password"),
        ({"name": ""}, "name"),
        ({"country": "XX"}, "country"),
        ({"country": "us"}, "country"),
        ({"country": "USA"}, "country"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_created(fields, bad_field):
    arguments = {"name": "Fresh Gym", "slug": "fresh-gym", "owner_email": "o@fresh.test", **fields}

    with pytest.raises(ValidationFailed) as refusal:
        studio_create(**arguments)

    assert bad_field in refusal.value.fields
    assert _nothing_left_of("fresh-gym")


def test_a_failure_after_the_schema_exists_leaves_nothing_behind(monkeypatch):
    def broken_owner(**kwargs):
        raise RuntimeError("the owner could not be created")

    monkeypatch.setattr("tenants.services.user_create", broken_owner)

    with pytest.raises(RuntimeError):
        studio_create(name="Half Gym", slug="half-gym", owner_email="o@half.test", owner_password="Str0ng-Passw0rd!")

    assert _nothing_left_of("half-gym")


def test_create_studio_command(capsys):
    call_command(
        "create_studio",
        "--name",
        "Command Gym",
        "--slug",
        "command-gym",
        "--owner-email",
        "o@command.test",
        "--owner-password",
        "Str0ng-Passw0rd!",
        "--timezone",
        "America/New_York",
        "--theme",
        "midnight",
        "--country",
        "US",
    )

    studio = Studio.objects.get(slug="command-gym")
    assert (studio.timezone, studio.theme, studio.country) == ("America/New_York", "midnight", "US")
    assert "command-gym.localhost" in capsys.readouterr().out


def test_create_studio_command_reports_bad_input():
    with pytest.raises(CommandError, match="timezone"):
        call_command(
            "create_studio", "--name", "X", "--slug", "x-gym", "--owner-email", "o@x.test", "--timezone", "Nope/Nope"
        )
    assert _nothing_left_of("x-gym")


def test_create_studio_command_refuses_an_unknown_country():
    with pytest.raises(CommandError, match="country"):
        call_command("create_studio", "--name", "X", "--slug", "x-gym", "--owner-email", "o@x.test", "--country", "ZZ")
    assert _nothing_left_of("x-gym")


class TestPlatformApi:
    url = "/api/platform/studios/"
    body = {"name": "Api Gym", "slug": "api-gym", "owner_email": "o@api.test", "owner_password": "Str0ng-Passw0rd!"}

    def test_platform_admin_creates_a_studio(self, platform_admin):
        client = api_client("localhost", token_of(platform_admin))

        response = client.post(self.url, self.body, format="json")

        assert response.status_code == 201, response.json()
        assert response.json()["slug"] == "api-gym"
        assert response.json()["domains"] == ["api-gym.localhost"]
        assert "owner_password" not in response.json()
        assert Studio.objects.filter(slug="api-gym").exists()
        assert response.json()["country"] == "GB"

    def test_platform_admin_creates_a_studio_in_its_country(self, platform_admin):
        client = api_client("localhost", token_of(platform_admin))

        response = client.post(self.url, {**self.body, "country": "US"}, format="json")

        assert response.status_code == 201, response.json()
        assert response.json()["country"] == "US"
        assert Studio.objects.get(slug="api-gym").country == "US"

    @pytest.mark.parametrize("country", ["XX", "us", "", 1])
    def test_an_unknown_country_is_refused(self, platform_admin, country):
        client = api_client("localhost", token_of(platform_admin))

        response = client.post(self.url, {**self.body, "country": country}, format="json")

        assert response.status_code == 400
        assert set(response.json()["fields"]) == {"country"}
        assert _nothing_left_of("api-gym")

    def test_the_studios_settings_are_shown_to_the_platform(self, platform_admin, studio_a):
        with schema_context("public"):
            Studio.objects.filter(pk=studio_a.pk).update(
                country="IE",
                contact_email="hello@alpha.test",
                contact_phone="+35312345678",
                address="1 Main Street, Dublin",
                cancellation_policy="48 hours' notice, please.",
                default_cancellation_window_hours=48,
            )
        client = api_client("localhost", token_of(platform_admin))

        detail = client.get(f"{self.url}{studio_a.pk}/").json()
        listed = next(studio for studio in client.get(self.url).json()["results"] if studio["id"] == studio_a.pk)

        expected = {
            "country": "IE",
            "contact_email": "hello@alpha.test",
            "contact_phone": "+35312345678",
            "address": "1 Main Street, Dublin",
            "cancellation_policy": "48 hours' notice, please.",
            "default_cancellation_window_hours": 48,
            "logo_url": None,
        }
        assert {name: detail[name] for name in expected} == expected
        assert {name: listed[name] for name in expected} == expected

    def test_platform_admin_lists_and_reads_studios(self, platform_admin, studio_a):
        client = api_client("localhost", token_of(platform_admin))

        listing = client.get(self.url)
        detail = client.get(f"{self.url}{studio_a.pk}/")

        assert {"alpha", "bravo"} <= {studio["slug"] for studio in listing.json()["results"]}
        assert detail.json()["schema_name"] == "alpha"

    def test_bad_input_gets_field_errors(self, platform_admin):
        client = api_client("localhost", token_of(platform_admin))

        response = client.post(self.url, {**self.body, "slug": "Not Valid", "timezone": "Nowhere"}, format="json")

        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid"
        assert set(body["fields"]) == {"slug", "timezone"}
        assert _nothing_left_of("not-valid")

    def test_missing_fields_and_malformed_json(self, platform_admin):
        client = api_client("localhost", token_of(platform_admin))

        missing = client.post(self.url, {}, format="json")
        malformed = client.post(self.url, "{not json", content_type="application/json")

        assert missing.status_code == 400
        assert {"name", "slug", "owner_email"} <= set(missing.json()["fields"])
        assert malformed.status_code == 400
        assert malformed.json()["code"] == "parse_error"

    def test_anonymous_and_non_admin_users_are_refused(self, platform_client):
        someone = make_user(None, email="someone@platform.test", is_staff=False)

        anonymous = platform_client.post(self.url, self.body, format="json")
        not_admin = api_client("localhost", token_of(someone)).post(self.url, self.body, format="json")

        assert anonymous.status_code == 401
        assert not_admin.status_code == 403
        assert _nothing_left_of("api-gym")

    def test_a_studio_owners_token_means_nothing_on_the_platform(self, owner_a, studio_a):
        key = token_of(owner_a, studio_a)

        response = api_client("localhost", key).post(self.url, self.body, format="json")

        assert response.status_code == 401
        assert _nothing_left_of("api-gym")

    def test_the_platform_api_does_not_exist_on_a_studio_host(self, platform_admin, studio_a):
        response = api_client("alpha.localhost", token_of(platform_admin)).post(self.url, self.body, format="json")

        assert response.status_code in (401, 404)
        assert _nothing_left_of("api-gym")

    def test_suspend_and_activate(self, platform_admin, studio_a):
        client = api_client("localhost", token_of(platform_admin))

        suspended = client.post(f"{self.url}{studio_a.pk}/suspend/", {"reason": "Unpaid"}, format="json")
        studio_page = api_client("alpha.localhost").get("/")
        activated = client.post(f"{self.url}{studio_a.pk}/activate/", {"reason": "Paid"}, format="json")

        assert suspended.json()["status"] == "suspended"
        assert studio_page.status_code == 403
        assert activated.json()["status"] == "active"
        assert api_client("alpha.localhost").get("/").status_code == 200


def test_platform_admin_creates_a_studio_in_the_django_admin(platform_admin, client):
    client.defaults["HTTP_HOST"] = "localhost"
    client.force_login(platform_admin)

    form = client.get("/admin/tenants/studio/add/")
    response = client.post(
        "/admin/tenants/studio/add/",
        {
            "name": "Admin Gym",
            "slug": "admin-gym",
            "timezone": "UTC",
            "theme": "classic",
            "currency": "EUR",
            "country": "US",
            "brand_color": "#112233",
            "owner_email": "o@admin.test",
            "owner_password": "Str0ng-Passw0rd!",
        },
    )
    refused = client.post(
        "/admin/tenants/studio/add/",
        {
            "name": "Admin Gym",
            "slug": "admin-gym",
            "timezone": "UTC",
            "theme": "classic",
            "currency": "EUR",
            "country": "US",
            "brand_color": "#112233",
            "owner_email": "o@admin.test",
        },
    )

    assert form.status_code == 200
    assert response.status_code == 302, response.content.decode()[:2000]
    studio = Studio.objects.get(slug="admin-gym")
    assert (studio.currency, studio.country) == ("EUR", "US")
    with tenant_context(studio):
        assert User.objects.get().email == "o@admin.test"
    assert refused.status_code == 200
    assert "already exists" in refused.content.decode()


def test_the_django_admin_refuses_an_unknown_country(platform_admin, client):
    client.defaults["HTTP_HOST"] = "localhost"
    client.force_login(platform_admin)

    form = client.get("/admin/tenants/studio/add/")
    refused = client.post(
        "/admin/tenants/studio/add/",
        {
            "name": "Admin Gym",
            "slug": "admin-gym",
            "timezone": "UTC",
            "theme": "classic",
            "currency": "EUR",
            "country": "XX",
            "brand_color": "#112233",
            "owner_email": "o@admin.test",
        },
    )

    # The add form offers the codes, GB chosen unless the admin picks another.
    assert '<option value="GB" selected>' in form.content.decode()
    assert refused.status_code == 200
    assert "ISO 3166" in refused.content.decode()
    assert _nothing_left_of("admin-gym")


def test_two_requests_racing_for_one_slug_create_one_studio():
    body = {"name": "Race Gym", "slug": "race-gym", "owner_email": "o@race.test", "owner_password": "Str0ng-Passw0rd!"}

    # The racing requests run on connections of their own, so their admin must be committed, not in this
    # test's transaction; it is removed again at the end.
    def commit_admin() -> str:
        with schema_context("public"):
            admin = User.objects.create_user("racer@platform.test", is_staff=True)
            # Platform accounts need two-factor authentication set up before the platform API answers them.
            totp_enable(admin)
            return Token.objects.create(user=admin).key

    def cleanup() -> None:
        with schema_context("public"):
            for studio in Studio.objects.filter(slug="race-gym"):
                studio.delete(force_drop=True)
            User.objects.filter(email="racer@platform.test").delete()

    key = run_committed(commit_admin)
    try:
        results = run_in_threads(
            4, lambda _i: api_client("localhost", key).post("/api/platform/studios/", body, format="json")
        )
    finally:
        run_committed(cleanup)

    assert sorted(result.status_code for result in results) == [201, 400, 400, 400], results
    refusals = [result.json() for result in results if result.status_code == 400]
    assert all(refusal["fields"] == {"slug": ["A studio with this slug already exists."]} for refusal in refusals)
    assert _nothing_left_of("race-gym")
