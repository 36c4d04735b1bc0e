"""Version 6: the unenhanced CT's noise SD band, measured on the real PET/CT CTs in ../shared/data.

REFERENCE.md, "Version 6: CT noise". Versions 2-5 draw the unenhanced noise SD from 15-40 HU (†, no PET/CT source),
which on the phantom's 4 mm voxels measures 13.8-16.8 HU with :func:`MedGANSynthLib.evaluation.ct_noise.
soft_tissue_noise_sd`, against 6.0 HU on the PET/CT scanner's thorax CT in ../shared/data block-averaged to those
voxels and 10.5 HU on the small torso CT at 3 mm. Version 6 draws the SD from the widest band, in whole HU, over
which each of eight calibration subjects (version 5, 4 mm grid, the drawn SD set to 0-15 HU) measures inside
6.0-10.5 HU. The measure is not the drawn SD (it adds the tissue texture, blurred white noise as well, and its
20-80 HU window cuts a noisy image's tails), so the band is read off those curves, not scaled by one ratio.
The portal-venous (diagnostic CT) band stays version 5's.
"""

from MedGANSynthLib.phantoms.values_v2 import CT_NOISE_SD

CT_NOISE_SD_V6 = CT_NOISE_SD | {"none": (3.0, 8.0)}
