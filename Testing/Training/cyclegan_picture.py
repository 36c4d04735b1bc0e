"""Model-card picture (Resources/Models/cyclegan_phantom.md): coronal MIPs of one held-out phantom's true PET, the
unpaired CycleGAN's PET from its CT and the paired virtual PET's, on one SUV scale, so what the CycleGAN invents or
erases is seen beside what the paired model does with the same CT.

    .venv/bin/python Testing/Training/cyclegan_picture.py CASE_FOLDER [CYCLEGAN] [VIRTUAL_PET] [OUT.png]
    (defaults: cyclegan-phantom, virtual-pet-phantom, Resources/Screenshots/cyclegan_vs_paired.png; the card's
    picture is case wholebody_0003_lung of train_cyclegan.sh's held-out phantoms, seed 23)
"""

from __future__ import annotations

import sys
from pathlib import Path

from MedGANSynthLib.cyclegan.translate import ct_to_suv
from MedGANSynthLib.cyclegan.weights import load_cyclegan
from MedGANSynthLib.pictures import save_mip_comparison_png
from MedGANSynthLib.projection import mip
from MedGANSynthLib.virtual_pet.cases import discover_cases, load_case
from MedGANSynthLib.virtual_pet.inference import predict_virtual_pet
from MedGANSynthLib.virtual_pet.weights import load_virtual_pet
from MedGANSynthLib.weights.catalogue import resolve_model


def main(case_folder: str, cyclegan: str, virtual_pet: str, out: str) -> None:
    (case,) = discover_cases(case_folder)
    loaded = load_case(case)
    unpaired = ct_to_suv(load_cyclegan(resolve_model(cyclegan, "cyclegan")), loaded.ct)
    paired = load_virtual_pet(virtual_pet)
    blended = predict_virtual_pet(loaded.ct, paired.fcn, paired.gan, paired.inference_config(), device="cpu").blended
    panels = [(mip(loaded.suv), "true PET"), (mip(unpaired), "CycleGAN (unpaired)"), (mip(blended), "virtual PET (paired)")]
    print(save_mip_comparison_png(panels, out, title=f"Held-out phantom {case.case_id}: coronal MIPs (SUV)"))


if __name__ == "__main__":
    if not 2 <= len(sys.argv) <= 5:
        raise SystemExit(__doc__.splitlines()[3])
    defaults = ["cyclegan-phantom", "virtual-pet-phantom", str(Path("Resources/Screenshots/cyclegan_vs_paired.png"))]
    main(sys.argv[1], *(sys.argv[2:] + defaults[len(sys.argv) - 2:]))
