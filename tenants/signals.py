"""Keep the host → studio cache true: any write to a studio or a domain drops the keys it affects."""

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django_tenants.utils import schema_context

from tenants.models import Domain, Studio
from tenants.selectors import host_cache_key


def _forget_hosts(hosts) -> None:
    keys = [host_cache_key(host) for host in hosts]

    def forget() -> None:
        # Host keys live under the public schema's prefix whatever schema the writer is in.
        with schema_context("public"):
            cache.delete_many(keys)

    # Now, and again after the commit: a request between the two would otherwise cache the old row anew
    # (a suspension that hasn't committed yet) and keep serving it until the key expires.
    forget()
    transaction.on_commit(forget)


@receiver(post_save, sender=Studio)
@receiver(post_delete, sender=Studio)
def forget_studio_hosts(sender, instance: Studio, **kwargs) -> None:
    with schema_context("public"):
        hosts = list(Domain.objects.filter(tenant_id=instance.pk).values_list("domain", flat=True))
    _forget_hosts(hosts)


@receiver(pre_save, sender=Domain)
def remember_previous_domain(sender, instance: Domain, **kwargs) -> None:
    instance._previous_domain = (
        Domain.objects.filter(pk=instance.pk).values_list("domain", flat=True).first() if instance.pk else None
    )


@receiver(post_save, sender=Domain)
@receiver(post_delete, sender=Domain)
def forget_domain_host(sender, instance: Domain, **kwargs) -> None:
    _forget_hosts({instance.domain, getattr(instance, "_previous_domain", None) or instance.domain})
