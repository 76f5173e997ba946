"""The clients list's filters, one set for the API's ``GET /api/clients/`` and the desk's clients page, so the
two read a query string the same way."""

import django_filters

from shared_apps.core.filters import IdFilter, InstantFilter
from tenant_apps.clients import selectors
from tenant_apps.clients.models import Client, FitnessLevel


class ClientFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search")
    trainer = IdFilter(method="filter_trainer")
    fitness_level = django_filters.ChoiceFilter(choices=FitnessLevel.choices)
    is_active = django_filters.BooleanFilter()
    tag = django_filters.CharFilter(field_name="tags", lookup_expr="contains", method="filter_tag")
    created_after = InstantFilter(field_name="created", lookup_expr="gte")
    created_before = InstantFilter(field_name="created", lookup_expr="lt")
    has_active_package = django_filters.BooleanFilter(method="filter_active_package")
    ordering = django_filters.OrderingFilter(fields=["first_name", "last_name", "email", "created", "updated"])

    class Meta:
        model = Client
        fields = ["search", "trainer", "fitness_level", "is_active", "tag", "has_active_package"]

    def filter_search(self, clients, name, value):
        return selectors.client_search(clients, value)

    def filter_trainer(self, clients, name, value):
        return selectors.with_trainer(clients, value)

    def filter_tag(self, clients, name, value):
        return clients.filter(tags__contains=[value])

    def filter_active_package(self, clients, name, value):
        return selectors.with_active_package(clients, value)
