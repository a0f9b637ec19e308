from django.urls import path

from . import views

app_name = "recognition"

urlpatterns = [
    path("recognize/", views.recognize, name="recognize"),
    path("feed/", views.feed, name="feed"),
]
