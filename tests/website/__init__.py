"""Website tests: a package (named so, not `site`, which is a standard module) so that this
folder's conftest does not shadow tests/conftest.py."""
