"""Login e-mails unique across tenants through `user_emails` (a reference table on Citus), not a
unique index on `users`, which keeps one within each tenant (docs/SCALING.md)."""

from collections import Counter

from django.db import migrations, models


def email_rows(apps, schema_editor):
    """One `user_emails` row per existing user, keyed by the e-mail lower-cased."""
    db = schema_editor.connection.alias
    User = apps.get_model("tenants", "User")
    UserEmail = apps.get_model("tenants", "UserEmail")
    users = [(e.strip().lower(), t, i) for e, t, i in User.objects.using(db).values_list("email", "tenant_id", "id")]
    twice = [email for email, n in Counter(e for e, _, _ in users).items() if n > 1]
    if twice:
        raise RuntimeError(
            "These e-mails belong to more than one user once lower-cased; give each user its own address "
            f"before migrating: {', '.join(sorted(twice)[:20])}"
        )
    rows = [UserEmail(email=e, tenant_id=t, user_id=i) for e, t, i in users]
    UserEmail.objects.using(db).bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("tenants", "0007_staff_actor_without_constraint"),
    ]

    operations = [
        migrations.CreateModel(
            name="UserEmail",
            fields=[
                ("email", models.CharField(max_length=254, primary_key=True, serialize=False)),
                ("tenant_id", models.UUIDField()),
                ("user_id", models.UUIDField(unique=True)),
            ],
            options={"db_table": "user_emails"},
        ),
        migrations.RunPython(email_rows, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(model_name="user", name="email", field=models.EmailField(max_length=254)),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(fields=("tenant", "email"), name="users_tenant_email_key"),
        ),
    ]
