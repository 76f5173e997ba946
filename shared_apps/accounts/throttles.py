"""Throttles: DRF's for sign-ups, resets and password changes; failed logins counted by hand (both the API and
allauth's web login go through ``login_attempt_start``).

Failed logins are counted three ways, in fixed windows:

- per account and address, tightly: the guesses one address can make at one account;
- per account, loosely, from addresses the account has not logged in from lately: a guess spread over many
  addresses is still slowed, while the holder on an address they logged in from (or reset the password from)
  is not locked out by strangers' failures;
- per address over every account of every studio: one address trying many accounts.

Only failures count: an attempt reserves one unit in each counter before the password is checked (so that
parallel guesses can't all slip under a limit), and a successful login gives them back. A login succeeds
when it is complete: with the second factor when the account has one, so the password alone neither clears
the failures nor makes its address known.
"""

import contextlib
import hashlib
import ipaddress
import math
import time
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db import connection
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from shared_apps.accounts.models import UserManager
from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.tenancy import platform_cache

# An address that logged in to an account (or reset its password) stays "known" to it this long.
KNOWN_ADDRESS_SECONDS = 30 * 24 * 60 * 60
_UNITS = {"s": 1, "m": 60, "h": 60 * 60, "d": 24 * 60 * 60}


class LoginThrottled(ApplicationError):
    status_code = 429
    code = "throttled"
    message = "Too many failed login attempts. Try again later."

    def __init__(self, *, wait: int):
        self.wait = wait
        super().__init__()


def parse_rate(rate: str) -> tuple[int, int]:
    """``"5/15m"`` → (5, 900). The period is a number (default 1) and a unit: s, m/min, h/hour, d/day."""
    count, _, period = rate.partition("/")
    digits = period.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = period[len(digits) :][:1]
    if unit not in _UNITS:
        raise ValueError(f"Unknown period in rate {rate!r}")
    return int(count), int(digits or 1) * _UNITS[unit]


def client_address(request) -> str:
    """The client's address as DRF's throttles see it (NUM_PROXIES), an IPv6 address cut to its /64: one
    host usually holds the whole /64, so counting its addresses one by one would count nothing."""
    # No address at all (a misconfigured proxy, a test harness): such requests share one counter.
    address = BaseThrottle().get_ident(request) or "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6 and parsed.ipv4_mapped is not None:  # an IPv4 client seen through a dual-stack socket
        return str(parsed.ipv4_mapped)
    if parsed.version == 6:
        return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False).network_address)
    return str(parsed)


def _digest(*parts: str) -> str:
    # A lone surrogate in a posted email must not turn into an exception here: keep it, escaped.
    joined = "\0".join(parts)
    return hashlib.sha256(joined.encode("utf-8", errors="surrogatepass")).hexdigest()


def account_ident(email: str) -> str:
    """One account: the same email in two studios is two accounts, so the schema is part of it."""
    return _digest(connection.schema_name, UserManager.normalize_email(email))


def _known_key(account: str, address: str) -> str:
    return f"login:known:{account}:{_digest(address)}"


@dataclass
class LoginAttempt:
    account: str
    address: str
    # The counters this attempt reserved a unit in (cache keys).
    reserved: list[str] = field(default_factory=list)
    pair_key: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "LoginAttempt":
        return cls(**data)

    def succeeded(self) -> None:
        """The password was right: the attempt was not a failure, and this address is now known."""
        cache = platform_cache()
        for key in self.reserved:
            _give_back(cache, key)
        cache.delete(self.pair_key)
        login_address_remember(account=self.account, address=self.address)


def _give_back(cache, key: str) -> None:
    with contextlib.suppress(ValueError):  # the window ended meanwhile
        cache.decr(key)


def _reserve(cache, key: str, period: int) -> int:
    cache.add(key, 0, period)
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, period)
        return 1


def login_address_remember(*, account: str, address: str) -> None:
    platform_cache().set(_known_key(account, address), 1, KNOWN_ADDRESS_SECONDS)


def login_address_remember_for(*, request, email: str) -> None:
    """The holder proved the account is theirs from this request's address (a password reset)."""
    login_address_remember(account=account_ident(email), address=client_address(request))


def login_attempt_start(*, request, email: str) -> LoginAttempt:
    """Reserve this attempt in every counter that applies, or raise LoginThrottled (reserving nothing)."""
    cache = platform_cache()
    attempt = LoginAttempt(account=account_ident(email), address=client_address(request))
    address = _digest(attempt.address)
    now = time.time()
    counters = [
        ("account_address", f"{attempt.account}:{address}"),
        ("address", address),
    ]
    if not cache.get(_known_key(attempt.account, attempt.address)):
        counters.append(("account", attempt.account))
    for scope, ident in counters:
        limit, period = parse_rate(settings.LOGIN_FAILURE_RATES[scope])
        window = int(now // period)
        key = f"login:failures:{scope}:{ident}:{window}"
        if scope == "account_address":
            attempt.pair_key = key
        if _reserve(cache, key, period) > limit:
            _give_back(cache, key)
            for reserved in attempt.reserved:
                _give_back(cache, reserved)
            raise LoginThrottled(wait=max(1, math.ceil((window + 1) * period - now)))
        # A failure leaves the unit counted; a success gives it back (and clears the per-pair counter).
        attempt.reserved.append(key)
    return attempt


class AddressThrottle(SimpleRateThrottle):
    """Requests per client address (cache keys carry the schema, so each studio counts its own)."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PasswordResetThrottle(AddressThrottle):
    scope = "password_reset"


class RegisterThrottle(AddressThrottle):
    scope = "register"


class PasswordChangeThrottle(SimpleRateThrottle):
    scope = "password_change"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
