"""The desk: the studio's domains, for its owner. The owner adds a custom domain (it stays pending, routing
nowhere, until verified), reads the DNS record to create (a CNAME to the studio's own platform host), asks for
a check now (at most once a minute per domain; the platform also checks periodically), makes a verified domain
the primary one (links in mails use it) and removes one.

Every rule is tenants.domains' (the owner only, another studio's domain not found, only verified domains
primary): the views parse the form, call it and show its refusal.
"""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views import View

from shared_apps.accounts.models import Role
from shared_apps.core.exceptions import ApplicationError, NotFound
from tenant_apps.desk.access import StaffRequiredMixin, forbidden
from tenants import domains as domain_services


class DomainAddForm(forms.Form):
    domain = forms.CharField(
        label="Domain name",
        help_text="A domain you own, such as book.yourstudio.com.",
        max_length=253,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}),
        error_messages={"required": "Enter a domain name, such as book.yourstudio.com."},
    )

    def add_application_error(self, error: ApplicationError) -> None:
        fields = {name: messages_ for name, messages_ in error.fields.items() if name in self.fields}
        if not fields:
            self.add_error(None, error.message)
        for name, messages_ in fields.items():
            for message in messages_:
                self.add_error(name, str(message))


class OwnerRequiredMixin(StaffRequiredMixin):
    """The studio's owner only; other staff get the desk's 403 page (the services refuse them too)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.is_studio_staff and request.user.role != Role.OWNER:
            return forbidden(request, "Only the studio's owner manages its domains.")
        return super().dispatch(request, *args, **kwargs)


def _page(request, form: DomainAddForm, status: int = 200):
    context = {
        "form": form,
        "domains": domain_services.studio_domains(studio=request.tenant, user=request.user),
        "platform_domain": domain_services.platform_domain(),
        # What a custom domain's CNAME record must name: the check accepts this studio's own host only.
        "studio_host": domain_services.studio_platform_host(request.tenant),
    }
    return render(request, "desk/domains/list.html", context, status=status)


def _domain(request, domain_id: int):
    try:
        return domain_services.studio_domain_get(studio=request.tenant, user=request.user, domain_id=domain_id)
    except NotFound as error:
        raise Http404(error.message) from None


class DomainsView(OwnerRequiredMixin, View):
    def get(self, request):
        return _page(request, DomainAddForm())

    def post(self, request):
        form = DomainAddForm(request.POST)
        if form.is_valid():
            try:
                domain = domain_services.custom_domain_add(
                    studio=request.tenant, domain=form.cleaned_data["domain"], actor=request.user
                )
            except ApplicationError as error:
                form.add_application_error(error)
            else:
                messages.success(
                    request,
                    f"{domain.domain} is added and waiting for verification: create its DNS record as shown below.",
                )
                return redirect(f"{reverse('desk:domains')}#domain-{domain.pk}")
        return _page(request, form, status=400)


class DomainCheckView(OwnerRequiredMixin, View):
    def post(self, request, domain_id: int):
        domain = _domain(request, domain_id)
        try:
            domain = domain_services.custom_domain_verify(domain=domain, actor=request.user)
        except ApplicationError as error:
            messages.error(request, f"{domain.domain} is not verified yet. {error.message}")
        else:
            messages.success(request, f"{domain.domain} is verified: it now shows your studio's site.")
        return redirect(f"{reverse('desk:domains')}#domain-{domain.pk}")


class DomainPrimaryView(OwnerRequiredMixin, View):
    def post(self, request, domain_id: int):
        domain = _domain(request, domain_id)
        try:
            domain_services.domain_set_primary(domain=domain, actor=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{domain.domain} is now the primary domain: links in emails lead there.")
        return redirect(reverse("desk:domains"))


class DomainRemoveView(OwnerRequiredMixin, View):
    def post(self, request, domain_id: int):
        domain = _domain(request, domain_id)
        try:
            domain_services.domain_remove(domain=domain, actor=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{domain.domain} is removed: it no longer shows your studio's site.")
        return redirect(reverse("desk:domains"))


urlpatterns = [
    path("domains/", DomainsView.as_view(), name="domains"),
    path("domains/<int:domain_id>/check/", DomainCheckView.as_view(), name="domain_check"),
    path("domains/<int:domain_id>/primary/", DomainPrimaryView.as_view(), name="domain_primary"),
    path("domains/<int:domain_id>/remove/", DomainRemoveView.as_view(), name="domain_remove"),
]
