"""The platform admins' pages, under /platform/ on the platform host."""

from tenants import domain_views, platform_views

app_name = "platform"

urlpatterns = [*platform_views.urlpatterns, *domain_views.urlpatterns]
