"""Custom domains on the platform host: the platform admins' page of pending domains (approve, reject), and the
TLS ask endpoint the proxy calls before it gets a certificate for a host (Caddy's on_demand_tls)."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.validators import REASON_MAX_LENGTH
from tenants import domains as domain_services
from tenants.platform_views import PlatformAdminRequiredMixin


@never_cache
@require_GET
def tls_ask(request):
    """200 if the proxy may get a certificate for ?domain=, 404 otherwise. No auth: it says no more than the
    host's own site would (a verified domain answers anyway), and answers from the cached host lookup."""
    allowed = domain_services.host_may_have_certificate(host=request.GET.get("domain", "")[:253])
    return HttpResponse("ok" if allowed else "unknown", status=200 if allowed else 404, content_type="text/plain")


class DomainRejectForm(forms.Form):
    reason = forms.CharField(
        label="Why is it rejected?",
        help_text="The studio's owner sees this.",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why, so the studio's owner knows what to do."},
    )


def _pending_page(request, *, reject_forms: dict[int, DomainRejectForm] | None = None, status: int = 200):
    pending = list(domain_services.pending_domain_list())
    reject_forms = reject_forms or {}
    for domain in pending:
        domain.reject_form = reject_forms.get(domain.pk) or DomainRejectForm(prefix=f"reject-{domain.pk}")
        domain.check_url = domain_services.verification_url(domain)
    context = {"pending": pending, "failed_form": next(iter(reject_forms.values()), None)}
    return render(request, "platform/domains/pending.html", context, status=status)


class PendingDomainsView(PlatformAdminRequiredMixin, View):
    def get(self, request):
        return _pending_page(request)


class DomainApproveView(PlatformAdminRequiredMixin, View):
    def post(self, request, domain_id: int):
        try:
            domain = domain_services.domain_approve(
                domain=domain_services.pending_domain_get(domain_id=domain_id), actor=request.user
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{domain.domain} is verified: it now serves {domain.tenant.name}.")
        return redirect(reverse("platform:domains"))


class DomainRejectView(PlatformAdminRequiredMixin, View):
    def post(self, request, domain_id: int):
        form = DomainRejectForm(request.POST, prefix=f"reject-{domain_id}")
        try:
            domain = domain_services.pending_domain_get(domain_id=domain_id)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect(reverse("platform:domains"))
        if not form.is_valid():
            return _pending_page(request, reject_forms={domain.pk: form}, status=400)
        try:
            domain_services.domain_reject(domain=domain, actor=request.user, reason=form.cleaned_data["reason"])
        except ApplicationError as error:
            for field, errors in error.fields.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
            if not error.fields:
                form.add_error(None, error.message)
            return _pending_page(request, reject_forms={domain.pk: form}, status=400)
        messages.success(request, f"{domain.domain} is rejected; {domain.tenant.name}'s owner sees why.")
        return redirect(reverse("platform:domains"))


# Under /platform/ (platform admins).
urlpatterns = [
    path("domains/", PendingDomainsView.as_view(), name="domains"),
    path("domains/<int:domain_id>/approve/", DomainApproveView.as_view(), name="domain_approve"),
    path("domains/<int:domain_id>/reject/", DomainRejectView.as_view(), name="domain_reject"),
]
# At the root of the platform host (machines: the TLS proxy).
public_urlpatterns = [
    path("tls/ask", tls_ask, name="tls-ask"),
]
