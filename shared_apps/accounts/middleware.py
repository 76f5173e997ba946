from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from shared_apps.accounts.mfa import mfa_enrollment_required

# The setup pages and logout live under /accounts/; the API answers for itself (authentication.py).
OPEN_PATHS = ("/accounts/", "/api/", "/static/", "/media/", "/healthz")


class MFAEnrollmentMiddleware:
    """A logged-in account that must have two-factor authentication is sent to set it up before any page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and not request.path.startswith(OPEN_PATHS) and mfa_enrollment_required(user):
            messages.info(request, "Set up two-factor authentication to continue.")
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
