from email.utils import formataddr

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from shared_apps.accounts.models import Role
from shared_apps.core.mail import queue_rendered_message, sender_name
from shared_apps.core.tenancy import current_studio


class StudioAccountAdapter(DefaultAccountAdapter):
    """allauth's web pages and mails, white-labelled: they speak in the studio's name, never the platform's."""

    def is_open_for_signup(self, request) -> bool:
        # Anyone may become a client of a studio; nobody signs up to the platform itself.
        return current_studio() is not None

    def save_user(self, request, user, form, commit=True):
        user.role = Role.CLIENT
        return super().save_user(request, user, form, commit=commit)

    def get_from_email(self) -> str:
        return formataddr((sender_name(), settings.DEFAULT_FROM_EMAIL))

    def format_email_subject(self, subject: str) -> str:
        return f"[{sender_name()}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        context.setdefault("studio", current_studio())
        super().send_mail(template_prefix, email, context)

    def render_mail(self, template_prefix, email, context, headers=None):
        # allauth renders, then calls send(): sending goes through Celery like every other mail.
        return _QueuedMessage(super().render_mail(template_prefix, email, context, headers))


class _QueuedMessage:
    def __init__(self, message):
        self.message = message

    def send(self, fail_silently: bool = False) -> int:
        queue_rendered_message(self.message)
        return 1
