#!/usr/bin/env bash
# Reproduce the bundled virtual-PET model (Resources/Models/virtual_pet_phantom.*) from scratch on ONE CPU thread.
#   bash Testing/Training/train_virtual_pet.sh [RUN_ROOT]        (default RUN_ROOT: ./runs)
# Data: MedGANSynth whole-body PET/CT phantoms only (never patients): 72 training cases (seed 21), 4 mm CT voxels.
# Recipe (session 6): FCN-4s + U-Net width 0.25 depth 7 with resize-convolution up-sampling + PatchGAN width 0.25,
# 5 CT slices as channels (--context-slices 2), slices resampled to 128 x 128, batch 8, lesion slices 5 times per
# epoch, loss weight (1 + SUV)^2 (--suv-weight-power 2) taken from the larger of the true and the predicted SUV
# (--symmetric-suv-weight), 3 epochs (8,127 steps, 80-110 minutes on one thread beside other jobs). Inference
# averages the outputs over 12 mm of slices (--slice-smoothing 12, stored in the card).
# Bundled model (session 10): the FCN of the run with FCN width 0.25 and the generator of the run with FCN width
# 0.125, joined by virtual_pet/combine.py. The two networks train independently; the runs' generators differ only
# because the wider FCN draws more numbers (initial weights, dropout masks) from the shared random stream.
# Held-out (24 phantoms, seed 23, 60 lesions): blended TPR 0.48 (focal 0.25), 15.0 false positives per scan, SSIM
# 0.727; GAN alone TPR 0.43 (focal 0.28), FP 14.5, SSIM 0.746; FCN alone TPR 0.48 (focal 0.15), FP 12.6, SSIM 0.645.
# The true PET itself scores TPR 0.87 (focal 0.75) by the same rules.
# Liver only (160 phantoms, seed 26, oesophagus and lung, 31 liver lesions; --region liver): blended TPR 0.29
# (focal 0.13), 3.4 false positives per scan, SSIM 0.811 (GAN 0.811, FCN 0.780); only 18 of the 31 are visible
# in the CT by Rose's criterion (lesion_ct_visibility.py), a CT-only ceiling of 0.58.
# History (none of the options above is in the paper; the paper's settings stay the library defaults):
# Sessions 2-5 bundled a 6-epoch model on 24 training phantoms (the first 24 of today's 72), 3 CT slices, the
#   paper's linear weight, no smoothing: blended TPR 0.21 (focal 0.12), FP 7.6 per scan, SSIM 0.79. Resumed to 10
#   epochs the images got closer (SSIM 0.79 -> 0.84) but detection got worse (TPR 0.21 -> 0.13, FP 7.8 -> 10.0).
#   Its command: git show 6f144b9:Testing/Training/train_virtual_pet.sh
# Session 3, not bundled: that run with --suv-weight-power 2 found more lesions but drew more false ones and a worse
#   image: blended TPR 0.21 -> 0.38 (FCN alone 0.21 -> 0.58), FP 7.8 -> 19.8 per scan, SSIM 0.79 -> 0.66.
# Session 5, not bundled: today's command without --symmetric-suv-weight: blended TPR 0.71 but focal TPR 0.08
#   (evaluation.py: the overlapping candidate must be at most 4 lesion volumes), FP 23.5 per scan (14.1 with
#   --slice-smoothing 12), SSIM 0.67. Its "finds" were organ-sized components (0.1-2.8 l) touching the lesions.
#   The paper's weight comes from the truth alone, so a hot halo on cold tissue costs little; the symmetric weight
#   (session 6) took focal TPR 0.08 -> 0.25 and FP 23.5 -> 15.9 at the same seed and data.
# Session 7, not bundled: the bundled run resumed to 5 epochs (train-virtual-pet -o RUN --resume --epochs 5, ~50 min
#   on one thread beside two other jobs), float16, --slice-smoothing 12: blended TPR 0.54 -> 0.75 but focal TPR
#   0.25 -> 0.12 and FP 9.8 -> 16.8 per scan, SSIM 0.73; GAN alone 0.71 / 0.17 / 17.3 / 0.755; FCN alone 0.46 / 0.21
#   / 14.3 / 0.58. More epochs trade focal finds for hot halos again.
# Session 7, blend masks screened on the bundled model's held-out predictions (script not kept): FCN > 3, 4 or 6
#   SUV; FCN components of at most 2-30 ml; FCN > 2.5 where the GAN is also > 1 or > 2. None beat the GAN alone on
#   SSIM (best 0.752 vs 0.752) and none found more lesions than the paper's mask (13/24); the FCN is the weak
#   network here (SSIM 0.60), so the blend cannot rise above the GAN until the FCN improves.
# Session 8: 24 fresh phantoms (seed 23, 60 lesions, made after the choice) became the card's held-out set: blended
#   TPR 0.48 (focal 0.23), FP 13.6 per scan, SSIM 0.72; GAN alone 0.43 / 0.28 / 14.5 / 0.75; FCN alone 0.42 / 0.18
#   / 13.2 / 0.60; the true PET 0.87 (focal 0.75). The seed-22 figures above are the ones the model was chosen on.
# Session 8, not bundled: the bundled run resumed one epoch at a tenth of the rates (train-virtual-pet -o RUN
#   --resume --epochs 4 --lr 2e-5, ~45 min on one thread beside other jobs), float16: on the 24 fresh phantoms
#   blended TPR 0.42 (focal 0.27), FP 10.3, SSIM 0.71; GAN alone 0.38 / 0.32 / 8.9 / 0.73; FCN 0.57 / 0.13 / 16.4
#   / 0.62. Fewer false lesions, fewer found, a less faithful image.
# Session 9, not bundled: this file's command with --width-fcn 0.25 (twice the FCN's channels; 3 epochs, ~110 min on
#   one thread beside other jobs), installed at float16. Chosen against the bundled model on 16 new phantoms (phantoms
#   --kind wholebody --count 16 --seed 24 --voxel-mm 4, 37 lesions) by a rule written before either was scored:
#   switch only if blended SSIM >= the bundled model's, blended TPR >= its - 0.05 and FP per scan <= its + 2.
#   Blended TPR 0.59 (focal 0.38), FP 18.1, SSIM 0.73 against the bundled model's 0.59 (0.32), 12.9, 0.72; FCN alone
#   TPR 0.30 -> 0.46, SSIM 0.61 -> 0.65; GAN alone 0.57 -> 0.59, FP 12.8 -> 19.8, SSIM 0.747 -> 0.753. Five more
#   false lesions per scan broke the rule, and the blend still stayed below the GAN alone.
# Session 10, bundled: the combination above, chosen on the seed-24 selection set (its second use) by the session-9
#   rule, written down before it was scored: blended TPR 0.62 (focal 0.35), FP 14.2, SSIM 0.726 against the session-6
#   model's 0.59 (0.32), 12.9, 0.719. On the 24 held-out phantoms against the session-6 model: blended TPR 0.48 for
#   both, focal 0.23 -> 0.25, FP 13.6 -> 15.0, SSIM 0.721 -> 0.727; FCN alone TPR 0.42 -> 0.48, SSIM 0.60 -> 0.64.
#   The file grows from 8 to 21 MB and one-thread inference slows from 120 to 83 slices per second.
# Session 11, not bundled: the width-0.25 run's command with --slice-size 256 --crop-size 128 --depth 6 and --threads 2
#   (random 128-pixel windows of 256-pixel slices, each lesion slice's window holding a lesion; 3 epochs, 8,127
#   steps, ~95 min). Rule written before scoring: the session-9 rule plus file <= 25 MB and <= 60 s per phantom CT,
#   on 16 new phantoms (phantoms --kind wholebody --count 16 --seed 25 --voxel-mm 4, 37 lesions). Blended TPR 0.43
#   -> 0.59 (focal 0.27 -> 0.32), FP 14.1 -> 18.4, SSIM 0.735 -> 0.737: failed on false positives. Held-out 24: TPR
#   0.48 -> 0.58 (focal 0.25 -> 0.23), FP 15.0 -> 19.3, SSIM 0.727 -> 0.736. Its FCN gained above 4 SUV (SSIM 0.53
#   -> 0.64) but its generator lost there (0.81 -> 0.71). 19 MB; 34 s instead of 8 s per phantom CT.
# Safe to interrupt: run it again and finished steps are skipped, an unfinished run resumes from its last checkpoint
# (at most 1,000 steps old; --checkpoint-steps does not change the result).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="${1:-runs}"
MGS=".venv/bin/medgansynth"
mkdir -p "$ROOT"

[ -f "$ROOT/data/vpet_train72/cases.csv" ] || \
  $MGS phantoms --kind wholebody --phantom-version 1 --count 72 --seed 21 --voxel-mm 4 -o "$ROOT/data/vpet_train72"

ARGS=(--epochs 3 --batch-size 8 --seed 31 --threads 1 --checkpoint-every 1 --checkpoint-steps 1000 --progress-lines)
# train RUN FCN_WIDTH: one 3-epoch run of the bundled recipe; only the FCN's width differs between the two runs.
train() {
  local run="$ROOT/$1" log="$ROOT/$1.log"
  [ -f "$run/weights/virtual_pet.safetensors" ] && return
  if [ -f "$run/checkpoints/checkpoint_last.pt" ]; then
    $MGS train-virtual-pet -o "$run" --resume "${ARGS[@]}" >> "$log" 2>&1
  else
    $MGS train-virtual-pet --data "$ROOT/data/vpet_train72" -o "$run" "${ARGS[@]}" \
      --width-fcn "$2" --width-gan 0.25 --depth 7 --gan-upsampling resize --context-slices 2 --slice-size 128 \
      --lesion-repeats 5 --suv-weight-power 2 --symmetric-suv-weight \
      > "$log" 2>&1
  fi
}
train virtual_pet 0.125        # session 6: its generator is bundled
train virtual_pet_fcn025 0.25  # session 9: its FCN is bundled

# The FCN of the width-0.25 run with the generator of the width-0.125 run (virtual_pet/combine.py), bundled at half
# precision: Resources/Models/virtual_pet_phantom.safetensors (21 MB, float16) + .json, listed as
# 'virtual-pet-phantom' in catalogue.json.
.venv/bin/python -c "
from MedGANSynthLib.virtual_pet.combine import combine_virtual_pet
from MedGANSynthLib.virtual_pet.weights import install_virtual_pet
combined, _ = combine_virtual_pet('$ROOT/virtual_pet_fcn025/weights/virtual_pet.safetensors',
                                  '$ROOT/virtual_pet/weights/virtual_pet.safetensors', '$ROOT/virtual_pet_combined/virtual_pet')
print(install_virtual_pet(combined, 'Resources/Models', 'virtual-pet-phantom',
                          'Virtual PET from CT (FCN-4s + pix2pix, phantom-trained)', float16=True))"

# Held-out: 24 phantoms (seed 23) made in session 8, after the session 5-7 choice; session 8 also scored one rejected
# candidate on them. Selection: the 16 phantoms (seed 24) on which sessions 9 and 10 chose (the width-0.25 run, then
# this combination), kept in the card as metrics.selection. Both with the 12 mm slice smoothing the card applies.
[ -f "$ROOT/data/vpet_fresh24/cases.csv" ] || \
  $MGS phantoms --kind wholebody --phantom-version 1 --count 24 --seed 23 --voxel-mm 4 -o "$ROOT/data/vpet_fresh24"
[ -f "$ROOT/data/vpet_sel16/cases.csv" ] || \
  $MGS phantoms --kind wholebody --phantom-version 1 --count 16 --seed 24 --voxel-mm 4 -o "$ROOT/data/vpet_sel16"
$MGS evaluate-virtual-pet --data "$ROOT/data/vpet_sel16" --model Resources/Models/virtual_pet_phantom.safetensors \
  -o "$ROOT/virtual_pet_selection_eval" --device cpu --threads 1 --slice-smoothing 12 --json \
  > "$ROOT/virtual_pet_selection_eval.json"
# Held-out metrics of the installed (float16) weights go into its card (TPR, FP per scan, SSIM/PSNR/MAE for FCN, GAN
# and blended, the true PET's ceiling), with the 12 mm slice smoothing that the card then applies by default.
$MGS evaluate-virtual-pet --data "$ROOT/data/vpet_fresh24" --model Resources/Models/virtual_pet_phantom.safetensors \
  -o "$ROOT/virtual_pet_eval" --device cpu --threads 1 --write-card-metrics --slice-smoothing 12 --json \
  > "$ROOT/virtual_pet_eval.json"
# Liver only, as the paper scored (session 17): 160 fresh phantoms (seed 26) of the two classes that can carry a liver
# metastasis (oesophagus, lung: 31 liver lesions), made after every choice above, scored inside the phantom's liver
# (--region liver reads organs.nrrd). Into the card as metrics.heldout_liver.
[ -f "$ROOT/data/vpet_liver160/cases.csv" ] || \
  $MGS phantoms --kind wholebody --phantom-version 1 --count 160 --seed 26 --classes oesophagus,lung --voxel-mm 4 -o "$ROOT/data/vpet_liver160"
$MGS evaluate-virtual-pet --data "$ROOT/data/vpet_liver160" --model Resources/Models/virtual_pet_phantom.safetensors \
  -o "$ROOT/virtual_pet_liver_eval" --device cpu --threads 1 --region liver --write-card-metrics --slice-smoothing 12 \
  --json > "$ROOT/virtual_pet_liver_eval.json"
.venv/bin/python - "$ROOT" <<'PY'
import json, sys
from MedGANSynthLib.virtual_pet.weights import update_card_metrics
root, card = sys.argv[1], "Resources/Models/virtual_pet_phantom.json"
metrics = json.load(open(card))["metrics"]
held, liver = metrics["heldout"], metrics["heldout_liver"]
held["phantoms"] = ("24 whole-body phantoms (phantoms --kind wholebody --phantom-version 1 --count 24 --seed 23 "
                    "--voxel-mm 4), not used to choose this model")
liver["phantoms"] = ("160 whole-body phantoms of the oesophagus and lung classes (phantoms --kind wholebody "
                     "--phantom-version 1 --count 160 --seed 26 --classes oesophagus,lung --voxel-mm 4), scored inside the liver only, as the paper "
                     "did; not used to choose this model")
chosen_on = json.load(open(f"{root}/virtual_pet_selection_eval/results.json"))
selection = {"data": chosen_on["data"], "scans": chosen_on["scans"], **chosen_on["overall"],
             "phantoms": "16 whole-body phantoms (seed 24) on which this model was chosen against the session 6 "
                         "model and the width-0.25 run; optimistic, kept for comparison"}
update_card_metrics(card, {"heldout": held, "heldout_liver": liver, "selection": selection})
PY
cat "$ROOT/virtual_pet_eval/report.md"
