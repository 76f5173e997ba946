"""A package's ledger in a client's words (tenant_apps/site/account.ledger_wording): no database needed."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tenant_apps.bookings.models import Booking
from tenant_apps.packages.models import CreditTransaction
from tenant_apps.site.account import ledger_wording
from tenant_apps.trainers.models import Trainer

LONDON = ZoneInfo("Europe/London")
Kind = CreditTransaction.Kind


def _booking(**fields) -> Booking:
    # 3 March 2026 is a Tuesday; 10:00 UTC is 10:00 in London (winter time).
    fields = {"start_time": datetime(2026, 3, 3, 10, 0, tzinfo=UTC), "status": "confirmed", **fields}
    return Booking(trainer=Trainer(display_name="Sam"), **fields)


def _move(kind: str, delta: int, booking: Booking | None = None, reason: str = "", booking_round: int = 0):
    return CreditTransaction(kind=kind, delta=delta, booking=booking, reason=reason, booking_round=booking_round)


@pytest.mark.parametrize(
    ("move", "words"),
    [
        (_move(Kind.PURCHASE, 5, reason="Five pack: 5 sessions"), "Bought 5 sessions"),
        (_move(Kind.PURCHASE, 1), "Bought 1 session"),
        (_move(Kind.BOOKING, -1, _booking()), "Used for Tue 3 Mar 10:00 with Sam"),
        (_move(Kind.BOOKING, -1), "Used for a session"),
        (
            _move(Kind.REFUND, 1, _booking(status="cancelled", cancelled_by="client"), "Cancelled in time."),
            "Returned: cancelled in time (Tue 3 Mar 10:00 with Sam)",
        ),
        (
            _move(Kind.REFUND, 1, _booking(status="cancelled", cancelled_by="studio"), "Trainer ill"),
            "Returned: cancelled by the studio (Tue 3 Mar 10:00 with Sam)",
        ),
        (
            _move(Kind.REFUND, 1, _booking(status="cancelled", cancelled_by="client", is_late_cancellation=True)),
            "Returned: cancelled late, the studio gave it back (Tue 3 Mar 10:00 with Sam)",
        ),
        (
            _move(Kind.REFUND, 1, _booking(status="no_show")),
            "Returned: missed, the studio gave it back (Tue 3 Mar 10:00 with Sam)",
        ),
        # The booking has moved on since (a later credit round): the reason written then says why.
        (
            _move(Kind.REFUND, 1, _booking(credit_round=1), "No-show; the studio returns the credit.", 0),
            "Returned: No-show; the studio returns the credit (Tue 3 Mar 10:00 with Sam)",
        ),
        (_move(Kind.EXPIRY, -3, reason="Expired after 2026-03-31."), "Expired: 3 sessions not used in time"),
        (_move(Kind.ADJUSTMENT, 2, reason="Goodwill"), "The studio added 2 sessions: Goodwill"),
        (_move(Kind.ADJUSTMENT, -1, reason=" "), "The studio took back 1 session"),
    ],
)
def test_each_kind_of_ledger_row_reads_as_a_sentence(move, words):
    assert ledger_wording(move, zone=LONDON) == words


def test_a_sessions_time_is_given_in_the_studios_zone():
    summer = _booking(start_time=datetime(2026, 7, 7, 9, 0, tzinfo=UTC))  # 10:00 in London (BST)

    assert ledger_wording(_move(Kind.BOOKING, -1, summer), zone=LONDON) == "Used for Tue 7 Jul 10:00 with Sam"
    assert ledger_wording(_move(Kind.BOOKING, -1, summer), zone=ZoneInfo("America/New_York")) == (
        "Used for Tue 7 Jul 05:00 with Sam"
    )
