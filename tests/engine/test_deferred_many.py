"""``DeferredSnapshot.many``: the snapshots ``__init__`` makes, made in one call."""

from __future__ import annotations

from datetime import UTC, datetime

from nightdesk.deferred import DeferredSnapshot
from nightdesk.model import Race

AT = datetime(2026, 11, 3, 20, tzinfo=UTC)


def test_many_makes_what_init_makes() -> None:
    def make() -> dict[str, object]:
        raise AssertionError("not built")

    races = [(Race("1", "One"), make, ("token", 1)), (None, make, None)]
    shared = {"source": "s", "fetched_at": AT, "published_at": None, "tree_complete": True}
    many = DeferredSnapshot.many(races=races, **shared)  # type: ignore[arg-type]
    one_by_one = [
        DeferredSnapshot(race=race, make=make, content=content, **shared)  # type: ignore[arg-type]
        for race, make, content in races
    ]
    assert [type(s) for s in many] == [DeferredSnapshot, DeferredSnapshot]
    for a, b in zip(many, one_by_one, strict=True):
        assert list(a.__dict__.items()) == list(b.__dict__.items())
        assert not a.built and a.counts_token() == b.counts_token()
    assert DeferredSnapshot.many(races=[], **shared) == []  # type: ignore[arg-type]
