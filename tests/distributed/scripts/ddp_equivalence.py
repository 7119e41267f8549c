"""Under mpirun: DDP training for several steps (SGD with momentum, a no_sync
accumulation step, several buckets) gives the parameters that one process gets training
on the concatenated global batch. float64. ``python ddp_equivalence.py MODEL`` with MODEL
``mlp`` (exact comparison with the global batch) or ``bn`` (BatchNorm: per-rank batch
statistics, so the reference normalises each rank's shard separately, and its running
statistics follow rank 0's shards, as DDP's ``broadcast_buffers`` makes them).
Prints ``MAXDIFF <max |DDP - reference|>`` and ``BUCKETS <n>`` on rank 0."""
import sys

import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from minigrad import nn
from minigrad.nn.parallel import DistributedDataParallel as DDP

KIND = sys.argv[1]
STEPS, SHARD, D_IN = int(sys.argv[2]) if len(sys.argv) > 2 else 4, 3, 5


def build(seed):
    mg.manual_seed(seed)
    if KIND == "bn":
        model = nn.Sequential(nn.Linear(D_IN, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    else:
        model = nn.Sequential(nn.Linear(D_IN, 16), nn.Tanh(), nn.Linear(16, 8), nn.ReLU(),
                              nn.Linear(8, 3))
    return model.double()


def global_batch(step, micro, world):
    rng = np.random.default_rng(1000 * step + micro)
    x = rng.standard_normal((world * SHARD, D_IN))
    y = rng.integers(0, 3, world * SHARD)
    return mg.tensor(x), mg.tensor(y)


def micro_batches(step):
    return 2 if step == 1 else 1          # step 1 accumulates two micro-batches (no_sync)


def train_ddp(rank, world):
    model = DDP(build(seed=rank + 1), bucket_cap_mb=200 / 2 ** 20)   # ~200-byte buckets
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(STEPS):
        opt.zero_grad()
        n = micro_batches(step)
        for micro in range(n):
            x, y = global_batch(step, micro, world)
            shard = slice(rank * SHARD, (rank + 1) * SHARD)
            context = model.no_sync() if micro < n - 1 else _nothing()
            with context:
                loss = nn.functional.cross_entropy(model(x[shard]), y[shard]) / n
                loss.backward()
        opt.step()
    return model


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def train_reference(world):
    model = build(seed=1)            # rank 0's initial weights, which DDP broadcasts
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(STEPS):
        opt.zero_grad()
        n = micro_batches(step)
        for micro in range(n):
            x, y = global_batch(step, micro, world)
            if KIND == "bn":
                buffers = [b.clone() for b in model.buffers()]
                losses = []
                for r in reversed(range(world)):      # rank 0's shard last: its statistics stay
                    if r == 0:
                        for b, saved in zip(model.buffers(), buffers):
                            b.copy_(saved)
                    shard = slice(r * SHARD, (r + 1) * SHARD)
                    losses.append(nn.functional.cross_entropy(model(x[shard]), y[shard]))
                loss = sum(losses) / world / n
            else:
                loss = nn.functional.cross_entropy(model(x), y) / n
            loss.backward()
        opt.step()
    return model


dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
ddp = train_ddp(rank, world)
reference = train_reference(world)
assert list(ddp.state_dict()) == ["module." + k for k in reference.state_dict()]
# parameters on every rank; buffers on rank 0 (the others' follow rank 0's at the next
# forward, broadcast_buffers)
pairs = list(zip(ddp.module.parameters(), reference.parameters()))
if rank == 0:
    pairs += list(zip(ddp.module.buffers(), reference.buffers()))
diff = max(float(np.abs(a.detach().numpy() - b.detach().numpy()).max()) for a, b in pairs)
# every rank holds the same parameters (a MAX of |mine - rank 0's|)
flat = mg.cat([p.detach().reshape(-1) for p in ddp.module.parameters()])
rank0 = flat.clone()
dist.broadcast(rank0, 0)
spread = mg.tensor([float((flat - rank0).abs().max())], dtype=mg.float64)
dist.all_reduce(spread, op=dist.ReduceOp.MAX)
worst = mg.tensor([diff], dtype=mg.float64)
dist.all_reduce(worst, op=dist.ReduceOp.MAX)
if rank == 0:
    print("MAXDIFF", float(worst.item()))
    print("SPREAD", float(spread.item()))
    print("BUCKETS", len(ddp.reducer.buckets))
    # the first bucket's all-reduce started while backward still had gradients to compute
    print("NOT_READY_AT_FIRST_LAUNCH", ddp.reducer.not_ready_at_launch[0])
dist.destroy_process_group()
