"""The one training loop every model of the project uses (the three GANs and the two virtual-PET networks).

A :class:`TrainingTask` owns the networks, optimisers and what one step does; the :class:`Trainer` owns
everything around it: device, seeded data order, mixed precision, DDP, progress and cancel, checkpoints that
resume a run bit-for-bit (on the CPU), loss history (CSV, JSON, PNG curve) and a sample picture per checkpoint.

Files in the run folder (all written atomically, by rank 0 only)::

    checkpoints/checkpoint_last.pt   modules + optimisers + grad scalers + RNG states + epoch/step + history
    losses_steps.csv                 one row per optimisation step
    losses_epochs.csv                one row per epoch (mean losses, seconds, images/second)
    losses.json                      both tables
    loss_curve.png                   step losses and epoch means
    samples/epoch_NNNN.png           the task's sample grid at each checkpoint
    samples/epoch_NNNN_step_SSSSSSS.png   ... and at each checkpoint inside an epoch (``checkpoint_steps``)

Inside an epoch, ``checkpoint_steps`` N also writes a checkpoint every N optimisation steps, holding how far the
epoch got (batches, loss sums, images, seconds and the latent-noise generator). Resuming from it skips the batches
already done in that epoch's seeded order, so a run killed at any point loses at most N steps and still ends with the
same weights as an uninterrupted one (with ``num_workers`` 0; workers re-seed their own random streams).
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import random
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from MedGANSynthLib.device import autocast_dtype
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.io.atomic import atomic_output
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.training import distributed
from MedGANSynthLib.training.checkpoint import (
    capture_rng_states,
    checkpoint_path,
    load_checkpoint,
    restore_rng_states,
    save_checkpoint,
)
from MedGANSynthLib.training.distributed import DistributedContext


@dataclass
class TrainerConfig:
    run_dir: Path
    epochs: int
    batch_size: int
    seed: int = 0
    device: str = "auto"
    checkpoint_every: int = 1  # epochs; a killed run loses at most this many epochs...
    checkpoint_steps: int = 0  # ... or, when set, at most this many steps (checkpoints inside epochs too)
    resume: bool = False
    amp: bool = True  # mixed precision, used only on CUDA
    num_workers: int = 0

    def validate(self) -> None:
        if self.epochs < 1:
            raise InputError(f"--epochs must be at least 1 (got {self.epochs}).")
        if self.batch_size < 1:
            raise InputError(f"--batch-size must be at least 1 (got {self.batch_size}).")
        if self.checkpoint_every < 1:
            raise InputError(f"--checkpoint-every must be at least 1 epoch (got {self.checkpoint_every}).")
        if self.checkpoint_steps < 0:
            raise InputError(f"--checkpoint-steps must be 0 or more (got {self.checkpoint_steps}).")
        if self.num_workers < 0:
            raise InputError(f"The number of data-loading workers cannot be negative (got {self.num_workers}).")


@runtime_checkable
class TrainingTask(Protocol):
    """What a model contributes to training. Optional extras: ``extra_state() -> dict``,
    ``load_extra_state(dict)`` and ``export(run_dir, summary) -> list[Path]`` (called once at the end, rank 0)."""

    def modules(self) -> dict[str, nn.Module]:
        """The trainable networks by name (unwrapped; the trainer moves and wraps them)."""

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """One optimiser per name; created after the modules are on the training device."""

    def train_step(self, batch: Any, ctx: StepContext) -> dict[str, float]:
        """One optimisation step on ``batch`` (already on ``ctx.device``); returns losses as floats."""

    def sample_grid(self) -> torch.Tensor:
        """Images (N, C, H, W) with values in [0, 1] for the per-checkpoint picture (called in eval mode)."""


@dataclass
class StepContext:
    """What a task needs inside ``train_step``: the (possibly DDP-wrapped) modules, device, AMP and noise."""

    device: torch.device
    models: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    scalers: dict[str, torch.amp.GradScaler]
    generator: torch.Generator  # CPU, seeded per (seed, rank, epoch): latent noise, interpolation weights, ...
    amp_dtype: torch.dtype | None
    epoch: int = 0
    step: int = 0

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def optimize(self, name: str, loss: torch.Tensor) -> None:
        """Clear the gradients of optimiser ``name``, back-propagate ``loss`` and step (fp16 loss scaling on CUDA)."""
        optimizer = self.optimizers[name]
        scaler = self.scalers[name]
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` (unwrapped, not its DDP wrapper) with no parameter asking for a gradient, then as it was.

    For the generator's update of a GAN: it back-propagates through the discriminator to the images only. Pass the
    plain module: a DDP wrapper whose parameters get no gradient would wait for them at its next reduction.
    """
    wanted = [parameter.requires_grad for parameter in module.parameters()]
    module.requires_grad_(False)
    try:
        yield module
    finally:
        for parameter, flag in zip(module.parameters(), wanted, strict=True):
            parameter.requires_grad_(flag)


@dataclass
class TrainingResult:
    run_dir: Path
    epochs_completed: int
    global_step: int
    checkpoint: Path | None
    files: dict[str, str] = field(default_factory=dict)
    exported: list[str] = field(default_factory=list)
    images_per_second: float = 0.0
    seconds_per_epoch: float = 0.0
    last_losses: dict[str, float] = field(default_factory=dict)


@dataclass
class _EpochProgress:
    """How far an epoch got: batches done, loss sums, images and seconds (a checkpoint inside it stores these)."""

    batches: int = 0
    sums: dict[str, float] = field(default_factory=dict)
    images: int = 0
    seconds: float = 0.0

    def to_state(self, noise: torch.Generator) -> dict[str, Any]:
        return {"batches": self.batches, "sums": dict(self.sums), "images": self.images, "seconds": self.seconds,
                "noise": noise.get_state()}

    @classmethod
    def resumed(cls, state: dict | None, noise: torch.Generator, other_rank_seed: int, is_main: bool) -> _EpochProgress:
        """The stored progress (the noise generator put back where it was), or a fresh epoch when ``state`` is None.

        Other DDP ranks get a seed of their own for the rest of the epoch: the checkpoint holds rank 0's noise."""
        if state is None:
            return cls()
        if is_main:
            noise.set_state(state["noise"])
        else:
            noise.manual_seed(other_rank_seed)
        return cls(int(state["batches"]), dict(state["sums"]), int(state["images"]), float(state["seconds"]))


def derive_seed(seed: int, *parts: int) -> int:
    """A distinct, reproducible 63-bit seed for (seed, rank, epoch, ...)."""
    return int(np.random.SeedSequence([seed, *parts]).generate_state(2, np.uint32).astype(np.uint64)
               .dot(np.array([1 << 31, 1], dtype=np.uint64)) % (1 << 63))


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy's global RNG and torch (CPU and every GPU), e.g. before building networks."""
    random.seed(seed)
    np.random.seed(seed % (1 << 32))
    torch.manual_seed(seed)


def _seed_worker(worker_id: int) -> None:
    # DataLoader workers: derive NumPy/Python seeds from torch's per-worker seed so workers differ but repeat.
    worker_seed = torch.initial_seed() % (1 << 32)
    np.random.seed(worker_seed)
    random.seed(worker_seed)


class Trainer:
    """Runs a :class:`TrainingTask` over a torch Dataset for ``config.epochs`` epochs."""

    def __init__(self, config: TrainerConfig, context: DistributedContext | None = None) -> None:
        config.validate()
        self.config = config
        self.run_dir = Path(config.run_dir)
        self.context = context or distributed.context_from_env()

    # ---- public -------------------------------------------------------------------------------------------
    def fit(
        self,
        task: TrainingTask,
        dataset: Dataset,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> TrainingResult:
        config, context = self.config, self.context
        if len(dataset) == 0:
            raise InputError("The training data set is empty; point --data at a folder with images.")
        device = distributed.device_for_rank(config.device, context)
        distributed.init_process_group(context, device)
        try:
            return self._fit(task, dataset, device, progress if context.is_main else None, cancel)
        finally:
            distributed.destroy_process_group(context)

    # ---- the loop ------------------------------------------------------------------------------------------
    def _fit(self, task, dataset, device, progress, cancel) -> TrainingResult:
        config, context = self.config, self.context
        checkpoint_file = checkpoint_path(self.run_dir)
        if not config.resume and checkpoint_file.exists():
            raise InputError(
                f"'{self.run_dir}' already holds a training run; pass --resume to continue it or choose a new folder."
            )
        state = load_checkpoint(checkpoint_file) if config.resume else None
        if context.is_main:
            remove_stale_temporaries(self.run_dir)

        raw_modules = task.modules()
        for module in raw_modules.values():
            module.to(device)
        if state is not None:
            _load_modules(raw_modules, state["modules"])
        models = {name: distributed.wrap_module(module, context, device) for name, module in raw_modules.items()}
        optimizers = task.optimizers()
        amp_dtype = autocast_dtype(device) if config.amp else None  # None off CUDA: no AMP on CPU/MPS
        scalers = {name: torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)
                   for name in optimizers}
        history = {"steps": [], "epochs": []}
        start_epoch, global_step, partial = 0, 0, None
        if state is not None:
            for name, optimizer in optimizers.items():
                _load_optimizer_keeping_learning_rates(optimizer, state["optimizers"][name])
            for name, scaler in scalers.items():
                if name in state["scalers"]:
                    scaler.load_state_dict(state["scalers"][name])
            if hasattr(task, "load_extra_state"):
                task.load_extra_state(state.get("task", {}))
            history = {"steps": list(state["history"]["steps"]), "epochs": list(state["history"]["epochs"])}
            start_epoch, global_step = int(state["epoch"]), int(state["global_step"])
            partial = state.get("partial_epoch")  # set when the checkpoint was written inside an epoch
            if context.is_main:
                restore_rng_states(state["rng"], device)
            else:  # the checkpoint holds rank 0's RNG; other ranks continue from a derived seed
                seed_everything(derive_seed(config.seed, context.rank, start_epoch))
        elif context.enabled:
            seed_everything(derive_seed(config.seed, context.rank))  # ranks differ (dropout) but repeat

        noise = torch.Generator()  # CPU: latents are drawn on the CPU and moved (networks.gan_base.draw_latent)
        ctx = StepContext(device, models, optimizers, scalers, noise, amp_dtype)
        sampler = DistributedSampler(dataset, num_replicas=context.world_size, rank=context.rank,
                                     shuffle=True, seed=config.seed, drop_last=False)
        shard = len(sampler)
        if shard < 2:
            raise InputError(f"Training needs at least 2 images per process; the data set has {len(dataset)}.")
        # A trailing batch of one sample breaks batch-norm in training mode; drop just that one image.
        drop_last = shard > config.batch_size and shard % config.batch_size == 1
        steps_per_epoch = shard // config.batch_size if drop_last else math.ceil(shard / config.batch_size)
        total_steps = steps_per_epoch * config.epochs
        for module in raw_modules.values():
            module.train()

        checkpoint_written: Path | None = checkpoint_file if state is not None else None
        session_images, session_seconds, session_epochs = 0, 0.0, 0
        last_losses: dict[str, float] = {}
        for epoch in range(start_epoch, config.epochs):
            sampler.set_epoch(epoch)
            if hasattr(dataset, "set_epoch"):  # data sets that draw per-epoch variations (random crops)
                dataset.set_epoch(epoch)
            noise.manual_seed(derive_seed(config.seed, context.rank, epoch))
            done = _EpochProgress.resumed(partial, noise, derive_seed(config.seed, context.rank, epoch, 2),
                                          context.is_main)
            partial = None
            # The epoch's seeded order, less the batches a checkpoint inside it had already done. Skipping whole
            # batches keeps the remainder's length modulo the batch size, so drop_last drops the same last image.
            order = list(sampler)[done.batches * config.batch_size:]
            loader = DataLoader(
                dataset, batch_size=config.batch_size, sampler=order, drop_last=drop_last,
                num_workers=config.num_workers, worker_init_fn=_seed_worker, pin_memory=device.type == "cuda",
                generator=torch.Generator().manual_seed(derive_seed(config.seed, epoch, 1)),
            )
            ctx.epoch = epoch
            started = time.perf_counter() - done.seconds
            for batch in loader:
                report(None, cancel, "train", global_step, total_steps)  # stop between steps when cancelled
                ctx.step = global_step
                losses = task.train_step(_to_device(batch, device), ctx)
                global_step += 1
                done.images += _batch_size(batch)
                history["steps"].append({"epoch": epoch + 1, "step": global_step, **losses})
                for key, value in losses.items():
                    done.sums[key] = done.sums.get(key, 0.0) + float(value)
                last_losses = dict(losses)
                report(progress, None, "train", global_step, total_steps, f"epoch {epoch + 1}/{config.epochs}",
                       epoch=epoch + 1, **{k: round(float(v), 5) for k, v in losses.items()})
                done.batches += 1
                if config.checkpoint_steps and global_step % config.checkpoint_steps == 0 \
                        and done.batches < steps_per_epoch:
                    if context.is_main:
                        done.seconds = time.perf_counter() - started
                        checkpoint_written = self._write_checkpoint(
                            task, raw_modules, optimizers, scalers, history, epoch, global_step, device,
                            partial_epoch=done.to_state(noise))
                    distributed.barrier(context)
            seconds = time.perf_counter() - started
            means = {key: distributed.all_ranks_mean(value / steps_per_epoch, device, context)
                     for key, value in sorted(done.sums.items())}
            all_images = done.images * context.world_size
            history["epochs"].append({"epoch": epoch + 1, "step": global_step, **means, "seconds": round(seconds, 4),
                                      "images_per_second": round(all_images / max(seconds, 1e-9), 2)})
            session_images += all_images
            session_seconds += seconds
            session_epochs += 1
            if (epoch + 1) % config.checkpoint_every == 0 or epoch + 1 == config.epochs:
                if context.is_main:
                    checkpoint_written = self._write_checkpoint(task, raw_modules, optimizers, scalers, history,
                                                                epoch + 1, global_step, device)
                distributed.barrier(context)

        result = TrainingResult(
            run_dir=self.run_dir,
            epochs_completed=config.epochs if start_epoch < config.epochs else start_epoch,
            global_step=global_step,
            checkpoint=checkpoint_written,
            files=self._file_names(),
            images_per_second=round(session_images / session_seconds, 2) if session_seconds > 0 else 0.0,
            seconds_per_epoch=round(session_seconds / session_epochs, 4) if session_epochs else 0.0,
            last_losses=last_losses,
        )
        if context.is_main and hasattr(task, "export"):
            summary = {"epochs": result.epochs_completed, "global_step": global_step,
                       "final_epoch_losses": history["epochs"][-1] if history["epochs"] else {},
                       "seed": config.seed, "batch_size": config.batch_size, "world_size": context.world_size}
            with _evaluation_mode(raw_modules):
                result.exported = [str(path) for path in (task.export(self.run_dir, summary) or [])]
        distributed.barrier(context)
        return result

    # ---- files ---------------------------------------------------------------------------------------------
    def _file_names(self) -> dict[str, str]:
        return {
            "checkpoint": str(checkpoint_path(self.run_dir)),
            "losses_steps_csv": str(self.run_dir / "losses_steps.csv"),
            "losses_epochs_csv": str(self.run_dir / "losses_epochs.csv"),
            "losses_json": str(self.run_dir / "losses.json"),
            "loss_curve_png": str(self.run_dir / "loss_curve.png"),
            "samples_dir": str(self.run_dir / "samples"),
        }

    def _write_checkpoint(self, task, raw_modules, optimizers, scalers, history, epoch, global_step,
                          device, partial_epoch: dict | None = None) -> Path:
        """``epoch`` = epochs completed; ``partial_epoch`` = how far the next one got (a checkpoint inside it)."""
        # RNG states first: nothing below may change what the next epoch draws.
        state = {
            "epoch": epoch,
            "partial_epoch": partial_epoch,
            "global_step": global_step,
            "modules": {name: module.state_dict() for name, module in raw_modules.items()},
            "optimizers": {name: optimizer.state_dict() for name, optimizer in optimizers.items()},
            "scalers": {name: scaler.state_dict() for name, scaler in scalers.items()},
            "rng": capture_rng_states(device),
            "history": history,
            "task": task.extra_state() if hasattr(task, "extra_state") else {},
            "config": {key: (str(value) if isinstance(value, Path) else value)
                       for key, value in asdict(self.config).items()},
        }
        self.run_dir.mkdir(parents=True, exist_ok=True)
        write_loss_tables(history, self.run_dir)
        write_loss_curve(history, self.run_dir / "loss_curve.png")
        with torch.random.fork_rng(devices=[]), _evaluation_mode(raw_modules), torch.no_grad():
            grid = task.sample_grid()
        name = f"epoch_{epoch:04d}.png" if partial_epoch is None else f"epoch_{epoch + 1:04d}_step_{global_step:07d}.png"
        write_image_grid(grid, self.run_dir / "samples" / name)
        # The checkpoint goes last, so a checkpoint on disk always has its tables and pictures beside it.
        return save_checkpoint(state, checkpoint_path(self.run_dir))


# Final names of the files the trainer writes; a killed process may leave ".<name>.<random>" temporaries of them.
_OUTPUT_PREFIXES = ("checkpoint_last.pt", "losses_steps.csv", "losses_epochs.csv", "losses.json", "loss_curve.png",
                    "epoch_")


def remove_stale_temporaries(run_dir: Path) -> list[Path]:
    """Delete temporaries an earlier, killed run left half-written (atomic_output names them ".<final>.*")."""
    removed = []
    for folder in (run_dir, run_dir / "checkpoints", run_dir / "samples"):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.is_file() and path.name.startswith(".") and path.name[1:].startswith(_OUTPUT_PREFIXES):
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def _load_optimizer_keeping_learning_rates(optimizer: torch.optim.Optimizer, saved: dict) -> None:
    """Restore the optimiser's moments and step counts but keep the learning rates it was built with: they come
    from the run's settings, which a resumed run may change (a lower rate to fine-tune). Unchanged settings give
    the saved rates back, so an ordinary resume stays exact."""
    rates = [group["lr"] for group in optimizer.param_groups]
    optimizer.load_state_dict(saved)
    for group, rate in zip(optimizer.param_groups, rates, strict=True):
        group["lr"] = rate


def _load_modules(modules: dict[str, nn.Module], states: dict[str, Any]) -> None:
    missing = set(modules) - set(states)
    if missing:
        raise InputError(f"The checkpoint has no weights for {', '.join(sorted(missing))}; it belongs to another model.")
    for name, module in modules.items():
        try:
            module.load_state_dict(states[name])
        except RuntimeError as error:
            raise InputError(
                f"The checkpoint's '{name}' weights do not fit this network (different architecture or size?)."
            ) from error


@contextlib.contextmanager
def _evaluation_mode(modules: dict[str, nn.Module]) -> Iterator[None]:
    """Eval mode for pictures/export (no batch-norm statistics updated), then back to each module's mode."""
    modes = {name: module.training for name, module in modules.items()}
    for module in modules.values():
        module.eval()
    try:
        yield
    finally:
        for name, module in modules.items():
            module.train(modes[name])


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {key: _to_device(value, device) for key, value in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(value, device) for value in batch)
    return batch


def _batch_size(batch: Any) -> int:
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0])
    if isinstance(batch, dict):
        return _batch_size(next(iter(batch.values())))
    if isinstance(batch, (list, tuple)):
        return _batch_size(batch[0])
    return 1


def write_loss_tables(history: dict[str, list[dict[str, Any]]], run_dir: Path) -> None:
    """losses_steps.csv, losses_epochs.csv and losses.json (atomically)."""
    for name, rows in (("losses_steps.csv", history["steps"]), ("losses_epochs.csv", history["epochs"])):
        columns: list[str] = []
        for row in rows:
            columns.extend(key for key in row if key not in columns)
        with atomic_output(run_dir / name) as temp, open(temp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    with atomic_output(run_dir / "losses.json") as temp:
        temp.write_text(json.dumps(history, indent=1))


def write_loss_curve(history: dict[str, list[dict[str, Any]]], path: Path) -> None:
    """Step losses (thin) and epoch means (dots) per loss name, with the Agg backend (no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    reserved = {"epoch", "step", "seconds", "images_per_second"}
    names = [key for key in (history["steps"][0] if history["steps"] else {}) if key not in reserved]
    for index, name in enumerate(names):
        colour = f"C{index % 10}"
        axes.plot([row["step"] for row in history["steps"]], [row[name] for row in history["steps"]],
                  color=colour, alpha=0.35, linewidth=0.8)
        axes.plot([row["step"] for row in history["epochs"]], [row.get(name, float("nan")) for row in history["epochs"]],
                  "o-", color=colour, markersize=3, label=name)
    axes.set_xlabel("step")
    axes.set_ylabel("loss / mean logit")
    axes.grid(alpha=0.3)
    if names:
        axes.legend(loc="best", fontsize=8)
    figure.tight_layout()
    with atomic_output(path) as temp:
        figure.savefig(temp, format="png")


MIN_TILE_PIXELS = 64


def write_image_grid(images: torch.Tensor, path: Path) -> None:
    """Tile (N, C, H, W) images in [0, 1] into one PNG (grey for 1 channel, RGB for 3, first channel otherwise).

    Images smaller than 64 pixels are enlarged by a whole factor (nearest neighbour) so every pixel stays visible.
    """
    from matplotlib.image import imsave

    array = images.detach().float().cpu().clamp(0.0, 1.0).numpy()
    if array.ndim != 4:
        raise ValueError(f"sample_grid must return (N, C, H, W) images, got shape {tuple(array.shape)}")
    zoom = max(1, MIN_TILE_PIXELS // max(array.shape[2:]))  # tiny images (16 x 16) are unreadable at 1:1
    if zoom > 1:
        array = array.repeat(zoom, axis=2).repeat(zoom, axis=3)
    count, channels, height, width = array.shape
    columns = max(1, math.ceil(math.sqrt(count)))
    rows = math.ceil(count / columns)
    pad = 2
    colour = channels == 3
    canvas = np.ones((rows * (height + pad) + pad, columns * (width + pad) + pad, 3 if colour else 1),
                     dtype=np.float32)
    for index in range(count):
        top = pad + (index // columns) * (height + pad)
        left = pad + (index % columns) * (width + pad)
        tile = array[index].transpose(1, 2, 0) if colour else array[index, :1].transpose(1, 2, 0)
        canvas[top:top + height, left:left + width] = tile
    with atomic_output(path) as temp:
        if colour:
            imsave(temp, canvas, format="png")
        else:
            imsave(temp, canvas[..., 0], cmap="gray", vmin=0.0, vmax=1.0, format="png")
