"""Provisioning a studio: cloning the template schema vs running every migration, measured side by side.

    .venv/bin/python bench/provision.py [--count 20]

Target: the clone median is at most half the migrations median.
"""

import argparse
import statistics
import time

from _setup import django_setup, drop_studios

PREFIX = "bench-prov-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20, help="studios created by each method")
    arguments = parser.parse_args()

    django_setup()
    from django.test.utils import override_settings
    from django_tenants.utils import schema_context

    from tenants.services import studio_create

    drop_studios(PREFIX)
    timings: dict[str, list[float]] = {"clone": [], "migrations": []}
    try:
        with schema_context("public"):
            # Interleaved, so that whatever else the machine does weighs on both methods alike.
            for index in range(arguments.count):
                for method in ("clone", "migrations"):
                    slug = f"{PREFIX}{method}-{index}"
                    # The owner is invited by mail, as from the platform API, so no password hashing (the
                    # same ~0.8 s for both methods) hides the difference between them.
                    with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=method == "clone"):
                        started = time.perf_counter()
                        studio_create(name=slug, slug=slug, owner_email=f"owner@{slug}.test")
                        timings[method].append(time.perf_counter() - started)
    finally:
        drop_studios(PREFIX)

    clone = statistics.median(timings["clone"])
    migrations = statistics.median(timings["migrations"])
    print(f"studios per method: {arguments.count}")
    print(f"clone       median {clone:.3f} s   (min {min(timings['clone']):.3f}, max {max(timings['clone']):.3f})")
    print(
        f"migrations  median {migrations:.3f} s   "
        f"(min {min(timings['migrations']):.3f}, max {max(timings['migrations']):.3f})"
    )
    print(f"clone / migrations = {clone / migrations:.2f}  (target <= 0.50)")


if __name__ == "__main__":
    main()
