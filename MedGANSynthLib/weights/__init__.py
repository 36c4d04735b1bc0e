"""GAN weights on disk: safetensors tensors + a JSON model card; loading never unpickles."""

from MedGANSynthLib.weights.model_card import ModelCard, phantom_training_data
from MedGANSynthLib.weights.safetensors_io import load_gan, save_model

__all__ = ["ModelCard", "load_gan", "phantom_training_data", "save_model"]
