from django.urls import path

from tenant_apps.clients import api

urlpatterns = [
    path("clients/", api.ClientListCreateApi.as_view(), name="clients"),
    path("clients/import/", api.ClientImportApi.as_view(), name="clients-import"),
    path("clients/imports/<int:import_id>/", api.ClientImportJobApi.as_view(), name="clients-import-job"),
    path("clients/export/", api.ClientExportApi.as_view(), name="clients-export"),
    path("clients/<int:client_id>/", api.ClientDetailApi.as_view(), name="client"),
    path("clients/<int:client_id>/erase/", api.ClientEraseApi.as_view(), name="client-erase"),
    path("clients/<int:client_id>/notes/", api.ClientNotesApi.as_view(), name="client-notes"),
    path("clients/<int:client_id>/timeline/", api.ClientTimelineApi.as_view(), name="client-timeline"),
    path("me/client/", api.MyClientApi.as_view(), name="me-client"),
]
