"""Score an unpaired CycleGAN (CT -> PET) and the paired virtual-PET model side by side on held-out paired
phantoms: SSIM / PSNR / MAE in SUV inside the body, lesion TPR and false positives (the virtual-PET rules), and the
hallucination counts per scan (hot spots > 2.5 SUV of >= 0.5 ml where the true PET has none; lesions erased).

    .venv/bin/python Testing/Training/evaluate_cyclegan.py --data CASES/ --cyclegan RUN/weights/cyclegan.safetensors \
        [--virtual-pet virtual-pet-phantom] [-o OUT.json] [--write-card-metrics]

--write-card-metrics stores the CycleGAN's held-out figures in its card (metrics.heldout, with the paired model's on
the same scans beside them; tensors unchanged).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from MedGANSynthLib.cyclegan.translate import translate_volume  # noqa: E402
from MedGANSynthLib.cyclegan.weights import load_cyclegan  # noqa: E402
from MedGANSynthLib.virtual_pet.cases import discover_cases  # noqa: E402
from MedGANSynthLib.virtual_pet.inference import predict_virtual_pet  # noqa: E402
from MedGANSynthLib.virtual_pet.translation_evaluation import evaluate_translation  # noqa: E402
from MedGANSynthLib.virtual_pet.weights import load_virtual_pet, update_card_metrics  # noqa: E402
from MedGANSynthLib.weights.safetensors_io import weight_paths  # noqa: E402

COLUMNS = ("ssim", "psnr_db", "mae_suv", "tpr", "fp_per_scan", "invented_per_scan", "erased_per_scan",
           "erased_fraction")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="held-out paired CT/PET cases (with lesions.*)")
    parser.add_argument("--cyclegan", required=True, help="CycleGAN .safetensors (domain A CT, domain B PET)")
    parser.add_argument("--virtual-pet", help="paired virtual-PET model (catalogue id or .safetensors) to compare")
    parser.add_argument("-o", "--output", help="JSON file for all results")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--write-card-metrics", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    cyclegan = load_cyclegan(args.cyclegan)
    predictors = {"cyclegan (unpaired)": lambda ct: translate_volume(cyclegan, ct, "ab")}
    if args.virtual_pet:
        paired = load_virtual_pet(args.virtual_pet)

        last = {}  # the paired model runs once per CT: its GAN-only and blended outputs come from one prediction

        def virtual_pet(ct, kind):
            if last.get("ct") is not ct:
                last.update(ct=ct, result=predict_virtual_pet(ct, paired.fcn, paired.gan,
                                                              paired.inference_config(return_gan=True), device="cpu"))
            return last["result"].blended if kind == "blended" else last["result"].gan

        predictors["pix2pix GAN (paired)"] = lambda ct: virtual_pet(ct, "gan")
        predictors["virtual PET blended (paired)"] = lambda ct: virtual_pet(ct, "blended")
    results = evaluate_translation(predictors, discover_cases(args.data))
    print(f"{results['scans']} held-out scans from {args.data}")
    print(f"{'model':32s}" + "".join(f"{c:>18s}" for c in COLUMNS))
    for name, summary in results["overall"].items():
        print(f"{name:32s}" + "".join(f"{summary.get(c, float('nan')):18.3f}" for c in COLUMNS))
    if args.output:
        Path(args.output).write_text(json.dumps(results, indent=1))
    if args.write_card_metrics:
        _, card = weight_paths(args.cyclegan)
        compared = {name: summary for name, summary in results["overall"].items() if name != "cyclegan (unpaired)"}
        update_card_metrics(card, {"heldout": {
            "data": f"{results['scans']} held-out paired phantoms ({Path(args.data).name}), never used in training",
            "scans": results["scans"], **results["overall"]["cyclegan (unpaired)"],
            "paired_on_the_same_scans": compared}})


if __name__ == "__main__":
    main()
