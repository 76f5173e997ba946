"""Mails to people, rendered in the studio's theme and signed with the studio's name (white-label)."""

from email.utils import formataddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template import engines
from django.utils import timezone

from shared_apps.core.tasks import queue_task_on_commit, send_email
from shared_apps.core.tenancy import current_studio, studio_timezone


def sender_name() -> str:
    studio = current_studio()
    return studio.name if studio is not None else settings.PLATFORM_NAME


def _render(name: str, context: dict) -> str:
    # The "text" engine doesn't HTML-escape: "Rock & Roll" stays "Rock & Roll" in a plain-text mail.
    # Times are shown in the zone the mail names (``zone``), else the studio's: the date filter converts an aware
    # time to the active zone, which outside a page is UTC (an hour off all summer in London).
    zone = context.get("zone") or (studio_timezone() if current_studio() is not None else None)
    with timezone.override(ZoneInfo(zone) if zone else None):
        return engines["text"].get_template(name).render(context)


def render_mail(*, template: str, to: str, context: dict) -> dict:
    """``emails/<template>_subject.txt`` and ``emails/<template>.txt`` rendered in the current studio's theme and
    name (times in the zone the context names): the subject, body, sender and recipient of a mail."""
    context = {"studio": current_studio(), "sender_name": sender_name(), **context}
    return {
        "subject": " ".join(_render(f"emails/{template}_subject.txt", context).split()),
        "body": _render(f"emails/{template}.txt", context),
        "from_email": formataddr((sender_name(), settings.DEFAULT_FROM_EMAIL)),
        "to": [to],
    }


def send_mail_on_commit(*, template: str, to: str, context: dict) -> None:
    """Render now, in the current studio's schema and theme; queue the sending once the transaction commits.

    Sending happens in Celery, so a slow or failing mail service neither delays the request nor undoes what
    it wrote, and an answer takes as long whether or not a mail was sent (no account enumeration by timing).
    """
    queue_task_on_commit(send_email, **render_mail(template=template, to=to, context=context))


def queue_rendered_message(message) -> None:
    """Queue a mail someone else rendered (allauth's), the same way: by Celery, once the transaction commits."""
    html = next((content for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), "")
    queue_task_on_commit(
        send_email,
        subject=message.subject,
        body=message.body,
        from_email=message.from_email,
        to=list(message.to),
        html=html,
    )
