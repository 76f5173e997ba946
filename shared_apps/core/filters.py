from datetime import UTC

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django_filters.fields import IsoDateTimeField

from shared_apps.core.fields import EARLIEST_YEAR, LATEST_YEAR

# The largest id a bigint primary key holds.
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A record's id in a query string: ``?client=1.5`` is a 400, not client 1 (NumberFilter's decimal would
    be cut to a whole number by the lookup). Every filter on an id uses this one."""

    field_class = forms.IntegerField

    def get_max_validator(self):
        return MaxValueValidator(MAX_ID)


class _InstantField(IsoDateTimeField):
    default_error_messages = {"out_of_range": f"Give a time between the years {EARLIEST_YEAR} and {LATEST_YEAR}."}

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
            raise ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        # In UTC: Python takes offsets up to a day, PostgreSQL only up to 15:59 (a -18:23 would be a 500).
        return moment.astimezone(UTC) if timezone.is_aware(moment) else moment


class InstantFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 instant in a query string, within the API's years (as its AwareDateTimeField), compared in
    UTC. Every filter on a time uses this one."""

    field_class = _InstantField
