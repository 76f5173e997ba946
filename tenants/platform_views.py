"""The platform admins' pages, under /platform/ on the platform host: the studios (list, search, counts), a
studio's page (domains, owner, subscription, audit log), onboarding, suspension and reactivation.

The same rules as the platform API: who is a platform admin is IsPlatformAdmin's answer, and every write goes
through tenants.services (the API's provisioning, suspension and reactivation), which also writes the audit log.
"""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views import View
from django_tenants.utils import quote_schema_name, tenant_context

from shared_apps.accounts.models import Role, User
from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.permissions import IsPlatformAdmin
from tenant_apps.bookings.models import Booking, BookingStatus
from tenant_apps.clients.models import Client
from tenant_apps.trainers.models import Trainer
from tenants import services
from tenants.forms import StudioOnboardForm, StudioSearchForm, StudioStatusForm, add_application_error
from tenants.models import Studio, StudioEvent
from tenants.selectors import studio_list

STUDIOS_PER_PAGE = 25
EVENTS_SHOWN = 50
# Billing is a later issue: until a studio has a plan, every page says so instead of showing one.
NO_SUBSCRIPTION = "No subscription yet"


class PlatformAdminRequiredMixin(LoginRequiredMixin):
    """Platform admins only, on the platform host: a visitor is sent to sign in, any other account gets a 403
    page. The two-factor rule is the MFAEnrollmentMiddleware's: an admin without it never gets this far."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not IsPlatformAdmin().has_permission(request, self):
            return render(request, "platform/forbidden.html", status=403)
        return super().dispatch(request, *args, **kwargs)


# -- reads ------------------------------------------------------------------------------------------------


def _studios_matching(*, q: str, status: str):
    studios = studio_list()
    if q:
        matches = Studio.objects.filter(
            Q(name__icontains=q) | Q(slug__icontains=q) | Q(domains__domain__icontains=q)
        ).values("pk")
        studios = studios.filter(pk__in=matches)
    if status:
        studios = studios.filter(status=status)
    return studios


def _month_bounds(studio: Studio) -> tuple[datetime, datetime]:
    """This calendar month in the studio's own zone, as instants."""
    zone = ZoneInfo(studio.timezone)
    first = timezone.now().astimezone(zone).date().replace(day=1)
    following = (
        first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)
    )
    return datetime.combine(first, time.min, tzinfo=zone), datetime.combine(following, time.min, tzinfo=zone)


def studio_counts(studios: list[Studio]) -> dict[int, dict[str, int]]:
    """Per studio: active trainers, active clients and bookings (not cancelled) starting this calendar month in
    the studio's zone.

    Each studio's rows live in its own schema, so there is no join across studios: this is one statement of
    three counts per studio (schema-qualified tables, UNION ALL), one round trip for a page. Its cost grows
    with the studios on the page (at most STUDIOS_PER_PAGE) and their bookings (each studio's table is scanned for
    this month's), never with the number of studios on the platform.
    """
    if not studios:
        return {}
    trainers, clients, bookings = (
        connection.ops.quote_name(model._meta.db_table) for model in (Trainer, Client, Booking)
    )
    parts, params = [], []
    for studio in studios:
        schema = quote_schema_name(studio.schema_name)
        start, end = _month_bounds(studio)
        # Only quoted identifiers (the schema names are the studios' own rows, the tables the models') are
        # written into the statement; every value is a parameter.
        parts.append(
            f"SELECT %s, (SELECT count(*) FROM {schema}.{trainers} WHERE is_active),"  # noqa: S608
            f" (SELECT count(*) FROM {schema}.{clients} WHERE is_active),"
            f" (SELECT count(*) FROM {schema}.{bookings} WHERE start_time >= %s AND start_time < %s AND status <> %s)"
        )
        params += [studio.pk, start, end, BookingStatus.CANCELLED]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    return {pk: {"trainers": t, "clients": c, "bookings": b} for pk, t, c, b in rows}


def studio_owner(studio: Studio) -> User | None:
    """The studio's owner: an account in the studio's own schema, not among the platform's."""
    with tenant_context(studio):
        return User.objects.filter(role=Role.OWNER).order_by("created", "pk").first()


def _studio(studio_id: int) -> Studio:
    return get_object_or_404(studio_list(), pk=studio_id)


# -- pages ------------------------------------------------------------------------------------------------


class StudioListView(PlatformAdminRequiredMixin, View):
    """GET ?q=&status=&page=: the studios, 25 a page, with their counts."""

    def get(self, request: HttpRequest) -> HttpResponse:
        search = StudioSearchForm(request.GET)
        if not search.is_valid():
            return render(request, "platform/studios/list.html", {"search": search, "page": None}, status=400)
        studios = _studios_matching(q=search.cleaned_data["q"].strip(), status=search.cleaned_data["status"])
        page = Paginator(studios, STUDIOS_PER_PAGE).get_page(request.GET.get("page"))
        counts = studio_counts(list(page.object_list))
        rows = [{"studio": studio, "counts": counts[studio.pk]} for studio in page.object_list]
        context = {"search": search, "page": page, "rows": rows, "no_subscription": NO_SUBSCRIPTION}
        return render(request, "platform/studios/list.html", context)


def _detail(request: HttpRequest, studio: Studio, *, status_form: StudioStatusForm | None = None, status: int = 200):
    # Named platform_studio: "studio" is the context processor's name for the host's own studio (none here).
    context = {
        "platform_studio": studio,
        "domains": studio.domains.all(),
        "owner": studio_owner(studio),
        "counts": studio_counts([studio])[studio.pk],
        "events": StudioEvent.objects.filter(studio=studio).select_related("actor")[:EVENTS_SHOWN],
        "status_form": status_form or StudioStatusForm(),
        "no_subscription": NO_SUBSCRIPTION,
    }
    return render(request, "platform/studios/detail.html", context, status=status)


class StudioDetailView(PlatformAdminRequiredMixin, View):
    def get(self, request: HttpRequest, studio_id: int) -> HttpResponse:
        return _detail(request, _studio(studio_id))


class StudioOnboardView(PlatformAdminRequiredMixin, View):
    """The same provisioning as POST /api/platform/studios/: schema, primary domain, the owner's invitation."""

    template_name = "platform/studios/onboard.html"

    def _render(self, request: HttpRequest, form: StudioOnboardForm, status: int = 200) -> HttpResponse:
        context = {"form": form, "platform_domain": settings.PLATFORM_DOMAIN}
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, StudioOnboardForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = StudioOnboardForm(request.POST)
        if form.is_valid():
            try:
                studio = services.studio_create(**form.cleaned_data, actor=request.user)
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                owner_email = form.cleaned_data["owner_email"]
                messages.success(
                    request, f"{studio.name} is ready. Its owner was mailed an invitation to {owner_email}."
                )
                return redirect("platform:studio", studio_id=studio.pk)
        return self._render(request, form, status=400)


class StudioStatusView(PlatformAdminRequiredMixin, View):
    """POST reason=: suspend or reactivate, through the API's services (which log who and why)."""

    change = None  # staticmethod(services.studio_suspend or services.studio_activate)
    done = ""

    def post(self, request: HttpRequest, studio_id: int) -> HttpResponse:
        studio = _studio(studio_id)
        form = StudioStatusForm(request.POST)
        if form.is_valid():
            try:
                studio = self.change(studio=studio, actor=request.user, reason=form.cleaned_data["reason"])
            except ApplicationError as error:
                add_application_error(form, error)
            else:
                messages.success(request, f"{studio.name} {self.done}.")
                return redirect("platform:studio", studio_id=studio.pk)
        return _detail(request, studio, status_form=form, status=400)


class StudioSuspendView(StudioStatusView):
    change = staticmethod(services.studio_suspend)
    done = "is suspended: its pages and API answer 403"


class StudioReactivateView(StudioStatusView):
    change = staticmethod(services.studio_activate)
    done = "is active again"


urlpatterns = [
    path("", StudioListView.as_view(), name="studios"),
    path("studios/new/", StudioOnboardView.as_view(), name="studio_onboard"),
    path("studios/<int:studio_id>/", StudioDetailView.as_view(), name="studio"),
    path("studios/<int:studio_id>/suspend/", StudioSuspendView.as_view(), name="studio_suspend"),
    path("studios/<int:studio_id>/reactivate/", StudioReactivateView.as_view(), name="studio_reactivate"),
]
