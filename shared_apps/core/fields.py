from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

# Far enough for any booking or record; near enough that converting to any zone can't overflow.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2200


class AwareDateTimeField(serializers.DateTimeField):
    """An instant must say which one it is: a time without an offset (or Z) is refused, not guessed."""

    default_error_messages = {
        "naive": "Give the time with its offset, e.g. 2026-01-05T09:00:00Z.",
        "out_of_range": f"Give a time between the years {EARLIEST_YEAR} and {LATEST_YEAR}.",
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            parsed = parse_datetime(value.strip())
            if parsed is not None and timezone.is_naive(parsed):
                self.fail("naive")
        moment = super().to_internal_value(value)
        if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
            self.fail("out_of_range")
        return moment


class BoundedDateField(serializers.DateField):
    default_error_messages = {"out_of_range": f"Give a date between the years {EARLIEST_YEAR} and {LATEST_YEAR}."}

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            self.fail("out_of_range")
        return day
