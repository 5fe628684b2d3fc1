# Sourced by the sbatch scripts on the compute node.
# Compute nodes often have no internet: a Hub source (stanfordnlp/imdb) is read only from the cache that
# `python src/prepare_data.py` filled on the login node (export HF_HUB_OFFLINE=0 before sbatch to let jobs
# download it themselves). A local data.source (a folder or tarball) encodes on the node like anywhere else.
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} HF_DATASETS_OFFLINE=${HF_DATASETS_OFFLINE:-${HF_HUB_OFFLINE:-1}}
# Cluster set-up that git does not track (module loads, venv activation): slurm/site.sh, if present.
if [[ -f slurm/site.sh ]]; then source slurm/site.sh; fi
# Run folders go under logs/slurm (IMDB_SLURM_LOGS elsewhere; the #SBATCH --output lines stay in logs/slurm).
export IMDB_SLURM_LOGS=${IMDB_SLURM_LOGS:-logs/slurm}
mkdir -p "$IMDB_SLURM_LOGS"
