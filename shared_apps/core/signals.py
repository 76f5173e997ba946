"""Signals apps send where a write bypasses model signals (bulk writes) and lower apps may not import the higher
ones that care."""

from django.dispatch import Signal

# Something a studio's calendars show changed without a model signal (a bulk update of clients' names): the
# availability app bumps the calendar version (tenant_apps/availability/versions.py). Sent with no arguments.
calendar_data_changed = Signal()
