"""The worker's broker on a full store: an acknowledgement Redis refuses does not kill it.

kombu's Redis transport removes an acknowledged message from its unacked index and hash in a
MULTI; on a full store (``maxmemory``, ``noeviction``) Redis refuses every command queued in a
MULTI, and the worker died with "Unrecoverable error: OutOfMemoryError", then again on each
restart. Sent on their own, ZREM and HDEL only free memory and Redis runs them: on a refusal the
removal is repeated that way. Putting unacknowledged messages back on the queue (a write)
is skipped while the store is full, and tried again at the next interval.

:func:`install` patches kombu's ``QoS`` once; worker/celery_app.py calls it (the API, which
only publishes, never needs it).
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from kombu.transport import redis as kombu_redis
from kombu.transport import virtual

log = logging.getLogger(__name__)
REFUSED = (redis.OutOfMemoryError, redis.exceptions.ExecAbortError)
_installed = False


def _remove_plainly(qos: Any, delivery_tag: str) -> None:
    with qos.channel.conn_or_acquire() as client:
        client.zrem(qos.unacked_index_key, delivery_tag)
        client.hdel(qos.unacked_key, delivery_tag)


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    qos: Any = kombu_redis.QoS
    ack, reject, restore_visible = qos.ack, qos.reject, qos.restore_visible

    def ack_on_a_full_store(self: Any, delivery_tag: str) -> None:
        try:
            ack(self, delivery_tag)
        except REFUSED as exc:
            log.warning("broker: acknowledgement refused (%s); removing it without MULTI", exc)
            _remove_plainly(self, delivery_tag)
            virtual.QoS.ack(self, delivery_tag)

    def reject_on_a_full_store(self: Any, delivery_tag: str, requeue: bool = False) -> None:
        try:
            reject(self, delivery_tag, requeue=requeue)
        except REFUSED as exc:
            if requeue:  # it stays unacked: restored once the visibility timeout passes
                log.warning("broker: requeue refused (%s); left for a later restore", exc)
            else:
                _remove_plainly(self, delivery_tag)
            virtual.QoS.ack(self, delivery_tag)

    def restore_when_there_is_room(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            restore_visible(self, *args, **kwargs)
        except REFUSED as exc:
            log.warning("broker: restoring unacknowledged messages refused (%s); later", exc)

    qos.ack = ack_on_a_full_store
    qos.reject = reject_on_a_full_store
    qos.restore_visible = restore_when_there_is_room
