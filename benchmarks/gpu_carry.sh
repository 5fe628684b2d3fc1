#!/usr/bin/env bash
# Here, once before the device calls: what the lent GPU machine lacks, in folders .gitignore names, which `carry` takes.
#   .whl/  wheels for hydra, omegaconf, datasets and submitit (the machine has torch, Lightning, tokenizers, pyarrow)
#   .gpu/imdb/plain_text/  the IMDB parquet files (../shared does not travel)
# Then, per call (benchmarks/README.md):  carry [".whl", ".gpu"], command "bash benchmarks/gpu_run.sh speed" (or grid, padding)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gpu/imdb && cp -r ../shared/data/imdb/plain_text .gpu/imdb/
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
  hydra-core==1.3.2 omegaconf==2.3.0 datasets dill multiprocess submitit hydra-submitit-launcher
python3 -m pip wheel -q --no-deps -w .whl antlr4-python3-runtime==4.9.3   # omegaconf's parser: a source release only
du -sh .whl .gpu
