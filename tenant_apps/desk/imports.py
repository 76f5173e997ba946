"""The desk: importing clients from a CSV file, and exporting them.

The same services as /api/clients/import/ and /api/clients/export/: a dry run first (what would be created,
updated, skipped, and each row's errors), then the import once the owner or a manager confirms it. The file
checked is kept in the cache between the two steps, under a token only its uploader can use, so the rows
imported are the rows that were checked. A file above CLIENT_IMPORT_SYNC_MAX_BYTES is checked and imported by
the background job, whose progress the page polls.
"""

import secrets

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.views import View

from shared_apps.core.exceptions import ApplicationError
from tenant_apps.clients import selectors, services
from tenant_apps.clients.api import IMPORT_MAX_BYTES
from tenant_apps.clients.models import ImportStatus
from tenant_apps.desk.access import StaffRequiredMixin, forbidden
from tenant_apps.desk.forms import refused_form

UPLOAD_KEPT_SECONDS = 60 * 60
MANAGERS_ONLY = "Only the studio's owner and managers can import or export clients."


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="The first line names the columns: email, first name, last name, phone, fitness level, tags, "
        "notes, active. Clients are matched by email; an empty cell changes nothing.",
        error_messages={"required": "Choose a CSV file to check."},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(f"The file is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB.")
        return upload


class ConfirmForm(forms.Form):
    upload = forms.CharField(max_length=64)


def _upload_key(request, token: str) -> str:
    # The cache key carries the studio (django-tenants' key function) and the uploader.
    return f"desk-import:{request.user.pk}:{token}"


def _keep_upload(request, content: bytes) -> str:
    token = secrets.token_urlsafe(24)
    cache.set(_upload_key(request, token), content, UPLOAD_KEPT_SECONDS)
    return token


class ManagersOnlyMixin(StaffRequiredMixin):
    """Owner and managers (``services.may_change_clients``, as the API asks); a trainer gets the 403 page."""

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and user.is_studio_staff and not services.may_change_clients(user):
            return forbidden(request, MANAGERS_ONLY)
        return super().dispatch(request, *args, **kwargs)


def _report_context(report: dict) -> dict:
    errors = report.get("errors") or []
    return {"report": report, "error_rows": len({error["row"] for error in errors})}


class ImportView(ManagersOnlyMixin, View):
    """Upload → the dry run's report; nothing is written here."""

    template_name = "desk/imports/upload.html"

    def get(self, request):
        return render(request, self.template_name, {"form": ImportForm()})

    def post(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > IMPORT_MAX_BYTES + 64 * 1024:
            # Refused before the upload is read, as the API does.
            form = refused_form(ImportForm, f"The file is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB.")
            return render(request, self.template_name, {"form": form}, status=413)
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        upload = form.cleaned_data["file"]
        content = upload.read()
        token = _keep_upload(request, content)
        if len(content) > settings.CLIENT_IMPORT_SYNC_MAX_BYTES:
            job = services.client_import_start(
                content=content, dry_run=True, file_name=upload.name or "", created_by=request.user
            )
            return redirect(f"{reverse('desk:import_job', args=[job.pk])}?upload={token}")
        try:
            report = services.client_import_csv(content=content, dry_run=True).as_dict()
        except ApplicationError as error:
            if not error.extra:  # the file itself can't be read: say so on the form
                for message in error.fields.get("file", [error.message]):
                    form.add_error("file", message)
                return render(request, self.template_name, {"form": form}, status=400)
            report = error.extra
        context = {"file_name": upload.name, "upload": token, "dry_run": True, **_report_context(report)}
        return render(request, "desk/imports/report.html", context, status=400 if report["errors"] else 200)


class ImportConfirmView(ManagersOnlyMixin, View):
    """Import the file the dry run checked: at once, or by a job for a large file."""

    def post(self, request):
        form = ConfirmForm(request.POST)
        key = _upload_key(request, form.data.get("upload", "")) if form.is_valid() else None
        content = cache.get(key) if key else None
        # Claimed by deleting it: of two confirms at once, only the one whose delete removed it imports.
        if content is None or not cache.delete(key):
            messages.error(request, "That file is no longer kept here: upload it again to check and import it.")
            return redirect("desk:import")
        if len(content) > settings.CLIENT_IMPORT_SYNC_MAX_BYTES:
            job = services.client_import_start(content=content, dry_run=False, created_by=request.user)
            return redirect("desk:import_job", job.pk)
        try:
            report = services.client_import_csv(content=content).as_dict()
        except ApplicationError as error:
            # The clients changed since the dry run (a row now clashes): nothing was written.
            context = {"refusal": error.message, "dry_run": False, **_report_context(error.extra or {"errors": []})}
            return render(request, "desk/imports/report.html", context, status=400)
        messages.success(
            request,
            f"Imported: {report['created']} created, {report['updated']} updated, {report['skipped']} unchanged.",
        )
        return redirect("desk:import")


class ImportJobView(ManagersOnlyMixin, View):
    """A background import's progress; htmx polls the progress part until the job has finished."""

    def get(self, request, import_id: int):
        job = get_object_or_404(selectors.client_imports(user=request.user), pk=import_id)
        finished = job.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)
        report = job.report or {}
        context = {
            "job": job,
            "finished": finished,
            "upload": request.GET.get("upload", "")[:64],
            "dry_run": job.dry_run,
            "refusal": job.error if job.status == ImportStatus.FAILED else "",
            **_report_context(report),
        }
        template = "desk/imports/_job.html" if request.htmx else "desk/imports/job.html"
        response = render(request, template, context)
        patch_vary_headers(response, ["HX-Request"])
        return response


class ExportView(ManagersOnlyMixin, View):
    def get(self, request):
        response = HttpResponse(services.client_export_csv(user=request.user), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="clients.csv"'
        return response


urlpatterns = [
    path("clients/import/", ImportView.as_view(), name="import"),
    path("clients/import/confirm/", ImportConfirmView.as_view(), name="import_confirm"),
    path("clients/import/jobs/<int:import_id>/", ImportJobView.as_view(), name="import_job"),
    path("clients/export/", ExportView.as_view(), name="export"),
]
