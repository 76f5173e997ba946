from django.urls import path

from tenant_apps.site import views

urlpatterns = [path("", views.HomeView.as_view(), name="landing")]
