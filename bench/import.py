"""Client CSV import: 10,000 generated clients, then the same file again.

    .venv/bin/python bench/import.py [--rows 10000]

Prints rows/s for both runs and the queries per row (the import must run in a bounded number of queries per
batch, not per row). Target: 10,000 rows in under 10 s.
"""

import argparse
import random
import time

from _setup import django_setup, drop_studios

SLUG = "bench-import"
LEVELS = ["beginner", "intermediate", "advanced", ""]
TAGS = ["vip", "morning", "evening", "online", "student", ""]


def generated_csv(rows: int) -> bytes:
    rng = random.Random(2026)
    lines = ["E-mail;First Name;Last Name;Mobile;Fitness Level;Tags;Notes"]
    for index in range(rows):
        phone = f"+4420794{index % 100000:05d}" if index % 3 else ""
        tags = "|".join(sorted({rng.choice(TAGS) for _ in range(2)} - {""}))
        lines.append(
            f"client{index}@bench.test;First{index};Last{index};{phone};{rng.choice(LEVELS)};{tags};note {index}"
        )
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    arguments = parser.parse_args()

    django_setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_tenants.utils import schema_context, tenant_context

    from tenant_apps.clients.services import client_import_csv
    from tenants.services import studio_create

    content = generated_csv(arguments.rows)
    drop_studios(SLUG)
    with schema_context("public"):
        studio = studio_create(name="Bench Import", slug=SLUG, owner_email="o@bench.test")
    try:
        runs = []
        with tenant_context(studio):
            for label in ("first import", "same file again"):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    result = client_import_csv(content=content)
                    seconds = time.perf_counter() - started
                runs.append((label, seconds, len(queries), result))
    finally:
        drop_studios(SLUG)

    print(f"rows: {arguments.rows}  ({len(content) / 1024 / 1024:.1f} MB)")
    for label, seconds, query_count, result in runs:
        print(
            f"{label:16} {seconds:6.2f} s  {arguments.rows / seconds:8.0f} rows/s  "
            f"{query_count:4d} queries ({query_count / arguments.rows:.4f} per row)  "
            f"created {result.created}, updated {result.updated}, skipped {result.skipped}"
        )
    print("target: 10,000 rows in under 10 s; queries per batch of 1,000 rows, not per row")


if __name__ == "__main__":
    main()
