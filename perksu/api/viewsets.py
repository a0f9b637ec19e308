"""The tenant-scoped viewset base: no endpoint can forget the tenant (STYLE.md).

`TenantScopedViewSet.get_queryset()` filters every query by the caller's
tenant; platform admins see every tenant only on endpoints that allow it
(`platform_sees_all`), optionally narrowed by `?tenant_id=`. The tenant an
operation acts on comes from the authenticated user, never from the body —
except for platform admins, who name it explicitly (`platform_tenant`).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from perksu.errors import get_or_not_found
from points.idempotency import fingerprint, run_idempotent
from tenants.models import Tenant

from .pagination import Pagination

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Read from META as WSGI names it, without building `request.headers` from every META key.
IDEMPOTENCY_META = "HTTP_IDEMPOTENCY_KEY"
REPLAYED_HEADER = "Idempotent-Replayed"


class TenantScopedViewSet(viewsets.GenericViewSet):
    """Base of every tenant-owned resource."""

    tenant_field = "tenant_id"
    """The lookup from the model to its tenant id."""
    platform_sees_all = False
    """Whether platform admins see (and filter by `?tenant_id=`) every tenant's rows."""
    pagination_class = Pagination

    def get_queryset(self):
        queryset = super().get_queryset()
        user = self.request.user
        if not user.is_authenticated:
            return queryset.none()
        if user.is_platform_admin:
            if not self.platform_sees_all:
                return queryset.none()
            tenant_id = self.request.query_params.get("tenant_id")
            if tenant_id:
                queryset = queryset.filter(**{self.tenant_field: self.platform_tenant(tenant_id).pk})
            return queryset
        if user.member_tenant_id is None:
            return queryset.none()
        return queryset.filter(**{self.tenant_field: user.tenant_id})

    def platform_tenant(self, tenant_id: object) -> Tenant:
        """The tenant a platform admin names; 404 (NotFoundError) if it does not exist or the id is malformed."""
        return get_or_not_found(Tenant.objects, "Tenant not found.", pk=tenant_id)


def money_response(
    request: Request,
    scope: str,
    operation: Callable[[], tuple[int, dict]],
    *,
    reveal: Callable[[dict], dict] | None = None,
    self_contained: bool = False,
) -> Response:
    """Run a money operation under the request's `Idempotency-Key` (SPEC §6).

    The same user, key and scope with the same body (and path) replays the stored
    status and body with `Idempotent-Replayed: true`; another body → 422; a
    repeat while the first is running → 409. `operation` returns `(status, body)`;
    the body is normalised to plain JSON so it can be stored and replayed as is.

    A secret (a voucher code) is never stored: `operation` leaves it out of its
    body, and `reveal` puts it back into a successful answer, the first and every
    replay, from where it lives (the redemption row).

    `self_contained`: the operation is one service call that is atomic by itself;
    without a key it then runs without a surrounding transaction (`run_idempotent`).
    """

    def run() -> tuple[int, dict]:
        status, body = operation()
        return status, json.loads(json.dumps(body, cls=DjangoJSONEncoder))

    key = request.META.get(IDEMPOTENCY_META)
    outcome = run_idempotent(
        user=request.user,
        scope=scope,
        key=key,
        # Only a key's record keeps it: without one, no hash of the body is spent.
        request_fingerprint=fingerprint({"path": request.path, "body": request.data}) if key is not None else "",
        operation=run,
        self_contained=self_contained,
    )
    body = reveal(outcome.body) if reveal is not None and outcome.status < 400 else outcome.body
    response = Response(body, status=outcome.status)
    if outcome.replayed:
        response[REPLAYED_HEADER] = "true"
    return response
