"""Training: one generic engine (:mod:`.engine`) shared by every model, plus the GAN task, losses and data sets."""

from MedGANSynthLib.training.engine import StepContext, Trainer, TrainerConfig, TrainingResult, TrainingTask

__all__ = ["StepContext", "Trainer", "TrainerConfig", "TrainingResult", "TrainingTask"]
