"""The one training loop every model of the project uses (the three GANs and the two virtual-PET networks).

A :class:`TrainingTask` owns the networks, optimisers and what one step does; the :class:`Trainer` owns
everything around it: device, seeded data order, mixed precision, DDP, progress and cancel, and checkpoints that
resume a run bit-for-bit (on the CPU). What a run leaves on disk is written by its callbacks
(:mod:`MedGANSynthLib.training.callbacks`; the defaults are :func:`default_callbacks`), all atomically, by rank 0::

    checkpoints/checkpoint_last.pt   modules + optimisers + grad scalers + RNG states + epoch/step + history
    losses_steps.csv                 one row per optimisation step
    losses_epochs.csv                one row per epoch (mean losses, seconds, images/second)
    losses.json                      both tables
    loss_curve.png                   step losses and epoch means
    samples/epoch_NNNN.png           the task's sample grid at each checkpoint
    samples/epoch_NNNN_step_SSSSSSS.png   ... and at each checkpoint inside an epoch (``checkpoint_steps``)
    (the task's export, e.g. weights/*.safetensors + card, once at the end)

Inside an epoch, ``checkpoint_steps`` N also writes a checkpoint every N optimisation steps, holding how far the
epoch got (batches, loss sums, images, seconds and the latent-noise generator). Resuming from it skips the batches
already done in that epoch's seeded order, so a run killed at any point loses at most N steps and still ends with the
same weights as an uninterrupted one (with ``num_workers`` 0; workers re-seed their own random streams).

The loop reads as its steps: :meth:`Trainer._start` (networks, optimisers, restore), :meth:`Trainer._train_epoch`,
:meth:`Trainer._train_step`, :meth:`Trainer._checkpoint` and :meth:`Trainer._finish`.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from MedGANSynthLib.device import autocast_dtype
from MedGANSynthLib.errors import InputError, MedGANSynthError
from MedGANSynthLib.jobs.progress import CancelToken, ProgressCallback, report
from MedGANSynthLib.training import distributed
from MedGANSynthLib.training.callbacks import CallbackError, TrainerCallback, TrainingState
from MedGANSynthLib.training.checkpoint import (
    capture_rng_states,
    checkpoint_path,
    load_checkpoint,
    restore_rng_states,
)
from MedGANSynthLib.training.checkpoint_writer import CheckpointWriter
from MedGANSynthLib.training.distributed import DistributedContext
from MedGANSynthLib.training.loss_history import LossCurveWriter, LossTableWriter
from MedGANSynthLib.training.sample_pictures import SampleGridWriter
from MedGANSynthLib.training.settings import check_run_folder
from MedGANSynthLib.training.weights_export import WeightsExporter


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


def default_callbacks() -> list[TrainerCallback]:
    """Today's files of a run: loss tables and curve, sample pictures, the checkpoint (last, so the others are on
    disk beside it) and, at the end, the task's weights and card. Add your own after (or between) them."""
    return [LossTableWriter(), LossCurveWriter(), SampleGridWriter(), CheckpointWriter(), WeightsExporter()]


@dataclass
class _Loop:
    """What the loop carries from epoch to epoch besides the callbacks' state: data order, noise, timing."""

    ctx: StepContext
    sampler: DistributedSampler
    drop_last: bool
    resumed_epoch: dict | None  # how far the first epoch got before (a checkpoint inside it), else None
    images: int = 0  # this session's images, seconds and epochs, for the throughput in the result
    seconds: float = 0.0
    epochs: int = 0


class Trainer:
    """Runs a :class:`TrainingTask` over a torch Dataset for ``config.epochs`` epochs.

    ``callbacks`` (default :func:`default_callbacks`) write everything the run leaves on disk; see
    :mod:`MedGANSynthLib.training.callbacks` for the hooks and when they are called.
    """

    def __init__(self, config: TrainerConfig, context: DistributedContext | None = None,
                 callbacks: list[TrainerCallback] | None = None) -> None:
        config.validate()
        self.config = config
        self.run_dir = Path(config.run_dir)
        self.context = context or distributed.context_from_env()
        self.callbacks = default_callbacks() if callbacks is None else list(callbacks)

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
        state, ctx, checkpoint = self._start(task, device)
        loop = self._prepare_loop(state, ctx, dataset, checkpoint)
        for module in state.modules.values():
            module.train()
        for epoch in range(state.epochs_completed, self.config.epochs):
            self._train_epoch(state, loop, dataset, epoch, progress, cancel)
        return self._finish(state, loop)

    def _start(self, task, device) -> tuple[TrainingState, StepContext, dict | None]:
        """Networks on the device (DDP-wrapped), optimisers and grad scalers; on resume, all of them, the history
        and the RNG states as the checkpoint left them. Returns them, the step context and the checkpoint read."""
        config, context = self.config, self.context
        checkpoint_file = checkpoint_path(self.run_dir)
        check_run_folder(self.run_dir, resume=config.resume, overwrite=False)  # --overwrite has emptied it before
        checkpoint = load_checkpoint(checkpoint_file) if config.resume else None
        if context.is_main:
            remove_stale_temporaries(self.run_dir)

        raw_modules = task.modules()
        for module in raw_modules.values():
            module.to(device)
        if checkpoint is not None:
            _load_modules(raw_modules, checkpoint["modules"])
        models = {name: distributed.wrap_module(module, context, device) for name, module in raw_modules.items()}
        optimizers = task.optimizers()
        amp_dtype = autocast_dtype(device) if config.amp else None  # None off CUDA: no AMP on CPU/MPS
        scalers = {name: torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)
                   for name in optimizers}
        state = TrainingState(self.run_dir, config, context, device, task, raw_modules, optimizers, scalers,
                              history={"steps": [], "epochs": []}, steps_per_epoch=0, total_steps=0)
        if checkpoint is not None:
            self._restore(state, checkpoint)
        elif context.enabled:
            seed_everything(derive_seed(config.seed, context.rank))  # ranks differ (dropout) but repeat
        noise = torch.Generator()  # CPU: latents are drawn on the CPU and moved (networks.gan_base.draw_latent)
        return state, StepContext(device, models, optimizers, scalers, noise, amp_dtype), checkpoint

    def _restore(self, state: TrainingState, checkpoint: dict) -> None:
        for name, optimizer in state.optimizers.items():
            _load_optimizer_keeping_learning_rates(optimizer, checkpoint["optimizers"][name])
        for name, scaler in state.scalers.items():
            if name in checkpoint["scalers"]:
                scaler.load_state_dict(checkpoint["scalers"][name])
        if hasattr(state.task, "load_extra_state"):
            state.task.load_extra_state(checkpoint.get("task", {}))
        state.history = {"steps": list(checkpoint["history"]["steps"]),
                         "epochs": list(checkpoint["history"]["epochs"])}
        state.epochs_completed, state.global_step = int(checkpoint["epoch"]), int(checkpoint["global_step"])
        if self.context.is_main:
            restore_rng_states(checkpoint["rng"], state.device)
        else:  # the checkpoint holds rank 0's RNG; other ranks continue from a derived seed
            seed_everything(derive_seed(self.config.seed, self.context.rank, state.epochs_completed))

    def _prepare_loop(self, state: TrainingState, ctx: StepContext, dataset: Dataset,
                      checkpoint: dict | None) -> _Loop:
        """The seeded sampler of this process's shard and the steps per epoch (a shard of one image is refused)."""
        config, context = self.config, self.context
        sampler = DistributedSampler(dataset, num_replicas=context.world_size, rank=context.rank,
                                     shuffle=True, seed=config.seed, drop_last=False)
        shard = len(sampler)
        if shard < 2:
            raise InputError(f"Training needs at least 2 images per process; the data set has {len(dataset)}.")
        # A trailing batch of one sample breaks batch-norm in training mode; drop just that one image.
        drop_last = shard > config.batch_size and shard % config.batch_size == 1
        state.steps_per_epoch = shard // config.batch_size if drop_last else math.ceil(shard / config.batch_size)
        state.total_steps = state.steps_per_epoch * config.epochs
        resumed_epoch = checkpoint.get("partial_epoch") if checkpoint is not None else None  # written inside it
        return _Loop(ctx, sampler, drop_last, resumed_epoch)

    def _train_epoch(self, state: TrainingState, loop: _Loop, dataset: Dataset, epoch: int, progress, cancel) -> None:
        config, context = self.config, self.context
        loop.sampler.set_epoch(epoch)
        if hasattr(dataset, "set_epoch"):  # data sets that draw per-epoch variations (random crops)
            dataset.set_epoch(epoch)
        noise = loop.ctx.generator
        noise.manual_seed(derive_seed(config.seed, context.rank, epoch))
        done = _EpochProgress.resumed(loop.resumed_epoch, noise, derive_seed(config.seed, context.rank, epoch, 2),
                                      context.is_main)
        loop.resumed_epoch = None
        # The epoch's seeded order, less the batches a checkpoint inside it had already done. Skipping whole
        # batches keeps the remainder's length modulo the batch size, so drop_last drops the same last image.
        order = list(loop.sampler)[done.batches * config.batch_size:]
        loader = DataLoader(
            dataset, batch_size=config.batch_size, sampler=order, drop_last=loop.drop_last,
            num_workers=config.num_workers, worker_init_fn=_seed_worker, pin_memory=state.device.type == "cuda",
            generator=torch.Generator().manual_seed(derive_seed(config.seed, epoch, 1)),
        )
        loop.ctx.epoch = epoch
        started = time.perf_counter() - done.seconds
        for batch in loader:
            self._train_step(state, loop.ctx, batch, done, progress, cancel)
            if config.checkpoint_steps and state.global_step % config.checkpoint_steps == 0 \
                    and done.batches < state.steps_per_epoch:
                done.seconds = time.perf_counter() - started
                self._checkpoint(state, partial_epoch=done.to_state(noise))
            self._notify("on_step_end", state)
        seconds = time.perf_counter() - started
        means = {key: distributed.all_ranks_mean(value / state.steps_per_epoch, state.device, context)
                 for key, value in sorted(done.sums.items())}
        all_images = done.images * context.world_size
        state.history["epochs"].append({
            "epoch": epoch + 1, "step": state.global_step, **means, "seconds": round(seconds, 4),
            "images_per_second": round(all_images / max(seconds, 1e-9), 2)})
        loop.images += all_images
        loop.seconds += seconds
        loop.epochs += 1
        state.epochs_completed, state.epoch_batches = epoch + 1, 0
        if (epoch + 1) % config.checkpoint_every == 0 or epoch + 1 == config.epochs:
            self._checkpoint(state)
        self._notify("on_epoch_end", state)

    def _train_step(self, state: TrainingState, ctx: StepContext, batch, done: _EpochProgress, progress,
                    cancel) -> None:
        """One optimisation step of the task, then its losses in the history, the epoch's sums and the progress."""
        report(None, cancel, "train", state.global_step, state.total_steps)  # stop between steps when cancelled
        ctx.step = state.global_step
        losses = state.task.train_step(_to_device(batch, state.device), ctx)
        state.global_step += 1
        done.images += _batch_size(batch)
        epoch = state.epochs_completed + 1
        state.history["steps"].append({"epoch": epoch, "step": state.global_step, **losses})
        for key, value in losses.items():
            done.sums[key] = done.sums.get(key, 0.0) + float(value)
        state.last_losses = dict(losses)
        report(progress, None, "train", state.global_step, state.total_steps, f"epoch {epoch}/{self.config.epochs}",
               epoch=epoch, **{k: round(float(v), 5) for k, v in losses.items()})
        done.batches += 1
        state.epoch_batches = done.batches

    def _checkpoint(self, state: TrainingState, partial_epoch: dict | None = None) -> None:
        """A checkpoint: the callbacks' on_checkpoint on rank 0, with the RNG states taken first (nothing the
        callbacks do may change what the next step draws); then every rank waits for it."""
        if self.context.is_main:
            state.rng_states, state.partial_epoch = capture_rng_states(state.device), partial_epoch
            try:
                self._notify("on_checkpoint", state)
            finally:
                state.rng_states = state.partial_epoch = None
        distributed.barrier(self.context)

    def _finish(self, state: TrainingState, loop: _Loop) -> TrainingResult:
        self._notify("on_train_end", state)
        checkpoint = checkpoint_path(self.run_dir)
        result = TrainingResult(
            run_dir=self.run_dir,
            epochs_completed=state.epochs_completed,
            global_step=state.global_step,
            checkpoint=checkpoint if checkpoint.is_file() else None,
            files=self._file_names(),
            exported=state.exported,
            images_per_second=round(loop.images / loop.seconds, 2) if loop.seconds > 0 else 0.0,
            seconds_per_epoch=round(loop.seconds / loop.epochs, 4) if loop.epochs else 0.0,
            last_losses=state.last_losses,
        )
        distributed.barrier(self.context)
        return result

    def _notify(self, hook: str, state: TrainingState) -> None:
        """Call ``hook`` of every callback in order, on rank 0 only. Errors the library and the CLI already explain
        (bad input, cancel, a file-system problem) pass unchanged; any other is wrapped to name the callback."""
        if not self.context.is_main:
            return
        for callback in self.callbacks:
            try:
                getattr(callback, hook)(state)
            except (MedGANSynthError, OSError):
                raise
            except Exception as error:
                raise CallbackError(_callback_failure(callback, hook, state, error)) from error

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


def fit_in_run_folder(task: TrainingTask, dataset: Dataset, settings: Any, run_dir: Path, run_record: dict[str, Any],
                      context: DistributedContext, *, resume: bool, overwrite: bool, amp: bool = True,
                      progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> TrainingResult:
    """Every family's last step: take the run folder (training/run_file.training_run_folder's rules), write
    run.json from rank 0, and fit ``task`` with the run's epochs, batch, seed, device, checkpoints and workers."""
    from MedGANSynthLib.training.run_file import training_run_folder, write_run_file

    with training_run_folder(run_dir, context.is_main, device=settings.device, overwrite=overwrite, resume=resume):
        if context.is_main:
            write_run_file(run_dir, run_record)
        trainer = Trainer(TrainerConfig(run_dir=run_dir, epochs=settings.epochs, batch_size=settings.batch_size,
                                        seed=settings.seed, device=settings.device,
                                        checkpoint_every=settings.checkpoint_every,
                                        checkpoint_steps=settings.checkpoint_steps, resume=resume, amp=amp,
                                        num_workers=settings.workers), context)
        return trainer.fit(task, dataset, progress=progress, cancel=cancel)


def _callback_failure(callback: TrainerCallback, hook: str, state: TrainingState, error: Exception) -> str:
    where = f"epoch {state.epochs_completed + (1 if state.epoch_batches else 0)}, step {state.global_step}"
    checkpoint = checkpoint_path(state.run_dir)
    kept = (f"the last checkpoint '{checkpoint}' is kept; resume from it" if checkpoint.is_file()
            else "no checkpoint was written yet")
    return (f"Training stopped at {where}: the callback {type(callback).__name__}.{hook} failed "
            f"({type(error).__name__}: {error}); {kept}.")


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
