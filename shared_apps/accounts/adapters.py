from email.utils import formataddr
from types import SimpleNamespace
from urllib.parse import quote, urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.contrib import messages
from django.urls import reverse

from shared_apps.accounts.models import Role
from shared_apps.accounts.throttles import LoginAttempt, LoginThrottled, login_attempt_start
from shared_apps.core.mail import queue_rendered_message, sender_name
from shared_apps.core.tenancy import current_studio, site_url

# Links allauth builds from the request's Host header and puts in mails' contexts, by mail: the URL name each
# leads to. (The reset and confirmation links with a key come from the two get_*_url methods below.)
_MAIL_LINKS = {
    "account/email/account_already_exists": {
        "signup_url": "account_signup",
        "password_reset_url": "account_reset_password",
    },
    "account/email/unknown_account": {"signup_url": "account_signup"},
}
# The web login's pending attempt (throttles.LoginAttempt), from the password step to the completed login.
LOGIN_ATTEMPT_SESSION_KEY = "accounts_login_attempt"


class StudioAccountAdapter(DefaultAccountAdapter):
    """allauth's web pages and mails, white-labelled: they speak in the studio's name, never the platform's."""

    def is_open_for_signup(self, request) -> bool:
        # Anyone may become a client of a studio; nobody signs up to the platform itself.
        return current_studio() is not None

    def save_user(self, request, user, form, commit=True):
        user.role = Role.CLIENT
        # The sign-up form's optional phone (E.164 already); allauth's own phone handling is not switched on.
        user.phone = form.cleaned_data.get("phone") or ""
        user = super().save_user(request, user, form, commit=commit)
        if request is not None:
            name = user.first_name or user.email
            self.add_message(
                request, messages.SUCCESS, message=f"Welcome, {name}! Your account is ready: book your first session."
            )
        return user

    def get_login_redirect_url(self, request) -> str:
        # Staff run the studio from the desk; clients go where the site sends them. A ?next= still wins.
        user = request.user
        if current_studio() is not None and user.is_authenticated and user.is_studio_staff:
            return reverse("desk:home")
        return super().get_login_redirect_url(request)

    def get_from_email(self) -> str:
        return formataddr((sender_name(), settings.DEFAULT_FROM_EMAIL))

    def format_email_subject(self, subject: str) -> str:
        return f"[{sender_name()}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        context.setdefault("studio", current_studio())
        # allauth would name the site after the request's Host header; mails name the studio and its host.
        context.setdefault("current_site", SimpleNamespace(name=sender_name(), domain=urlsplit(site_url()).netloc))
        for name, url_name in _MAIL_LINKS.get(template_prefix, {}).items():
            context[name] = site_url(reverse(url_name))
        # No template of ours reads the request; whatever it holds (the Host header) stays out of mails.
        context.pop("request", None)
        super().send_mail(template_prefix, email, context)

    # Links in mails lead to the studio's primary domain (or the platform's), never to the Host header of the
    # request that caused the mail: that header is the sender's to choose.

    def get_reset_password_from_key_url(self, key: str) -> str:
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return site_url(path.replace("UID-KEY", quote(key)))

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        return site_url(reverse("account_confirm_email", args=[emailconfirmation.key]))

    # Failed logins on the web pages count in the same counters as the API's (throttles.py), instead of
    # allauth's own, which would lock the account's holder out along with whoever guesses at it.

    def pre_authenticate(self, request, **credentials) -> None:
        try:
            self._login_attempt = login_attempt_start(request=request, email=credentials.get("email") or "")
        except LoginThrottled as error:
            raise self.validation_error("too_many_login_attempts") from error

    def authenticate(self, request, **credentials):
        self._login_attempt = None
        user = super().authenticate(request, **credentials)
        attempt = self._login_attempt
        if user is None or attempt is None:
            return user
        if request.user.is_authenticated:
            # Asking a logged-in account for its password again (before a sensitive change): no login follows,
            # and the account passed its second factor when it logged in.
            attempt.succeeded()
        else:
            # The password is one step: the attempt succeeds when the login does, after the second factor
            # (login() below), and stays a failure if the code never comes.
            request.session[LOGIN_ATTEMPT_SESSION_KEY] = attempt.as_dict()
        return user

    def login(self, request, user) -> None:
        attempt = request.session.pop(LOGIN_ATTEMPT_SESSION_KEY, None)
        super().login(request, user)
        if attempt is not None:
            LoginAttempt.from_dict(attempt).succeeded()

    def render_mail(self, template_prefix, email, context, headers=None):
        # allauth renders, then calls send(): sending goes through Celery like every other mail.
        return _QueuedMessage(super().render_mail(template_prefix, email, context, headers))


class _QueuedMessage:
    def __init__(self, message):
        self.message = message

    def send(self, fail_silently: bool = False) -> int:
        queue_rendered_message(self.message)
        return 1


class StudioMFAAdapter(DefaultMFAAdapter):
    def get_totp_issuer(self) -> str:
        # The name the authenticator app shows: the studio's (white-label), not the request's host.
        return sender_name()
