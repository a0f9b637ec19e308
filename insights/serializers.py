"""The insights API's query and answer shapes."""

from __future__ import annotations

from rest_framework import serializers


class InsightsQuery(serializers.Serializer):
    """`?from=YYYY-MM-DD&to=YYYY-MM-DD` (inclusive, the tenant's calendar; default the last 30 days),
    `?team=` (a team id), `?tenant_id=` (platform admins)."""

    def get_fields(self):
        # `from` is a Python keyword, so the fields are named here rather than as attributes.
        return {
            "from": serializers.DateField(required=False),
            "to": serializers.DateField(required=False),
            "team": serializers.UUIDField(required=False),
            "tenant_id": serializers.UUIDField(required=False),
        }


class PercentagesOutput(serializers.Serializer):
    gave = serializers.DecimalField(max_digits=4, decimal_places=1, coerce_to_string=False)
    received = serializers.DecimalField(max_digits=4, decimal_places=1, coerce_to_string=False)


class MemberCountsOutput(serializers.Serializer):
    active = serializers.IntegerField()
    gave = serializers.IntegerField()
    received = serializers.IntegerField()


class TotalsOutput(serializers.Serializer):
    recognitions = serializers.IntegerField()
    points = serializers.IntegerField()


class WeekOutput(serializers.Serializer):
    week_start = serializers.DateField()
    recognitions = serializers.IntegerField()
    points = serializers.IntegerField()


class TeamOutput(serializers.Serializer):
    team_id = serializers.UUIDField(allow_null=True)
    team_name = serializers.CharField()
    recognitions = serializers.IntegerField()
    points = serializers.IntegerField()


class ValueOutput(serializers.Serializer):
    value_id = serializers.UUIDField()
    name = serializers.CharField()
    recognitions = serializers.IntegerField()
    points = serializers.IntegerField()


class RankedOutput(serializers.Serializer):
    user_id = serializers.UUIDField()
    full_name = serializers.CharField()
    recognitions = serializers.IntegerField()
    points = serializers.IntegerField()


class ForgottenOutput(serializers.Serializer):
    user_id = serializers.UUIDField()
    full_name = serializers.CharField()
    last_recognised_at = serializers.DateTimeField(allow_null=True)


class NotRecognisedOutput(serializers.Serializer):
    as_of = serializers.DateTimeField()
    days_30 = serializers.IntegerField()
    days_60 = serializers.IntegerField()
    days_90 = serializers.IntegerField()
    members = ForgottenOutput(many=True, help_text="Longest forgotten first, at most 20; the CSV export has all.")


class AllowanceOutput(serializers.Serializer):
    role = serializers.CharField()
    members = serializers.IntegerField()
    limit = serializers.IntegerField()
    given = serializers.IntegerField()
    utilisation = serializers.DecimalField(max_digits=7, decimal_places=1, coerce_to_string=False)


class BurnOutput(serializers.Serializer):
    pool = serializers.IntegerField()
    outflow_30_days = serializers.IntegerField()
    burn_per_day = serializers.DecimalField(max_digits=16, decimal_places=1, coerce_to_string=False)
    runway_days = serializers.IntegerField(allow_null=True)


class RedemptionOutput(serializers.Serializer):
    reward_id = serializers.UUIDField()
    reward_name = serializers.CharField()
    redemptions = serializers.IntegerField()
    refunded = serializers.IntegerField()
    points = serializers.IntegerField()


class InsightsOutput(serializers.Serializer):
    tenant_id = serializers.UUIDField()
    team_id = serializers.UUIDField(allow_null=True)
    team_name = serializers.CharField(allow_null=True)
    # `from` is a keyword: the field is added in get_fields().
    to = serializers.DateField()
    timezone = serializers.CharField()
    participation = PercentagesOutput(help_text="Percentages of the active members, one decimal.")
    members = MemberCountsOutput()
    totals = TotalsOutput(help_text="Recognitions received by the scope's members in the period, and their points.")
    by_week = WeekOutput(many=True)
    by_team = TeamOutput(many=True, allow_null=True)
    by_value = ValueOutput(many=True)
    leaderboard_enabled = serializers.BooleanField()
    top_givers = RankedOutput(many=True, allow_null=True)
    top_receivers = RankedOutput(many=True, allow_null=True)
    not_recognised = NotRecognisedOutput()
    allowance = AllowanceOutput(many=True, allow_null=True)
    pool_burn = BurnOutput(allow_null=True)
    redemptions_by_reward = RedemptionOutput(many=True)

    def get_fields(self):
        fields = super().get_fields()
        return {"tenant_id": fields.pop("tenant_id"), "from": serializers.DateField(), **fields}
