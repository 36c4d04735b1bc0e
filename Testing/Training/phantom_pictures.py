"""README pictures of the whole-body phantom (by default the package's default version): one per lesion class
(coronal and axial CT, PET MIP, axial PET through the largest lesion) and one setting the phantom's coronal CT and
PET MIP (and axial slices) beside the real CT and PET in ../shared/data at the same millimetre per pixel and window.

    PYTHONPATH=. .venv/bin/python Testing/Training/phantom_pictures.py [--out Resources/Screenshots] [--seed 5]
        [--phantom-version 2|3|4|5]

Writes phantom_v<version>_<class>.png and phantom_v<version>_vs_real.png (each < 300 KB); every title names the
version. ``--nodes`` writes only phantom_v7_nodes.png: one subject's inguinal lymph node in versions 6 and 7.
``--perineum-axilla`` writes only phantom_v8_anatomy.png: one subject's perineum and axilla in versions 7 and 8.
``--genitalia`` writes only phantom_v9_genitalia.png: a man and a woman below the perineum in versions 8 and 9.
``--mediastinum`` writes only phantom_v10_mediastinum.png: one man's mediastinum in versions 9 and 10. Version 1 has no contrast phase or arm position, which the pictures set, so it is not offered. The
comparison needs ../shared/data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from MedGANSynthLib.phantoms.lesions import LESION_CLASSES  # noqa: E402
from MedGANSynthLib.phantoms.versions import DEFAULT_PHANTOM_VERSION, REALISTIC_PHANTOM_VERSIONS  # noqa: E402
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


MM_PER_PIXEL = 2.0  # every panel of the comparison is resampled to this, so sizes compare directly


def comparison_picture(out: Path, seed: int, config: WholeBodyConfig, version: int) -> None:
    """A phantom's coronal CT and PET MIP beside the real CT and PET in ../shared/data, every panel
    resampled to 2 mm per pixel (one image pixel = one PNG pixel), radiological orientation, labelled.

    The real data are short: a coronal reformat can only span their 90 mm (ct-nifti) and 40 mm (ct-dicom-thorax)
    of z, and the real PET is one axial slice (no MIP possible), so the second row compares axial slices.
    """
    from MedGANSynthLib.io.dicom_series import read_dicom_series
    from MedGANSynthLib.io.volume_io import read_volume
    from MedGANSynthLib.pet.suv import load_pet_as_suv

    dicom = read_dicom_series(SHARED / "ct-dicom-thorax")
    nifti = read_volume(SHARED / "ct-nifti" / "example_ct_sm.nii.gz")
    real_pet = load_pet_as_suv(SHARED / "pet-dicom-flt-breast" / "1.dcm")
    case = make_wholebody_case(seed, "normal", config, version=version, arms="down")
    y_plane = case.manifest["landmarks"]["spine_y_L4"] - 25.0  # through the kidneys, in front of the spine
    z_axial = case.manifest["landmarks"]["T12"][0]
    ct_t12, pet_t12 = _nearest(case.ct, 2, z_axial), _nearest(case.pet, 2, z_axial)
    columns = [
        [(f"phantom v{version} CT, coronal", _window(_coronal(case.ct, y_plane), SOFT))],
        [(f"phantom v{version} PET MIP (SUV 0-7)", _window(_coronal_mip(case.pet), PET))],
        [("real CT coronal (ct-nifti, 90 mm)", _window(_coronal(nifti, None), SOFT)),
         ("real CT coronal (ct-dicom-thorax, 40 mm)", _window(_coronal(dicom, None), SOFT)),
         ("real CT axial (ct-dicom-thorax)", _window(_axial(dicom, dicom.array.shape[0] // 2), SOFT)),
         (f"phantom v{version} CT axial (T12)", _window(_axial(case.ct, ct_t12), SOFT))],
        [("real PET axial (FLT, one slice)", _window(_axial(real_pet, 0), PET)),
         (f"phantom v{version} PET axial (FDG, T12)", _window(_axial(case.pet, pet_t12), PET))],
    ]
    _compose(out, columns, "All panels 2 mm per pixel (bar: 100 mm); patient's right on the image's left; CT "
             f"W400/L40, PET SUV 0-7. Phantom version {version}: seed {seed}, {case.manifest['subject']['sex']}, "
             f"BMI {case.manifest['subject']['bmi']:.1f}. Real: ../shared/data (TotalSegmentator CT, "
             "ACRIN-FLT-Breast).")


def nodes_picture(out: Path, config: WholeBodyConfig) -> None:
    """Axial CT and PET through the first inguinal lymphoma node drawn (seeds from 0): inside the thigh muscle in
    version 6, in the groin's subcutaneous fat in version 7 (the same subject and draws)."""
    for seed in range(50):
        cases = {version: make_wholebody_case(seed, "lymphoma", config, version=version) for version in (6, 7)}
        nodes = {version: [les for les in case.manifest["lesions"] if les["site"] == "inguinal_node"]
                 for version, case in cases.items()}
        if nodes[6] and nodes[7]:
            break
    else:
        raise SystemExit("no inguinal node in the first 50 lymphoma subjects")
    columns = []
    for version, case in cases.items():
        z = nodes[version][0]["centre_mm"][2]
        columns.append([(f"v{version} CT axial, inguinal node", _window(_axial(case.ct, _nearest(case.ct, 2, z)), SOFT)),
                        (f"v{version} PET axial (SUV 0-7)", _window(_axial(case.pet, _nearest(case.pet, 2, z)), PET))])
    _compose(out, columns, f"Lymphoma subject, seed {seed}: the same draws; version 7 moves the node into fat. "
             "2 mm per pixel, patient's right on the left, CT W400/L40.")


def perineum_axilla_picture(out: Path, config: WholeBodyConfig, seed: int) -> None:
    """Axial CT of one subject (arms down) in versions 7 and 8: 15 mm below the ischial tuberosities (thighs
    parted, each in its fat), at the tuberosities (ischioanal fossae, natal cleft) and through the axillary node
    station (axillary fat pad). The heights come from the subject's frame, drawn from the case's anatomy stream."""
    import copy

    from MedGANSynthLib.phantoms.frame_v2 import Frame, random_subject_v2
    from MedGANSynthLib.phantoms.pelvis_v4 import pelvis_landmarks
    from MedGANSynthLib.phantoms.wholebody_v2 import case_streams

    rng = case_streams(seed)[0]
    subject = random_subject_v2(rng, "down")
    frame = Frame(subject, copy.deepcopy(rng), 8)
    tuberosity = pelvis_landmarks(frame)["tuberosity_z"]
    heights = [("15 mm below the ischial tuberosities", tuberosity - 15.0), ("at the tuberosities", tuberosity),
               ("axillary node station (T3)", frame.level("T3"))]
    columns = []
    for version in (7, 8):
        case = make_wholebody_case(seed, "normal", config, version=version, arms="down")
        columns.append([(f"v{version} CT, {name}", _window(_crop(_axial(case.ct, _nearest(case.ct, 2, z))), SOFT))
                        for name, z in heights])
    _compose(out, columns, f"Seed {seed} ({subject.sex}, {subject.height_cm:.0f} cm, BMI {subject.bmi:.0f}), arms "
             "down, same draws.\nVersion 8 parts the thighs below the perineum and adds\nthe ischioanal fossae, the "
             "natal cleft and the axillary fat pads.\n2 mm per pixel, patient's right on the left, CT W400/L40.",
             footer_px=66)


def genitalia_picture(out: Path, config: WholeBodyConfig, seeds=(9, 0)) -> None:
    """Axial CT of a man and a woman (arms down) in versions 8 and 9, 8 and 24 mm below the ischial tuberosities:
    version 8's air in front of the perineum between the thighs, version 9's scrotum, testes and penis, or labia."""
    import copy

    from MedGANSynthLib.phantoms.frame_v2 import Frame, random_subject_v2
    from MedGANSynthLib.phantoms.pelvis_v4 import pelvis_landmarks
    from MedGANSynthLib.phantoms.wholebody_v2 import case_streams

    columns, names = [], []
    for seed in seeds:
        rng = case_streams(seed)[0]
        subject = random_subject_v2(rng, "down")
        tuberosity = pelvis_landmarks(Frame(subject, copy.deepcopy(rng), 9))["tuberosity_z"]
        names.append(f"seed {seed} ({subject.sex}, {subject.height_cm:.0f} cm, BMI {subject.bmi:.0f})")
        for version in (8, 9):
            case = make_wholebody_case(seed, "normal", config, version=version, arms="down")
            columns.append([(f"v{version}, seed {seed}, {below} mm below the tuberosities",
                             _window(_crop(_axial(case.ct, _nearest(case.ct, 2, tuberosity - below))), SOFT))
                            for below in (8, 24)])
    _compose(out, columns, f"{names[0]} and {names[1]}, arms down, same draws. Version 9 adds the scrotum, testes "
             "and penis,\nor the labia majora either side of the vulval cleft, where version 8 left air.\n2 mm per "
             "pixel, patient's right on the left, CT W400/L40.", footer_px=66)


def mediastinum_picture(out: Path, config: WholeBodyConfig, seed: int = 6) -> None:
    """Axial CT (portal-venous, arms down) of one subject in versions 9 and 10 at the carina and 20 and 35 mm above
    it: version 9's arch crossing the midline through the trachea, version 10's trachea in front of the oesophagus
    with the arch in front of and left of it, and the aorta and trachea at their published calibres."""
    import copy

    from MedGANSynthLib.phantoms.frame_v2 import Frame, random_subject_v2
    from MedGANSynthLib.phantoms.wholebody_v2 import case_streams

    rng = case_streams(seed)[0]
    subject = random_subject_v2(rng, "down")
    carina = Frame(subject, copy.deepcopy(rng), 10).level("T5", 0.3)  # where anatomy_v2 puts the carina
    columns = []
    for version in (9, 10):
        case = make_wholebody_case(seed, "normal", config, version=version, arms="down", contrast="portal-venous")
        columns.append([(f"v{version} CT, {name}", _window(_crop(_axial(case.ct, _nearest(case.ct, 2, carina + up))),
                                                            SOFT))
                        for name, up in (("at the carina", 0.0), ("20 mm above it", 20.0), ("35 mm above it", 35.0))])
    _compose(out, columns, f"Seed {seed} ({subject.sex}, {subject.height_cm:.0f} cm), portal-venous, arms down, same "
             "draws.\nVersion 10 puts the trachea in front of the oesophagus, the arch in front of and left of it\n"
             "(version 9's crossed the trachea), and the aorta and trachea at published calibres.\n2 mm per pixel, "
             "patient's right on the left, CT W400/L40.", footer_px=78)


def _crop(plane: np.ndarray, rows: float = 0.62) -> np.ndarray:
    """The middle ``rows`` of the plane's height: the body, less the empty field above and below it."""
    cut = int(plane.shape[0] * (1 - rows) / 2)
    return plane[cut:plane.shape[0] - cut]


def _nearest(volume, axis, mm) -> int:
    return int(np.argmin(np.abs(axis_mm(volume, axis) - mm)))


def _oriented(volume) -> np.ndarray:
    """The array flipped so that x (L), y (P) and z (S) grow with the index, whatever the direction's signs."""
    array = volume.array
    signs = np.sign(np.diag(np.asarray(getattr(volume, "direction", np.eye(3)), float).reshape(3, 3)))
    for axis, sign in zip((2, 1, 0), signs, strict=True):
        if sign < 0:
            array = np.flip(array, axis=axis)
    return array


def _resample(plane: np.ndarray, row_mm: float, column_mm: float) -> np.ndarray:
    from scipy import ndimage

    return ndimage.zoom(plane.astype(np.float32), (row_mm / MM_PER_PIXEL, column_mm / MM_PER_PIXEL), order=1)


def _coronal(volume, y_mm) -> np.ndarray:
    """Coronal plane at y_mm (None: the body's middle row), superior at the top, at 2 mm per pixel."""
    array = _oriented(volume)
    if y_mm is None:
        rows = np.nonzero((array > -500).any(axis=(0, 2)))[0]
        j = int(rows.mean()) if rows.size else array.shape[1] // 2
    else:
        y = np.sort(axis_mm(volume, 1))
        j = int(np.argmin(np.abs(y - y_mm)))
    return _resample(array[::-1, j, :], volume.spacing[2], volume.spacing[0])


def _coronal_mip(volume) -> np.ndarray:
    return _resample(_oriented(volume).max(axis=1)[::-1], volume.spacing[2], volume.spacing[0])


def _axial(volume, k) -> np.ndarray:
    return _resample(_oriented(volume)[k], volume.spacing[1], volume.spacing[0])


def _window(plane: np.ndarray, window) -> np.ndarray:
    """Grey levels 0..1 (white = 1) as the window shows them; PET is drawn dark on white."""
    grey = np.clip((plane - window["vmin"]) / (window["vmax"] - window["vmin"]), 0.0, 1.0)
    return 1.0 - grey if window["cmap"] == "gray_r" else grey


def _stack(planes, gap_px: int) -> np.ndarray:
    width = max(p.shape[1] for p in planes)
    rows = []
    for plane in planes:
        padded = np.ones((plane.shape[0], width))
        padded[:, (width - plane.shape[1]) // 2:(width - plane.shape[1]) // 2 + plane.shape[1]] = plane
        rows += [padded, np.ones((gap_px, width))]
    return np.vstack(rows[:-1])


def _compose(out: Path, columns, caption: str, footer_px: int = 50) -> None:
    """Panels placed pixel for pixel on one canvas (so mm per pixel is equal everywhere), each column stacked
    top-down with its titles; saved as an 8-bit grey PNG. A caption of more lines needs a taller ``footer_px``."""
    from PIL import Image

    margin, title_px = 12, 20
    widths = [max(panel.shape[1] for _, panel in column) for column in columns]
    heights = [sum(panel.shape[0] + title_px + margin for _, panel in column) for column in columns]
    width, height = sum(widths) + margin * (len(columns) + 1), max(heights) + margin + footer_px
    canvas = np.ones((height, width))
    fig = plt.figure(figsize=(width / 100, height / 100), dpi=100)
    left = margin
    for column, column_width in zip(columns, widths, strict=True):
        top = margin
        for title, panel in column:
            y0 = top + title_px
            canvas[y0:y0 + panel.shape[0], left:left + panel.shape[1]] = panel
            fig.text(left / width, 1 - top / height, title, fontsize=8, va="top")
            top = y0 + panel.shape[0] + margin
        left += column_width + margin
    bar = int(100 / MM_PER_PIXEL)
    canvas[height - 36:height - 32, margin:margin + bar] = 0.0
    fig.text(margin / width, 1 - (height - 28) / height, "100 mm", fontsize=8, va="top")
    fig.text((margin + bar + 20) / width, 1 - (height - footer_px + 10) / height, caption, fontsize=7, va="top")
    fig.figimage(canvas, cmap="gray", vmin=0.0, vmax=1.0, origin="upper")
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    plt.close(fig)
    Image.fromarray(rgba[..., :3]).convert("L").save(out, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="Resources/Screenshots")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--voxel-mm", type=float, default=None, help="coarser grid for a quick look")
    parser.add_argument("--phantom-version", type=int, default=DEFAULT_PHANTOM_VERSION,
                        choices=REALISTIC_PHANTOM_VERSIONS, help="phantom generator version (default: %(default)s)")
    parser.add_argument("--nodes", action="store_true", help="only the version 6 / 7 lymph-node picture")
    parser.add_argument("--perineum-axilla", action="store_true",
                        help="only the version 7 / 8 perineum and axilla picture (of --seed; 6 is a man in the grid)")
    parser.add_argument("--genitalia", action="store_true",
                        help="only the version 8 / 9 genitalia picture (seeds 9, a man, and 0, a woman)")
    parser.add_argument("--mediastinum", action="store_true",
                        help="only the version 9 / 10 mediastinum picture (seed 6, a man)")
    args = parser.parse_args()
    version = args.phantom_version
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = WholeBodyConfig() if args.voxel_mm is None else WholeBodyConfig().with_voxel_mm(args.voxel_mm)
    if args.nodes:
        nodes_picture(out / "phantom_v7_nodes.png", config)
        print(out / "phantom_v7_nodes.png")
        return
    if args.genitalia:
        genitalia_picture(out / "phantom_v9_genitalia.png", config)
        print(out / "phantom_v9_genitalia.png")
        return
    if args.mediastinum:
        mediastinum_picture(out / "phantom_v10_mediastinum.png", config)
        print(out / "phantom_v10_mediastinum.png")
        return
    if args.perineum_axilla:
        perineum_axilla_picture(out / "phantom_v8_anatomy.png", config, args.seed)
        print(out / "phantom_v8_anatomy.png")
        return
    for n, name in enumerate(LESION_CLASSES):
        case = make_wholebody_case(args.seed + n, name, config, version=version, **CLASS_OPTIONS[name])
        class_picture(case, f"phantom v{version}, {name}", out / f"phantom_v{version}_{name}.png")
        print(out / f"phantom_v{version}_{name}.png")
    if SHARED.is_dir():
        comparison_picture(out / f"phantom_v{version}_vs_real.png", args.seed, config, version)
        print(out / f"phantom_v{version}_vs_real.png")
    else:
        print(f"skipped the comparison picture: {SHARED} is absent")


if __name__ == "__main__":
    main()
