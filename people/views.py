"""People pages: `/profile/` for every member, `/manage/people/` for managers (list, add,
edit, deactivate, reactivate, CSV import), photos, invitations and password resets."""

from __future__ import annotations

import secrets
import uuid

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_GET, require_POST

from perksu.errors import DomainError
from perksu.pages import manager_required, member_required, paginate, query_without_page
from tenants.models import User

from . import photos, selectors, services
from .emails import invitation_token_generator
from .forms import ConsentForm, ImportForm, MemberFilterForm, MemberForm, PhotoForm
from .imports import members_import
from .models import Profile, Team

PER_PAGE = 25


# --- Photos ----------------------------------------------------------------------------------------------------------


@member_required
@require_GET
def photo(request: HttpRequest, user_id: uuid.UUID, size: int) -> HttpResponse:
    """A member's photo, for members of the same tenant only (another tenant's: 404)."""
    if size not in photos.SIZES.values():
        raise Http404
    profile = Profile.objects.filter(user_id=user_id, tenant_id=request.user.tenant_id).first()
    field = None if profile is None else (profile.avatar if size == 256 else profile.avatar_small)
    if not field:
        raise Http404
    try:
        handle = default_storage.open(field.name, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=photos.CONTENT_TYPE)
    # The address changes with the photo (?v=), so a long private cache is safe.
    response["Cache-Control"] = "private, max-age=604800"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- /profile/ -------------------------------------------------------------------------------------------------------


@member_required
def profile(request: HttpRequest) -> HttpResponse:
    user = User.objects.select_related("profile", "profile__team", "profile__manager").get(pk=request.user.pk)
    member_profile = selectors.profile_of(user)
    photo_form = PhotoForm()
    consent_form = ConsentForm(initial={"birthday_consent": bool(member_profile and member_profile.birthday_consent)})
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "photo":
            photo_form = PhotoForm(request.POST, request.FILES)
            if photo_form.is_valid():
                upload = photo_form.cleaned_data["photo"]
                try:
                    if upload.size > photos.MAX_BYTES:
                        raise DomainError("A photo is at most 5 MB.", code="invalid_photo")
                    photos.photo_set(user=user, data=upload.read())
                except DomainError as exc:
                    photo_form.add_error("photo", exc.message)
                else:
                    messages.success(request, "Your photo is updated.")
                    return redirect("people:profile")
        elif action == "remove-photo":
            photos.photo_remove(user=user)
            messages.success(request, "Your photo is removed.")
            return redirect("people:profile")
        elif action == "consent":
            consent_form = ConsentForm(request.POST)
            if consent_form.is_valid():
                services.profile_set_consent(user=user, birthday_consent=consent_form.cleaned_data["birthday_consent"])
                messages.success(request, "Your birthday preference is saved.")
                return redirect("people:profile")
    return render(
        request,
        "people/profile.html",
        {
            "member": user,
            "profile": member_profile,
            "photo_form": photo_form,
            "consent_form": consent_form,
        },
        status=400 if request.method == "POST" else 200,
    )


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "people/password_change.html"
    success_url = reverse_lazy("people:profile")

    def form_valid(self, form):
        messages.success(self.request, "Your password is changed.")
        return super().form_valid(form)


# --- Password reset and invitations ----------------------------------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    """The same answer for every e-mail, known or not (Django's view sends nothing for an
    unknown or deactivated address and says the same)."""

    template_name = "people/password_reset.html"
    email_template_name = "people/emails/password_reset.txt"
    subject_template_name = "people/emails/password_reset_subject.txt"
    success_url = reverse_lazy("people:password-reset-done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "people/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "people/password_set.html"
    success_url = reverse_lazy("people:password-reset-complete")
    extra_context = {"heading": "Choose a new password"}


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "people/password_reset_complete.html"


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """The invitation's one-time link: set a first password (72 h, spent once used)."""

    template_name = "people/password_set.html"
    token_generator = invitation_token_generator
    success_url = reverse_lazy("people:password-reset-complete")
    extra_context = {"heading": "Welcome: choose your password"}
    reset_url_token = "set-password"  # noqa: S105 - a URL segment, not a secret


# --- /manage/people/ -------------------------------------------------------------------------------------------------


def _member_of_tenant(request: HttpRequest, user_id) -> User:
    user = (
        User.objects.select_related("profile", "profile__team", "profile__manager")
        .filter(pk=user_id, tenant_id=request.user.tenant_id)
        .first()
    )
    if user is None:
        raise Http404("No such member.")
    return user


@manager_required
def people_list(request: HttpRequest) -> HttpResponse:
    tenant_id = request.user.tenant_id
    teams = list(selectors.teams(tenant_id=tenant_id))
    filters = MemberFilterForm(request.GET or None, teams=teams)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    active = criteria.get("active")
    members = selectors.members(
        tenant_id=tenant_id,
        search=criteria.get("q", ""),
        team_id=criteria.get("team") or None,
        role=criteria.get("role", ""),
        is_active=None if not active else active == "1",
    )
    page = paginate(request, members, per_page=PER_PAGE)
    return render(
        request,
        "people/people_list.html",
        {"page": page, "filters": filters, "query": query_without_page(request), "teams": teams},
    )


def _profile_kwargs(form: MemberForm, tenant_id) -> dict:
    data = form.cleaned_data
    team = Team.objects.filter(pk=data["team"], tenant_id=tenant_id).first() if data.get("team") else None
    manager = User.objects.filter(pk=data["manager"], tenant_id=tenant_id).first() if data.get("manager") else None
    if data.get("team") and team is None:
        raise DomainError("Team not found.", field="team")
    if data.get("manager") and manager is None:
        raise DomainError("Manager not found.", field="manager")
    month, day = data.get("birthday_month"), data.get("birthday_day")
    return {
        "title": data.get("title", ""),
        "team": team,
        "manager": manager,
        "hire_date": data.get("hire_date"),
        "birthday": (month, day) if month and day else None,
    }


def _form_error(form: MemberForm, exc: DomainError) -> None:
    field = exc.extra.get("field")
    form.add_error(field if field in form.fields else None, exc.message)


@manager_required
def person_add(request: HttpRequest) -> HttpResponse:
    tenant = request.user.tenant
    form = MemberForm(request.POST or None, tenant_id=tenant.pk)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.member_invite(
                tenant=tenant,
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                role=form.cleaned_data["role"],
                actor=request.user,
                base_url=request.build_absolute_uri("/"),
                **_profile_kwargs(form, tenant.pk),
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"{user.full_name} is added; an invitation is on its way to {user.email}.")
            return redirect("people:list")
    return render(
        request, "people/person_form.html", {"form": form, "editing": None}, status=400 if form.errors else 200
    )


@manager_required
def person_edit(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
    member = _member_of_tenant(request, user_id)
    p = selectors.profile_of(member)
    initial = {
        "email": member.email,
        "full_name": member.full_name,
        "role": member.role,
        "title": p.title if p else "",
        "team": str(p.team_id) if p and p.team_id else "",
        "manager": str(p.manager_id) if p and p.manager_id else "",
        "hire_date": p.hire_date if p else None,
        "birthday_month": p.birthday_month if p else None,
        "birthday_day": p.birthday_day if p else None,
    }
    form = MemberForm(request.POST or None, initial=initial, tenant_id=member.tenant_id, editing=member)
    if request.method == "POST" and form.is_valid():
        from django.db import transaction

        from tenants.services import user_change_role

        try:
            with transaction.atomic():
                if form.cleaned_data["role"] != member.role:
                    user_change_role(user=member, role=form.cleaned_data["role"], actor=request.user)
                name = form.cleaned_data["full_name"].strip()
                if name != member.full_name:
                    User.objects.filter(tenant_id=member.tenant_id, pk=member.pk).update(full_name=name)
                services.profile_update(user=member, actor=request.user, **_profile_kwargs(form, member.tenant_id))
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"{name} is updated.")
            return redirect("people:list")
    return render(
        request, "people/person_form.html", {"form": form, "editing": member}, status=400 if form.errors else 200
    )


@manager_required
@require_POST
def person_set_active(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
    member = _member_of_tenant(request, user_id)
    is_active = request.POST.get("is_active") == "1"
    try:
        services.member_set_active(user=member, is_active=is_active, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        verb = "reactivated" if is_active else "deactivated"
        messages.success(request, f"{member.full_name or member.email} is {verb}.")
    return redirect(request.POST.get("next") or reverse("people:list"))


# --- CSV import ------------------------------------------------------------------------------------------------------

IMPORT_DIR = "imports"


def _stored_name(tenant_id, token: str) -> str:
    return f"{IMPORT_DIR}/{tenant_id}/{token}.csv"


@manager_required
def people_import(request: HttpRequest) -> HttpResponse:
    """Upload → dry run (the file is kept under a random token) → apply the same file."""
    tenant = request.user.tenant
    form = ImportForm()
    result = None
    token = ""
    deactivate_missing = False
    if request.method == "POST" and request.POST.get("action") == "apply":
        token = request.POST.get("token", "")
        deactivate_missing = request.POST.get("deactivate_missing") == "1"
        name = _stored_name(tenant.pk, token)
        if not token.isalnum() or not default_storage.exists(name):
            messages.error(request, "That file is no longer here: upload it again.")
            return redirect("people:import")
        with default_storage.open(name, "rb") as handle:
            data = handle.read()
        result = members_import(
            tenant=tenant, actor=request.user, data=data, dry_run=False, deactivate_missing=deactivate_missing
        )
        if not result.errors:
            default_storage.delete(name)
            messages.success(
                request,
                f"Import applied: {result.created} created, {result.updated} updated, "
                f"{result.deactivated} deactivated, {result.unchanged} unchanged.",
            )
            return redirect("people:list")
    elif request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data["file"].read()
            deactivate_missing = form.cleaned_data["deactivate_missing"]
            result = members_import(
                tenant=tenant, actor=request.user, data=data, dry_run=True, deactivate_missing=deactivate_missing
            )
            if not result.errors:
                token = secrets.token_hex(16)
                default_storage.save(_stored_name(tenant.pk, token), ContentFile(data))
    shown_rows = result.rows[:500] if result else []
    return render(
        request,
        "people/import.html",
        {
            "form": form,
            "result": result,
            "token": token,
            "deactivate_missing": deactivate_missing,
            "shown_rows": shown_rows,
            "more_rows": (len(result.rows) - len(shown_rows)) if result else 0,
        },
        status=400 if request.method == "POST" and (form.errors or (result and result.errors)) else 200,
    )
