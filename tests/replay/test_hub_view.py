"""The Hub view rules of indexer.replay.hub_view, checked on the real corpus."""

from __future__ import annotations

from datetime import timedelta

from indexer.replay import Corpus, derived_digest, hub_tags_for
from indexer.replay.hub_view import parse_hub_time


def _tags_up_to(corpus: Corpus, snapshot: str, repository: str) -> set[str]:
    limit = corpus.snapshot(snapshot).date
    return {
        tag
        for s in corpus.snapshots
        if s.date <= limit
        for tag in corpus.tag_definitions(s.name, repository)
    }


def test_served_tags_are_every_tag_up_to_the_snapshot(corpus: Corpus) -> None:
    for repository in ("python", "debian", "nginx"):
        hub = corpus.hub_tags(repository)
        assert hub is not None
        for snapshot in ("meta-2024", "dense-current", "current"):
            names = {v.name for v in hub_tags_for(corpus, snapshot, repository)}
            assert names == _tags_up_to(corpus, snapshot, repository) & set(hub)
    assert hub_tags_for(corpus, "dense-current", "no-such-image") == []
    # espocrm only appears in `current`: the Hub does not know it before
    assert hub_tags_for(corpus, "dense-current", "espocrm") == []
    assert hub_tags_for(corpus, "current", "espocrm")


def test_corpus_and_derived_values(corpus: Corpus) -> None:
    hub = corpus.hub_tags("python")
    assert hub is not None
    views = hub_tags_for(corpus, "dense-current", "python")
    assert any(v.from_corpus for v in views)
    assert any(not v.from_corpus for v in views)
    for view in views:
        stored = hub[view.name]
        assert [i.size for i in view.images] == [p.size for p in stored.platforms]
        seen = corpus.snapshot(view.seen_in)
        definition = corpus.tag_definitions(seen.name, "python")[view.name]
        if view.from_corpus:
            assert view.digest == stored.digest
            assert [i.digest for i in view.images] == [p.digest for p in stored.platforms]
            assert view.last_updated == max(p.last_modified for p in stored.platforms)
            continue
        assert view.digest == derived_digest(stored.digest, definition)
        assert [i.digest for i in view.images] == [
            derived_digest(p.digest, definition) for p in stored.platforms
        ]
        for image in view.images:
            pushed = parse_hub_time(image.last_pushed)
            assert seen.date - timedelta(days=400) < pushed < seen.date
        assert view.last_updated == max(i.last_pushed for i in view.images)


def test_order_is_newest_first_then_name(corpus: Corpus) -> None:
    views = hub_tags_for(corpus, "dense-current", "python")
    keys = [(-parse_hub_time(v.last_updated).timestamp(), v.name) for v in views]
    assert keys == sorted(keys)


def test_switch_changes_exactly_the_tags_whose_definition_changed(corpus: Corpus) -> None:
    served = changed = corpus_served = 0
    for repository in sorted(corpus.hub_repositories):
        before = {v.name: v for v in hub_tags_for(corpus, "dense-previous", repository)}
        after = {v.name: v for v in hub_tags_for(corpus, "dense-current", repository)}
        assert set(before) <= set(after)
        for name, old in before.items():
            new = after[name]
            old_definition = corpus.tag_definitions(old.seen_in, repository)[name]
            new_definition = corpus.tag_definitions(new.seen_in, repository)[name]
            moved = old_definition != new_definition
            assert (old.digest != new.digest) == moved, (repository, name)
            assert ([i.digest for i in old.images] != [i.digest for i in new.images]) == moved
            assert (old.last_updated != new.last_updated) == moved, (repository, name)
            changed += moved
        served += len(after)
        corpus_served += sum(v.from_corpus for v in after.values())
    assert changed > 0
    assert corpus_served > served / 2
    # `current` is the newest snapshot: everything serves the Hub file's values
    assert all(v.from_corpus for v in hub_tags_for(corpus, "current", "python"))
