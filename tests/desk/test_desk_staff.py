"""The desk's staff page (owner and managers): the list (role, active, two-factor, invitation pending), inviting,
sending an invitation again, changing a role, deactivating (a trainer's future bookings moved, cancelled or kept:
never left without a choice) and reactivating; with the API's rules of who may do what to whom."""

from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client as Browser
from django_tenants.utils import tenant_context

from shared_apps.accounts import services
from shared_apps.accounts.models import Role, User
from shared_apps.core.exceptions import Forbidden, ValidationFailed
from tenant_apps.bookings import services as booking_services
from tenant_apps.bookings.models import Booking, BookingStatus
from tenant_apps.trainers.models import Trainer
from tests.conftest import make_user, next_monday, totp_enable
from tests.factories import SessionPackageFactory, TrainerFactory, UserFactory, WindowFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
STAFF = "/desk/staff/"
INVITE = "/desk/staff/invite/"
KIM = {"email": "Kim.Lee@alpha.test", "first_name": "Kim", "last_name": "Lee", "role": "trainer"}


def _browser(studio, user=None) -> Browser:
    browser = Browser(HTTP_HOST=f"{studio.slug}.localhost")
    if user is not None:
        with tenant_context(studio):
            browser.force_login(user)
    return browser


def _user(studio, **lookup) -> User:
    with tenant_context(studio):
        return User.objects.get(**lookup)


def _invite(browser, capture, **changes):
    with capture(execute=True):
        return browser.post(INVITE, {**KIM, **changes})


@pytest.fixture
def colleague_a(studio_a, schedule_a):
    """Colin, a second trainer of studio A, free 09:00-12:00 every day, offering the same session type."""
    _, session_type = schedule_a
    with tenant_context(studio_a):
        colin = TrainerFactory(user=UserFactory(role=Role.TRAINER, email="colin@alpha.test"), display_name="Colin")
        for day in range(7):
            WindowFactory(trainer=colin, day_of_week=day, start_time="09:00", end_time="12:00")
        session_type.trainers.add(colin)
    return colin


@pytest.fixture
def future_bookings(studio_a, schedule_a, booking_client_a):
    """Two future bookings of Tess (trainer_a) next Monday at 09:00 and 10:00, each paid by a package's credit."""
    from tenant_apps.packages import services as package_services

    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        pack = package_services.package_assign(
            package=SessionPackageFactory(sessions_count=5),
            client=booking_client_a,
            payment_method="cash",
            amount_paid=Decimal("100"),
        )
        bookings = [
            booking_services.booking_create(
                trainer=trainer,
                client=booking_client_a,
                session_type=session_type,
                start_time=datetime.combine(next_monday(), time.fromisoformat(clock), tzinfo=LONDON),
                client_package=pack,
            )
            for clock in ("09:00", "10:00")
        ]
    mail.outbox.clear()
    return bookings, pack


def _bookings(studio, bookings) -> list[tuple[int, str]]:
    with tenant_context(studio):
        return list(
            Booking.objects.filter(pk__in=[b.pk for b in bookings]).order_by("pk").values_list("trainer", "status")
        )


def _active(studio, user) -> tuple[bool, bool | None]:
    """The account's and (if any) its trainer profile's is_active."""
    with tenant_context(studio):
        profile = Trainer.objects.filter(user=user).first()
        return User.objects.get(pk=user.pk).is_active, profile.is_active if profile else None


# -- the list ---------------------------------------------------------------------------------------------------


def test_the_list_shows_the_staff_with_role_state_and_two_factor(studio_a, owner_a, manager_a, trainer_a, client_a):
    with tenant_context(studio_a):
        totp_enable(manager_a)
        quiet = UserFactory(role=Role.TRAINER, email="quiet@alpha.test", first_name="Quinn", last_name="Quiet")
        quiet.is_active = False
        quiet.save()
    response = _browser(studio_a, owner_a).get(STAFF)
    html = response.content.decode()

    assert response.status_code == 200
    assert "<h1>Staff</h1>" in html
    for person in (owner_a, manager_a, trainer_a, quiet):
        assert person.email in html
    assert client_a.email not in html
    manager_row = html.split(f'id="staff-{manager_a.pk}"')[1].split("</tr>")[0]
    trainer_row = html.split(f'id="staff-{trainer_a.pk}"')[1].split("</tr>")[0]
    quiet_row = html.split(f'id="staff-{quiet.pk}"')[1].split("</tr>")[0]
    assert "<td>On</td>" in manager_row and "<td>Off</td>" in trainer_row
    assert "Deactivated" in quiet_row and "Reactivate" in quiet_row
    assert "Deactivate" in trainer_row and "Change role" in trainer_row
    assert "Europe/London" in html


def test_a_manager_is_offered_only_what_a_manager_may_do(studio_a, owner_a, manager_a, trainer_a):
    with tenant_context(studio_a):
        other_manager = UserFactory(role=Role.MANAGER, email="mona@alpha.test")
    html = _browser(studio_a, manager_a).get(STAFF).content.decode()

    owner_row = html.split(f'id="staff-{owner_a.pk}"')[1].split("</tr>")[0]
    manager_row = html.split(f'id="staff-{other_manager.pk}"')[1].split("</tr>")[0]
    trainer_row = html.split(f'id="staff-{trainer_a.pk}"')[1].split("</tr>")[0]
    assert "Change role" not in html  # the owner's alone
    assert "Deactivate" not in owner_row and "Deactivate" not in manager_row
    assert f"/desk/staff/{trainer_a.pk}/deactivate/" in trainer_row


# -- invite -----------------------------------------------------------------------------------------------------


def test_the_owner_invites_a_trainer_who_gets_the_mail_and_a_profile(
    studio_a, owner_a, django_capture_on_commit_callbacks
):
    browser = _browser(studio_a, owner_a)
    assert browser.get(INVITE).status_code == 200

    response = _invite(browser, django_capture_on_commit_callbacks)

    assert response.status_code == 302 and response["Location"] == STAFF
    user = _user(studio_a, email="kim.lee@alpha.test")
    assert user.role == Role.TRAINER and not user.has_usable_password()
    with tenant_context(studio_a):
        assert Trainer.objects.get(user=user).display_name == "Kim Lee"
    assert [message.to for message in mail.outbox] == [["kim.lee@alpha.test"]]
    assert "http://alpha.localhost/accounts/password/reset/key/" in mail.outbox[0].body
    page = browser.get(STAFF).content.decode()
    assert "Kim Lee is invited as trainer" in page
    assert "Invitation pending" in page.split(f'id="staff-{user.pk}"')[1].split("</tr>")[0]


def test_a_manager_invites_a_manager_who_gets_no_profile(studio_a, manager_a, django_capture_on_commit_callbacks):
    response = _invite(_browser(studio_a, manager_a), django_capture_on_commit_callbacks, role="manager")

    assert response.status_code == 302
    user = _user(studio_a, email="kim.lee@alpha.test")
    assert user.role == Role.MANAGER
    with tenant_context(studio_a):
        assert not Trainer.objects.filter(user=user).exists()
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"email": "not-an-address"}, "email", "Enter an email address in the correct format"),
        ({"email": "TRAINER@alpha.test"}, "email", "An account with this email already exists."),
        ({"role": "owner"}, "role", "Choose manager or trainer."),
        ({"role": "client"}, "role", "Choose manager or trainer."),
        ({"first_name": ""}, "first_name", "Enter their first name."),
    ],
)
def test_a_bad_invitation_is_an_error_on_the_form_and_writes_nothing(
    studio_a, owner_a, trainer_a, changes, field, words, django_capture_on_commit_callbacks
):
    with tenant_context(studio_a):
        before = User.objects.count()

    response = _invite(_browser(studio_a, owner_a), django_capture_on_commit_callbacks, **changes)

    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html and words in html
    assert f'href="#id_{field}"' in html  # the summary leads to the field
    with tenant_context(studio_a):
        assert User.objects.count() == before
        assert not User.objects.filter(email__iexact="kim.lee@alpha.test").exists()
    assert mail.outbox == []


# -- sending the invitation again -------------------------------------------------------------------------------


def test_the_invitation_is_sent_again_with_a_fresh_link(studio_a, owner_a, django_capture_on_commit_callbacks):
    browser = _browser(studio_a, owner_a)
    _invite(browser, django_capture_on_commit_callbacks)
    user = _user(studio_a, email="kim.lee@alpha.test")
    assert f"/desk/staff/{user.pk}/resend/" in browser.get(STAFF).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(f"/desk/staff/{user.pk}/resend/")

    assert response.status_code == 302 and response["Location"] == STAFF
    assert [message.to for message in mail.outbox] == [["kim.lee@alpha.test"]] * 2
    assert "http://alpha.localhost/accounts/password/reset/key/" in mail.outbox[1].body
    assert "has added you" in mail.outbox[1].body
    assert "The invitation was sent again to kim.lee@alpha.test." in browser.get(STAFF).content.decode()


def test_the_invitation_goes_again_at_most_once_in_five_minutes(
    studio_a, owner_a, manager_a, django_capture_on_commit_callbacks
):
    browser = _browser(studio_a, owner_a)
    _invite(browser, django_capture_on_commit_callbacks)
    user = _user(studio_a, email="kim.lee@alpha.test")
    with django_capture_on_commit_callbacks(execute=True):
        browser.post(f"/desk/staff/{user.pk}/resend/")

    with django_capture_on_commit_callbacks(execute=True):
        again = _browser(studio_a, manager_a).post(f"/desk/staff/{user.pk}/resend/")

    assert again.status_code == 400
    assert services.InvitationSentRecently.message in again.content.decode()
    assert len(mail.outbox) == 2  # the invitation and the one resend
    cache.clear()  # five minutes later
    with django_capture_on_commit_callbacks(execute=True):
        assert browser.post(f"/desk/staff/{user.pk}/resend/").status_code == 302
    assert len(mail.outbox) == 3


def test_no_invitation_is_sent_to_someone_who_has_chosen_a_password(
    studio_a, owner_a, trainer_a, django_capture_on_commit_callbacks
):
    browser = _browser(studio_a, owner_a)
    assert f"/desk/staff/{trainer_a.pk}/resend/" not in browser.get(STAFF).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(f"/desk/staff/{trainer_a.pk}/resend/")

    assert response.status_code == 400
    assert services.InvitationNotPending.message in response.content.decode()
    assert mail.outbox == []


def test_the_resend_service_follows_the_invitation_rules(studio_a, owner_a, manager_a, trainer_a):
    with tenant_context(studio_a):
        invited = services.staff_invite(email="new@alpha.test", first_name="New", last_name="One", role="trainer")
        with pytest.raises(Forbidden):
            services.staff_invitation_resend(user=invited, actor=trainer_a)
        with pytest.raises(Forbidden):
            services.staff_invitation_resend(user=owner_a, actor=manager_a)
        assert services.staff_invitation_resend(user=invited, actor=manager_a) == invited
        invited.is_active = False
        invited.save()
        with pytest.raises(ValidationFailed):
            services.staff_invitation_resend(user=invited, actor=owner_a)


# -- role -------------------------------------------------------------------------------------------------------


def test_the_owner_makes_a_trainer_a_manager_and_back(studio_a, owner_a, trainer_a):
    browser = _browser(studio_a, owner_a)

    response = browser.post(f"/desk/staff/{trainer_a.pk}/role/", {"role": "manager"})

    assert response.status_code == 302 and response["Location"] == STAFF
    assert _user(studio_a, pk=trainer_a.pk).role == Role.MANAGER
    assert "is now manager" in browser.get(STAFF).content.decode()
    assert browser.post(f"/desk/staff/{trainer_a.pk}/role/", {"role": "trainer"}).status_code == 302
    assert _user(studio_a, pk=trainer_a.pk).role == Role.TRAINER
    with tenant_context(studio_a):
        assert Trainer.objects.filter(user=trainer_a, is_active=True).exists()


@pytest.mark.parametrize("role", ["owner", "client", ""])
def test_a_role_other_than_manager_or_trainer_is_an_error_and_changes_nothing(studio_a, owner_a, trainer_a, role):
    response = _browser(studio_a, owner_a).post(f"/desk/staff/{trainer_a.pk}/role/", {"role": role})

    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html and "Choose manager or trainer." in html
    assert f'href="#role-{trainer_a.pk}-role"' in html
    assert _user(studio_a, pk=trainer_a.pk).role == Role.TRAINER


def test_a_manager_changes_no_roles_and_never_the_owners(studio_a, owner_a, manager_a, trainer_a):
    browser = _browser(studio_a, manager_a)

    on_trainer = browser.post(f"/desk/staff/{trainer_a.pk}/role/", {"role": "manager"})
    on_owner = browser.post(f"/desk/staff/{owner_a.pk}/role/", {"role": "trainer"})
    make_owner = browser.post(f"/desk/staff/{trainer_a.pk}/role/", {"role": "owner"})

    assert (
        on_trainer.status_code == 403
        and "Only the studio&#x27;s owner can change a role." in on_trainer.content.decode()
    )
    assert on_owner.status_code == 403
    assert make_owner.status_code == 400
    assert _user(studio_a, pk=trainer_a.pk).role == Role.TRAINER
    assert _user(studio_a, pk=owner_a.pk).role == Role.OWNER


def test_the_owner_cannot_change_their_own_role(studio_a, owner_a):
    response = _browser(studio_a, owner_a).post(f"/desk/staff/{owner_a.pk}/role/", {"role": "manager"})

    assert response.status_code == 403
    assert _user(studio_a, pk=owner_a.pk).role == Role.OWNER


# -- deactivate and reactivate ----------------------------------------------------------------------------------


def test_the_deactivation_page_lists_the_future_bookings_and_asks_what_to_do(
    studio_a, owner_a, trainer_a, future_bookings, colleague_a
):
    response = _browser(studio_a, owner_a).get(f"/desk/staff/{trainer_a.pk}/deactivate/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "2 future bookings" in html and "When (Europe/London)" in html
    assert next_monday().strftime("%a %-d %b %Y") + " 09:00" in html
    assert 'value="move"' in html and 'value="cancel"' in html
    assert f'<option value="{colleague_a.pk}">Colin</option>' in html


def test_deactivating_a_trainer_moves_their_bookings_to_a_colleague(
    studio_a, owner_a, trainer_a, future_bookings, colleague_a, django_capture_on_commit_callbacks
):
    bookings, _ = future_bookings
    browser = _browser(studio_a, owner_a)

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            f"/desk/staff/{trainer_a.pk}/deactivate/", {"future_bookings": "move", "to_trainer": colleague_a.pk}
        )

    assert response.status_code == 302 and response["Location"] == STAFF
    assert _bookings(studio_a, bookings) == [(colleague_a.pk, BookingStatus.CONFIRMED)] * 2
    assert _active(studio_a, trainer_a) == (False, False)
    assert "2 future bookings moved to Colin" in browser.get(STAFF).content.decode()


def test_deactivating_a_trainer_cancels_their_bookings_with_the_credits_back(
    studio_a, owner_a, trainer_a, future_bookings, django_capture_on_commit_callbacks
):
    bookings, pack = future_bookings

    with django_capture_on_commit_callbacks(execute=True):
        response = _browser(studio_a, owner_a).post(
            f"/desk/staff/{trainer_a.pk}/deactivate/", {"future_bookings": "cancel", "reason": "Tess has left us."}
        )

    assert response.status_code == 302
    assert [status for _, status in _bookings(studio_a, bookings)] == [BookingStatus.CANCELLED] * 2
    assert _active(studio_a, trainer_a) == (False, False)
    with tenant_context(studio_a):
        pack.refresh_from_db()
        assert pack.sessions_remaining == 5
        assert Booking.objects.get(pk=bookings[0].pk).cancellation_reason == "Tess has left us."


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({}, "Choose what happens to their future bookings."),
        ({"future_bookings": "move"}, "Name the trainer who takes the bookings over."),
        ({"future_bookings": "move", "to_trainer": "999999"}, "Choose one of the trainers listed."),
        ({"future_bookings": "drop"}, "Choose move, cancel or keep."),
    ],
)
def test_a_trainer_with_future_bookings_is_not_deactivated_without_a_valid_choice(
    studio_a, owner_a, trainer_a, schedule_a, future_bookings, colleague_a, data, words
):
    bookings, _ = future_bookings
    trainer, _ = schedule_a

    response = _browser(studio_a, owner_a).post(f"/desk/staff/{trainer_a.pk}/deactivate/", data)

    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html and words in html
    assert _active(studio_a, trainer_a) == (True, True)
    assert _bookings(studio_a, bookings) == [(trainer.pk, BookingStatus.CONFIRMED)] * 2


def test_bookings_that_cannot_move_leave_everything_as_it_was(
    studio_a, owner_a, trainer_a, schedule_a, future_bookings
):
    bookings, _ = future_bookings
    trainer, _ = schedule_a
    with tenant_context(studio_a):  # a colleague who doesn't offer the session type
        other = TrainerFactory(user=UserFactory(role=Role.TRAINER, email="olga@alpha.test"), display_name="Olga")

    response = _browser(studio_a, owner_a).post(
        f"/desk/staff/{trainer_a.pk}/deactivate/", {"future_bookings": "move", "to_trainer": other.pk}
    )

    assert response.status_code == 400
    assert "Some bookings can&#x27;t move to that trainer; nothing was changed." in response.content.decode()
    assert _active(studio_a, trainer_a) == (True, True)
    assert _bookings(studio_a, bookings) == [(trainer.pk, BookingStatus.CONFIRMED)] * 2


def test_deactivate_and_reactivate_a_manager(studio_a, owner_a, manager_a):
    browser = _browser(studio_a, owner_a)
    assert "future booking" not in browser.get(f"/desk/staff/{manager_a.pk}/deactivate/").content.decode()

    deactivated = browser.post(f"/desk/staff/{manager_a.pk}/deactivate/")
    assert deactivated.status_code == 302
    assert _active(studio_a, manager_a) == (False, None)

    reactivated = browser.post(f"/desk/staff/{manager_a.pk}/reactivate/")
    assert reactivated.status_code == 302 and reactivated["Location"] == STAFF
    assert _active(studio_a, manager_a) == (True, None)
    assert "can sign in again" in browser.get(STAFF).content.decode()


def test_a_reactivated_trainer_is_bookable_again(studio_a, manager_a, trainer_a, schedule_a):
    browser = _browser(studio_a, manager_a)
    assert browser.post(f"/desk/staff/{trainer_a.pk}/deactivate/").status_code == 302
    assert _active(studio_a, trainer_a) == (False, False)

    assert browser.post(f"/desk/staff/{trainer_a.pk}/reactivate/").status_code == 302

    assert _active(studio_a, trainer_a) == (True, True)


@pytest.mark.parametrize("target", ["owner_a", "manager_b", "self"])
def test_a_manager_deactivates_only_trainers(request, studio_a, owner_a, manager_a, target):
    person = {
        "owner_a": owner_a,
        "self": manager_a,
        "manager_b": make_user(studio_a, role=Role.MANAGER, email="mona@alpha.test"),
    }[target]
    browser = _browser(studio_a, manager_a)

    assert browser.get(f"/desk/staff/{person.pk}/deactivate/").status_code == 403
    assert browser.post(f"/desk/staff/{person.pk}/deactivate/").status_code == 403
    assert _active(studio_a, person)[0] is True


def test_a_manager_reactivates_no_manager(studio_a, owner_a, manager_a):
    with tenant_context(studio_a):
        gone = UserFactory(role=Role.MANAGER, email="gone@alpha.test", is_active=False)

    response = _browser(studio_a, manager_a).post(f"/desk/staff/{gone.pk}/reactivate/")

    assert response.status_code == 403
    assert _active(studio_a, gone)[0] is False


def test_the_owner_cannot_deactivate_themselves(studio_a, owner_a):
    response = _browser(studio_a, owner_a).post(f"/desk/staff/{owner_a.pk}/deactivate/")

    assert response.status_code == 403
    assert "You can&#x27;t deactivate your own account." in response.content.decode()
    assert _active(studio_a, owner_a)[0] is True


# -- who may open it --------------------------------------------------------------------------------------------


def _every_request(person_id: int) -> list[tuple[str, str, dict]]:
    return [
        ("get", STAFF, {}),
        ("get", INVITE, {}),
        ("post", INVITE, KIM),
        ("post", f"/desk/staff/{person_id}/resend/", {}),
        ("post", f"/desk/staff/{person_id}/role/", {"role": "manager"}),
        ("get", f"/desk/staff/{person_id}/deactivate/", {}),
        ("post", f"/desk/staff/{person_id}/deactivate/", {}),
        ("post", f"/desk/staff/{person_id}/reactivate/", {}),
    ]


@pytest.mark.parametrize("caller", ["trainer_a", "client_a"])
def test_trainers_and_clients_are_refused(request, studio_a, manager_a, caller, django_capture_on_commit_callbacks):
    browser = _browser(studio_a, request.getfixturevalue(caller))

    with django_capture_on_commit_callbacks(execute=True):
        for method, url, data in _every_request(manager_a.pk):
            response = getattr(browser, method)(url, data)
            assert response.status_code == 403, (method, url)

    assert _user(studio_a, pk=manager_a.pk).role == Role.MANAGER
    assert _active(studio_a, manager_a)[0] is True
    with tenant_context(studio_a):
        assert not User.objects.filter(email__iexact=KIM["email"]).exists()
    assert mail.outbox == []


def test_an_anonymous_visitor_is_sent_to_sign_in(studio_a, manager_a):
    browser = _browser(studio_a)
    for method, url, data in _every_request(manager_a.pk):
        response = getattr(browser, method)(url, data)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], (method, url)
    assert _active(studio_a, manager_a)[0] is True


def test_another_studios_owner_is_a_stranger_here(studio_a, studio_b, manager_a):
    owner_b = _user(studio_b, email="owner@bravo.test")
    browser = _browser(studio_b, owner_b)
    browser.defaults["HTTP_HOST"] = f"{studio_a.slug}.localhost"  # the same cookie, on studio A's host

    for method, url, data in _every_request(manager_a.pk):
        response = getattr(browser, method)(url, data)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], (method, url)
    assert _active(studio_a, manager_a)[0] is True


def test_clients_and_other_studios_people_are_not_staff_here(studio_a, studio_b, owner_a, client_a):
    coach_b = make_user(studio_b, pk=9001, role=Role.TRAINER, email="coach@bravo.test")
    with tenant_context(studio_a):
        assert not User.objects.filter(pk=coach_b.pk).exists()
    browser = _browser(studio_a, owner_a)

    for person_id in (client_a.pk, coach_b.pk):
        for method, url, data in _every_request(person_id)[3:]:
            assert getattr(browser, method)(url, data).status_code == 404, (method, url)
    assert _active(studio_a, client_a)[0] is True
    assert _user(studio_a, pk=client_a.pk).role == Role.CLIENT


def test_the_list_costs_the_same_queries_however_many_staff(studio_a, owner_a, trainer_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    browser = _browser(studio_a, owner_a)
    browser.get(STAFF)  # the first request looks the host up and fills caches
    with CaptureQueriesContext(connection) as few:
        assert browser.get(STAFF).status_code == 200
    with tenant_context(studio_a):
        for number in range(5):
            person = UserFactory(role=Role.TRAINER, email=f"t{number}@alpha.test")
            TrainerFactory(user=person)
            totp_enable(person)
    with CaptureQueriesContext(connection) as many:
        assert browser.get(STAFF).status_code == 200

    assert len(many) == len(few)
    assert many.captured_queries[-1]["sql"]  # the page did query (the list is not served from elsewhere)
