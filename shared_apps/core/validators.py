import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError


@cache
def timezone_names() -> frozenset[str]:
    # available_timezones() walks the tz database on every call.
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in timezone_names():
        raise ValidationError(f"Unknown time zone: {value}.", code="invalid_timezone")
