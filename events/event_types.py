"""The catalogue of business events (SPEC §12): the only names `record_event` accepts.

A consumer (e-mail, in-app notices, webhooks) subscribes to names from here;
the webhook endpoints' `events` field is validated against `ALL`.
"""

RECOGNITION_CREATED = "recognition.created"
RECOGNITION_ADD_ON = "recognition.add_on"
COMMENT_CREATED = "comment.created"
REDEMPTION_ISSUED = "redemption.issued"
REDEMPTION_REFUNDED = "redemption.refunded"
ALLOCATION_CREATED = "allocation.created"
CLAWBACK_CREATED = "clawback.created"
DELEGATION_CREATED = "delegation.created"
POOL_LOW_BALANCE = "pool.low_balance"
USER_CREATED = "user.created"
USER_DEACTIVATED = "user.deactivated"
BOOKS_DRIFT = "books.drift"
AUTOMATION_SKIPPED = "automation.skipped"

ALL: tuple[str, ...] = (
    RECOGNITION_CREATED,
    RECOGNITION_ADD_ON,
    COMMENT_CREATED,
    REDEMPTION_ISSUED,
    REDEMPTION_REFUNDED,
    ALLOCATION_CREATED,
    CLAWBACK_CREATED,
    DELEGATION_CREATED,
    POOL_LOW_BALANCE,
    USER_CREATED,
    USER_DEACTIVATED,
    BOOKS_DRIFT,
    AUTOMATION_SKIPPED,
)
