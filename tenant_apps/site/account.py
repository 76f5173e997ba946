"""My account: a signed-in client's sessions, packages (with their ledger in plain words), notifications and
profile.

The pages read through the same selectors as /api/me/... (a client sees only their own records) and write
through the accounts service (the profile) and the clients' channels service (notifications), so the page and
the API can't disagree. Staff have no sessions, packages or notification settings of their own here: they are
sent to their profile, which every account has.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View

from shared_apps.accounts import services as account_services
from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.phone_numbers import (
    PHONE_INPUT_MAX_LENGTH,
    form_phone_e164,
    studio_phone_region,
)
from shared_apps.core.validators import PERSON_NAME_MAX_LENGTH, validate_name
from tenant_apps.bookings.models import Booking
from tenant_apps.bookings.selectors import my_bookings
from tenant_apps.bookings.tokens import booking_manage_token
from tenant_apps.clients.channels import client_channels_update, phone_opted_out
from tenant_apps.clients.models import Client, ConsentSource
from tenant_apps.clients.selectors import NoClientProfile, NotAClient, client_of_user
from tenant_apps.notifications.sms import studio_sms_kinds
from tenant_apps.packages.models import ClientPackage, CreditTransaction
from tenant_apps.packages.selectors import client_packages_of_user
from tenant_apps.site.forms import NotificationsForm
from tenants.models import SMS_KIND_CHOICES

PAST_PER_PAGE = 10
STAFF_MESSAGE = (
    "Sessions and packages are kept here for the studio's clients. Your staff account has none of its own; "
    "here are your profile, password and two-factor settings."
)


# -- the ledger in plain words ----------------------------------------------------------------------------


def _day_and_time(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def _sessions(count: int) -> str:
    return f"{count} session{'' if count == 1 else 's'}"


def _refund_cause(move: CreditTransaction) -> str:
    """Why a credit came back, from the booking when it still says so (it may have moved on since: a later
    credit round), else from the reason written with the refund."""
    booking = move.booking
    if booking is not None and move.booking_round == booking.credit_round:
        if booking.status == "cancelled":
            if booking.cancelled_by == "studio":
                return "cancelled by the studio"
            if booking.is_late_cancellation:
                return "cancelled late, the studio gave it back"
            return "cancelled in time"
        if booking.status == "no_show":
            return "missed, the studio gave it back"
    return move.reason.strip().rstrip(".")


def ledger_wording(move: CreditTransaction, *, zone: ZoneInfo) -> str:
    """One ledger row as a client reads it: "Bought 5 sessions", "Used for Tue 3 Mar 10:00 with Sam",
    "Returned: cancelled in time (Tue 3 Mar 10:00 with Sam)". Times are in ``zone`` (the studio's)."""
    booking = move.booking
    session = f"{_day_and_time(booking.start_time, zone)} with {booking.trainer.display_name}" if booking else ""
    kind = move.kind
    if kind == CreditTransaction.Kind.PURCHASE:
        return f"Bought {_sessions(move.delta)}"
    if kind == CreditTransaction.Kind.BOOKING:
        return f"Used for {session}" if session else "Used for a session"
    if kind == CreditTransaction.Kind.REFUND:
        cause = _refund_cause(move)
        text = f"Returned: {cause}" if cause else "Returned"
        return f"{text} ({session})" if session else text
    if kind == CreditTransaction.Kind.EXPIRY:
        return f"Expired: {_sessions(-move.delta)} not used in time"
    verb = "added" if move.delta > 0 else "took back"
    text = f"The studio {verb} {_sessions(abs(move.delta))}"
    return f"{text}: {move.reason.strip()}" if move.reason.strip() else text


# -- pages ------------------------------------------------------------------------------------------------


def _zone(request) -> ZoneInfo:
    return ZoneInfo(request.tenant.timezone)


def _no_profile(request, section: str):
    return render(request, "site/account/no_profile.html", {"section": section}, status=200)


def _to_profile_if_staff(request):
    messages.info(request, STAFF_MESSAGE)
    return redirect("account-profile")


class SessionsView(LoginRequiredMixin, View):
    """Upcoming sessions (soonest first), each with its manage link, then past and cancelled ones (latest
    first, a page at a time)."""

    def get(self, request):
        try:
            bookings = my_bookings(user=request.user)
        except NotAClient:
            return _to_profile_if_staff(request)
        except NoClientProfile:
            return _no_profile(request, "sessions")
        now = timezone.now()
        upcoming_filter = {"end_time__gt": now, "status__in": Booking.ACTIVE_STATUSES}
        upcoming = list(bookings.filter(**upcoming_filter).order_by("start_time", "id"))
        for booking in upcoming:
            booking.manage_token = booking_manage_token(booking)
        past = Paginator(bookings.exclude(**upcoming_filter), PAST_PER_PAGE).get_page(request.GET.get("page"))
        return render(
            request,
            "site/account/sessions.html",
            {"section": "sessions", "upcoming": upcoming, "past": past, "zone": request.tenant.timezone},
        )


class PackagesView(LoginRequiredMixin, View):
    """The client's packages, expiring first: credits left, last day, whether it can pay, and the ledger."""

    def get(self, request):
        ledger = CreditTransaction.objects.select_related("booking__trainer").order_by("created", "id")
        try:
            packages = list(
                client_packages_of_user(user=request.user)
                .prefetch_related(None)
                .prefetch_related(Prefetch("transactions", ledger))
            )
        except NotAClient:
            return _to_profile_if_staff(request)
        except NoClientProfile:
            return _no_profile(request, "packages")
        zone = _zone(request)
        for client_package in packages:
            balance, rows = 0, []
            for move in client_package.transactions.all():
                balance += move.delta
                change = f"+{move.delta}" if move.delta > 0 else f"\u2212{-move.delta}"
                text = ledger_wording(move, zone=zone)
                rows.append({"move": move, "text": text, "change": change, "balance": balance})
            client_package.ledger = rows[::-1]  # newest first, each with the balance it left
            client_package.state = _package_state(client_package)
        return render(
            request,
            "site/account/packages.html",
            {"section": "packages", "packages": packages, "zone": request.tenant.timezone},
        )


def _package_state(client_package: ClientPackage) -> str:
    if client_package.is_usable:
        return "Can pay for bookings"
    if client_package.status == ClientPackage.Status.EXPIRED or client_package.sessions_remaining > 0:
        return "Expired"
    return "Used up"


# What the studio may send by text, as the client reads it ("If you agree, the studio texts you: ...").
SMS_KIND_WORDS = {
    "booking_confirmed": "the confirmation when you book",
    "booking_rescheduled": "the new time when a session is moved",
    "booking_cancelled": "word when a session is cancelled",
    "reminder_24h": "a reminder the day before a session",
    "reminder_1h": "a reminder an hour before a session",
}
# Who turned texts on, as the client reads it.
CONSENT_WORDS = {
    ConsentSource.ACCOUNT: "you turned them on here",
    ConsentSource.BOOKING: "you agreed when booking",
    ConsentSource.STAFF: "the studio turned them on at your word",
    ConsentSource.SMS_START: "you texted START",
}


def consent_wording(client: Client, *, zone: ZoneInfo) -> str:
    """The consent on record: "Texts on since 3 Dec 2026, 14:05 GMT (you turned them on here)"."""
    if not client.sms_opt_in or client.sms_consent_at is None:
        return "Texts are off."
    local = client.sms_consent_at.astimezone(zone)
    how = CONSENT_WORDS.get(client.sms_consent_source)
    since = f"Texts on since {local.day} {local:%b %Y, %H:%M} {local.tzname()}"
    return f"{since} ({how})." if how else f"{since}."


class NotificationsView(LoginRequiredMixin, View):
    """Reminders by email, texts with the client's consent (where the studio sends any) and the client's own
    time zone, saved through the clients' channels service (consent recorded as given "in the account")."""

    def _render(self, request, client: Client, form: NotificationsForm):
        studio = request.tenant
        kinds = dict(SMS_KIND_CHOICES)
        context = {
            "section": "notifications",
            "form": form,
            "client": client,
            "texts": [SMS_KIND_WORDS.get(kind, kinds.get(kind, kind)) for kind in studio_sms_kinds(studio)],
            "consent": consent_wording(client, zone=ZoneInfo(client.timezone or studio.timezone)),
            "opted_out": phone_opted_out(client.phone),
        }
        # A form with mistakes comes back as a page like any other (200), as the profile does.
        return render(request, "site/account/notifications.html", context)

    def _form(self, request, client: Client, data=None) -> NotificationsForm:
        initial = {
            "email_reminders": client.email_reminders,
            "sms_opt_in": client.sms_opt_in,
            "phone": client.phone.as_international if client.phone else "",
            "timezone": client.timezone,
        }
        texts_sent = bool(studio_sms_kinds(request.tenant))
        return NotificationsForm(
            data, initial=initial, studio=request.tenant, current_zone=client.timezone, texts_sent=texts_sent
        )

    def _client(self, request):
        """The signed-in client's own record, or the page to show instead (staff: their profile)."""
        try:
            return client_of_user(user=request.user), None
        except NotAClient:
            return None, _to_profile_if_staff(request)
        except NoClientProfile:
            return None, _no_profile(request, "notifications")

    def get(self, request):
        client, instead = self._client(request)
        if instead is not None:
            return instead
        return self._render(request, client, self._form(request, client))

    def post(self, request):
        client, instead = self._client(request)
        if instead is not None:
            return instead
        form = self._form(request, client, request.POST)
        if not form.is_valid():
            return self._render(request, client, form)
        data = form.cleaned_data
        try:
            client_channels_update(
                client=client,
                email_reminders=data["email_reminders"],
                # Not asked where the studio sends no texts: the client's choice is kept as it is.
                sms_opt_in=data.get("sms_opt_in", client.sms_opt_in),
                phone=data.get("phone", str(client.phone) if client.phone else ""),
                timezone=data["timezone"],
                source=ConsentSource.ACCOUNT,
            )
        except ApplicationError as error:
            form.add_application_error(error)
            return self._render(request, client, form)
        messages.success(request, "Your notification settings are saved.")
        return redirect("account-notifications")


class ProfileForm(forms.Form):
    """The account's name and phone, the phone read as a number of the studio's country unless it starts with
    its country code (as on sign-up)."""

    first_name = forms.CharField(
        label="First name",
        max_length=PERSON_NAME_MAX_LENGTH,
        validators=[validate_name],
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
        error_messages={"required": "Enter your first name."},
    )
    last_name = forms.CharField(
        label="Last name",
        max_length=PERSON_NAME_MAX_LENGTH,
        validators=[validate_name],
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
        error_messages={"required": "Enter your last name."},
    )
    phone = forms.CharField(
        label="Phone (optional)",
        required=False,
        max_length=PHONE_INPUT_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        region = studio_phone_region()
        if region:
            hint = f"A number without its country code (+\u2026) is read as a {region} number."
            self.fields["phone"].help_text = hint

    def clean_phone(self) -> str:
        return form_phone_e164(self.cleaned_data["phone"])


class ProfileView(LoginRequiredMixin, View):
    """Name and phone, saved through the accounts service (as PATCH /api/users/me/); links to allauth's
    password and two-factor pages."""

    def _render(self, request, form: ProfileForm):
        # A form with mistakes comes back as a page like any other (200), as allauth's pages do.
        return render(request, "site/account/profile.html", {"section": "profile", "form": form})

    def get(self, request):
        user = request.user
        phone = user.phone.as_international if user.phone else ""
        initial = {"first_name": user.first_name, "last_name": user.last_name, "phone": phone}
        return self._render(request, ProfileForm(initial=initial))

    def post(self, request):
        form = ProfileForm(request.POST)
        if not form.is_valid():
            return self._render(request, form)
        try:
            account_services.user_update(user=request.user, **form.cleaned_data)
        except ApplicationError as error:
            for field, problems in error.fields.items():
                form.add_error(field if field in form.fields else None, problems)
            if not error.fields:
                form.add_error(None, error.message)
            return self._render(request, form)
        messages.success(request, "Your profile is saved.")
        return redirect("account-profile")
