from django.urls import path

from tenant_apps.clients import api

urlpatterns = [
    path("clients/", api.ClientListCreateApi.as_view(), name="clients"),
    path("clients/<int:client_id>/", api.ClientDetailApi.as_view(), name="client"),
]
