"""README pictures of the version-2 whole-body phantom: one per lesion class (coronal and axial CT, PET MIP, axial
PET through the largest lesion) and one setting phantom slices beside the real CT and PET in ../shared/data at the
same millimetre scale and window.

    PYTHONPATH=. .venv/bin/python Testing/Training/phantom_pictures.py [--out Resources/Screenshots] [--seed 5]

Writes phantom_v2_<class>.png and phantom_v2_vs_real.png (each < 300 KB). The comparison needs ../shared/data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from MedGANSynthLib.phantoms.lesions import LESION_CLASSES  # noqa: E402
from MedGANSynthLib.phantoms.wholebody import WholeBodyConfig, make_wholebody_case  # noqa: E402

SOFT = {"cmap": "gray", "vmin": -160, "vmax": 240}  # abdomen window (W 400 / L 40)
LUNG = {"cmap": "gray", "vmin": -1000, "vmax": 300}
PET = {"cmap": "gray_r", "vmin": 0.0, "vmax": 7.0}
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
CLASS_OPTIONS = {  # what each picture shows besides its lesions
    "normal": {"contrast": "portal-venous", "arms": "down"},
    "head_neck": {"arms": "down"},
    "oesophagus": {"arms": "up"},
    "lung": {"arms": "up"},
    "lymphoma": {"arms": "up", "contrast": "portal-venous"},
}


def axis_mm(volume, axis):
    return volume.origin[axis] + volume.spacing[axis] * np.arange(volume.array.shape[2 - axis])


def extent(volume, horizontal, vertical):
    """imshow extent in mm for an array whose rows run along ``vertical``: row 0 at the extent's top with the
    default origin, at its bottom with origin="lower". LPS x grows to the patient's left, shown on the right."""
    h, v = axis_mm(volume, horizontal), axis_mm(volume, vertical)
    return (h[0], h[-1], v[-1], v[0])


def largest_lesion(case):
    lesions = case.manifest["lesions"]
    return max(lesions, key=lambda les: les["diameter_mm"]) if lesions else None


def class_picture(case, title, out: Path) -> None:
    ct, pet = case.ct, case.pet
    lesion = largest_lesion(case)
    h = case.manifest["subject"]["height_cm"] * 10
    focus = lesion["centre_mm"] if lesion else [0.0, 0.0, -0.36 * h]
    k = int(np.argmin(np.abs(axis_mm(ct, 2) - focus[2])))
    j = int(np.argmin(np.abs(axis_mm(ct, 1) - (focus[1] if lesion else 10.0))))
    kp = int(np.argmin(np.abs(axis_mm(pet, 2) - focus[2])))
    in_lung = lesion is not None and lesion["site"] in ("lung", "mediastinal_node")
    fig, axes = plt.subplots(1, 4, figsize=(12.0, 4.6), gridspec_kw={"width_ratios": [1, 1.25, 1, 1.25]})
    h0, h1, z1, z0 = extent(ct, 0, 2)
    axes[0].imshow(ct.array[:, j, :], origin="lower", extent=(h0, h1, z0, z1), **SOFT)
    axes[0].set_title("CT coronal")
    axes[1].imshow(ct.array[k], extent=extent(ct, 0, 1), **(LUNG if in_lung else SOFT))
    axes[1].set_title("CT axial" + (" (lung window)" if in_lung else ""))
    h0, h1, z1, z0 = extent(pet, 0, 2)
    axes[2].imshow(pet.array.max(axis=1), origin="lower", extent=(h0, h1, z0, z1), **PET)
    axes[2].set_title("PET MIP (SUV 0-7)")
    axes[3].imshow(pet.array[kp], extent=extent(pet, 0, 1), **PET)
    axes[3].set_title("PET axial")
    for ax in axes[1::2]:
        ax.set_xlim(-240, 240)
        ax.set_ylim(200, -240)  # anterior at the top
    for ax in axes:
        ax.axis("off")
    subject = case.manifest["subject"]
    fig.suptitle(f"{title}: {subject['sex']}, {subject['height_cm']:.0f} cm, BMI {subject['bmi']:.1f}, arms "
                 f"{subject['arms']}, CT {case.manifest['contrast']}, myocardium {case.manifest['myocardium_state']}",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=72)
    plt.close(fig)


def comparison_picture(out: Path, seed: int, config: WholeBodyConfig) -> None:
    """Real CT (DICOM thorax series, NIfTI torso) and real PET beside phantom slices of the same region."""
    from MedGANSynthLib.io.dicom_series import read_dicom_series
    from MedGANSynthLib.io.volume_io import read_volume
    from MedGANSynthLib.pet.suv import load_pet_as_suv

    dicom = read_dicom_series(SHARED / "ct-dicom-thorax")
    nifti = read_volume(SHARED / "ct-nifti" / "example_ct_sm.nii.gz")
    real_pet = load_pet_as_suv(SHARED / "pet-dicom-flt-breast" / "1.dcm")
    phantom = make_wholebody_case(seed, "normal", config, version=2, contrast="portal-venous", arms="down")
    plain = make_wholebody_case(seed + 1, "normal", config, version=2, arms="down")
    rows = [
        ("real CT, upper abdomen (ct-dicom-thorax)", dicom, dicom.array.shape[0] // 2, SOFT,
         "phantom v2, portal-venous", phantom, np.mean(phantom.manifest["landmarks"]["T12"]), SOFT),
        ("real CT, kidneys (ct-nifti)", nifti, nifti.array.shape[0] // 2, SOFT,
         "phantom v2, unenhanced", plain, plain.manifest["landmarks"]["L1"][1], SOFT),
        ("real PET (FLT, breast study)", real_pet, 0, PET,
         "phantom v2 PET (FDG)", phantom.pet, phantom.manifest["landmarks"]["T6"][0], PET),
    ]
    fig, axes = plt.subplots(3, 2, figsize=(8.6, 12.0))
    for row, (real_title, real, real_k, real_window, ph_title, ph, ph_z, ph_window) in enumerate(rows):
        ph_volume = ph.ct if hasattr(ph, "ct") else ph
        k = int(np.argmin(np.abs(axis_mm(ph_volume, 2) - ph_z)))
        _show_axial(axes[row, 0], real, real_k, real_window, real_title)
        _show_axial(axes[row, 1], ph_volume, k, ph_window, ph_title)
        for ax in axes[row]:
            ax.set_xlim(-250, 250)
            ax.set_ylim(250, -250)
    fig.suptitle("Same millimetre scale (500 mm field) and window in each row", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    plt.close(fig)


def _show_axial(ax, volume, k, window, title) -> None:
    """Axial slice in LPS millimetres, centred on the body (real scans have their own table offsets)."""
    array = volume.array[k]
    direction = np.asarray(getattr(volume, "direction", np.eye(3)), float).reshape(3, 3)
    x = volume.origin[0] + direction[0, 0] * volume.spacing[0] * np.arange(array.shape[1])
    y = volume.origin[1] + direction[1, 1] * volume.spacing[1] * np.arange(array.shape[0])
    if x[0] > x[-1]:
        array, x = array[:, ::-1], x[::-1]
    if y[0] > y[-1]:
        array, y = array[::-1], y[::-1]
    body = array > (window["vmin"] + 0.05 * (window["vmax"] - window["vmin"]) if window is PET else -500)
    cx = 0.5 * (x[np.nonzero(body.any(axis=0))[0][[0, -1]]].sum()) if body.any() else 0.0
    cy = 0.5 * (y[np.nonzero(body.any(axis=1))[0][[0, -1]]].sum()) if body.any() else 0.0
    ax.imshow(array, extent=(x[0] - cx, x[-1] - cx, y[-1] - cy, y[0] - cy), **window)
    ax.set_title(title, fontsize=9)
    ax.axis("off")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="Resources/Screenshots")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--voxel-mm", type=float, default=None, help="coarser grid for a quick look")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = WholeBodyConfig() if args.voxel_mm is None else WholeBodyConfig().with_voxel_mm(args.voxel_mm)
    for n, name in enumerate(LESION_CLASSES):
        case = make_wholebody_case(args.seed + n, name, config, version=2, **CLASS_OPTIONS[name])
        class_picture(case, name, out / f"phantom_v2_{name}.png")
        print(out / f"phantom_v2_{name}.png")
    if SHARED.is_dir():
        comparison_picture(out / "phantom_v2_vs_real.png", args.seed, config)
        print(out / "phantom_v2_vs_real.png")
    else:
        print(f"skipped the comparison picture: {SHARED} is absent")


if __name__ == "__main__":
    main()
