"""The smallest stand-in for Slicer's SampleData module (``Modules/Scripted/SampleData``), which is not part of
``../shared/slicer-python`` (that holds ``Base/Python/slicer`` only).

It keeps what an extension and the Sample Data panel use, with Slicer's names and argument order: a registered
source goes into ``slicer.modules.sampleDataSources[category]`` (once), and the panel's button for a source with a
``customDownloader`` calls ``customDownloader(source)`` (``press``); ``sampleDataSourcesByCategory`` lists them. Downloading and file loading are left out: a
MedGANSynth phantom is never downloaded.
"""

from __future__ import annotations

import sys
import types


class SampleDataSource:
    def __init__(self, sampleName=None, sampleDescription=None, uris=None, fileNames=None, nodeNames=None,
                 checksums=None, loadFiles=None, customDownloader=None, thumbnailFileName=None, loadFileType=None,
                 loadFileProperties=None):
        listed = lambda value: list(value) if isinstance(value, (list, tuple)) else [value]  # noqa: E731
        self.sampleName, self.sampleDescription = sampleName, sampleDescription or sampleName
        self.uris, self.fileNames = listed(uris), listed(fileNames)
        self.nodeNames = listed(nodeNames) if nodeNames is not None else [None] * len(self.uris)
        self.customDownloader, self.thumbnailFileName = customDownloader, thumbnailFileName
        self.loadFileType, self.loadFiles, self.checksums = listed(loadFileType), listed(loadFiles), listed(checksums)
        self.loadFileProperties = loadFileProperties or {}
        if not len(self.uris) == len(self.fileNames) == len(self.nodeNames):  # Slicer raises the same way
            raise ValueError("All fields of sample data source must have the same length")


class SampleDataLogic:
    @staticmethod
    def registerCustomSampleDataSource(category="Custom", sampleName=None, uris=None, fileNames=None,
                                       nodeNames=None, customDownloader=None, thumbnailFileName=None,
                                       loadFileType="VolumeFile", loadFiles=None, loadFileProperties={},  # noqa: B006
                                       checksums=None):
        import slicer

        sources = vars(slicer.modules).setdefault("sampleDataSources", {}).setdefault(category, [])
        source = SampleDataSource(sampleName=sampleName, uris=uris, fileNames=fileNames, nodeNames=nodeNames,
                                  thumbnailFileName=thumbnailFileName, loadFileType=loadFileType, loadFiles=loadFiles,
                                  loadFileProperties=loadFileProperties, checksums=checksums,
                                  customDownloader=customDownloader)
        if all(vars(source) != vars(known) for known in sources):  # Slicer compares every field (as text)
            sources.append(source)

    @staticmethod
    def sampleDataSourcesByCategory(category=None):
        import slicer

        sources = vars(slicer.modules).setdefault("sampleDataSources", {})
        return sources if category is None else sources.get(category, [])


def press(source):
    """What the Sample Data panel's button does for a source with a custom downloader."""
    return source.customDownloader(source)


def install():
    """Make ``import SampleData`` give this stand-in; returns the module (remove it from sys.modules after)."""
    module = types.ModuleType("SampleData", __doc__)
    module.SampleDataSource, module.SampleDataLogic = SampleDataSource, SampleDataLogic
    sys.modules["SampleData"] = module
    return module
