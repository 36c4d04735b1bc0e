"""Everything the MedGANSynth panel can do, one method per button, usable without the panel.

The Slicer module's Logic inherits this class; the same methods serve Slicer's Python console, headless batch
scripts (``Slicer --no-main-window --python-script``) and plain Python with ``slicer-core`` from PyPI::

    logic = MedGANSynthLogic()
    suv = logic.computeSUV("/data/PET", weightKg=72)
    mip = logic.computeMIP(suv, axis="coronal")
    result = logic.predictVirtualPET(ctNode, modelId="virtual-pet-phantom")

Names are camelCase like Slicer's own logic classes, so a script writer can guess them. No Qt here: long work
runs as a child process (:mod:`MedGANSynthLib.mrml.job_runner`); ``wait=False`` returns a :class:`LogicJob` that the
panel polls from a timer with :meth:`MedGANSynthLogic.processJob`, ``wait=True`` blocks (scripts and tests).
Library parts are imported where they are used, so torch is loaded only by the actions that need it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from MedGANSynthLib.cyclegan.training_settings import CycleGANTrainingSettings
from MedGANSynthLib.errors import InputError
from MedGANSynthLib.gan.training_settings import GanTrainingSettings
from MedGANSynthLib.jobs.progress import Progress
from MedGANSynthLib.mrml.display import show_mip
from MedGANSynthLib.mrml.logic_jobs import JobControl, LogicJob, ProgressHandler, child_python  # noqa: F401 -- public here
from MedGANSynthLib.mrml.logic_pet import PETActions, PETNodes  # noqa: F401 -- public here
from MedGANSynthLib.mrml.logic_virtual_pet import (  # noqa: F401 -- public here
    VIRTUAL_PET_OUTPUTS,
    VirtualPETActions,
    VirtualPETNodes,
)
from MedGANSynthLib.mrml.node_warnings import WARNINGS_ATTRIBUTE, attach_warnings  # noqa: F401 -- scripts import it here
from MedGANSynthLib.mrml.plots import loss_plot, update_loss_plot
from MedGANSynthLib.mrml.scene import resolve_scene
from MedGANSynthLib.mrml.sequences import frame_volume_node, sequence_from_volumes
from MedGANSynthLib.training.settings import settings_argv

# --- the logic ---------------------------------------------------------------------------------------------------


class MedGANSynthLogic(PETActions, VirtualPETActions, JobControl):
    """Panel actions as methods, working in ``scene``.

    Without a scene it uses ``slicer.mrmlScene``: Slicer's own inside the application, the one a script set, or
    else (plain Python) a headless scene with the logic classes Slicer's volume and colour code need.
    """

    def __init__(self, scene=None) -> None:
        self._scene = scene
        self.currentJob: LogicJob | None = None
        self.lastWarnings: list[str] = []  # warnings of the last computeSUV or virtual PET

    @property
    def scene(self):
        return resolve_scene(getattr(self, "_scene", None))

    # --- synthesis ------------------------------------------------------------------------------------------

    def sampleGAN(self, modelId: str, className: str | None = None, count: int = 8, seed: int = 0,
                  device: str = "auto"):
        """``count`` images of a GAN as a sequence (same seed, same images); returns the browser node."""
        from MedGANSynthLib.gan.sampling import sample_images

        generator, card = _load_generator(modelId, device)
        images = sample_images(generator, _class_or_none(className), int(count), int(seed), device,
                               class_names=card.class_names)
        label = className or (card.class_names[0] if len(card.class_names) == 1 else card.architecture)
        return self._image_sequence(images, card, f"{label} samples (seed {seed})", "frame")

    def latentWalk(self, modelId: str, steps: int = 10, seedA: int = 0, seedB: int = 1,
                   classA: str | None = None, classB: str | None = None, device: str = "auto"):
        """Images along the latent line from (seedA, classA) to (seedB, classB) as a sequence; returns the browser."""
        from MedGANSynthLib.gan.latent_walk import latent_walk

        generator, card = _load_generator(modelId, device)
        images = latent_walk(generator, int(steps), int(seedA), int(seedB), _class_or_none(classA),
                             _class_or_none(classB), device=device, class_names=card.class_names)
        return self._image_sequence(images, card, f"latent walk {seedA}->{seedB}", "step")

    def _image_sequence(self, images, card, name: str, index_name: str):
        from MedGANSynthLib.gan.outputs import centre_channel, display_settings, sample_volume
        from MedGANSynthLib.gan.sampling import to_physical

        physical = centre_channel(to_physical(images, card))  # brain models make slice triplets: keep the centre
        volumes = [sample_volume(image, card) for image in physical]
        _, browser = sequence_from_volumes(volumes, self.scene, name, index_name)
        show_mip(frame_volume_node(browser), window=display_settings(card)["window"])
        return browser

    def modelCatalogue(self, task: str | None = None) -> list:
        """Bundled models (catalogue entries with id, title, task, classes), optionally of one task."""
        from MedGANSynthLib.weights.catalogue import load_catalogue

        return [entry for entry in load_catalogue() if task is None or entry.task == task]

    # --- training -------------------------------------------------------------------------------------------

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

# --- helpers -----------------------------------------------------------------------------------------------------


def _class_or_none(name):
    return None if name in (None, "") else name


def _load_generator(model_id: str, device: str):
    """(generator, card) of a catalogue id or a ``.safetensors`` path; thin so a library API change is one line."""
    from MedGANSynthLib.weights.catalogue import resolve_model
    from MedGANSynthLib.weights.safetensors_io import load_gan

    generator, _, card = load_gan(resolve_model(model_id, "gan"), device, with_discriminator=False)
    return generator, card
