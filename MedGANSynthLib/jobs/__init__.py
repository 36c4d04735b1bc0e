"""Long-running work: progress reporting, cancellation and the background-process runner."""

from MedGANSynthLib.jobs.progress import CancelToken, Progress, ProgressCallback, report

__all__ = ["CancelToken", "Progress", "ProgressCallback", "report"]
