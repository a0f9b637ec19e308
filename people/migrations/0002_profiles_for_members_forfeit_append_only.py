"""Give every existing tenant member a profile, and make the forfeit log append-only
(PostgreSQL, with the trigger function of points 0003)."""

from django.db import migrations


def create_profiles(apps, schema_editor):
    User = apps.get_model("tenants", "User")
    Profile = apps.get_model("people", "Profile")
    have = set(Profile.objects.values_list("user_id", flat=True))
    missing = User.objects.filter(tenant__isnull=False).exclude(pk__in=have).values_list("pk", "tenant_id")
    Profile.objects.bulk_create(
        [Profile(user_id=pk, tenant_id=tenant_id) for pk, tenant_id in missing.iterator()], batch_size=2000
    )


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE TRIGGER forfeit_log_append_only BEFORE UPDATE OR DELETE ON forfeit_log "
        "FOR EACH ROW EXECUTE FUNCTION perksu_refuse_change();"
    )


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS forfeit_log_append_only ON forfeit_log;")


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0001_initial"),
        ("points", "0003_append_only_triggers"),
    ]

    operations = [
        migrations.RunPython(create_profiles, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(create_trigger, drop_trigger, elidable=False),
    ]
