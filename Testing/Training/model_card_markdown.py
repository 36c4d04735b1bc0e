"""Write (or check) the Markdown model card beside each bundled model: ``Resources/Models/<name>.md``.

The numbers come from the JSON card beside the weights (``<name>.json``) and nothing else, so the two cannot drift
apart: only the block between the GENERATED markers is rewritten; the hand-written sections around it (pictures,
limits, how the model was chosen) are kept. A missing card gets a title, the phantom notice and the block.

    python Testing/Training/model_card_markdown.py           # rewrite the generated blocks
    python Testing/Training/model_card_markdown.py --check   # exit 1 if any card differs from its JSON
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

MODELS = Path(__file__).resolve().parents[2] / "Resources" / "Models"
BEGIN = "<!-- GENERATED from {json} by Testing/Training/model_card_markdown.py; edit the JSON, not this block -->"
END = "<!-- /GENERATED -->"
PHANTOM_NOTICE = (
    "> **Trained on phantoms.** This model learned only from MedGANSynth's software phantoms (simulated PET/CT with\n"
    "> known ground truth), never from patient images. Its figures below are measured on held-out phantoms: they say\n"
    "> how well it learned the phantoms, not how it would perform on patients. It is not a medical device."
)


def fmt(value, digits: int = 2) -> str:
    """A number as the cards print it (2 decimals unless told), 'n/a' when absent."""
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def epochs_text(card: dict) -> str:
    """A fine-tuned model's epochs as 'source + own' (its card counts only the fine-tune's own)."""
    source = card["metrics"].get("training", {}).get("init_weights")
    return f"{source['epochs']} + {card['epochs']}" if source else str(card["epochs"])


def training_text(card: dict) -> str:
    """The training settings a card records, in one line."""
    settings = card["metrics"].get("training", {})
    parts = [f"{name} {settings[key]}" for key, name in (("loss", "loss"), ("lr", "learning rate"),
                                                          ("lr_d", "discriminator rate"), ("batch_size", "batch"),
                                                          ("seed", "seed")) if settings.get(key) is not None]
    parts += [name for key, name in (("mismatched_labels", "mismatched labels"),
                                     ("hardest_mismatch", "hardest mismatch")) if settings.get(key)]
    if settings.get("augment"):
        parts.append(f"discriminator input augmented by {settings['augment']}")
    if settings.get("generator_ema"):
        parts.append(f"generator moving average {settings['generator_ema']}")
    source = settings.get("init_weights")
    if source:
        parts.append(f"fine-tuned from an earlier {source['epochs']}-epoch model (SHA-256 {source['sha256'][:12]}…)")
    return "; ".join(parts) if parts else "not recorded in the card"


def phantom_version_text(card: dict) -> str:
    """" Phantom version N." where the data set records the generator version it was built from."""
    version = card["training_data"].get("dataset", {}).get("phantom_version")
    return f" Phantom version {version}." if version is not None else ""


def output_text(card: dict) -> str:
    config, norm = card["config"], card["normalisation"]
    unit = {"suv": "SUV", "hu": "HU"}.get(norm.get("kind"), norm.get("kind", ""))
    if card["architecture"] == "virtual_pet_fcn4s_pix2pix":
        low, high = config["ct_window_hu"]
        return (f"virtual PET in SUV {fmt(config['suv_range'][0], 0)}-{fmt(config['suv_range'][1], 0)} on the CT's "
                f"grid, from {config['in_channels']} CT slices windowed to {fmt(low, 0)}..{fmt(high, 0)} HU "
                f"(working pixel {config['working_pixel_mm']} mm)")
    if card["architecture"] == "cyclegan":
        a, b = config["domains"]["a"], config["domains"]["b"]
        return (f"{a['name']} ↔ {b['name']} translation of {config['image_size']} × {config['image_size']} axial "
                f"slices ({fmt(a['pixel_mm'], 1)} mm pixels, {2 * config['context_slices'] + 1} slices as channels), "
                f"{a['window']['units']} {fmt(a['window']['low'], 0)}..{fmt(a['window']['high'], 0)} and "
                f"{b['window']['units']} {fmt(b['window']['low'], 0)}..{fmt(b['window']['high'], 0)}")
    if "image_size" in config:
        size = f"{config['image_size']} × {config['image_size']}"
    else:
        size = f"{config['image_height']} × {config['image_width']}"
    slices = f", {config['channels']} adjacent slices" if config.get("channels", 1) > 1 else ""
    return f"{size} pixels{slices}, {unit} window {fmt(norm['low'], 0)}..{fmt(norm['high'], 0)}"


def facts_table(entry: dict, card: dict, json_name: str) -> list[str]:
    classes = ", ".join(card["class_names"]) or "none (unconditional)"
    counts = card["training_data"].get("counts", {})
    return [
        "| | |",
        "|---|---|",
        f"| id | `{entry['id']}` |",
        f"| files | `{entry['file']}` (SHA-256 `{entry['sha256']}`), card `{json_name}` |",
        f"| architecture | `{card['architecture']}` |",
        f"| classes | {classes} |",
        f"| output | {output_text(card)} |",
        f"| training data | {card['training_data']['description']}{phantom_version_text(card)} Counts: "
        f"{', '.join(f'{name} {number}' for name, number in counts.items())}. |",
        f"| epochs | {epochs_text(card)} |",
        f"| training settings | {training_text(card)} |",
    ]


def gan_metrics(card: dict) -> list[str]:
    evaluation = card["metrics"].get("heldout_evaluation")
    if not evaluation:
        return ["No held-out evaluation is stored in this card."]
    results = evaluation["results"]
    lines = [evaluation["protocol"], ""]
    judge = results.get("judge")
    if judge is None:  # one class (the CT GAN): no judge, so no class accuracy nor TSTR
        (section,) = results["per_class"].values()
        similarity = section["similarity_to_nearest_train"]
        lines += ["| measure | generated | held-out real phantoms |", "|---|---|---|",
                  f"| memorisation ratio (≥ 0.9: no sign of copying) | {fmt(section['memorisation']['ratio_pixel'])} | |",
                  f"| SSIM to the nearest training slice | {fmt(similarity['generated']['ssim_mean'])} | "
                  f"{fmt(similarity['floor_heldout']['ssim_mean'])} |",
                  f"| PSNR to the nearest training slice (dB) | {fmt(similarity['generated']['psnr_mean_db'], 1)} | "
                  f"{fmt(similarity['floor_heldout']['psnr_mean_db'], 1)} |",
                  *artefact_rows(section),
                  "", "One class only, so there is no judge classifier, class accuracy or TSTR."]
        return lines + real_ct_tissue_lines(card["metrics"].get("real_ct_tissues"))
    lines += [f"Judges: {judge.get('count', 1)} classifiers; their accuracy on held-out real phantoms "
              f"{fmt(judge['heldout_real_accuracy'])} (chance {fmt(1 / len(results['classes']))}).", "",
              "| class | class accuracy (per judge) | judge on held-out real | memorisation ratio | "
              "Fréchet distance (held-out real) | precision / recall |",
              "|---|---|---|---|---|---|"]
    own = card["class_names"]
    for name, section in results["per_class"].items():
        label = f"**{name}** (this model)" if len(own) == 1 and name == own[0] else name
        lines.append(metrics_row(label, section))
    if len(own) > 1:
        lines.append(metrics_row("overall", results["overall"]))
    else:
        lines += ["", "This stage's model was judged together with its sibling stages' models; the row in bold is "
                  "its own."]
    artefacts = artefact_rows(results.get("overall") or {})
    if artefacts:
        lines += ["", "| artefact (all classes) | generated | held-out real phantoms |", "|---|---|---|", *artefacts]
    tstr = results.get("tstr")
    if tstr:
        lines += ["", f"TSTR (a classifier tested on held-out real phantoms): trained on real "
                  f"{fmt(tstr['real_only'])}, on real + synthetic {fmt(tstr['real_plus_synthetic'])}, on synthetic "
                  f"alone {fmt(tstr['synthetic_only'])}."]
    seeds = card["metrics"].get("tstr_over_seeds")
    if seeds:
        lines += ["", f"Repeated over {len(seeds['seeds'])} classifier seeds: real {fmt(seeds['mean_real_only'])} "
                  f"→ real + synthetic {fmt(seeds['mean_real_plus_synthetic'])} (gain standard deviation "
                  f"{fmt(seeds['sd_gain'])})."]
    return lines


def artefact_rows(section: dict) -> list[str]:
    """Table rows for grid texture and specks outside the body, where the evaluation stored them (cards scored
    before these measures existed have none, and their Markdown stays as it was)."""
    rows = []
    texture = section.get("grid_texture")
    if texture:
        rows.append(f"| grid texture (spectral peaks at 2- and 4-pixel periods; ~1.5 = none) | "
                    f"{fmt(texture['generated'])} | {fmt(texture['floor_heldout'])} |")
    specks = section.get("specks_outside_body")
    if specks:
        generated, real = specks["generated"], specks["floor_heldout"]
        rows += [f"| images with specks outside the body | {fmt(generated['images_with_specks'])} | "
                 f"{fmt(real['images_with_specks'])} |",
                 f"| specks outside the body per image | {fmt(generated['specks_per_image'])} | "
                 f"{fmt(real['specks_per_image'])} |"]
    return rows


TISSUE_NAMES = {"lung": "lung", "fat": "fat", "soft": "soft tissue", "bone": "bone"}


def real_ct_tissue_lines(tissues: dict | None) -> list[str]:
    """A CT GAN's tissue shares beside a real CT's and its own data's (ct_gan_real_ct_tissues.py)."""
    if not tissues:
        return []
    bounds = ", ".join(f"{TISSUE_NAMES[name]} {fmt(low, 0)}..{fmt(high, 0)} HU" if high is not None
                       else f"{TISSUE_NAMES[name]} above {fmt(low, 0)} HU" for name, (low, high) in tissues["classes_hu"].items())
    size, drawn = tissues["size"], tissues.get("generated_size", tissues["size"])
    where = (f"every source at {size} × {size}" if drawn == size
             else f"the real CT and the phantoms at {size} × {size}, the samples at the model's {drawn} × {drawn}")
    lines = ["", f"**Against a real CT** (`{tissues['script']}`, {where}): shares of the pixels above {fmt(tissues['not_air_above_hu'], 0)} HU (not air) "
             f"that are {bounds}.", "",
             "| source | images | " + " | ".join(TISSUE_NAMES.values()) + " | soft-tissue mean (HU) |",
             "|---|---|" + "---|" * len(TISSUE_NAMES) + "---|"]
    for name, row in tissues["rows"].items():
        lines.append(f"| {name} | {row['slices']} | " + " | ".join(fmt(row[key], 3) for key in TISSUE_NAMES)
                     + f" | {fmt(row['soft_mean_hu'], 1)} |")
    return lines


def metrics_row(label: str, section: dict) -> str:
    by_judge = section.get("class_accuracy_by_judge")
    judges = f" ({' / '.join(fmt(value) for value in by_judge)})" if by_judge else ""
    frechet = section.get("frechet_distance", {})
    pr = section.get("precision_recall", {}).get("generated", {})
    return (f"| {label} | {fmt(section.get('class_accuracy'))}{judges} | {fmt(section.get('heldout_class_accuracy'))} | "
            f"{fmt(section['memorisation']['ratio_pixel'])} | {fmt(frechet.get('generated_vs_train'), 0)} "
            f"({fmt(frechet.get('floor_heldout_vs_train'), 0)}) | {fmt(pr.get('precision'))} / {fmt(pr.get('recall'))} |")


def virtual_pet_metrics(card: dict) -> list[str]:
    lines = []
    for key, scores in card["metrics"].items():
        if key == "real_ct_physiology":
            lines += real_ct_lines(scores)
            continue
        if "blended" not in scores:  # the training run's own records (final_epoch, training), not an evaluation
            continue
        title = {"heldout": "Held-out phantoms", "selection": "Selection phantoms"}.get(key, f"Held-out phantoms, {scores.get('region', key)} only")
        lines += [f"**{title}**: {scores['phantoms']}; {scores['scans']} scans, "
                  f"{scores['blended']['true_lesions']} lesions.{rule_text(scores)}", "",
                  "| output | TPR (found / lesions) | focal TPR | false positives / scan | SSIM | PSNR (dB) | MAE (SUV) |",
                  "|---|---|---|---|---|---|---|"]
        for method in ("fcn", "gan", "blended"):
            m = scores[method]
            lines.append(f"| {method} | {fmt(m['tpr'])} ({m['tp']}/{m['true_lesions']}) | {fmt(m['tpr_focal'])} | "
                         f"{fmt(m['fp_per_scan'], 1)} | {fmt(m['ssim'])} | {fmt(m['psnr_db'], 1)} | "
                         f"{fmt(m['mae_suv'])} |")
        truth = scores.get("true_pet")
        if truth:  # what a perfect prediction would score on the same scans
            lines.append(f"| the true PET itself | {fmt(truth['tpr'])} ({truth['tp']}/{truth['true_lesions']}) | "
                         f"{fmt(truth['tpr_focal'])} | | | | |")
        lines.append("")
    return lines[:-1]


def real_ct_lines(physiology: dict) -> list[str]:
    """The virtual PET's tissue SUVs on real patient CTs beside the published FDG levels."""
    published = physiology["published_suv_mean"]
    ranges = ", ".join(f"{name} {low}-{high}" for name, (low, high) in published.items())
    lines = [f"**Real patient CTs** (no PET to compare with; tissues from HU, depth and thickness, `{physiology['script']}`). "
             f"Published SUVmean: {ranges}.", "",
             "`--outside-body keep` is the networks' raw output, `zero` (the default) what the command writes.", "",
             "| CT | --outside-body | muscle (left / right) | fat | liver | spleen | below 0 | max outside the body |",
             "|---|---|---|---|---|---|---|---|"]
    for case in physiology["cases"]:
        organs = " | ".join("not found" if case.get(f"{organ}_mean") is None else fmt(case[f"{organ}_mean"])
                            for organ in ("liver", "spleen"))
        lines.append(f"| {case['ct']} | {case.get('outside_body', 'keep')} | {fmt(case['muscle_mean'])} "
                     f"({fmt(case['muscle_left_mean'])} / {fmt(case['muscle_right_mean'])}) | {fmt(case['fat_mean'])} | "
                     f"{organs} | {fmt(case['fraction_below_0'])} | {fmt(case['outside_body_max'])} |")
    return [*lines, ""]


TRANSLATION_COLUMNS = (("ssim", "SSIM", 2), ("psnr_db", "PSNR (dB)", 1), ("mae_suv", "MAE (SUV)", 2),
                       ("tpr", "TPR", 2), ("fp_per_scan", "false positives / scan", 1),
                       ("invented_per_scan", "lesions invented / scan", 1), ("erased_per_scan", "erased / scan", 2),
                       ("erased_fraction", "erased fraction", 2))


def cyclegan_metrics(card: dict) -> list[str]:
    """Held-out translation figures beside the paired model's on the same scans, and the input check's band."""
    metrics, lines = card["metrics"], []
    heldout = metrics.get("heldout")
    if heldout:
        rows = {"CycleGAN (unpaired, this model)": heldout, **heldout.get("paired_on_the_same_scans", {})}
        lines += [f"**{heldout['data']}**: CT → PET; SSIM, PSNR and MAE in SUV inside the body; a lesion is found "
                  "when a region above 2.5 SUV overlaps it; invented: regions above 2.5 SUV of at least 0.5 ml where the "
                  "true PET is not above 2.5 (neither a lesion nor a hot organ); erased: lesions no region finds.", "",
                  "| model | " + " | ".join(title for _, title, _ in TRANSLATION_COLUMNS) + " |",
                  "|---|" + "---|" * len(TRANSLATION_COLUMNS)]
        lines += [f"| {name} | " + " | ".join(fmt(row.get(key), digits) for key, _, digits in TRANSLATION_COLUMNS)
                  + " |" for name, row in rows.items()]
        lines.append("")
    band = metrics.get("cycle_error_band")
    if band:
        lines += [f"**Input check** (statistic: {band['statistic']}): a CT whose median slice error lies above "
                  f"{fmt(band['band_hu'], 1)} HU (the {fmt(band['percentile'], 0)}th percentile over {band['slices']} "
                  f"training slices; their median {fmt(band['median_hu'], 1)} HU) gets a warning.", ""]
    check = metrics.get("input_check")
    if check:
        lines += ["| images scored as CTs | scored | the check warned | median per-slice error (HU) |",
                  "|---|---|---|---|"]
        lines += [f"| {name} | {group['scored']} | {group['warned']} | {fmt(group['median_slice_mae_hu_range'][0], 0)}"
                  f"-{fmt(group['median_slice_mae_hu_range'][1], 0)} |" for name, group in check["groups"].items()]
        lines.append("")
    return lines[:-1] if lines else ["No held-out evaluation is stored in this card."]


def rule_text(scores: dict) -> str:
    """The detection rule and blending a virtual-PET score was measured with, when the card stores them."""
    if "threshold_suv" not in scores:
        return ""
    return (f" A lesion is found when a candidate of at least {fmt(scores['min_volume_ml'], 1)} ml with SUVmax > "
            f"{fmt(scores['threshold_suv'], 1)} overlaps it; blending {scores['blend_levels']} pyramid levels, mask "
            f"grown {fmt(scores['blend_dilation_mm'], 0)} mm, {veto_text(scores.get('blend_veto_suv', 0.0))}"
            f"{base_text(scores.get('blend_base_levels', 0))}slice "
            f"smoothing {fmt(scores['slice_smoothing_mm'], 0)} mm.")


def veto_text(veto_suv: float) -> str:
    """The blend's veto in words; nothing when it is off (the paper's blend, and cards older than the option)."""
    return f"GAN hot spots vetoed where the FCN is below {fmt(veto_suv, 1)}, " if veto_suv else ""


def base_text(base_levels: int) -> str:
    """The blend's base in words; nothing when it is off (the paper's blend, and cards older than the option)."""
    if not base_levels:
        return ""
    return f"the coarsest {base_levels} level{'s' if base_levels > 1 else ''} from the FCN everywhere, "


def generated_block(entry: dict, card: dict, json_name: str) -> str:
    metrics = {"virtual_pet": virtual_pet_metrics, "cyclegan": cyclegan_metrics}.get(entry["task"], gan_metrics)(card)
    lines = [BEGIN.format(json=json_name), "", *facts_table(entry, card, json_name), "",
             "### Measured on held-out phantoms", "", *metrics, "", END]
    return "\n".join(lines)


def card_text(entry: dict, existing: str | None) -> str:
    json_name = Path(entry["file"]).with_suffix(".json").name
    card = json.loads((MODELS / json_name).read_text())
    block = generated_block(entry, card, json_name)
    if existing is None:
        return f"# {entry['title']}\n\n{PHANTOM_NOTICE}\n\n{block}\n"
    start, end = existing.find("<!-- GENERATED"), existing.find(END)
    if start < 0 or end < 0:
        raise SystemExit(f"{entry['file']}: the .md card lacks its GENERATED markers; restore them")
    return existing[:start] + block + existing[end + len(END):]


def markdown_path(entry: dict) -> Path:
    return MODELS / Path(entry["file"]).with_suffix(".md").name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report cards that differ from their JSON")
    args = parser.parse_args(argv)
    stale = []
    for entry in json.loads((MODELS / "catalogue.json").read_text())["models"]:
        path = markdown_path(entry)
        existing = path.read_text() if path.exists() else None
        text = card_text(entry, existing)
        if text != existing:
            stale.append(path.name)
            if not args.check:
                path.write_text(text)
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}; run python Testing/Training/model_card_markdown.py")
        return 1
    print(("written: " if stale else "up to date: ") + (", ".join(stale) or "all cards"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
