"""What each zone learns about itself, online, from its own sensor history (pure, deterministic).

A zone's PIRs go quiet many times a day.  Some quiet gaps are *inside* a visit (someone is there
but still), others are *between* visits (the zone is empty).  Between-visit gaps are longer, so on
a log scale the gaps of a zone form two humps.  :class:`GapModel` keeps a decaying histogram of the
gaps (per context: did the burst before the gap start a visit, and had motion already moved on to
another zone when it ended), splits the humps with a two-component mixture, and from that answers:

* ``p_occupied(ctx, quiet)``: of the gaps that lasted at least ``quiet`` seconds, the share that
  were inside a visit, i.e. the probability that someone is still there;
* ``hold(ctx)``: how long after motion ends the zone stays occupied: the quiet time at which that
  probability falls below one half (time-weighted accuracy is best there), within the bounds of
  the zone's profile.

Before any data the model holds a prior made from the zone kind's default timeout, worth a few
visits, so a new zone behaves like the kind's default and converges to its own within about ten
visits.  Old evidence decays, so a zone whose use changes follows.  Everything is a function of
the sequence of gaps fed in, so live ingest and ``replay_timeline`` learn exactly the same.

:class:`Rate` is a Beta-Bernoulli counter for the door rules (is a room empty after a door cycle
with no motion inside?), :class:`Longest` remembers the longest stillness a room has shown.
"""

from __future__ import annotations

import math
from collections import deque

BINS_PER_DECADE = 10
LOG_MIN = -0.3  # the first bin starts at 0.5 s
NB = 60  # ... the last ends at ~5 days
DECAY = 0.995  # per gap: the last ~300 gaps carry most weight
PRIOR_GAPS = 2.0  # the kind's default is worth this many visits
POOL_WEIGHT = 1.0  # a context with few gaps borrows this many from the zone's overall shape
MIN_SIGMA = 0.12  # decades
HALF = 0.5
WEAK_PRIOR = 0.25  # prior hold after a lone short burst, as a share of the zone's

FIRST, HANDOFF = 1, 2  # context bits
CONTEXTS = 4


def _bin(seconds: float) -> int:
    if seconds <= 0.5:
        return 0
    k = int((math.log10(seconds) - LOG_MIN) * BINS_PER_DECADE)
    return k if k < NB else NB - 1


def _edge(k: float) -> float:
    return 10 ** (LOG_MIN + k / BINS_PER_DECADE)


CENTERS = [LOG_MIN + (k + 0.5) / BINS_PER_DECADE for k in range(NB)]


class Pool:
    """Decaying gap counts per context (and over all contexts) on the log bins."""

    __slots__ = ("counts", "inc", "n", "pooled")

    def __init__(self) -> None:
        self.counts = [[0.0] * NB for _ in range(CONTEXTS)]
        self.pooled = [0.0] * NB
        self.inc = 1.0  # weight of the next gap (grows instead of decaying every count)
        self.n = 0

    def add(self, k: int, ctx: int) -> int:
        """Count a gap in bin ``k``; returns how many gaps were counted so far."""
        self.counts[ctx][k] += self.inc
        self.pooled[k] += self.inc
        self.inc /= DECAY
        self.n += 1
        if self.inc > 1e9:
            f = 1.0 / self.inc
            for row in (*self.counts, self.pooled):
                for j in range(NB):
                    row[j] *= f
            self.inc = 1.0
        return self.n

    def share(self, row: list[float], weight: float) -> list[float] | None:
        """``row`` scaled to a total of ``weight`` pseudo-gaps (None when empty)."""
        total = sum(row)
        if total <= 0:
            return None
        f = weight / total
        return [x * f for x in row]


class GapModel:
    """Quiet gaps of one zone: the learned hold and ``p_occupied`` per context."""

    __slots__ = ("_cache", "_resplit", "hi", "lo", "own", "prior", "prior_hold", "priors", "within")

    def __init__(self, prior_hold: float, lo: float, hi: float) -> None:
        self.prior_hold = prior_hold
        self.lo, self.hi = lo, hi
        self.own = Pool()
        # pseudo-gaps, already labelled: inside visits just short of the default hold, between visits
        # far beyond it (a lone short burst that starts a visit is usually someone passing, so its
        # context's inside pseudo-gaps are shorter)
        self.prior = _prior(prior_hold * 10)  # between visits
        self.priors = [_prior(prior_hold * (WEAK_PRIOR if c & FIRST else 1.0), 2) for c in range(CONTEXTS)]
        self.within = [1.0] * NB  # P(inside a visit | gap in bin k), from the mixture
        self._resplit = True
        self._cache: list[tuple[list[float], list[float], float] | None] = [None] * CONTEXTS

    @property
    def n(self) -> int:
        return self.own.n

    # -- learning ---------------------------------------------------------------------------------

    def add(self, gap: float, ctx: int) -> None:
        """A quiet gap of ``gap`` seconds ended (motion came back) in context ``ctx``."""
        n = self.own.add(_bin(gap), ctx)
        # answers are recomputed as evidence comes in: after every gap while the zone is new, then
        # every few gaps (one gap more hardly moves a settled model, and this is on the ingest path)
        if n <= 32 or n % 8 == 0:
            self._resplit = True
        if n <= 64 or n % 4 == 0:
            self._cache = [None] * CONTEXTS

    def _split(self) -> None:
        """Split the gaps in two humps (minimum-error threshold on log10(gap)), fit a Gaussian to each
        and take the share of each bin that belongs to the inside hump."""
        own = self.own
        anchors = [a + b for a, b in zip(self.prior, self.priors[0], strict=True)]
        w = [p + c / own.inc for p, c in zip(anchors, own.pooled, strict=True)]  # data + the prior's anchors
        total = sum(w)
        cut = _kittler(w)
        parts = [(range(cut), 0), (range(cut, NB), 1)]
        mu, sd, pi = [0.0, 0.0], [MIN_SIGMA, MIN_SIGMA], [0.5, 0.5]
        for idx, j in parts:
            mass = sum(w[k] for k in idx)
            if mass <= 0:
                mu[j], pi[j] = CENTERS[cut if j else max(cut - 1, 0)], 1e-6
                continue
            mu[j] = sum(w[k] * CENTERS[k] for k in idx) / mass
            sd[j] = max(MIN_SIGMA, math.sqrt(sum(w[k] * (CENTERS[k] - mu[j]) ** 2 for k in idx) / mass))
            pi[j] = mass / total
        within, floor = [], 1.0
        low = min(mu)
        for x in CENTERS:  # P(inside) is 1 below the inside hump's centre and can only fall beyond it
            if x > low:
                floor = min(floor, _resp(x, mu, sd, pi))
            within.append(floor)
        self.within = within
        self._resplit = False

    # -- answers ----------------------------------------------------------------------------------

    def _tails(self, ctx: int) -> tuple[list[float], list[float], float]:
        """Suffix sums of inside / between gap mass for ``ctx``, and the learned hold."""
        hit = self._cache[ctx]
        if hit is not None:
            return hit
        if self._resplit:
            self._split()
        own = self.own
        mass = [c / own.inc for c in own.counts[ctx]]
        borrowed = own.share(own.pooled, POOL_WEIGHT)  # a context with few gaps leans on the zone's shape
        if borrowed is not None:
            mass = [a + b for a, b in zip(mass, borrowed, strict=True)]
        inside, between = self.priors[ctx], self.prior
        sw, sb = [0.0] * (NB + 1), [0.0] * (NB + 1)
        for k in range(NB - 1, -1, -1):
            sw[k] = sw[k + 1] + mass[k] * self.within[k] + inside[k]
            sb[k] = sb[k + 1] + mass[k] * (1 - self.within[k]) + between[k]
        hold = _crossing(sw, sb)
        out = (sw, sb, min(self.hi, max(self.lo, hold)))
        self._cache[ctx] = out
        return out

    def hold(self, ctx: int) -> float:
        """Seconds a zone stays occupied after motion ends, in context ``ctx``."""
        return self._tails(ctx)[2]

    def p_occupied(self, ctx: int, quiet: float) -> float:
        """Probability that someone is still there after ``quiet`` seconds without motion."""
        sw, sb, _ = self._tails(ctx)
        k, f = _position(quiet)
        a = sw[k + 1] + (sw[k] - sw[k + 1]) * (1 - f)
        b = sb[k + 1] + (sb[k] - sb[k + 1]) * (1 - f)
        return a / (a + b) if a + b > 0 else 0.0

    def boundary(self) -> float:
        """The gap length beyond which a gap is more likely between visits than inside one."""
        if self._resplit:
            self._split()
        for k, r in enumerate(self.within):
            if r < HALF:
                return _edge(k)
        return _edge(NB)

    def snapshot(self) -> dict:
        own = self.own
        return {"n": own.n, "inc": own.inc, "counts": [list(r) for r in own.counts], "pooled": list(own.pooled)}

    def restore(self, data: dict) -> None:
        own = self.own
        own.n, own.inc = int(data["n"]), float(data["inc"])
        own.counts = [[float(x) for x in r] for r in data["counts"]]
        own.pooled = [float(x) for x in data["pooled"]]
        self._resplit = True
        self._cache = [None] * CONTEXTS


def _prior(seconds: float, weight: float = 1.0) -> list[float]:
    """``weight`` × PRIOR_GAPS pseudo-gaps of ``seconds``."""
    row = [0.0] * NB
    row[_bin(seconds)] += weight * PRIOR_GAPS
    return row


def _position(seconds: float) -> tuple[int, float]:
    """Bin of ``seconds`` and its position inside the bin (0..1, on the log scale)."""
    if seconds <= _edge(0):
        return 0, 0.0
    x = (math.log10(seconds) - LOG_MIN) * BINS_PER_DECADE
    k = int(x)
    return (k, x - k) if k < NB else (NB - 1, 1.0)


def _crossing(sw: list[float], sb: list[float]) -> float:
    """Smallest quiet time at which inside mass ≤ between mass (log-linear inside a bin)."""
    for k in range(NB):
        if sw[k + 1] <= sb[k + 1]:
            dw, db = sw[k] - sw[k + 1], sb[k] - sb[k + 1]
            if sw[k] <= sb[k] or dw == db:
                return _edge(k)
            one_minus_f = (sb[k + 1] - sw[k + 1]) / (dw - db)
            return _edge(k + 1 - max(0.0, min(1.0, one_minus_f)))
    return _edge(NB)


def _resp(x: float, mu: list[float], sd: list[float], pi: list[float]) -> float:
    a = pi[0] / sd[0] * math.exp(-0.5 * ((x - mu[0]) / sd[0]) ** 2)
    b = pi[1] / sd[1] * math.exp(-0.5 * ((x - mu[1]) / sd[1]) ** 2)
    if mu[0] > mu[1]:
        a, b = b, a
    return a / (a + b) if a + b > 0 else (1.0 if x < (mu[0] + mu[1]) / 2 else 0.0)




def _kittler(w: list[float]) -> int:
    """Minimum-error threshold (Kittler & Illingworth): the cut between two Gaussian humps that
    copes with humps of very different size."""
    total = sum(w)
    best, cut = math.inf, NB // 2
    prefix_w = prefix_m = prefix_s = 0.0
    sum_m = sum(wk * x for wk, x in zip(w, CENTERS, strict=True))
    sum_s = sum(wk * x * x for wk, x in zip(w, CENTERS, strict=True))
    for k in range(NB - 1):
        prefix_w += w[k]
        prefix_m += w[k] * CENTERS[k]
        prefix_s += w[k] * CENTERS[k] ** 2
        w1 = total - prefix_w
        if prefix_w <= 1e-9 or w1 <= 1e-9:
            continue
        m0, m1 = prefix_m / prefix_w, (sum_m - prefix_m) / w1
        v0 = max(MIN_SIGMA ** 2, prefix_s / prefix_w - m0 * m0)
        v1 = max(MIN_SIGMA ** 2, (sum_s - prefix_s) / w1 - m1 * m1)
        p0, p1 = prefix_w / total, w1 / total
        j = p0 * math.log(v0) / 2 + p1 * math.log(v1) / 2 - p0 * math.log(p0) - p1 * math.log(p1)
        if j < best:
            best, cut = j, k + 1
    return cut


class Rate:
    """A Beta-Bernoulli estimate with a prior worth ``weight`` observations, decaying old ones."""

    __slots__ = ("no", "yes")

    def __init__(self, prior: float, weight: float = 3.0) -> None:
        self.yes, self.no = prior * weight, (1 - prior) * weight

    def add(self, outcome: bool) -> None:
        self.yes, self.no = self.yes * 0.98 + outcome, self.no * 0.98 + (not outcome)

    @property
    def p(self) -> float:
        return self.yes / (self.yes + self.no)


class Longest:
    """The longest stillness a room has shown lately (people inside, door closed, no motion)."""

    MEMORY_S = 14 * 86400.0  # what the last two weeks showed
    NOTABLE_S = 600.0  # shorter stillness never sets the cap: not worth remembering

    __slots__ = ("recent",)

    def __init__(self) -> None:
        self.recent: deque[tuple[float, float]] = deque()  # (when it ended, seconds), time order

    def add(self, seconds: float, at: float) -> None:
        if seconds < self.NOTABLE_S:
            return
        while self.recent and (self.recent[0][0] < at - self.MEMORY_S or len(self.recent) > 256):
            self.recent.popleft()
        self.recent.append((at, seconds))

    def longest(self) -> float:
        return max((s for _, s in self.recent), default=0.0)
