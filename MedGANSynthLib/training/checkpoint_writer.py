"""checkpoints/checkpoint_last.pt at every checkpoint: what a resumed run needs to continue exactly."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from MedGANSynthLib.training.callbacks import TrainerCallback, TrainingState
from MedGANSynthLib.training.checkpoint import checkpoint_path, save_checkpoint


class CheckpointWriter(TrainerCallback):
    """Modules, optimisers, grad scalers, RNG states, epoch/step (and how far a running epoch got), history, the
    task's extra state and the trainer's settings. List it after the callbacks whose files belong beside it."""

    def on_checkpoint(self, state: TrainingState) -> None:
        save_checkpoint({
            "epoch": state.epochs_completed,
            "partial_epoch": state.partial_epoch,
            "global_step": state.global_step,
            "modules": {name: module.state_dict() for name, module in state.modules.items()},
            "optimizers": {name: optimizer.state_dict() for name, optimizer in state.optimizers.items()},
            "scalers": {name: scaler.state_dict() for name, scaler in state.scalers.items()},
            "rng": state.rng_states,
            "history": state.history,
            "task": state.task.extra_state() if hasattr(state.task, "extra_state") else {},
            "config": {key: (str(value) if isinstance(value, Path) else value)
                       for key, value in asdict(state.config).items()},
        }, checkpoint_path(state.run_dir))
