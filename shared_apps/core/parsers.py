"""The API's JSON parser: what no endpoint can use is refused here, before any view or throttle sees it."""

import math
import re

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Deeper than any request body of this API (a client's preferences, the deepest, nest a few levels).
MAX_BODY_DEPTH = 32

# PostgreSQL stores neither a NUL character nor half of a surrogate pair in text or jsonb, and a lone
# surrogate can't even be encoded to UTF-8 (a cache key, a log line).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class InvalidBody(ParseError):
    """A body that is valid JSON but that no endpoint can take; ``fields`` names the top-level keys at fault."""

    default_code = "invalid"

    def __init__(self, detail: str, *, fields: dict | None = None):
        super().__init__(detail, code=self.default_code)
        self.fields = fields or {}


def _text_problem(text: str) -> str | None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "Text can't contain the NUL character (\\u0000)."
    return f"Text can't contain an unpaired surrogate (\\u{ord(found.group()):04x})."


def _value_problem(value, depth: int) -> str | None:
    """What makes ``value`` (found ``depth`` levels inside the body) unusable, if anything; no recursion."""
    stack = [(value, depth)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                return problem
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "Numbers must be finite."
        elif isinstance(item, dict | list):
            if level >= MAX_BODY_DEPTH:
                return f"Lists and objects are nested more than {MAX_BODY_DEPTH} levels deep."
            if isinstance(item, dict):
                for key in item:
                    problem = _text_problem(key)
                    if problem:
                        return problem
                stack.extend((child, level + 1) for child in item.values())
            else:
                stack.extend((child, level + 1) for child in item)
    return None


class JSONObjectParser(JSONParser):
    """JSON whose top level is an object, with text PostgreSQL can store and a bounded depth.

    Every endpoint of this API takes an object, and views read ``request.data`` as a mapping (so does the
    login throttle, before the view runs): anything else is a 400 here rather than a TypeError later.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            # The decoder gives up at the interpreter's recursion limit, long before reading a deep body to the end.
            raise InvalidBody(f"Lists and objects are nested more than {MAX_BODY_DEPTH} levels deep.") from None
        if not isinstance(data, dict):
            raise InvalidBody('The request body must be a JSON object, e.g. {"name": "value"}.')
        fields = {}
        for key, value in data.items():
            problem = _text_problem(key)
            if problem:
                raise InvalidBody(problem)  # no field to name: the name itself is the problem
            problem = _value_problem(value, 1)
            if problem:
                fields[key] = [problem]
        if fields:
            raise InvalidBody(next(iter(fields.values()))[0], fields=fields)
        return data
