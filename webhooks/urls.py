from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("manage/integrations/webhooks/", views.integrations, name="integrations"),
    path(
        "manage/integrations/webhooks/<str:endpoint_id>/<str:action>/",
        views.endpoint_action,
        name="endpoint_action",
    ),
    path("manage/integrations/webhooks/<str:endpoint_id>/", views.endpoint_deliveries, name="deliveries"),
    path("manage/integrations/deliveries/<str:delivery_id>/redeliver/", views.redeliver, name="redeliver"),
]
