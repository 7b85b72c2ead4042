"""Lesson tests (a package, so that this folder's conftest does not shadow tests/conftest.py)."""
