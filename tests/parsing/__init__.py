"""Tests of the pure parsers: library files and Dockerfiles."""
