from celery import shared_task
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context


def queue_task_on_commit(task, **kwargs) -> None:
    """Queue ``task`` once the transaction commits, in the current schema (the task runs in it).

    Queued with ``robust=True``: a broker that can't be reached doesn't undo what the transaction wrote, but
    the task is then never queued. What must not be lost keeps a row of its own that a periodic sweep queues
    again (as the client imports do).
    """
    schema = connection.schema_name

    def queue() -> None:
        # The task carries the schema it was queued from, whatever the connection has moved to since.
        with schema_context(schema):
            task.delay(**kwargs)

    transaction.on_commit(queue, robust=True)


def queue_in_every_studio(task, *, expires: float | None = None, **kwargs) -> int:
    """Queue ``task`` once per studio, each in that studio's schema; how many were queued. ``expires``: seconds
    after which a worker drops it unrun."""
    public = get_public_schema_name()
    with schema_context(public):
        schema_names = list(
            get_tenant_model().objects.exclude(schema_name=public).values_list("schema_name", flat=True)
        )
    for schema_name in schema_names:
        # Queued from inside the studio's schema, so the task's headers carry that schema.
        with schema_context(schema_name):
            task.apply_async(kwargs=kwargs, expires=expires)
    return len(schema_names)


@shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def send_email(
    *, subject: str, body: str, from_email: str, to: list[str], html: str = "", reply_to: list[str] | None = None
) -> None:
    """Send a mail rendered earlier, in its studio's schema and theme; retried while the ESP fails."""
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=from_email, to=to, reply_to=reply_to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()
