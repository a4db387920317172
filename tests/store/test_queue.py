"""The task message the API queues itself is the one Celery's send_task would have queued."""

from __future__ import annotations

import base64
import json

import redis

from store.queue import enqueue, make_celery, task_message
from store.settings import Settings

JOB_ID = "0123456789abcdef0123456789abcdef"


def test_task_message_equals_what_send_task_pushes(redis_db: str) -> None:
    app = make_celery(Settings(redis_url=redis_db, celery_queue="initlab-enqueue-test"))
    lane_queue = "initlab-enqueue-test.batch.3"
    try:
        enqueue(app, JOB_ID, lane_queue)
        sent = redis.Redis.from_url(redis_db).rpop(lane_queue)
        queue, built = task_message(app, JOB_ID, lane_queue)
    finally:
        app.close()
    assert queue == lane_queue and sent is not None
    ours, celery = json.loads(built), json.loads(sent)
    tags = ours["properties"].pop("delivery_tag"), celery["properties"].pop("delivery_tag")
    assert tags[0] != tags[1] and all(len(tag) == 36 for tag in tags)  # a fresh uuid each
    assert ours == celery
    args, kwargs, _ = json.loads(base64.b64decode(ours["body"]))
    assert args == [JOB_ID] and kwargs == {} and ours["headers"]["id"] == JOB_ID
