"""What an unknown function name was probably meant to be: the sentence scones adds to AWS's ``Function not found``.

Case slips (``serializeimagedata``) and a letter or two (``serializeImageDta``)
are the usual way a definition and a declaration miss each other; the runtime
names the nearest declared function, then lists them all.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Final

#: Names listed in the note at most; beyond, the count of the others.
LISTED: Final = 20


def distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions), with a swap of neighbours counting one."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def allowed_slip(name: str) -> int:
    """How many letters may differ for a name to count as a slip: none for very short names, two from six."""
    return 0 if len(name) < 3 else 1 if len(name) < 6 else 2


def nearest(name: str, known: Iterable[str]) -> str | None:
    """The known name that differs from ``name`` only in case, or else by the fewest letters (one or two)."""
    best: tuple[int, str] | None = None
    folded = name.casefold()
    for candidate in known:
        if candidate == name:
            continue
        d = distance(folded, candidate.casefold())
        if d <= allowed_slip(name) and (best is None or (d, candidate) < best):
            best = (d, candidate)
    return None if best is None else best[1]


def not_found_note(name: str, known: Collection[str]) -> str:
    """``did you mean X? Functions here: …`` for an unknown ``name``."""
    if not known:
        return "no functions are declared here"
    ordered = sorted(known)
    listed = ", ".join(ordered[:LISTED]) + (f" and {len(ordered) - LISTED} more" if len(ordered) > LISTED else "")
    guess = nearest(name, ordered)
    return (f"did you mean {guess}? " if guess else "") + f"functions here: {listed}"
