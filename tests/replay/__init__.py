"""Tests of the replay upstream (indexer.replay)."""
