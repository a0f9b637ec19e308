from django.urls import path

from . import views

app_name = "identity"

urlpatterns = [
    path("manage/integrations/", views.integrations, name="integrations"),
    path("manage/settings/sso/", views.sso_settings, name="sso_settings"),
    path("accounts/sso/continue/", views.sso_redirect, name="sso_redirect"),
    path("accounts/sso/callback/", views.sso_callback, name="sso_callback"),
]
