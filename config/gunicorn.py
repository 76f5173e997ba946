"""gunicorn's settings, shared by `make run`, the benchmarks and the Docker image: `gunicorn -c python:config.gunicorn`.

The address is not set here: `make run` binds loopback (BIND, PORT), the image binds 0.0.0.0:8000.
WEB_CONCURRENCY (worker processes) and WEB_THREADS (threads in each) size the server; by default one process
per CPU, between 2 and 8, with 4 threads each. Every thread can hold a database connection, so
processes x threads, plus Celery, must stay below PostgreSQL's max_connections (100 by default).
"""

import os


def _cpus() -> int:
    # The CPUs this process may run on (its affinity mask, e.g. a container's cpuset), not all the machine's.
    if hasattr(os, "process_cpu_count"):
        return os.process_cpu_count() or 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


wsgi_app = "config.wsgi:application"

# Threads, not processes alone: a request mostly waits on PostgreSQL, and a thread waiting holds no CPU.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or min(max(_cpus(), 2), 8))
threads = int(os.environ.get("WEB_THREADS") or 4)
# Connections beyond the busy threads queue here (and in each worker's own queue) instead of being refused;
# the kernel caps it at net.core.somaxconn.
backlog = 2048

# One machine runs several servers at once (`make run`, the tests, the benchmarks): a control socket at the
# shared default path ($HOME/.gunicorn/gunicorn.ctl) is taken over by whichever starts last, and removed by
# whichever stops first.
control_socket_disable = True
# A line per request on stdout, as the development server printed them.
accesslog = "-"
