from django.urls import path

from . import views

app_name = "points"

urlpatterns = [
    path("manage/", views.manage, name="manage"),
    path("manage/pool.json", views.pool_json, name="pool_json"),
    path("manage/delegate/", views.delegate, name="delegate"),
    path("manage/leads/<str:lead_id>/recall/", views.recall, name="recall"),
]
