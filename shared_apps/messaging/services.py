"""Writes of the platform's messaging (public schema): opt-outs of our SMS sender and the studios' SMS counts.
Each is one statement that two workers or two webhooks may run at once."""

from datetime import UTC, datetime

from django.db import connection

from shared_apps.messaging.models import OptOutSource, SmsOptOut, SmsUsage


def sms_opt_out(*, phone: str, source: OptOutSource) -> None:
    """Opt ``phone`` (E.164) out of every studio's SMS. A number already out stays out under its first source."""
    # ignore_conflicts: a STOP reply and a 21610 for the same number may arrive together.
    SmsOptOut.objects.bulk_create([SmsOptOut(phone=phone, source=source)], ignore_conflicts=True)


def sms_opt_out_remove(*, phone: str) -> bool:
    """The number replied START: SMS may go to it again (to the clients who consented). Whether it was out."""
    deleted, _ = SmsOptOut.objects.filter(phone=phone).delete()
    return bool(deleted)


def sms_usage_count(*, studio_id: int, moment: datetime) -> None:
    """Count one SMS of the studio in the month (UTC) of ``moment``.

    One upsert: the first SMS of a month creates the row, and two workers counting at once both count (a
    read-then-write would lose one, and a get_or_create race would fail on the unique constraint)."""
    month = moment.astimezone(UTC).date().replace(day=1)
    table = connection.ops.quote_name(SmsUsage._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (studio_id, month, count) VALUES (%s, %s, 1) "  # noqa: S608 (a model's table name)
            f"ON CONFLICT (studio_id, month) DO UPDATE SET count = {table}.count + 1",
            [studio_id, month],
        )
