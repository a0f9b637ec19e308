from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Identity: API tokens, SCIM provisioning, single sign-on"
    default_auto_field = "django.db.models.BigAutoField"
