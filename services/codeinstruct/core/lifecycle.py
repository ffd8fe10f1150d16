"""`Closing`: the one context-manager protocol of objects that hold resources until `close()`
(the sandbox's worker pool, a client's channel, an engine's model, a scorer's sandbox)."""

from __future__ import annotations

from typing import Self


class Closing:
    """`with obj:` returns obj and calls `obj.close()` on leaving, whatever happened inside."""

    def close(self) -> None:
        """Release what the object holds; calling it again does nothing."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
