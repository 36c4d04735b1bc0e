"""The Logic's training section: ``medgansynth train`` / ``train-cyclegan`` in a child process, with a live loss plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from MedGANSynthLib.cyclegan.training_settings import CycleGANTrainingSettings
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.gan.training_settings import GanTrainingSettings
from MedGANSynthLib.jobs.progress import Progress
from MedGANSynthLib.mrml.logic_jobs import ProgressHandler
from MedGANSynthLib.mrml.plots import loss_plot, update_loss_plot
from MedGANSynthLib.training.settings import settings_argv


class TrainingActions:
    """Part of :class:`~MedGANSynthLib.mrml.logic.MedGANSynthLogic`, which gives ``scene`` and the job control
    (:class:`~MedGANSynthLib.mrml.logic_jobs.JobControl`)."""

    def trainModel(self, architecture: str, dataFolder, outputFolder, epochs: int, batchSize: int,
                   learningRate: float | None = None, resume: bool = False, wait: bool = False,
                   progress: ProgressHandler | None = None, device: str = "auto", extraArgs: Sequence[str] = (),
                   initWeights: str | None = None):
        """Train a GAN in a child process with a live loss plot; returns the job (its ``chart`` is the plot).

        ``architecture="cyclegan"`` runs ``medgansynth train-cyclegan`` on ``dataFolder`` = (folder A, folder B).
        ``extraArgs`` are passed on to ``medgansynth train`` (e.g. ``["--image-size", "64", "--loss", "wgan-gp"]``).
        ``initWeights`` (a bundled model id or a .safetensors file) fine-tunes those weights instead of starting
        from random ones. With ``wait=True`` it blocks and returns ``{"runFolder", "history", "chart"}``.
        """
        args = _training_argv(architecture, dataFolder, outputFolder, epochs, batchSize, learningRate, resume,
                              device, extraArgs, initWeights)
        history: list[dict] = []
        chart = None

        def add_losses(event: Progress) -> None:
            nonlocal chart
            losses = {k: v for k, v in event.values.items() if k != "epoch" and isinstance(v, (int, float))}
            if event.stage != "train" or not losses:
                return
            history.append({"step": event.done, **losses})
            if chart is None:
                chart = job.chart = loss_plot(history, self.scene, f"{architecture} training loss")
            else:
                update_loss_plot(chart, history)

        job = self._start(f"Training {architecture}", args, lambda: {"runFolder": str(outputFolder),
                                                                       "history": history, "chart": chart},
                          progress=progress, on_event=add_losses)
        return self.waitForJob(job) if wait else job


def _training_argv(architecture, dataFolder, outputFolder, epochs, batchSize, learningRate, resume, device,
                   extraArgs, initWeights) -> list[str]:
    """The ``medgansynth`` arguments of :meth:`TrainingActions.trainModel` (its argument names)."""
    cyclegan = architecture == "cyclegan"  # dataFolder is then the pair (folder A, folder B): train-cyclegan
    if cyclegan:
        if initWeights or (dataFolder and (isinstance(dataFolder, (str, Path)) or len(dataFolder) != 2)):
            raise InputError("A CycleGAN trains from scratch on two unpaired folders: pass (folder A, folder B).")
        folder_a, folder_b = (str(dataFolder[0]), str(dataFolder[1])) if dataFolder else (None, None)
        args = ["train-cyclegan", *settings_argv(CycleGANTrainingSettings(
            output=str(outputFolder), data_a=folder_a, data_b=folder_b, epochs=int(epochs),
            lr=float(learningRate) if learningRate else None, device=device,
            **({} if resume else {"batch_size": int(batchSize)})))]  # a resumed run keeps its batch
    else:  # the flags come from the settings' fields, so their names cannot drift from the command's
        args = ["train", *settings_argv(GanTrainingSettings(
            output=str(outputFolder), architecture=architecture, data=str(dataFolder) if dataFolder else None,
            epochs=int(epochs), batch_size=None if resume else int(batchSize),  # a resumed run keeps its batch
            lr=float(learningRate) if learningRate else None, device=device,
            init_weights=str(initWeights) if initWeights else None))]
    if resume:
        args.append("--resume")
    args += [str(a) for a in extraArgs]
    return args
