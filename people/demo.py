"""The people part of `manage.py seed_demo`: teams, managers, titles, hire dates, birthdays
and a few generated photos (drawn with Pillow, nothing downloaded). Idempotent: dates and
photos are set only where there are none, so a second run changes nothing."""

from __future__ import annotations

import datetime as dt
import io

from django.utils import timezone
from PIL import Image, ImageDraw

from tenants.models import Tenant, User

from .models import Profile, Team
from .photos import photo_set
from .services import profile_update

TEAMS = [("Leadership", None), ("Operations", "Leadership"), ("Engineering", "Leadership")]
# email: (title, team, manager email, hire date offset in days from today, birthday offset or None, consent)
PROFILES = {
    "manager@triton.test": ("Head of People", "Leadership", None, -2900, 40, True),
    "lead.ops@triton.test": ("Operations Lead", "Operations", "manager@triton.test", -1800, None, False),
    "lead.eng@triton.test": ("Engineering Lead", "Engineering", "manager@triton.test", -1460, 120, True),
    # A work anniversary in two days (three years in), for the anniversary rules.
    "asha@triton.test": ("Senior Engineer", "Engineering", "lead.eng@triton.test", "anniversary+2", 0, True),
    "rahul@triton.test": ("Field Technician", "Operations", "lead.ops@triton.test", -700, 3, True),
    "meera@triton.test": ("Safety Officer", "Operations", "lead.ops@triton.test", -400, 200, False),
    # A new hire of this week, for the welcome rules.
    "vikram@triton.test": ("Graduate Engineer", "Engineering", "lead.eng@triton.test", -3, 1, True),
    "zoya@triton.test": ("Data Analyst", "Engineering", "lead.eng@triton.test", -9, None, False),
}
PHOTOS = {
    "manager@triton.test": ((31, 95, 191), (255, 200, 87)),
    "asha@triton.test": ((15, 122, 92), (240, 240, 240)),
    "rahul@triton.test": ((163, 65, 15), (255, 230, 180)),
}


def _hire_date(today: dt.date, offset) -> dt.date:
    if offset == "anniversary+2":
        day = today + dt.timedelta(days=2)
        try:
            return day.replace(year=day.year - 3)
        except ValueError:  # 29 February
            return day.replace(year=day.year - 3, day=28)
    return today + dt.timedelta(days=offset)


def portrait(background: tuple, accent: tuple) -> bytes:
    """A simple generated head-and-shoulders picture (PNG)."""
    image = Image.new("RGB", (320, 320), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((105, 60, 215, 170), fill=accent)
    draw.ellipse((60, 190, 260, 390), fill=accent)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def seed_people(tenant: Tenant) -> None:
    teams: dict[str, Team] = {}
    for name, parent in TEAMS:
        teams[name] = Team.objects.filter(tenant=tenant, name=name).first() or Team.objects.create(
            tenant=tenant, name=name, parent=teams.get(parent) if parent else None
        )
    members = {u.email: u for u in User.objects.filter(tenant=tenant).select_related("profile")}
    today = timezone.localdate()
    for email, (title, team, manager, hire, birthday, consent) in PROFILES.items():
        user = members.get(email)
        if user is None:
            continue
        profile: Profile = user.profile
        changes = {"title": title, "team": teams[team], "manager": members.get(manager) if manager else None}
        if profile.hire_date is None:
            changes["hire_date"] = _hire_date(today, hire)
        if birthday is not None and profile.birthday_month is None:
            day = today + dt.timedelta(days=birthday)
            changes.update(birthday=(day.month, day.day), birthday_consent=consent)
        profile_update(user=user, actor=None, **changes)
        if email in PHOTOS and not profile.avatar:
            photo_set(user=user, data=portrait(*PHOTOS[email]))
