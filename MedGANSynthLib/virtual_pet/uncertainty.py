"""How many Monte-Carlo-dropout passes make the virtual PET's uncertainty volume when the user asks for one.

The uncertainty volume is the voxel-wise standard deviation of that many runs of the pix2pix generator with dropout
on (:mod:`MedGANSynthLib.virtual_pet.inference`, ``VirtualPETConfig.uncertainty_passes``). The CLI
(``--uncertainty`` without N) and the Slicer Logic (``predictVirtualPET(uncertainty=True)``, the panel's
"Uncertainty map" box) read the default from here. No torch here: the Slicer Logic imports this before torch is
installed.
"""

DEFAULT_UNCERTAINTY_PASSES = 8
