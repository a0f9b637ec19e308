from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("manage/insights/", views.insights_page, name="insights"),
    path("manage/insights/export/<slug:table>.csv", views.export, name="export"),
    path("manage/insights/payroll.csv", views.payroll, name="payroll"),
]
