import django_filters
from django import forms
from django.core.validators import MaxValueValidator

# The largest id a bigint primary key holds.
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A record's id in a query string: ``?client=1.5`` is a 400, not client 1 (NumberFilter's decimal would
    be cut to a whole number by the lookup). Every filter on an id uses this one."""

    field_class = forms.IntegerField

    def get_max_validator(self):
        return MaxValueValidator(MAX_ID)
