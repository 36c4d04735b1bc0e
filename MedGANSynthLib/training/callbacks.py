"""What the trainer tells the code around it: the hooks a callback may implement and the state they are given.

The :class:`~MedGANSynthLib.training.engine.Trainer` calls, on rank 0 only (the process that writes files) and in
the order its callbacks are listed:

* ``on_step_end(state)`` after every optimisation step (its losses are in ``state.last_losses``);
* ``on_checkpoint(state)`` at every checkpoint (every ``checkpoint_every`` epochs, every ``checkpoint_steps`` steps
  and after the last epoch): the default callbacks write the loss tables, the loss curve, the sample picture and,
  last, the checkpoint itself, so a checkpoint on disk always has its tables and picture beside it;
* ``on_epoch_end(state)`` after every epoch (its mean losses are ``state.history["epochs"][-1]``), after the
  epoch's checkpoint;
* ``on_train_end(state)`` once, when every epoch is done (the default exports the task's weights and card).

A callback only reads the state (``exported`` aside) and must not draw from the global random generators: the next
step draws from them, and a resumed run would otherwise differ from an uninterrupted one. A callback that raises
stops training; the checkpoint already on disk stays as it was, so the run can continue from it with ``resume``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch import nn

from MedGANSynthLib.errors import MedGANSynthError

if TYPE_CHECKING:
    import torch

    from MedGANSynthLib.training.distributed import DistributedContext
    from MedGANSynthLib.training.engine import TrainerConfig, TrainingTask


class TrainerCallback:
    """Base class: override the hooks you need; the others do nothing."""

    def on_step_end(self, state: TrainingState) -> None:
        pass

    def on_checkpoint(self, state: TrainingState) -> None:
        pass

    def on_epoch_end(self, state: TrainingState) -> None:
        pass

    def on_train_end(self, state: TrainingState) -> None:
        pass


@dataclass
class TrainingState:
    """The run as the trainer sees it when it calls a hook."""

    run_dir: Path
    config: TrainerConfig
    context: DistributedContext
    device: torch.device
    task: TrainingTask
    modules: dict[str, nn.Module]  # unwrapped (no DDP), on ``device``
    optimizers: dict[str, torch.optim.Optimizer]
    scalers: dict[str, torch.amp.GradScaler]
    history: dict[str, list[dict[str, Any]]]  # "steps": one row per step, "epochs": one row per epoch
    steps_per_epoch: int
    total_steps: int
    epochs_completed: int = 0  # whole epochs done; the running epoch is number epochs_completed + 1
    epoch_batches: int = 0  # optimisation steps done in the running epoch (0 at an epoch's end)
    global_step: int = 0  # optimisation steps done in the whole run
    last_losses: dict[str, float] = field(default_factory=dict)
    # Set only during on_checkpoint: RNG states taken before any callback ran, and (inside an epoch) how far the
    # epoch got; a resumed run continues from exactly these.
    rng_states: dict[str, Any] | None = None
    partial_epoch: dict[str, Any] | None = None
    exported: list[str] = field(default_factory=list)  # files the end of training wrote (weights, card)


class CallbackError(MedGANSynthError):
    """A training callback failed; training stopped and the last checkpoint on disk is kept."""


@contextlib.contextmanager
def evaluation_mode(modules: dict[str, nn.Module]) -> Iterator[None]:
    """Eval mode for pictures/export (no batch-norm statistics updated), then back to each module's mode."""
    modes = {name: module.training for name, module in modules.items()}
    for module in modules.values():
        module.eval()
    try:
        yield
    finally:
        for name, module in modules.items():
            module.train(modes[name])
