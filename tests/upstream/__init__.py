"""Tests of the upstream clients against real local servers."""
