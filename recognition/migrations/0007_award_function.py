"""The award as one PL/pgSQL function, `perksu_award(tenant, …)` (PostgreSQL only).

It does what the one-statement award of `recognition.statements` does, step by step:
each statement inside is a plain one on one tenant's rows (every one filters by
`tenant_id`, or by the tenant's own `id`), so with Citus the function can be
distributed by its first argument (`create_distributed_function('perksu_award(…)',
distribution_arg_name => 'tenant', colocate_with => 'tenants')`) and run whole on the
tenant's worker, one round trip, where the statement's chain of data-modifying CTEs is
not routed to one shard (docs/SCALING.md).

The same checks in the same order, the same signals:
1. the tenant is active, the award within its cap, a value named if the tenant requires
   one, and the paying balance (pool, the giver's lead budget, or the pool and the
   giver's allowance of the period) covers it — as read before any lock;
2. every recipient's wallet in this tenant, its member active: locked in primary-key order;
   if either fails the function returns no rows and has written nothing (the service then
   takes its general path, which refuses with the precise reason);
3. each wallet credited, its recognition and ledger row written (one plain statement each:
   a Citus fast-path query), the allowance taken (conditional UPDATE), the event row; the
   paying row debited last (conditional UPDATE);
   if the allowance or the balance is gone by then (a concurrent award took it), it raises
   SQLSTATE PK001 — `perksu_award_not_paid()`'s — and the whole call is undone;
4. `pool.low_balance` when the pool's debit crossed its threshold (events on).

It returns one row per credited wallet: (user, wallet, balance after, entry number,
payer's balance after, the pool when a lead budget paid, the allowance period and the
giver's `given` after), as the statement does. With `event_id` NULL it writes no event.
"""

from django.db import migrations

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION perksu_award(
    tenant uuid,
    giver uuid,
    pay_from text,
    recipient_ids uuid[],
    recognition_ids uuid[],
    entry_ids uuid[],
    points_each bigint,
    message_text text,
    note_text text,
    award_group uuid,
    parent_group uuid,
    has_value boolean,
    award_at timestamptz,
    event_id uuid,
    event_name text,
    event_payload jsonb,
    low_event_id uuid
) RETURNS TABLE (
    user_id uuid, wallet_id uuid, balance_after bigint, entry_no bigint,
    payer_after bigint, pool bigint, allowance_period date, allowance_given bigint
) LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    n integer := cardinality(recipient_ids);
    total bigint := points_each * cardinality(recipient_ids);
    covered boolean;
    gift_period date;
    pool_before bigint;
    locked integer;
    wallets_credited uuid[] := '{}';
    balances_after bigint[] := '{}';
    entries_written bigint[] := '{}';
    credited_wallet uuid;
    credited_balance bigint;
    credited_entry bigint;
    named integer;
    event_body jsonb;
    given_after bigint;
    paid bigint;
    threshold bigint;
BEGIN
    IF pay_from NOT IN ('POOL', 'LEAD_BUDGET', 'ALLOWANCE') THEN
        RAISE EXCEPTION 'perksu_award: unknown source %', pay_from USING ERRCODE = '22023';
    END IF;

    -- 1. The checks, as read before any lock.
    SELECT t.status = 'ACTIVE'
        AND (t.max_award_points IS NULL OR t.max_award_points >= points_each)
        AND (has_value OR NOT t.require_value)
        AND CASE pay_from
            WHEN 'LEAD_BUDGET' THEN EXISTS (
                SELECT 1 FROM lead_budgets b
                WHERE b.tenant_id = tenant AND b.lead_id = giver AND b.balance >= total)
            WHEN 'ALLOWANCE' THEN t.points_allocation_balance >= total AND EXISTS (
                SELECT 1 FROM allowance_usage a
                WHERE a.tenant_id = tenant AND a.user_id = giver
                  AND a.period_start = date_trunc(lower(t.allowance_period), award_at AT TIME ZONE t.timezone)::date
                  AND a.given + total <= a."limit")
            ELSE t.points_allocation_balance >= total
        END,
        CASE WHEN pay_from = 'ALLOWANCE'
            THEN date_trunc(lower(t.allowance_period), award_at AT TIME ZONE t.timezone)::date END,
        t.points_allocation_balance
    INTO covered, gift_period, pool_before
    FROM tenants t WHERE t.id = tenant;
    IF covered IS NOT TRUE THEN
        RETURN;
    END IF;

    -- 2. Every recipient's wallet, in this tenant, its member active: locked in primary-key order.
    PERFORM w.id FROM wallets w JOIN users u ON u.id = w.user_id
    WHERE w.tenant_id = tenant AND u.tenant_id = tenant AND w.user_id = ANY (recipient_ids) AND u.is_active
    ORDER BY w.id
    FOR UPDATE OF w;
    GET DIAGNOSTICS locked = ROW_COUNT;
    IF locked <> n THEN
        RETURN;
    END IF;

    -- 3. Each wallet (all locked above) credited, with its recognition and its ledger row.
    FOR i IN 1 .. n LOOP
        UPDATE wallets w
        SET balance = w.balance + points_each, lifetime_earned = w.lifetime_earned + points_each,
            last_entry_no = w.last_entry_no + 1
        WHERE w.tenant_id = tenant AND w.user_id = recipient_ids[i]
        RETURNING w.id, w.balance, w.last_entry_no INTO credited_wallet, credited_balance, credited_entry;
        INSERT INTO recognitions
            (id, tenant_id, giver_id, receiver_id, points, message, funding_source, group_id, parent_id,
             allowance_period, created_at)
        VALUES (recognition_ids[i], tenant, giver, recipient_ids[i], points_each, message_text, pay_from,
            award_group, parent_group, gift_period, award_at);
        INSERT INTO wallet_ledger
            (id, tenant_id, wallet_id, entry_no, entry_type, source, amount, balance_after, actor_id,
             recognition_id, redemption_id, note, created_at)
        VALUES (entry_ids[i], tenant, credited_wallet, credited_entry, 'CREDIT', 'RECOGNITION', points_each,
            credited_balance, giver, recognition_ids[i], NULL, note_text, award_at);
        wallets_credited[i] := credited_wallet;
        balances_after[i] := credited_balance;
        entries_written[i] := credited_entry;
    END LOOP;

    -- An allowance gift: the giver's usage row of the period, after the wallets, before the tenant row.
    IF pay_from = 'ALLOWANCE' THEN
        UPDATE allowance_usage a SET given = a.given + total
        WHERE a.tenant_id = tenant AND a.user_id = giver AND a.period_start = gift_period
          AND a.given + total <= a."limit"
        RETURNING a.given INTO given_after;
        IF NOT FOUND THEN
            PERFORM perksu_award_not_paid();
        END IF;
    END IF;

    -- The outbox row: `recognition.created` (or `.add_on`), the recipients in the order given.
    IF event_id IS NOT NULL THEN
        SELECT count(*), event_payload || jsonb_build_object('recipients', jsonb_agg(jsonb_build_object(
                'id', p.user_id::text, 'name', COALESCE(NULLIF(u.full_name, ''), u.email),
                'recognition_id', p.recognition_id::text) ORDER BY p.ord))
        INTO named, event_body
        FROM unnest(recipient_ids, recognition_ids) WITH ORDINALITY AS p (user_id, recognition_id, ord)
            JOIN users u ON u.id = p.user_id
        WHERE u.tenant_id = tenant;
        IF named = n THEN
            INSERT INTO events (id, tenant_id, name, payload, actor_id, created_at, dispatched_at)
            VALUES (event_id, tenant, event_name, event_body, giver, award_at, NULL);
        END IF;
    END IF;

    -- 4. The paying row, last.
    IF pay_from = 'LEAD_BUDGET' THEN
        UPDATE lead_budgets b SET balance = b.balance - total
        WHERE b.tenant_id = tenant AND b.lead_id = giver AND b.balance >= total
        RETURNING b.balance INTO paid;
    ELSE
        UPDATE tenants t SET points_allocation_balance = t.points_allocation_balance - total
        WHERE t.id = tenant AND t.points_allocation_balance >= total AND t.status = 'ACTIVE'
        RETURNING t.points_allocation_balance, t.low_balance_threshold INTO paid, threshold;
    END IF;
    IF NOT FOUND THEN
        PERFORM perksu_award_not_paid();
    END IF;

    IF event_id IS NOT NULL AND pay_from <> 'LEAD_BUDGET' AND paid < threshold AND paid + total >= threshold THEN
        INSERT INTO events (id, tenant_id, name, payload, actor_id, created_at, dispatched_at)
        VALUES (low_event_id, tenant, 'pool.low_balance',
            jsonb_build_object('pool_balance', paid, 'threshold', threshold), NULL, award_at, NULL);
    END IF;

    RETURN QUERY
    SELECT c.user_id, c.wallet_id, c.balance, c.entry_no, paid,
        CASE WHEN pay_from = 'LEAD_BUDGET' THEN pool_before END, gift_period, given_after
    FROM unnest(recipient_ids, wallets_credited, balances_after, entries_written)
        AS c (user_id, wallet_id, balance, entry_no);
END;
$$;
"""

DROP_FUNCTION = """
DROP FUNCTION IF EXISTS perksu_award(
    uuid, uuid, text, uuid[], uuid[], uuid[], bigint, text, text, uuid, uuid, boolean, timestamptz,
    uuid, text, jsonb, uuid
);
"""


class RunSQLOnPostgreSQL(migrations.RunSQL):
    """RunSQL that does nothing on another database (SQLite has no functions: the award takes
    the general path there)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("recognition", "0006_automated_awards")]

    operations = [RunSQLOnPostgreSQL(CREATE_FUNCTION, DROP_FUNCTION, elidable=False)]
