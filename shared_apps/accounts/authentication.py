"""DRF's token and session authentication, plus one rule: an account that must have two-factor
authentication and hasn't set it up is refused (403 ``mfa_enrollment_required``) everywhere but the views
that say ``mfa_enrollment_exempt = True`` (who am I, log out)."""

from rest_framework import authentication, exceptions


class MFAEnrollmentRequired(exceptions.PermissionDenied):
    default_code = "mfa_enrollment_required"


def _check_enrollment(request, result):
    # Imported here: DRF loads this module while rest_framework.views is still importing, and mfa.py
    # imports the error types that need rest_framework.views.
    from shared_apps.accounts.mfa import mfa_enrollment_message, mfa_enrollment_required

    if result is None:
        return None
    view = (getattr(request, "parser_context", None) or {}).get("view")
    if not getattr(view, "mfa_enrollment_exempt", False) and mfa_enrollment_required(result[0]):
        raise MFAEnrollmentRequired(mfa_enrollment_message(), code="mfa_enrollment_required")
    return result


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate(self, request):
        return _check_enrollment(request, super().authenticate(request))


class SessionAuthentication(authentication.SessionAuthentication):
    def authenticate(self, request):
        return _check_enrollment(request, super().authenticate(request))
