from django.urls import path

from agencies import webhook_apis

urlpatterns = [
    path("webhooks/", webhook_apis.WebhookListApi.as_view(), name="webhook-list"),
    path(
        "webhooks/<int:webhook_id>/",
        webhook_apis.WebhookDetailApi.as_view(),
        name="webhook-detail",
    ),
]
