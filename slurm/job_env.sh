# Sourced by the sbatch scripts on the compute node.
# Compute nodes often have no internet: read only the cache that `python src/prepare_data.py` filled on
# the login node (export HF_HUB_OFFLINE=0 before sbatch to let jobs download and encode themselves).
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} HF_DATASETS_OFFLINE=${HF_DATASETS_OFFLINE:-${HF_HUB_OFFLINE:-1}}
# Cluster set-up that git does not track (module loads, venv activation): slurm/site.sh, if present.
if [[ -f slurm/site.sh ]]; then source slurm/site.sh; fi
mkdir -p logs/slurm
