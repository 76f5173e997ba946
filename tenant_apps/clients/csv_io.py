"""Reading and writing the client list as CSV: pure functions, no ORM.

Import accepts UTF-8 with or without a BOM, comma- or semicolon-separated, and matches header names
case-insensitively against common aliases. Every row is checked here; the service decides what to write.
Export writes the same columns, with cells that a spreadsheet would run as a formula made inert.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from shared_apps.core.phone_numbers import InvalidPhoneNumber, phone_number_e164, studio_phone_region
from shared_apps.core.validators import (
    PERSON_NAME_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TAGS_MAX_COUNT,
    TEXT_MAX_LENGTH,
    validate_name,
)

COLUMNS = ["email", "first_name", "last_name", "phone", "fitness_level", "tags", "notes", "is_active"]
ALIASES = {
    "email": {"email", "e-mail", "email address", "e-mail address", "mail"},
    "first_name": {"first_name", "first name", "firstname", "given name", "forename", "name"},
    "last_name": {"last_name", "last name", "lastname", "surname", "family name"},
    "phone": {"phone", "phone number", "mobile", "mobile phone", "mobile number", "cell", "telephone", "tel"},
    "fitness_level": {"fitness_level", "fitness level", "level"},
    "tags": {"tags", "tag", "labels"},
    "notes": {"notes", "note", "comments", "comment"},
    "is_active": {"is_active", "active", "status"},
}
FITNESS_LEVELS = {"beginner", "intermediate", "advanced"}
TRUE = {"true", "yes", "y", "1", "active"}
FALSE = {"false", "no", "n", "0", "inactive"}
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_EMAIL_LENGTH = 254  # the column's length; validate_email alone allows 320


class CsvUnreadable(ValueError):
    """The upload is not a CSV this importer can read at all."""


@dataclass
class RowError:
    row: int
    field: str
    message: str


@dataclass
class ParsedFile:
    rows: list[tuple[int, dict]] = field(default_factory=list)  # (row number in the file, values)
    errors: list[RowError] = field(default_factory=list)


def _header_map(header: list[str]) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for index, name in enumerate(header):
        key = " ".join(name.strip().lower().replace("_", " ").split())
        for column, aliases in ALIASES.items():
            if key in {alias.replace("_", " ") for alias in aliases} and column not in mapping.values():
                mapping[index] = column
                break
    return mapping


def _uninert(value: str) -> str:
    # Undo export's protection: a quote put before a formula character is not part of the value.
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def parse(content: bytes, *, region: str | None = None) -> ParsedFile:
    """Every row of ``content``, checked. A phone without its country code is one of ``region`` (ISO 3166):
    by default the current studio's country, as in the API."""
    region = region or studio_phone_region()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvUnreadable("The file is not UTF-8 text.") from error
    if "\x00" in text:
        raise CsvUnreadable("The file is not a CSV file.")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise CsvUnreadable("The file is empty.")
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
        mapping = _header_map(header)
        if "email" not in mapping.values():
            raise CsvUnreadable("No email column: the first line must name the columns (email, first name, …).")
        parsed = ParsedFile()
        seen: dict[str, int] = {}
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            raw = {column: _uninert(cells[index].strip()) for index, column in mapping.items() if index < len(cells)}
            values, errors = clean_row(raw, number, region=region)
            if values and values["email"] in seen:
                errors.append(RowError(number, "email", f"The same email is on row {seen[values['email']]}."))
            if errors:
                parsed.errors.extend(errors)
            else:
                seen[values["email"]] = number
                parsed.rows.append((number, values))
    except csv.Error as error:
        raise CsvUnreadable(f"The file is not valid CSV (line {reader.line_num}): {error}.") from error
    return parsed


def clean_row(raw: dict[str, str], number: int, *, region: str | None = None) -> tuple[dict | None, list[RowError]]:
    """Values ready to store, leaving out empty cells (an empty cell changes nothing), or the row's errors."""
    errors: list[RowError] = []
    values: dict = {}
    email = raw.get("email", "").lower()
    try:
        validate_email(email)
        if len(email) > MAX_EMAIL_LENGTH:
            raise ValidationError("too long")
        values["email"] = email
    except ValidationError:
        errors.append(RowError(number, "email", "Enter a valid email address." if email else "The email is missing."))
    for column in ("first_name", "last_name", "notes"):
        if raw.get(column):
            values[column] = raw[column]
    if raw.get("phone"):
        try:
            values["phone"] = phone_number_e164(raw["phone"], region=region)
        except InvalidPhoneNumber as error:
            errors.append(RowError(number, "phone", str(error)))
    if raw.get("fitness_level"):
        level = raw["fitness_level"].lower()
        if level in FITNESS_LEVELS:
            values["fitness_level"] = level
        else:
            errors.append(RowError(number, "fitness_level", "Use beginner, intermediate or advanced."))
    if raw.get("tags"):
        tags = list(dict.fromkeys(tag.strip() for tag in re.split(r"[,|]", raw["tags"]) if tag.strip()))
        if any(len(tag) > TAG_MAX_LENGTH for tag in tags):
            errors.append(RowError(number, "tags", f"A tag is at most {TAG_MAX_LENGTH} characters."))
        if len(tags) > TAGS_MAX_COUNT:
            errors.append(RowError(number, "tags", f"At most {TAGS_MAX_COUNT} tags."))
        values["tags"] = tags
    if raw.get("is_active"):
        flag = raw["is_active"].lower()
        if flag in TRUE | FALSE:
            values["is_active"] = flag in TRUE
        else:
            errors.append(RowError(number, "is_active", "Use yes or no."))
    # The limits the API applies to the same fields.
    for column, limit in (
        ("first_name", PERSON_NAME_MAX_LENGTH),
        ("last_name", PERSON_NAME_MAX_LENGTH),
        ("notes", TEXT_MAX_LENGTH),
    ):
        if len(values.get(column, "")) > limit:
            errors.append(RowError(number, column, f"At most {limit} characters."))
    for column in ("first_name", "last_name"):
        try:
            validate_name(values.get(column, ""))
        except ValidationError as error:
            errors.append(RowError(number, column, error.messages[0]))
    return (None if errors else values), errors


def _inert(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def export(rows: list[dict]) -> str:
    """CSV text of ``rows`` (dicts with the COLUMNS keys), safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        cells = {
            **row,
            "tags": ", ".join(row.get("tags") or []),
            "is_active": "yes" if row.get("is_active", True) else "no",
        }
        writer.writerow([_inert(str(cells.get(column) or "")) for column in COLUMNS])
    return out.getvalue()
