"""``python -m MedGANSynthLib`` (and ``PythonSlicer -m MedGANSynthLib`` inside Slicer) runs the CLI."""

from MedGANSynthLib.cli.main import main

raise SystemExit(main())
