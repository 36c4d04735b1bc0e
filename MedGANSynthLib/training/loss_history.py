"""The run's loss history on disk: tables (CSV, JSON) and a curve (PNG), rewritten at every checkpoint.

    losses_steps.csv     one row per optimisation step
    losses_epochs.csv    one row per epoch (mean losses, seconds, images/second)
    losses.json          both tables
    loss_curve.png       step losses and epoch means
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from MedGANSynthLib.io.atomic import atomic_output
from MedGANSynthLib.training.callbacks import TrainerCallback, TrainingState


class LossTableWriter(TrainerCallback):
    """losses_steps.csv, losses_epochs.csv and losses.json at every checkpoint."""

    def on_checkpoint(self, state: TrainingState) -> None:
        write_loss_tables(state.history, state.run_dir)


class LossCurveWriter(TrainerCallback):
    """loss_curve.png at every checkpoint."""

    def on_checkpoint(self, state: TrainingState) -> None:
        write_loss_curve(state.history, state.run_dir / "loss_curve.png")


def write_loss_tables(history: dict[str, list[dict[str, Any]]], run_dir: Path) -> None:
    """losses_steps.csv, losses_epochs.csv and losses.json (atomically)."""
    for name, rows in (("losses_steps.csv", history["steps"]), ("losses_epochs.csv", history["epochs"])):
        columns: list[str] = []
        for row in rows:
            columns.extend(key for key in row if key not in columns)
        with atomic_output(run_dir / name) as temp, open(temp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    with atomic_output(run_dir / "losses.json") as temp:
        temp.write_text(json.dumps(history, indent=1))


def write_loss_curve(history: dict[str, list[dict[str, Any]]], path: Path) -> None:
    """Step losses (thin) and epoch means (dots) per loss name, with the Agg backend (no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    reserved = {"epoch", "step", "seconds", "images_per_second"}
    names = [key for key in (history["steps"][0] if history["steps"] else {}) if key not in reserved]
    for index, name in enumerate(names):
        colour = f"C{index % 10}"
        axes.plot([row["step"] for row in history["steps"]], [row[name] for row in history["steps"]],
                  color=colour, alpha=0.35, linewidth=0.8)
        axes.plot([row["step"] for row in history["epochs"]], [row.get(name, float("nan")) for row in history["epochs"]],
                  "o-", color=colour, markersize=3, label=name)
    axes.set_xlabel("step")
    axes.set_ylabel("loss / mean logit")
    axes.grid(alpha=0.3)
    if names:
        axes.legend(loc="best", fontsize=8)
    figure.tight_layout()
    with atomic_output(path) as temp:
        figure.savefig(temp, format="png")
