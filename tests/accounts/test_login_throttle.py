"""Failed logins: tight per account and address, loose per account from unknown addresses, per address over
every account of every studio; only failures count (shared_apps/accounts/throttles.py)."""

import pytest

from tests.conftest import PLATFORM_HOST, api_client, host_of
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
URL = "/api/users/login/"
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


def _login(host: str, email: str, password: str, address: str):
    return api_client(host).post(URL, {"email": email, "password": password}, format="json", REMOTE_ADDR=address)


def test_failures_from_one_address_do_not_lock_the_owner_out_from_another(studio_a, owner_a):
    host = host_of(studio_a)
    for _ in range(6):
        _login(host, owner_a.email, "guess", ATTACKER)
    assert _login(host, owner_a.email, PASSWORD, ATTACKER).status_code == 429

    response = _login(host, owner_a.email, PASSWORD, OWNER)

    assert response.status_code == 200
    assert response.json()["user_type"] == "owner"


def test_a_distributed_guess_is_slowed_but_the_owner_on_a_known_address_gets_in(studio_a, owner_a):
    host = host_of(studio_a)
    # The owner logged in from their own address before the attack.
    assert _login(host, owner_a.email, PASSWORD, OWNER).status_code == 200

    # 30 failures (the per-account limit) from 15 addresses, two each: no address reaches its own limit.
    codes = [_login(host, owner_a.email, "guess", f"10.1.0.{n // 2}").status_code for n in range(30)]
    assert codes == [400] * 30

    # The next guess from yet another address waits, even with the right password...
    stranger = _login(host, owner_a.email, PASSWORD, "10.2.0.1")
    assert stranger.status_code == 429
    assert stranger.json()["code"] == "throttled"
    assert _login(host, owner_a.email, "guess", "10.2.0.2").status_code == 429
    # ...while the owner, on the address they logged in from, still gets in.
    assert _login(host, owner_a.email, PASSWORD, OWNER).status_code == 200


def test_a_password_reset_makes_its_address_known_to_the_account(
    studio_a, client_a, django_capture_on_commit_callbacks
):
    import re

    from django.core import mail

    host = host_of(studio_a)
    for n in range(30):
        _login(host, client_a.email, "guess", f"10.1.0.{n}")
    assert _login(host, client_a.email, PASSWORD, OWNER).status_code == 429

    with django_capture_on_commit_callbacks(execute=True):
        api_client(host).post("/api/users/password-reset/", {"email": client_a.email}, REMOTE_ADDR=OWNER)
    link = re.search(r"/key/(?P<uid>[0-9a-z]+)-(?P<token>[^/\s]+)/", mail.outbox[0].body)
    confirmed = api_client(host).post(
        "/api/users/password-reset/confirm/",
        {"uid": link["uid"], "token": link["token"], "new_password": "Fresh-Start-2026"},
        format="json",
        REMOTE_ADDR=OWNER,
    )

    assert confirmed.status_code == 204
    assert _login(host, client_a.email, "Fresh-Start-2026", OWNER).status_code == 200


def test_the_per_address_limit_spans_studios(studio_a, studio_b):
    # Ten failures on each studio from one address: the twenty are counted together.
    for n in range(10):
        assert _login(host_of(studio_a), f"guess{n}@alpha.test", "guess", ATTACKER).status_code == 400
        assert _login(host_of(studio_b), f"guess{n}@bravo.test", "guess", ATTACKER).status_code == 400

    assert _login(host_of(studio_a), "another@alpha.test", "guess", ATTACKER).status_code == 429
    assert _login(host_of(studio_b), "another@bravo.test", "guess", ATTACKER).status_code == 429
    assert _login(PLATFORM_HOST, "another@platform.test", "guess", ATTACKER).status_code == 429
    # Another address is not concerned.
    assert _login(host_of(studio_b), "another@bravo.test", "guess", OWNER).status_code == 400


def test_successful_logins_are_not_counted(studio_a, client_a):
    # More successes from one address than its failure limit (20) allows.
    codes = [_login(host_of(studio_a), client_a.email, PASSWORD, OWNER).status_code for _ in range(25)]

    assert codes == [200] * 25


def test_a_success_clears_the_failures_of_that_address(studio_a, client_a):
    host = host_of(studio_a)
    for _ in range(4):
        assert _login(host, client_a.email, "typo", OWNER).status_code == 400
    assert _login(host, client_a.email, PASSWORD, OWNER).status_code == 200

    codes = [_login(host, client_a.email, "typo", OWNER).status_code for _ in range(6)]

    assert codes == [400] * 5 + [429]


def test_the_limits_come_from_the_settings(settings, studio_a, client_a):
    settings.LOGIN_FAILURE_RATES = {**settings.LOGIN_FAILURE_RATES, "account_address": "2/min"}

    codes = [_login(host_of(studio_a), client_a.email, "guess", ATTACKER).status_code for _ in range(3)]

    assert codes == [400, 400, 429]


@pytest.mark.parametrize("email", [r"\ud800@alpha.test", r"a\udfff"])
def test_a_lone_surrogate_in_the_email_is_refused_cleanly(anon_a, email):
    # Whether the JSON parser refuses it or the login does, it is a client error, never a 500.
    body = '{"email": "' + email + '", "password": "guess"}'

    response = anon_a.post(URL, body, content_type="application/json")

    assert 400 <= response.status_code < 500


def test_the_throttle_keys_of_an_email_with_a_lone_surrogate(rf, studio_a):
    from django_tenants.utils import tenant_context

    from shared_apps.accounts.throttles import login_attempt_start

    request = rf.post(URL, REMOTE_ADDR=ATTACKER)
    with tenant_context(studio_a):
        attempt = login_attempt_start(request=request, email="\ud800@alpha.test")

    assert len(attempt.reserved) == 3


# -- the web login page (allauth) counts in the same counters ---------------------------------------------


def _web_login(host: str, email: str, password: str, address: str):
    from django.test import Client

    return Client(HTTP_HOST=host).post("/accounts/login/", {"login": email, "password": password}, REMOTE_ADDR=address)


def test_the_web_login_locks_out_the_guessing_address_but_not_the_owner(studio_a, owner_a):
    host = host_of(studio_a)
    for _ in range(5):
        assert _web_login(host, owner_a.email, "guess", ATTACKER).status_code == 200  # the form, with an error

    blocked = _web_login(host, owner_a.email, PASSWORD, ATTACKER)
    assert blocked.status_code == 200
    assert "Too many failed login attempts" in blocked.content.decode()

    assert _web_login(host, owner_a.email, PASSWORD, OWNER).status_code == 302
    # The API counts the web page's failures too: the address is as blocked there.
    assert _login(host, owner_a.email, PASSWORD, ATTACKER).status_code == 429


def test_the_admin_login_is_allauths_rate_limited_page(platform_admin):
    from django.test import Client

    browser = Client(HTTP_HOST=PLATFORM_HOST)

    page = browser.get("/admin/login/?next=/admin/")
    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/login/")

    for _ in range(5):
        assert _web_login(PLATFORM_HOST, platform_admin.email, "guess", ATTACKER).status_code == 200
    blocked = _web_login(PLATFORM_HOST, platform_admin.email, PASSWORD, ATTACKER)
    assert "Too many failed login attempts" in blocked.content.decode()
    # Django's own admin login form is not reachable around it.
    direct = browser.post(
        "/admin/login/", {"username": platform_admin.email, "password": PASSWORD}, REMOTE_ADDR=ATTACKER
    )
    assert direct.status_code == 302
    assert direct["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in browser.session


# -- the second factor: the password alone is not a successful login --------------------------------------


@pytest.fixture
def manager_with_mfa(studio_a, manager_a):
    from django_tenants.utils import tenant_context

    from tests.conftest import totp_enable

    with tenant_context(studio_a):
        totp_enable(manager_a)
    return manager_a


def test_the_password_without_the_code_does_not_clear_the_failures(studio_a, manager_with_mfa):
    host = host_of(studio_a)
    for _ in range(4):
        assert _login(host, manager_with_mfa.email, "guess", ATTACKER).status_code == 400

    assert _login(host, manager_with_mfa.email, PASSWORD, ATTACKER).status_code == 401  # mfa_required

    assert _login(host, manager_with_mfa.email, "guess", ATTACKER).status_code == 429


def test_the_password_with_the_code_clears_the_failures(studio_a, manager_with_mfa):
    from tests.conftest import totp_code

    host = host_of(studio_a)
    for _ in range(4):
        assert _login(host, manager_with_mfa.email, "guess", ATTACKER).status_code == 400
    body = {"email": manager_with_mfa.email, "password": PASSWORD, "code": totp_code()}
    assert api_client(host).post(URL, body, format="json", REMOTE_ADDR=ATTACKER).status_code == 200

    codes = [_login(host, manager_with_mfa.email, "guess", ATTACKER).status_code for _ in range(6)]

    assert codes == [400] * 5 + [429]


def test_the_web_password_step_alone_does_not_clear_the_failures(studio_a, manager_with_mfa):
    from django.test import Client

    host = host_of(studio_a)
    for _ in range(4):
        assert _web_login(host, manager_with_mfa.email, "guess", ATTACKER).status_code == 200
    browser = Client(HTTP_HOST=host, REMOTE_ADDR=ATTACKER)
    password_step = browser.post("/accounts/login/", {"login": manager_with_mfa.email, "password": PASSWORD})
    assert password_step["Location"] == "/accounts/2fa/authenticate/"

    blocked = _web_login(host, manager_with_mfa.email, "guess", ATTACKER)

    assert "Too many failed login attempts" in blocked.content.decode()


def test_the_web_code_step_clears_the_failures(studio_a, manager_with_mfa):
    from django.test import Client

    from tests.conftest import totp_code

    host = host_of(studio_a)
    for _ in range(4):
        assert _web_login(host, manager_with_mfa.email, "guess", ATTACKER).status_code == 200
    browser = Client(HTTP_HOST=host, REMOTE_ADDR=ATTACKER)
    browser.post("/accounts/login/", {"login": manager_with_mfa.email, "password": PASSWORD})
    assert browser.post("/accounts/2fa/authenticate/", {"code": totp_code()}).status_code == 302
    assert browser.session["_auth_user_id"] == str(manager_with_mfa.pk)

    codes = [_login(host, manager_with_mfa.email, "guess", ATTACKER).status_code for _ in range(6)]

    assert codes == [400] * 5 + [429]


# -- parallel guesses --------------------------------------------------------------------------------------


@pytest.fixture
def shared_cache(settings):
    """The cache every process shares in production (Redis) when the test run has one, else local memory:
    either way one store that all the test's threads count in."""
    import uuid

    from django.conf import settings as live_settings

    from shared_apps.core.tenancy import platform_cache

    backend = "django.core.cache.backends.redis.RedisCache" if live_settings.REDIS_URL else None
    if backend:
        settings.CACHES = {
            "default": {
                **settings.CACHES["default"],
                "BACKEND": backend,
                "LOCATION": live_settings.REDIS_URL,
                # Keys of this test only, whatever else the Redis database holds.
                "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            }
        }
    platform_cache.cache_clear()
    yield platform_cache()
    platform_cache().clear()
    platform_cache.cache_clear()


def test_parallel_guesses_reach_the_password_check_no_more_than_the_limit(
    settings, shared_cache, studio_a, owner_a, monkeypatch
):
    import threading
    import time

    from shared_apps.accounts import services
    from shared_apps.accounts.throttles import parse_rate
    from tests.conftest import run_in_threads

    limit, _ = parse_rate(settings.LOGIN_FAILURE_RATES["account_address"])
    checked = []
    lock = threading.Lock()
    check_password = services.authenticate

    def counting_check(*args, **kwargs):
        with lock:
            checked.append(1)
        time.sleep(0.05)  # hold each check open, so that the attempts overlap
        return check_password(*args, **kwargs)

    monkeypatch.setattr(services, "authenticate", counting_check)
    host = host_of(studio_a)

    codes = run_in_threads(limit * 3, lambda _index: _login(host, owner_a.email, "guess", ATTACKER).status_code)

    assert len(checked) == limit
    assert sorted(codes) == [400] * limit + [429] * (limit * 2)
