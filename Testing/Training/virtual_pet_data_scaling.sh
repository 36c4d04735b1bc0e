#!/usr/bin/env bash
# Does the virtual PET's detection curve move with the number of training phantoms? (Session 29; HISTORY.md.)
# Session 28's gain sweep showed every candidate on one curve of margin TPR against false positives per scan, so
# they differ in calibration, not in what they tell apart. This trains the bundled recipe on 36, 72 and 108
# version-5 phantoms at (nearly) the same number of optimiser steps, so that only the number of distinct phantoms
# changes, and sweeps each model's output gain on the 16 selection phantoms.
#   bash Testing/Training/virtual_pet_data_scaling.sh V5_ROOT OUT
# V5_ROOT is a finished `PHANTOM_VERSION=5 train_virtual_pet_v2.sh` run folder: its data/v5_train_plain (48, seed
# 41), data/v5_train_pv (24, seed 42) and data/v5_sel16 are reused, and its virtual_pet_v5 (72 phantoms, 3 epochs)
# is the middle point. New here: 24 unenhanced (seed 141) and 12 portal-venous (seed 142) phantoms.
#   36 phantoms: the first 24 unenhanced + the first 12 portal-venous of the 72, 6 epochs
#   108 phantoms: the 72 + the 36 new ones, 2 epochs
# Both trainings run at once, one thread each. Safe to interrupt: run it again and finished steps are skipped.
# A measurement, not a choice: nothing here is installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
V5=${1:?V5_ROOT}
OUT=${2:?OUT}
MGS=".venv/bin/medgansynth"
export OMP_NUM_THREADS=1
mkdir -p "$OUT/data"

new_phantoms() {  # NAME COUNT SEED CONTRAST
  [ -f "$OUT/data/$1/cases.csv" ] || $MGS phantoms --kind wholebody --voxel-mm 4 --phantom-version 5 \
    --count "$2" --seed "$3" --contrast "$4" -o "$OUT/data/$1" --quiet
}
link_cases() {  # DEST SOURCE_SET COUNT: the first COUNT case folders of SOURCE_SET, as links in DEST
  local src=$2
  mkdir -p "$1"
  for case in $(find "$src/" -maxdepth 1 -name 'wholebody_*' -type d | sort | head -n "$3"); do
    ln -sfn "$(realpath "$case")" "$1/$(basename "$src")_$(basename "$case")"
  done
}
new_phantoms v5_more_plain 24 141 none
new_phantoms v5_more_pv 12 142 portal-venous
if [ ! -d "$OUT/data/train36" ]; then
  link_cases "$OUT/data/train36.tmp" "$V5/data/v5_train_plain" 24
  link_cases "$OUT/data/train36.tmp" "$V5/data/v5_train_pv" 12
  mv "$OUT/data/train36.tmp" "$OUT/data/train36"
fi
if [ ! -d "$OUT/data/train108" ]; then
  for set in "$V5/data/v5_train_plain" "$V5/data/v5_train_pv" "$OUT/data/v5_more_plain" "$OUT/data/v5_more_pv"; do
    link_cases "$OUT/data/train108.tmp" "$set" 1000
  done
  mv "$OUT/data/train108.tmp" "$OUT/data/train108"
fi

train() {  # NAME EPOCHS: the bundled recipe (train_virtual_pet_v2.sh) on data/NAME
  local run="$OUT/$1" args=(--epochs "$2" --batch-size 8 --seed 31 --threads 1 --checkpoint-every 1
    --checkpoint-steps 500 --progress-lines)
  [ -f "$run/weights/virtual_pet.safetensors" ] && return
  if [ -f "$run/checkpoints/checkpoint_last.pt" ]; then
    $MGS train-virtual-pet -o "$run" --resume "${args[@]}" >> "$run.log" 2>&1
  else
    $MGS train-virtual-pet --data "$OUT/data/$1" -o "$run" "${args[@]}" --width-fcn 0.25 --width-gan 0.25 \
      --depth 7 --gan-upsampling resize --context-slices 2 --slice-size 128 --lesion-repeats 5 \
      --suv-weight-power 2 --symmetric-suv-weight > "$run.log" 2>&1
  fi
}
into() { local out=$1; shift; "$@" > "$out.tmp" && mv "$out.tmp" "$out"; }
sweep() {  # NAME MODEL
  [ -f "$OUT/$1_sweep.json" ] || into "$OUT/$1_sweep.json" .venv/bin/python Testing/Training/virtual_pet_gain_sweep.py \
    "$V5/data/v5_sel16" --model "$2" --blend-veto 1.0 --slice-smoothing 12 --json
}
train train36 6 &
train train108 2 &
sweep train72 "$V5/virtual_pet_v5/weights/virtual_pet.safetensors"
wait
sweep train36 "$OUT/train36/weights/virtual_pet.safetensors"
sweep train108 "$OUT/train108/weights/virtual_pet.safetensors"
.venv/bin/python - "$OUT" <<'EOF'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
print("blend: margin TPR / false positives per scan at each gain (reads the output at 2.5 / gain SUV)")
for name in ("train36", "train72", "train108"):
    curve = json.loads((out / f"{name}_sweep.json").read_text())["curves"]["blend"]
    print(f"{name:9s}", "  ".join(f"{r['gain']:.2f}: {r['tpr_margin']:.2f} / {r['fp_margin_per_scan']:.1f}" for r in curve))
EOF
