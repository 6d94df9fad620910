"""The runner registry: each operation's runner is registered by the app that owns it.

``sources`` knows nothing of inventory or orders; ``inventory`` registers the Get Inventory runners and
``orders`` the FR, ack, shipment and invoice ones (in their ``AppConfig.ready``). A runner is a function
``runner(ctx: RunContext) -> None`` that reads through ``ctx.transport()``, reports progress, counts and
row errors through ``ctx``, and raises ``TransientError`` to be retried or ``ApplicationError`` to fail.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from flxhub.exceptions import ApplicationError

if TYPE_CHECKING:
    from .services.runs import RunContext

Runner = Callable[["RunContext"], None]
_RUNNERS: dict[str, Runner] = {}


def register_runner(operation: str, runner: Runner) -> None:
    _RUNNERS[operation] = runner


def get_runner(operation: str) -> Runner:
    try:
        return _RUNNERS[operation]
    except KeyError:
        raise ApplicationError(
            f"No runner is registered for the operation {operation!r}; is its app installed?",
            code="no_runner",
            details={"operation": operation},
        )


class RunHeld(ApplicationError):
    """Raised by a runner to hold its input for an operator (feed safety) instead of applying it."""

    code = "run_held"
    http_status = 409
