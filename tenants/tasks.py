"""Custom domains waiting for verification are checked again periodically, so an owner who points the DNS
record and walks away still gets the domain verified without pressing "check now"."""

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.domains import pending_domains_verify


@shared_task(name="tenants.domains_verify_pending")
def domains_verify_pending() -> dict[str, int]:
    # Domains are platform rows: the checks run in the public schema whatever schema queued the task.
    with schema_context("public"):
        return pending_domains_verify()
