"""Mails to people, rendered in the studio's theme and signed with the studio's name (white-label)."""

from email.utils import formataddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template import engines
from django.utils import timezone

from shared_apps.core.tasks import queue_task_on_commit, send_email
from shared_apps.core.tenancy import current_studio, studio_timezone

# The platform's mails (no studio) take the studio model's default brand colour.
PLATFORM_BRAND_COLOR = "#2563eb"
DARK_TEXT = "#1f2937"
# WCAG AA for normal text.
LEAST_CONTRAST = 4.5


def sender_name() -> str:
    studio = current_studio()
    return studio.name if studio is not None else settings.PLATFORM_NAME


def render_text(name: str, context: dict) -> str:
    """A plain-text template (a mail's part, an SMS) in the current studio's theme."""
    # The "text" engine doesn't HTML-escape: "Rock & Roll" stays "Rock & Roll" in a plain-text mail.
    # Times are shown in the zone the mail names (``zone``), else the studio's: the date filter converts an aware
    # time to the active zone, which outside a page is UTC (an hour off all summer in London).
    zone = context.get("zone") or (studio_timezone() if current_studio() is not None else None)
    with timezone.override(ZoneInfo(zone) if zone else None):
        text = engines["text"].get_template(name).render(context)
    # An engine marks what it renders as safe HTML, which unescaped text is not: a plain str, so that the HTML
    # layout escapes it.
    return str.__str__(text)


def _luminance(color: str) -> float:
    """WCAG relative luminance of a "#rrggbb" colour."""
    channels = [int(color[index : index + 2], 16) / 255 for index in (1, 3, 5)]
    red, green, blue = [value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4 for value in channels]
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def _contrast(first: str, second: str) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def brand_colors(brand: str) -> dict:
    """The layout's colours from a studio's brand colour, each readable (AA) whatever the owner picked: the
    name on the brand band in white or dark text, whichever contrasts more; links on white in the brand colour
    unless it is too pale, then in the dark text colour (they are underlined either way)."""
    return {
        "brand": brand,
        "on_brand": "#ffffff" if _contrast(brand, "#ffffff") >= _contrast(brand, DARK_TEXT) else DARK_TEXT,
        "link": brand if _contrast(brand, "#ffffff") >= LEAST_CONTRAST else DARK_TEXT,
        "text": DARK_TEXT,
    }


def _render_html(*, subject: str, body: str) -> str:
    """The text body in the HTML layout (``emails/layout.html``, which a theme may override): escaped by the
    page engine, links made clickable, in the studio's brand colour. One source of words for both parts, so
    they can't say different things."""
    studio = current_studio()
    context = {
        "subject": subject,
        "body": body,
        "sender_name": sender_name(),
        **brand_colors(studio.brand_color if studio is not None else PLATFORM_BRAND_COLOR),
    }
    return engines["django"].get_template("emails/layout.html").render(context)


def render_mail(*, template: str, to: str, context: dict) -> dict:
    """``emails/<template>_subject.txt`` and ``emails/<template>.txt`` rendered in the current studio's theme and
    name (times in the zone the context names), with the text in the HTML layout beside it: the keyword
    arguments of an EmailMultiAlternatives. Replies go to the studio's contact address when it has one (the
    sender is a no-reply address); the platform's mails have none."""
    studio = current_studio()
    context = {"studio": studio, "sender_name": sender_name(), **context}
    subject = " ".join(render_text(f"emails/{template}_subject.txt", context).split())
    body = render_text(f"emails/{template}.txt", context)
    return {
        "subject": subject,
        "body": body,
        "alternatives": [(_render_html(subject=subject, body=body), "text/html")],
        "from_email": formataddr((sender_name(), settings.DEFAULT_FROM_EMAIL)),
        "to": [to],
        "reply_to": [studio.contact_email] if studio is not None and studio.contact_email else [],
    }


def send_mail_on_commit(*, template: str, to: str, context: dict) -> None:
    """Render now, in the current studio's schema and theme; queue the sending once the transaction commits.

    Sending happens in Celery, so a slow or failing mail service neither delays the request nor undoes what
    it wrote, and an answer takes as long whether or not a mail was sent (no account enumeration by timing).
    """
    mail = render_mail(template=template, to=to, context=context)
    [(html, _mimetype)] = mail.pop("alternatives")
    queue_task_on_commit(send_email, html=html, **mail)


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
