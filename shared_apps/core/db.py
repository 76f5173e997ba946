"""Database expressions several apps use."""

from django.contrib.postgres.fields import DateTimeRangeField
from django.db.models import Func


class TsTzRange(Func):
    """``tstzrange(lower, upper)``: a half-open range of instants, as the bookings' exclusion constraint and
    indexes build them from two columns."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()
