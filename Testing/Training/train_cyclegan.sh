#!/usr/bin/env bash
# PREPARED, NOT YET RUN IN FULL: the unpaired CT -> PET CycleGAN (seed 71) on whole-body phantoms, sized to finish in
# at most 90 minutes on ONE CPU thread, then bundled as 'cyclegan-phantom' (task cyclegan): the virtual PET's default
# input check (cyclegan/input_check.py).
#   bash Testing/Training/train_cyclegan.sh [RUN_ROOT]          (default RUN_ROOT: ./runs)
#   bash Testing/Training/train_cyclegan.sh RUN_ROOT --tiny     (every command at toy size, ~1-2 min; installs into
#                                                                RUN_ROOT/models, not Resources/Models)
# Data: MedGANSynth whole-body PET/CT phantoms only (never patients), 4 mm CT voxels as the bundled virtual PET's.
# 16 training phantoms (seed 51): the CTs of 8 of them form domain A and the PETs (resampled onto their own CT
# grids, in SUV) of the OTHER 8 form domain B, so no CT has its own PET among the training images.
# PHANTOM_VERSION (default 1) must match the bundled virtual PET's training phantoms: the band says which CTs are
# "like the training CTs", and a tiny model trained on version 1 flagged a version-2 phantom (measured in
# Testing/Python/test_cyclegan_input_check.py); if train_virtual_pet_v2.sh bundles the version-2 model, use 2.
# Recipe (CPU-sized; the paper's is 256 px, width 1, 9 blocks, batch 1, 200 epochs): 64 x 64 slices (7.8 mm pixels
# of the 500 mm field of view), 5 slices as channels (--context-slices 2: +-8 mm at 4 mm slices, the bundled virtual
# PET's context), ResNet generator width 0.25 with 6 residual blocks (the paper's number below 256 px), resize-
# convolution up-sampling (the virtual PET's checkerboard lesson), batch 4, 5 epochs of which the last 3 decay
# linearly, lambda 10, identity 0.5 lambda, pools of 50.
# Time, estimated (not yet run; Testing/Benchmarks/bench_cyclegan_step.py, one thread, session 20): a step of this
# recipe costs 0.18-0.30 of a step of the 128 px recipe prepared before (3 runs), i.e. 0.17 s per image at load
# average 1-3 and 0.45 s at load 5-6 on this 2-core machine. 8 phantoms x ~240 body slices = ~1,920 images per
# epoch, 9,600 in 5 epochs: ~27 min of training at load 1-3, ~72 min at load 5-6; with the phantoms, the band and
# the evaluation below, ~40 / ~90 min. Under heavier load it is slower still (2.9 s per image at load 9): run it
# when at most one other job shares the machine.
# At the end of training the card gets metrics.cycle_error_band (95th percentile of the per-slice CT -> PET -> CT
# error over the training CT slices), the input check's reference.
# Evaluation: 24 held-out phantoms (seed 23, as the virtual PET's held-out set) with evaluate_cyclegan.py, side by
# side with the bundled paired model (pix2pix GAN alone and the blended virtual PET): SSIM / PSNR / MAE, TPR, false
# positives, and per scan the lesions invented (> 2.5 SUV, >= 0.5 ml, where the true PET has none) and erased; into
# the card as metrics.heldout. Then the input check's cycle error of held-out phantom CTs, the real CTs in
# ../shared/data and non-CT images under this model (cycle_error_scores.py --model).
# Safe to interrupt: run it again; finished steps are skipped and an unfinished run resumes from its checkpoint.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="${1:-runs}"
TINY="${2:-}"
PY="${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}"
MGS=("$PY" -m MedGANSynthLib)
VERSION="${PHANTOM_VERSION:-1}"
if [ "$TINY" = "--tiny" ]; then
  # Same commands, toy sizes: 2 + 2 training phantoms and 2 held-out ones at 16 mm, 32 px, 1 block, 1 epoch.
  PHANTOM=(--kind wholebody --voxel-mm 16 --phantom-version "$VERSION"); HALF=2; HELDOUT=2
  RECIPE=(--image-size 32 --context-slices 1 --width 0.125 --residual-blocks 1 --epochs 1 --decay-epochs 1)
  MODELS="$ROOT/models"
else
  [ -z "$TINY" ] || { echo "unknown option '$TINY'; the only one is --tiny" >&2; exit 2; }
  PHANTOM=(--kind wholebody --voxel-mm 4 --phantom-version "$VERSION"); HALF=8; HELDOUT=24
  RECIPE=(--image-size 64 --context-slices 2 --width 0.25 --residual-blocks 6 --epochs 5 --decay-epochs 3)
  MODELS="Resources/Models"
fi
TRAIN="$ROOT/data/cg_train$((2 * HALF))_v$VERSION"
UNPAIRED="$ROOT/data/cg_unpaired$((2 * HALF))_v$VERSION"
HELD="$ROOT/data/cg_heldout${HELDOUT}_v$VERSION"
RUN="$ROOT/cyclegan_ct_pet_v$VERSION"
mkdir -p "$ROOT/data"

[ -f "$TRAIN/cases.csv" ] || "${MGS[@]}" phantoms "${PHANTOM[@]}" --count $((2 * HALF)) --seed 51 -o "$TRAIN" --quiet

# Unpaired folders: a seeded shuffle of the cases, CTs of the first half -> A, SUV of the second half -> B.
if [ ! -f "$UNPAIRED/done" ]; then
  mkdir -p "$UNPAIRED/ct" "$UNPAIRED/pet"
  $PY - "$TRAIN" "$UNPAIRED" "$HALF" <<'PY'
import random, sys
from pathlib import Path
from MedGANSynthLib.io.volume_io import write_volume
from MedGANSynthLib.virtual_pet.cases import discover_cases, load_case
cases, out, half = discover_cases(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
random.Random(61).shuffle(cases)
for case in cases[:half]:
    (out / "ct" / f"{case.case_id}.nrrd").symlink_to(case.ct_path.resolve())
for case in cases[half:]:
    write_volume(load_case(case).suv, out / "pet" / f"{case.case_id}_suv.nrrd")
(out / "done").write_text(f"{half} CT cases in ct/, the SUV of {len(cases) - half} other cases in pet/\n")
PY
fi

ARGS=(--threads 1 --checkpoint-every 1 --checkpoint-steps 500 --progress-lines --device cpu)
if [ ! -f "$RUN/weights/cyclegan.safetensors" ]; then
  if [ -f "$RUN/checkpoints/checkpoint_last.pt" ]; then
    "${MGS[@]}" train-cyclegan -o "$RUN" --resume "${ARGS[@]}" >> "$RUN.log" 2>&1
  else
    "${MGS[@]}" train-cyclegan --data-a "$UNPAIRED/ct" --data-b "$UNPAIRED/pet" -o "$RUN" --kind-a ct --kind-b pet \
      --name-a CT --name-b PET "${RECIPE[@]}" --upsampling resize --batch-size 4 --seed 71 "${ARGS[@]}" \
      > "$RUN.log" 2>&1
  fi
fi

# The card says plainly that both domains were phantoms (train-cyclegan cannot know where its folders came from);
# the cycle-error band train-cyclegan measured stays in metrics.cycle_error_band.
$PY - "$RUN/weights/cyclegan.json" "$HALF" "${PHANTOM[*]}" <<'PY'
import dataclasses, sys
from MedGANSynthLib.cyclegan.input_check import BAND_KEY
from MedGANSynthLib.weights.model_card import ModelCard, phantom_training_data
card_path, half, phantoms = sys.argv[1], int(sys.argv[2]), sys.argv[3]
card = ModelCard.load(card_path)
if BAND_KEY not in card.metrics:
    sys.exit(f"{card_path} has no metrics.{BAND_KEY}; train-cyclegan records it for a CT domain A")
data = phantom_training_data(card.training_data["counts"], f"Domain A: axial CT slices of {half} whole-body phantoms; "
                             f"domain B: axial SUV slices of {half} OTHER phantoms (phantoms {phantoms} --count "
                             f"{2 * half} --seed 51, split by a seeded shuffle): no CT was trained beside its own PET.")
dataclasses.replace(card, training_data={**data, "dataset": card.training_data.get("dataset")}).save(card_path)
print(f"cycle-error band: {card.metrics[BAND_KEY]['band_hu']:.1f} HU (95th percentile of "
      f"{card.metrics[BAND_KEY]['slices']} training slices)")
PY

# Held out: 24 phantoms (seed 23; with version 1 the virtual PET's held-out set), never used to choose this model.
[ -f "$HELD/cases.csv" ] || "${MGS[@]}" phantoms "${PHANTOM[@]}" --count "$HELDOUT" --seed 23 -o "$HELD" --quiet
$PY Testing/Training/evaluate_cyclegan.py --data "$HELD" --cyclegan "$RUN/weights/cyclegan.safetensors" \
  --virtual-pet virtual-pet-phantom -o "$ROOT/cyclegan_eval_v$VERSION.json" --write-card-metrics \
  | tee "$ROOT/cyclegan_eval_v$VERSION.txt"
# Input check under this model: held-out phantom CTs, real CTs, non-CT images (measured, not assumed).
$PY Testing/Training/cycle_error_scores.py "$ROOT/cycle_error_v$VERSION" --model "$RUN/weights/cyclegan.safetensors" \
  --phantoms "$HELD" | tee "$ROOT/cycle_error_v$VERSION.txt"
$PY Testing/Training/cyclegan_input_check_card.py "$RUN/weights/cyclegan.json" \
  "$ROOT/cycle_error_v$VERSION/cycle_error_scores.json"

# Bundle: Resources/Models/cyclegan_phantom.safetensors + .json, listed as 'cyclegan-phantom' (task cyclegan); from
# then on `virtual-pet` runs it as its input check unless --input-check none.
$PY - "$RUN/weights/cyclegan.safetensors" "$MODELS" <<'PY'
import sys
from pathlib import Path
from MedGANSynthLib.cyclegan.weights import install_cyclegan
Path(sys.argv[2]).mkdir(parents=True, exist_ok=True)
print(install_cyclegan(sys.argv[1], sys.argv[2], "cyclegan-phantom",
                       "CycleGAN CT <-> PET (unpaired, phantom-trained; the virtual PET's input check)"))
PY
