"""Only the build step pyproject.toml cannot declare: ship the bundled models inside the wheel.

The models live in ``Resources/Models`` (the Slicer module and the source tree read them there, and the top level
of the repository is fixed). A wheel has no ``Resources/``, so ``build_py`` also copies them into the package as
``MedGANSynthLib/bundled_models/``, where :func:`MedGANSynthLib.weights.catalogue.models_folder` finds them in a
plain ``pip install .``. Everything else about the package is in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MODELS = Path(__file__).resolve().parent / "Resources" / "Models"
MODEL_PATTERNS = ("*.safetensors", "*.json", "*.md")
PACKAGE_FOLDER = Path("MedGANSynthLib") / "bundled_models"


class BuildPyWithModels(build_py):
    """build_py plus the bundled models (tensors, model cards, catalogue) as package data."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads Resources/Models in the source tree
            return
        target = Path(self.build_lib) / PACKAGE_FOLDER
        self.mkpath(str(target))
        for file in self._model_files():
            self.copy_file(str(file), str(target / file.name))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if not self.editable_mode:
            outputs += [str(Path(self.build_lib) / PACKAGE_FOLDER / file.name) for file in self._model_files()]
        return outputs

    @staticmethod
    def _model_files() -> list[Path]:
        return sorted(file for pattern in MODEL_PATTERNS for file in MODELS.glob(pattern))


setup(cmdclass={"build_py": BuildPyWithModels})
