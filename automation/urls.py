from django.urls import path

from . import views

app_name = "automation"

urlpatterns = [path("manage/settings/automation/", views.automation, name="settings")]
