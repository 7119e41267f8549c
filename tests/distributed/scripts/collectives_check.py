"""Under mpirun: every collective against the value computed locally from all ranks'
(known) inputs; prints ``OK <rank>`` per rank, raises otherwise."""
import numpy as np

import minigrad as mg
import minigrad.distributed as dist

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and dist.get_backend() == "mpi"


def inputs(r, dtype=np.float64):
    return (np.arange(6, dtype=np.float64).reshape(2, 3) * (r + 1) - r).astype(dtype)


every = np.stack([inputs(r) for r in range(world)])
expected = {dist.ReduceOp.SUM: every.sum(0), dist.ReduceOp.AVG: every.mean(0),
            dist.ReduceOp.MAX: every.max(0), dist.ReduceOp.MIN: every.min(0),
            dist.ReduceOp.PRODUCT: every.prod(0)}
for op, want in expected.items():
    for dtype in (np.float64, np.float32):
        t = mg.tensor(inputs(rank, dtype))
        version = t._version
        assert dist.all_reduce(t, op=op) is None
        assert t.dtype == mg.tensor(inputs(rank, dtype)).dtype, (op, t.dtype)
        assert t._version == version + 1
        np.testing.assert_allclose(t.numpy(), want, rtol=1e-6)
# integer AVG floors, as NCCL's; a non-contiguous tensor is written back
t = mg.tensor(inputs(rank, np.int64))
dist.all_reduce(t, op=dist.ReduceOp.AVG)
assert (t.numpy() == every.astype(np.int64).sum(0) // world).all()
base = mg.tensor(inputs(rank))
view = base.T
dist.all_reduce(view)
np.testing.assert_array_equal(base.numpy(), every.sum(0))
# float16 (reduced in float32) and bool (OR for SUM)
h = mg.tensor(inputs(rank), dtype=mg.float16)
dist.all_reduce(h)
assert h.dtype == mg.float16 and np.allclose(h.numpy(), every.sum(0))
flags = mg.tensor([rank == 0, False])
dist.all_reduce(flags)
assert flags.tolist() == [True, False]
# async: Work.wait
t = mg.tensor(inputs(rank))
work = dist.all_reduce(t, op=dist.ReduceOp.MAX, async_op=True)
assert work.wait() and work.is_completed()
np.testing.assert_array_equal(t.numpy(), every.max(0))
# broadcast from the last rank
t = mg.tensor(inputs(rank))
dist.broadcast(t, src=world - 1)
np.testing.assert_array_equal(t.numpy(), inputs(world - 1))
# all_gather
out = [mg.zeros(2, 3, dtype=mg.float64) for _ in range(world)]
dist.all_gather(out, mg.tensor(inputs(rank)))
for r in range(world):
    np.testing.assert_array_equal(out[r].numpy(), inputs(r))
# reduce_scatter: rank r gets the sum over ranks of their input_list[r]
chunks = [mg.tensor(inputs(rank) + 10 * j) for j in range(world)]
got = mg.zeros(2, 3, dtype=mg.float64)
dist.reduce_scatter(got, chunks)
np.testing.assert_allclose(got.numpy(), every.sum(0) + 10 * rank * world)
# misuse: PyTorch's exception types
for call, error in ((lambda: dist.all_gather([mg.zeros(2, 3)], mg.zeros(2, 3)), RuntimeError),
                    (lambda: dist.all_reduce(mg.zeros(2), op="sum"), TypeError),
                    (lambda: dist.broadcast(mg.zeros(2), src=world), ValueError),
                    (lambda: dist.init_process_group("mpi"), ValueError),
                    (lambda: dist.get_rank(group=object()), ValueError)):
    try:
        call()
    except error:
        pass
    else:
        raise AssertionError(f"{call} did not raise {error.__name__}")
# DistributedSampler takes its rank and size from the group
sampler = mg.utils.data.DistributedSampler(list(range(10)), shuffle=False)
assert (sampler.num_replicas, sampler.rank) == (world, rank)
assert list(sampler) == list(range(10) if world == 1 else
                             (list(range(10)) * 2)[rank:sampler.total_size:world])
dist.barrier()
dist.destroy_process_group()
assert not dist.is_initialized()
print("OK", rank, flush=True)
