import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from people.models import Profile, Team

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_teams_managers_dates_birthdays_and_photos_once():
    call_command("seed_demo", verbosity=0)
    first = {
        p.user.email: (p.title, p.team_id, p.manager_id, p.hire_date, p.birthday_month, p.avatar.name)
        for p in Profile.objects.select_related("user")
    }
    call_command("seed_demo", verbosity=0)
    again = {
        p.user.email: (p.title, p.team_id, p.manager_id, p.hire_date, p.birthday_month, p.avatar.name)
        for p in Profile.objects.select_related("user")
    }
    assert first == again
    assert set(Team.objects.values_list("name", flat=True)) == {"Leadership", "Operations", "Engineering"}
    asha = Profile.objects.select_related("manager", "team").get(user__email="asha@triton.test")
    assert (asha.manager.email, asha.team.name, asha.title) == (
        "lead.eng@triton.test",
        "Engineering",
        "Senior Engineer",
    )
    today = timezone.localdate()
    assert Profile.objects.filter(hire_date__gte=today - dt.timedelta(days=7)).exists()  # a new hire
    assert asha.hire_date.month == (today + dt.timedelta(days=2)).month  # an anniversary in two days
    assert Profile.objects.filter(birthday_consent=True, birthday_month__isnull=False).count() >= 3
    assert Profile.objects.exclude(avatar="").count() == 3
