"""factory-boy factories. Users are created through `tenants.services.user_create`,
so every member has its wallet and every lead its budget, as in production."""

import factory

from tenants.models import Role, Tenant, User
from tenants.services import tenant_create, user_create

PASSWORD = "correct-horse-battery-staple"


class TenantFactory(factory.Factory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Company {n}")
    slug = factory.Sequence(lambda n: f"company-{n}")
    currency = "INR"
    currency_label = "Points"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return tenant_create(**kwargs)


class UserFactory(factory.Factory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Sequence(lambda n: f"Person {n}")
    role = Role.EMPLOYEE
    tenant = factory.SubFactory(TenantFactory)
    password = PASSWORD

    @classmethod
    def _create(cls, model_class, **kwargs):
        user = user_create(**kwargs)
        if kwargs["role"] == Role.PLATFORM_ADMIN:
            User.objects.filter(pk=user.pk).update(is_superuser=True)
            user.is_superuser = True
        return user


class ManagerFactory(UserFactory):
    role = Role.TENANT_MANAGER


class LeadFactory(UserFactory):
    role = Role.TENANT_LEAD


class PlatformAdminFactory(UserFactory):
    role = Role.PLATFORM_ADMIN
    tenant = None
