"""`manage.py seed_demo`: the demo company "Triton Energy", idempotently (SPEC §8).

Every point moves through the services, so the demo books reconcile. Running it
again changes nothing: people and rewards are looked up before they are
created, and the money moves only once (keyed on the "Invoice #8842" allocation).
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from people.demo import seed_people
from points.models import AllocationLog
from points.services import lead_delegate, tenant_allocate
from recognition.engagement import comment_create, reaction_add, value_create
from recognition.models import CompanyValue
from recognition.services import recognition_add_on, recognition_create
from tenants.models import Role, Tenant, User
from tenants.services import tenant_create, tenant_settings_update, user_create
from wallets.models import Reward
from wallets.services import redemption_create, reward_create

PASSWORD = "perksu-demo-2026"  # noqa: S105 - the published demo password
ADMIN = ("admin@perksu.test", "Platform Admin", Role.PLATFORM_ADMIN)
PEOPLE = [
    ("manager@triton.test", "Maya Raman", Role.TENANT_MANAGER),
    ("lead.ops@triton.test", "Arjun Mehta", Role.TENANT_LEAD),
    ("lead.eng@triton.test", "Priya Nair", Role.TENANT_LEAD),
    ("asha@triton.test", "Asha Kulkarni", Role.EMPLOYEE),
    ("rahul@triton.test", "Rahul Iyer", Role.EMPLOYEE),
    ("meera@triton.test", "Meera Das", Role.EMPLOYEE),
    ("vikram@triton.test", "Vikram Singh", Role.EMPLOYEE),
    ("zoya@triton.test", "Zoya Khan", Role.EMPLOYEE),
]
REWARDS = [
    ("Coffee voucher", "A coffee at the campus café.", 200, None),
    ("Movie tickets", "Two tickets at any partner cinema.", 800, 25),
    ("Extra day off", "One additional paid day off.", 5000, 5),
    ("Noise-cancelling headphones", "Over-ear, from the partner store.", 15000, 3),
]
INVOICE = "Invoice #8842"
VALUES = [
    ("Own it", "OwnIt", "Take responsibility for the outcome, not just the task."),
    ("Safety first", "SafetyFirst", "Nobody gets hurt; we stop the job when in doubt."),
    ("One team", "OneTeam", "Help the crew next to you; share what you know."),
]


class Command(BaseCommand):
    help = "Create the demo tenant Triton Energy with people, points, recognitions and rewards (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            admin = self._user(*ADMIN, tenant=None)
            if not admin.is_superuser:
                User.objects.filter(pk=admin.pk).update(is_superuser=True)
                admin.is_superuser = True
            tenant = Tenant.objects.filter(slug="triton-energy").first() or tenant_create(
                name="Triton Energy", slug="triton-energy", currency="INR", currency_label="Points"
            )
            people = {email: self._user(email, name, role, tenant=tenant) for email, name, role in PEOPLE}
            manager = people["manager@triton.test"]
            for name, description, cost, stock in REWARDS:
                if not Reward.objects.filter(tenant=tenant, name=name).exists():
                    reward_create(actor=manager, name=name, description=description, points_cost=cost, stock=stock)
            if not AllocationLog.objects.filter(tenant=tenant, reference_note=INVOICE).exists():
                self._move_money(admin, tenant, people)
            seed_people(tenant)
            if not CompanyValue.objects.filter(tenant_id=tenant.pk).exists():
                self._peer_recognition(tenant, people)
        self._print_logins(tenant)

    def _user(self, email: str, full_name: str, role: str, *, tenant: Tenant | None) -> User:
        return User.objects.for_email(email) or user_create(
            email=email, full_name=full_name, role=role, password=PASSWORD, tenant=tenant
        )

    def _move_money(self, admin: User, tenant: Tenant, people: dict[str, User]) -> None:
        manager = people["manager@triton.test"]
        ops, eng = people["lead.ops@triton.test"], people["lead.eng@triton.test"]
        asha, rahul, meera = people["asha@triton.test"], people["rahul@triton.test"], people["meera@triton.test"]
        tenant_allocate(actor=admin, tenant_id=tenant.pk, amount=50_000, reference_note=INVOICE)
        lead_delegate(actor=manager, lead_id=ops.pk, amount=10_000, note="Q4 operations recognition budget")
        lead_delegate(actor=manager, lead_id=eng.pk, amount=5_000, note="Q4 engineering recognition budget")
        recognition_create(
            giver=manager, recipient_ids=[asha.pk], points=1_000, message="Great project delivery on the Tethys rig."
        )
        recognition_create(
            giver=ops, recipient_ids=[rahul.pk, meera.pk], points=300, message="Zero incidents through the shutdown."
        )
        recognition_create(giver=eng, recipient_ids=[asha.pk], points=500, message="The telemetry fix saved a week.")
        recognition_create(giver=asha, recipient_ids=[rahul.pk], points=0, message="Thanks for covering my shift!")
        coffee = Reward.objects.get(tenant=tenant, name="Coffee voucher")
        redemption_create(user=asha, reward_id=coffee.pk)

    def _peer_recognition(self, tenant: Tenant, people: dict[str, User]) -> None:
        """SPEC §10 at a glance: 100 points a month for every employee to give, three values,
        gifts from allowances (one with an add-on), reactions and comments."""
        manager = people["manager@triton.test"]
        asha, rahul, meera = people["asha@triton.test"], people["rahul@triton.test"], people["meera@triton.test"]
        vikram, zoya = people["vikram@triton.test"], people["zoya@triton.test"]
        tenant_settings_update(
            actor=manager,
            tenant=tenant,
            changes={"timezone": "Asia/Kolkata", "locale": "en-IN", "allowance_employee": 100, "allowance_lead": 50},
        )
        for name, tag, description in VALUES:
            value_create(actor=manager, name=name, hashtag=tag, description=description)
        first = recognition_create(
            giver=rahul,
            recipient_ids=[asha.pk],
            points=20,
            message="Stayed late to get the pump telemetry back online. #OwnIt",
        )
        recognition_create(
            giver=meera,
            recipient_ids=[vikram.pk, zoya.pk],
            points=10,
            message="The safety walkthrough was the clearest we've had. #SafetyFirst #OneTeam",
        )
        recognition_add_on(giver=zoya, recognition_id=first.group_id, points=10, message="+10, it saved my morning")
        reaction_add(user=meera, recognition_id=first.group_id, emoji="👏")
        reaction_add(user=manager, recognition_id=first.group_id, emoji="🎉")
        comment_create(author=manager, recognition_id=first.group_id, text="Exactly the ownership we want to see.")
        comment_create(author=asha, recognition_id=first.group_id, text="Thank you both!")

    def _print_logins(self, tenant: Tenant) -> None:
        out = self.stdout.write
        pool = Tenant.objects.get(pk=tenant.pk).points_allocation_balance
        out(self.style.SUCCESS(f"Demo data ready: {tenant.name} (pool {pool:,} points)."))
        out(f"Open http://127.0.0.1:8000/ and log in with any of these (password: {PASSWORD}):")
        out(f"  {ADMIN[0]:<24} platform admin (also /admin/)")
        for email, name, role in PEOPLE:
            out(f"  {email:<24} {Role(role).label}: {name}")
