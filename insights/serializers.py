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


class InsightsPercentagesOutput(serializers.Serializer):
    gave = serializers.DecimalField(max_digits=4, decimal_places=1, coerce_to_string=False)
    received = serializers.DecimalField(max_digits=4, decimal_places=1, coerce_to_string=False)


class InsightsMemberCountsOutput(serializers.Serializer):
    active = serializers.IntegerField()
    gave = serializers.IntegerField()
    received = serializers.IntegerField()


class InsightsTotalsOutput(serializers.Serializer):
    recognitions = serializers.IntegerField()
    points = serializers.IntegerField()


class InsightsWeekOutput(serializers.Serializer):
    week_start = serializers.DateField()
    recognitions = serializers.IntegerField()
    points = serializers.IntegerField()


class InsightsTeamOutput(serializers.Serializer):
    team_id = serializers.UUIDField(allow_null=True)
    team_name = serializers.CharField()
    recognitions = serializers.IntegerField()
    points = serializers.IntegerField()


class InsightsValueOutput(serializers.Serializer):
    value_id = serializers.UUIDField()
    name = serializers.CharField()
    recognitions = serializers.IntegerField()
    points = serializers.IntegerField()


class InsightsRankedOutput(serializers.Serializer):
    user_id = serializers.UUIDField()
    full_name = serializers.CharField()
    recognitions = serializers.IntegerField()
    points = serializers.IntegerField()


class InsightsForgottenOutput(serializers.Serializer):
    user_id = serializers.UUIDField()
    full_name = serializers.CharField()
    last_recognised_at = serializers.DateTimeField(allow_null=True)


class InsightsNotRecognisedOutput(serializers.Serializer):
    as_of = serializers.DateTimeField()
    days_30 = serializers.IntegerField()
    days_60 = serializers.IntegerField()
    days_90 = serializers.IntegerField()
    members = InsightsForgottenOutput(
        many=True, help_text="Longest forgotten first, at most 20; the CSV export has all."
    )


class InsightsAllowanceOutput(serializers.Serializer):
    role = serializers.CharField()
    members = serializers.IntegerField()
    limit = serializers.IntegerField()
    given = serializers.IntegerField()
    utilisation = serializers.DecimalField(max_digits=7, decimal_places=1, coerce_to_string=False)


class InsightsBurnOutput(serializers.Serializer):
    pool = serializers.IntegerField()
    outflow_30_days = serializers.IntegerField()
    burn_per_day = serializers.DecimalField(max_digits=16, decimal_places=1, coerce_to_string=False)
    runway_days = serializers.IntegerField(allow_null=True)


class InsightsRedemptionOutput(serializers.Serializer):
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
    participation = InsightsPercentagesOutput(help_text="Percentages of the active members, one decimal.")
    members = InsightsMemberCountsOutput()
    totals = InsightsTotalsOutput(
        help_text="Recognitions received by the scope's members in the period, and their points."
    )
    by_week = InsightsWeekOutput(many=True)
    by_team = InsightsTeamOutput(many=True, allow_null=True)
    by_value = InsightsValueOutput(many=True)
    leaderboard_enabled = serializers.BooleanField()
    top_givers = InsightsRankedOutput(many=True, allow_null=True)
    top_receivers = InsightsRankedOutput(many=True, allow_null=True)
    not_recognised = InsightsNotRecognisedOutput()
    allowance = InsightsAllowanceOutput(many=True, allow_null=True)
    pool_burn = InsightsBurnOutput(allow_null=True)
    redemptions_by_reward = InsightsRedemptionOutput(many=True)

    def get_fields(self):
        fields = super().get_fields()
        return {"tenant_id": fields.pop("tenant_id"), "from": serializers.DateField(), **fields}
