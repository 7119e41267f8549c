"""The training sections of ``gpu_check``: one eager training step of the GPT
(``gpt_step``) and one MNIST-sized epoch of the seed CNN (``cnn_epoch``), minigrad on the
GPU against torch eager (on the GPU for the GPT, on the CPU for the CNN epoch, as issue 9's
targets are stated).  ``step_times`` runs steps until a count or a time budget is spent and
``epoch_estimate`` extrapolates a cut epoch; both are tested on CPU, as is a tiny
``gpt_step``/``cnn_epoch`` on ``device="cpu"``.
"""
import statistics
import time


GPT_SIZE = dict(n_layer=6, n_embd=384, n_head=6, block_size=256, batch=64, vocab=65)
CNN_EPOCH = dict(images=60000, batch=64)


def step_times(step, synchronize, steps, budget_s, warmup=2):
    """Run ``step`` ``warmup`` times (the first timed on its own: it compiles), then up to
    ``steps`` timed steps or until ``budget_s`` seconds are spent, whichever is first.
    Returns ``{first_step_ms, steps_timed, median_ms, mean_ms, total_s}``."""
    start = time.perf_counter()
    step()
    synchronize()
    first = (time.perf_counter() - start) * 1e3
    for _ in range(warmup - 1):
        step()
    synchronize()
    times = []
    began = time.perf_counter()
    while len(times) < steps and (not times or time.perf_counter() - began < budget_s):
        t0 = time.perf_counter()
        step()
        synchronize()
        times.append((time.perf_counter() - t0) * 1e3)
    return dict(first_step_ms=round(first, 1), steps_timed=len(times),
                median_ms=round(statistics.median(times), 3),
                mean_ms=round(statistics.fmean(times), 3),
                total_s=round(time.perf_counter() - began, 2))


def epoch_estimate(timed, steps_per_epoch):
    """``timed`` (``step_times``'s dict) as an epoch: ``epoch_seconds`` measured when every
    step of the epoch ran, else the mean step × ``steps_per_epoch``, ``extrapolated``."""
    extrapolated = timed["steps_timed"] < steps_per_epoch
    seconds = (timed["mean_ms"] * steps_per_epoch / 1e3 if extrapolated else timed["total_s"])
    return dict(timed, steps_per_epoch=steps_per_epoch, epoch_seconds=round(seconds, 2),
                extrapolated=extrapolated)


def _libraries(device):
    import torch

    import minigrad as mg
    sync_mg = mg.cuda.synchronize if device == "cuda" else (lambda: None)
    sync_torch = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    return mg, torch, sync_mg, sync_torch


def _train_step(lib, model, loss_fn, optimizer):
    def step():
        optimizer.zero_grad()
        loss_fn().backward()
        optimizer.step()
    return step


def gpt_step(cp=None, quick=False, device="cuda", size=None, steps=10, budget_s=40.0):
    """One eager training step (Adam lr 1e-3) of the GPT, minigrad and torch on ``device``
    (the same architecture, parameter counts checked equal), TF32 off in torch."""
    import numpy as np
    from minigrad_benchmarks.torch_twins import TorchGPT
    from minigrad_models.gpt import GPT, GPTConfig
    mg, torch, sync_mg, sync_torch = _libraries(device)
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    size = dict(GPT_SIZE, **(size or {}))
    if quick:
        steps = min(steps, 3)
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, size["vocab"], (size["batch"], size["block_size"] + 1))
    x, y = tokens[:, :-1], tokens[:, 1:]
    mg.manual_seed(0)
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=size["vocab"], block_size=size["block_size"],
                       n_layer=size["n_layer"], n_head=size["n_head"], n_embd=size["n_embd"])
    m_model = GPT(config).to(device)
    t_model = TorchGPT(size["vocab"], size["block_size"], size["n_layer"], size["n_head"],
                       size["n_embd"]).to(device)
    m_count = sum(int(np.prod(tuple(p.shape))) for p in m_model.parameters())
    t_count = sum(p.numel() for p in t_model.parameters())
    if m_count != t_count:
        raise RuntimeError(f"GPT parameter counts differ: minigrad {m_count}, torch {t_count}")
    mx, my = mg.tensor(x, device=device), mg.tensor(y, device=device)
    tx, ty = torch.tensor(x, device=device), torch.tensor(y, device=device)
    m_step = _train_step(mg, m_model, lambda: m_model(mx, my)[1],
                         mg.optim.Adam(m_model.parameters(), lr=1e-3))
    t_step = _train_step(torch, t_model, lambda: torch.nn.functional.cross_entropy(
        t_model(tx).flatten(0, 1), ty.flatten()), torch.optim.Adam(t_model.parameters(), lr=1e-3))
    minigrad = step_times(m_step, sync_mg, steps, budget_s)
    baseline = step_times(t_step, sync_torch, steps, budget_s)
    return dict(model=f"GPT {size['n_layer']}x{size['n_embd']} ctx {size['block_size']} "
                      f"batch {size['batch']}", params=m_count, device=device,
                minigrad=minigrad, torch=baseline,
                ratio=round(minigrad["median_ms"] / baseline["median_ms"], 3))


def cnn_epoch(cp=None, quick=False, device="cuda", torch_device="cpu", images=None,
              budget_s=60.0):
    """One epoch of the seed CNN (Adam lr 1e-3, batch 64): minigrad on ``device`` (each
    batch copied there from host memory, as a loader would) vs torch on ``torch_device``
    (all its threads), on MNIST-shaped random data; each side runs until the epoch ends
    or ``budget_s`` is spent, then ``epoch_estimate`` (extrapolated if cut)."""
    import numpy as np
    from minigrad_benchmarks.torch_twins import torch_seed_cnn
    from minigrad_models.cnn import SeedCNN
    mg, torch, sync_mg, _ = _libraries(device)
    sync_torch = torch.cuda.synchronize if torch_device == "cuda" else (lambda: None)
    images = images or CNN_EPOCH["images"]
    batch = CNN_EPOCH["batch"]
    steps = -(-images // batch)
    if quick:
        budget_s = min(budget_s, 10.0)
    rng = np.random.default_rng(0)
    data = rng.random((images, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, images)
    mg.manual_seed(0)
    torch.manual_seed(0)
    m_model, t_model = SeedCNN().to(device), torch_seed_cnn().to(torch_device)
    m_opt = mg.optim.Adam(m_model.parameters(), lr=1e-3)
    t_opt = torch.optim.Adam(t_model.parameters(), lr=1e-3)
    position = {"mg": 0, "torch": 0}

    def batch_of(key):
        start = position[key] % images
        position[key] = start + batch
        return data[start:start + batch], labels[start:start + batch]

    def m_step():
        xb, yb = batch_of("mg")
        m_opt.zero_grad()
        mg.nn.functional.cross_entropy(m_model(mg.tensor(xb, device=device)),
                                       mg.tensor(yb, device=device)).backward()
        m_opt.step()

    def t_step():
        xb, yb = batch_of("torch")
        t_opt.zero_grad()
        torch.nn.functional.cross_entropy(t_model(torch.from_numpy(xb).to(torch_device)),
                                          torch.from_numpy(yb).to(torch_device)).backward()
        t_opt.step()

    minigrad = epoch_estimate(step_times(m_step, sync_mg, steps, budget_s), steps)
    baseline = epoch_estimate(step_times(t_step, sync_torch, steps, budget_s), steps)
    return dict(model="seed CNN, one MNIST-sized epoch (random data)", images=images,
                batch=batch, minigrad_device=device, torch_device=torch_device,
                torch_threads=torch.get_num_threads(), minigrad=minigrad, torch=baseline,
                ratio=round(minigrad["epoch_seconds"] / baseline["epoch_seconds"], 3))
