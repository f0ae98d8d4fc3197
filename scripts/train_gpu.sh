#!/usr/bin/env bash
# Retrain every learned model on one GPU machine in a fixed time budget:
# render synthetic statues on all CPU cores, then train statue-net, statue-depth, the GAN and
# the U-Net side by side on the GPU (they are small; the CPU feeds them augmented batches),
# and the limb refiner and arm-presence beside them.
#
#   bash scripts/train_gpu.sh                        # defaults below
#   START=6000 INIT=weights RENDER_MIN=2.5 TRAIN_MIN=5.5 bash scripts/train_gpu.sh
#
# START: first synthetic seed (a second run with new seeds sees new statues); INIT: a folder
# holding statue-net/, statue-depth/, inpaint-gan/, inpaint-unet/ to continue from (empty:
# statue-net and statue-depth from scratch, the inpainters from restore/weights/); RUNS: outputs.
# Each run writes RUNS/<model>/ (weights as save_pretrained folders + logs and PNGs).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
START=${START:-0}
COUNT=${COUNT:-20000}
RENDER_MIN=${RENDER_MIN:-2.5}
TRAIN_MIN=${TRAIN_MIN:-5.5}
RUNS=${RUNS:-runs/gpu}
CACHE=${CACHE:-/tmp/statue-cache}
INIT=${INIT:-}
DEVICE=${DEVICE:-cuda}
CORES=$(nproc)
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
mkdir -p "$RUNS"

echo "== render: seeds from $START, $RENDER_MIN min on $CORES cores"
$PY -m restore.training.statue_data --start "$START" --count "$COUNT" --out "$CACHE" --size 256 \
  --steps 48 --workers "$CORES" --shard 10 --minutes "$RENDER_MIN"
N=$(( $(ls "$CACHE"/shard_*.npz | wc -l) * 10 ))
echo "== rendered about $N statues"

sn_init=(); sd_init=()
gan_init=(--init restore/weights/inpaint-gan); unet_init=(--init restore/weights/inpaint-unet)
if [ -n "$INIT" ]; then
  sn_init=(--init "$INIT/statue-net"); sd_init=(--init "$INIT/statue-depth")
  gan_init=(--init "$INIT/inpaint-gan"); unet_init=(--init "$INIT/inpaint-unet")
fi
# The inpainters spend about 2 minutes cutting crops before their clock starts.
INPAINT_MIN=$(awk "BEGIN{print $TRAIN_MIN - 2.0}")

$PY -m restore --device "$DEVICE" train --model statue-net --workers 7 --batch-size 32 \
  --size 192 --widths 24,40,80,160,192 --head 64 --lr 2e-3 --minutes "$TRAIN_MIN" \
  --cache "$CACHE" --out "$RUNS/statue-net" "${sn_init[@]}" > "$RUNS/statue-net.log" 2>&1 &
$PY -m restore --device "$DEVICE" train --model statue-depth --workers 3 --batch-size 32 \
  --size 192 --widths 24,32,64,128,160 --minutes "$TRAIN_MIN" --cache "$CACHE" \
  --out "$RUNS/statue-depth" "${sd_init[@]}" > "$RUNS/statue-depth.log" 2>&1 &
$PY -m restore train --model gan --data "$CACHE" --samples "$N" --size 96 --batch-size 64 \
  --lr 5e-4 --steps 1000000 --minutes "$INPAINT_MIN" --workers 3 --sample-every 2000 \
  --out "$RUNS/inpaint-gan" "${gan_init[@]}" > "$RUNS/inpaint-gan.log" 2>&1 &
$PY -m restore train --model unet --data "$CACHE" --samples "$N" --size 128 --batch-size 64 \
  --lr 5e-4 --steps 1000000 --minutes "$INPAINT_MIN" --workers 3 --sample-every 2000 \
  --out "$RUNS/inpaint-unet" "${unet_init[@]}" > "$RUNS/inpaint-unet.log" 2>&1 &
# The limb refiner renders its own statues through the product's plan (about 1 s each per
# core) and learns from the real Met arms beside ../shared when present. No weights ship
# until a run beats the plain limb render on the real views (benchmarks/bench_arm.py).
REAL=../shared/data/statues/met
$PY -m restore --device "$DEVICE" train --model refiner --samples "${REFINER_SAMPLES:-4000}" \
  --steps 40000 --batch-size 32 --workers 3 --lr 2e-3 $( [ -d "$REAL" ] && echo --real "$REAL" ) \
  --cache "$CACHE-refiner" --out "$RUNS/limb-refiner" > "$RUNS/limb-refiner.log" 2>&1 &
# arm-presence renders its own statues (cached, about 1 s each per core), trains on the
# renders only and is measured on the real Met arms when present (eval.json).
$PY -m restore --device "$DEVICE" train --model arm-presence --samples "${ARM_SAMPLES:-2700}" \
  --workers 3 $( [ -d "$REAL" ] && echo --real "$REAL" ) --cache "$CACHE-arms" \
  --out "$RUNS/arm-presence" > "$RUNS/arm-presence.log" 2>&1 &
fail=0
for job in $(jobs -p); do wait "$job" || fail=1; done
for log in "$RUNS"/*.log; do echo "== $log"; tr '\r' '\n' < "$log" | grep -v '^train ' | tail -4; done
exit $fail
