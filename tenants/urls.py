from django.urls import path

from tenants import api

urlpatterns = [
    path("studios/", api.StudioListCreateApi.as_view(), name="platform-studios"),
    path("studios/<int:studio_id>/", api.StudioDetailApi.as_view(), name="platform-studio"),
    path("studios/<int:studio_id>/suspend/", api.StudioSuspendApi.as_view(), name="platform-studio-suspend"),
    path("studios/<int:studio_id>/activate/", api.StudioActivateApi.as_view(), name="platform-studio-activate"),
]
