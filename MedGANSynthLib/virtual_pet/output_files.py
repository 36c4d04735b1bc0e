"""The stable names of the files :func:`~MedGANSynthLib.virtual_pet.pipeline.run_virtual_pet` writes.

One place for the writer and for every reader of its folder (the Slicer bridge loads them back); no torch here.
"""

OUTPUT_FILES = {
    "virtual_pet": "virtual_pet.nrrd",
    "fcn": "fcn.nrrd",
    "gan": "gan.nrrd",
    "uncertainty": "uncertainty.nrrd",
    "lesion_labels": "lesion_labels.nrrd",
    "lesions_csv": "lesions.csv",
    "lesions_json": "lesions.json",
    "summary": "summary.json",
}
