"""DDP's gradient reducer (PyTorch's ``Reducer``): parameters in buckets, each bucket's
all-reduce started as soon as its last gradient has been accumulated, while backward is
still computing the gradients of earlier layers.

Buckets: parameters are taken in reverse registration order (roughly the order backward
produces their gradients), grouped by dtype and device, and cut when a bucket reaches its
cap: with the default ``bucket_cap_mb`` (25), the first bucket's cap is 1 MiB (PyTorch's
``_DEFAULT_FIRST_BUCKET_BYTES``, so the first reduction starts early); a ``bucket_cap_mb``
the user gives caps every bucket, as in PyTorch.

Each parameter gets a ``register_post_accumulate_grad_hook``. When the hook fires (its
``.grad`` now holds this backward's sum), the parameter is marked ready; a bucket whose
parameters are all ready is copied into one flat buffer and launched as an asynchronous
``all_reduce(AVG)`` (the backend's communication thread, or NCCL's stream, runs it while
backward goes on); the last bucket, whose gradients come at the very end of backward, is
reduced in the calling thread once the others are done. Buckets launch strictly in index order, so every rank issues the
same collectives in the same order (MPI's and NCCL's rule) even if its gradients arrive
in a different order. When the last bucket has launched, the reducer waits for all of
them and copies the averaged values back into each ``.grad``: when ``backward()``
returns, every rank holds the same averaged gradients.

Unused parameters: with ``find_unused_parameters``, the forward's output graph is walked
and parameters it does not reach are marked ready at once (contributing zeros); a
parameter unused on every rank keeps ``grad`` None (a MAX all-reduce of the "used" map
decides, as PyTorch's ``local_used_map``). Without it, a parameter that never gets a
gradient leaves the reduction unfinished and the next forward raises PyTorch's error.
"""
from ...autograd.graph import AccumulateGrad
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ... import distributed as dist
from ...distributed.work import CompletedWork

__all__ = ["Reducer", "assign_buckets", "FIRST_BUCKET_BYTES"]

FIRST_BUCKET_BYTES = 1024 * 1024


def assign_buckets(params, bucket_bytes_cap, first_bucket_bytes=None):
    """Lists of parameter indices, one per bucket, in the order they will be reduced."""
    buckets, open_buckets = [], {}
    for index in reversed(range(len(params))):
        p = params[index]
        key = (p.dtype, str(p.device))
        bucket = open_buckets.setdefault(key, {"indices": [], "bytes": 0})
        bucket["indices"].append(index)
        bucket["bytes"] += p.numel() * p.array.itemsize
        limit = first_bucket_bytes if not buckets and first_bucket_bytes else bucket_bytes_cap
        if bucket["bytes"] >= limit:
            buckets.append(bucket["indices"])
            del open_buckets[key]
    buckets.extend(b["indices"] for b in open_buckets.values())
    return buckets


class _Bucket:
    def __init__(self, params, indices):
        self.indices = indices
        self.params = [params[i] for i in indices]
        self.offsets, total = [], 0
        for p in self.params:
            self.offsets.append(total)
            total += p.numel()
        self.numel = total
        self.pending = len(indices)
        self.work = None
        # One flat buffer per bucket for the reducer's life (PyTorch's too): MPI's shared-
        # memory transport measured 40-60 ms for an all-reduce on a freshly allocated
        # 1 MB buffer against 0.1-0.5 ms on one it has seen.
        first = self.params[0]
        self.flat = Tensor._wrap(first.xp.zeros(total, dtype=first.array.dtype))


def _leaves_reached(outputs):
    """The leaf tensors the autograd graph behind ``outputs`` reaches (by id)."""
    found, seen = set(), set()
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    stack += [AccumulateGrad(t) for t in outputs if t.grad_fn is None and t.requires_grad]
    for t in outputs:
        if t.grad_fn is None and t.requires_grad:
            found.add(id(t))
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            found.add(id(node.variable))
            continue
        stack.extend(n for n, _ in node.next_functions if n is not None)
    return found


def tensors_in(value):
    """The Tensors inside (nested tuples, lists, dicts of) a forward's output."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in tensors_in(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in tensors_in(v)]
    return []


class Reducer:
    """Averages ``params``' gradients over the default group during backward."""

    def __init__(self, params, bucket_bytes_cap, find_unused_parameters, first_bucket_bytes):
        self.params = params
        self.find_unused = find_unused_parameters
        self.buckets = [_Bucket(params, idx) for idx in
                        assign_buckets(params, bucket_bytes_cap, first_bucket_bytes)]
        self.where = {}
        for b, bucket in enumerate(self.buckets):
            for i in bucket.indices:
                self.where[i] = b
        self.armed = False
        self.handles = [p.register_post_accumulate_grad_hook(self._hook_for(i))
                        for i, p in enumerate(params)]
        self.world = dist.get_world_size()

    def _hook_for(self, index):
        def hook(param):
            if self.armed:
                self._mark_ready(index)
        return hook

    # ------------------------------------------------------------------ per iteration
    def prepare_for_backward(self, outputs):
        """Called at the end of each forward that will be reduced (grad enabled, not inside
        ``no_sync``); ``outputs``: the forward's output tensors."""
        if self.armed and any(b.pending != len(b.indices) for b in self.buckets):
            missing = [i for i in range(len(self.params)) if not self.ready[i]]
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a "
                "new one. This error indicates that your module has parameters that were not "
                "used in producing loss. You can enable unused parameter detection by passing "
                "the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` "
                "function outputs participate in calculating loss. Parameter indices which did "
                f"not receive grad for rank {dist.get_rank()}: {' '.join(map(str, missing))}")
        for bucket in self.buckets:
            bucket.pending, bucket.work = len(bucket.indices), None
        self.ready = [False] * len(self.params)
        self.used = [True] * len(self.params)
        self.next_bucket = 0
        self.not_ready_at_launch = []   # per launched bucket: parameters still without grad
        self.armed = True
        if self.find_unused:
            reached = _leaves_reached(outputs)
            for i, p in enumerate(self.params):
                if id(p) not in reached:
                    self.used[i] = False
                    self._mark_ready(i)

    def _mark_ready(self, index):
        if self.ready[index]:
            raise RuntimeError(
                f"Expected to mark a variable ready only once (parameter index {index}). This "
                "happens when a parameter takes part in two backward passes of one iteration, "
                "or in a reentrant backward.")
        self.ready[index] = True
        bucket = self.buckets[self.where[index]]
        bucket.pending -= 1
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].pending == 0:
            self._launch(self.buckets[self.next_bucket])
            self.not_ready_at_launch.append(self.ready.count(False))
            self.next_bucket += 1
        if self.next_bucket == len(self.buckets):
            self._finalize()

    def _launch(self, bucket):
        flat = bucket.flat.array
        for i, p, offset in zip(bucket.indices, bucket.params, bucket.offsets):
            view = flat[offset:offset + p.numel()]
            if p.grad is None or not self.used[i]:
                view[...] = 0
            else:
                view[...] = p.grad.array.reshape(-1)
        if bucket is not self.buckets[-1]:
            bucket.work = dist.all_reduce(bucket.flat, op=dist.ReduceOp.AVG, async_op=True)
            return
        # The last bucket launches when backward is done: nothing is left to overlap, so it
        # is reduced in this thread, after the others (no hand-off to the backend's thread).
        for earlier in self.buckets[:-1]:
            earlier.work.wait()
        dist.all_reduce(bucket.flat, op=dist.ReduceOp.AVG)
        bucket.work = CompletedWork()

    def _finalize(self):
        self.armed = False
        globally_used = self._globally_used() if self.find_unused else None
        with no_grad():
            for bucket in self.buckets:
                flat = bucket.flat.array
                for i, p, offset in zip(bucket.indices, bucket.params, bucket.offsets):
                    value = flat[offset:offset + p.numel()].reshape(p.array.shape)
                    if p.grad is not None and getattr(p.grad.array.flags, "writeable", True):
                        p.grad.array[...] = value
                    elif p.grad is not None:        # a read-only gradient (a broadcast view)
                        p.grad = Tensor._wrap(value.copy())
                    elif globally_used is None or globally_used[i]:
                        p.grad = Tensor._wrap(value.copy())
                bucket.work = None

    def _globally_used(self):
        flags = Tensor._wrap(self.params[0].xp.asarray(self.used, dtype="uint8"))
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        return [bool(v) for v in flags.array]

    def remove_hooks(self):
        for handle in self.handles:
            handle.remove()
