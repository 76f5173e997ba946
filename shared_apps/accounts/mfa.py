"""Two-factor authentication (allauth.mfa: an authenticator app, with recovery codes as the spare key).

Who must have it: every platform account (public schema), and the staff (owner, managers, trainers) of a
studio whose owner turned on ``Studio.staff_mfa_required``. Everyone else may turn it on for themselves.
Until an account that must have it has set it up, the API login hands it no token, and a session (or a
token from before the rule) reaches nothing but the setup pages (/accounts/...), ``GET/PATCH /api/users/me/``
and logout: pages redirect to the setup page, the API answers 403 ``mfa_enrollment_required``.
Setting it up or removing it ends the account's API tokens and its other sessions (services.user_mfa_changed):
whatever was obtained with the password alone does not outlive the change.
"""

from allauth.mfa.base.forms import AuthenticateForm
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.urls import reverse

from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.tenancy import current_studio, site_url


class MFARequired(ApplicationError):
    status_code = 401
    code = "mfa_required"
    message = (
        "This account uses two-factor authentication: send the code from the authenticator app "
        "(or a recovery code) as `code`."
    )


class MFACodeInvalid(ApplicationError):
    status_code = 401
    code = "mfa_invalid_code"
    message = "The two-factor authentication code is not correct."


class MFAEnrollmentRequired(ApplicationError):
    status_code = 403
    code = "mfa_enrollment_required"


class MFAThrottled(ApplicationError):
    status_code = 429
    code = "throttled"
    message = "Too many wrong codes. Try again later."


def mfa_enabled(user) -> bool:
    return is_mfa_enabled(user, [Authenticator.Type.TOTP])


def mfa_required_for(user) -> bool:
    """Whether the account must have two-factor authentication (set up or not)."""
    if not user.is_authenticated:
        return False
    studio = current_studio()
    if studio is None:
        return True
    return studio.staff_mfa_required and user.is_studio_staff


def mfa_enrollment_required(user) -> bool:
    """The account must have two-factor authentication and has not set it up yet."""
    return mfa_required_for(user) and not mfa_enabled(user)


def mfa_setup_url() -> str:
    return site_url(reverse("mfa_activate_totp"))


def mfa_enrollment_message() -> str:
    return f"This account needs two-factor authentication: set it up at {mfa_setup_url()} first."


def mfa_code_check(*, user, code: str) -> None:
    """Check a TOTP or recovery code the way allauth's login page does: same rate limit (wrong codes per
    account), same single use of each code."""
    form = AuthenticateForm(user=user, data={"code": code})
    if form.is_valid():
        form.authenticator.record_usage()
        return
    codes = {error.code for error in form.errors.as_data().get("code", [])}
    if "too_many_login_attempts" in codes:
        raise MFAThrottled()
    raise MFACodeInvalid(fields={"code": [MFACodeInvalid.message]})
