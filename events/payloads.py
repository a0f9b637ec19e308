"""Payload builders: what each event of the catalogue carries (plain JSON, no secrets).

Built by the service that records the event, from the rows it just wrote, so a
consumer needs no other read to describe the event. Voucher codes, passwords and
tokens never go in a payload (webhooks deliver payloads outside the company).
"""

from __future__ import annotations

from typing import Any


def person(user) -> dict[str, Any]:
    return {"id": str(user.pk), "name": user.full_name or user.email}


def recognition_base(
    *, giver, points: int, message: str, funding_source: str, group_id, values: list | None = None, parent_group_id=None
) -> dict[str, Any]:
    """`recognition.created` / `recognition.add_on` without its recipients (the award's statement adds them in SQL)."""
    payload = {
        "group_id": str(group_id),
        "giver": person(giver),
        "points": points,
        "funding_source": funding_source,
        "message": message,
        "values": values or [],
    }
    if parent_group_id is not None:
        payload["parent_group_id"] = str(parent_group_id)
    return payload


def recognition(result, *, giver, names: dict, values: list | None = None, parent_group_id=None) -> dict[str, Any]:
    """`recognition.created` / `recognition.add_on` from an `AwardResult`: one event per recognition group.

    `names`: recipient user id → display name. The recipients keep the order of the request.
    """
    message = result.recognitions[0].message if result.recognitions else ""
    payload = recognition_base(
        giver=giver,
        points=result.points,
        message=message,
        funding_source=result.funding_source,
        group_id=result.group_id,
        values=values,
        parent_group_id=parent_group_id,
    )
    payload["recipients"] = [
        {"id": str(r.receiver_id), "name": names.get(r.receiver_id, ""), "recognition_id": str(r.pk)}
        for r in result.recognitions
    ]
    return payload


def comment(comment, *, author, recipients) -> dict[str, Any]:
    """`comment.created`: the comment, its author, and the recognition's recipients (who are told)."""
    return {
        "comment_id": str(comment.pk),
        "group_id": str(comment.group_id),
        "author": person(author),
        "text": comment.text,
        "recipients": [person(user) for user in recipients],
    }


def redemption(redemption, *, user, reward, status: str | None = None) -> dict[str, Any]:
    """`redemption.issued` / `redemption.refunded` (never the voucher code)."""
    return {
        "redemption_id": str(redemption.pk),
        "user": person(user),
        "reward": {"id": str(reward.pk), "name": reward.name},
        "points": redemption.points_spent,
        "status": status or redemption.status,
    }


def allocation(log, *, currency: str) -> dict[str, Any]:
    """`allocation.created` / `clawback.created` from an AllocationLog."""
    return {
        "allocation_id": str(log.pk),
        "kind": log.kind,
        "amount": log.amount,
        "pool_balance_after": log.balance_after,
        "note": log.reference_note,
        "currency": currency,
    }


def delegation(log, *, lead) -> dict[str, Any]:
    """`delegation.created` from a DelegationLog."""
    return {
        "delegation_id": str(log.pk),
        "lead": person(lead),
        "amount": log.amount,
        "lead_budget_after": log.lead_balance_after,
        "pool_balance_after": log.pool_balance_after,
        "note": log.note,
    }


def pool_low_balance(*, pool_balance: int, threshold: int) -> dict[str, Any]:
    return {"pool_balance": pool_balance, "threshold": threshold}


def user(user) -> dict[str, Any]:
    """`user.created` / `user.deactivated`."""
    return {"user": {**person(user), "email": user.email, "role": user.role, "is_active": user.is_active}}


def books_drift(report) -> dict[str, Any]:
    """`books.drift` from a reconcile `TenantReport`."""
    return {"tenant_slug": report.slug, "drifts": list(report.drifts), "figures": dict(report.figures)}
