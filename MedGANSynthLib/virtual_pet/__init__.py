"""Virtual PET from CT (Ben-Cohen et al.): FCN-4s + pix2pix fused by Laplacian-pyramid blending.

Modules: :mod:`.losses` (SUV-weighted L2, adversarial BCE), :mod:`.blending` (pyramid blending in torch),
:mod:`.inference` (whole-volume slab inference on the CT grid), :mod:`.lesions` (lesion candidates and their
CSV/JSON files), :mod:`.detection_metrics` (the paper's detection rule, SSIM/PSNR/MAE).
"""
