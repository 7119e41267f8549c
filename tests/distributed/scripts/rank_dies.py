"""Under mpirun: rank 1 stops mid-training. ``python rank_dies.py exit``: it exits
(os._exit(3)) — mpirun must stop the job; ``hang``: it sleeps — the others' next
collective must end the job with the timeout error (2 s) instead of waiting forever;
``hang-async``: rank 0 waits on an ``async_op=True`` all_reduce, which raises the timeout
RuntimeError in Python (printed as ``CAUGHT ...``), then exits (the job is aborted)."""
import os
import sys
import time
from datetime import timedelta

import minigrad as mg
import minigrad.distributed as dist
from minigrad import nn
from minigrad.nn.parallel import DistributedDataParallel as DDP

how = sys.argv[1]
dist.init_process_group("mpi", timeout=timedelta(seconds=2))
rank = dist.get_rank()
if how == "hang-async":
    if rank == 1:
        time.sleep(60)
    try:
        dist.all_reduce(mg.ones(3), async_op=True).wait()
    except RuntimeError as e:
        print("CAUGHT", e, flush=True)
    sys.exit(0)
model = DDP(nn.Linear(4, 2))
opt = mg.optim.SGD(model.parameters(), lr=0.1)
for step in range(3):
    if step == 1 and rank == 1:
        if how == "exit":
            os._exit(3)
        time.sleep(60)
    opt.zero_grad()
    model(mg.randn(8, 4)).sum().backward()
    opt.step()
    print("STEP", step, "rank", rank, flush=True)
print("FINISHED", rank, flush=True)
