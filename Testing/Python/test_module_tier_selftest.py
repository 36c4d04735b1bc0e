"""The module's own self-test and its dependency installer, on Slicer's own Python layer (5.10.0 and main)."""

from __future__ import annotations

import inspect
import unittest

import pytest
from slicer_module_support import scene, slicer_env  # noqa: F401 -- fixtures

pytestmark = [pytest.mark.slicer_module, pytest.mark.mrml, pytest.mark.slow]


def test_each_self_test_method_runs_alone_in_any_order(slicer_env, scene):
    """ctest runs the test_ methods one at a time in name order; each must ensure what it needs itself."""
    slicer_env.app.testing = True
    case = slicer_env.module.MedGANSynthTest
    names = sorted((n for n in dir(case) if n.startswith("test_")), reverse=True)
    assert len(names) == 3
    for name in names:
        result = unittest.TestResult()
        unittest.TestSuite([case(name)]).run(result)
        assert result.errors == [] and result.failures == [], (name, result.errors, result.failures)
        assert result.testsRun == 1 and result.skipped == [], name


def test_the_installer_calls_slicers_pip_ensure_with_arguments_it_has(slicer_env):
    """On Slicer main (5.11/5.12+) the module installs through slicer.packaging.pip_ensure without a second prompt;
    5.10 has no slicer.packaging and the module falls back to slicer.util.pip_install."""
    import importlib

    source = inspect.getsource(slicer_env.module.MedGANSynthLogic._pipInstall)
    assert "prompt_install=False" in source
    if slicer_env.version == "5.10.0":
        with pytest.raises(ImportError):
            importlib.import_module("slicer.packaging")
        assert callable(slicer_env.slicer.util.pip_install)
        return
    pip_ensure = importlib.import_module("slicer.packaging").pip_ensure
    inspect.signature(pip_ensure).bind(["tqdm>=4.66"], skip_packages=["numpy"], prompt_install=False,
                                       skip_in_testing=False, requester="MedGANSynth")
