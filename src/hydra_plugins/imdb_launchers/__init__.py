"""Hydra launchers of this project: several grid points at once on one machine, and SLURM via submitit.

They live in the ``hydra_plugins`` namespace because Hydra instantiates launchers only from there.
"""
