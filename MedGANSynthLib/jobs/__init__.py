"""Long-running work: progress reporting and cancellation (the background-process runner is :mod:`MedGANSynthLib.mrml.job_runner`)."""

from MedGANSynthLib.jobs.progress import CancelToken, Progress, ProgressCallback, report

__all__ = ["CancelToken", "Progress", "ProgressCallback", "report"]
