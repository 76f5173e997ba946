"""Every list endpoint answers in a number of queries that does not grow with the number of rows.

Each test warms the host cache with one request, measures the list with a few rows, then adds rows (up to ~30,
under the page size of 50) and asserts the list costs no more queries than before.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role
from tenant_apps.availability.models import TrainerBreak
from tenant_apps.clients.models import ClientNote
from tests.factories import (
    ClientFactory,
    SessionPackageFactory,
    SessionTypeFactory,
    TrainerFactory,
    UserFactory,
    WindowFactory,
)

pytestmark = pytest.mark.django_db

FEW_QUERIES_CAP = 12  # a generous ceiling for the small list; the real check is "no more with many rows"


def assert_flat(
    api, url: str, add_rows: Callable[[int], None], studio, django_assert_max_num_queries, *, few: int, many: int
) -> tuple[list, list]:
    """``add_rows(count)`` adds ``count`` rows (called inside the studio's tenant_context); returns both pages."""
    with tenant_context(studio):
        add_rows(few)
    warm = api.get(url)  # warm the host cache (and any token lookup)
    assert warm.status_code == 200, warm.json()
    with django_assert_max_num_queries(FEW_QUERIES_CAP) as small:
        response = api.get(url)
    assert response.status_code == 200
    few_rows = response.json()["results"]

    with tenant_context(studio):
        add_rows(many - few)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = api.get(url)
    assert response.status_code == 200
    many_rows = response.json()["results"]
    assert len(many_rows) > len(few_rows)
    assert len(many_rows) < 50  # everything on one page
    return few_rows, many_rows


def test_clients_with_trainers_and_tags(as_user, manager_a, studio_a, django_assert_max_num_queries):
    with tenant_context(studio_a):
        coaches = [TrainerFactory() for _ in range(3)]

    def add_rows(count: int) -> None:
        for index in range(count):
            ClientFactory(primary_trainer=coaches[index % 3], tags=["vip", f"group-{index % 4}"])

    few_rows, many_rows = assert_flat(
        as_user(manager_a), "/api/clients/", add_rows, studio_a, django_assert_max_num_queries, few=3, many=30
    )
    assert len(few_rows) == 3
    assert len(many_rows) == 30
    assert {row["primary_trainer"] for row in many_rows} == {coach.pk for coach in coaches}
    assert all("vip" in row["tags"] for row in many_rows)


def test_session_types_with_several_trainers_each(anon_a, studio_a, django_assert_max_num_queries):
    with tenant_context(studio_a):
        coaches = [TrainerFactory() for _ in range(4)]

    def add_rows(count: int) -> None:
        for index in range(count):
            SessionTypeFactory(trainers=[coaches[index % 4], coaches[(index + 1) % 4], coaches[(index + 2) % 4]])

    few_rows, many_rows = assert_flat(
        anon_a, "/api/session-types/", add_rows, studio_a, django_assert_max_num_queries, few=3, many=30
    )
    assert len(few_rows) == 3
    assert len(many_rows) == 30
    assert all(len(row["trainers"]) == 3 for row in many_rows)


def test_availability_windows_of_several_trainers(as_user, manager_a, studio_a, django_assert_max_num_queries):
    def add_rows(count: int) -> None:
        # Each new trainer brings up to seven windows (one a day).
        while count > 0:
            coach = TrainerFactory()
            for day in range(min(count, 7)):
                WindowFactory(trainer=coach, day_of_week=day, start_time="09:00", end_time="12:00")
            count -= 7

    few_rows, many_rows = assert_flat(
        as_user(manager_a), "/api/availability/", add_rows, studio_a, django_assert_max_num_queries, few=3, many=30
    )
    assert len(few_rows) == 3
    assert len(many_rows) == 30
    assert len({row["trainer"] for row in many_rows}) == 5


def test_breaks_of_several_trainers(as_user, manager_a, studio_a, django_assert_max_num_queries):
    with tenant_context(studio_a):
        coaches = [TrainerFactory() for _ in range(3)]
    start = datetime(2030, 7, 1, 12, tzinfo=UTC)
    made = []

    def add_rows(count: int) -> None:
        for _ in range(count):
            index = len(made)
            starts_at = start + timedelta(days=index)
            made.append(
                TrainerBreak.objects.create(
                    trainer=coaches[index % 3],
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(hours=2),
                    reason="Off",
                )
            )

    few_rows, many_rows = assert_flat(
        as_user(manager_a),
        "/api/availability/breaks/",
        add_rows,
        studio_a,
        django_assert_max_num_queries,
        few=3,
        many=30,
    )
    assert len(few_rows) == 3
    assert len(many_rows) == 30
    assert {row["trainer"] for row in many_rows} == {coach.pk for coach in coaches}


def test_notes_by_several_authors(as_user, manager_a, studio_a, django_assert_max_num_queries):
    with tenant_context(studio_a):
        someone = ClientFactory()
        authors = [UserFactory(role=Role.MANAGER), UserFactory(role=Role.TRAINER), UserFactory(role=Role.OWNER)]
    authors.append(None)  # an author who has since been deleted

    def add_rows(count: int) -> None:
        for index in range(count):
            ClientNote.objects.create(client=someone, author=authors[index % 4], text=f"Called, note {index}")

    few_rows, many_rows = assert_flat(
        as_user(manager_a),
        f"/api/clients/{someone.pk}/notes/",
        add_rows,
        studio_a,
        django_assert_max_num_queries,
        few=4,
        many=30,
    )
    assert len(few_rows) == 4
    assert len(many_rows) == 30
    assert {row["author"] for row in many_rows} == {author.pk if author else None for author in authors}


def test_packages_with_session_types(anon_a, studio_a, django_assert_max_num_queries):
    with tenant_context(studio_a):
        kinds = [SessionTypeFactory() for _ in range(3)]

    def add_rows(count: int) -> None:
        for index in range(count):
            SessionPackageFactory(session_types=kinds[: 1 + index % 3])

    few_rows, many_rows = assert_flat(
        anon_a, "/api/packages/", add_rows, studio_a, django_assert_max_num_queries, few=3, many=30
    )
    assert len(few_rows) == 3
    assert len(many_rows) == 30
    assert {len(row["session_types"]) for row in many_rows} == {1, 2, 3}


def test_staff(as_user, owner_a, studio_a, django_assert_max_num_queries):
    roles = [Role.MANAGER, Role.TRAINER]

    def add_rows(count: int) -> None:
        for index in range(count):
            UserFactory(role=roles[index % 2])

    # The owner is staff too: 1 + 2 rows, then 1 + 29.
    few_rows, many_rows = assert_flat(
        as_user(owner_a), "/api/staff/", add_rows, studio_a, django_assert_max_num_queries, few=2, many=29
    )
    assert len(few_rows) == 3
    assert len(many_rows) == 30
    with tenant_context(studio_a):
        UserFactory(role=Role.CLIENT)
    assert len(as_user(owner_a).get("/api/staff/").json()["results"]) == 30


def test_bookings_with_names_colours_and_packages(as_user, manager_a, studio_a, django_assert_max_num_queries):
    """The calendar's list: trainer and client names, session type name and colour, the paying package's name
    and credits left, for bookings of several trainers, clients and packages."""
    from decimal import Decimal

    from tenant_apps.bookings.services import booking_create
    from tenant_apps.packages.services import package_assign
    from tests.conftest import next_monday

    with tenant_context(studio_a):
        coaches = [TrainerFactory(display_name=f"Coach {index}") for index in range(3)]
        for coach in coaches:
            for day in range(7):
                WindowFactory(trainer=coach, day_of_week=day, start_time="06:00", end_time="22:00")
        kinds = [SessionTypeFactory(trainers=coaches, color=color) for color in ("#112233", "#445566")]
    made = []

    def add_rows(count: int) -> None:
        for _ in range(count):
            index = len(made)
            client = ClientFactory()
            if index % 2:
                package_assign(
                    package=SessionPackageFactory(), client=client, payment_method="cash", amount_paid=Decimal("10")
                )
            start = datetime.combine(next_monday(), datetime.min.time(), tzinfo=UTC) + timedelta(
                days=index // 10, hours=7 + index % 10
            )
            made.append(
                booking_create(
                    trainer=coaches[index % 3], client=client, session_type=kinds[index % 2], start_time=start
                )
            )

    few_rows, many_rows = assert_flat(
        as_user(manager_a), "/api/bookings/", add_rows, studio_a, django_assert_max_num_queries, few=3, many=30
    )
    assert len(few_rows) == 3
    assert len(many_rows) == 30
    assert {row["trainer_name"] for row in many_rows} == {"Coach 0", "Coach 1", "Coach 2"}
    assert {row["session_type_color"] for row in many_rows} == {"#112233", "#445566"}
    assert {row["payment_state"] for row in many_rows} == {"credit", "unpaid"}
    assert {row["client_package_sessions_remaining"] for row in many_rows} == {9, None}
    assert all(row["client_name"] for row in many_rows)
