import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
URL = "/api/users/login/"


def test_login_with_any_case_of_the_email_returns_a_token(anon_a, trainer_a):
    response = anon_a.post(URL, {"email": "TRAINER@Alpha.test", "password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "id": trainer_a.pk,
        "email": "trainer@alpha.test",
        "token": response.json()["token"],
        "user_type": "trainer",
    }
    me = anon_a.get("/api/users/me/", HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert me.json()["email"] == "trainer@alpha.test"


def test_a_wrong_password_and_an_unknown_email_get_the_same_generic_answer(anon_a, client_a):
    wrong_password = anon_a.post(URL, {"email": client_a.email, "password": "nope"}, format="json")
    unknown_email = anon_a.post(URL, {"email": "ghost@alpha.test", "password": "nope"}, format="json")

    assert wrong_password.status_code == unknown_email.status_code == 400
    assert (
        wrong_password.json()
        == unknown_email.json()
        == {
            "code": "invalid_credentials",
            "detail": "Unable to log in with the email and password provided.",
            "fields": {},
        }
    )


def test_an_inactive_account_cannot_log_in(anon_a, client_a, studio_a):
    from django_tenants.utils import tenant_context

    with tenant_context(studio_a):
        client_a.is_active = False
        client_a.save()

    response = anon_a.post(URL, {"email": client_a.email, "password": PASSWORD}, format="json")

    assert response.status_code == 400


def test_an_account_of_another_studio_cannot_log_in_here(anon_a, client_b):
    response = anon_a.post(URL, {"email": client_b.email, "password": PASSWORD}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"


def test_missing_fields(anon_a):
    response = anon_a.post(URL, {"email": "x@y.z"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"password"}


def test_failures_from_one_address_lock_that_address_out_of_the_account(anon_a, client_a):
    codes = [
        anon_a.post(URL, {"email": client_a.email, "password": "guess"}, format="json").status_code for _ in range(7)
    ]

    assert codes[:5] == [400] * 5
    assert codes[5:] == [429, 429]
    # From this address even the right password waits until the window passes.
    blocked = anon_a.post(URL, {"email": client_a.email, "password": PASSWORD}, format="json")
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "throttled"
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60


def test_attempts_from_one_address_are_limited_across_accounts(anon_a):
    codes = [
        anon_a.post(URL, {"email": f"guess{attempt}@alpha.test", "password": "guess"}, format="json").status_code
        for attempt in range(22)
    ]

    assert codes[:20] == [400] * 20
    assert codes[20:] == [429, 429]


def test_each_studio_counts_its_own_attempts(anon_a, anon_b, client_a, client_b):
    for _ in range(6):
        anon_a.post(URL, {"email": "shared@person.test", "password": "guess"}, format="json")

    assert anon_a.post(URL, {"email": "shared@person.test", "password": "guess"}, format="json").status_code == 429
    assert anon_b.post(URL, {"email": "shared@person.test", "password": "guess"}, format="json").status_code == 400


def test_platform_admins_log_in_on_the_platform_host(platform_admin, platform_client):
    from tests.conftest import totp_code

    # Platform admins have two-factor authentication: the password alone is not enough.
    without_code = platform_client.post(URL, {"email": platform_admin.email, "password": PASSWORD}, format="json")
    assert without_code.status_code == 401
    assert without_code.json()["code"] == "mfa_required"

    response = platform_client.post(
        URL, {"email": platform_admin.email, "password": PASSWORD, "code": totp_code()}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["user_type"] == platform_admin.role
