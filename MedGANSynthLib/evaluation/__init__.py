"""Shared image metrics: an in-domain judge classifier, Fréchet distance, precision/recall, memorisation audit,
PSNR/SSIM, joint histograms, train-on-synthetic-test-on-real. The GAN report is :mod:`MedGANSynthLib.gan.report`."""

from MedGANSynthLib.evaluation.classifier import ImageClassifier, embed_images, fit_classifier, predict_labels
from MedGANSynthLib.evaluation.frechet import frechet_distance, frechet_distance_from_statistics
from MedGANSynthLib.evaluation.image_similarity import psnr, similarity_to_nearest_real, ssim
from MedGANSynthLib.evaluation.joint_histogram import (
    joint_histogram,
    mutual_information,
    save_joint_histogram_png,
)
from MedGANSynthLib.evaluation.memorisation import MemorisationAudit, memorisation_audit
from MedGANSynthLib.evaluation.precision_recall import PrecisionRecall, precision_recall
from MedGANSynthLib.evaluation.tstr import TstrResult, train_synthetic_test_real

__all__ = [
    "ImageClassifier",
    "MemorisationAudit",
    "PrecisionRecall",
    "TstrResult",
    "embed_images",
    "fit_classifier",
    "frechet_distance",
    "frechet_distance_from_statistics",
    "joint_histogram",
    "memorisation_audit",
    "mutual_information",
    "precision_recall",
    "predict_labels",
    "psnr",
    "save_joint_histogram_png",
    "similarity_to_nearest_real",
    "ssim",
    "train_synthetic_test_real",
]
