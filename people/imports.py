"""CSV import of members (SPEC §11): plan (the dry run) and apply, both set-based.

Read with the standard library's `csv` (a BOM, `;` or `,`, CRLF or LF), then
checked against the tenant as it is, read in a fixed number of queries whatever
the number of rows (all of the tenant's members with their profiles, its teams,
its leads' budgets, and the other accounts that hold one of the file's new
e-mails). Applying is one transaction that writes with one statement per table
(PostgreSQL: `UPDATE … FROM unnest(arrays)`, inserts as multi-row INSERTs), so
50,000 rows cost the same number of statements as 50.

What a cell means (`docs/PEOPLE.md` has the table): a column left out of the file
leaves that field alone; an empty cell in a present column clears the field
(title, team, manager, hire date, birthday), except `role`, `full_name` and
`active`, where empty means "keep" (a new member: employee, active; a full name is
required). The same file applied twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from events import event_types, payloads
from events.services import record_events
from perksu.db import copy_insert, copy_rows
from points.models import LeadBudget
from tenants.models import TENANT_ROLES, Role, Tenant, User, UserEmail
from wallets.models import Wallet

from .models import Profile, Team

COLUMNS = ("email", "full_name", "role", "title", "team", "manager_email", "hire_date", "birthday", "active")
ROLE_NAMES = {
    **{r.value: r.value for r in TENANT_ROLES},
    **{r.label.lower(): r.value for r in TENANT_ROLES},
    "manager": Role.TENANT_MANAGER,
    "lead": Role.TENANT_LEAD,
}
TRUE = {"true", "yes", "y", "1", "active"}
FALSE = {"false", "no", "n", "0", "inactive"}
BIRTHDAY = re.compile(r"^(?:--|\d{4}-)?(\d{1,2})-(\d{1,2})$")
MAX_BYTES = 50 * 1024 * 1024
# What an import reads of each member and profile (a deferred field read per row would be a query per row).
MEMBER_FIELDS = ("id", "email", "full_name", "role", "is_active", "tenant_id")
PROFILE_FIELDS = (
    "user_id",
    "tenant_id",
    "title",
    "team_id",
    "manager_id",
    "hire_date",
    "birthday_month",
    "birthday_day",
    "deactivated_at",
    "updated_at",
)


@dataclass
class ImportResult:
    dry_run: bool
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def error(self, row: int | None, column: str | None, message: str) -> None:
        self.errors.append({"row": row, "column": column, "message": message})

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "created": self.created,
            "updated": self.updated,
            "deactivated": self.deactivated,
            "unchanged": self.unchanged,
            "errors": self.errors,
            "rows": self.rows,
        }


@dataclass
class _Row:
    row: int
    email: str
    cells: dict[str, str]


def read_csv(data: bytes, result: ImportResult) -> list[_Row]:
    """The file's records as cells by column, or errors (not UTF-8, no header, unknown columns)."""
    if len(data) > MAX_BYTES:
        result.error(None, None, "The file is larger than 50 MB.")
        return []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        result.error(row, None, "The file is not UTF-8 text: save it as “CSV UTF-8” and try again.")
        return []
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(records, None)
    except csv.Error as exc:
        result.error(1, None, f"The header cannot be read: {exc}.")
        return []
    names = [(name or "").strip().lower().replace(" ", "_") for name in (header or [])]
    if "email" not in names:
        result.error(
            1,
            None,
            "The first row must be a header naming the columns (email, full_name, role, title, team, "
            "manager_email, hire_date, birthday, active); it has no “email” column.",
        )
        return []
    for name in names:
        if name not in COLUMNS:
            result.error(1, name or None, f"Unknown column “{name}”. Known columns: {', '.join(COLUMNS)}.")
    if len(set(names)) != len(names):
        result.error(1, None, "A column is named twice in the header.")
    if result.errors:
        return []
    rows = []
    number = 1
    try:
        for number, record in enumerate(records, start=2):
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(names):
                result.error(number, None, f"This row has {len(record)} cells for {len(names)} columns.")
                continue
            cells = {name: (record[i].strip() if i < len(record) else "") for i, name in enumerate(names)}
            rows.append(_Row(number, cells["email"].lower(), cells))
    except csv.Error as exc:
        result.error(number + 1, None, f"This row cannot be read: {exc}.")
    return rows


@dataclass
class _Plan:
    tenant: Tenant
    new_users: list[User] = field(default_factory=list)
    new_profiles: list[Profile] = field(default_factory=list)
    changed_users: list[User] = field(default_factory=list)
    changed_profiles: list[Profile] = field(default_factory=list)
    new_teams: list[Team] = field(default_factory=list)
    new_leads: list[User] = field(default_factory=list)
    deactivated: list[User] = field(default_factory=list)


def members_import(
    *, tenant: Tenant, actor: User | None, data: bytes, dry_run: bool = True, deactivate_missing: bool = False
) -> ImportResult:
    """Check the file and report per row; unless `dry_run` (and only if there is no error),
    apply it in one transaction. With `deactivate_missing`, active members absent from the
    file are deactivated (the importing manager must be in the file)."""
    result = ImportResult(dry_run=dry_run)
    rows = read_csv(data, result)
    if result.errors:
        return result
    if dry_run:
        _plan(tenant, actor, rows, deactivate_missing, result)
        return result
    try:
        with transaction.atomic():
            plan = _plan(tenant, actor, rows, deactivate_missing, result, lock=True)
            if result.errors:
                return result
            _apply(plan, actor)
    except IntegrityError:
        # Another change to the same members committed meanwhile (e.g. two imports at once).
        result = ImportResult(dry_run=dry_run)
        result.error(
            None, None, "The members changed while the file was being applied; nothing was changed. Try again."
        )
    return result


def _plan(
    tenant: Tenant,
    actor: User | None,
    rows: list[_Row],
    deactivate_missing: bool,
    result: ImportResult,
    lock: bool = False,
) -> _Plan:
    plan = _Plan(tenant)
    now = timezone.now()
    new_user = _Maker(User, tenant_id=tenant.pk, role=Role.EMPLOYEE.value, is_active=True, date_joined=now)
    new_profile = _Maker(Profile, tenant_id=tenant.pk, updated_at=now)
    if lock and connection.vendor == "postgresql":
        # One import per tenant at a time (a transaction-scoped advisory lock, not 50,000 row locks).
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"people.import:{tenant.pk}"])
    # Only the columns the plan reads and writes: 50,000 members are read whole on every import.
    members = (
        User.objects.filter(tenant=tenant)
        .select_related("profile")
        .only(*MEMBER_FIELDS, *(f"profile__{name}" for name in PROFILE_FIELDS))
    )
    by_email: dict[str, User] = {u.email: u for u in members}
    # The state before this file, to tell updates from unchanged rows.
    original = {u.pk: (u.full_name, u.role, u.is_active) for u in by_email.values()}
    original_profiles = {
        u.pk: _profile_state(u.profile) for u in by_email.values() if getattr(u, "profile", None) is not None
    }
    teams = {t.name.lower(): t for t in Team.objects.filter(tenant=tenant)}
    lead_budgets = dict(LeadBudget.objects.filter(tenant=tenant).values_list("lead_id", "balance"))
    present = set(rows[0].cells) if rows else set()

    # E-mails: valid, once in the file, and not another company's account.
    seen: dict[str, int] = {}
    valid_rows: list[_Row] = []
    for r in rows:
        if not r.email:
            result.error(r.row, "email", "An e-mail is required.")
            continue
        try:
            validate_email(r.email)
        except ValidationError:
            result.error(r.row, "email", f"“{r.email}” is not a valid e-mail address.")
            continue
        if r.email in seen:
            result.error(r.row, "email", f"Duplicate e-mail: {r.email} is also on row {seen[r.email]}.")
            continue
        seen[r.email] = r.row
        valid_rows.append(r)
    new_emails = [r.email for r in valid_rows if r.email not in by_email]
    taken: set[str] = set()
    # One query on PostgreSQL; SQLite caps the variables of a statement.
    step = len(new_emails) or 1 if connection.vendor == "postgresql" else 30_000
    for start in range(0, len(new_emails), step):
        chunk = new_emails[start : start + step]
        taken.update(UserEmail.objects.filter(email__in=chunk).values_list("email", flat=True))

    # Each row against the member it names (or a new one).
    planned: dict[str, tuple[User, Profile, _Row]] = {}
    for r in valid_rows:
        if r.email in taken:
            result.error(r.row, "email", "This e-mail cannot be added: it is already in use by another account.")
            continue
        user = by_email.get(r.email)
        is_new = user is None
        if is_new:
            # Ids, not related objects: no descriptor work for each of 50,000 rows.
            user = new_user(id=uuid.uuid4(), email=r.email)
            profile = new_profile(user_id=user.pk)
        else:
            profile = getattr(user, "profile", None) or new_profile(user_id=user.pk)
        c = r.cells
        full_name = c.get("full_name", "")
        if full_name:
            if len(full_name) > 200:
                result.error(r.row, "full_name", "A name is at most 200 characters.")
            user.full_name = full_name
        elif is_new:
            result.error(r.row, "full_name", "A new member needs a full name.")
        role_text = c.get("role", "")
        if role_text:
            role = ROLE_NAMES.get(role_text.lower())
            if role is None:
                result.error(r.row, "role", f"Unknown role “{role_text}”: use employee, tenant_lead or tenant_manager.")
            elif role != user.role:
                if not is_new and actor is not None and user.pk == actor.pk:
                    result.error(r.row, "role", "You cannot change your own role.")
                elif not is_new and user.role == Role.TENANT_LEAD and lead_budgets.get(user.pk, 0) > 0:
                    result.error(
                        r.row,
                        "role",
                        f"This lead still holds {lead_budgets[user.pk]} delegated points. Recall them first.",
                    )
                user.role = role
        active_text = c.get("active", "").lower()
        if active_text:
            if active_text in TRUE:
                user.is_active = True
            elif active_text in FALSE:
                if actor is not None and user.pk == actor.pk:
                    result.error(r.row, "active", "You cannot deactivate yourself.")
                user.is_active = False
            else:
                result.error(r.row, "active", f"“{c['active']}” is not true or false.")
        if "title" in present:
            if len(c["title"]) > 120:
                result.error(r.row, "title", "A title is at most 120 characters.")
            profile.title = c["title"][:120]
        if "team" in present:
            name = c["team"]
            if not name:
                profile.team_id = None
            elif len(name) > 120:
                result.error(r.row, "team", "A team name is at most 120 characters.")
            else:
                team = teams.get(name.lower())
                if team is None:
                    team = teams[name.lower()] = Team(id=uuid.uuid4(), tenant=tenant, name=name, created_at=now)
                    plan.new_teams.append(team)
                profile.team_id = team.pk
        if "hire_date" in present:
            profile.hire_date = None
            if c["hire_date"]:
                try:
                    profile.hire_date = dt.date.fromisoformat(c["hire_date"])
                except ValueError:
                    result.error(r.row, "hire_date", f"“{c['hire_date']}” is not a date (YYYY-MM-DD).")
        if "birthday" in present:
            profile.birthday_month = profile.birthday_day = None
            if c["birthday"]:
                match = BIRTHDAY.match(c["birthday"])
                try:
                    if not match:
                        raise ValueError
                    month, day = int(match[1]), int(match[2])
                    dt.date(2000, month, day)
                    profile.birthday_month, profile.birthday_day = month, day
                except ValueError:
                    result.error(r.row, "birthday", f"“{c['birthday']}” is not a birthday (MM-DD or YYYY-MM-DD).")
        planned[r.email] = (user, profile, r)

    # Managers: a member of this company (already, or in this file), and no reporting loop.
    if "manager_email" in present:
        for user, profile, r in planned.values():
            email = r.cells["manager_email"].lower()
            if not email:
                profile.manager_id = None
                continue
            manager = planned[email][0] if email in planned else by_email.get(email)
            if manager is None:
                result.error(r.row, "manager_email", f"Unknown manager “{email}”: not a member of your company.")
            elif manager.pk == user.pk:
                result.error(r.row, "manager_email", "Nobody is their own manager.")
            elif not manager.is_active:
                result.error(r.row, "manager_email", f"The manager {email} is deactivated.")
            else:
                profile.manager_id = manager.pk
    edges = {u.pk: u.profile.manager_id for u in by_email.values() if getattr(u, "profile", None)}
    edges.update({u.pk: p.manager_id for u, p, _ in planned.values()})
    in_loop = _in_cycles(edges)
    for user, _profile, r in planned.values():
        if user.pk in in_loop:
            column = "manager_email" if "manager_email" in present else None
            result.error(r.row, column, "This manager would make a reporting loop.")

    # Leavers: active members the file does not name.
    missing: list[User] = []
    if deactivate_missing:
        missing = [u for email, u in by_email.items() if u.is_active and email not in seen]
        if actor is not None and any(u.pk == actor.pk for u in missing):
            result.error(
                None, None, "You are not in the file: deactivating the members missing from it would deactivate you."
            )

    # What each row would do.
    for user, profile, r in planned.values():
        if user.pk not in original:
            action = "create"
            plan.new_users.append(user)
            plan.new_profiles.append(profile)
            if user.role == Role.TENANT_LEAD:
                plan.new_leads.append(user)
            result.created += 1
        else:
            was_active = original[user.pk][2]
            user_changed = (user.full_name, user.role, user.is_active) != original[user.pk]
            profile_changed = _profile_state(profile) != original_profiles.get(user.pk)
            if was_active and not user.is_active:
                action = "deactivate"
                result.deactivated += 1
                profile.deactivated_at = now
                plan.deactivated.append(user)
            elif user_changed or profile_changed:
                action = "update"
                result.updated += 1
                if user.is_active and not was_active:
                    profile.deactivated_at = None
            else:
                action = "unchanged"
                result.unchanged += 1
            if user_changed:
                plan.changed_users.append(user)
                if user.role == Role.TENANT_LEAD and user.pk not in lead_budgets:
                    plan.new_leads.append(user)
            if profile_changed or was_active != user.is_active or user.pk not in original_profiles:
                profile.updated_at = now
                plan.changed_profiles.append(profile)
        result.rows.append({"row": r.row, "email": user.email, "action": action})
    for user in missing:
        user.is_active = False
        profile = getattr(user, "profile", None) or new_profile(user_id=user.pk)
        profile.deactivated_at = now
        profile.updated_at = now
        plan.changed_users.append(user)
        plan.changed_profiles.append(profile)
        plan.deactivated.append(user)
        result.deactivated += 1
        result.rows.append({"row": None, "email": user.email, "action": "deactivate"})
    result.errors.sort(key=lambda e: (e["row"] is not None, e["row"] or 0))
    return plan


class _Maker:
    """Unsaved instances of `model` built from positional values, as Django builds the rows it
    reads: the fields' defaults are computed once per import, not once per row (50,000 rows,
    a dozen fields each). `fixed` values apply to every instance; the primary key is always given."""

    def __init__(self, model, **fixed):
        self.model = model
        fields = model._meta.concrete_fields
        self.attnames = [f.attname for f in fields]
        self.pk = model._meta.pk.attname
        self.defaults = {f.attname: f.get_default() for f in fields} | fixed
        mutable = [a for a, v in self.defaults.items() if isinstance(v, dict | list | set)]
        if mutable:
            raise ValueError(f"{model.__name__}: a mutable default would be shared: {mutable}")

    def __call__(self, **values):
        if self.pk not in values:
            raise ValueError(f"{self.model.__name__}: the primary key is required")
        defaults = self.defaults
        return self.model(*[values[a] if a in values else defaults[a] for a in self.attnames])


def _profile_state(profile: Profile) -> tuple:
    return (
        profile.title,
        profile.team_id,
        profile.manager_id,
        profile.hire_date,
        profile.birthday_month,
        profile.birthday_day,
    )


def _in_cycles(edges: dict[Any, Any]) -> set[Any]:
    """The members on a reporting loop, in one pass over `edges` {member: manager}."""
    state: dict[Any, int] = {}  # 1: on the current path, 2: done
    looped: set[Any] = set()
    for start in edges:
        path = []
        node = start
        while node is not None and node not in state:
            state[node] = 1
            path.append(node)
            node = edges.get(node)
        if node is not None and state.get(node) == 1:
            looped.update(path[path.index(node) :])
        for n in path:
            state[n] = 2
    return looped


def _apply(plan: _Plan, actor: User | None) -> None:
    """Write the plan: one statement per table (COPY or INSERT, then updates), inside the caller's transaction."""
    from identity.services import users_credentials_revoke

    tenant = plan.tenant
    copy_insert(Team, plan.new_teams)
    if plan.new_users:
        unusable = make_password(None)
        for user in plan.new_users:
            user.password = unusable
        # One COPY per table on PostgreSQL (perksu.db.copy_insert): the rows are streamed, not built as SQL.
        # Each e-mail's row in user_emails first: an e-mail claimed meanwhile fails here, before the users.
        copy_insert(UserEmail, [UserEmail(email=u.email, tenant_id=tenant.pk, user_id=u.pk) for u in plan.new_users])
        copy_insert(User, plan.new_users)
        wallet_columns = ["id", "tenant_id", "user_id", "balance", "lifetime_earned", "lifetime_spent"]
        wallet_columns += ["last_entry_no", "created_at"]
        now = timezone.now()
        if connection.vendor == "postgresql":
            rows = ((uuid.uuid4(), tenant.pk, u.pk, 0, 0, 0, 0, now) for u in plan.new_users)
            copy_rows(Wallet, wallet_columns, rows)
        else:
            copy_insert(Wallet, [Wallet(tenant_id=tenant.pk, user_id=u.pk) for u in plan.new_users])
        copy_insert(Profile, plan.new_profiles)
    if plan.new_leads:
        LeadBudget.objects.bulk_create(
            [LeadBudget(tenant_id=tenant.pk, lead_id=u.pk) for u in plan.new_leads], ignore_conflicts=True
        )
    if plan.changed_users:
        bulk_update(
            User,
            plan.changed_users,
            {"full_name": "text", "role": "text", "is_active": "boolean"},
        )
    if plan.changed_profiles:
        bulk_update(
            Profile,
            plan.changed_profiles,
            {
                "title": "text",
                "team_id": "uuid",
                "manager_id": "uuid",
                "hire_date": "date",
                "birthday_month": "smallint",
                "birthday_day": "smallint",
                "deactivated_at": "timestamptz",
                "updated_at": "timestamptz",
            },
            upsert=True,
        )
    if plan.deactivated:
        users_credentials_revoke(
            tenant_id=tenant.pk, user_ids=[u.pk for u in plan.deactivated]
        )  # every session and token ends
    actor_id = actor.pk if actor is not None else None
    record_events(
        tenant_id=tenant.pk,
        name=event_types.USER_CREATED,
        payloads=[payloads.user(u) for u in plan.new_users],
        actor_id=actor_id,
    )
    record_events(
        tenant_id=tenant.pk,
        name=event_types.USER_DEACTIVATED,
        payloads=[payloads.user(u) for u in plan.deactivated],
        actor_id=actor_id,
    )


def bulk_update(model, objs: list, columns: dict[str, str], *, upsert: bool = False) -> None:
    """Set `columns` of `objs` (keyed by primary key) in one statement on PostgreSQL
    (`UPDATE … FROM unnest(…)`; with `upsert`, `INSERT … ON CONFLICT DO UPDATE` so a member
    without a profile row gets one); Django's `bulk_update` in batches elsewhere."""
    pk = model._meta.pk
    if connection.vendor != "postgresql":
        if upsert:
            have = set(model.objects.filter(pk__in=[o.pk for o in objs]).values_list("pk", flat=True))
            model.objects.bulk_create([o for o in objs if o.pk not in have], batch_size=500)
        model.objects.bulk_update(objs, [c.removesuffix("_id") for c in columns], batch_size=500)
        return
    table = model._meta.db_table
    key = pk.column
    names = list(columns)
    # Rows are matched on (tenant_id, key): the primary key on PostgreSQL (SPEC §14), and every
    # write stays within the tenant's rows.
    arrays = [[o.tenant_id for o in objs], [getattr(o, pk.attname) for o in objs]]
    arrays += [[getattr(o, name) for o in objs] for name in names]
    unnest = ", ".join(f"%s::{t}[]" for t in ["uuid", "uuid", *columns.values()])
    with connection.cursor() as cursor:
        if upsert:
            cursor.execute(
                f"INSERT INTO {table} (tenant_id, {key}, {', '.join(names)}, birthday_consent, avatar, avatar_small) "
                f"SELECT *, false, '', '' FROM unnest({unnest}) "
                f"ON CONFLICT (tenant_id, {key}) DO UPDATE SET {', '.join(f'{n} = EXCLUDED.{n}' for n in names)}",
                arrays,
            )
        else:
            cursor.execute(
                f"UPDATE {table} t SET {', '.join(f'{n} = v.{n}' for n in names)} "
                f"FROM unnest({unnest}) AS v(tenant_id, {key}, {', '.join(names)}) "
                f"WHERE t.tenant_id = v.tenant_id AND t.{key} = v.{key}",
                arrays,
            )
