"""`TenantForeignKey` (and `TenantOneToOneField`): a foreign key between two rows of one tenant whose
joins match the tenant too.

On PostgreSQL the database key behind such a field is `(tenant_id, x_id) → t (tenant_id, id)`
(perksu/backends/postgresql/schema.py). Django joins a foreign key on its one column,
`JOIN t ON t.id = x.t_id`, which Citus refuses between two distributed tables ("complex joins are
only supported when all distributed tables are co-located and joined on their distribution
columns"). This field adds the tenant to every join Django writes for it, both ways:
`JOIN t ON t.id = x.t_id AND t.tenant_id = x.tenant_id` — the same rows (both sides are one
tenant's), a join Citus runs on one worker.

In migrations it is a plain `ForeignKey` (`deconstruct`): the join condition is a query matter,
with nothing in the schema to migrate.
"""

from __future__ import annotations

from django.db import models
from django.db.models.lookups import Exact


class TenantJoin:
    """The tenant in the joins of a relation between two of a tenant's rows (the class docstring)."""

    def get_extra_restriction(self, alias, related_alias):
        # `alias` names the target's table in the join, `related_alias` this model's.
        if alias is None or related_alias is None:
            # Django's subquery for an exclude() across the relation gives one side only.
            return None
        target = self.related_model._meta.get_field("tenant")
        source = self.model._meta.get_field("tenant")
        return Exact(target.get_col(alias), source.get_col(related_alias))


class TenantForeignKey(TenantJoin, models.ForeignKey):
    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.ForeignKey", args, kwargs


class TenantOneToOneField(TenantJoin, models.OneToOneField):
    """A one-to-one (a member's profile, keyed by the member) whose joins match the tenant too."""

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.OneToOneField", args, kwargs


class TenantRow:
    """Mixin for a tenant-owned model keyed by one column: saving an existing row writes
    `UPDATE t SET … WHERE tenant_id = … AND id = …` and never sets `tenant_id`.

    A row's tenant never changes (on PostgreSQL it is part of the row's key). Naming it in the
    update sends the statement to the tenant's shard on Citus instead of every shard, and leaving
    it out of `SET` keeps the update one Citus accepts (it refuses to write the distribution
    column: "modifying the partition value of rows is not allowed"). Listed after nothing but
    other mixins, before `models.Model`; `tenants/tests/test_fields.py` requires it on every
    such model."""

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        values = [value for value in values if value[0].attname != "tenant_id"]
        updated = super()._do_update(
            base_qs.filter(tenant_id=self.tenant_id), using, pk_val, values, update_fields, forced_update
        )
        # No row of this tenant: Django would insert one. If the row is another tenant's, this
        # instance's tenant was changed: refused, rather than a second row with the same id.
        if not updated and base_qs.filter(pk=pk_val).exclude(tenant_id=self.tenant_id).exists():
            raise ValueError(f"{type(self).__name__} {pk_val} belongs to another tenant: a row's tenant never changes.")
        return updated
