"""Building blocks shared by the console's model admins.

- `PlatformAdminMixin`: view, add and change for platform admins (by role, not
  by Django permission rows); delete for nobody — tenants, users and rewards
  are deactivated, never deleted, and the ledgers reference them.
- `LedgerAdmin`: a log or ledger, read-only for everyone, superusers included
  (SPEC §3: append-only), with CSV export of the filtered list.
- `ServiceErrorsMixin`: a `DomainError` raised by a service while the admin
  saves a form becomes an error message; the admin's own transaction rolls back,
  so nothing is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from itertools import islice
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import slugify

from perksu import formatting
from perksu.errors import DomainError

CSV_CHUNK = 2000
# A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _is_platform_admin(request) -> bool:
    return bool(getattr(request.user, "is_platform_admin", False))


def row_tenant(obj):
    """The tenant whose locale and time zone a console row reads in: the row itself, or its `tenant` when the
    list loaded it (`list_select_related`); None (English, UTC) otherwise, never a query per row."""
    if hasattr(obj, "locale") and hasattr(obj, "points_allocation_balance"):
        return obj
    return obj._state.fields_cache.get("tenant") if hasattr(obj, "_state") else None


def _formatted_column(model, name: str):
    """A list column for a number or a time field of `model`, formatted like the pages (the row's tenant's
    locale and zone), or `name` itself for any other column."""
    try:
        field = model._meta.get_field(name)
    except Exception:
        return name
    if field.is_relation or field.primary_key:
        return name
    if isinstance(field, models.DateTimeField):

        def show(obj):
            tenant = row_tenant(obj)
            value = getattr(obj, name)
            return formatting.format_datetime(value, tz=getattr(tenant, "timezone", None), locale=_locale(tenant))

    elif isinstance(field, models.IntegerField | models.DecimalField):

        def show(obj):
            value = getattr(obj, name)
            return "—" if value is None else formatting.format_number(value, locale=_locale(row_tenant(obj)))

    else:
        return name
    show.__name__ = name
    show.short_description = field.verbose_name
    show.admin_order_field = name
    return show


def _locale(tenant) -> str | None:
    return getattr(tenant, "locale", None)


class PlatformAdminMixin:
    def get_list_display(self, request):
        # Numbers and times read as on the pages: "15,000" (or 15,000 grouped in the tenant's locale), never
        # the raw "15000" Django's admin prints without USE_THOUSAND_SEPARATOR.
        return [
            _formatted_column(self.model, name) if isinstance(name, str) else name
            for name in super().get_list_display(request)
        ]

    def has_module_permission(self, request) -> bool:
        return _is_platform_admin(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _is_platform_admin(request)

    def has_add_permission(self, request) -> bool:
        return _is_platform_admin(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return _is_platform_admin(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ServiceErrorsMixin:
    """Turn a service refusal raised while saving into a message on the same page."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            messages.error(request, exc.readable_message())
            return HttpResponseRedirect(request.get_full_path())


def run_for_each(request, queryset: Iterable, operation: Callable[[Any], Any], *, done: str) -> None:
    """Apply a service to each selected object; report how many succeeded and each refusal."""
    succeeded = 0
    for obj in queryset:
        try:
            operation(obj)
        except DomainError as exc:
            messages.error(request, f"{obj}: {exc.readable_message()}")
        else:
            succeeded += 1
    if succeeded:
        messages.success(request, f"{done}: {succeeded}.")


def csv_cell(value: Any) -> Any:
    """One CSV cell: numbers as they are, times in ISO 8601 (local zone), text that a
    spreadsheet would run as a formula prefixed with a quote."""
    kind = type(value)
    if kind is int or kind is Decimal or kind is bool:
        return value
    if kind is str:
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    if value is None:
        return ""
    if kind is dt.datetime:
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    if kind is uuid.UUID or kind is dt.date:
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class _Echo:
    """A file-like object whose `write` hands the line back, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


def _chunks(rows: Iterator, size: int) -> Iterator[list]:
    while chunk := list(islice(rows, size)):
        yield chunk


class LedgerAdmin(PlatformAdminMixin, admin.ModelAdmin):
    """Read-only, filterable, exportable. Subclasses set `csv_columns`: (header, "dotted.path").

    `people_apart` names the columns that may point at platform staff (an allocation's actor, a billing
    line's admin, a settings change's actor). Staff's user rows sit in the platform's own tenant, so a
    join from a customer's row to them crosses tenants, which a cluster distributed by tenant refuses
    (docs/SCALING.md). For those columns the CSV export reads the person apart by id, a chunk at a
    time, and the search (`people_search_fields`, e.g. "actor__email") finds the people first, among
    the column's own values, and then the rows by their ids. A person matches when their field holds
    the whole search text."""

    csv_columns: list[tuple[str, str]] = []
    people_apart: tuple[str, ...] = ()
    people_search_fields: tuple[str, ...] = ()
    change_list_template = "admin/perksu/ledger_change_list.html"
    date_hierarchy = "created_at"
    # Ledgers grow to millions of rows: skip the unfiltered COUNT(*) on every page.
    show_full_result_count = False
    list_per_page = 50
    actions = ["export_selected_csv"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        # Every column on the view-only page, balances (not editable, so not form fields) included.
        return [field.name for field in self.opts.fields]

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        export = path("export/", self.admin_site.admin_view(self.export_view), name="{}_{}_export".format(*info))
        return [export, *super().get_urls()]

    def export_view(self, request):
        """The changelist's filtered, searched and ordered rows as CSV (all pages, streamed)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            info = self.opts.app_label, self.opts.model_name
            return HttpResponseRedirect(
                reverse("admin:{}_{}_changelist".format(*info), current_app=self.admin_site.name)
            )
        return self.csv_response(changelist.queryset)

    @admin.action(description="Export selected rows to CSV")
    def export_selected_csv(self, request, queryset):
        return self.csv_response(queryset)

    def csv_response(self, queryset) -> StreamingHttpResponse:
        name = slugify(str(self.opts.verbose_name_plural))
        filename = f"{name}-{timezone.localdate():%Y%m%d}.csv"
        response = StreamingHttpResponse(self._csv_lines(queryset), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def _csv_lines(self, queryset) -> Iterator[str]:
        """Plain column values (`values_list` with the joins the paths need), fetched in
        chunks from a server-side cursor: no model instances, memory flat on any ledger size.
        A `people_apart` column is fetched as its id, and its people read by id once a chunk."""
        writer = csv.writer(_Echo())
        yield writer.writerow([header for header, _ in self.csv_columns])
        lookups, apart = [], {}
        for i, (_, dotted) in enumerate(self.csv_columns):
            head, _, rest = dotted.partition(".")
            if head in self.people_apart and rest:
                lookups.append(self.opts.get_field(head).attname)
                apart[i] = rest
            else:
                lookups.append(dotted.replace(".", "__"))
        people: dict[tuple[str, object], object] = {}
        rows = queryset.values_list(*lookups).iterator(chunk_size=CSV_CHUNK)
        for chunk in _chunks(rows, CSV_CHUNK):
            if apart:
                self._read_people(chunk, apart, people)
            for row in chunk:
                yield writer.writerow(
                    [
                        csv_cell(people.get((apart[i], value)) if i in apart and value is not None else value)
                        for i, value in enumerate(row)
                    ]
                )

    @staticmethod
    def _read_people(chunk: list[tuple], apart: dict[int, str], people: dict) -> None:
        from django.contrib.auth import get_user_model

        wanted = {row[i] for row in chunk for i in apart if row[i] is not None}
        wanted -= {pk for (_, pk) in people}
        if not wanted:
            return
        fields = sorted(set(apart.values()))
        for pk, *values in get_user_model()._base_manager.filter(pk__in=wanted).values_list("pk", *fields):
            people.update({(field, pk): value for field, value in zip(fields, values, strict=True)})

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not self.people_search_fields or not term:
            return found, may_have_duplicates
        from django.contrib.auth import get_user_model

        people = get_user_model()._base_manager
        matches = models.Q()
        for lookup in self.people_search_fields:
            head, rest = lookup.split("__", 1)
            column = self.opts.get_field(head).attname
            named = self.model._base_manager.exclude(**{column: None}).order_by().values_list(column, flat=True)
            ids = people.filter(pk__in=list(named.distinct()), **{f"{rest}__icontains": term}).values_list("pk")
            matches |= models.Q(**{f"{column}__in": [pk for (pk,) in ids]})
        return found | queryset.filter(matches), may_have_duplicates
