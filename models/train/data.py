"""From a data-set name and a training configuration to train / validation / test
``DataLoader``s.

Data sets (the names ``models.registry`` uses):

* ``mnist``, ``fashion-mnist`` — 28×28 greyscale images in ten classes. A batch is
  ``(x float32 (N, 1, 28, 28), y int64 (N,))``.
* ``mnist-binary`` — MNIST images with the registry's binary target, *odd digit*:
  ``y = digit mod 2`` (``models.mlp.odd_digit_target``), float32 ``(N, 1)`` so it meets the
  model's ``(N, 1)`` logit in ``BCEWithLogitsLoss``.
* ``shakespeare`` for ``lm`` models — character windows ``x = text[i : i+T]``,
  ``y = text[i+1 : i+T+1]``, int64 ``(N, T)``. Training draws windows at random offsets
  (with replacement, nanoGPT's way); an "epoch" is the recipe's ``iters`` steps of them
  (or ``subset`` windows). Validation is the last ``val_split`` of the training text,
  test the data set's own test text (its last 10%), both cut into non-overlapping
  windows, so no validation character is ever trained on.
* ``shakespeare`` for ``seq2seq`` models — the ``(line, next line)`` pairs of
  ``Shakespeare.line_pairs()``, padded to ``max_len`` (see ``seq2seq_tensors``); an epoch is
  one pass over the training pairs, cut to the recipe's ``iters`` steps if it has them.

Images are normalised as ``x = (pixel/255 − mean)/std`` with, per the recipe's
``normalize``: ``unit`` (0, 1), ``mnist-0.5`` (0.5, 0.5: (x − 0.5)/0.5, docs/seeds.md#seed-004) or
``standard`` (the mean and standard deviation of the whole training split, computed once
and stored in the run's config so ``eval`` normalises the test set the same way).

Splits: for images and line pairs the validation set is a seeded random ``val_split``
share of the training split. ``subset=N`` first cuts the training split to N random
samples (validation is then carved from those); for ``lm`` it is the number of windows
drawn per epoch. ``eval_samples=K`` scores only K evenly spaced validation and test
samples (text tasks default to 1024; images to all of them).

Shuffling goes through ``EpochSampler``, whose order and position within an epoch are
part of a checkpoint, so a run resumed mid-epoch sees exactly the batches it would have.
"""
from dataclasses import dataclass, field

import numpy as np

import minigrad as mg
from minigrad import transforms as T
from minigrad.utils.data import DataLoader, Dataset, Sampler, TensorDataset

__all__ = ["DATASETS", "NORMALIZATIONS", "AUGMENTATIONS", "augmentation", "AugmentedImages",
           "EpochSampler", "CharWindows", "Splits",
           "prepare_data", "normalize_images", "char_windows", "seq2seq_tensors",
           "evenly_spaced"]

IMAGE_DATASETS = ("mnist", "fashion-mnist", "mnist-binary")
TEXT_DATASETS = ("shakespeare",)
DATASETS = IMAGE_DATASETS + TEXT_DATASETS
#: normalize name -> (mean, std) of x = pixel/255, or None: computed from the data.
NORMALIZATIONS = {"unit": (0.0, 1.0), "mnist-0.5": (0.5, 0.5), "standard": None}




def augmentation(dataset):
    """The ``--augment`` pipeline of a data set (``minigrad.transforms``), applied to each
    training image (float32 ``(1, 28, 28)`` in [0, 1]) before normalisation. Clothes may be
    mirrored, digits may not (a mirrored 2 is no digit): Fashion-MNIST gets the CIFAR
    recipe (4/32 of the side → padding 2 at 28 px, random crop, horizontal flip), the
    digit sets small rotations and shifts."""
    if dataset == "fashion-mnist":
        return T.Compose([T.RandomCrop(28, padding=2), T.RandomHorizontalFlip()])
    return T.RandomAffine(degrees=10, translate=(0.1, 0.1))


#: data set → a description of its ``--augment`` pipeline (for config.json and docs).
AUGMENTATIONS = {"fashion-mnist": "RandomCrop(28, padding=2), RandomHorizontalFlip()",
                 "mnist": "RandomAffine(degrees=10, translate=(0.1, 0.1))",
                 "mnist-binary": "RandomAffine(degrees=10, translate=(0.1, 0.1))"}


class AugmentedImages(Dataset):
    """Training images drawn through a random ``transform`` at every access:
    ``images`` float32 ``(N, 1, 28, 28)`` in [0, 1] and their ``targets``; item i is
    ``(normalize(transform(images[i])), targets[i])`` as numpy arrays, so each epoch
    sees new crops/flips/rotations (drawn from minigrad's generator, which a checkpoint
    saves, so resuming stays exact)."""

    def __init__(self, images, targets, transform, mean, std):
        self.images, self.targets, self.transform = images, targets, transform
        self.mean, self.std = np.float32(mean), np.float32(std)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        image = self.transform(self.images[index])
        if self.mean != 0.0 or self.std != 1.0:
            image = (image - self.mean) / self.std
        return image.astype(np.float32, copy=False), self.targets[index]


class EpochSampler(Sampler):
    """The sample indices of one epoch from its own numpy Generator: a fresh permutation
    of ``range(n)`` (cut to ``num_samples`` if given), or with ``replacement``
    ``num_samples`` uniform draws; with the position inside the epoch as state.

    ``state_dict()`` holds the generator's state *before* the current epoch's draw and
    ``consumed``, the number of samples already trained on (the trainer sets it after
    each step); loading it makes the next ``iter`` draw the same order and skip those
    samples. Between epochs it holds the current state and ``consumed = 0``."""

    def __init__(self, n, seed, num_samples=None, replacement=False):
        if replacement and num_samples is None:
            raise ValueError("sampling with replacement needs num_samples")
        self.n, self.replacement = n, replacement
        self.size = n if num_samples is None else num_samples if replacement \
            else min(num_samples, n)
        self.generator = np.random.default_rng(seed)
        self.consumed = 0        # samples of the current epoch already trained on
        self._epoch_state = None  # generator state before this epoch's draw
        self._start = 0          # where the next iter begins (set by load_state_dict)

    def __iter__(self):
        self._epoch_state = self.generator.bit_generator.state
        if self.replacement:
            order = self.generator.integers(0, self.n, self.size)
        else:
            order = self.generator.permutation(self.n)[:self.size]
        start, self._start = self._start, 0
        self.consumed = start
        return iter(order[start:].tolist())

    def __len__(self):
        return self.size - self._start

    def end_epoch(self):
        self._epoch_state, self.consumed = None, 0

    def state_dict(self):
        if self._epoch_state is None:   # between epochs
            return {"generator": self.generator.bit_generator.state, "consumed": 0}
        return {"generator": self._epoch_state, "consumed": self.consumed}

    def load_state_dict(self, state):
        self.generator.bit_generator.state = state["generator"]
        self._start = self.consumed = int(state["consumed"])
        self._epoch_state = None


class CharWindows(Dataset):
    """Every window of an id stream: item i = ``(ids[i : i+T], ids[i+1 : i+T+1])`` as
    int64 numpy arrays (``default_collate`` stacks a batch of them)."""

    def __init__(self, ids, block_size):
        if len(ids) <= block_size:
            raise ValueError(f"a text of {len(ids)} characters holds no window of "
                             f"{block_size} + 1")
        self.ids, self.block_size = ids, block_size

    def __len__(self):
        return len(self.ids) - self.block_size

    def __getitem__(self, index):
        chunk = self.ids[index:index + self.block_size + 1]
        return chunk[:-1], chunk[1:]


@dataclass
class Splits:
    """What ``prepare_data`` returns. ``train``/``val`` are None when only the test set
    was asked for; ``num_classes``/``class_names`` describe the targets (the vocabulary
    size and None for text); ``vocab`` is the text's characters in id order, and
    ``special_tokens`` the seq2seq pad/bos/eos ids that follow them;
    ``normalize_stats`` is the (mean, std) the images were normalised with."""
    test: DataLoader
    train: DataLoader = None
    val: DataLoader = None
    sampler: EpochSampler = None
    num_classes: int = None
    class_names: list = None
    vocab: str = None
    normalize_stats: tuple = None
    special_tokens: dict = None
    sizes: dict = field(default_factory=dict)


def normalize_images(images, mean, std):
    """uint8 ``(N, 28, 28)`` → float32 ``(N, 1, 28, 28)`` = ``(pixel/255 − mean)/std``."""
    x = images.astype(np.float32)[:, None] / np.float32(255)
    if mean != 0.0 or std != 1.0:
        x = (x - np.float32(mean)) / np.float32(std)
    return x


def char_windows(ids, block_size):
    """Non-overlapping ``(x, y)`` windows of an int64 id stream: ``x[i] = ids[iT : iT+T]``,
    ``y[i] = ids[iT+1 : iT+T+1]``; the tail shorter than T+1 is dropped."""
    count = (len(ids) - 1) // block_size
    starts = np.arange(count, dtype=np.int64)[:, None] * block_size
    offsets = np.arange(block_size, dtype=np.int64)[None, :]
    return ids[starts + offsets], ids[starts + offsets + 1]


def seq2seq_tensors(pairs, stoi, max_len, pad_id, bos_id, eos_id):
    """``(line, next line)`` pairs → int64 ``src (N, max_len)``, ``tgt_in (N, max_len + 1)``
    and ``tgt_out (N, max_len + 1)``, padded with ``pad_id``.

    Each line is cut to ``max_len`` characters. ``tgt_in = [BOS] + next`` (what the
    decoder reads) and ``tgt_out = next + [EOS]`` (what it must predict at each
    position, teacher forcing); padding positions of ``tgt_out`` are ``pad_id`` and are
    ignored by the loss (``ignore_index``)."""
    n = len(pairs)
    src = np.full((n, max_len), pad_id, dtype=np.int64)
    tgt_in = np.full((n, max_len + 1), pad_id, dtype=np.int64)
    tgt_out = np.full((n, max_len + 1), pad_id, dtype=np.int64)
    for row, (line, reply) in enumerate(pairs):
        a = [stoi[c] for c in line[:max_len]]
        b = [stoi[c] for c in reply[:max_len]]
        src[row, :len(a)] = a
        tgt_in[row, 0] = bos_id
        tgt_in[row, 1:len(b) + 1] = b
        tgt_out[row, :len(b)] = b
        tgt_out[row, len(b)] = eos_id
    return src, tgt_in, tgt_out


def evenly_spaced(n, k):
    """Indices of ``k`` samples spread evenly over ``range(n)`` (all n if k is None or
    not smaller): a fixed, representative cut of an evaluation split."""
    if k is None or k >= n:
        return np.arange(n)
    return np.arange(k, dtype=np.int64) * n // k


def _split_indices(n, val_split, subset, seed):
    """Seeded ``(train, val)`` index arrays over a training split of n samples: shuffle,
    keep the first ``subset`` (if given), then the first ``round(val_split·len)`` of
    those are validation."""
    order = np.random.default_rng([seed, 1]).permutation(n)
    if subset is not None:
        order = order[:subset]
    n_val = int(round(len(order) * val_split))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _tensor_dataset(arrays, limit=None):
    """numpy arrays with one first size → TensorDataset, cut to ``limit`` evenly spaced
    samples (None: all)."""
    keep = evenly_spaced(len(arrays[0]), limit)
    return TensorDataset(*(mg.from_numpy(np.ascontiguousarray(a[keep])) for a in arrays))


def _finish(splits, config, train_set, val_arrays, test_arrays, num_samples=None,
            replacement=False):
    """Fill ``splits`` with the loaders: the test (and validation) sets batched in order,
    the training set through a seeded ``EpochSampler``."""
    limit, eval_batch = config.get("eval_samples"), config["eval_batch_size"]
    test = _tensor_dataset(test_arrays, limit)
    splits.test = DataLoader(test, batch_size=eval_batch)
    splits.sizes["test"] = len(test)
    if train_set is None:
        return splits
    splits.sampler = EpochSampler(len(train_set), [config["seed"], 2], num_samples, replacement)
    splits.train = DataLoader(train_set, batch_size=config["batch_size"], sampler=splits.sampler)
    splits.sizes["train"] = splits.sampler.size
    val = _tensor_dataset(val_arrays, limit) if len(val_arrays[0]) else None
    splits.sizes["val"] = len(val) if val is not None else 0
    if val is not None:
        splits.val = DataLoader(val, batch_size=eval_batch)
    return splits


def _image_splits(config, need_train):
    from minigrad.datasets import FashionMNIST, MNIST
    name = config["dataset"]
    kind = FashionMNIST if name == "fashion-mnist" else MNIST
    download = config.get("download", True)
    binary = name == "mnist-binary"
    test_set = kind(train=False, download=download)
    train_set = kind(train=True, download=download) if need_train else None

    stats = NORMALIZATIONS[config["normalize"]] or config.get("normalize_stats")
    if stats is None:   # "standard": statistics of the whole training split
        if train_set is None:
            train_set = kind(train=True, download=download)
        pixels = train_set.data.astype(np.float64) / 255
        stats = (float(pixels.mean()), float(pixels.std()))
    mean, std = stats

    classes = config.get("classes")
    if classes is not None:    # keep only these digits/garments (every split), labels as they are
        test_set, train_set = _only_classes(test_set, classes), _only_classes(train_set, classes)

    def arrays(images, labels):
        y = (labels % 2).astype(np.float32)[:, None] if binary else labels.astype(np.int64)
        return normalize_images(images, mean, std), y

    splits = Splits(test=None, normalize_stats=(mean, std),
                    num_classes=2 if binary else len(kind.classes),
                    class_names=["even", "odd"] if binary else list(kind.classes))
    test = arrays(test_set.data, test_set.targets)
    if not need_train:
        return _finish(splits, config, None, None, test)
    train_idx, val_idx = _split_indices(len(train_set.data), config["val_split"],
                                        config.get("subset"), config["seed"])
    if config.get("augment"):
        _, targets = arrays(train_set.data[:0], train_set.targets[train_idx])
        train = AugmentedImages(normalize_images(train_set.data[train_idx], 0.0, 1.0), targets,
                                augmentation(name), mean, std)
    else:
        train = _tensor_dataset(arrays(train_set.data[train_idx], train_set.targets[train_idx]))
    val = arrays(train_set.data[val_idx], train_set.targets[val_idx])
    return _finish(splits, config, train, val, test)


class _ClassSubset:
    """``data``/``targets`` of the samples of a data set whose label is in ``classes``."""

    def __init__(self, dataset, classes):
        keep = np.isin(dataset.targets, np.asarray(classes))
        self.data, self.targets = dataset.data[keep], dataset.targets[keep]


def _only_classes(dataset, classes):
    return None if dataset is None else _ClassSubset(dataset, classes)


def _steps_samples(config, available):
    """Samples per epoch: ``subset`` if given, else the recipe's ``iters`` steps' worth,
    else ``available``."""
    if config.get("subset") is not None and config["task"] == "lm":
        return config["subset"]
    if config.get("iters"):
        return config["iters"] * config["batch_size"]
    return available


def _text_splits(config, need_train, task):
    from minigrad.datasets import Shakespeare
    download = config.get("download", True)
    test_text = Shakespeare(train=False, download=download)
    vocab = len(test_text.chars)
    splits = Splits(test=None, vocab="".join(test_text.chars), num_classes=vocab)
    train_text = Shakespeare(train=True, download=download) if need_train else None

    if task == "lm":
        block = config["block_size"]
        test = char_windows(test_text.data, block)
        if not need_train:
            return _finish(splits, config, None, None, test)
        ids = train_text.data
        cut = len(ids) - int(round(len(ids) * config["val_split"]))
        windows = CharWindows(ids[:cut], block)
        val = char_windows(ids[cut:], block)
        return _finish(splits, config, windows, val, test,
                       _steps_samples(config, cut // block), replacement=True)

    # seq2seq: three ids after the characters': padding, begin and end of a target line.
    specials = splits.special_tokens = {"pad": vocab, "bos": vocab + 1, "eos": vocab + 2}
    splits.num_classes = vocab + 3

    def pairs(text):
        return seq2seq_tensors(text.line_pairs(), text.stoi, config["max_len"],
                               specials["pad"], specials["bos"], specials["eos"])
    test = pairs(test_text)
    if not need_train:
        return _finish(splits, config, None, None, test)
    everything = pairs(train_text)
    train_idx, val_idx = _split_indices(len(everything[0]), config["val_split"],
                                        config.get("subset"), config["seed"])
    train = _tensor_dataset(tuple(a[train_idx] for a in everything))
    val = tuple(a[val_idx] for a in everything)
    return _finish(splits, config, train, val, test, _steps_samples(config, len(train)))


def prepare_data(config, need_train=True):
    """Build the ``Splits`` of ``config["dataset"]`` for ``config["task"]``.

    Config keys read: ``dataset``, ``task``, ``batch_size``, ``eval_batch_size``,
    ``val_split``, ``subset``, ``eval_samples``, ``seed``, ``normalize`` (+
    ``normalize_stats`` if already known), ``block_size`` and ``iters`` (text),
    ``max_len`` (seq2seq), ``download``, ``classes`` (images: keep only these labels in
    every split, e.g. digits 0–4 to pretrain for a fine-tuning experiment), ``augment`` (images: draw the training images
    through ``augmentation(dataset)``). With ``need_train=False`` only the test split is
    loaded (for ``eval``). Raises ``ValueError`` for a data set the task cannot use."""
    name, task = config["dataset"], config["task"]
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r} (choose from {', '.join(DATASETS)})")
    if task in ("classify", "binary", "reconstruct"):
        if name not in IMAGE_DATASETS or (task == "binary") != (name == "mnist-binary"):
            raise ValueError(f"dataset {name!r} does not fit a {task!r} model")
        return _image_splits(config, need_train)
    if task in ("lm", "seq2seq"):
        if name not in TEXT_DATASETS:
            raise ValueError(f"dataset {name!r} does not fit a {task!r} model")
        return _text_splits(config, need_train, task)
    raise ValueError(f"unknown task {task!r}")
