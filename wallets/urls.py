from django.urls import path

from . import views

app_name = "wallets"

urlpatterns = [
    path("wallet/", views.wallet, name="wallet"),
    path("rewards/", views.rewards, name="rewards"),
    path("rewards/<str:reward_id>/redeem/", views.redeem, name="redeem"),
    path("rewards/redemptions/<str:redemption_id>/", views.redemption, name="redemption"),
    path("rewards/redemptions/<str:redemption_id>/refund/", views.refund, name="refund"),
]
