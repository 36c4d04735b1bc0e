"""CycleGAN (Zhu et al. 2017, seed 003): unpaired image-to-image translation between two folders of images."""
