from django.urls import path

from tenant_apps.packages import api

urlpatterns = [
    path("packages/", api.PackageListCreateApi.as_view(), name="packages"),
    path("packages/<int:package_id>/", api.PackageDetailApi.as_view(), name="package"),
    path("packages/<int:package_id>/clients/", api.PackageClientsApi.as_view(), name="package-clients"),
    path("packages/<int:package_id>/assign/", api.PackageAssignApi.as_view(), name="package-assign"),
    path("clients/<int:client_id>/packages/", api.ClientPackageListApi.as_view(), name="client-packages"),
    path(
        "clients/<int:client_id>/packages/<int:client_package_id>/adjust/",
        api.ClientPackageAdjustApi.as_view(),
        name="client-package-adjust",
    ),
    path("me/packages/", api.MyPackagesApi.as_view(), name="me-packages"),
]
