"""The desk's client book: the list (the API's filters, query parameters and pages), a client's page (profile,
timeline, packages, bookings, messages) and erasure.

Every read goes through the API's selectors (a trainer sees the clients they train or who booked them; anyone
else's id is a 404) and every write through the same services as the API, with its permissions: the owner and
managers edit and sell, only the owner erases.
"""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views import View
from rest_framework.exceptions import NotFound as PageNotFound
from rest_framework.request import Request

from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.money import money
from shared_apps.core.pagination import PageNumberPagination
from shared_apps.core.phone_numbers import (
    PHONE_INPUT_MAX_LENGTH,
    form_phone_e164,
)
from shared_apps.core.validators import (
    PERSON_NAME_MAX_LENGTH,
    REASON_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TAGS_MAX_COUNT,
    TEXT_MAX_LENGTH,
    validate_name,
)
from tenant_apps.bookings.models import BookingEvent
from tenant_apps.bookings.selectors import client_bookings
from tenant_apps.clients import selectors, services
from tenant_apps.clients.filters import ClientFilter
from tenant_apps.clients.models import Client, FitnessLevel
from tenant_apps.desk.access import StaffRequiredMixin, forbidden
from tenant_apps.desk.today import payment_words
from tenant_apps.notifications.selectors import may_see_delivery_errors, notification_list
from tenant_apps.packages import services as package_services
from tenant_apps.packages.models import CreditTransaction, PaymentMethod
from tenant_apps.packages.selectors import client_package_list, package_list
from tenant_apps.trainers.models import Trainer

BOOKINGS_SHOWN = 20
MESSAGES_SHOWN = 20
MANAGERS_ONLY = "Only the studio's owner and managers can change a client's record or packages."


def _zone(request: HttpRequest) -> ZoneInfo:
    return ZoneInfo(request.tenant.timezone)


def _client(request: HttpRequest, client_id: int) -> Client:
    """The API's lookup: a client the caller may see; anyone else, another studio's included, is a 404."""
    return get_object_or_404(selectors.client_list(user=request.user), pk=client_id)


def _add_application_error(form: forms.Form, error: ApplicationError) -> None:
    """The service's refusal in the API's words: by the field it is about, else in the summary."""
    for name, problems in error.fields.items():
        for problem in problems if isinstance(problems, list) else [problems]:
            form.add_error(name if name in form.fields else None, str(problem))
    if not error.fields:
        form.add_error(None, error.message)


# -- the list --------------------------------------------------------------------------------------------


def _start_of_month(request: HttpRequest) -> datetime:
    today = timezone.now().astimezone(_zone(request)).date()
    return datetime.combine(today.replace(day=1), time.min, tzinfo=_zone(request))


class ClientListView(StaffRequiredMixin, View):
    """GET with the query parameters of GET /api/clients/ (search, trainer, fitness_level, is_active, tag,
    created_after/before, has_active_package, ordering, page, page_size), read by the API's FilterSet and
    paginator, so the page and the API list the same clients."""

    def get(self, request: HttpRequest) -> HttpResponse:
        clients = ClientFilter(request.GET, queryset=selectors.client_list(user=request.user))
        page, paginator, status = [], None, 200
        if clients.is_valid():
            paginator = PageNumberPagination()
            try:
                page = paginator.paginate_queryset(clients.qs, Request(request))
            except PageNotFound as error:
                raise Http404("No such page of the list.") from error
        else:
            status = 400
        new_since = _start_of_month(request).isoformat()
        context = {
            "filters": clients,
            "clients": page,
            "page": paginator.page if paginator else None,
            "trainers": Trainer.objects.order_by("display_name", "id"),
            "fitness_levels": FitnessLevel.choices,
            "new_since": new_since,
            "is_new_this_month": request.GET.get("created_after") == new_since,
            "query": request.GET,
        }
        template = "desk/clients/_results.html" if request.htmx else "desk/clients/list.html"
        response = render(request, template, context, status=status)
        patch_vary_headers(response, ["HX-Request"])
        return response


# -- a client's page ---------------------------------------------------------------------------------------


class ClientForm(forms.Form):
    """What the desk edits of a client, saved through clients.services.client_update (as PATCH /api/clients/<id>/)."""

    first_name = forms.CharField(
        label="First name",
        max_length=PERSON_NAME_MAX_LENGTH,
        validators=[validate_name],
        error_messages={"required": "Enter the client's first name."},
    )
    last_name = forms.CharField(
        label="Last name (optional)", max_length=PERSON_NAME_MAX_LENGTH, required=False, validators=[validate_name]
    )
    email = forms.EmailField(
        label="Email",
        max_length=254,
        error_messages={
            "required": "Enter the client's email address.",
            "invalid": "Enter an email address in the correct format, like name@example.com.",
        },
    )
    phone = forms.CharField(
        label="Phone (optional)",
        required=False,
        max_length=PHONE_INPUT_MAX_LENGTH,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    fitness_level = forms.ChoiceField(
        label="Fitness level", required=False, choices=[("", "Not set"), *FitnessLevel.choices]
    )
    primary_trainer = forms.ModelChoiceField(
        label="Primary trainer", required=False, queryset=Trainer.objects.all(), empty_label="None"
    )
    tags = forms.CharField(
        label="Tags (optional)",
        required=False,
        help_text="Separate tags with commas.",
        max_length=TAGS_MAX_COUNT * (TAG_MAX_LENGTH + 2),
    )
    notes = forms.CharField(
        label="Notes (optional)",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    is_active = forms.BooleanField(label="Active client", required=False)

    def clean_phone(self) -> str:
        return form_phone_e164(self.cleaned_data["phone"])

    def clean_tags(self) -> list[str]:
        tags = [tag.strip() for tag in self.cleaned_data["tags"].split(",") if tag.strip()]
        if len(tags) > TAGS_MAX_COUNT:
            raise forms.ValidationError(f"A client has at most {TAGS_MAX_COUNT} tags.")
        if any(len(tag) > TAG_MAX_LENGTH for tag in tags):
            raise forms.ValidationError(f"A tag has at most {TAG_MAX_LENGTH} characters.")
        return list(dict.fromkeys(tags))

    @classmethod
    def for_client(cls, client: Client) -> "ClientForm":
        return cls(
            initial={
                "first_name": client.first_name,
                "last_name": client.last_name,
                "email": client.email,
                "phone": client.phone.as_international if client.phone else "",
                "fitness_level": client.fitness_level,
                "primary_trainer": client.primary_trainer_id,
                "tags": ", ".join(client.tags),
                "notes": client.notes,
                "is_active": client.is_active,
            }
        )


class SellForm(forms.Form):
    """A package sold at the desk (packages.services.package_assign, as POST /api/packages/<id>/assign/)."""

    package = forms.ModelChoiceField(label="Package", queryset=None, empty_label="Choose a package")
    payment_method = forms.ChoiceField(label="Paid by", choices=PaymentMethod.choices)
    amount_paid = forms.DecimalField(label="Amount paid", max_digits=10, decimal_places=2, min_value=0)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, prefix="sell", **kwargs)
        self.fields["package"].queryset = package_list(user=user).filter(is_active=True)
        self.fields["package"].error_messages["required"] = "Choose the package sold."
        self.fields["amount_paid"].error_messages["required"] = "Enter the amount paid (0 if nothing was)."


class AdjustForm(forms.Form):
    """A correction of a package's balance with its reason (packages.services.client_package_adjust)."""

    delta = forms.IntegerField(
        label="Credits to add or remove",
        min_value=-1000,
        max_value=1000,
        help_text="A negative number removes credits, e.g. -1.",
        error_messages={"required": "Enter the number of credits to add (e.g. 2) or remove (e.g. -1)."},
    )
    reason = forms.CharField(
        label="Reason", max_length=REASON_MAX_LENGTH, error_messages={"required": "Say why the balance is corrected."}
    )

    def __init__(self, *args, client_package_id: int, **kwargs):
        super().__init__(*args, prefix=f"adjust-{client_package_id}", **kwargs)


def _timeline(entries: list[dict], zone: ZoneInfo) -> list[dict]:
    """The API's timeline entries, with their times in the studio's zone and their kinds in words."""
    labels = {"booking": dict(BookingEvent.Kind.choices), "package": dict(CreditTransaction.Kind.choices)}
    for entry in entries:
        entry["at_local"] = entry["at"].astimezone(zone)
        if entry["kind"] in labels:
            entry["label"] = labels[entry["kind"]].get(entry["event"], entry["event"])
        if entry.get("start_time"):
            entry["start_local"] = entry["start_time"].astimezone(zone)
    return entries


def client_page(
    request: HttpRequest,
    client: Client,
    *,
    form: ClientForm | None = None,
    sell_form: SellForm | None = None,
    adjust_forms: dict[int, AdjustForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The client's page; a form with mistakes is passed in bound, so its errors show where it is."""
    user = request.user
    zone = _zone(request)
    packages = list(client_package_list(client=client).order_by("-purchased_at", "-id"))
    adjust_forms = adjust_forms or {}
    for client_package in packages:
        client_package.adjust_form = adjust_forms.get(client_package.pk) or AdjustForm(
            client_package_id=client_package.pk
        )
        client_package.paid = money(client_package.amount_paid, client_package.currency)
    bookings = list(client_bookings(user=user, client=client)[: BOOKINGS_SHOWN + 1])
    for booking in bookings:
        booking.payment_words = payment_words(booking)
    # The messages to the client that the caller may see (a trainer: those about their sessions), as the API's
    # GET /api/notifications/?client=<id> lists them.
    notifications = list(
        notification_list(user=user).filter(client=client).order_by("-created", "-id")[: MESSAGES_SHOWN + 1]
    )
    context = {
        "client": client,
        "form": form or ClientForm.for_client(client),
        "sell_form": sell_form or SellForm(user=user),
        "packages": packages,
        "timeline": _timeline(selectors.client_timeline(client=client, user=user), zone),
        "bookings": bookings[:BOOKINGS_SHOWN],
        "more_bookings": len(bookings) > BOOKINGS_SHOWN,
        "notifications": notifications[:MESSAGES_SHOWN],
        "more_notifications": len(notifications) > MESSAGES_SHOWN,
        "may_see_errors": may_see_delivery_errors(user),
        "may_edit": services.may_change_clients(user) and not client.erased_at,
        "may_sell": package_services.may_manage_client_packages(user) and not client.erased_at,
        "may_erase": services.may_erase_clients(user) and not client.erased_at,
        "zone": request.tenant.timezone,
        "has_errors": status >= 400,
    }
    with timezone.override(zone):
        return render(request, "desk/clients/detail.html", context, status=status)


class ClientDetailView(StaffRequiredMixin, View):
    """GET the client's page; POST its profile form (owner and managers, as PATCH /api/clients/<id>/)."""

    def get(self, request: HttpRequest, client_id: int) -> HttpResponse:
        return client_page(request, _client(request, client_id))

    def post(self, request: HttpRequest, client_id: int) -> HttpResponse:
        client = _client(request, client_id)
        if not services.may_change_clients(request.user):
            return forbidden(request, MANAGERS_ONLY)
        form = ClientForm(request.POST)
        if form.is_valid():
            try:
                services.client_update(client=client, **form.cleaned_data)
            except ApplicationError as error:
                _add_application_error(form, error)
            else:
                messages.success(request, f"{client}'s profile is saved.")
                return redirect("desk:client", client_id=client.pk)
        # The instance may hold the rejected values: show the stored ones around the form.
        return client_page(request, _client(request, client_id), form=form, status=400)


class ClientPackageSellView(StaffRequiredMixin, View):
    def post(self, request: HttpRequest, client_id: int) -> HttpResponse:
        client = _client(request, client_id)
        if not package_services.may_manage_client_packages(request.user):
            return forbidden(request, MANAGERS_ONLY)
        form = SellForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                sold = package_services.package_assign(
                    package=form.cleaned_data["package"],
                    client=client,
                    payment_method=form.cleaned_data["payment_method"],
                    amount_paid=form.cleaned_data["amount_paid"],
                    sold_by=request.user,
                )
            except ApplicationError as error:
                _add_application_error(form, error)
            else:
                messages.success(request, f"{sold.package.name} is sold to {client}.")
                return redirect("desk:client", client_id=client.pk)
        return client_page(request, client, sell_form=form, status=400)


class ClientPackageAdjustView(StaffRequiredMixin, View):
    def post(self, request: HttpRequest, client_id: int, client_package_id: int) -> HttpResponse:
        client = _client(request, client_id)
        if not package_services.may_manage_client_packages(request.user):
            return forbidden(request, MANAGERS_ONLY)
        client_package = get_object_or_404(client_package_list(client=client), pk=client_package_id)
        form = AdjustForm(request.POST, client_package_id=client_package.pk)
        if form.is_valid():
            try:
                package_services.client_package_adjust(
                    client_package=client_package, actor=request.user, **form.cleaned_data
                )
            except ApplicationError as error:
                _add_application_error(form, error)
            else:
                messages.success(request, f"The balance of {client_package.package.name} is corrected.")
                return redirect("desk:client", client_id=client.pk)
        return client_page(request, client, adjust_forms={client_package.pk: form}, status=400)


class ClientEraseView(StaffRequiredMixin, View):
    """GET: what erasing keeps and removes, and the button; POST: clients.services.client_erase. Owner only, as
    POST /api/clients/<id>/erase/."""

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and user.is_studio_staff and not services.may_erase_clients(user):
            # Still a 404 for a client the caller can't see, as everywhere else.
            _client(request, kwargs["client_id"])
            return forbidden(request, "Only the studio's owner can erase a client's personal data.")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, client_id: int) -> HttpResponse:
        client = _client(request, client_id)
        return render(request, "desk/clients/erase.html", {"client": client})

    def post(self, request: HttpRequest, client_id: int) -> HttpResponse:
        client = _client(request, client_id)
        name = str(client)
        services.client_erase(client=client)
        messages.success(request, f"{name}'s personal data is erased. Their bookings and payments are kept.")
        return redirect("desk:client", client_id=client.pk)


urlpatterns = [
    path("clients/", ClientListView.as_view(), name="clients"),
    path("clients/<int:client_id>/", ClientDetailView.as_view(), name="client"),
    path("clients/<int:client_id>/packages/sell/", ClientPackageSellView.as_view(), name="client_package_sell"),
    path(
        "clients/<int:client_id>/packages/<int:client_package_id>/adjust/",
        ClientPackageAdjustView.as_view(),
        name="client_package_adjust",
    ),
    path("clients/<int:client_id>/erase/", ClientEraseView.as_view(), name="client_erase"),
]
