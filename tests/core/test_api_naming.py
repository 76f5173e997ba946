"""One naming rule for the whole API (README, "Naming"): a relation is named by the related model, on input and on
output, and holds its id (`trainer`, `session_types`); its display extras are `<relation>_name`. No name in
either OpenAPI schema, in a body, an answer or a query parameter, ends in `_id` or `_ids`."""

import pytest
from drf_spectacular.generators import SchemaGenerator


def names_ending_in_id(urlconf: str) -> set[str]:
    schema = SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    found: set[str] = set()
    for component, body in schema["components"]["schemas"].items():
        for name in body.get("properties", {}):
            if name.endswith(("_id", "_ids")):
                found.add(f"{component}.{name}")
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter["name"].endswith(("_id", "_ids")):
                    found.add(f"{method.upper()} {path} ?{parameter['name']}")
    return found


@pytest.mark.parametrize("urlconf", ["config.urls_tenant", "config.urls_public"])
def test_no_api_name_ends_in_id(urlconf):
    assert names_ending_in_id(urlconf) == set()
