#!/usr/bin/env bash
# Issue 30, item 3: phantom -> realistic CT with a CycleGAN, and whether a virtual PET trained on the translated
# phantoms behaves more physiologically on real patient CT than one trained on the raw phantoms.
#   bash Testing/Training/phantom_to_real_ct.sh [RUN_ROOT]      (default RUN_ROOT: ./runs; ~1-1.5 h on one thread)
# Needs the version-2 phantoms of train_virtual_pet_v2.sh in RUN_ROOT/data (made here if absent, same seeds).
# Design, written before anything was trained:
# * Region: both real CTs in ../shared/data show the upper abdomen (liver dome to kidneys), so every phantom is cut
#   to the top of T9 .. the bottom of L3, and both virtual PETs are trained and measured on that region only.
# * Domain A: CTs of 8 training phantoms (4 without contrast, 4 portal-venous: the torso CT is enhanced);
#   domain B: the two real CTs resampled onto the phantom grid (4 mm, 500 mm field of view; 32 slices in all).
#   CycleGAN: 128 px (3.9 mm pixels, the virtual PET's size), 5 slices as channels, width 0.25, 6 blocks, resize
#   up-sampling, batch 4, 4 epochs (last 2 decaying), seed 81.
# * Two virtual PETs, identical recipe and seed (the bundled recipe's networks, 3 epochs): 'raw' on the 48 cut
#   phantoms (24 + 24), 'translated' on the same phantoms after the CycleGAN's A -> B generator (same SUV, lesions).
# * Measures: virtual_pet_real_ct_physiology.py (muscle and fat SUV, left/right, below 0, outside the body) on the
#   real CTs; and evaluate-virtual-pet on 24 held-out cut phantoms (seeds 45/46), raw and translated.
# * Caveat stated with the result: the CycleGAN saw the real CTs' slices (without any PET) during training; with two
#   real CTs there is nothing else to learn their appearance from. The virtual PETs never saw a real CT.
# Decision rule (written first): 'translated' counts as better only if, on BOTH real CTs, its muscle SUVmean is
# closer to 0.8 (the published band's centre) and its left/right ratio closer to 1, with fat still below muscle.
# Safe to interrupt: run it again; finished stages are skipped and an unfinished training resumes.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="${1:-runs}"
MGS=".venv/bin/medgansynth"
PY=.venv/bin/python
STAGE="$PY Testing/Training/phantom_to_real_ct.py"
OUT="$ROOT/phantom_to_real"
V=2
mkdir -p "$ROOT/data" "$OUT"

source Testing/Training/run_folders.sh  # phantoms
phantoms v2_train_plain 48 41 none
phantoms v2_train_pv 24 42 portal-venous
phantoms v2_held_plain 12 45 none
phantoms v2_held_pv 12 46 portal-venous

pick() {  # pick OUT_FOLDER COUNT SOURCE... : the first COUNT cases of each source, linked
  local out="$1" count="$2"; shift 2
  [ -d "$out" ] && return
  mkdir -p "$out.tmp"
  for part in "$@"; do
    for case in $(ls -d "$ROOT/data/$part"/wholebody_* | head -n "$count"); do
      ln -s "$(realpath "$case")" "$out.tmp/${part}_$(basename "$case")"
    done
  done
  mv "$out.tmp" "$out"
}
pick "$OUT/train_src" 24 v2_train_plain v2_train_pv
pick "$OUT/held_src" 12 v2_held_plain v2_held_pv
[ -f "$OUT/cut_train.done" ] || { $STAGE crop "$OUT/train_src" "$OUT/cut_train" && touch "$OUT/cut_train.done"; }
[ -f "$OUT/cut_held.done" ] || { $STAGE crop "$OUT/held_src" "$OUT/cut_held" && touch "$OUT/cut_held.done"; }
[ -f "$OUT/real.done" ] || { $STAGE real-domain "$OUT/real" && touch "$OUT/real.done"; }
if [ ! -d "$OUT/domain_a" ]; then
  mkdir -p "$OUT/domain_a.tmp"
  for case in $(ls -d "$OUT/cut_train"/v2_train_plain_* | head -n 4) $(ls -d "$OUT/cut_train"/v2_train_pv_* | head -n 4); do
    ln -s "$(realpath "$case/ct.nrrd")" "$OUT/domain_a.tmp/$(basename "$case").nrrd"
  done
  mv "$OUT/domain_a.tmp" "$OUT/domain_a"
fi

CG="$OUT/cyclegan"
ARGS=(--threads 1 --checkpoint-every 1 --checkpoint-steps 200 --progress-lines --device cpu)
if [ ! -f "$CG/weights/cyclegan.safetensors" ]; then
  if [ -f "$CG/checkpoints/checkpoint_last.pt" ]; then
    $MGS train-cyclegan -o "$CG" --resume "${ARGS[@]}" >> "$CG.log" 2>&1
  else
    $MGS train-cyclegan --data-a "$OUT/domain_a" --data-b "$OUT/real" -o "$CG" --kind-a ct --kind-b ct \
      --name-a "phantom CT" --name-b "real CT" --image-size 128 --context-slices 2 --width 0.25 \
      --residual-blocks 6 --epochs 4 --decay-epochs 2 --upsampling resize --batch-size 4 --seed 81 "${ARGS[@]}" \
      > "$CG.log" 2>&1
  fi
fi
for split in train held; do
  [ -f "$OUT/translated_$split.done" ] || { $STAGE translate "$CG/weights/cyclegan.safetensors" "$OUT/cut_$split" \
    "$OUT/translated_$split" && touch "$OUT/translated_$split.done"; }
done

VP=(--epochs 3 --batch-size 8 --seed 31 --threads 1 --checkpoint-every 1 --checkpoint-steps 200 --progress-lines
    --width-fcn 0.25 --width-gan 0.25 --depth 7 --gan-upsampling resize --context-slices 2 --slice-size 128
    --lesion-repeats 5 --suv-weight-power 2 --symmetric-suv-weight)
train() {  # train ARM DATA
  local run="$OUT/vp_$1"
  [ -f "$run/weights/virtual_pet.safetensors" ] && return
  if [ -f "$run/checkpoints/checkpoint_last.pt" ]; then
    $MGS train-virtual-pet -o "$run" --resume --threads 1 --progress-lines >> "$run.log" 2>&1
  else
    $MGS train-virtual-pet --data "$2" -o "$run" "${VP[@]}" > "$run.log" 2>&1
  fi
}
train raw "$OUT/cut_train"
train translated "$OUT/translated_train"

measure() {  # measure ARM
  local model="$OUT/vp_$1/weights/virtual_pet.safetensors"
  [ -f "$OUT/$1_real_ct.json" ] || $PY Testing/Training/virtual_pet_real_ct_physiology.py --model "$model" --json \
    > "$OUT/$1_real_ct.json"
  for held in cut_held translated_held; do
    [ -f "$OUT/$1_on_$held.json" ] || $MGS evaluate-virtual-pet --data "$OUT/$held" --model "$model" \
      -o "$OUT/$1_on_$held" --device cpu --threads 1 --slice-smoothing 12 --json --overwrite > "$OUT/$1_on_$held.json"
  done
}
measure raw
measure translated
$PY Testing/Training/phantom_to_real_ct_report.py "$OUT" | tee "$OUT/report.txt"
