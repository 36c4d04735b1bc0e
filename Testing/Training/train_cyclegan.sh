#!/usr/bin/env bash
# PREPARED, NOT YET RUN IN FULL: the unpaired CT -> PET CycleGAN (seed 003) on whole-body phantoms, on ONE CPU thread.
#   bash Testing/Training/train_cyclegan.sh [RUN_ROOT]        (default RUN_ROOT: ./runs)
# Data: MedGANSynth whole-body PET/CT phantoms only (never patients). 32 training phantoms (seed 51, 4 mm voxels):
# the CTs of 16 of them form domain A and the PETs (resampled onto their own CT grids, in SUV) of the OTHER 16 form
# domain B, so no CT has its own PET among the training images: the pairs exist on disk but training never sees one.
# Recipe (CPU-sized, not the paper's 256 px / width 1 / 9 blocks / batch 1): 128 x 128 slices, 5 slices as channels
# (--context-slices 2, as the bundled virtual PET), ResNet generator width 0.25 with the paper's 6 blocks for 128 px,
# resize-convolution up-sampling (the virtual PET's checkerboard lesson), batch 4, 4 epochs of which the last 2
# decay linearly, lambda 10, identity 0.5 lambda, pools of 50.
# Measured: 6.3 s per step of this recipe (batch 4, 128 px, 5 channels; one thread on a 2-core machine at load
# average 8-9). About 16 x 240 = 3,850 slices per epoch = 960 steps: ~100 min per epoch, ~7 h for 4 epochs there;
# expect it several times faster on an idle machine with --threads 2 or more. Not yet run.
# Evaluation: the 24 held-out phantoms of the virtual PET (seed 23, 60 lesions) with evaluate_cyclegan.py, side by
# side with the bundled paired model (pix2pix GAN alone and the blended virtual PET): SSIM / PSNR / MAE, TPR, false
# positives, and per scan the lesions invented (> 2.5 SUV, >= 0.5 ml, where the true PET has none) and erased.
# Safe to interrupt: run it again; finished steps are skipped and an unfinished run resumes from its checkpoint.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="${1:-runs}"
MGS=".venv/bin/medgansynth"
PY=".venv/bin/python"
mkdir -p "$ROOT"

[ -f "$ROOT/data/cg_train32/cases.csv" ] || \
  $MGS phantoms --kind wholebody --count 32 --seed 51 --voxel-mm 4 -o "$ROOT/data/cg_train32"

# Unpaired folders: a seeded shuffle of the 32 cases, CTs of the first 16 -> A, SUV of the last 16 -> B.
if [ ! -f "$ROOT/data/cg_unpaired/done" ]; then
  mkdir -p "$ROOT/data/cg_unpaired/ct" "$ROOT/data/cg_unpaired/pet"
  $PY - "$ROOT/data/cg_train32" "$ROOT/data/cg_unpaired" <<'PY'
import random, sys
from pathlib import Path
from MedGANSynthLib.io.volume_io import write_volume
from MedGANSynthLib.virtual_pet.cases import discover_cases, load_case
cases, out = discover_cases(sys.argv[1]), Path(sys.argv[2])
random.Random(61).shuffle(cases)
for case in cases[:16]:
    (out / "ct" / f"{case.case_id}.nrrd").symlink_to(case.ct_path.resolve())
for case in cases[16:]:
    write_volume(load_case(case).suv, out / "pet" / f"{case.case_id}_suv.nrrd")
(out / "done").write_text("16 CT cases in ct/, the SUV of 16 other cases in pet/\n")
PY
fi

RUN="$ROOT/cyclegan_ct_pet"
ARGS=(--threads 1 --checkpoint-every 1 --checkpoint-steps 1000 --progress-lines --device cpu)
if [ ! -f "$RUN/weights/cyclegan.safetensors" ]; then
  if [ -f "$RUN/checkpoints/checkpoint_last.pt" ]; then
    $MGS train-cyclegan -o "$RUN" --resume "${ARGS[@]}" >> "$RUN.log" 2>&1
  else
    $MGS train-cyclegan --data-a "$ROOT/data/cg_unpaired/ct" --data-b "$ROOT/data/cg_unpaired/pet" -o "$RUN" \
      --kind-a ct --kind-b pet --name-a CT --name-b PET --image-size 128 --context-slices 2 --width 0.25 \
      --residual-blocks 6 --upsampling resize --batch-size 4 --epochs 4 --decay-epochs 2 --seed 71 "${ARGS[@]}" \
      > "$RUN.log" 2>&1
  fi
fi

# The card says plainly that both domains were phantoms (train-cyclegan cannot know where its folders came from).
$PY - "$RUN/weights/cyclegan.json" <<'PY'
import dataclasses, sys
from MedGANSynthLib.weights.model_card import ModelCard, phantom_training_data
card = ModelCard.load(sys.argv[1])
data = phantom_training_data(card.training_data["counts"], "Domain A: axial CT slices of 16 whole-body phantoms; domain "
                             "B: axial SUV slices of 16 OTHER phantoms (phantoms --kind wholebody --count 32 --seed 51 "
                             "--voxel-mm 4, split by a seeded shuffle): no CT was trained beside its own PET.")
dataclasses.replace(card, training_data={**data, "dataset": card.training_data.get("dataset")}).save(sys.argv[1])
PY

# Held out: the virtual PET's 24 phantoms (seed 23), never used to choose this model.
[ -f "$ROOT/data/vpet_fresh24/cases.csv" ] || \
  $MGS phantoms --kind wholebody --count 24 --seed 23 --voxel-mm 4 -o "$ROOT/data/vpet_fresh24"
$PY Testing/Training/evaluate_cyclegan.py --data "$ROOT/data/vpet_fresh24" \
  --cyclegan "$RUN/weights/cyclegan.safetensors" --virtual-pet virtual-pet-phantom \
  -o "$ROOT/cyclegan_eval.json" --write-card-metrics | tee "$ROOT/cyclegan_eval.txt"
# Input check: cycle error of held-out phantom CTs, the real CTs and non-CT images under this model.
# (cycle_error_scores.py trains its own small model; to score this one, load $RUN/weights/cyclegan.safetensors.)
