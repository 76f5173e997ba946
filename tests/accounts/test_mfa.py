"""Two-factor authentication: the API login asks for the code, the web login has its step, and accounts that
must have it (platform accounts, staff of a studio that asks for it) set it up before anything else."""

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.test import Client
from django_tenants.utils import schema_context, tenant_context
from rest_framework.authtoken.models import Token

from shared_apps.accounts.models import Role
from tests.conftest import PLATFORM_HOST, api_client, host_of, make_user, token_of, totp_code, totp_enable
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/api/users/login/"
SECURITY = "/api/staff/security/"


@pytest.fixture
def manager_with_mfa(studio_a, manager_a):
    with tenant_context(studio_a):
        totp_enable(manager_a)
    return manager_a


def _recovery_code(user, studio) -> str:
    with tenant_context(studio):
        return RecoveryCodes(
            Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
        ).get_unused_codes()[0]


def _has_token(user, studio) -> bool:
    with tenant_context(studio):
        return Token.objects.filter(user=user).exists()


# -- the API login ---------------------------------------------------------------------------------------


def test_the_password_alone_gets_no_token_when_mfa_is_on(anon_a, studio_a, manager_with_mfa):
    response = anon_a.post(LOGIN, {"email": manager_with_mfa.email, "password": PASSWORD}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "mfa_required"
    assert "token" not in response.json()
    assert not _has_token(manager_with_mfa, studio_a)


def test_a_wrong_code_gets_no_token(anon_a, studio_a, manager_with_mfa):
    response = anon_a.post(
        LOGIN, {"email": manager_with_mfa.email, "password": PASSWORD, "code": "000000"}, format="json"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "mfa_invalid_code"
    assert not _has_token(manager_with_mfa, studio_a)


def test_the_authenticator_code_gets_a_token_once(anon_a, studio_a, manager_with_mfa):
    body = {"email": manager_with_mfa.email, "password": PASSWORD, "code": totp_code()}

    first = anon_a.post(LOGIN, body, format="json")
    replay = anon_a.post(LOGIN, body, format="json")

    assert first.status_code == 200
    assert first.json()["email"] == manager_with_mfa.email
    assert api_client(host_of(studio_a), first.json()["token"]).get("/api/staff/").status_code == 200
    # A code seen once is spent, even within its 30 seconds.
    assert replay.status_code == 401
    assert replay.json()["code"] == "mfa_invalid_code"


def test_a_recovery_code_works_once(anon_a, studio_a, manager_with_mfa):
    code = _recovery_code(manager_with_mfa, studio_a)
    body = {"email": manager_with_mfa.email, "password": PASSWORD, "code": code}

    assert anon_a.post(LOGIN, body, format="json").status_code == 200
    assert anon_a.post(LOGIN, body, format="json").status_code == 401


def test_a_wrong_password_with_a_right_code_is_a_wrong_password(anon_a, manager_with_mfa):
    response = anon_a.post(
        LOGIN, {"email": manager_with_mfa.email, "password": "guess", "code": totp_code()}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"


def test_wrong_codes_are_limited(anon_a, manager_with_mfa):
    codes = [
        anon_a.post(
            LOGIN, {"email": manager_with_mfa.email, "password": PASSWORD, "code": f"00000{n}"}, format="json"
        ).status_code
        for n in range(5)
    ]
    right = anon_a.post(
        LOGIN, {"email": manager_with_mfa.email, "password": PASSWORD, "code": totp_code()}, format="json"
    )

    assert codes == [401] * 5
    assert right.status_code == 429
    assert right.json()["code"] == "throttled"


def test_accounts_without_mfa_log_in_with_the_password(anon_a, manager_a):
    response = anon_a.post(LOGIN, {"email": manager_a.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200


# -- the web login ---------------------------------------------------------------------------------------


def test_the_web_login_asks_for_the_code_after_the_password(studio_a, manager_with_mfa):
    browser = Client(HTTP_HOST=host_of(studio_a))

    password_step = browser.post("/accounts/login/", {"login": manager_with_mfa.email, "password": PASSWORD})
    assert password_step.status_code == 302
    assert password_step["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in browser.session

    wrong = browser.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in browser.session

    right = browser.post("/accounts/2fa/authenticate/", {"code": totp_code()})
    assert right.status_code == 302
    assert browser.session["_auth_user_id"] == str(manager_with_mfa.pk)


def _web_login(host: str, email: str) -> Client:
    browser = Client(HTTP_HOST=host)
    response = browser.post("/accounts/login/", {"login": email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return browser


def _enroll_on_the_web(browser: Client) -> str:
    """Set up an authenticator app through allauth's pages; the secret it was set up with."""
    # allauth asks for the password again before a second factor is added (a borrowed session can't add one).
    ask = browser.get("/accounts/2fa/totp/activate/")
    assert ask.status_code == 302
    assert ask["Location"].startswith("/accounts/reauthenticate/")
    confirmed = browser.post(ask["Location"], {"password": PASSWORD})
    assert confirmed.status_code == 302
    page = browser.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html  # the QR code, drawn by qrcode
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "no inline script (CSP)"
    assert " style=" not in html
    secret = browser.session["mfa.totp.secret"]
    done = browser.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert done.status_code == 302
    assert done["Location"] == "/accounts/2fa/recovery-codes/"
    return secret


def test_staff_set_up_mfa_on_the_studio_host_in_the_studios_theme(studio_a, manager_a):
    browser = _web_login(host_of(studio_a), manager_a.email)

    index = browser.get("/accounts/2fa/")
    assert index.status_code == 200
    assert studio_a.name in index.content.decode()
    assert 'class="site-header"' in index.content.decode()  # the studio's own layout (themes/base)
    assert "Two-Factor Authentication" in index.content.decode()
    _enroll_on_the_web(browser)

    with tenant_context(studio_a):
        assert Authenticator.objects.filter(user=manager_a, type=Authenticator.Type.TOTP).exists()
    codes = browser.get("/accounts/2fa/recovery-codes/")
    assert codes.status_code == 200
    assert " style=" not in codes.content.decode()


# -- platform admins must have it ------------------------------------------------------------------------


@pytest.fixture
def new_platform_admin(db):
    return make_user(None, email="new-admin@platform.test", is_staff=True, is_superuser=True, role=Role.OWNER)


def test_a_platform_admin_without_mfa_is_refused_by_the_platform_api(new_platform_admin):
    client = api_client(PLATFORM_HOST, token_of(new_platform_admin))

    refused = client.get("/api/platform/studios/")
    me = client.get("/api/users/me/")

    assert refused.status_code == 403
    assert refused.json()["code"] == "mfa_enrollment_required"
    assert "/accounts/2fa/totp/activate/" in refused.json()["detail"]
    assert me.status_code == 200


def test_a_platform_admin_without_mfa_gets_no_token_for_the_password(new_platform_admin):
    body = {"email": new_platform_admin.email, "password": PASSWORD}

    response = api_client(PLATFORM_HOST).post(LOGIN, body, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "mfa_enrollment_required"
    assert f"http://{PLATFORM_HOST}" in response.json()["detail"]
    with schema_context("public"):
        assert not Token.objects.filter(user=new_platform_admin).exists()


def test_a_platform_admin_without_mfa_is_sent_from_the_admin_to_set_it_up(new_platform_admin):
    browser = _web_login(PLATFORM_HOST, new_platform_admin.email)

    admin = browser.get("/admin/")
    assert admin.status_code == 302
    assert admin["Location"] == "/accounts/2fa/totp/activate/"

    _enroll_on_the_web(browser)
    assert browser.get("/admin/").status_code == 200
    with schema_context("public"):
        assert Authenticator.objects.filter(user=new_platform_admin, type=Authenticator.Type.TOTP).exists()


def test_a_platform_admin_reaches_the_admin_through_both_factors(platform_admin):
    browser = Client(HTTP_HOST=PLATFORM_HOST)

    start = browser.get("/admin/")
    login_page = browser.get(start["Location"], follow=True)
    assert login_page.status_code == 200
    password_step = browser.post("/accounts/login/?next=/admin/", {"login": platform_admin.email, "password": PASSWORD})
    assert password_step["Location"].startswith("/accounts/2fa/authenticate/")
    code_step = browser.post("/accounts/2fa/authenticate/", {"code": totp_code()})

    assert code_step.status_code == 302
    assert code_step["Location"] == "/admin/"
    assert browser.get("/admin/").status_code == 200


# -- a studio can require it of its staff ----------------------------------------------------------------


def test_the_owner_must_have_mfa_before_requiring_it(as_user, owner_a):
    response = as_user(owner_a).put(SECURITY, {"staff_mfa_required": True}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "mfa_not_enabled"
    assert as_user(owner_a).get(SECURITY).json() == {"staff_mfa_required": False}


def test_only_the_owner_sets_the_rule(as_user, manager_a):
    response = as_user(manager_a).put(SECURITY, {"staff_mfa_required": True}, format="json")

    assert response.status_code == 403


@pytest.fixture
def mfa_studio_a(studio_a, owner_a, as_user):
    with tenant_context(studio_a):
        totp_enable(owner_a)
    response = as_user(owner_a).put(SECURITY, {"staff_mfa_required": True}, format="json")
    assert response.status_code == 200
    assert response.json() == {"staff_mfa_required": True}
    return studio_a


def test_staff_without_mfa_are_refused_until_they_set_it_up(
    mfa_studio_a, as_user, anon_a, manager_a, owner_a, django_capture_on_commit_callbacks
):
    # A token from before the owner turned the rule on reaches only "who am I" and logout.
    earlier_token = token_of(manager_a, mfa_studio_a)
    earlier = api_client(host_of(mfa_studio_a), earlier_token)
    refused = earlier.get("/api/staff/")
    assert refused.status_code == 403
    assert refused.json()["code"] == "mfa_enrollment_required"
    assert earlier.get("/api/users/me/").status_code == 200
    # The owner has it, so the owner goes on working.
    assert as_user(owner_a).get("/api/staff/").status_code == 200

    # The password alone gets no token at all: set-up happens on the web.
    login = anon_a.post(LOGIN, {"email": manager_a.email, "password": PASSWORD}, format="json")
    assert login.status_code == 403
    assert login.json()["code"] == "mfa_enrollment_required"
    assert "/accounts/2fa/totp/activate/" in login.json()["detail"]
    assert "token" not in login.json()

    browser = _web_login(host_of(mfa_studio_a), manager_a.email)
    with django_capture_on_commit_callbacks(execute=True):
        _enroll_on_the_web(browser)

    # The token that was handed out for the password alone died with the set-up...
    assert earlier.get("/api/users/me/").status_code == 401
    # ...and a login with both factors gets a new one, which reaches everything.
    body = {"email": manager_a.email, "password": PASSWORD, "code": _recovery_code(manager_a, mfa_studio_a)}
    login = anon_a.post(LOGIN, body, format="json")
    assert login.status_code == 200
    assert login.json()["token"] != earlier_token
    assert api_client(host_of(mfa_studio_a), login.json()["token"]).get("/api/staff/").status_code == 200


def test_setting_up_mfa_ends_the_other_sessions_and_tokens_but_not_this_session(
    studio_a, manager_a, django_capture_on_commit_callbacks
):
    host = host_of(studio_a)
    token = token_of(manager_a, studio_a)
    other_browser = _web_login(host, manager_a.email)
    browser = _web_login(host, manager_a.email)

    with django_capture_on_commit_callbacks(execute=True):
        _enroll_on_the_web(browser)

    assert api_client(host, token).get("/api/users/me/").status_code == 401
    assert not _has_token(manager_a, studio_a)
    elsewhere = other_browser.get("/accounts/2fa/")
    assert elsewhere.status_code == 302
    assert elsewhere["Location"].startswith("/accounts/login/")
    here = browser.get("/accounts/2fa/")
    assert here.status_code == 200
    assert browser.session["_auth_user_id"] == str(manager_a.pk)


def test_turning_mfa_off_ends_the_other_sessions_and_tokens_but_not_this_session(
    studio_a, manager_a, django_capture_on_commit_callbacks
):
    host = host_of(studio_a)
    browser = _web_login(host, manager_a.email)
    with django_capture_on_commit_callbacks(execute=True):
        secret = _enroll_on_the_web(browser)
    other_browser = Client(HTTP_HOST=host)
    other_browser.post("/accounts/login/", {"login": manager_a.email, "password": PASSWORD})
    assert other_browser.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)}).status_code == 302
    token = token_of(manager_a, studio_a)

    with django_capture_on_commit_callbacks(execute=True):
        off = browser.post("/accounts/2fa/totp/deactivate/")
    assert off.status_code == 302

    with tenant_context(studio_a):
        assert not Authenticator.objects.filter(user=manager_a).exists()
    assert api_client(host, token).get("/api/users/me/").status_code == 401
    assert other_browser.get("/accounts/2fa/")["Location"].startswith("/accounts/login/")
    assert browser.get("/accounts/2fa/").status_code == 200


def test_staff_pages_lead_to_the_setup_page(mfa_studio_a, manager_a):
    browser = _web_login(host_of(mfa_studio_a), manager_a.email)

    page = browser.get("/")

    assert page.status_code == 302
    assert page["Location"] == "/accounts/2fa/totp/activate/"


def test_clients_and_other_studios_are_not_concerned(mfa_studio_a, as_user, client_a, studio_b):
    from tests.conftest import make_user as make

    manager_b = make(studio_b, role=Role.MANAGER, email="manager@bravo.test")

    assert as_user(client_a).get("/api/users/me/").status_code == 200
    assert Client(HTTP_HOST=host_of(mfa_studio_a)).get("/").status_code == 200
    assert as_user(manager_b, studio_b).get("/api/staff/").status_code == 200


def test_turning_the_rule_off_frees_the_staff(mfa_studio_a, as_user, owner_a, manager_a):
    as_user(owner_a).put(SECURITY, {"staff_mfa_required": False}, format="json")

    assert as_user(manager_a).get("/api/staff/").status_code == 200
