from datetime import date

from django.db import connection
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from shared_apps.accounts.models import Role, User
from shared_apps.core.tenancy import studio_date
from tenant_apps.clients.models import Client
from tenant_apps.clients.selectors import client_list, client_of_user
from tenant_apps.packages.models import ClientPackage, CreditTransaction, SessionPackage
from tenant_apps.trainers.models import SessionType


def package_list(*, user: User | None) -> QuerySet[SessionPackage]:
    """Everyone sees the packages on sale (the booking site lists them); owner and managers also retired ones."""
    packages = SessionPackage.objects.prefetch_related("session_types")
    if user is None or not user.is_authenticated or not user.manages_studio:
        packages = packages.filter(is_active=True)
    return packages


def package_sales(*, package: SessionPackage) -> QuerySet[ClientPackage]:
    """The client packages sold from ``package``, newest sale first."""
    return package.sales.select_related("client", "package").order_by("-purchased_at", "-id")


def visible_clients(*, user: User) -> QuerySet[Client]:
    """The clients whose packages and bookings ``user`` may look at.

    Staff see what the client book shows them (a trainer: those they train or who booked them); a client
    sees only their own record, so the booking site can show them their balances.
    """
    if user.role == Role.CLIENT:
        return Client.objects.filter(user=user)
    return client_list(user=user)


def client_package_list(*, client: Client) -> QuerySet[ClientPackage]:
    """A client's packages with their ledgers: two queries for any number of packages."""
    ledger = CreditTransaction.objects.order_by("created", "id")
    return client.packages.select_related("client", "package").prefetch_related(Prefetch("transactions", ledger))


def client_packages_of_user(*, user: User) -> QuerySet[ClientPackage]:
    """The signed-in client's own packages (those expiring first on top), each saying whether it can pay today.

    ``is_usable`` uses the booking rule (active, credits left, not past its last day in the studio's zone), so it
    holds even before the hourly expiry run has marked an out-of-date package expired.
    """
    today = studio_date(timezone.now())
    usable = Q(status=ClientPackage.Status.ACTIVE, sessions_remaining__gt=0, expiry_date__gte=today)
    return client_package_list(client=client_of_user(user=user)).annotate(
        is_usable=ExpressionWrapper(usable, output_field=BooleanField())
    )


def _covers(session_type: SessionType) -> Q:
    """The package pays for ``session_type``: it names it, or it names no session type at all."""
    links = SessionPackage.session_types.through.objects.filter(sessionpackage_id=OuterRef("package_id"))
    return ~Q(Exists(links)) | Q(Exists(links.filter(sessiontype_id=session_type.pk)))


def usable_client_packages(*, client: Client, session_type: SessionType, on_date: date) -> QuerySet[ClientPackage]:
    """The client's packages that could pay for a ``session_type`` session on ``on_date`` (the studio's day).
    ``usable_client_package_ids`` is the same rule in SQL, for the booking's transaction: change both."""
    return ClientPackage.objects.filter(
        _covers(session_type),
        client=client,
        status=ClientPackage.Status.ACTIVE,
        sessions_remaining__gt=0,
        expiry_date__gte=on_date,
    )


# usable_client_packages' rule in SQL, for the one place that runs it in every booking's transaction (the
# package that pays: client_package_for_booking), where building the ORM's two EXISTS cost more than the
# database's answer. tests/packages/test_usable_packages_sql.py holds the two to the same answers.
_USABLE_IDS = """
    SELECT sale.id
      FROM {client_package} sale
     WHERE sale.client_id = %(client)s AND sale.status = %(active)s AND sale.sessions_remaining > 0
       AND sale.expiry_date >= %(on_date)s
       AND (NOT EXISTS (SELECT 1 FROM {covered} link WHERE link.sessionpackage_id = sale.package_id)
            OR EXISTS (SELECT 1 FROM {covered} link
                        WHERE link.sessionpackage_id = sale.package_id AND link.sessiontype_id = %(session_type)s))
     ORDER BY sale.expiry_date, sale.id
"""


def usable_client_package_ids(*, client: Client, session_type: SessionType, on_date: date) -> list[int]:
    """The ids of ``usable_client_packages``, the one expiring first first (ties: the one sold first)."""
    quote = connection.ops.quote_name
    sql = _USABLE_IDS.format(
        client_package=quote(ClientPackage._meta.db_table),
        covered=quote(SessionPackage.session_types.through._meta.db_table),
    )
    params = {
        "client": client.pk,
        "active": ClientPackage.Status.ACTIVE.value,
        "on_date": on_date,
        "session_type": session_type.pk,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def package_covers(*, client_package: ClientPackage, session_type: SessionType) -> bool:
    return ClientPackage.objects.filter(_covers(session_type), pk=client_package.pk).exists()
