"""Sequence alignment for the run diff: which items of two sequences correspond.

`lcs_pairs` finds a longest common subsequence: trim the common prefix and
suffix; solve a small remainder with Myers' O(ND) algorithm (optimal); cut
a large one first at items occurring exactly once on each side (a longest
increasing run of them, as ``git diff --patience`` does), which keeps long
runs fast. For one side equal to the other with k items inserted, the
result is exactly the other side's items paired and k left over — an
inserted node is one insertion, never "everything after it changed".

`align` does this twice, as SPEC §6 asks: first on fingerprints (key and
inputs), so among executions with equal keys those with equal inputs pair
up; then, in each gap the first pass leaves, on keys alone, so an execution
whose inputs changed still pairs with its counterpart (as ``changed``).
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Sequence

__all__ = ["Alignment", "align", "lcs_pairs"]

#: One aligned row: (index in a, index in b); None on the side that lacks the item.
Alignment = list[tuple[int | None, int | None]]

#: Above this edit distance Myers' algorithm gives up on a region and a greedy
#: in-order matching takes over (its cost grows with D², so this bounds the time
#: spent on two runs that have little in common).
MAX_EDIT_DISTANCE = 1000
#: Regions up to this many items (both sides together) go straight to Myers, which is
#: optimal; larger ones are first cut at unique anchors, which is fast and rarely
#: gives up any length.
SMALL_REGION = 400


def lcs_pairs(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[tuple[int, int]]:
    """Pairs ``(i, j)`` with ``a[i] == b[j]``, increasing in both: a longest common subsequence.

    Optimal (a true LCS) for sequences up to `SMALL_REGION` items; longer ones
    are cut at unique anchors first (patience), which may give up a little
    length on heavily shuffled input but never on insertions or removals. A
    region whose edit distance exceeds `MAX_EDIT_DISTANCE` falls back to a
    greedy in-order match, so the cost stays bounded.
    """
    out: list[tuple[int, int]] = []
    # Work list of regions [alo, ahi) x [blo, bhi); results are collected per region
    # and sorted at the end (regions never overlap and pairs increase within each).
    work = [(0, len(a), 0, len(b))]
    while work:
        alo, ahi, blo, bhi = work.pop()
        # Common prefix and suffix.
        while alo < ahi and blo < bhi and a[alo] == b[blo]:
            out.append((alo, blo))
            alo += 1
            blo += 1
        while alo < ahi and blo < bhi and a[ahi - 1] == b[bhi - 1]:
            ahi -= 1
            bhi -= 1
            out.append((ahi, bhi))
        if alo == ahi or blo == bhi:
            continue
        anchors = [] if (ahi - alo) + (bhi - blo) <= SMALL_REGION else \
            _unique_anchors(a, b, (alo, ahi, blo, bhi))
        if anchors:
            pi, pj = alo, blo
            for i, j in anchors:
                work.append((pi, i, pj, j))
                out.append((i, j))
                pi, pj = i + 1, j + 1
            work.append((pi, ahi, pj, bhi))
            continue
        out.extend(_myers(a, b, (alo, ahi, blo, bhi)))
    out.sort()
    return out


def _unique_anchors(a: Sequence[Hashable], b: Sequence[Hashable],
                    region: tuple[int, int, int, int]) -> list[tuple[int, int]]:
    """Pairs of items occurring exactly once in each region, longest increasing run (patience)."""
    alo, ahi, blo, bhi = region
    count_a: dict[Hashable, int] = {}
    where_a: dict[Hashable, int] = {}
    for i in range(alo, ahi):
        x = a[i]
        count_a[x] = count_a.get(x, 0) + 1
        where_a[x] = i
    count_b: dict[Hashable, int] = {}
    where_b: dict[Hashable, int] = {}
    for j in range(blo, bhi):
        y = b[j]
        if count_a.get(y) == 1:
            count_b[y] = count_b.get(y, 0) + 1
            where_b[y] = j
    candidates = sorted((where_a[x], where_b[x]) for x, n in count_b.items() if n == 1)
    if not candidates:
        return []
    return _longest_increasing(candidates)


def _longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of ``pairs`` (sorted by i) whose j increase too."""
    tails: list[int] = []  # tails[k]: smallest j ending an increasing run of length k+1
    tail_idx: list[int] = []
    prev: list[int] = [-1] * len(pairs)
    for n, (_, j) in enumerate(pairs):
        k = bisect.bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_idx.append(n)
        else:
            tails[k] = j
            tail_idx[k] = n
        prev[n] = tail_idx[k - 1] if k > 0 else -1
    run: list[tuple[int, int]] = []
    n = tail_idx[-1]
    while n >= 0:
        run.append(pairs[n])
        n = prev[n]
    run.reverse()
    return run


def _myers(a: Sequence[Hashable], b: Sequence[Hashable],
           region: tuple[int, int, int, int]) -> list[tuple[int, int]]:
    """Myers' greedy O(ND) LCS of ``a[alo:ahi]`` and ``b[blo:bhi]`` (indices into a and b)."""
    alo, ahi, blo, bhi = region
    n, m = ahi - alo, bhi - blo
    limit = min(n + m, MAX_EDIT_DISTANCE)
    v = {1: 0}
    trace: list[dict[int, int]] = []
    found = -1
    for d in range(limit + 1):
        trace.append(dict(v))
        for k in range(-d, d + 1, 2):
            # Step down (an insertion from b) or right (a deletion from a), whichever
            # reaches further along the diagonal.
            x = v[k + 1] if k == -d or (k != d and v[k - 1] < v[k + 1]) else v[k - 1] + 1
            y = x - k
            while x < n and y < m and a[alo + x] == b[blo + y]:
                x += 1
                y += 1
            v[k] = x
            if x >= n and y >= m:
                found = d
                break
        if found >= 0:
            break
    if found < 0:
        return _greedy(a, b, region)
    # Walk the trace back from (n, m): trace[d] holds the furthest x per diagonal after
    # d-1 edits; each step back undoes one edit and the snake (run of matches) after it.
    pairs: list[tuple[int, int]] = []
    x, y = n, m
    for d in range(found, -1, -1):
        vd = trace[d]
        k = x - y
        prev_k = k + 1 if k == -d or (k != d and vd[k - 1] < vd[k + 1]) else k - 1
        prev_x = vd[prev_k]
        prev_y = prev_x - prev_k
        while x > prev_x and y > prev_y:
            x -= 1
            y -= 1
            pairs.append((alo + x, blo + y))
        x, y = prev_x, prev_y
    pairs.reverse()
    return pairs


def _greedy(a: Sequence[Hashable], b: Sequence[Hashable],
            region: tuple[int, int, int, int]) -> list[tuple[int, int]]:
    """In-order matching: each item of a takes the next equal item of b (bounded cost)."""
    alo, ahi, blo, bhi = region
    positions: dict[Hashable, list[int]] = {}
    for j in range(blo, bhi):
        positions.setdefault(b[j], []).append(j)
    pairs: list[tuple[int, int]] = []
    cur = blo
    for i in range(alo, ahi):
        js = positions.get(a[i])
        if not js:
            continue
        k = bisect.bisect_left(js, cur)
        if k < len(js):
            pairs.append((i, js[k]))
            cur = js[k] + 1
    return pairs


def align(a_keys: Sequence[Hashable], b_keys: Sequence[Hashable],
          a_prints: Sequence[Hashable] | None = None,
          b_prints: Sequence[Hashable] | None = None) -> Alignment:
    """Align two sequences: rows ``(i, j)``, ``(i, None)`` (only in a) or ``(None, j)`` (only in b).

    With fingerprints (``a_prints``/``b_prints``, one per item, equal only for
    equal keys), items pair on fingerprints first and on keys in the gaps
    left over. Within a gap, the items only in a come before those only in b.

    ::

        >>> align("abc", "axbc")
        [(0, 0), (None, 1), (1, 2), (2, 3)]
    """
    if a_prints is None or b_prints is None:
        anchors = lcs_pairs(a_keys, b_keys)
        return _rows(anchors, len(a_keys), len(b_keys))
    first = lcs_pairs(a_prints, b_prints)
    pairs: list[tuple[int, int]] = []
    pi = pj = 0
    for i, j in [*first, (len(a_keys), len(b_keys))]:
        if i > pi and j > pj:  # a gap on both sides: pair what has equal keys
            pairs.extend((pi + x, pj + y)
                         for x, y in lcs_pairs(a_keys[pi:i], b_keys[pj:j]))
        if i < len(a_keys):
            pairs.append((i, j))
        pi, pj = i + 1, j + 1
    return _rows(pairs, len(a_keys), len(b_keys))


def _rows(pairs: list[tuple[int, int]], n: int, m: int) -> Alignment:
    rows: Alignment = []
    pi = pj = 0
    for i, j in [*pairs, (n, m)]:
        rows.extend((x, None) for x in range(pi, i))
        rows.extend((None, y) for y in range(pj, j))
        if i < n:
            rows.append((i, j))
        pi, pj = i + 1, j + 1
    return rows
