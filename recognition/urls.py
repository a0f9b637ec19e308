from django.urls import path

from . import views, views_settings

app_name = "recognition"

urlpatterns = [
    path("recognize/", views.recognize, name="recognize"),
    path("feed/", views.feed, name="feed"),
    path("manage/settings/", views_settings.programme_settings, name="settings"),
    path("manage/settings/values/", views_settings.value_save, name="value_add"),
    path("manage/settings/values/<uuid:value_id>/", views_settings.value_save, name="value_save"),
    path("feed/<uuid:group_id>/react/", views.react, name="react"),
    path("feed/<uuid:group_id>/comment/", views.comment, name="comment"),
    path("feed/<uuid:group_id>/add-on/", views.add_on, name="add_on"),
    path("feed/comments/<uuid:comment_id>/delete/", views.comment_delete, name="comment_delete"),
    path("feed/comments/<uuid:comment_id>/hide/", views.comment_hide, name="comment_hide"),
]
