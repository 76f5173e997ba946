import re

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

from shared_apps.core.phone_numbers import (
    PHONE_INPUT_MAX_LENGTH,
    InvalidPhoneNumber,
    phone_number_e164,
    studio_phone_region,
)

_DIGITS = re.compile(r"[0-9]+")

# Far enough for any booking or record; near enough that converting to any zone can't overflow.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2200


class AwareDateTimeField(serializers.DateTimeField):
    """An instant must say which one it is: a time without an offset (or Z) is refused, not guessed."""

    default_error_messages = {
        "naive": "Give the time with its offset, e.g. 2026-01-05T09:00:00Z.",
        "out_of_range": f"Give a time between the years {EARLIEST_YEAR} and {LATEST_YEAR}.",
        "impossible": "This time does not exist: check the day, the hour, the minutes and the offset.",
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                # Well-formed but impossible: 30 February, 25:00, 12:99, an offset of +99:00.
                self.fail("impossible")
            if parsed is not None and timezone.is_naive(parsed):
                self.fail("naive")
        moment = super().to_internal_value(value)
        if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
            self.fail("out_of_range")
        return moment


class BoundedDateField(serializers.DateField):
    default_error_messages = {
        "out_of_range": f"Give a date between the years {EARLIEST_YEAR} and {LATEST_YEAR}.",
        "impossible": "This date does not exist: check the month and the day.",
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parse_date(value.strip())
            except ValueError:
                self.fail("impossible")  # 2027-02-30: the right shape, but no such day
        day = super().to_internal_value(value)
        if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            self.fail("out_of_range")
        return day


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id is a whole number, or its digits in a string (a form field).

    DRF hands anything else to ``queryset.get(pk=...)``, where the model field's ``int()`` turns 1.5 (and
    true) into 1: a request naming no record would act on record 1. Every input serializer uses this field.
    """

    def to_internal_value(self, data):
        is_whole_number = isinstance(data, int) and not isinstance(data, bool)
        if not (is_whole_number or (isinstance(data, str) and _DIGITS.fullmatch(data.strip()))):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class PhoneNumberField(serializers.CharField):
    """A phone number, stored and answered as E.164 (``+447911123456``); every phone input uses this field.

    A number without its country code is one of the studio's country (``07911 123456`` in a GB studio);
    ``region`` names another country when the input itself says which (a studio's own settings).
    """

    def __init__(self, *, region: str | None = None, **kwargs):
        kwargs.setdefault("max_length", PHONE_INPUT_MAX_LENGTH)
        super().__init__(**kwargs)
        self.region = region

    def to_internal_value(self, data) -> str:
        text = super().to_internal_value(data)
        if not text:
            return text
        try:
            return phone_number_e164(text, region=self.region or studio_phone_region())
        except InvalidPhoneNumber as error:
            raise serializers.ValidationError(str(error), code="invalid_phone") from error

    def to_representation(self, value) -> str:
        return str(value) if value else ""
