from allauth.account.forms import ResetPasswordForm

from shared_apps.accounts import services


class PasswordResetForm(ResetPasswordForm):
    """allauth's reset page, sending through the same Celery task as the API: no account lookup in the
    request, so the page answers as fast for an unknown address as for a known one."""

    def clean_email(self) -> str:
        return self.cleaned_data["email"]

    def save(self, request, **kwargs) -> str:
        email = self.cleaned_data["email"]
        services.password_reset_request(email=email)
        return email
