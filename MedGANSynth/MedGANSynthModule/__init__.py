"""The parts of the MedGANSynth Slicer module, one concept a file; ``MedGANSynth.py`` beside this folder is the
entry point Slicer loads, and it imports the module's classes from here.

A folder, not files beside ``MedGANSynth.py``: Slicer takes every ``.py`` file in a scripted-module folder for a
module of its own, and it appends that folder to ``sys.path``, so this package imports as ``MedGANSynthModule``.
"""
