"""Settings for the worker and beat processes of the inventory end-to-end tests.

The test settings, plus: the default queue is the test's private queue (a scheduled run enqueues its run task
there, never on a queue another test process's worker listens to), and a short run-claim expiry when asked.
"""

import os

from flxhub.settings.test import *  # noqa: F403

CELERY_TASK_DEFAULT_QUEUE = os.environ["FLXHUB_TEST_QUEUE"]
if os.environ.get("FLXHUB_RUN_CLAIM_TTL_SECONDS"):
    FLXHUB_RUN_CLAIM_TTL_SECONDS = float(os.environ["FLXHUB_RUN_CLAIM_TTL_SECONDS"])
