"""errors: one module, each error a built-in, messages printed as written."""

from __future__ import annotations

import inspect

from explainlab import errors


def test_every_error_subclasses_a_builtin_and_the_base():
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass)
               if c.__module__ == errors.__name__ and c is not errors.ExplainLabError]
    assert len(classes) >= 10
    for cls in classes:
        assert issubclass(cls, errors.ExplainLabError)
        builtin_bases = [b for b in cls.__mro__[1:] if b.__module__ == "builtins"
                         and b not in (Exception, BaseException, object)]
        assert builtin_bases, f"{cls.__name__} subclasses no specific built-in"


def test_key_error_message_is_not_quoted():
    assert str(errors.UnknownRoleError("Unknown role 'x'.")) == "Unknown role 'x'."
