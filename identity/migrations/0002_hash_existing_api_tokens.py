"""Move the API tokens DRF stored in clear (`authtoken_token`) into `identity_api_tokens` as hashes.

Each existing token keeps working with the same secret and the same expiry
(issued + API_TOKEN_TTL); the clear-text rows are then deleted. Reversing
deletes the hashed rows: a secret cannot be recovered from its hash, so clients
ask for a new token after a rollback.
"""

import hashlib
import uuid

from django.conf import settings
from django.db import migrations


def hash_tokens(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("identity", "ApiToken")
    rows = []
    for token in Token.objects.select_related("user").iterator():
        rows.append(
            ApiToken(
                id=uuid.uuid4(),
                tenant_id=token.user.tenant_id,
                user_id=token.user_id,
                name="",
                prefix=token.key[:8],
                key_hash=hashlib.sha256(token.key.encode()).hexdigest(),
                created_at=token.created,
                expires_at=token.created + settings.API_TOKEN_TTL,
            )
        )
    ApiToken.objects.bulk_create(rows, batch_size=1000)
    Token.objects.all().delete()


def drop_hashed_tokens(apps, schema_editor):
    apps.get_model("identity", "ApiToken").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0001_initial"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("tenants", "0004_user_auth_epoch"),
    ]

    operations = [migrations.RunPython(hash_tokens, drop_hashed_tokens)]
