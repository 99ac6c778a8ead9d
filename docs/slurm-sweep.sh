#!/bin/sh
# Run a sweep as a Slurm job array: 8 tasks, each runs one shard (acksim
# takes the index from SLURM_ARRAY_TASK_ID with --shards), writing to a
# shared directory. Submit with: sbatch docs/slurm-sweep.sh
# Then combine: acksim merge --out results/merged results/shard-*
#SBATCH --job-name=acksim-sweep
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
acksim sweep sweep.yaml --shards 8 --workers "${SLURM_CPUS_PER_TASK:-2}" --out "results/shard-${SLURM_ARRAY_TASK_ID}"
