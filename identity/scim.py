"""SCIM 2.0 (RFC 7643/7644) at `/scim/v2/`: Users are a tenant's members, Groups its teams.

Authorised by a tenant's SCIM token (`Authorization: Bearer scim_…`, identity.ScimToken):
every read and write is scoped to that tenant, and another tenant's id answers 404
exactly like a missing one. Writes go through the people and tenants services.

Mapping. `userName` is the e-mail; `name.givenName` + `name.familyName` (or
`name.formatted`, or `displayName`) make `full_name`; `title` is the profile's title;
`active` is `is_active` (deactivation ends sessions and tokens, SPEC §11); `externalId` is
kept per tenant (identity.ScimExternalId, unique in the tenant, case-sensitive) and can be
filtered on; the enterprise extension's `department` is the profile's team (found by name,
created if missing) and its `manager.value` the id of the member's manager. Members
created here are employees with no password: they sign in with single sign-on or set
one through "Forgot password". A group's members are the members whose profile team is
that team; a person is in at most one team, so adding them to a group moves them.
`DELETE /Users/{id}` deactivates (money history is never deleted). Lists page with SCIM's
`startIndex`/`count` (the protocol's offsets; `count` at most 200), ordered by creation.

PATCH (RFC 7644 §3.5.2): `add`/`replace` with a path (`name.givenName`,
`emails[type eq "work"].value`, `urn:…:enterprise:2.0:User:manager` …) or without one (an
object of attributes); `remove` clears `title`, `externalId`, name parts (the name falls back
to the e-mail's local part when nothing is left), `department` and `manager`. Refusals:
`noTarget` (a `remove` without a path; a value filter that matches no e-mail),
`mutability` (removing `userName`, the e-mail or `active`; writing `id`, `meta` or
`groups`), `invalidPath` (an attribute the User schema does not have), `invalidFilter` (a
value filter other than `attr eq "value"` joined by `and`). Attributes of the schemas that
Perksu does not keep (phone numbers, addresses, locale …) are accepted and not kept.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import re_path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from people import services as people
from people.models import Profile, Team
from perksu.errors import DomainError
from tenants.models import Role, Tenant, User
from tenants.services import user_update_identity

from .models import ScimExternalId
from .services import scim_token_authenticate

CONTENT_TYPE = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MAX_COUNT = 200
DEFAULT_COUNT = 100


class ScimError(Exception):
    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


def scim_response(body: dict | None, status: int = 200, **headers: str) -> HttpResponse:
    if body is None:
        response = HttpResponse(status=status)
    else:
        response = JsonResponse(body, status=status, content_type=CONTENT_TYPE)
    for name, value in headers.items():
        response[name] = value
    return response


def error_response(error: ScimError) -> HttpResponse:
    body = {"schemas": [ERROR_SCHEMA], "status": str(error.status), "detail": error.detail}
    if error.scim_type:
        body["scimType"] = error.scim_type
    response = scim_response(body, error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="SCIM"'
    return response


def scim_view(view: Callable) -> Callable:
    """Authenticate the tenant's SCIM token, parse the JSON body, and turn every refusal into
    SCIM's error format."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            parts = request.headers.get("Authorization", "").split()
            if len(parts) != 2 or parts[0].lower() != "bearer":
                raise ScimError(401, "Send the tenant's SCIM token as `Authorization: Bearer <token>`.")
            token = scim_token_authenticate(parts[1])
            if token is None:
                raise ScimError(401, "Invalid or revoked SCIM token.")
            body: Any = None
            if request.method in ("POST", "PUT", "PATCH"):
                try:
                    body = json.loads(request.body or b"{}")
                except (ValueError, UnicodeDecodeError) as exc:
                    raise ScimError(400, "The body is not valid JSON.", "invalidSyntax") from exc
                if not isinstance(body, dict):
                    raise ScimError(400, "The body must be a JSON object.", "invalidSyntax")
            return view(request, token.tenant, body, *args, **kwargs)
        except ScimError as error:
            return error_response(error)
        except DomainError as exc:
            status = exc.status_code if exc.status_code in (403, 404) else 400
            scim_type = "uniqueness" if exc.code in ("duplicate_email", "duplicate_team") else "invalidValue"
            if scim_type == "uniqueness":
                status = 409
            return error_response(ScimError(status, exc.message, None if status in (403, 404) else scim_type))

    return wrapped


def _methods(request: HttpRequest, **handlers: Callable[[], HttpResponse]) -> HttpResponse:
    handler = handlers.get(request.method)
    if handler is None:
        raise ScimError(405, f"{request.method} is not supported here.")
    return handler()


def _location(request: HttpRequest, kind: str, pk: Any) -> str:
    return request.build_absolute_uri(f"/scim/v2/{kind}/{pk}")


# --- filters and paging ------------------------------------------------------------------------------------------

_FILTER = re.compile(r'^\s*([A-Za-z][\w.:\[\]" ]*?)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)


def parse_filter(text: str, attributes: dict[str, str]) -> tuple[str, str] | None:
    """`attr eq "value"` → (model lookup, value); the only operator identity providers send to look
    a resource up. Anything else is refused with `invalidFilter`."""
    if not text:
        return None
    match = _FILTER.match(text)
    if not match:
        raise ScimError(400, f'Unsupported filter {text!r}: use `attribute eq "value"`.', "invalidFilter")
    attribute = match.group(1).strip().lower().replace(" ", "")
    lookup = attributes.get(attribute)
    if lookup is None:
        raise ScimError(400, f"Filtering on {match.group(1).strip()!r} is not supported.", "invalidFilter")
    return lookup, match.group(2).replace('\\"', '"').replace("\\\\", "\\")


def page(request: HttpRequest, queryset, render: Callable[[Any], dict]) -> HttpResponse:
    def number(name: str, default: int) -> int:
        raw = request.GET.get(name)
        if raw in (None, ""):
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise ScimError(400, f"`{name}` must be an integer.", "invalidValue") from exc

    start = max(number("startIndex", 1), 1)
    count = min(max(number("count", DEFAULT_COUNT), 0), MAX_COUNT)
    total = queryset.count()
    rows = list(queryset[start - 1 : start - 1 + count]) if count else []
    return scim_response(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(rows),
            "Resources": [render(row) for row in rows],
        }
    )


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- Users -------------------------------------------------------------------------------------------------------

USER_FILTERS = {
    "username": "email__iexact",
    "emails.value": "email__iexact",
    'emails[typeeq"work"].value': "email__iexact",
    "externalid": "scim_external_id__external_id",  # caseExact (RFC 7643 §3.1)
    "id": "pk",
}

# Attributes of the core and enterprise User schemas that Perksu does not keep: `add`, `replace` and
# `remove` of them succeed and change nothing (an identity provider sends them with its default mappings).
NOT_KEPT = {
    "nickname",
    "profileurl",
    "usertype",
    "preferredlanguage",
    "locale",
    "timezone",
    "password",
    "phonenumbers",
    "ims",
    "photos",
    "addresses",
    "entitlements",
    "roles",
    "x509certificates",
    "name.middlename",
    "name.honorificprefix",
    "name.honorificsuffix",
    "enterprise:employeenumber",
    "enterprise:costcenter",
    "enterprise:organization",
    "enterprise:division",
    "enterprise:manager.displayname",
    "enterprise:manager.$ref",
}
READ_ONLY = {"id", "meta", "groups"}


def _members(tenant: Tenant):
    return (
        User.objects.filter(tenant=tenant)
        .select_related("profile", "profile__team", "profile__manager", "scim_external_id")
        .order_by("date_joined", "id")
    )


def _member(tenant: Tenant, user_id: str) -> User:
    pk = _uuid(user_id)
    user = _members(tenant).filter(pk=pk).first() if pk else None
    if user is None:
        raise ScimError(404, f"User {user_id} not found.")
    return user


def _external_id(user: User) -> str | None:
    try:
        return user.scim_external_id.external_id
    except ScimExternalId.DoesNotExist:
        return None


def _email_entry(user: User) -> dict:
    return {"value": user.email, "type": "work", "primary": True}


def render_user(request: HttpRequest, user: User) -> dict:
    given, _, family = (user.full_name or "").partition(" ")
    profile = getattr(user, "profile", None)
    body = {
        "schemas": [USER_SCHEMA],
        "id": str(user.pk),
        "userName": user.email,
        "name": {"formatted": user.full_name, "givenName": given, "familyName": family},
        "displayName": user.full_name,
        "active": user.is_active,
        "emails": [_email_entry(user)],
        "meta": {
            "resourceType": "User",
            "created": user.date_joined.isoformat(),
            "lastModified": (profile.updated_at if profile else user.date_joined).isoformat(),
            "location": _location(request, "Users", user.pk),
        },
    }
    external_id = _external_id(user)
    if external_id is not None:
        body["externalId"] = external_id
    if profile is not None and profile.title:
        body["title"] = profile.title
    enterprise = {}
    if profile is not None and profile.team_id:
        enterprise["department"] = profile.team.name
    if profile is not None and profile.manager_id:
        enterprise["manager"] = {
            "value": str(profile.manager_id),
            "$ref": _location(request, "Users", profile.manager_id),
            "displayName": profile.manager.full_name,
        }
    if enterprise:
        body["schemas"].append(ENTERPRISE_SCHEMA)
        body[ENTERPRISE_SCHEMA] = enterprise
    return body


def _as_bool(value: Any) -> bool:
    """Entra sends `"False"`/`"True"` strings for `active`; Okta sends booleans."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ScimError(400, f"`active` must be true or false, not {value!r}.", "invalidValue")


def _full_name(name: Any, display_name: Any, fallback: str) -> str:
    if isinstance(name, dict):
        formatted = (name.get("formatted") or "").strip()
        joined = " ".join(
            p for p in ((name.get("givenName") or "").strip(), (name.get("familyName") or "").strip()) if p
        )
        if joined or formatted:
            return joined or formatted
    if isinstance(display_name, str) and display_name.strip():
        return display_name.strip()
    return fallback


def _user_name(body: dict) -> str:
    user_name = body.get("userName")
    if not isinstance(user_name, str) or not user_name.strip():
        raise ScimError(400, "`userName` (the e-mail address) is required.", "invalidValue")
    return user_name.strip().lower()


def _text(value: Any, attribute: str) -> str:
    """A string attribute's value; null clears it."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ScimError(400, f"`{attribute}` must be a string.", "invalidValue")
    return str(value).strip()


class UserDraft:
    """The changes a request makes to one member, checked as they come and written at once by `save`.

    Keys of `changes`: email, full_name, title, active, external_id (None: removed), team and
    manager (None: removed). The name is kept as given + family name so that `name.givenName`
    and `name.familyName` change one half each.
    """

    def __init__(self, tenant: Tenant, user: User | None = None) -> None:
        self.tenant, self.user = tenant, user
        self.changes: dict[str, Any] = {}
        self.given, _, self.family = ((user.full_name if user else "") or "").partition(" ")

    # -- the name ---------------------------------------------------------------------------------------------
    def _fallback_name(self) -> str:
        email = self.changes.get("email") or (self.user.email if self.user else "")
        return email.split("@")[0]

    def set_full_name(self, value: str) -> None:
        value = value.strip() or self._fallback_name()
        self.changes["full_name"] = value
        self.given, _, self.family = value.partition(" ")

    def set_name_part(self, part: str, value: str) -> None:
        if part == "given":
            self.given = value.strip()
        else:
            self.family = value.strip()
        joined = " ".join(p for p in (self.given, self.family) if p)
        self.changes["full_name"] = joined or self._fallback_name()

    # -- team and manager ---------------------------------------------------------------------------------------
    def set_department(self, value: Any) -> None:
        name = _text(value, "department")
        if not name:
            self.changes["team"] = None
            return
        team = Team.objects.filter(tenant=self.tenant, name__iexact=name).first()
        self.changes["team"] = team or ("create", name)

    def set_manager(self, value: Any) -> None:
        if isinstance(value, list):  # Entra has sent `[{"value": …}]`
            value = value[0] if value else None
        raw = value.get("value") if isinstance(value, dict) else value
        if raw in (None, ""):
            self.changes["manager"] = None
            return
        pk = _uuid(raw)
        manager = User.objects.filter(tenant=self.tenant, pk=pk).first() if pk else None
        if manager is None:
            raise ScimError(400, f"Unknown manager {raw!r}: give the id of a user of this tenant.", "invalidValue")
        self.changes["manager"] = manager

    # -- the whole resource (POST and PUT) ---------------------------------------------------------------------
    def from_resource(self, body: dict, *, replacing: bool) -> None:
        """A POST or PUT body. PUT replaces: what it leaves out is cleared (title, externalId), except
        the enterprise extension, applied only when the body carries it (so a client without the
        extension does not wipe teams and managers set in Perksu)."""
        email = _user_name(body)
        self.changes["email"] = email
        self.set_full_name(
            _full_name(body.get("name"), body.get("displayName"), self.user.full_name if self.user else "")
        )
        title = body.get("title")
        if replacing or isinstance(title, str):
            self.changes["title"] = title.strip() if isinstance(title, str) else ""
        if replacing or "externalId" in body:
            self.changes["external_id"] = _text(body.get("externalId"), "externalId") or None
        if "active" in body:
            self.changes["active"] = _as_bool(body["active"])
        extension = body.get(ENTERPRISE_SCHEMA)
        if isinstance(extension, dict):
            self.set_department(extension.get("department"))
            self.set_manager(extension.get("manager"))

    # -- PATCH (RFC 7644 §3.5.2) -------------------------------------------------------------------------------
    def patch(self, op: str, path: str | None, value: Any) -> None:
        if path is None or not path.strip():
            if op == "remove":
                raise ScimError(400, "A `remove` needs a `path`.", "noTarget")
            if not isinstance(value, dict):
                raise ScimError(400, f"An `{op}` without a `path` needs an object as its `value`.", "invalidValue")
            for attribute, item in value.items():
                if attribute == "schemas":
                    continue
                if attribute == ENTERPRISE_SCHEMA and isinstance(item, dict):
                    for sub, sub_value in item.items():
                        self.patch(op, f"{ENTERPRISE_SCHEMA}:{sub}", sub_value)
                elif attribute == "name" and isinstance(item, dict):
                    self._name_object(op, item)
                else:
                    self.patch(op, attribute, item)
            return
        target = _user_path(path)
        key, selector = target.key, target.selector
        root = key.split(".")[0]
        if root in READ_ONLY:
            if key == "id" and op != "remove" and str(value) == str(self.user.pk if self.user else ""):
                return  # an `id` equal to the resource's own changes nothing
            detail = f"`{path}` is read-only here (group membership changes through /Groups)."
            raise ScimError(400, detail, "mutability")
        if key in NOT_KEPT or root in NOT_KEPT:
            return
        if key == "emails" or key == "emails.value":
            self._emails(op, path, selector, value)
        elif key.startswith("emails."):
            return  # type, primary, display: the one e-mail is always the primary work address
        elif selector is not None:
            raise ScimError(400, f"`{path}`: `{key}` takes no value filter.", "invalidPath")
        elif key == "username":
            if op == "remove":
                raise ScimError(400, "`userName` is required: it cannot be removed.", "mutability")
            email = _text(value, "userName").lower()
            if not email:
                raise ScimError(400, "`userName` cannot be empty.", "invalidValue")
            self.changes["email"] = email
        elif key == "active":
            if op == "remove":
                raise ScimError(400, "`active` cannot be removed: replace it with false to deactivate.", "mutability")
            self.changes["active"] = _as_bool(value)
        elif key in ("displayname", "name.formatted"):
            self.set_full_name("" if op == "remove" else _text(value, path))
        elif key == "name":
            if op == "remove":
                self.set_full_name("")
            elif isinstance(value, dict):
                self._name_object(op, value)
            else:
                raise ScimError(400, "`name` takes an object.", "invalidValue")
        elif key in ("name.givenname", "name.familyname"):
            part = "given" if key == "name.givenname" else "family"
            self.set_name_part(part, "" if op == "remove" else _text(value, path))
        elif key == "title":
            self.changes["title"] = "" if op == "remove" else _text(value, "title")
        elif key == "externalid":
            self.changes["external_id"] = None if op == "remove" else (_text(value, "externalId") or None)
        elif key == "enterprise:department":
            self.set_department(None if op == "remove" else value)
        elif key in ("enterprise:manager", "enterprise:manager.value"):
            self.set_manager(None if op == "remove" else value)
        elif key == "enterprise":
            if op == "remove":
                self.changes["team"] = self.changes["manager"] = None
            elif isinstance(value, dict):
                for sub, sub_value in value.items():
                    self.patch(op, f"{ENTERPRISE_SCHEMA}:{sub}", sub_value)
            else:
                raise ScimError(400, "The enterprise extension takes an object.", "invalidValue")
        else:
            raise ScimError(400, f"Unknown attribute path {path!r} for a User.", "invalidPath")

    def _name_object(self, op: str, value: dict) -> None:
        """`name` as an object: each sub-attribute given changes, the others stay (RFC 7644 §3.5.2.3)."""
        if "givenName" in value or "familyName" in value:
            for attribute, part in (("givenName", "given"), ("familyName", "family")):
                if attribute in value:
                    self.set_name_part(part, _text(value[attribute], f"name.{attribute}"))
        elif "formatted" in value:
            self.set_full_name(_text(value["formatted"], "name.formatted"))

    def _emails(self, op: str, path: str, selector: Callable[[dict], bool] | None, value: Any) -> None:
        """A member has one e-mail, the work one, which is also their userName."""
        entry = {"value": self.changes.get("email") or (self.user.email if self.user else ""), "type": "work"}
        entry["primary"] = True
        if selector is not None and not selector(entry):
            if op == "add":
                return  # another kind of address: not kept
            raise ScimError(400, f"No e-mail matches `{path}`.", "noTarget")
        if op == "remove":
            raise ScimError(400, "The work e-mail is the userName: it cannot be removed.", "mutability")
        if isinstance(value, list):
            entries = [e for e in value if isinstance(e, dict)]
            chosen = next((e for e in entries if str(e.get("primary")).lower() == "true"), None)
            chosen = chosen or next((e for e in entries if e.get("type") == "work"), None)
            chosen = chosen or next(iter(entries), None)
            value = chosen.get("value") if chosen else None
        elif isinstance(value, dict):
            value = value.get("value")
        email = _text(value, path).lower()
        if not email:
            raise ScimError(400, f"`{path}` needs an e-mail address.", "invalidValue")
        self.changes["email"] = email

    # -- writing ------------------------------------------------------------------------------------------------
    def save(self) -> None:
        """Write the changes in the caller's transaction: identity fields, externalId, profile, activity."""
        user, changes = self.user, self.changes
        fields = {}
        email = changes.get("email")
        if email and email != user.email:
            if User.objects.email_taken(email, exclude=user):
                raise ScimError(409, f"A user with userName {email} already exists.", "uniqueness")
            fields["email"] = email
        if changes.get("full_name") and changes["full_name"] != user.full_name:
            fields["full_name"] = changes["full_name"][:200]
        if fields:
            try:
                user_update_identity(user=user, **fields)
            except DomainError as exc:  # the same e-mail given to another user at the same moment
                if exc.code != "duplicate_email":
                    raise ScimError(400, exc.message, "invalidValue") from exc
                raise ScimError(409, f"A user with userName {email} already exists.", "uniqueness") from exc
        if "external_id" in changes:
            _store_external_id(self.tenant, user, changes["external_id"])
        profile_changes = {k: changes[k] for k in ("title", "team", "manager") if k in changes}
        if isinstance(profile_changes.get("team"), tuple):
            profile_changes["team"] = people.team_create(tenant=self.tenant, name=profile_changes["team"][1])
        if profile_changes:
            people.profile_update(user=user, actor=None, **profile_changes)
        if "active" in changes and changes["active"] != user.is_active:
            people.member_set_active(user=user, is_active=changes["active"], actor=None)


def _store_external_id(tenant: Tenant, user: User, external_id: str | None) -> None:
    if external_id is None:
        ScimExternalId.objects.filter(tenant=tenant, user=user).delete()
        return
    if len(external_id) > 255:
        raise ScimError(400, "`externalId` is at most 255 characters.", "invalidValue")
    if ScimExternalId.objects.filter(tenant=tenant, external_id=external_id).exclude(user=user).exists():
        raise ScimError(409, f"Another user has externalId {external_id}.", "uniqueness")
    try:
        with transaction.atomic():
            # By tenant and member: the lock of update_or_create is then one shard's row on Citus.
            ScimExternalId.objects.update_or_create(
                tenant=tenant, user=user, defaults={"external_id": external_id, "updated_at": timezone.now()}
            )
    except IntegrityError as exc:  # the same externalId given to another user at the same moment
        raise ScimError(409, f"Another user has externalId {external_id}.", "uniqueness") from exc


class _Target:
    __slots__ = ("key", "selector")

    def __init__(self, key: str, selector: Callable[[dict], bool] | None) -> None:
        self.key, self.selector = key, selector


_VALUE_PATH = re.compile(r"^(?P<attr>[A-Za-z][\w$]*)\[(?P<filter>[^\]]*)\](?:\.(?P<sub>[A-Za-z][\w$]*))?$")
_COMPARISON = re.compile(r'^\s*([A-Za-z][\w$]*)\s+eq\s+("(?:[^"\\]|\\.)*"|true|false)\s*$', re.IGNORECASE)


def _value_filter(text: str) -> Callable[[dict], bool]:
    """`type eq "work"`, `primary eq true`, or such comparisons joined by `and`: the forms identity
    providers put in a PATCH path."""
    tests = []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _COMPARISON.match(part)
        if not match:
            raise ScimError(400, f'Unsupported value filter [{text}]: use `attribute eq "value"`.', "invalidFilter")
        literal = match.group(2)
        expected: Any = literal.lower() == "true" if literal.lower() in ("true", "false") else literal[1:-1]
        tests.append((match.group(1).lower(), expected))

    def matches(entry: dict) -> bool:
        lowered = {k.lower(): v for k, v in entry.items()}
        for attribute, expected in tests:
            actual = lowered.get(attribute)
            if isinstance(expected, str):
                if not isinstance(actual, str) or actual.lower() != expected.lower():
                    return False
            elif actual is not expected:
                return False
        return True

    return matches


def _user_path(path: str) -> _Target:
    """A PATCH path as (lower-case key, value filter or None): `name.givenName` → `name.givenname`,
    `emails[type eq "work"].value` → `emails.value` with a filter, `urn:…:enterprise:2.0:User:manager`
    → `enterprise:manager`; the core schema's URN prefix is dropped."""
    text = path.strip()
    if text.lower().startswith(USER_SCHEMA.lower() + ":"):
        text = text[len(USER_SCHEMA) + 1 :]
    if text.lower() == ENTERPRISE_SCHEMA.lower():
        return _Target("enterprise", None)
    if text.lower().startswith(ENTERPRISE_SCHEMA.lower() + ":"):
        return _Target("enterprise:" + text[len(ENTERPRISE_SCHEMA) + 1 :].lower(), None)
    match = _VALUE_PATH.match(text)
    if match:
        key = match.group("attr").lower() + (f".{match.group('sub').lower()}" if match.group("sub") else "")
        if match.group("attr").lower() in NOT_KEPT:
            return _Target(match.group("attr").lower(), None)
        return _Target(key, _value_filter(match.group("filter")))
    if not re.fullmatch(r"[A-Za-z][\w$]*(\.[A-Za-z][\w$]*)?", text):
        raise ScimError(400, f"Invalid path {path!r}.", "invalidPath")
    return _Target(text.lower(), None)


@scim_view
def users(request: HttpRequest, tenant: Tenant, body: Any) -> HttpResponse:
    def list_() -> HttpResponse:
        queryset = _members(tenant)
        criterion = parse_filter(request.GET.get("filter", ""), USER_FILTERS)
        if criterion:
            lookup, value = criterion
            if lookup == "pk":
                value = _uuid(value)
                queryset = queryset.filter(pk=value) if value else queryset.none()
            else:
                queryset = queryset.filter(**{lookup: value})
        return page(request, queryset, lambda user: render_user(request, user))

    def create() -> HttpResponse:
        draft = UserDraft(tenant)
        draft.from_resource(body, replacing=False)
        email = draft.changes["email"]
        if User.objects.email_taken(email):
            raise ScimError(409, f"A user with userName {email} already exists.", "uniqueness")
        with transaction.atomic():
            user = people.member_invite(
                tenant=tenant,
                email=email,
                full_name=draft.changes["full_name"][:200],
                role=Role.EMPLOYEE,
                actor=None,
                send_invitation=False,
            )
            draft.user = user
            draft.changes.setdefault("active", True)
            draft.save()
        user = _member(tenant, str(user.pk))
        return scim_response(render_user(request, user), 201, Location=_location(request, "Users", user.pk))

    return _methods(request, GET=list_, POST=create)


@scim_view
def user_detail(request: HttpRequest, tenant: Tenant, body: Any, user_id: str) -> HttpResponse:
    user = _member(tenant, user_id)

    def read() -> HttpResponse:
        return scim_response(render_user(request, user))

    def replace() -> HttpResponse:
        draft = UserDraft(tenant, user)
        draft.from_resource(body, replacing=True)
        with transaction.atomic():
            draft.save()
        return scim_response(render_user(request, _member(tenant, user_id)))

    def patch() -> HttpResponse:
        draft = UserDraft(tenant, user)
        for op, path_, value in _operations(body):
            draft.patch(op, path_, value)
        with transaction.atomic():
            draft.save()
        return scim_response(render_user(request, _member(tenant, user_id)))

    def delete() -> HttpResponse:
        if user.is_active:
            people.member_set_active(user=user, is_active=False, actor=None)
        return scim_response(None, 204)

    return _methods(request, GET=read, PUT=replace, PATCH=patch, DELETE=delete)


def _operations(body: dict):
    operations = body.get("Operations")
    if not isinstance(operations, list) or not operations:
        raise ScimError(400, "A PATCH needs `Operations`.", "invalidSyntax")
    for operation in operations:
        if not isinstance(operation, dict):
            raise ScimError(400, "Each operation is an object.", "invalidSyntax")
        op = str(operation.get("op", "")).lower()
        if op not in ("add", "replace", "remove"):
            raise ScimError(400, f"Unknown op {operation.get('op')!r}.", "invalidSyntax")
        path_ = operation.get("path")
        yield op, (str(path_) if path_ is not None else None), operation.get("value")


# --- Groups (teams) ----------------------------------------------------------------------------------------------

GROUP_FILTERS = {"displayname": "name", "id": "pk"}


def _teams(tenant: Tenant):
    return Team.objects.filter(tenant=tenant).order_by("created_at", "id")


def _team(tenant: Tenant, team_id: str) -> Team:
    pk = _uuid(team_id)
    team = _teams(tenant).filter(pk=pk).first() if pk else None
    if team is None:
        raise ScimError(404, f"Group {team_id} not found.")
    return team


def render_group(request: HttpRequest, team: Team, *, members: bool = True) -> dict:
    body = {
        "schemas": [GROUP_SCHEMA],
        "id": str(team.pk),
        "displayName": team.name,
        "meta": {
            "resourceType": "Group",
            "created": team.created_at.isoformat(),
            "location": _location(request, "Groups", team.pk),
        },
    }
    if members:
        people_in_team = (
            Profile.objects.filter(tenant_id=team.tenant_id, team=team)
            .select_related("user")
            .order_by("user__date_joined", "user_id")
        )
        body["members"] = [
            {"value": str(p.user_id), "display": p.user.full_name, "$ref": _location(request, "Users", p.user_id)}
            for p in people_in_team
        ]
    return body


def _member_ids(tenant: Tenant, value: Any) -> list[User]:
    """The members a `members` value names; an id outside the tenant is refused like a missing one."""
    items = value if isinstance(value, list) else [value]
    ids = []
    for item in items:
        raw = item.get("value") if isinstance(item, dict) else item
        pk = _uuid(raw)
        if pk is None:
            raise ScimError(400, f"Unknown member {raw!r}.", "invalidValue")
        ids.append(pk)
    found = {u.pk: u for u in User.objects.filter(tenant=tenant, pk__in=ids)}
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        raise ScimError(400, f"Unknown member {missing[0]}.", "invalidValue")
    return [found[pk] for pk in ids]


def _set_team(users: list[User], team: Team | None, *, only_from: Team | None = None) -> None:
    for user in users:
        if only_from is not None and not Profile.objects.filter(user=user, team=only_from).exists():
            continue
        people.profile_update(user=user, actor=None, team=team)


_MEMBER_PATH = re.compile(r'^members\[\s*value\s+eq\s+"([^"]+)"\s*\]$', re.IGNORECASE)


@scim_view
def groups(request: HttpRequest, tenant: Tenant, body: Any) -> HttpResponse:
    with_members = "members" not in request.GET.get("excludedAttributes", "").lower()

    def list_() -> HttpResponse:
        queryset = _teams(tenant)
        criterion = parse_filter(request.GET.get("filter", ""), GROUP_FILTERS)
        if criterion:
            lookup, value = criterion
            if lookup == "pk":
                value = _uuid(value)
                queryset = queryset.filter(pk=value) if value else queryset.none()
            else:
                queryset = queryset.filter(name=value)
        return page(request, queryset, lambda team: render_group(request, team, members=with_members))

    def create() -> HttpResponse:
        name = body.get("displayName")
        if not isinstance(name, str) or not name.strip():
            raise ScimError(400, "`displayName` is required.", "invalidValue")
        with transaction.atomic():
            team = people.team_create(tenant=tenant, name=name)
            _set_team(_member_ids(tenant, body.get("members") or []), team)
        return scim_response(render_group(request, team), 201, Location=_location(request, "Groups", team.pk))

    return _methods(request, GET=list_, POST=create)


@scim_view
def group_detail(request: HttpRequest, tenant: Tenant, body: Any, group_id: str) -> HttpResponse:
    team = _team(tenant, group_id)
    with_members = "members" not in request.GET.get("excludedAttributes", "").lower()

    def read() -> HttpResponse:
        return scim_response(render_group(request, team, members=with_members))

    def replace() -> HttpResponse:
        with transaction.atomic():
            if isinstance(body.get("displayName"), str) and body["displayName"].strip() != team.name:
                people.team_update(team=team, name=body["displayName"])
            wanted = _member_ids(tenant, body.get("members") or [])
            current = list(User.objects.filter(tenant=tenant, profile__team=team))
            _set_team([u for u in current if u.pk not in {w.pk for w in wanted}], None)
            _set_team(wanted, team)
        return scim_response(render_group(request, team))

    def patch() -> HttpResponse:
        with transaction.atomic():
            for op, path_, value in _operations(body):
                key = (path_ or "").strip()
                single = _MEMBER_PATH.match(key)
                if key.lower() == "displayname" or (not key and isinstance(value, dict)):
                    name = value.get("displayName") if isinstance(value, dict) else value
                    if op != "remove" and isinstance(name, str) and name.strip() and name.strip() != team.name:
                        people.team_update(team=team, name=name)
                    if not key and isinstance(value, dict) and "members" in value:
                        _group_members(tenant, team, op, value["members"])
                elif key.lower() == "members":
                    _group_members(tenant, team, op, value)
                elif single and op == "remove":
                    _set_team(_member_ids(tenant, [single.group(1)]), None, only_from=team)
                elif key.lower() in ("externalid",):
                    continue
                else:
                    raise ScimError(400, f"Unsupported path {path_!r}.", "invalidPath")
        team.refresh_from_db()
        return scim_response(render_group(request, team, members=with_members))

    def delete() -> HttpResponse:
        people.team_delete(team=team)
        return scim_response(None, 204)

    return _methods(request, GET=read, PUT=replace, PATCH=patch, DELETE=delete)


def _group_members(tenant: Tenant, team: Team, op: str, value: Any) -> None:
    if op == "add":
        _set_team(_member_ids(tenant, value or []), team)
    elif op == "remove":
        if value in (None, []):  # remove every member
            _set_team(list(User.objects.filter(tenant=tenant, profile__team=team)), None)
        else:
            _set_team(_member_ids(tenant, value), None, only_from=team)
    else:  # replace
        wanted = _member_ids(tenant, value or [])
        current = list(User.objects.filter(tenant=tenant, profile__team=team))
        _set_team([u for u in current if u.pk not in {w.pk for w in wanted}], None)
        _set_team(wanted, team)


# --- discovery ---------------------------------------------------------------------------------------------------


@scim_view
def service_provider_config(request: HttpRequest, tenant: Tenant, body: Any) -> HttpResponse:
    return scim_response(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "documentationUri": request.build_absolute_uri("/api/docs/"),
            "patch": {"supported": True},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": MAX_COUNT},
            "changePassword": {"supported": False},
            "sort": {"supported": False},
            "etag": {"supported": False},
            "authenticationSchemes": [
                {
                    "type": "oauthbearertoken",
                    "name": "OAuth Bearer Token",
                    "description": "A tenant's SCIM token, created on /manage/integrations/.",
                    "primary": True,
                }
            ],
            "meta": {"resourceType": "ServiceProviderConfig"},
        }
    )


RESOURCE_TYPES = [
    {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "schema": USER_SCHEMA,
        "schemaExtensions": [{"schema": ENTERPRISE_SCHEMA, "required": False}],
        "meta": {"resourceType": "ResourceType"},
    },
    {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "schema": GROUP_SCHEMA,
        "meta": {"resourceType": "ResourceType"},
    },
]


def _attribute(name: str, type_: str = "string", **extra: Any) -> dict:
    return {
        "name": name,
        "type": type_,
        "multiValued": False,
        "required": False,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
        **extra,
    }


SCHEMAS = [
    {
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A tenant member.",
        "attributes": [
            _attribute("userName", required=True, uniqueness="server", description="The e-mail address."),
            _attribute("externalId", caseExact=True, description="The identity provider's id, unique per tenant."),
            _attribute(
                "name",
                "complex",
                subAttributes=[_attribute("formatted"), _attribute("givenName"), _attribute("familyName")],
            ),
            _attribute("displayName"),
            _attribute("title"),
            _attribute("active", "boolean"),
            _attribute("emails", "complex", multiValued=True, subAttributes=[_attribute("value"), _attribute("type")]),
        ],
        "meta": {"resourceType": "Schema", "location": f"/scim/v2/Schemas/{USER_SCHEMA}"},
    },
    {
        "id": ENTERPRISE_SCHEMA,
        "name": "EnterpriseUser",
        "description": "The enterprise extension: the member's team and manager.",
        "attributes": [
            _attribute("department", description="The member's team (created if no team has this name)."),
            _attribute(
                "manager",
                "complex",
                subAttributes=[
                    _attribute("value", description="The id of the manager's User."),
                    _attribute("displayName", mutability="readOnly"),
                ],
            ),
        ],
        "meta": {"resourceType": "Schema", "location": f"/scim/v2/Schemas/{ENTERPRISE_SCHEMA}"},
    },
    {
        "id": GROUP_SCHEMA,
        "name": "Group",
        "description": "A tenant's team.",
        "attributes": [
            _attribute("displayName", required=True, uniqueness="server"),
            _attribute(
                "members", "complex", multiValued=True, subAttributes=[_attribute("value"), _attribute("display")]
            ),
        ],
        "meta": {"resourceType": "Schema", "location": f"/scim/v2/Schemas/{GROUP_SCHEMA}"},
    },
]


def _listing(items: list[dict]) -> dict:
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": len(items),
        "startIndex": 1,
        "itemsPerPage": len(items),
        "Resources": items,
    }


@scim_view
def resource_types(request: HttpRequest, tenant: Tenant, body: Any, name: str | None = None) -> HttpResponse:
    if name is None:
        return scim_response(_listing(RESOURCE_TYPES))
    found = next((r for r in RESOURCE_TYPES if r["id"] == name), None)
    if found is None:
        raise ScimError(404, f"Resource type {name} not found.")
    return scim_response(found)


@scim_view
def schemas(request: HttpRequest, tenant: Tenant, body: Any, schema_id: str | None = None) -> HttpResponse:
    if schema_id is None:
        return scim_response(_listing(SCHEMAS))
    found = next((s for s in SCHEMAS if s["id"] == schema_id), None)
    if found is None:
        raise ScimError(404, f"Schema {schema_id} not found.")
    return scim_response(found)


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return error_response(ScimError(404, "No such SCIM endpoint."))


urlpatterns = [
    re_path(r"^ServiceProviderConfig/?$", service_provider_config),
    re_path(r"^ResourceTypes/?$", resource_types),
    re_path(r"^ResourceTypes/(?P<name>[^/]+)/?$", resource_types),
    re_path(r"^Schemas/?$", schemas),
    re_path(r"^Schemas/(?P<schema_id>[^/]+)/?$", schemas),
    re_path(r"^Users/?$", users),
    re_path(r"^Users/(?P<user_id>[^/]+)/?$", user_detail),
    re_path(r"^Groups/?$", groups),
    re_path(r"^Groups/(?P<group_id>[^/]+)/?$", group_detail),
    re_path(r"^(?P<rest>.*)$", not_found),
]
