"""Bounded-memory duplicate detection on (agent, boot, seq)."""

from __future__ import annotations

from collections import OrderedDict

MAX_PENDING = 512  # seqs held above the contiguous mark before it is forced forward
MAX_BOOTS = 8  # boots remembered per agent


class SeqWindow:
    """Seqs seen in one boot: everything ``<= mark`` plus a small set above it.

    When the set outgrows :data:`MAX_PENDING` the mark jumps to its smallest member, so an
    event older than that (very late, and lost in between) is treated as already seen.
    """

    __slots__ = ("above", "mark")

    def __init__(self) -> None:
        self.mark = -1
        self.above: set[int] = set()

    def add(self, seq: int) -> bool:
        """Record ``seq``; False if it was seen before."""
        if seq <= self.mark or seq in self.above:
            return False
        if seq == self.mark + 1:
            self.mark = seq
            self._compact()
        else:
            self.above.add(seq)
            if len(self.above) > MAX_PENDING:
                self.mark = min(self.above)
                self.above.discard(self.mark)
                self._compact()
        return True

    def _compact(self) -> None:
        above = self.above
        while self.mark + 1 in above:
            self.mark += 1
            above.discard(self.mark)


class Deduplicator:
    """SeqWindows per (agent, boot), keeping only each agent's most recently started boots."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], SeqWindow] = {}
        self._boots: dict[str, OrderedDict[str, None]] = {}

    def first_time(self, agent: str, boot: str, seq: int) -> bool:
        window = self._windows.get((agent, boot))
        if window is None:
            window = self._windows[(agent, boot)] = SeqWindow()
            boots = self._boots.setdefault(agent, OrderedDict())
            boots[boot] = None
            if len(boots) > MAX_BOOTS:
                oldest, _ = boots.popitem(last=False)
                del self._windows[(agent, oldest)]
        return window.add(seq)
