#!/usr/bin/env bash
# Reproduce the bundled virtual-PET model (Resources/Models/virtual_pet_phantom.*) from scratch on ONE CPU thread.
#   bash Testing/Training/train_virtual_pet.sh [RUN_ROOT]        (default RUN_ROOT: ./runs)
# Data: MedGANSynth whole-body PET/CT phantoms only (never patients): 24 training cases (seed 21) and 8 held-out
# cases (seed 22, the paper's 8 test scans) that share no subject, 4 mm CT voxels.
# Model: FCN-4s width 0.125 (fc 512) + U-Net width 0.25 depth 7 with resize-convolution up-sampling + PatchGAN
# width 0.25, 3 CT slices as channels, slices resampled to 128 x 128, batch 8 (~16 MB of float32 tensors).
# Time, measured on the 2-core build machine with 2-3 other trainings beside it, one thread: 899 steps per epoch,
# 6-9 minutes per epoch (13-20 slices/s), about 45 minutes for 6 epochs; the held-out evaluation takes ~2 minutes.
# Why 6 epochs: resumed to 10 (medgansynth train-virtual-pet -o RUN --resume --epochs 10) the images got closer
# (held-out SSIM blended 0.79 -> 0.84, MAE 0.41 -> 0.33 SUV) but detection got worse (TPR 0.21 -> 0.13, false
# positives 7.8 -> 10.0 per scan); the bundled model is the 6-epoch one, which detects better.
# Tried in session 3, not bundled: the same run with --suv-weight-power 2 (lesion pixels weigh (1 + SUV)^2) found
# more lesions but drew more false ones and a worse image: held-out blended TPR 0.21 -> 0.38 (FCN alone 0.21 ->
# 0.58), false positives 7.8 -> 19.8 per scan, blended SSIM 0.79 -> 0.66.
# Tried in session 5, not bundled: 72 training phantoms (phantoms --count 72 --seed 21, whose first 24 are this
# script's), --suv-weight-power 2 --context-slices 2 --epochs 3 (the other options as below; 8,127 steps, 55 min):
# held-out blended TPR 0.21 -> 0.71 but focal TPR 0.12 -> 0.08 (evaluation.py: the overlapping candidate must be at
# most 4 lesion volumes), FP 7.8 -> 23.5 per scan (14.1 with --slice-smoothing 12), SSIM 0.79 -> 0.67. Its "finds"
# were organ-sized components (0.1-2.8 l) touching the lesions, not hot spots on them.
# Safe to interrupt: run it again and finished steps are skipped, an unfinished run resumes from its checkpoint.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="${1:-runs}"
MGS=".venv/bin/medgansynth"
RUN="$ROOT/virtual_pet"
mkdir -p "$ROOT"

[ -f "$ROOT/data/vpet_train/cases.csv" ] || \
  $MGS phantoms --kind wholebody --count 24 --seed 21 --voxel-mm 4 -o "$ROOT/data/vpet_train"
[ -f "$ROOT/data/vpet_heldout/cases.csv" ] || \
  $MGS phantoms --kind wholebody --count 8 --seed 22 --voxel-mm 4 -o "$ROOT/data/vpet_heldout"

ARGS=(--epochs 6 --batch-size 8 --seed 31 --threads 1 --checkpoint-every 1 --progress-lines)
if [ ! -f "$RUN/weights/virtual_pet.safetensors" ]; then
  if [ -f "$RUN/checkpoints/checkpoint_last.pt" ]; then
    $MGS train-virtual-pet -o "$RUN" --resume "${ARGS[@]}" >> "$ROOT/virtual_pet.log" 2>&1
  else
    $MGS train-virtual-pet --data "$ROOT/data/vpet_train" -o "$RUN" "${ARGS[@]}" \
      --width-fcn 0.125 --width-gan 0.25 --depth 7 --gan-upsampling resize --context-slices 1 --slice-size 128 \
      --lesion-repeats 5 \
      > "$ROOT/virtual_pet.log" 2>&1
  fi
fi

# Bundle at half precision: Resources/Models/virtual_pet_phantom.safetensors (8 MB, float16) + .json, listed as
# 'virtual-pet-phantom' in catalogue.json.
.venv/bin/python -c "
from MedGANSynthLib.virtual_pet.weights import install_virtual_pet
print(install_virtual_pet('$RUN/weights/virtual_pet.safetensors', 'Resources/Models', 'virtual-pet-phantom',
                          'Virtual PET from CT (FCN-4s + pix2pix, phantom-trained)', float16=True))"

# Held-out metrics of the installed (float16) weights go into its card (TPR, FP per scan, SSIM/PSNR/MAE for FCN, GAN
# and blended).
$MGS evaluate-virtual-pet --data "$ROOT/data/vpet_heldout" --model Resources/Models/virtual_pet_phantom.safetensors \
  -o "$ROOT/virtual_pet_eval" --device cpu --threads 1 --write-card-metrics --json > "$ROOT/virtual_pet_eval.json"
cat "$ROOT/virtual_pet_eval/report.md"
