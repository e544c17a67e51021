"""The database server's token key is rotated under load; the app's token file follows later."""

from chaos.scenarios.base import Expectation, Scenario
from chaos.token_rotation import TokenRotation

# How long the app's token file keeps the old token after the server changed its key: the
# lag of a secret mount behind the key it follows.
FILE_LAG_S = 1.5

SCENARIO = Scenario(
    "token_rotation",
    f"database server restarted with a new token key; the app's token file gets the new"
    f" token {FILE_LAG_S:g} s later",
    token_rotation=TokenRotation(start_s=0.5, new_token_after_s=FILE_LAG_S),
    expect=Expectation(
        # The refusal itself, or the breaker it opened: both 503s that say why.
        failure_codes=("database_auth_rejected", "circuit_open"),
        # The new token is found by the breaker's next probe, up to a cool-down (1 s) after
        # the file changed, and goes out on a new connection: more than a link's recovery.
        recovery_bound_s=3.0,
    ),
)
