"""Two VALT calls at once: the second on a helper thread, the first on this one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def together(
    first: Callable[[], Any] | None, second: Callable[[], Any] | None
) -> tuple[Any, Any]:
    """Run ``first`` here and ``second`` on a helper thread at the same time.

    Both are VALT calls under the client's own deadline, so the join is bounded.
    The first error raised (``first``'s before ``second``'s) is raised after both
    ended. Either may be None (not run; its result is None).
    """
    results: list[Any] = [None, None]
    errors: list[BaseException | None] = [None, None]

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            errors[index] = exc

    helper = None
    if second is not None:
        if first is None:
            run(1, second)
        else:
            # A plain thread, not a Worker: it lives for one call, nothing can stop
            # it early, and the join below waits for it on every path.
            helper = threading.Thread(target=run, args=(1, second), name="valt-read")
            helper.start()
    if first is not None:
        run(0, first)
    if helper is not None:
        helper.join()
    for error in errors:
        if error is not None:
            raise error
    return results[0], results[1]
