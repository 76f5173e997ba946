"""Who may open the desk: the studio's staff (owner, manager, trainer), signed in. What each of them sees inside
is decided by the same selectors as the API (a trainer: their own calendar and clients)."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import render


class StaffRequiredMixin(LoginRequiredMixin):
    """Signed-in staff only: a visitor is sent to sign in, a client gets the desk's 403 page (not the data)."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.is_studio_staff:
            return forbidden(request)
        return super().dispatch(request, *args, **kwargs)


class ManagersRequiredMixin(StaffRequiredMixin):
    """The owner and managers (the API's IsStudioManager): a trainer gets the 403 page with ``managers_only``, what
    the page is for in words."""

    managers_only = "Only the studio's owner and managers can do this."

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and user.is_studio_staff and not user.manages_studio:
            return forbidden(request, self.managers_only)
        return super().dispatch(request, *args, **kwargs)


def forbidden(request, message: str = "This part of the studio's site is for its staff.", status: int = 403):
    return render(request, "desk/forbidden.html", {"message": message}, status=status)
