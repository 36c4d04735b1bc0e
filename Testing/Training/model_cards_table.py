"""Print a one-row-per-model summary table of the bundled models from their JSON cards (the numbers are the cards' own;
the full Markdown card beside each model is written by model_card_markdown.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

MODELS = Path(__file__).resolve().parents[2] / "Resources" / "Models"


def _fmt(value, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _epochs(card: dict) -> str:
    """A fine-tuned model's epochs as 'source + own' (its card counts only the fine-tune's own)."""
    source = card["metrics"].get("training", {}).get("init_weights")
    return f"{source['epochs']} + {card['epochs']}" if source else str(card["epochs"])


def gan_row(entry: dict, card: dict) -> str:
    results = card["metrics"].get("heldout_evaluation", {}).get("results", {})
    if results.get("judge") is None:  # one class (the CT GAN): no judge, so no class accuracy nor TSTR
        return single_class_gan_row(entry, card, results)
    # A one-stage model (brain DCGAN) was judged with its sibling stages: show its own stage's numbers.
    own = results.get("per_class", {}).get(card["class_names"][0]) if len(card["class_names"]) == 1 else None
    overall = own or results.get("overall", {})
    accuracy = overall.get("class_accuracy")
    memo = overall.get("memorisation", {}).get("ratio_pixel")
    tstr = results.get("tstr", {})
    seeds = card["metrics"].get("tstr_over_seeds")  # the same comparison repeated over classifier seeds
    over_seeds = (f" (mean of {len(seeds['seeds'])} seeds: {_fmt(seeds['mean_real_only'])} → "
                  f"{_fmt(seeds['mean_real_plus_synthetic'])}, gain sd {_fmt(seeds['sd_gain'])})" if seeds else "")
    judges = results["judge"].get("count", 1)
    panel = f"mean of {judges} judges; " if judges > 1 else ""
    per_class = results.get("per_class", {})
    worst = min(per_class, key=lambda name: per_class[name]["class_accuracy"]) if own is None and per_class else None
    worst_text = f", worst class {worst} {_fmt(per_class[worst]['class_accuracy'])}" if worst else ""
    return (f"| `{entry['id']}` | {card['architecture']} | {_epochs(card)} | {', '.join(card['class_names'])} | "
            f"class accuracy {_fmt(accuracy)}{worst_text} ({panel}judge on held-out real: "
            f"{_fmt(results['judge'].get('heldout_real_accuracy'))}); memorisation ratio {_fmt(memo)}; "
            f"TSTR real {_fmt(tstr.get('real_only'))} → real+synthetic {_fmt(tstr.get('real_plus_synthetic'))}"
            f"{over_seeds} |")


def single_class_gan_row(entry: dict, card: dict, results: dict) -> str:
    (section,) = results.get("per_class", {}).values()
    similarity = section["similarity_to_nearest_train"]
    return (f"| `{entry['id']}` | {card['architecture']} | {card['epochs']} | — | "
            f"memorisation ratio {_fmt(section['memorisation']['ratio_pixel'])}; SSIM to nearest training slice "
            f"{_fmt(similarity['generated']['ssim_mean'])} (held-out real: "
            f"{_fmt(similarity['floor_heldout']['ssim_mean'])}); no class, so no judge or TSTR |")


def virtual_pet_cells(held: dict) -> list[str]:
    cells = []
    for method in ("fcn", "gan", "blended"):
        m = held.get(method, {})
        cells.append(f"{method}: TPR {_fmt(m.get('tpr'))} (focal {_fmt(m.get('tpr_focal'))}), "
                     f"FP/scan {_fmt(m.get('fp_per_scan'), 1)}, "
                     f"SSIM {_fmt(m.get('ssim'))}")
    if "true_pet" in held:  # what a perfect prediction would score on the same scans
        ceiling = held["true_pet"]
        cells.append(f"the true PET itself: TPR {_fmt(ceiling['tpr'])} (focal {_fmt(ceiling['tpr_focal'])})")
    return cells


def virtual_pet_row(entry: dict, card: dict) -> str:
    held = card["metrics"].get("heldout", {})
    parts = [f"{held.get('scans')} held-out scans: {'; '.join(virtual_pet_cells(held))}"]
    for key, region_scores in sorted(card["metrics"].items()):
        if key.startswith("heldout_") and "region" in region_scores:  # written by evaluate-virtual-pet --region
            lesions = region_scores.get("blended", {}).get("true_lesions")
            parts.append(f"{region_scores['region']} only, {region_scores.get('scans')} other held-out scans with "
                         f"{lesions} {region_scores['region']} lesions: "
                         f"{'; '.join(virtual_pet_cells(region_scores))}")
    return (f"| `{entry['id']}` | {card['architecture']} | {card['epochs']} | — | {'. '.join(parts)} |")


def main() -> None:
    catalogue = json.loads((MODELS / "catalogue.json").read_text())
    print("| id | architecture | epochs | classes | held-out phantom metrics |")
    print("|---|---|---|---|---|")
    for entry in catalogue["models"]:
        card = json.loads((MODELS / entry["file"]).with_suffix(".json").read_text())
        print(gan_row(entry, card) if entry["task"] == "gan" else virtual_pet_row(entry, card))


if __name__ == "__main__":
    sys.exit(main())
