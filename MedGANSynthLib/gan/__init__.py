"""The GAN feature: training task, data-set builders, sampling and latent walks, evaluation run and report.

The architectures live in :mod:`MedGANSynthLib.networks` (the weight reader builds them by name). Nothing is
imported here, so light submodules (``dataset_builders``) load without torch.
"""
