"""Arguments as JSON by the platform's value rules: what JSON would lose is refused, naming it.

The same rules the Python runtime applies to results (container-fallback's shim) and the
TypeScript SDK to its arguments: ``json.dumps`` would write NaN and infinity as non-JSON
tokens and fails on a set without saying where; here each is refused with its place
(``args[0]["tags"] is a set``). Lossless conversions are kept: tuples become lists and int
dict keys strings, as ``json.dumps`` does. Text is kept as UTF-8, not ``\\uXXXX`` escapes.
"""

from __future__ import annotations

import inspect
import json
import math
from typing import Any

#: Deepest nesting of lists and dicts sent (the platform's default result depth).
MAX_DEPTH = 128


class NotJson(ValueError):
    """A value JSON cannot carry as it is: ``path`` is where, ``what`` what it is."""

    def __init__(self, path: str, what: str) -> None:
        super().__init__(f"{path} is {what}")
        self.path = path
        self.what = what


def _what(value: Any) -> str:
    if isinstance(value, (set, frozenset)):
        return f"a {type(value).__name__} (JSON has no set: convert it, e.g. sorted(s) or list(s))"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"{type(value).__name__} (JSON has no binary data: decode it, or base64-encode it)"
    name = type(value).__name__
    if hasattr(value, "isoformat"):
        return f"a {name} (convert it, e.g. value.isoformat())"
    if name == "Decimal":
        return "a Decimal (convert it, e.g. str(d) or float(d))"
    if callable(value):
        return "a function" if inspect.isroutine(value) else f"a callable {name} object"
    article = "an" if name[:1] in "AEIOaeio" else "a"
    return f"{article} {name} object (JSON carries dicts, lists, str, int, float, bool and None)"


def to_json(value: Any, root: str) -> str:
    """``value`` as JSON text, or raises ``NotJson`` naming the first value under ``root`` JSON would lose."""
    on_path: set[int] = set()

    def check(v: Any, path: str, depth: int) -> None:
        if v is None or isinstance(v, (bool, str, int)):
            return
        if isinstance(v, float):
            if not math.isfinite(v):
                word = "NaN" if v != v else "Infinity" if v > 0 else "-Infinity"
                raise NotJson(path, f"{word} (JSON has no NaN or Infinity)")
            return
        if not isinstance(v, (list, tuple, dict)):
            raise NotJson(path, _what(v))
        if depth >= MAX_DEPTH:
            raise NotJson(root, f"nested deeper than {MAX_DEPTH} levels")
        if id(v) in on_path:
            raise NotJson(path, f"a circular reference to a {type(v).__name__} that contains it")
        on_path.add(id(v))
        if isinstance(v, dict):
            for key, item in v.items():
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise NotJson(path, f"a dict with a {type(key).__name__} key {key!r} (JSON keys are strings)")
                if isinstance(key, int) and str(key) in v:
                    raise NotJson(path, f"a dict with both {key!r} and {str(key)!r} as keys (the same in JSON)")
                text = key if isinstance(key, str) else str(key)
                check(item, f"{path}[{json.dumps(text, ensure_ascii=False)}]", depth + 1)
        else:
            for i, item in enumerate(v):
                check(item, f"{path}[{i}]", depth + 1)
        on_path.discard(id(v))

    check(value, root, 0)
    return json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
