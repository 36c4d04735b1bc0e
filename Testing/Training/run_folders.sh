# Shell functions the virtual-PET training and choice scripts share; source it from the project root with ROOT set
# (and MGS, the medgansynth command, and V, the phantom version, for `phantoms`; unset, they default to the venv's
# command and version 5, and BUNDLED to the bundled virtual PET's weights).
: "${MGS:=.venv/bin/medgansynth}" "${V:=5}" "${BUNDLED:=Resources/Models/virtual_pet_phantom.safetensors}"

# into FILE COMMAND...: COMMAND's output lands in FILE only when it finished, so an interrupted score is redone on
# the next run instead of being skipped as a half-written file.
into() { local out=$1; shift; "$@" > "$out.tmp" && mv "$out.tmp" "$out"; }

# phantoms NAME COUNT SEED CONTRAST [extra args]: one whole-body phantom set of version $V at 4 mm, made once.
phantoms() {
  local out="$ROOT/data/$1"
  [ -f "$out/cases.csv" ] || $MGS phantoms --kind wholebody --voxel-mm 4 --phantom-version "$V" --count "$2" \
    --seed "$3" --contrast "$4" "${@:5}" -o "$out" --quiet
}

# mix NAME PART...: a folder ROOT/data/NAME of links to the case folders of several sets (the trainer and the
# evaluator read one folder of cases).
mix() {
  local out="$ROOT/data/$1"; shift
  [ -d "$out" ] && return
  mkdir -p "$out.tmp"
  for part in "$@"; do
    for case in "$ROOT/data/$part"/wholebody_*; do ln -s "../$part/$(basename "$case")" "$out.tmp/${part}_$(basename "$case")"; done
  done
  mv "$out.tmp" "$out"
}
