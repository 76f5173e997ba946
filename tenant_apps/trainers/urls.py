from django.urls import path

from tenant_apps.trainers import api

urlpatterns = [
    path("trainers/", api.TrainerListCreateApi.as_view(), name="trainers"),
    path("trainers/<int:trainer_id>/", api.TrainerDetailApi.as_view(), name="trainer"),
    path("session-types/", api.SessionTypeListCreateApi.as_view(), name="session-types"),
    path("session-types/<int:session_type_id>/", api.SessionTypeDetailApi.as_view(), name="session-type"),
]
