import pytest
from django.db import IntegrityError, transaction

from people.models import Profile, Team
from tenants.tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_every_member_gets_a_profile_in_their_tenant():
    user = UserFactory()
    profile = Profile.objects.get(user=user)
    assert profile.tenant_id == user.tenant_id
    assert (profile.title, profile.team_id, profile.manager_id, profile.birthday_consent) == ("", None, None, False)


def test_team_names_are_unique_per_tenant_only():
    a, b = TenantFactory(), TenantFactory()
    Team.objects.create(tenant=a, name="Sales")
    Team.objects.create(tenant=b, name="Sales")
    with pytest.raises(IntegrityError), transaction.atomic():
        Team.objects.create(tenant=a, name="Sales")


def test_birthday_is_both_parts_or_none():
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Profile.objects.filter(user=user).update(birthday_month=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Profile.objects.filter(user=user).update(birthday_month=13, birthday_day=1)
    Profile.objects.filter(user=user).update(birthday_month=2, birthday_day=29)


def test_nobody_is_their_own_manager():
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Profile.objects.filter(user=user).update(manager=user)
