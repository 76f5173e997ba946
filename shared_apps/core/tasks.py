from celery import shared_task
from django.core.mail import EmailMultiAlternatives


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def send_email(*, subject: str, body: str, from_email: str, to: list[str], html: str = "") -> None:
    """Send a mail rendered earlier, in its studio's schema and theme; retried while the ESP fails."""
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=from_email, to=to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()
