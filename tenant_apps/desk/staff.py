"""The desk's staff page, for the owner and managers: who is on the staff (role, active, two-factor
authentication, invitation still open), inviting a manager or a trainer, sending an invitation again, changing a
role, deactivating (with the choice of what becomes of a trainer's future bookings) and reactivating.

Each action is the API's: the same selector finds the person (``staff_list``: anyone else, a client or another
studio's id, is a 404) and the same service decides who may do what to whom (``staff_manage_check``: nobody
touches the owner or their own account, a manager only trainers; only the owner changes roles). A refusal is the
desk's 403 page with the service's words; a mistake in what was sent is shown on the form.
"""

from collections.abc import Callable
from zoneinfo import ZoneInfo

from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views import View

from shared_apps.accounts import services
from shared_apps.accounts.models import Role, User
from shared_apps.accounts.selectors import staff_list
from shared_apps.core.exceptions import ApplicationError, Forbidden
from shared_apps.core.validators import PERSON_NAME_MAX_LENGTH, REASON_MAX_LENGTH, validate_name
from tenant_apps.bookings import handover
from tenant_apps.desk.access import ManagersRequiredMixin, forbidden
from tenant_apps.desk.forms import ServiceErrorsForm
from tenant_apps.trainers.models import Trainer
from tenant_apps.trainers.selectors import trainer_list

MANAGERS_ONLY = "Only the studio's owner and managers manage the staff."
ROLE_CHOICES = [(Role.MANAGER.value, Role.MANAGER.label), (Role.TRAINER.value, Role.TRAINER.label)]
ROLE_ERROR = "Choose manager or trainer."


class StaffManagersMixin(ManagersRequiredMixin):
    managers_only = MANAGERS_ONLY


def _person(user_id: int) -> User:
    """The API's lookup: one of the studio's staff; anyone else (a client, another studio's id) is a 404."""
    return get_object_or_404(staff_list(), pk=user_id)


def _allowed(check: Callable[[], None]) -> bool:
    """Whether the service's check lets the action through: the page offers only what the service would do."""
    try:
        check()
    except ApplicationError:
        return False
    return True


def _name(user: User) -> str:
    return user.get_full_name() or user.email


# -- forms ----------------------------------------------------------------------------------------------------


class ChoiceRadios(forms.RadioSelect):
    """Radios whose group the error summary links to by its first choice (a group has no one label)."""

    def id_for_label(self, id_, index=None):
        return super().id_for_label(id_, "0" if index is None else index)


class InviteForm(ServiceErrorsForm):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        error_messages={
            "required": "Enter their email address.",
            "invalid": "Enter an email address in the correct format, like name@example.com.",
        },
    )
    first_name = forms.CharField(
        label="First name",
        max_length=PERSON_NAME_MAX_LENGTH,
        validators=[validate_name],
        error_messages={"required": "Enter their first name."},
    )
    last_name = forms.CharField(
        label="Last name",
        max_length=PERSON_NAME_MAX_LENGTH,
        validators=[validate_name],
        error_messages={"required": "Enter their last name."},
    )
    role = forms.ChoiceField(
        label="Role",
        choices=ROLE_CHOICES,
        initial=Role.TRAINER,
        help_text="A trainer gets a bookable profile at once; a manager runs the desk with you.",
        error_messages={"required": ROLE_ERROR, "invalid_choice": ROLE_ERROR},
    )


class RoleForm(ServiceErrorsForm):
    role = forms.ChoiceField(
        label="Role", choices=ROLE_CHOICES, error_messages={"required": ROLE_ERROR, "invalid_choice": ROLE_ERROR}
    )

    def __init__(self, *args, person: User, **kwargs):
        # One form per row of the list: each with its own ids.
        super().__init__(*args, auto_id=f"role-{person.pk}-%s", **kwargs)


class ActionForm(ServiceErrorsForm):
    """Send again, reactivate: the button is all there is; a refusal lands in the summary."""


class DeactivateForm(ServiceErrorsForm):
    future_bookings = forms.ChoiceField(
        label="Their future bookings",
        required=False,
        choices=[
            (handover.FutureBookings.MOVE.value, "Move them to another trainer, at the same times"),
            (handover.FutureBookings.CANCEL.value, "Cancel them: clients get their credit back and are told"),
            (handover.FutureBookings.KEEP.value, "Keep them with this trainer, to sort out later"),
        ],
        widget=ChoiceRadios,
        error_messages={"invalid_choice": "Choose move, cancel or keep."},
    )
    to_trainer = forms.ModelChoiceField(
        label="Trainer who takes them over",
        queryset=Trainer.objects.none(),
        required=False,
        empty_label="Choose a trainer",
        error_messages={"invalid_choice": "Choose one of the trainers listed."},
    )
    reason = forms.CharField(
        label="Reason told to clients (optional, when cancelling)",
        max_length=REASON_MAX_LENGTH,
        required=False,
        help_text=f"Without one, clients read: “{handover.STUDIO_CANCELLATION_REASON}”",
    )

    def __init__(self, *args, trainers, has_bookings: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_trainer"].queryset = trainers
        self.fields["to_trainer"].label_from_instance = lambda trainer: trainer.display_name
        self.has_bookings = has_bookings

    def clean(self):
        data = super().clean()
        if self.has_bookings and not data.get("future_bookings") and "future_bookings" not in self.errors:
            self.add_error("future_bookings", "Choose what happens to their future bookings.")
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        arguments = {"future_bookings": data["future_bookings"] or None, "reason": data["reason"]}
        if data["future_bookings"] == handover.FutureBookings.MOVE:
            # The service says when the trainer is missing, in the API's words. A trainer left picked in the list
            # while another choice was made is not sent: the choice is what counts.
            arguments["to_trainer"] = data["to_trainer"]
        return arguments


# -- the list -------------------------------------------------------------------------------------------------


def _mfa_user_ids(people: list[User]) -> set[int]:
    """Who has an authenticator app (mfa.mfa_enabled's rule), in one query for the whole list."""
    return set(
        Authenticator.objects.filter(
            user_id__in=[person.pk for person in people], type=Authenticator.Type.TOTP
        ).values_list("user_id", flat=True)
    )


def _rows(request: HttpRequest, problem: tuple[int, forms.Form] | None) -> list[dict]:
    actor = request.user
    people = list(staff_list())
    with_mfa = _mfa_user_ids(people)
    rows = []
    for person in people:
        may_manage = _allowed(lambda person=person: services.staff_manage_check(actor=actor, user=person, action="-"))
        form = problem[1] if problem and problem[0] == person.pk else None
        role_form = form if isinstance(form, RoleForm) else RoleForm(person=person, initial={"role": person.role})
        rows.append(
            {
                "person": person,
                "is_self": person.pk == actor.pk,
                "mfa": person.pk in with_mfa,
                "pending": services.staff_invitation_pending(person),
                "trainer": getattr(person, "trainer", None),
                # staff_role_change's rule: the owner, on an account staff_manage_check lets them manage.
                "may_change_role": actor.role == Role.OWNER and may_manage,
                "may_deactivate": may_manage and person.is_active,
                "may_reactivate": may_manage and not person.is_active,
                "may_resend": _allowed(lambda person=person: services.staff_invitation_check(actor=actor, user=person)),
                "role_form": role_form,
            }
        )
    return rows


def staff_page(
    request: HttpRequest, *, problem: tuple[int, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    """The list; ``problem`` is a row's action that was refused (its person's id and its bound form)."""
    zone = ZoneInfo(request.tenant.timezone)
    rows = _rows(request, problem)
    context = {
        "rows": rows,
        "zone": request.tenant.timezone,
        "mfa_required": request.tenant.staff_mfa_required,
        "problem_form": problem[1] if problem else None,
        "problem_person": next((row["person"] for row in rows if problem and row["person"].pk == problem[0]), None),
    }
    with timezone.override(zone):
        return render(request, "desk/staff/list.html", context, status=status)


class StaffListView(StaffManagersMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return staff_page(request)


# -- invite ---------------------------------------------------------------------------------------------------


class StaffInviteView(StaffManagersMixin, View):
    """As POST /api/staff/: the account is made without a password and its holder mailed a link to choose one."""

    template_name = "desk/staff/invite.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": InviteForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                user = services.staff_invite(**form.cleaned_data, invited_by=request.user)
            except ApplicationError as error:
                form.add_application_error(error)
            else:
                messages.success(
                    request,
                    f"{_name(user)} is invited as {user.get_role_display().lower()}: "
                    f"a mail with a link to choose a password is on its way to {user.email}.",
                )
                return redirect("desk:staff")
        return render(request, self.template_name, {"form": form}, status=400)


# -- one person's actions -------------------------------------------------------------------------------------


class StaffResendView(StaffManagersMixin, View):
    def post(self, request: HttpRequest, user_id: int) -> HttpResponse:
        person = _person(user_id)
        form = ActionForm(request.POST)
        try:
            services.staff_invitation_resend(user=person, actor=request.user)
        except Forbidden as refusal:
            return forbidden(request, refusal.message)
        except ApplicationError as error:
            form.is_valid()
            form.add_application_error(error)
            return staff_page(request, problem=(person.pk, form), status=400)
        messages.success(request, f"The invitation was sent again to {person.email}.")
        return redirect("desk:staff")


class StaffRoleView(StaffManagersMixin, View):
    """As PATCH /api/staff/{id}/: the owner makes a manager a trainer or a trainer a manager."""

    def post(self, request: HttpRequest, user_id: int) -> HttpResponse:
        person = _person(user_id)
        form = RoleForm(request.POST, person=person)
        if form.is_valid():
            try:
                changed = services.staff_role_change(user=person, actor=request.user, role=form.cleaned_data["role"])
            except Forbidden as refusal:
                return forbidden(request, refusal.message)
            except ApplicationError as error:
                form.add_application_error(error)
            else:
                messages.success(request, f"{_name(changed)} is now {changed.get_role_display().lower()}.")
                return redirect("desk:staff")
        return staff_page(request, problem=(person.pk, form), status=400)


class StaffReactivateView(StaffManagersMixin, View):
    """As POST /api/staff/{id}/reactivate/."""

    def post(self, request: HttpRequest, user_id: int) -> HttpResponse:
        person = _person(user_id)
        try:
            person = services.staff_reactivate(user=person, actor=request.user)
        except Forbidden as refusal:
            return forbidden(request, refusal.message)
        except ApplicationError as error:
            form = ActionForm(request.POST)
            form.is_valid()
            form.add_application_error(error)
            return staff_page(request, problem=(person.pk, form), status=400)
        messages.success(request, f"{_name(person)} can sign in again.")
        return redirect("desk:staff")


class StaffDeactivateView(StaffManagersMixin, View):
    """GET: what deactivating would leave behind (a trainer's future bookings) and the choice of what becomes of
    them; POST: tenant_apps.bookings.handover.staff_deactivate_with_bookings, in one transaction, as
    POST /api/staff/{id}/deactivate/."""

    template_name = "desk/staff/deactivate.html"

    def _form(self, request, person: User, bookings: list, data=None) -> DeactivateForm:
        trainers = trainer_list(user=request.user).filter(is_active=True).exclude(user=person).prefetch_related(None)
        return DeactivateForm(data, trainers=trainers.order_by("display_name", "id"), has_bookings=bool(bookings))

    def _page(self, request, person: User, bookings: list, form: DeactivateForm, *, not_moved=(), status=200):
        zone = ZoneInfo(bookings[0].trainer.timezone if bookings else request.tenant.timezone)
        reasons = {row["booking"]: row.get("detail", "") for row in not_moved}
        context = {
            "person": person,
            "form": form,
            "zone": zone.key,
            "bookings": [
                (booking, booking.start_time.astimezone(zone), reasons.get(booking.pk)) for booking in bookings
            ],
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, user_id: int) -> HttpResponse:
        person = _person(user_id)
        try:
            bookings = handover.staff_deactivation_preview(user=person, actor=request.user)
        except Forbidden as refusal:
            return forbidden(request, refusal.message)
        return self._page(request, person, bookings, self._form(request, person, bookings))

    def post(self, request: HttpRequest, user_id: int) -> HttpResponse:
        person = _person(user_id)
        try:
            bookings = handover.staff_deactivation_preview(user=person, actor=request.user)
        except Forbidden as refusal:
            return forbidden(request, refusal.message)
        form = self._form(request, person, bookings, request.POST)
        not_moved = []
        if form.is_valid():
            try:
                result = handover.staff_deactivate_with_bookings(
                    user=person, actor=request.user, **form.service_arguments()
                )
            except Forbidden as refusal:
                return forbidden(request, refusal.message)
            except handover.FutureBookingsChoiceRequired:
                # Booked meanwhile: the list below is the fresh one, and the question is asked again.
                bookings = handover.staff_deactivation_preview(user=person, actor=request.user)
                form = self._form(request, person, bookings, request.POST)
                form.is_valid()
            except handover.BookingsNotMoved as error:
                not_moved = error.extra.get("bookings", [])
                form.add_application_error(error)
            except ApplicationError as error:
                form.add_application_error(error)
            else:
                messages.success(request, _deactivated_message(result, to_trainer=form.cleaned_data["to_trainer"]))
                return redirect("desk:staff")
        return self._page(request, person, bookings, form, not_moved=not_moved, status=400)


def _deactivated_message(result: handover.Handover, *, to_trainer: Trainer | None) -> str:
    message = f"{_name(result.user)} is deactivated: they can no longer sign in."
    count = len(result.bookings)
    if not count:
        return message
    sessions = f"{count} future booking{'' if count == 1 else 's'}"
    if result.future_bookings == handover.FutureBookings.MOVE:
        return f"{message} {sessions} moved to {to_trainer.display_name}; the clients are told."
    if result.future_bookings == handover.FutureBookings.CANCEL:
        return f"{message} {sessions} cancelled; the clients are told and get their credits back."
    return f"{message} {sessions} stay with them: move or cancel them from the calendar."


urlpatterns = [
    path("staff/", StaffListView.as_view(), name="staff"),
    path("staff/invite/", StaffInviteView.as_view(), name="staff_invite"),
    path("staff/<int:user_id>/resend/", StaffResendView.as_view(), name="staff_resend"),
    path("staff/<int:user_id>/role/", StaffRoleView.as_view(), name="staff_role"),
    path("staff/<int:user_id>/deactivate/", StaffDeactivateView.as_view(), name="staff_deactivate"),
    path("staff/<int:user_id>/reactivate/", StaffReactivateView.as_view(), name="staff_reactivate"),
]
