"""The host calls on what the VMs of one proxy share: shared data (compare-and-swap) and shared
queues, kept by VM id as Envoy keeps them (``ProxyState``), with nginx's shm zone checks."""

from __future__ import annotations

from ..types import Status
from .contexts import Event, EventKind, Queue
from .host_root import RootSemantics
from .records import HostStatusError


class SharedSemantics(RootSemantics):
    """What the shared data and queue host calls do to the proxy's shared state."""

    @property
    def shared_data(self) -> dict[str, tuple[bytes, int]]:
        """This VM id's shared key-value store: value and CAS by key."""
        return self.proxy.shared_data.setdefault(self.vm_id, {})

    def _check_shm_kv(self, key: str) -> None:
        zones = self.profile.shm_kv
        zone, slash, _ = key.partition("/")
        if not self.profile.shm_declared or "*" in zones or (slash and zone in zones):
            return
        declare = zone if slash else "*"
        raise self.trap(f"host trap (internal error): shared data key {key!r} needs a "
                        f"key/value zone: declare `shm_kv {declare} 1m;` in nginx's wasm{{}} "
                        "block")

    def _check_shm_queue(self, name: str) -> None:
        if self.profile.shm_declared and name not in self.profile.shm_queues:
            raise self.trap(f"host trap (internal error): no shm_queue zone {name!r}: declare "
                            f"`shm_queue {name} 1m;` in nginx's wasm{{}} block")

    def get_shared_data(self, key: str) -> tuple[bytes, int]:
        """proxy_get_shared_data: (value, cas)."""
        self._check_shm_kv(key)
        if key not in self.shared_data:
            raise HostStatusError(Status.NOT_FOUND, f"no shared data {key!r}")
        return self.shared_data[key]

    def set_shared_data(self, key: str, value: bytes, cas: int) -> None:
        """proxy_set_shared_data: a non-zero ``cas`` must still be the key's (a key that does
        not exist yet is created whatever the ``cas``, as Envoy does)."""
        self._check_shm_kv(key)
        race = self.proxy.races.pop((self.vm_id, key), None) if cas else None
        if race is not None:
            self.set_shared_data(key, race, 0)
        current = self.shared_data.get(key)
        if cas and current is not None and current[1] != cas:
            raise HostStatusError(Status.CAS_MISMATCH, f"shared data {key!r} changed")
        self.shared_data[key] = (bytes(value), self.proxy.next_cas())

    def register_shared_queue(self, name: str) -> int:
        """proxy_register_shared_queue: the current plugin is told when items arrive."""
        self._check_shm_queue(name)
        key = (self.vm_id, name)
        queue_id = self.proxy.queue_ids.get(key)
        if queue_id is None:
            queue_id = len(self.proxy.queue_ids) + 1
            self.proxy.queue_ids[key] = queue_id
            self.proxy.queues[queue_id] = Queue(self.vm_id, name)
        queue = self.proxy.queues[queue_id]
        queue.owner, queue.owner_context = self, self.root_of(self.current_context)
        return queue_id

    def resolve_shared_queue(self, vm_id: str, name: str) -> int:
        """proxy_resolve_shared_queue: any VM's queue, by that VM's id and the queue's name."""
        queue_id = self.proxy.queue_ids.get((vm_id, name))
        if queue_id is None:
            raise HostStatusError(Status.NOT_FOUND, f"no queue {name!r} in VM {vm_id!r}")
        return queue_id

    def _queue(self, queue_id: int) -> Queue:
        queue = self.proxy.queues.get(queue_id)
        if queue is None:
            raise HostStatusError(Status.NOT_FOUND, f"no queue {queue_id}")
        return queue

    def enqueue_shared_queue(self, queue_id: int, value: bytes) -> None:
        """proxy_enqueue_shared_queue: the owning plugin (in whichever VM) gets on_queue_ready
        after this callback, where its proxy calls it."""
        queue = self._queue(queue_id)
        queue.items.append(bytes(value))
        if queue.owner is not None and queue.owner.profile.queue_ready:
            queue.owner.events.append(Event(EventKind.QUEUE_READY, queue.owner_context, queue_id))

    def dequeue_shared_queue(self, queue_id: int) -> bytes:
        """proxy_dequeue_shared_queue: EMPTY when there is nothing."""
        queue = self._queue(queue_id)
        if not queue.items:
            raise HostStatusError(Status.EMPTY, f"queue {queue_id} is empty")
        return queue.items.pop(0)

