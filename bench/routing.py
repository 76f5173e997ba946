"""Host routing cost: /healthz on a studio host vs the platform host, same gunicorn server, interleaved.

    .venv/bin/python bench/routing.py [--requests 2000]

Target: studio median / platform median <= 1.15 (a warm host lookup costs no query).
"""

import argparse
import http.client
import statistics
import time

from _setup import django_setup, drop_studios, start_gunicorn

SLUG = "bench-routing"


def timed_get(port: int, host: str) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    started = time.perf_counter()
    connection.request("GET", "/healthz", headers={"Host": host})
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"{host}: HTTP {response.status}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000, help="requests per host")
    arguments = parser.parse_args()

    django_setup()
    from django_tenants.utils import schema_context

    from tenants.services import studio_create

    drop_studios(SLUG)
    with schema_context("public"):
        studio_create(name="Bench Routing", slug=SLUG, owner_email="o@bench.test", owner_password="Bench-Pass-2026!")

    server, port = start_gunicorn()
    try:
        studio_host, platform_host = f"{SLUG}.localhost", "localhost"
        for _ in range(50):  # warm both paths (connections, host cache)
            timed_get(port, studio_host)
            timed_get(port, platform_host)
        studio, platform = [], []
        for _ in range(arguments.requests):
            studio.append(timed_get(port, studio_host))
            platform.append(timed_get(port, platform_host))
    finally:
        server.terminate()
        server.wait(timeout=10)
        drop_studios(SLUG)

    studio_median, platform_median = statistics.median(studio), statistics.median(platform)
    print(f"requests per host: {arguments.requests}")
    print(f"studio host    median {studio_median * 1000:.2f} ms")
    print(f"platform host  median {platform_median * 1000:.2f} ms")
    print(f"studio / platform = {studio_median / platform_median:.3f}  (target <= 1.15)")


if __name__ == "__main__":
    main()
