#!/usr/bin/env bash
# On the lent GPU machine, one call:  bash benchmarks/gpu_run.sh speed|grid|padding|accuracy|ablation|tests [args]
# Installs the carried wheels, runs one benchmark on the carried data, and copies its result table to $OUT.
set -euo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site:$PWD/src PYTHONUNBUFFERED=1
what=$1; shift
case $what in
  speed) python3 benchmarks/speed.py --source .gpu/imdb "$@" ;;                       # ~3 min: ratio ours / bare loop
  grid) python3 benchmarks/grid_packing.py --source .gpu/imdb --jobs-per-gpu 4 8 "$@" ;;  # ~7 min: 9 runs serial vs packed
  padding) python3 benchmarks/padding.py --source .gpu/imdb --seeds 1 2 3 "$@" ;;   # ~6 min
  accuracy) python3 benchmarks/accuracy.py --source .gpu/imdb "$@" ;;                # best_bilstm x 3 seeds: --presets best_bilstm
  ablation) python3 benchmarks/ablation.py --source .gpu/imdb "$@" ;;                # what each part of best_bilstm gives
  tests) IMDB_TEST_GPU=1 python3 -m pytest -q -p no:cacheprovider -m gpu tests/ "$@" 2>&1 | tee "${OUT:-/tmp}/gpu-tests.txt"; exit ;;  # ~1 min
  *) echo "usage: $0 speed|grid|padding|accuracy|ablation|tests [args]" >&2; exit 2 ;;
esac
cp "$(ls -t benchmarks/results/*.md | head -1)" "${OUT:-/tmp}/"
