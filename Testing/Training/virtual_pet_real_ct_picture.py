"""The bundled virtual PET on the two real patient CTs, beside the tissue masks its physiology figures come from.

One row per real CT in ../shared/data, at the axial slice holding the most liver core: the CT with the masks of
``virtual_pet_real_ct_physiology.py`` outlined (muscle green, liver red, spleen blue), and the CT with the virtual
PET as ``medgansynth virtual-pet`` writes it by default (hot, SUV 0-5), titled with the tissue means. Shown in the
radiological convention (patient right on the image's left, anterior up).

Usage (from the project root):
    .venv/bin/python Testing/Training/virtual_pet_real_ct_picture.py [OUT.png]   (default Resources/Screenshots/virtual_pet_real_ct.png)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from virtual_pet_real_ct_physiology import (  # beside this script
    REAL_CTS,
    SHARED_DATA,
    tissue_masks,
    virtual_pet,
)

from MedGANSynthLib.io.volume_io import read_volume
from MedGANSynthLib.pictures import display_plane, readable, windowed
from MedGANSynthLib.virtual_pet.weights import load_virtual_pet

OUT = Path(__file__).resolve().parents[2] / "Resources" / "Screenshots" / "virtual_pet_real_ct.png"
CT_WINDOW, SUV_WINDOW = (-160.0, 240.0), (0.0, 5.0)
OUTLINES = {"muscle": "#22dd22", "liver": "#ff3030", "spleen": "#3080ff"}


def shown(volume, array: np.ndarray, index: int, order: int = 0) -> np.ndarray:
    """One axial slice of ``array`` (on ``volume``'s grid) as the pictures module displays it."""
    image, spacing = display_plane(volume.with_array(array), "axial", index)
    return readable(image, spacing, order=order)


def row(ax_masks, ax_pet, name: str, model) -> None:
    ct = read_volume(SHARED_DATA / name)
    masks, suv = tissue_masks(ct), virtual_pet(SHARED_DATA / name, model, "zero")
    index = int(np.argmax(masks["liver"].sum(axis=(1, 2)))) if masks["liver"].any() else ct.array.shape[0] // 2
    grey = windowed(shown(ct, ct.array.astype(np.float32), index, order=1), CT_WINDOW)
    ax_masks.imshow(grey, cmap="gray", vmin=0, vmax=1)
    for tissue, colour in OUTLINES.items():
        if masks[tissue][index].any():
            ax_masks.contour(shown(ct, masks[tissue].astype(np.float32), index), levels=[0.5], colors=colour,
                             linewidths=0.7)
    uptake = windowed(shown(ct, suv, index, order=1), SUV_WINDOW)
    weight = 0.7 * uptake[..., None]
    ax_pet.imshow((1 - weight) * grey[..., None] + weight * colormaps["hot"](uptake)[..., :3])
    means = {tissue: float(suv[masks[tissue]].mean()) for tissue in ("muscle", "fat", "liver", "spleen")
             if masks[tissue].any()}
    ax_masks.set_title(f"{name}: masks (muscle, liver, spleen)", fontsize=8)
    ax_pet.set_title("virtual PET: " + ", ".join(f"{t} {v:.2f}" for t, v in means.items()), fontsize=8)


def main(out: Path) -> None:
    model = load_virtual_pet("virtual-pet-phantom")
    present = [name for name in REAL_CTS if (SHARED_DATA / name).exists()]
    if not present:
        raise SystemExit(f"No real CT found under {SHARED_DATA}.")
    figure = Figure(figsize=(8, 4 * len(present)))
    axes = figure.subplots(len(present), 2, squeeze=False)
    for (ax_masks, ax_pet), name in zip(axes, present, strict=True):
        row(ax_masks, ax_pet, name, model)
        ax_masks.set_axis_off()
        ax_pet.set_axis_off()
    figure.suptitle("Bundled virtual PET on real patient CTs (SUV 0-5; published: muscle 0.6-1.0, fat 0.2-0.6, "
                    "liver 1.5-2.5, spleen 1.5-2.0)", fontsize=8)
    figure.tight_layout(pad=0.4)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, format="png", dpi=75)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
