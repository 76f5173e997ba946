import json
import re
import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError


@cache
def timezone_names() -> frozenset[str]:
    # available_timezones() walks the tz database on every call.
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in timezone_names():
        raise ValidationError(f"Unknown time zone: {value}.", code="invalid_timezone")


# -- limits on what people type ---------------------------------------------------------------------------
# One number per kind of text, used by the models, the API's serializers and the CSV import alike, so that
# no way in accepts what another refuses.

PERSON_NAME_MAX_LENGTH = 150  # a person's first or last name
TITLE_MAX_LENGTH = 120  # a studio, package or session type name; a trainer's display name
TEXT_MAX_LENGTH = 5000  # a bio, a description, the notes on a client or a booking
NOTE_MAX_LENGTH = 10000  # one entry in a client's history
REASON_MAX_LENGTH = 500  # a cancellation reason, a credit adjustment's reason
TAG_MAX_LENGTH = 40
TAGS_MAX_COUNT = 30
GOAL_MAX_LENGTH = 200
GOALS_MAX_COUNT = 20
EXPERTISE_MAX_LENGTH = 60  # one of a trainer's areas of expertise
EXPERTISE_MAX_COUNT = 30
# Free-form JSON a client record carries (preferences, goals), measured as stored (compact UTF-8 JSON).
JSON_MAX_BYTES = 16 * 1024
JSON_MAX_DEPTH = 5

# C0 and C1 control characters (CR and LF among them), and the Unicode line and paragraph separators: in a
# name they end up in mail headers and subject lines, where a line break starts a header of its own.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def validate_name(value: str) -> None:
    """A name (a studio's, a person's, a package's...) is one line of printable text."""
    if value and _CONTROL_CHARACTERS.search(value):
        raise ValidationError("Use one line of text, without control characters or line breaks.", code="control")


def json_depth(value) -> int:
    """How deeply ``value`` nests lists and objects (a scalar is 0, ``{"a": 1}`` is 1); walked without recursion."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list | tuple):
            stack.extend((child, depth + 1) for child in item)
        else:
            continue
        deepest = max(deepest, depth + 1)
    return deepest


def validate_free_json(value) -> None:
    """Free-form JSON a person writes (a client's preferences) stays small and shallow."""
    if json_depth(value) > JSON_MAX_DEPTH:
        raise ValidationError(f"Nest lists and objects at most {JSON_MAX_DEPTH} levels deep.", code="too_deep")
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))
    if size > JSON_MAX_BYTES:
        raise ValidationError(f"Keep this under {JSON_MAX_BYTES // 1024} KB.", code="too_large")


def validate_goals(value) -> None:
    """A client's goals are a short list of short lines of text."""
    if not isinstance(value, list) or not all(isinstance(goal, str) for goal in value):
        raise ValidationError("Give the goals as a list of texts.", code="invalid")
    if len(value) > GOALS_MAX_COUNT:
        raise ValidationError(f"Give at most {GOALS_MAX_COUNT} goals.", code="too_many")
    if any(len(goal) > GOAL_MAX_LENGTH for goal in value):
        raise ValidationError(f"Keep each goal to {GOAL_MAX_LENGTH} characters at most.", code="too_long")
