"""Under mpirun -n 2: parameters without a gradient. Without find_unused_parameters the
next forward raises PyTorch's error; with it, a parameter unused on every rank keeps
grad None, and one used on rank 0 only gets (rank 0's gradient + 0) / world on every
rank. Prints ``OK <rank>``."""
import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from minigrad import nn
from minigrad.nn.parallel import DistributedDataParallel as DDP


class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk, self.sometimes, self.never = nn.Linear(3, 2), nn.Linear(2, 2), nn.Linear(2, 2)

    def forward(self, x, use):
        h = self.trunk(x)
        return self.sometimes(h) if use else h


dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
x = mg.ones(4, 3) * (rank + 1)

model = DDP(Branches())
model(x, use=False).sum().backward()
try:
    model(x, use=False)
except RuntimeError as e:
    assert "Expected to have finished reduction in the prior iteration" in str(e)
else:
    raise AssertionError("no error for unused parameters")

mg.manual_seed(0)
model = DDP(Branches(), find_unused_parameters=True)
reference = Branches()
reference.load_state_dict(model.module.state_dict())
model(x, use=rank == 0).sum().backward()
assert model.module.never.weight.grad is None
ref_out = reference(mg.ones(4, 3), use=True).sum()
ref_out.backward()
np.testing.assert_allclose(model.module.sometimes.weight.grad.numpy(),
                           reference.sometimes.weight.grad.numpy() / world, rtol=1e-6)
model(x, use=rank == 0).sum().backward()          # a second iteration works
print("OK", rank, flush=True)
