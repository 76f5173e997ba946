import hashlib

from rest_framework.throttling import SimpleRateThrottle

from shared_apps.accounts.models import UserManager


class LoginIPThrottle(SimpleRateThrottle):
    """Login attempts per client address (cache keys carry the schema, so each studio counts its own)."""

    scope = "login_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginAccountThrottle(SimpleRateThrottle):
    """Login attempts per account, whatever address they come from: a distributed guess at one password."""

    scope = "login_account"

    def get_cache_key(self, request, view):
        email = request.data.get("email") if hasattr(request.data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None
        ident = hashlib.sha256(UserManager.normalize_email(email).encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class PasswordResetThrottle(LoginIPThrottle):
    scope = "password_reset"


class RegisterThrottle(LoginIPThrottle):
    scope = "register"


class PasswordChangeThrottle(SimpleRateThrottle):
    scope = "password_change"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
