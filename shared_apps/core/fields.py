from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers


class AwareDateTimeField(serializers.DateTimeField):
    """An instant must say which one it is: a time without an offset (or Z) is refused, not guessed."""

    default_error_messages = {"naive": "Give the time with its offset, e.g. 2026-01-05T09:00:00Z."}

    def to_internal_value(self, value):
        if isinstance(value, str):
            parsed = parse_datetime(value.strip())
            if parsed is not None and timezone.is_naive(parsed):
                self.fail("naive")
        return super().to_internal_value(value)
