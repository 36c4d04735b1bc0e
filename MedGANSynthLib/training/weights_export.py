"""At the end of training: the task's own export (weights and model card), in eval mode."""

from __future__ import annotations

from MedGANSynthLib.training.callbacks import TrainerCallback, TrainingState, evaluation_mode


class WeightsExporter(TrainerCallback):
    """Calls ``task.export(run_dir, summary)`` when the task has one; the files it returns go to ``state.exported``."""

    def on_train_end(self, state: TrainingState) -> None:
        if not hasattr(state.task, "export"):
            return
        config, history = state.config, state.history
        summary = {"epochs": state.epochs_completed, "global_step": state.global_step,
                   "final_epoch_losses": history["epochs"][-1] if history["epochs"] else {},
                   "seed": config.seed, "batch_size": config.batch_size, "world_size": state.context.world_size}
        with evaluation_mode(state.modules):
            state.exported = [str(path) for path in (state.task.export(state.run_dir, summary) or [])]
