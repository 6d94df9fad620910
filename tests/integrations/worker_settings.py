"""Settings of the Celery worker the integration tests start: the test settings, with a private default queue.

Every task the worker enqueues itself (the run a scheduled trigger queues, the order refresh after a
shipment) then stays on the test's own queue instead of the shared default one.
"""

import os

from flxhub.settings.test import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ["FLXHUB_TEST_QUEUE"]
