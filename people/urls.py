from django.urls import path

from . import views

app_name = "people"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("people/photos/<uuid:user_id>/<int:size>.webp", views.photo, name="photo"),
    path("accounts/password-reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path("accounts/password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path("accounts/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
    path("accounts/reset/done/", views.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
    path("accounts/invitation/<uidb64>/<token>/", views.InvitationAcceptView.as_view(), name="invitation-accept"),
    path("manage/people/", views.people_list, name="list"),
    path("manage/people/new/", views.person_add, name="add"),
    path("manage/people/import/", views.people_import, name="import"),
    path("manage/people/<uuid:user_id>/", views.person_edit, name="edit"),
    path("manage/people/<uuid:user_id>/active/", views.person_set_active, name="set-active"),
]
