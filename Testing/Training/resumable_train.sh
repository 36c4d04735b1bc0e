# Sourced by the GAN training scripts, which set ROOT (the run root) and MGS (the medgansynth command) first.
# train RUN_NAME ARGS...: start the run, or resume it when a checkpoint exists, or skip it when weights exist.
train() {
  local run="$ROOT/$1"; shift
  if ls "$run"/weights/*.safetensors >/dev/null 2>&1; then return 0; fi
  if [ -f "$run/checkpoints/checkpoint_last.pt" ]; then  # run.json holds every setting; --init-weights is refused here
    $MGS train -o "$run" --resume --threads 1 --progress-lines >> "$ROOT/$(basename "$run").log" 2>&1
  else
    $MGS train -o "$run" --threads 1 "$@" --progress-lines > "$ROOT/$(basename "$run").log" 2>&1
  fi
}
