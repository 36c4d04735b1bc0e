#!/usr/bin/env bash
# After train_bundled_gans.sh: evaluate each GAN on its held-out phantoms, store the metrics in its model card and
# install it into Resources/Models (listed in catalogue.json with its SHA-256). The judge classifiers train 40 epochs
# on the MIPs (10 epochs left them at 0.35 held-out accuracy, 40 reach 0.98) and 5 on the larger brain set, whose
# TSTR (three more classifiers on ~4,000 slices) did not fit in the session that bundled these models.
#   bash Testing/Training/bundle_gans.sh [RUN_ROOT]     (default RUN_ROOT: ./runs)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="${1:-runs}"
MGS=".venv/bin/medgansynth"

$MGS evaluate-gan "$ROOT/radiogan/weights/radiogan.safetensors" --data "$ROOT/data/mip" -o "$ROOT/eval_radiogan" \
  --count 100 --epochs 40 --write-card
# The brain models are evaluated but not bundled: their samples are brain-shaped blobs, and the judge cannot tell
# the stages apart on single held-out real slices (0.25 accuracy, chance 0.33), so their numbers say nothing yet.
$MGS evaluate-gan "$ROOT"/brain_NC/weights/brain_dcgan_NC.safetensors "$ROOT"/brain_MCI/weights/brain_dcgan_MCI.safetensors \
  "$ROOT"/brain_AD/weights/brain_dcgan_AD.safetensors --data "$ROOT/data/brain" \
  -o "$ROOT/eval_brain" --count 100 --epochs 5 --no-tstr --write-card
# The CT GAN is evaluated but not bundled: after the 10 epochs of train_bundled_gans.sh its samples are stripes,
# not chest CT (memorisation ratio 3.6, SSIM to nearest 0.21 vs a held-out floor of 0.91).
$MGS evaluate-gan "$ROOT/ct_gan/weights/ct_gan.safetensors" --data "$ROOT/data/ct" -o "$ROOT/eval_ct" \
  --count 100 --write-card

.venv/bin/python - "$ROOT" <<'PY'
import sys
from MedGANSynthLib.weights.install import install_gan

root = sys.argv[1]
models = [
    ("radiogan/weights/radiogan", "radiogan-phantom", "RadioGAN: class-conditional coronal MIP PET (5 classes)"),
]
for stem, model_id, title in models:
    print(install_gan(f"{root}/{stem}.safetensors", "Resources/Models", model_id, title))
PY
